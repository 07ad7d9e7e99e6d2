"""skattn: attention networks for scikit-learn users with few labels."""

from .fine_tuning import FineTuneClassifier, FineTuneRegressor
from .pretraining import MaskedAttentionPretrainer
from .self_training import AttentionSelfTrainingClassifier
from .supervised import AttentionClassifier, AttentionRegressor

__version__ = "0.1.0.dev0"

__all__ = [
    "AttentionClassifier",
    "AttentionRegressor",
    "AttentionSelfTrainingClassifier",
    "FineTuneClassifier",
    "FineTuneRegressor",
    "MaskedAttentionPretrainer",
    "__version__",
]

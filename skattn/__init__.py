"""skattn: attention networks for scikit-learn users with few labels."""

# Set before the imports: the estimators record it when pickled or saved.
__version__ = "0.1.0.dev0"

from ._persistence import load
from .fine_tuning import FineTuneClassifier, FineTuneRegressor
from .pretraining import MaskedAttentionPretrainer
from .self_training import AttentionSelfTrainingClassifier
from .supervised import AttentionClassifier, AttentionRegressor

__all__ = [
    "AttentionClassifier",
    "AttentionRegressor",
    "AttentionSelfTrainingClassifier",
    "FineTuneClassifier",
    "FineTuneRegressor",
    "MaskedAttentionPretrainer",
    "__version__",
    "load",
]

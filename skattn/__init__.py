"""skattn: attention networks for scikit-learn users with few labels."""

from ._persistence import load
from ._version import __version__
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

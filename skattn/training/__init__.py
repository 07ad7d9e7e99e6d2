"""Training layer: the only package that imports skorch."""

from ._build import make_net
from ._net import TabularNet, TensorBatches
from ._semi import LabeledUnlabeledBatches, SemiSupervisedNet

__all__ = [
    "LabeledUnlabeledBatches",
    "SemiSupervisedNet",
    "TabularNet",
    "TensorBatches",
    "make_net",
]

"""Training layer: the only package that imports skorch."""

from ._accelerate import DataParallelMixin, ShardedBatches, join_processes
from ._build import NetJob, Objective, Schedule, make_net
from ._freeze import EncoderFreezing, unfreeze_every
from ._net import TabularNet, TensorBatches
from ._pretrain import PretrainingLoss, PretrainingNet
from ._progress import ProgressBar
from ._semi import LabeledUnlabeledBatches, SemiSupervisedNet

__all__ = [
    "DataParallelMixin",
    "EncoderFreezing",
    "LabeledUnlabeledBatches",
    "NetJob",
    "Objective",
    "PretrainingLoss",
    "PretrainingNet",
    "ProgressBar",
    "Schedule",
    "SemiSupervisedNet",
    "ShardedBatches",
    "TabularNet",
    "TensorBatches",
    "join_processes",
    "make_net",
    "unfreeze_every",
]

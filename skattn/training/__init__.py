"""Training layer: the only package that imports skorch."""

from ._net import TabularNet, TensorBatches, make_net

__all__ = ["TabularNet", "TensorBatches", "make_net"]

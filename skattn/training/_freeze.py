"""Freezing the pretrained part of a network while its head trains."""

import math

from skorch.callbacks import Callback


class EncoderFreezing(Callback):
    """Freeze the pretrained parts of the network, unfreezing them from the top on a schedule.

    Parameters
    ----------
    unfreeze_every : int or None
        Epochs between unfreezing steps, over the module's
        ``pretrained_parts()`` (top first: the last block and final norm,
        the blocks below it, the tokenizer). None keeps them all frozen (only
        the head trains).

    Examples
    --------
    >>> EncoderFreezing(unfreeze_every=None).n_trainable_parts(epoch=100)
    0
    >>> [EncoderFreezing(unfreeze_every=5).n_trainable_parts(epoch=e) for e in (1, 6, 11)]
    [0, 1, 2]
    """

    def __init__(self, unfreeze_every=None):
        self.unfreeze_every = unfreeze_every

    @property
    def spends_every_epoch(self):
        """Whether the schedule needs all ``max_epochs``: a plateau of the network
        while parts are still frozen is no reason to stop (see :func:`make_net`)."""
        return self.unfreeze_every is not None

    def n_trainable_parts(self, epoch):
        if self.unfreeze_every is None:
            return 0
        return (epoch - 1) // self.unfreeze_every

    def on_epoch_begin(self, net, **kwargs):
        # Top of the network first: the last block is the least general.
        n_trainable = self.n_trainable_parts(epoch=len(net.history))
        for i, part in enumerate(net.plain_module().pretrained_parts()):
            part.requires_grad_(i < n_trainable)


def unfreeze_every(max_epochs, n_parts):
    """The gradual schedule: the head alone first, everything trainable by the last quarter."""
    return max(1, math.floor(max_epochs * 3 / 4 / n_parts))

"""Gradual unfreezing: the pretrained part of a network joins the training from the top."""

import math

from skorch.callbacks import Callback


class EncoderFreezing(Callback):
    """Freeze the pretrained parts of the network, unfreezing them from the top on a schedule.

    Parameters
    ----------
    unfreeze_every : int
        Epochs between unfreezing steps, over the module's
        ``pretrained_parts()`` (top first: the last block and final norm,
        the blocks below it, the tokenizer). The first ``unfreeze_every``
        epochs train the head alone.

    Examples
    --------
    >>> [EncoderFreezing(unfreeze_every=5).n_trainable_parts(epoch=e) for e in (1, 6, 11)]
    [0, 1, 2]
    """

    # The schedule needs all ``max_epochs``: a plateau of the network while
    # parts are still frozen is no reason to stop (see :func:`make_net`).
    spends_every_epoch = True

    def __init__(self, unfreeze_every):
        self.unfreeze_every = unfreeze_every

    def n_trainable_parts(self, epoch):
        return (epoch - 1) // self.unfreeze_every

    def on_epoch_begin(self, net, **kwargs):
        # Top of the network first: the last block is the least general.
        n_trainable = self.n_trainable_parts(epoch=len(net.history))
        for i, part in enumerate(net.plain_module().pretrained_parts()):
            part.requires_grad_(i < n_trainable)


def unfreeze_every(max_epochs, n_parts):
    """The gradual schedule: the head alone first, everything trainable by the last quarter."""
    return max(1, math.floor(max_epochs * 3 / 4 / n_parts))

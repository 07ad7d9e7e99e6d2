"""Progress you can see: a bar over the epochs of each training phase."""

import sys

from skorch.callbacks import Callback

# tqdm comes with skorch (one of its requirements), so it adds no dependency.
from tqdm import tqdm


class ProgressBar(Callback):
    """A tqdm bar over a training phase's epochs, with its losses.

    A phase is one ``fit`` or ``partial_fit`` of the net (pretraining,
    training, one self-training round). The bar goes to standard error, and
    only when that is a terminal: logs and captured output stay clean.

    Parameters
    ----------
    description : str, default="training"
        The label of the first phase; :meth:`next_phase` sets the others.

    Examples
    --------
    >>> import torch
    >>> from skattn.training import NetJob, Objective, Schedule, TabularNet, make_net
    >>> progress = ProgressBar("training")
    >>> net = make_net(NetJob(
    ...     module_params=dict(n_num_features=2, cat_cardinalities=[], d_out=2),
    ...     objective=Objective(TabularNet, torch.nn.CrossEntropyLoss),
    ...     schedule=Schedule(lr=1e-3, weight_decay=0.0, batch_size=4, max_epochs=2,
    ...                       n_iter_no_change=1, device="cpu", random_state=0),
    ...     callbacks=(("progress", progress),)))
    >>> X = {"x_num": torch.randn(8, 2), "x_cat": torch.zeros(8, 0, dtype=torch.long),
    ...      "sample_weight": torch.ones(8)}
    >>> _ = net.fit(X, torch.tensor([0, 1] * 4))  # a bar on a terminal, nothing here
    >>> progress.bar_ is None
    True
    """

    def __init__(self, description="training"):
        self.description = description
        self.bar_ = None
        self._total = None

    def next_phase(self, description, epochs):
        """Label the next ``fit``/``partial_fit`` and say how many epochs it runs."""
        self.description, self._total = description, epochs

    def on_train_begin(self, net, **kwargs):
        self.close()
        if sys.stderr.isatty():
            total = net.max_epochs if self._total is None else self._total
            self.bar_ = tqdm(
                total=total, desc=self.description, unit="epoch", file=sys.stderr, leave=True
            )

    def on_epoch_end(self, net, **kwargs):
        if self.bar_ is None:
            return
        row = net.history[-1]
        losses = {key: f"{row[key]:.4f}" for key in ("train_loss", "valid_loss") if key in row}
        self.bar_.set_postfix(losses, refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net, **kwargs):
        self.close()
        self._total = None

    def close(self):
        """End the bar of the current phase, if one is shown."""
        if self.bar_ is not None:
            self.bar_.close()
            self.bar_ = None

    def __getstate__(self):
        # A bar belongs to a terminal; a saved model carries none.
        return {**self.__dict__, "bar_": None}

"""The skorch net every supervised skattn estimator trains."""

import math

import torch
from skorch import NeuralNet
from skorch.utils import to_tensor


class TensorBatches:
    """Mini-batches sliced from whole tensors (no per-row Python).

    Parameters
    ----------
    X : dict of str to Tensor
        Inputs, all with the same first dimension.
    y : Tensor or None
        Targets.
    batch_size : int
    shuffle : bool
        Draw a new permutation from ``generator`` on every pass.
    generator : torch.Generator or None

    Examples
    --------
    >>> import torch
    >>> batches = TensorBatches({"x": torch.arange(5)}, None, batch_size=2, shuffle=False)
    >>> [batch["x"].tolist() for batch, _ in batches]
    [[0, 1], [2, 3], [4]]
    """

    def __init__(self, X, y, *, batch_size, shuffle, generator=None):
        self.X, self.y = X, y
        self.n_rows = len(next(iter(X.values())))
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self):
        return math.ceil(self.n_rows / self.batch_size)

    def __iter__(self):
        order = torch.randperm(self.n_rows, generator=self.generator) if self.shuffle else None
        for start in range(0, self.n_rows, self.batch_size):
            rows = slice(start, start + self.batch_size)
            if order is not None:
                rows = order[rows]
            yield (
                {key: value[rows] for key, value in self.X.items()},
                None if self.y is None else self.y[rows],
            )


class TabularNet(NeuralNet):
    """A skorch ``NeuralNet`` for dict inputs ``{"x_num", "x_cat", "sample_weight"}``.

    The loss is the sample-weighted mean of the criterion's per-row losses;
    batches come from :class:`TensorBatches`, shuffled by a generator seeded
    with ``random_state``. With ``mixed_precision``, forward passes run
    under bfloat16 autocast (no loss scaling needed, unlike float16).
    ``interrupted_`` tells whether Ctrl-C ended the last
    ``fit``/``partial_fit``.
    """

    def __init__(self, *args, random_state=0, mixed_precision=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.random_state = random_state
        self.mixed_precision = mixed_precision

    def autocast(self):
        """bfloat16 forward passes (float32 weights) when ``mixed_precision``, else a no-op."""
        return torch.autocast(
            torch.device(self.device).type, dtype=torch.bfloat16, enabled=self.mixed_precision
        )

    def initialize(self):
        self.generator_ = torch.Generator().manual_seed(self.random_state)
        return super().initialize()

    @property
    def interrupted_(self) -> bool:
        """Whether Ctrl-C ended the last ``fit``/``partial_fit``.

        skorch ends training quietly on a KeyboardInterrupt, Ctrl-C's and
        early stopping's alike. Early stopping ends an epoch that is
        complete, timed by skorch's ``EpochTimer``; Ctrl-C ends one that is
        not.
        """
        return not self.history or "dur" not in self.history[-1]

    def announce(self, message, epochs):
        """Say what the next ``partial_fit`` trains for: on the progress bar, and in the log.

        The message is logged where the net logs its epochs (with
        ``verbose``; with data-parallel training, once, not per process).
        """
        callbacks = dict(self.callbacks_)
        if "progress" in callbacks:
            callbacks["progress"].next_phase(message, epochs)
        if self.verbose:
            callbacks["print_log"].sink(message)

    def plain_module(self):
        """``module_``, unwrapped while data-parallel training wraps it."""
        return self.module_

    def get_iterator(self, dataset, training=False):
        return TensorBatches(
            dataset.X,
            dataset.y,
            batch_size=self.batch_size,
            shuffle=training,
            generator=self.generator_,
        )

    def infer(self, x, **fit_params):
        x = to_tensor(x, device=self.device)
        with self.autocast():
            out = self.module_(x["x_num"], x["x_cat"], **fit_params)
        return out.float()  # losses in float32

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y_true = to_tensor(y_true, device=self.device)
        if y_pred.ndim == 3:  # members: (batch, n_members, d_out), each member its own loss
            k = y_pred.shape[1]
            losses = self.criterion_(y_pred.flatten(0, 1), y_true.repeat_interleave(k, 0))
            losses = losses.unflatten(0, (-1, k))
        else:
            losses = self.criterion_(y_pred, y_true)
        # One loss per row: a regressor's (batch, 1) losses times (batch,)
        # weights would broadcast to (batch, batch) and lose the weights.
        losses = losses.reshape(len(losses), -1).mean(dim=1)
        weight = to_tensor(X["sample_weight"], device=self.device)
        return (losses * weight).sum() / weight.sum().clamp_min(1e-12)

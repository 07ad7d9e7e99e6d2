"""Machinery shared by every skattn estimator: the one fit pipeline.

Each estimator declares what its fit trains as a :class:`FitJob` (targets,
weights, which rows may validate, the output size, the objective, and what
training follows the first phase); :meth:`BaseAttentionEstimator._fit`
runs it: validate, encode the columns, hold out validation rows, build the
net (:func:`skattn.training.make_net`), train, and handle Ctrl-C. The base
also owns the forward pass used by ``predict``.
"""

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_consistent_length, check_is_fitted

from . import _persistence
from ._arrays import resolve_tokenizer
from ._data import check_X, make_encoder
from ._device import resolve_device, seeded
from ._memory import INFERENCE_BYTES, USABLE_SHARE, NetworkShape, available_bytes, rows_within
from ._sparse import keep_rows, take_rows
from ._version import __version__
from .exceptions import FitInterruptedWarning, InconsistentVersionWarning, InsufficientMemoryError
from .nn import ATTENTION_KINDS, TOKENIZER_KINDS, FTTransformer
from .training import (
    NetJob,
    Objective,
    ProgressBar,
    Schedule,
    TabularNet,
    join_processes,
    make_net,
)

# With fewer rows, the held-out tenth is too small a sample to stop on: on 10%
# of breast cancer (4 held-out rows) it stopped at epoch 15 and cost 5 points.
AUTO_EARLY_STOPPING_ROWS = 1000
# max_epochs="auto": the epochs of a small set (which takes 8 steps an epoch at
# the "auto" batch size), or this many optimiser steps on a larger one.
AUTO_MAX_EPOCHS = 30
AUTO_STEPS = 240
MIN_AUTO_EPOCHS = 5
# A classifier with more classes than this gets proportionally more steps:
# on large26 (26 classes, 15,000 training rows) 240 steps left self-training
# 3 points short of what 20 epochs reached at 10% labels.
CLASSES_PER_STEP_BUDGET = 8


def resolve_batch_size(batch_size, n_rows: int) -> int:
    """``"auto"`` is an eighth of the training rows, between 16 and 256.

    Small sets then still take several optimiser steps per epoch, so early
    stopping's patience (in epochs) does not end training after a handful
    of steps; large sets get batches big enough to keep a CPU busy.
    """
    if batch_size == "auto":
        return int(np.clip(n_rows // 8, 16, 256))
    return batch_size


def resolve_max_epochs(max_epochs, n_rows: int, batch_size: int, n_classes: int = 1) -> int:
    """``"auto"`` is 30 epochs, or as many as make about 240 steps (at least 5).

    The steps, and the 30 epochs with them, grow in proportion with the
    classes above 8 (26 classes: 780 steps, up to 97 epochs), so that
    many-class tables train to convergence, large or small (on ``large26``
    at 10% labels, the labels-only fit of its 1,504 labeled rows stopped
    at 30 epochs with 68% test accuracy, where ``AttentionClassifier()``
    reached 80% in 97).

    At the ``"auto"`` batch size, sets of up to 2,048 rows take 8 steps an
    epoch, so they train for 30 epochs; a larger set takes more steps per
    epoch and reaches the same number of optimiser steps in fewer epochs
    (on the benchmark suite, satimage, spambase and phoneme were as accurate,
    within 0.2 points, with half the epochs).

    Examples
    --------
    >>> resolve_max_epochs("auto", 500, 62), resolve_max_epochs("auto", 4800, 256)
    (30, 13)
    >>> resolve_max_epochs("auto", 10**6, 256), resolve_max_epochs(7, 10**6, 256)
    (5, 7)
    >>> resolve_max_epochs("auto", 15000, 256, n_classes=26)
    14
    >>> resolve_max_epochs("auto", 1354, 169, n_classes=26)
    97
    """
    if max_epochs != "auto":
        return max_epochs
    classes = max(1.0, n_classes / CLASSES_PER_STEP_BUDGET)
    epochs = np.ceil(AUTO_STEPS * classes * batch_size / max(n_rows, 1))
    return int(np.clip(epochs, MIN_AUTO_EPOCHS, int(AUTO_MAX_EPOCHS * classes)))


# max_tokens="auto": latent tokens above this many numeric columns, this many
# latents (benchmarks/wide_tables.py).
AUTO_MAX_TOKENS = 64


def resolve_max_tokens(max_tokens, tokenizer: str, n_num_features: int):
    """``(max_tokens_, n_latents_)``: the resolved limit and the latents in use (0: none).

    Latent tokens replace the numeric column tokens of ``tokenizer="feature"``
    when there are more than ``max_tokens`` of them; ``"auto"`` is
    ``AUTO_MAX_TOKENS``.

    Examples
    --------
    >>> resolve_max_tokens("auto", "feature", 30), resolve_max_tokens("auto", "feature", 1024)
    ((64, 0), (64, 64))
    >>> resolve_max_tokens(None, "feature", 1024), resolve_max_tokens(16, "patch", 1024)
    ((None, 0), (16, 0))
    """
    limit = AUTO_MAX_TOKENS if max_tokens == "auto" else max_tokens
    wide = tokenizer == "feature" and limit is not None and n_num_features > limit
    return limit, limit if wide else 0


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64; every row sums to one."""
    proba = np.exp(logits - logits.max(axis=1, keepdims=True))
    return proba / proba.sum(axis=1, keepdims=True)


def labeled_mask(y) -> np.ndarray:
    """The semi-supervised convention, in one place: ``y == -1`` is unlabeled.

    Returns a boolean array, True where ``y`` holds a label.
    """
    return np.asarray(y != -1, dtype=bool)


def select_rows(inputs, target, rows):
    """The given rows: ``({name: tensor}, target tensor or None)``.

    Sparse columns (:class:`~skattn._sparse.SparseRows`) stay sparse.
    """
    rows = torch.as_tensor(rows)
    return (
        {key: keep_rows(value, rows) for key, value in inputs.items()},
        None if target is None else torch.as_tensor(target)[rows],
    )


# Rows per forward pass at predict time: bounded memory whatever the number of
# rows. On a CPU, small batches keep each one's attention scores and
# activations in cache: on our 2-core CPU, 512 rows instead of 4096 raised
# predict_proba on 100k rows from 41-53k to 62-65k rows/s (20 features, 4
# heads) and from 22k to 45k rows/s (36 features, 2 heads). A GPU needs large
# batches to keep busy.
CPU_INFERENCE_ROWS = 512
GPU_INFERENCE_ROWS = 4096


def inference_batches(inputs, device, size=None, *, pad=False):
    """Yield ``{"x_num", "x_cat"}`` tensors of consecutive rows, on ``device``.

    ``size`` rows at a time (by default, the device's batch size above).
    With ``pad``, the last batch is filled up to ``size`` rows with copies
    of its last row: every batch then has one shape, and the matrix kernels
    round a row's numbers the same whichever rows are predicted with it. To
    a GPU, each batch is copied from page-locked (pinned) memory, the fast
    path of host-to-device copies.
    """
    to_gpu = torch.device(device).type == "cuda"
    size = size or (GPU_INFERENCE_ROWS if to_gpu else CPU_INFERENCE_ROWS)
    for start in range(0, len(inputs["x_num"]), size):
        batch = {
            key: take_rows(inputs[key], slice(start, start + size)) for key in ("x_num", "x_cat")
        }
        if pad and len(batch["x_num"]) < size:
            last = torch.full((size,), len(batch["x_num"]) - 1)
            last[: len(batch["x_num"])] = torch.arange(len(batch["x_num"]))
            batch = {key: value[last] for key, value in batch.items()}
        if to_gpu:
            batch = {key: value.pin_memory() for key, value in batch.items()}
        yield {key: value.to(device, non_blocking=to_gpu) for key, value in batch.items()}


@dataclass(frozen=True)
class FitJob:
    """What one fit trains, as an estimator declares it in ``_job``.

    :meth:`BaseAttentionEstimator._fit` runs it. Arrays are aligned with
    the rows of X.

    Parameters
    ----------
    target : ndarray or None
        What the loss compares the output with (class indices, -1 where a
        row has no label; a scaled regression target); None for an
        objective that needs no target (pretraining).
    sample_weight : ndarray of shape (n_rows,)
    d_out : int
        Outputs of the network's head.
    objective : Objective
        The net class, the per-row loss and the net's own loss terms.
    validation_rows : ndarray or None, default=None
        The rows that may be held out for early stopping; None: any row.
    stratify : ndarray or None, default=None
        Classes of ``validation_rows`` (of all rows when None), to hold out
        each class in proportion.
    inputs : mapping, default={}
        Per-row inputs beyond the encoded columns (e.g. ``"unlabeled"``).
    module_params : mapping, default={}
        Keyword arguments of the network beyond its shape.
    passes_per_step : int, default=1
        Forward passes a training step makes over a batch (memory check).
    rounds : object or None, default=None
        Training after the first phase: ``rounds.run(net, X, y)`` trains the
        net further, yielding after each phase, and ``rounds.finish(estimator,
        interrupted)`` sets what the rounds fitted.
    """

    target: np.ndarray | None
    sample_weight: np.ndarray
    d_out: int
    objective: Objective
    validation_rows: np.ndarray | None = None
    stratify: np.ndarray | None = None
    inputs: Mapping[str, np.ndarray] = field(default_factory=dict)
    module_params: Mapping = field(default_factory=dict)
    passes_per_step: int = 1
    rounds: object = None


class BaseAttentionEstimator(BaseEstimator):
    """Base class of the attention estimators; not for direct use."""

    _parameter_constraints = {
        "d_token": [Interval(Integral, 1, None, closed="left")],
        "n_blocks": [Interval(Integral, 1, None, closed="left")],
        "n_heads": [Interval(Integral, 1, None, closed="left")],
        "d_ffn_factor": [Interval(Real, 0, None, closed="neither")],
        "ffn_dropout": [Interval(Real, 0, 1, closed="left")],
        "attention": [StrOptions(set(ATTENTION_KINDS))],
        "tokenizer": [StrOptions({"auto", *TOKENIZER_KINDS})],
        "patch_size": [Interval(Integral, 1, None, closed="left")],
        "max_tokens": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"}), None],
        "onehot_blocks": [StrOptions({"auto"}), list, None],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "max_epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "early_stopping": ["boolean", StrOptions({"auto"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "device": [str],
        "mixed_precision": ["boolean"],
        "data_parallel": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        *,
        d_token=32,
        n_blocks=2,
        n_heads=4,
        d_ffn_factor=4 / 3,
        ffn_dropout=0.1,
        attention="self",
        tokenizer="auto",
        patch_size=4,
        max_tokens="auto",
        onehot_blocks="auto",
        lr=1e-3,
        weight_decay=1e-4,
        batch_size="auto",
        max_epochs=100,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=None,
        device="auto",
        mixed_precision=False,
        data_parallel=False,
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.d_token = d_token
        self.n_blocks = n_blocks
        self.n_heads = n_heads
        self.d_ffn_factor = d_ffn_factor
        self.ffn_dropout = ffn_dropout
        self.attention = attention
        self.tokenizer = tokenizer
        self.patch_size = patch_size
        self.max_tokens = max_tokens
        self.onehot_blocks = onehot_blocks
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.device = device
        self.mixed_precision = mixed_precision
        self.data_parallel = data_parallel
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        return tags

    def __sklearn_is_fitted__(self):
        return hasattr(self, "net_")

    def __getstate__(self):
        # A copy: on Python 3.11+ the parent returns the instance's own __dict__.
        return {**super().__getstate__(), "_skattn_version": __version__}

    def __setstate__(self, state):
        pickled_by = state.pop("_skattn_version", "unknown")
        if pickled_by != __version__:
            warnings.warn(
                InconsistentVersionWarning(type(self).__name__, pickled_by, __version__),
                stacklevel=2,
            )
        super().__setstate__(state)
        # skorch maps a CUDA-trained net to the CPU when CUDA is missing on load.
        if "net_" in state:
            self.device_ = str(self.net_.device)

    def save(self, path):
        """Save the fitted model to a file that :func:`skattn.load` reads back, without pickle.

        The file holds the network's weights as tensors (written by
        :func:`torch.save`), and as JSON the hyperparameters, the fitted
        attributes (``classes_``, the column handling: vocabularies and
        scaling) and the skattn version. :func:`skattn.load` reads it with
        ``torch.load(weights_only=True)``: unlike ``joblib.load`` (pickle), it
        never runs code from the file, and it checks the version and a
        checksum.

        Parameters
        ----------
        path : str or path-like
            Where to write; an existing file is replaced.

        Raises
        ------
        NotFittedError
            If the estimator is not fitted.
        TypeError
            If a hyperparameter is code rather than data (a ``torch.nn.Module``
            as ``pretrained``, a function): only pickle stores code, so use
            ``joblib.dump`` for such a model.

        See Also
        --------
        skattn.load : Reads the file back.

        Examples
        --------
        >>> import os, tempfile
        >>> from sklearn.datasets import load_iris
        >>> from skattn import AttentionClassifier, load
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = AttentionClassifier(d_token=8, max_epochs=2, random_state=0).fit(X, y)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     clf.save(os.path.join(folder, "iris.skattn"))
        ...     loaded = load(os.path.join(folder, "iris.skattn"))
        >>> loaded.classes_
        array([0, 1, 2])
        """
        _persistence.save(self, path)

    def _fit(self, X, y=None, sample_weight=None, *, weights=None):
        """The fit of every estimator: validate, declare the job, train it.

        ``weights`` is where the network starts when not from scratch (a
        fine-tuner's pretrained model): ``weights.tokenizer`` (or None),
        ``weights.encoder(X, sample_weight, seed)`` returns the fitted column
        handling, ``weights.module(params)`` the network class and its
        keyword arguments, ``weights.callbacks(max_epochs, previous)`` the
        freezing schedule's callbacks, ``weights.spends_every_epoch``
        whether they run every epoch (then no rows are held out), and
        ``weights.initialise(net)`` loads the weights into the new net.
        """
        if y is None and self.__sklearn_tags__().target_tags.required:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        X = self._check_fit_X(X, None if weights is None else weights.tokenizer)
        sample_weight = self._check_sample_weight(X, y, sample_weight)
        job = self._job(X, y, sample_weight)
        inputs, seed = self._prepare(X, job, weights)
        holds_out = weights is None or not weights.spends_every_epoch
        train_rows, valid_rows = self._split(job, seed, len(job.sample_weight), holds_out)
        train = select_rows(inputs, job.target, train_rows)
        valid = None if valid_rows is None else select_rows(inputs, job.target, valid_rows)
        with seeded(seed, self.device_):
            self.net_ = self._make_net(job, valid, seed, len(train_rows), weights)
            interrupted = self._train(job, train)
        self.n_iter_ = self._completed_epochs()
        if job.rounds is not None:
            job.rounds.finish(self, interrupted)
        self._set_feature_importances(inputs)
        return self

    def _job(self, X, y, sample_weight) -> FitJob:
        """What this estimator's fit trains (validating ``y`` and setting what it fits).

        The one step each estimator declares; ``X`` and ``sample_weight``
        are validated already.
        """
        raise NotImplementedError

    def _train(self, job, train):
        """Train the net, then the job's rounds; True if Ctrl-C ended it, with a warning.

        skorch ends a training phase quietly on Ctrl-C (the net tells:
        ``interrupted_``); between phases (spreading labels, scoring rows)
        the KeyboardInterrupt arrives here. Either way the weights learned so
        far stand, and no further phase runs.
        """
        try:
            self.net_.fit(*train)
            if not self.net_.interrupted_ and job.rounds is not None:
                for _ in job.rounds.run(self.net_, *train):
                    if self.net_.interrupted_:
                        break
            if not self.net_.interrupted_:
                return False
        except KeyboardInterrupt:
            pass
        self._warn_interrupted()
        return True

    def _warm(self) -> bool:
        """Whether this fit starts from the fitted network (``warm_start``)."""
        return self.warm_start and hasattr(self, "net_")

    def _completed_epochs(self) -> int:
        # An interrupted epoch has a row in skorch's history but no losses.
        return sum("train_loss" in epoch for epoch in self.net_.history)

    def _warn_interrupted(self):
        warnings.warn(
            f"{type(self).__name__}.fit was interrupted (KeyboardInterrupt) after "
            f"{self._completed_epochs()} complete epochs; the estimator keeps the "
            "best weights so far. Fit again with warm_start=True to continue "
            "training from them.",
            FitInterruptedWarning,
            stacklevel=4,
        )

    def _set_feature_importances(self, inputs):
        """Hook run after training; :class:`ExplainMixin` sets ``feature_importances_``."""

    def _check_sample_weight(self, X, y, sample_weight):
        """Check y's length, and sample_weight (a copy, max 1)."""
        if y is not None:
            check_consistent_length(X, y)
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True, copy=True
        )
        # Losses divide by a batch's total weight, so only ratios count; in units of
        # the largest weight they survive float32 (where 1e300 is inf and 1e-50 is 0).
        return sample_weight / sample_weight.max()

    def _check_fit_X(self, X, tokenizer=None):
        """Validate the training X and resolve ``tokenizer_`` (``tokenizer``: a pretrained one)."""
        if self._warm():
            return check_X(self, X, reset=False)
        if self.d_token % self.n_heads:
            raise ValueError(
                f"d_token={self.d_token} must be divisible by n_heads={self.n_heads}."
            )
        tokenizer = tokenizer or resolve_tokenizer(self.tokenizer, X)
        X = check_X(self, X, reset=True, tokenizer=tokenizer)
        self.tokenizer_ = tokenizer
        return X

    def _prepare(self, X, job, weights):
        """Resolve the device, draw the seed, learn the encoding of X's columns.

        Returns the encoded inputs (NumPy arrays, the job's per-row inputs
        and ``sample_weight`` included) and the seed.
        """
        self.device_ = resolve_device(self.device)
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        if self.data_parallel:
            self.device_, seed = join_processes(self.device_, seed)
        if not self._warm():
            if weights is None:
                self.encoder_ = make_encoder(
                    self.tokenizer_, self.patch_size, self.onehot_blocks
                ).fit(X, job.sample_weight, getattr(self, "feature_names_in_", None))
            else:
                self.encoder_ = weights.encoder(X, job.sample_weight, seed)
            self.onehot_blocks_ = [list(block) for block in getattr(self.encoder_, "blocks_", [])]
            self.max_tokens_, self.n_latents_ = resolve_max_tokens(
                self.max_tokens,
                self.tokenizer_,
                self.encoder_.tokenizer_params().get("n_num_features", 0),
            )
        inputs = self.encoder_.transform(X)
        inputs.update(job.inputs)
        inputs["sample_weight"] = job.sample_weight.astype(np.float32)
        return inputs, seed

    def _make_net(self, job, valid, seed, n_train, weights=None):
        """The skorch net for the job; with ``warm_start``, the previous fit's, weights and all."""
        previous = self.net_ if self._warm() else None
        if previous is not None:
            module, module_params = previous.module, previous.get_params_for("module")
        else:
            module, module_params = (
                FTTransformer,
                dict(
                    **self.encoder_.tokenizer_params(),
                    n_latents=self.n_latents_,
                    d_out=job.d_out,
                    d_token=self.d_token,
                    n_blocks=self.n_blocks,
                    n_heads=self.n_heads,
                    d_ffn_factor=self.d_ffn_factor,
                    ffn_dropout=self.ffn_dropout,
                    attention=self.attention,
                    **job.module_params,
                ),
            )
            if weights is not None:
                module, module_params = weights.module(module_params)
        if module is FTTransformer:
            module_params["reconstruction"] = job.objective.reconstruction
        batch_size, max_epochs = self._schedule(n_train)
        callbacks = () if weights is None else weights.callbacks(max_epochs, previous)
        if self.verbose == 1:
            callbacks = (*callbacks, ("progress", ProgressBar(type(self).__name__)))
        batch_size = self._batch_that_fits(module_params, batch_size, n_train, job.passes_per_step)
        schedule = self._training_schedule(batch_size=batch_size, max_epochs=max_epochs, seed=seed)
        new = make_net(NetJob(module_params, job.objective, schedule, module, callbacks), valid)
        if previous is not None:
            new.initialize()
            # A head the new objective adds (or drops) is the only difference.
            new.module_.load_state_dict(previous.module_.state_dict(), strict=False)
            new.warm_start = True  # fit() keeps the loaded weights
        elif weights is not None:
            weights.initialise(new)
        return new

    def _training_schedule(self, *, batch_size, max_epochs, seed):
        """This estimator's training hyperparameters as a :class:`Schedule`, on ``device_``."""
        return Schedule(
            lr=self.lr,
            weight_decay=self.weight_decay,
            batch_size=batch_size,
            max_epochs=max_epochs,
            n_iter_no_change=self.n_iter_no_change,
            tol=self.tol,
            device=self.device_,
            mixed_precision=self.mixed_precision,
            data_parallel=self.data_parallel,
            # 1 draws a bar in a terminal; from 2 on, skorch logs a line per epoch.
            verbose=int(self.verbose >= 2),
            random_state=seed,
        )

    def _inference_net(self, module_params, *, batch_size, max_epochs, seed):
        """A net that holds a saved network for prediction (:func:`skattn.load`)."""
        return make_net(
            NetJob(
                module_params=module_params,
                # Never trained: a fit builds its own net from its job.
                objective=Objective(TabularNet, torch.nn.MSELoss),
                schedule=self._training_schedule(
                    batch_size=batch_size, max_epochs=max_epochs, seed=seed
                ),
            )
        )

    def _batch_that_fits(self, module_params, batch_size, n_train, passes_per_step):
        """``batch_size``, checked against the memory a training step would take.

        ``batch_size="auto"`` shrinks, with a warning, to what fits; an
        explicit batch size that cannot fit raises InsufficientMemoryError.
        """
        if "n_blocks" not in module_params:  # an external torch module: its own business
            return batch_size
        shape = NetworkShape.from_params(module_params)
        per_row = shape.bytes_per_row(training=True) * passes_per_step
        rows = min(batch_size, n_train)
        budget = int(USABLE_SHARE * available_bytes(self.device_))
        if rows * per_row <= budget:
            return batch_size
        fitting = budget // per_row
        wide = (
            ""
            if self.n_latents_
            else (
                f" or set max_tokens (e.g. max_tokens={AUTO_MAX_TOKENS}) so that latent "
                "tokens summarise the columns,"
            )
        )
        if self.batch_size == "auto" and fitting >= 1:
            warnings.warn(
                f"batch_size='auto' is {fitting} rows instead of {rows}: a training step "
                f"with {shape.n_tokens} tokens per row takes about {per_row / 2**20:.1f} MiB "
                f"a row, and {budget / 2**30:.1f} GiB of memory is usable.",
                UserWarning,
                stacklevel=4,
            )
            return int(fitting)
        raise InsufficientMemoryError(
            f"A training step of {type(self).__name__} would need about "
            f"{rows * per_row / 2**30:.1f} GiB ({rows} rows of {shape.n_tokens} tokens, "
            f"d_token={shape.d_token}, n_heads={shape.n_heads}, n_blocks={shape.n_blocks}, "
            f"attention={module_params.get('attention', 'self')!r}), but "
            f"{budget / 2**30:.1f} GiB of memory is usable on {self.device_}. Lower "
            f"batch_size (about {max(1, fitting)} rows fit),{wide} or use "
            "attention='self' (its fused kernel never holds the attention weights)."
        )

    def _inference_rows(self, need_weights=False):
        """Rows per forward pass at predict (or explain) time, within ``INFERENCE_BYTES``."""
        default = GPU_INFERENCE_ROWS if "cuda" in self.device_ else CPU_INFERENCE_ROWS
        params = self.net_.get_params_for("module")
        if "n_blocks" not in params:
            return default
        per_row = NetworkShape.from_params(params).bytes_per_row(
            training=False, need_weights=need_weights
        )
        return rows_within(INFERENCE_BYTES, per_row, default)

    def _schedule(self, n_train):
        """``(batch_size, max_epochs)`` for ``n_train`` training rows, ``"auto"`` resolved."""
        batch_size = resolve_batch_size(self.batch_size, n_train)
        n_classes = len(getattr(self, "classes_", ()))  # regressors and pretrainers: none
        return batch_size, resolve_max_epochs(
            self.max_epochs, n_train, batch_size, n_classes=max(1, n_classes)
        )

    def _split(self, job, seed, n_rows, holds_out=True):
        """Choose the early-stopping rows: ``(train_rows, valid_rows)``, sorted.

        Validation rows are drawn from the job's ``validation_rows`` (all
        rows by default), stratified by its ``stratify`` where every class
        has two rows to spare. ``valid_rows`` is None without early
        stopping, or when nothing would stop on them (``holds_out`` False:
        a schedule that runs every epoch); ``"auto"`` needs
        ``AUTO_EARLY_STOPPING_ROWS`` candidates.
        """
        rows = np.arange(n_rows) if job.validation_rows is None else job.validation_rows
        stratify = job.stratify
        enabled = holds_out and (
            self.early_stopping is True
            or (self.early_stopping == "auto" and len(rows) >= AUTO_EARLY_STOPPING_ROWS)
        )
        if not enabled or len(rows) < 2:
            return np.arange(n_rows), None
        if stratify is not None:
            _, counts = np.unique(stratify, return_counts=True)
            n_valid = int(np.ceil(self.validation_fraction * len(rows)))
            # Stratifying needs two rows of every class and room for each in valid.
            if counts.min() < 2 or n_valid < len(counts) or len(rows) - n_valid < len(counts):
                stratify = None
        _, valid_rows = train_test_split(
            rows, test_size=self.validation_fraction, stratify=stratify, random_state=seed
        )
        valid_rows = np.sort(valid_rows)
        return np.setdiff1d(np.arange(n_rows), valid_rows), valid_rows

    def _forward(self, X) -> np.ndarray:
        """The network's output for X, as float64 of shape (n_samples, d_out)."""
        check_is_fitted(self)
        X = check_X(self, X, reset=False)
        return self._network_outputs(self.encoder_.transform(X))

    def _network_outputs(self, inputs, *, embed=False) -> np.ndarray:
        """The network's output for encoded rows, float64 (n_rows, d_out).

        With ``embed``, the CLS embeddings (n_rows, d_token) the head reads.
        Large batches in eval mode under ``torch.inference_mode``, without
        skorch's per-batch dataset machinery.
        """
        module = self.net_.module_
        apply = module.embed if embed else module
        outputs = None
        # Left in eval mode, not switched back: threads predicting at once
        # must never see each other's switch (each training step sets its own).
        module.eval()
        with torch.inference_mode(), self.net_.autocast():
            start = 0
            for batch in inference_batches(inputs, self.device_, self._inference_rows(), pad=True):
                result = apply(batch["x_num"], batch["x_cat"]).float().cpu().numpy()
                if outputs is None:
                    # Filled in place: small per-batch results kept alive between the
                    # batches' large temporaries fragment the heap (at 1e6 rows the
                    # process grew by 1.4 GiB while scoring a pool).
                    outputs = np.empty((len(inputs["x_num"]), result.shape[1]))
                n_rows = min(len(result), len(outputs) - start)  # the padding left out
                outputs[start : start + n_rows] = result[:n_rows]
                start += n_rows
        return np.empty((0, 0)) if outputs is None else outputs

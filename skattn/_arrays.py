"""Images and sequences: X with more than two dimensions.

:func:`check_images_or_sequences` validates such X into one float array of a
canonical shape, (n, C, H, W) for images and (n, T, d) for sequences (a list
of sequences of different lengths is padded with NaN); :class:`ArrayEncoder`
learns the per-channel scaling and turns X into the flat ``x_num`` batch
that :class:`skattn.nn.PatchTokenizer` and
:class:`skattn.nn.SequenceTokenizer` read back.
"""

import math

import numpy as np
from sklearn.utils.validation import check_array

from ._scaling import weighted_mean_and_scale

_EXPECTED = {
    "patch": "images of shape (n_samples, height, width) or (n_samples, channels, height, width)",
    "sequence": "sequences of shape (n_samples, n_steps, d_step), or a list of "
    "(n_steps_i, d_step) arrays",
}


def resolve_tokenizer(tokenizer: str, X) -> str:
    """The tokenizer for X: ``tokenizer`` itself, or the ``"auto"`` rule."""
    if tokenizer != "auto":
        return tokenizer
    if _is_ragged(X):
        return "sequence"
    return {3: "sequence", 4: "patch"}.get(n_dims(X), "feature")


def n_dims(X) -> int:
    """Number of dimensions of array-like X (2 when it has no single shape)."""
    if hasattr(X, "ndim"):
        return X.ndim
    try:
        return np.asarray(X).ndim
    except ValueError:
        return 2


def _is_ragged(X) -> bool:
    return (
        isinstance(X, list | tuple)
        and len(X) > 0
        and all(isinstance(item, np.ndarray) and item.ndim == 2 for item in X)
    )


def _pad(sequences) -> np.ndarray:
    steps = {item.shape[1] for item in sequences}
    if len(steps) > 1:
        raise ValueError(f"Sequences have different step dimensions {sorted(steps)}.")
    padded = np.full((len(sequences), max(len(item) for item in sequences), *steps), np.nan)
    for row, item in enumerate(sequences):
        padded[row, : len(item)] = item
    return padded


def check_images_or_sequences(estimator, X, *, kind: str, reset: bool) -> np.ndarray:
    """Validate images (``kind="patch"``) or sequences into a float64 array.

    Returns (n, C, H, W) images (a channel axis is added to (n, H, W)) or
    (n, T, d) sequences. With ``reset``, sets ``n_features_in_`` to the
    number of values per row and forgets ``feature_names_in_``.
    """
    if kind == "sequence" and _is_ragged(X):
        X = _pad([check_array(item, ensure_all_finite="allow-nan", input_name="X") for item in X])
    X = check_array(
        X,
        allow_nd=True,
        dtype=[np.float64, np.float32],
        ensure_all_finite="allow-nan",
        ensure_min_samples=2 if reset else 1,
        input_name="X",
    )
    n_dims = {"patch": (3, 4), "sequence": (3,)}[kind]
    if X.ndim not in n_dims:
        raise ValueError(
            f"tokenizer={kind!r} expects {_EXPECTED[kind]}; got X of shape {X.shape}."
        )
    if X.ndim == 3 and kind == "patch":
        X = X[:, None]
    if reset:
        estimator.n_features_in_ = math.prod(X.shape[1:])
        if hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
    return X


class ArrayEncoder:
    """Standardise images or sequences per channel and flatten them for the network.

    Parameters
    ----------
    kind : {"patch", "sequence"}
    patch_size : int, optional
        Side of a patch; must divide the images' height and width.

    Attributes
    ----------
    input_shape_ : tuple of int
        (C, H, W) of an image, or (T, d) with T the longest sequence.
    mean_, scale_ : ndarray of shape (C,) or (d,)
        Weighted mean and standard deviation of each channel (or each value
        of a step) over all pixels (or present steps) of the training rows.
    """

    def __init__(self, kind: str, patch_size=None):
        self.kind = kind
        self.patch_size = patch_size

    def _channels_last(self, X):
        return np.moveaxis(X, 1, -1) if self.kind == "patch" else X

    def fit(self, X, sample_weight=None, feature_names=None):
        """Learn the input shape and the per-channel scaling of validated X (names unused)."""
        self.input_shape_ = tuple(int(side) for side in X.shape[1:])
        if self.kind == "patch":
            height, width = self.input_shape_[1:]
            if height % self.patch_size or width % self.patch_size:
                raise ValueError(
                    f"Images of {height}x{width} pixels cannot be cut into patches of "
                    f"{self.patch_size}x{self.patch_size}: choose a patch_size that "
                    "divides both sides, or pad the images."
                )
        channels_last = self._channels_last(X)
        # One row per pixel (or step), one column per channel (or value of a step).
        values = channels_last.reshape(-1, channels_last.shape[-1])
        weight = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight)
        row_weight = np.repeat(weight, len(values) // len(X))
        self.mean_, self.scale_ = weighted_mean_and_scale(values, row_weight)
        return self

    def transform(self, X) -> dict:
        """Flat standardised ``x_num`` (float32, NaN kept) and an empty ``x_cat``."""
        X = self._conform(X)
        scaled = (self._channels_last(X) - self.mean_) / self.scale_
        if self.kind == "patch":
            scaled = np.moveaxis(scaled, -1, 1)
        x_num = np.clip(scaled.reshape(len(X), -1), -1e6, 1e6).astype(np.float32)
        return {"x_num": x_num, "x_cat": np.empty((len(X), 0), dtype=np.int64)}

    def _conform(self, X):
        if self.kind == "patch":
            if X.shape[1:] != self.input_shape_:
                raise ValueError(
                    f"X holds images of shape {X.shape[1:]} (channels, height, width), "
                    f"but the model was fitted on images of shape {self.input_shape_}."
                )
            return X
        n_steps, d_step = self.input_shape_
        if X.shape[2] != d_step:
            raise ValueError(
                f"X has sequences with {X.shape[2]} values per step, but the model was "
                f"fitted on {d_step} values per step."
            )
        if X.shape[1] > n_steps:
            raise ValueError(
                f"X has sequences of {X.shape[1]} steps, but the model was fitted on at "
                f"most {n_steps} steps (its position embeddings end there)."
            )
        padding = np.full((len(X), n_steps - X.shape[1], d_step), np.nan)
        return np.concatenate([X, padding], axis=1)

    def tokenizer_params(self) -> dict:
        """Keyword arguments of :class:`skattn.nn.FTTransformer` for this input."""
        return dict(tokenizer=self.kind, input_shape=self.input_shape_, patch_size=self.patch_size)

    def explained_columns(self, feature_names=None):
        """Names of the columns explanations report, and the token (0-based) behind each.

        Pixels (``pixel_<row>_<column>``, channels together) for images;
        steps (``step_<t>``) for sequences.
        """
        if self.kind == "sequence":
            n_steps = self.input_shape_[0]
            return [f"step_{t}" for t in range(n_steps)], np.arange(n_steps)
        height, width = self.input_shape_[1:]
        rows, columns = np.divmod(np.arange(height * width), width)
        p = self.patch_size
        tokens = (rows // p) * (width // p) + columns // p
        names = [f"pixel_{r}_{c}" for r, c in zip(rows, columns, strict=True)]
        return names, tokens

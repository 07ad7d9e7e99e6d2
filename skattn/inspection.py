"""What a fitted model attends to: attention maps, per-column attributions, plots.

The estimators' ``attention_maps``, ``explain`` and ``feature_importances_``
come from :class:`ExplainMixin`; the plots need matplotlib
(``pip install skattn[plots]``).
"""

import numpy as np
import pandas as pd
import torch
from sklearn.utils.validation import check_is_fitted

from ._base import inference_batches
from ._data import check_X
from ._sparse import keep_rows
from .nn import FTTransformer

# Rows of the training data that feature_importances_ averages over.
N_IMPORTANCE_ROWS = 2048
IMPORTANCE_CHUNK_ROWS = 512


class ExplainMixin:
    """What the network attends to and what drives its predictions, per input column."""

    def attention_maps(self, X):
        """Attention from the CLS token to each column, per block and head.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Or images, or sequences, as at fit.

        Returns
        -------
        maps : ndarray of shape (n_samples, n_blocks, n_heads, n_columns)
            ``maps[i, b, h, j]``: the weight that the CLS token of row ``i``
            puts on the token of column ``j`` in head ``h`` of block ``b``
            (the rest of each row's weight is on the CLS token itself).
            Columns are X's columns in order; for images, the pixels in
            row-major order (each showing the weight of its patch); for
            sequences, the steps. When latent tokens summarise the numeric
            columns (``n_latents_ > 0``, see ``max_tokens``), the CLS token
            attends to the latents, and a numeric column's weight is the
            CLS token's weight on each latent (and on itself) times that
            token's attention over the columns (averaged over heads): the
            weight that reaches the column through the latents. Each row
            then sums to one over the columns.
        """
        inputs = self._inputs_to_explain(X)
        _, tokens = self._explained_columns()
        maps = [self._cls_maps(chunk) for chunk in self._explained_batches(inputs)]
        if not maps:
            return np.empty((0, self.n_blocks, self.n_heads, len(tokens)))
        return np.concatenate(maps)[..., 1:][..., tokens]

    def explain(self, X, method="attention"):
        """Per-row attribution of the prediction to each input column.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Or images, or sequences, as at fit.
        method : {"attention", "gradient"}, default="attention"
            ``"attention"``: attention rollout, the CLS token's attention
            propagated through the blocks with the residual path,
            ``prod_b (A_b + I) / 2`` with ``A_b`` averaged over heads
            (Abnar & Zuidema 2020). ``"gradient"``: the gradient of the
            predicted class's logit (the output, for a regressor) times the
            difference between each column's token and its reference token
            (the value at the column's mean, or no category): a first-order
            estimate of each column's effect on the output, since attention
            weights are not always faithful to it. With latent tokens
            (``n_latents_ > 0``), the rollout over CLS and the latents is
            carried to the numeric columns by the latents' attention over
            them, and the gradient is taken at the column tokens, before
            the latents summarise them: either way, one share per column.

        Returns
        -------
        attributions : DataFrame of shape (n_samples, n_columns)
            Non-negative shares that sum to one in each row. Columns are the
            input columns (a categorical column is one token, so one
            column); for images, the pixels ``pixel_<row>_<column>`` (a
            patch's share spread evenly over its pixels, channels together);
            for sequences, the steps ``step_<t>``.
        """
        if method not in ("attention", "gradient"):
            raise ValueError(f"method must be 'attention' or 'gradient', got {method!r}.")
        inputs = self._inputs_to_explain(X)
        values = self._attributions(inputs, method)
        names, _ = self._explained_columns()
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame(values, columns=names, index=index)

    def _inputs_to_explain(self, X):
        check_is_fitted(self)
        if not isinstance(self.net_.module_, FTTransformer):
            raise TypeError(
                "Explanations need skattn's own network (one token per column); this "
                "model was fine-tuned from an external torch module."
            )
        X = check_X(self, X, reset=False)
        return self.encoder_.transform(X)

    def _explained_columns(self):
        return self.encoder_.explained_columns(getattr(self, "feature_names_in_", None))

    def _explained_batches(self, inputs):
        # Attention maps grow with the square of the tokens: batches sized to fit.
        return inference_batches(inputs, self.device_, self._inference_rows(need_weights=True))

    def _attention(self, chunk):
        """CLS-row maps (batch, blocks, heads, tokens) and the latents' column attention."""
        module = self.net_.module_.eval()
        with torch.inference_mode():
            tokens, cross = module.summarise(
                module.tokenizer(chunk["x_num"], chunk["x_cat"]), need_weights=True
            )
            mask = module.padding_mask(chunk["x_num"], chunk["x_cat"])
            _, maps = module.encoder(tokens, need_weights=True, mask=mask)
        # (batch, 1 + n_latents, n_num): each query's attention over the columns.
        return module.merge_members(maps), None if cross is None else cross.mean(dim=1)

    @staticmethod
    def _to_columns(weights, cross):
        """Weights over CLS and the blocks' tokens -> over CLS and the column tokens.

        Without latents, unchanged; with them, the weight on CLS and on each
        latent goes to the columns that token attends to (CLS keeps none).
        """
        if cross is None:
            return weights
        n_queries = cross.shape[1]
        numeric = torch.einsum("b...q,bqj->b...j", weights[..., :n_queries], cross)
        no_cls = torch.zeros_like(weights[..., :1])
        return torch.cat([no_cls, numeric, weights[..., n_queries:]], dim=-1)

    def _cls_maps(self, chunk):
        maps, cross = self._attention(chunk)
        maps = self._to_columns(maps[:, :, :, 0], cross)
        return maps.cpu().numpy().astype(np.float64)

    def _attributions(self, inputs, method):
        parts = []
        for chunk in self._explained_batches(inputs):
            if method == "attention":
                parts.append(self._rollout(chunk))
            else:
                parts.append(self._gradient_times_input(chunk))
        _, tokens = self._explained_columns()
        n_columns = len(tokens)
        values = np.concatenate(parts) if parts else np.empty((0, tokens.max() + 1))
        # A token's share goes in equal parts to the columns (pixels) it holds.
        values = values[:, tokens] / np.bincount(tokens)[tokens]
        total = values.sum(axis=1, keepdims=True)
        return np.divide(values, total, out=np.full_like(values, 1 / n_columns), where=total > 0)

    def _rollout(self, chunk):
        maps, cross = self._attention(chunk)
        with torch.inference_mode():
            mixed = maps.mean(dim=2)  # (batch, blocks, tokens, tokens)
            # Only the CLS row of prod_b (A_b + I) / 2 is needed: carry it down
            # from the last block, O(tokens^2) a block instead of O(tokens^3).
            rollout = torch.zeros_like(mixed[:, 0, :1])
            rollout[..., 0] = 1.0  # (batch, 1, tokens)
            for block in reversed(range(mixed.shape[1])):
                rollout = 0.5 * rollout @ mixed[:, block] + 0.5 * rollout
            rollout = self._to_columns(rollout[:, 0], cross)
        return rollout[:, 1:].cpu().numpy().astype(np.float64)

    def _gradient_times_input(self, chunk):
        module = self.net_.module_.eval()
        tokenizer = module.tokenizer
        # A token's reference: its input at the mean (inputs are standardised),
        # or no category; the CLS token is its own reference.
        reference = tokenizer.reference_tokens().detach()
        mask = module.padding_mask(chunk["x_num"], chunk["x_cat"])
        with torch.enable_grad():
            tokens = tokenizer(chunk["x_num"], chunk["x_cat"]).detach().requires_grad_()
            summary, _ = module.summarise(tokens)
            embeddings = module.pool(module.encoder(summary, mask=mask)[0])
            out = module.merge_members(module.read_out(embeddings))
            target = out.gather(1, out.argmax(dim=1, keepdim=True)) if out.shape[1] > 1 else out
            (grad,) = torch.autograd.grad(target.sum(), tokens)
        contribution = (grad * (tokens - reference)).sum(dim=-1)[:, 1:]
        return contribution.abs().detach().cpu().numpy().astype(np.float64)

    def _set_feature_importances(self, inputs):
        """``feature_importances_``: the mean attention attribution over training rows."""
        if not isinstance(self.net_.module_, FTTransformer):
            return
        n_rows = min(N_IMPORTANCE_ROWS, len(inputs["x_num"]))
        # A chunk at a time: the attributions of a wide table's rows are large.
        total = 0.0
        for start in range(0, n_rows, IMPORTANCE_CHUNK_ROWS):
            rows = slice(start, min(start + IMPORTANCE_CHUNK_ROWS, n_rows))
            chunk = {key: keep_rows(value, rows) for key, value in inputs.items()}
            total = total + self._attributions(chunk, "attention").sum(axis=0)
        self.feature_importances_ = total / n_rows


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            "skattn.inspection draws with matplotlib: pip install 'skattn[plots]'"
        ) from error
    return plt


def plot_importances(importances, *, names=None, top=None, ax=None):
    """Horizontal bar chart of column importances, largest on top.

    Parameters
    ----------
    importances : fitted skattn estimator, Series, DataFrame or array-like
        An estimator's ``feature_importances_``, a Series indexed by column,
        the output of ``explain`` (its column means are drawn), or values.
    names : sequence of str, optional
        Column names for array-like input (default, for an estimator: the
        names its ``explain`` gives, one per input column or one-hot block;
        else ``x0, x1, ...``).
    top : int, optional
        Draw only the ``top`` largest.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from skattn import AttentionClassifier
    >>> from skattn.inspection import plot_importances
    >>> X, y = load_iris(return_X_y=True, as_frame=True)
    >>> clf = AttentionClassifier(d_token=8, max_epochs=3, random_state=0).fit(X, y)
    >>> ax = plot_importances(clf)  # doctest: +SKIP
    """
    series = _as_series(importances, names)
    if top is not None:
        series = series.nlargest(top)
    series = series.sort_values()
    if ax is None:
        _, ax = _pyplot().subplots(figsize=(6, 0.3 * len(series) + 1))
    ax.barh(series.index.astype(str), series.to_numpy())
    ax.set_xlabel("share of attribution")
    ax.set_title("Column importances")
    return ax


def plot_image_attributions(image, attributions, *, ax=None, cmap="magma"):
    """Draw a heatmap of an image's attributions with the image's outline on top.

    Parameters
    ----------
    image : array-like of shape (H, W) or (C, H, W)
        The image as given to the estimator (channels are averaged).
    attributions : Series or array-like of H * W values, or of shape (H, W)
        One row of ``explain(images)`` (its ``pixel_<row>_<column>``
        columns), or a row of ``attention_maps`` averaged over blocks and
        heads.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.
    cmap : str, default="magma"
        Colour map of the heatmap.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skattn import AttentionClassifier
    >>> from skattn.inspection import plot_image_attributions
    >>> digits = load_digits()
    >>> clf = AttentionClassifier(tokenizer="patch", patch_size=2, max_epochs=2,
    ...                           random_state=0).fit(digits.images, digits.target)
    >>> shares = clf.explain(digits.images[:1]).iloc[0]
    >>> ax = plot_image_attributions(digits.images[0], shares)  # doctest: +SKIP
    """
    image = np.asarray(image, dtype=float)
    if image.ndim == 3:
        image = image.mean(axis=0)
    if image.ndim != 2:
        raise ValueError(f"image must have shape (H, W) or (C, H, W); got {image.shape}.")
    heat = np.asarray(attributions, dtype=float)
    if heat.size != image.size:
        raise ValueError(
            f"{heat.size} attributions for an image of {image.shape[0]}x{image.shape[1]} pixels."
        )
    if ax is None:
        _, ax = _pyplot().subplots(figsize=(3, 3))
    ax.imshow(heat.reshape(image.shape), cmap=cmap)
    # The outline at half the image's range: where the strokes are.
    level = (image.min() + image.max()) / 2
    if image.max() > image.min():
        ax.contour(image, levels=[level], colors="cyan", linewidths=1.5)
    ax.set_axis_off()
    return ax


def _as_series(importances, names):
    if isinstance(importances, pd.Series):
        return importances.astype(float)
    if isinstance(importances, pd.DataFrame):
        return importances.mean(axis=0)
    if hasattr(importances, "feature_importances_"):
        values = importances.feature_importances_
        if names is None:  # one name per explained column (a one-hot block is one)
            names = importances._explained_columns()[0]
    else:
        values = np.asarray(importances, dtype=float)
    if names is None:
        names = [f"x{j}" for j in range(len(values))]
    if len(names) != len(values):
        raise ValueError(f"{len(names)} names for {len(values)} importances.")
    return pd.Series(values, index=list(names), dtype=float)

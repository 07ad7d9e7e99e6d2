"""Plots of what a fitted skattn model attends to (matplotlib: ``pip install skattn[plots]``)."""

import numpy as np
import pandas as pd


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
        Column names for array-like input (default: the estimator's
        ``feature_names_in_``, else ``x0, x1, ...``).
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


def _as_series(importances, names):
    if isinstance(importances, pd.Series):
        return importances.astype(float)
    if isinstance(importances, pd.DataFrame):
        return importances.mean(axis=0)
    if hasattr(importances, "feature_importances_"):
        values = importances.feature_importances_
        names = getattr(importances, "feature_names_in_", None) if names is None else names
    else:
        values = np.asarray(importances, dtype=float)
    if names is None:
        names = [f"x{j}" for j in range(len(values))]
    if len(names) != len(values):
        raise ValueError(f"{len(names)} names for {len(values)} importances.")
    return pd.Series(values, index=list(names), dtype=float)

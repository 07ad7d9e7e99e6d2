"""Whether the unlabeled rows come from the labeled rows' distribution.

Self-training assumes they do. A classifier two-sample test (Lopez-Paz and
Oquab, 2017) asks a linear model to tell the two kinds of rows apart: where
it can, the pseudo-labels extrapolate from labels that never saw those rows,
and self-training leans back on the labels-only fit.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

# Most rows of each kind in the test: a few thousand pin an AUC down to about
# 0.01, and the test's cost stays flat on a large table.
SHIFT_ROWS = 2000


def shift_rows(labeled, *, max_rows=SHIFT_ROWS, seed=0):
    """The rows :func:`pool_shift` compares: ``[labeled, unlabeled]`` row numbers,
    up to ``max_rows`` of each kind drawn at random, sorted.

    A caller with a large table encodes these rows alone and passes them on:
    with no more than ``max_rows`` of a kind, :func:`pool_shift` draws none.

    Examples
    --------
    >>> import numpy as np
    >>> [rows.tolist() for rows in shift_rows(np.arange(6) < 2, max_rows=3)]
    [[0, 1], [3, 4, 5]]
    """
    rng = np.random.RandomState(seed)
    return [
        rows if len(rows) <= max_rows else np.sort(rng.choice(rows, max_rows, replace=False))
        for rows in (np.flatnonzero(labeled), np.flatnonzero(~labeled))
    ]


def pool_shift(points, labeled, *, max_rows=SHIFT_ROWS, seed=0):
    """How well a linear model tells the unlabeled rows from the labeled ones.

    A logistic regression (classes balanced) learns which rows are labeled,
    cross-validated (stratified, up to 5 folds), and its held-out scores give
    a ROC AUC: 0.5 when the two kinds of rows look alike, as when the labels
    were drawn at random, towards 1 when the unlabeled rows lie elsewhere.
    The standard error of an AUC under no difference (Hanley and McNeil,
    1982) comes with it, so that a caller can tell a shift from chance.
    Up to ``max_rows`` rows of each kind, drawn at random, take part
    (:func:`shift_rows`).

    Parameters
    ----------
    points : ndarray or sparse matrix of shape (n_rows, n_dims)
        The rows as points (:func:`skattn._spreading.as_points`).
    labeled : ndarray of bool of shape (n_rows,)
    max_rows : int, default=SHIFT_ROWS
    seed : int, default=0
        Seeds the draw of rows and the folds.

    Returns
    -------
    auc : float
        0.5 with fewer than 2 rows of either kind (nothing to cross-validate).
    standard_error : float

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> points = rng.normal(size=(400, 3))
    >>> labeled = np.arange(400) < 40
    >>> auc, se = pool_shift(points, labeled)  # labels at random: no shift
    >>> bool(abs(auc - 0.5) < 3 * se)
    True
    >>> points[~labeled, 0] += 3  # the unlabeled rows elsewhere
    >>> bool(pool_shift(points, labeled)[0] > 0.95)
    True
    """
    kinds = shift_rows(labeled, max_rows=max_rows, seed=seed)
    n_labeled, n_unlabeled = len(kinds[0]), len(kinds[1])
    if min(n_labeled, n_unlabeled) < 2:
        return 0.5, 0.5
    standard_error = np.sqrt((n_labeled + n_unlabeled + 1) / (12 * n_labeled * n_unlabeled))
    side = np.r_[np.ones(n_labeled), np.zeros(n_unlabeled)]
    folds = StratifiedKFold(min(5, n_labeled, n_unlabeled), shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_predict(
            LogisticRegression(class_weight="balanced", max_iter=1000),
            points[np.concatenate(kinds)],
            side,
            cv=folds,
            method="decision_function",
        )
    return float(roc_auc_score(side, scores)), float(standard_error)

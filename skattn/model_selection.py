"""Model selection that understands ``y == -1`` (unlabeled rows)."""

import numpy as np
from sklearn.metrics import check_scoring
from sklearn.model_selection import StratifiedKFold
from sklearn.model_selection._split import _BaseKFold

from ._base import labeled_mask


class SemiSupervisedKFold(_BaseKFold):
    """Stratified K-fold over the labeled rows; unlabeled rows always train.

    Plain K-fold puts unlabeled rows (``y == -1``) into test folds, where
    they are scored against the label -1, and takes them away from the
    training folds, where a semi-supervised estimator needs them. This
    splitter folds the labeled rows only (stratified by class) and adds
    every unlabeled row to every training fold.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds; at least 2.
    shuffle : bool, default=False
        Shuffle each class's labeled rows before folding.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling when ``shuffle=True``.

    See Also
    --------
    labeled_scorer : Scores on labeled rows only.

    Examples
    --------
    >>> import numpy as np
    >>> from skattn.model_selection import SemiSupervisedKFold
    >>> y = np.array([0, 0, 1, 1, -1, -1])
    >>> for train, test in SemiSupervisedKFold(n_splits=2).split(np.zeros((6, 1)), y):
    ...     print(train, test)
    [1 3 4 5] [0 2]
    [0 2 4 5] [1 3]
    """

    def __init__(self, n_splits=5, *, shuffle=False, random_state=None):
        super().__init__(n_splits=n_splits, shuffle=shuffle, random_state=random_state)

    def split(self, X, y, groups=None):
        """Yield ``(train, test)`` row indices.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Labels, -1 for unlabeled rows.
        groups : ignored

        Yields
        ------
        train : ndarray
            The fold's labeled training rows and all unlabeled rows.
        test : ndarray
            The fold's labeled test rows.
        """
        y = np.asarray(y)
        has_label = labeled_mask(y)
        labeled, unlabeled = np.flatnonzero(has_label), np.flatnonzero(~has_label)
        if len(labeled) < self.n_splits:
            raise ValueError(
                f"Cannot split {len(labeled)} labeled rows into n_splits={self.n_splits} folds."
            )
        folds = StratifiedKFold(
            self.n_splits, shuffle=self.shuffle, random_state=self.random_state
        )
        for train, test in folds.split(labeled, y[labeled].astype(str)):
            yield np.sort(np.concatenate([labeled[train], unlabeled])), labeled[test]


def labeled_scorer(scoring=None):
    """Wrap a scorer so that rows with ``y == -1`` are left out of the score.

    Parameters
    ----------
    scoring : str, callable or None, default=None
        Anything :func:`sklearn.metrics.check_scoring` accepts; None uses the
        estimator's ``score``.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)``, usable as ``scoring=`` in
        ``GridSearchCV`` or ``cross_val_score``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from skattn.model_selection import labeled_scorer
    >>> X, y = np.zeros((4, 1)), np.array([1, 1, -1, -1])
    >>> clf = DummyClassifier().fit(X[:2], y[:2])
    >>> labeled_scorer("accuracy")(clf, X, y)
    1.0
    """

    def score(estimator, X, y, **kwargs):
        has_label = labeled_mask(y)
        if not has_label.any():
            raise ValueError("Cannot score: every row in this split has y == -1.")
        rows = np.flatnonzero(has_label)
        X_labeled = X.iloc[rows] if hasattr(X, "iloc") else X[rows]
        y_labeled = y.iloc[rows] if hasattr(y, "iloc") else np.asarray(y)[rows]
        return check_scoring(estimator, scoring=scoring)(estimator, X_labeled, y_labeled, **kwargs)

    return score

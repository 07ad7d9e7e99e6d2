"""Which confident unlabeled rows become pseudo-labels in a round of self-training.

CAST (Kim et al., 2024): a class takes at most its share of the labels
among a round's pseudo-labels, and within a class the rows that sit where
its labeled rows are dense go first.
"""

import numpy as np
from sklearn.metrics.pairwise import euclidean_distances

# A class's density is measured against at most this many of its labeled
# rows (drawn at random beyond), so a round costs at most this many
# distances per candidate row.
DENSITY_REFERENCE_ROWS = 1000
# Candidate rows whose distances are held in memory at once.
DISTANCE_CHUNK_ROWS = 4096


def class_quotas(shares, n_rows):
    """``n_rows`` shared out in proportion to ``shares`` (largest remainder).

    Examples
    --------
    >>> class_quotas(np.array([5, 3, 2]), 7).tolist()
    [4, 2, 1]
    """
    exact = np.asarray(shares, dtype=float) / np.sum(shares) * n_rows
    quotas = np.floor(exact).astype(int)
    remainder = n_rows - quotas.sum()
    quotas[np.argsort(quotas - exact, kind="stable")[:remainder]] += 1
    return quotas


def relative_density(points, reference):
    """Gaussian kernel density of each point among the ``reference`` rows, over the largest.

    The kernel's width is the median distance from a point to its nearest
    reference row (over up to ``DISTANCE_CHUNK_ROWS`` evenly spaced
    points), so the scale follows the data. Values lie in [0, 1].

    Examples
    --------
    >>> relative_density(np.array([[0.0], [1.0], [5.0]]), np.array([[0.0], [0.5]])).round(2)
    array([1.  , 0.46, 0.  ])
    >>> relative_density(np.array([[0.0], [0.0], [1.0]]), np.array([[0.0]]))  # repeats
    array([1., 1., 0.])
    """
    n_points = points.shape[0]
    sample = np.linspace(0, n_points - 1, min(n_points, DISTANCE_CHUNK_ROWS)).astype(int)
    nearest = euclidean_distances(points[sample], reference).min(axis=1)
    # Where most candidates repeat a labeled row (distance 0), a width of
    # 1e-12 keeps exact repeats dense and the rest at 0; a smaller one
    # would underflow when squared and divide 0 by 0.
    width = max(float(np.median(nearest)), 1e-12)
    sums = np.empty(n_points)
    for start in range(0, n_points, DISTANCE_CHUNK_ROWS):
        squared = euclidean_distances(
            points[start : start + DISTANCE_CHUNK_ROWS], reference, squared=True
        )
        sums[start : start + len(squared)] = np.exp(-0.5 * squared / width**2).sum(axis=1)
    return sums / max(float(sums.max()), np.finfo(float).tiny)


def balanced_densest(
    points,
    *,
    candidates,
    confidence,
    prediction,
    labeled,
    labels,
    n_classes,
    quota_rows=None,
    seed=0,
):
    """The candidates to pseudo-label: class-balanced quotas, densest first.

    ``quota_rows`` (all candidates by default) are shared out among the
    classes in proportion to their labeled rows (:func:`class_quotas`; a
    class's unused quota goes to no other); each class takes up to its
    quota of the candidates predicted as it, ranked by confidence times
    their density among its labeled rows (:func:`relative_density`). When
    the quotas take none (fewer candidates than classes, all of classes
    whose share rounds to 0), the best-ranked candidate is taken, so that
    rows above the thresholds never end the rounds.

    Parameters
    ----------
    points : ndarray or sparse matrix of shape (n_rows, n_dims)
        Every row as a point (see :func:`skattn._spreading.as_points`).
    candidates : ndarray of int
        Rows of ``points`` that passed the thresholds.
    confidence, prediction : ndarray of shape (n_candidates,)
        Their confidence and predicted class.
    labeled : ndarray of int
        Rows of ``points`` with a given label.
    labels : ndarray of int
        Their class indices.
    n_classes : int
    quota_rows : int, optional
    seed : int, default=0
        Draws the reference rows of a class with more than
        ``DENSITY_REFERENCE_ROWS`` labels (each class its own draw).

    Returns
    -------
    ndarray of int
        Positions in ``candidates`` of the rows chosen, sorted.
    """
    quota_rows = len(candidates) if quota_rows is None else quota_rows
    quotas = class_quotas(np.bincount(labels, minlength=n_classes), quota_rows)

    def ranked(c):
        """Class c's candidates, best first, and the best score."""
        mine = np.flatnonzero(prediction == c)
        reference = labeled[labels == c]
        if len(reference) > DENSITY_REFERENCE_ROWS:
            rng = np.random.RandomState([seed, c])  # the class's draw, whichever classes rank
            reference = rng.choice(reference, DENSITY_REFERENCE_ROWS, replace=False)
        score = confidence[mine] * relative_density(points[candidates[mine]], points[reference])
        # Equal scores (densities that underflow to 0 far from the labels) go by confidence.
        return mine[np.lexsort((-confidence[mine], -score))], score.max()

    predicted = np.unique(prediction)
    # Only classes with a quota are ranked: the density is the costly part.
    chosen = [ranked(c)[0][: quotas[c]] for c in predicted if quotas[c] > 0]
    if chosen:
        return np.sort(np.concatenate(chosen))
    if len(predicted) == 0:
        return np.empty(0, dtype=int)
    order, _ = max((ranked(c) for c in predicted), key=lambda pair: pair[1])
    return order[:1]

"""Label spreading over a k-NN graph of the rows, and how far to trust it.

Self-training mixes these class distributions into the network's own
confidence when it chooses pseudo-labels.
"""

import warnings

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.semi_supervised import LabelSpreading

from ._sparse import SparseRows

# Neighbours per row in label spreading's graph (scikit-learn's default).
N_NEIGHBORS = 7
# Most rows in one label-spreading graph (its neighbour search is quadratic).
# Above every benchmark set, large26's 15,000 training rows included: blocks
# share out the labels, and with 2 blocks of large26 at 1% labels (3 a class
# in each) spreading fell from 69-72% to 59-60% accurate on the unlabeled rows.
SPREADING_BLOCK_ROWS = 20_000
# With adaptive_propagation, label spreading loses all weight once its
# cross-validated accuracy is this far below a linear model's.
TRUST_MARGIN = 0.10


def as_points(inputs):
    """Rows as points: standardised numbers (NaN at the mean) and one-hot categories."""
    if sp.issparse(inputs):
        return sp.csr_matrix(inputs, dtype=np.float64)
    if not isinstance(inputs, dict):
        return np.asarray(inputs, dtype=np.float64)
    x_cat = torch.as_tensor(inputs["x_cat"]).numpy()
    one_hot = [x_cat[:, [j]] == np.unique(x_cat[:, j]) for j in range(x_cat.shape[1])]
    if isinstance(inputs["x_num"], SparseRows):  # sparse points: never dense whole
        return sp.hstack([inputs["x_num"].points(), *map(sp.csr_matrix, one_hot)]).tocsr()
    x_num = torch.nan_to_num(torch.as_tensor(inputs["x_num"])).numpy()
    return np.hstack([x_num, *one_hot]).astype(np.float64)


def spreading_trust(inputs, target, n_classes, *, block_rows=SPREADING_BLOCK_ROWS, seed=0):
    """How far label spreading can be trusted on these rows: a share in [0, 1].

    Cross-validated on the labeled rows (stratified, up to 5 folds): each
    fold's labels are hidden and spread to from the others' over the graph
    of all rows (:func:`spread_labels`), and a logistic regression fitted on
    the other folds predicts them too. Spreading as accurate as the linear
    model or more, or less by at most one standard error of the paired
    difference (chance): 1; ``TRUST_MARGIN`` further below: 0; linear
    between.
    With fewer than 2 labels in some class there is nothing to hold out: 1.
    On more than ``block_rows`` rows the test runs on one block of
    :func:`spread_labels` (its graph is as dense as the spreading's own),
    so its cost does not grow with the table.

    Examples
    --------
    >>> import torch
    >>> x = torch.cat([torch.linspace(0, 1, 10), torch.linspace(5, 6, 10)])
    >>> inputs = {"x_num": x.unsqueeze(1), "x_cat": torch.zeros(20, 0, dtype=torch.long)}
    >>> target = torch.tensor([0] * 4 + [-1] * 6 + [1] * 4 + [-1] * 6)
    >>> spreading_trust(inputs, target, 2)  # two clusters, one per class
    1.0
    """
    target = np.asarray(target)
    block = _blocks(target, block_rows, seed)[0]
    target, points = target[block], as_points(inputs)[block]
    labeled = np.flatnonzero(target >= 0)
    counts = np.bincount(target[labeled], minlength=n_classes)
    if np.count_nonzero(counts) < 2:
        return 1.0
    n_folds = int(min(5, counts[counts > 0].min()))
    if n_folds < 2:
        return 1.0
    folds = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
    # Per labeled row: 1 where only the linear model is right, -1 where
    # only spreading is, 0 where both or neither are.
    difference = np.zeros(len(labeled))
    for fit, held in folds.split(labeled, target[labeled]):
        held_rows = labeled[held]
        hidden = target.copy()
        hidden[held_rows] = -1
        spread = spread_labels(points, hidden, n_classes, seed=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            linear = LogisticRegression(max_iter=1000).fit(
                points[labeled[fit]], target[labeled[fit]]
            )
        difference[held] = (linear.predict(points[held_rows]) == target[held_rows]).astype(
            float
        ) - (spread[held_rows].argmax(axis=1) == target[held_rows])
    # A shortfall within one standard error of the paired difference may be
    # chance: it is forgiven.
    shortfall = difference.mean() - difference.std() / np.sqrt(len(labeled))
    return trust_from_shortfall(shortfall)


def trust_from_shortfall(shortfall):
    """1 while spreading is as accurate as the linear model, 0 at ``TRUST_MARGIN`` below."""
    return float(np.clip(1 - shortfall / TRUST_MARGIN, 0.0, 1.0))


def spread_labels(inputs, target, n_classes, *, block_rows=SPREADING_BLOCK_ROWS, seed=0):
    """Class distributions from label spreading over a k-NN graph of the inputs.

    The graph joins each row to its nearest neighbours in the encoded input
    space (standardised numeric values, missing ones at the mean, and
    one-hot categories), as scikit-learn's ``LabelSpreading(kernel="knn")``
    on preprocessed data; the given labels (``target >= 0``) spread along it.
    The exact neighbour search costs time in the square of the rows, so
    more than ``block_rows`` rows are dealt into random blocks of at most
    that many (labeled and unlabeled rows spread evenly over them), each
    with a graph of its own: linear time in the rows.

    Parameters
    ----------
    inputs : dict of str to Tensor, or ndarray of shape (n_rows, n_dims)
        Encoded rows (``x_num``, ``x_cat``), or the points themselves (e.g.
        the network's embeddings of the rows).
    target : Tensor of shape (n_rows,)
        Class indices, -1 for rows without a label.
    n_classes : int
    block_rows : int, default=SPREADING_BLOCK_ROWS
        Most rows in one graph.
    seed : int, default=0
        Seeds the blocks.

    Returns
    -------
    ndarray of shape (n_rows, n_classes)
        Each row sums to one, or is all zeros where no label reaches it (a
        part of the graph, or a block, without labels); zero columns for
        classes with no label in the block.

    Examples
    --------
    >>> import torch
    >>> inputs = {"x_num": torch.tensor([[0.0], [0.1], [5.0], [5.1]]),
    ...           "x_cat": torch.zeros(4, 0, dtype=torch.long)}
    >>> spread_labels(inputs, torch.tensor([0, -1, 1, -1]), 2).argmax(axis=1)
    array([0, 0, 1, 1])
    """
    points = as_points(inputs)
    target = np.asarray(target)
    distributions = np.zeros((len(target), n_classes))
    for block in _blocks(target, block_rows, seed):
        if not np.any(target[block] >= 0):
            continue
        spreading = LabelSpreading(kernel="knn", n_neighbors=min(N_NEIGHBORS, len(block) - 1))
        with warnings.catch_warnings():
            # Not converging within max_iter still leaves usable distributions.
            warnings.simplefilter("ignore", ConvergenceWarning)
            spreading.fit(points[block], target[block])
        distributions[block[:, None], spreading.classes_] = spreading.label_distributions_
    return distributions


def _blocks(target, block_rows, seed):
    """Row indices in random blocks of at most ``block_rows``, labeled rows dealt evenly."""
    n_blocks = -(-len(target) // block_rows)
    rng = np.random.RandomState(seed)
    labeled, unlabeled = np.flatnonzero(target >= 0), np.flatnonzero(target < 0)
    return [
        np.sort(np.concatenate(parts))
        for parts in zip(
            np.array_split(rng.permutation(labeled), n_blocks),
            np.array_split(rng.permutation(unlabeled), n_blocks),
            strict=True,
        )
    ]

"""Self-training inside one attention network: y == -1 marks unlabeled rows."""

import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.semi_supervised import LabelSpreading
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d

from ._base import labeled_mask, seeded, select_rows, softmax
from ._data import check_X
from ._docstring import SELF_TRAINING_DEFAULTS, shared_docs_with
from .supervised import AttentionClassifier
from .training import SemiSupervisedNet

# Pseudo-label weights grow linearly to ``unlabeled_weight`` over these rounds.
RAMPUP_ROUNDS = 3
# A round that would pseudo-label fewer than this share of the training rows
# changes the labels too little to pay for its training: the rounds stop.
MIN_NEW_LABELS = 0.01
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


def _points(inputs):
    """Rows as points: standardised numbers (NaN at the mean) and one-hot categories."""
    if not isinstance(inputs, dict):
        return np.asarray(inputs, dtype=np.float64)
    x_num = torch.nan_to_num(torch.as_tensor(inputs["x_num"])).numpy()
    x_cat = torch.as_tensor(inputs["x_cat"]).numpy()
    one_hot = [x_cat[:, [j]] == np.unique(x_cat[:, j]) for j in range(x_cat.shape[1])]
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
    block = _blocks(np.asarray(target), block_rows, seed)[0]
    target, points = np.asarray(target)[block], _points(inputs)[block]
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
        spread = spread_labels(points, torch.as_tensor(hidden), n_classes, seed=seed)
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
    points = _points(inputs)
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


@shared_docs_with(
    **SELF_TRAINING_DEFAULTS,
    max_epochs='"auto"',
    max_epochs_doc="Epochs before the first round of pseudo-labels; an epoch is one pass\n"
    "        over all rows, labeled or not, each step with a batch of labeled rows.",
)
class AttentionSelfTrainingClassifier(AttentionClassifier):
    """Semi-supervised attention classifier: labels, pseudo-labels and consistency.

    ``fit(X, y)`` with ``y == -1`` on every unlabeled row trains one
    attention network (as :class:`AttentionClassifier`) on the labeled rows
    while the unlabeled rows teach it through a consistency term (FixMatch)
    and masked-feature reconstruction. Then, round after round, the rows the
    network is confident about are pseudo-labeled and training continues from
    the current weights (warm start), as scikit-learn's
    :class:`~sklearn.semi_supervised.SelfTrainingClassifier` does with
    refits. Its knobs and fitted attributes carry the same names, so one can
    be swapped for the other in one line.

    Parameters
    ----------
    %(network_parameters)s

    %(training_parameters)s

    %(self_training_parameters)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels (never -1).

    transduction_ : ndarray of shape (n_samples,)
        The labels used in the final round: the given ones, the
        pseudo-labels, and -1 for rows never labeled.

    labeled_iter_ : ndarray of shape (n_samples,)
        The round in which each row got its label: 0 for rows labeled by
        the user, k for pseudo-labels of round k, -1 for rows never labeled.

    n_iter_ : int
        Number of pseudo-labeling rounds run (at least 1 unless
        ``max_iter=0``).

    termination_condition_ : {"max_iter", "no_change", "all_labeled"}
        Why the rounds stopped: ``"no_change"`` when a round (with
        ``criterion="threshold"``) found fewer than 1%% of the training rows
        confident enough to pseudo-label, so that another training phase
        would change little; those rows stay unlabeled.

    propagation_trust_ : float
        With ``adaptive_propagation``, the share of ``propagation_weight``
        that label spreading kept (see that parameter); absent otherwise.

    pseudo_label_history_ : list of dict
        Per round: ``round``, ``n_pseudo_labeled`` (new this round),
        ``mean_confidence`` of the new pseudo-labels, ``class_counts`` (new
        pseudo-labels per class) and the per-class ``thresholds`` used.

    %(explained_attributes)s

    %(fitted_attributes)s

    See Also
    --------
    sklearn.semi_supervised.SelfTrainingClassifier : Self-training around any
        classifier, refitting it every round.
    AttentionClassifier : The same network on labeled rows only.

    Notes
    -----
    Each step minimises, over a batch of labeled and unlabeled rows,

    ``L = L_sup + lambda_k * L_pseudo + consistency_weight * L_cons
    + reconstruction_weight * L_rec``

    where ``L_sup`` and ``L_pseudo`` are the weighted cross-entropies on the
    given labels and on the pseudo-labels (weight ``lambda_k`` =
    ``unlabeled_weight * min(1, k / 3)`` in round k), ``L_cons`` asks the
    prediction on a strong view (a share ``mask_probability`` of the features
    hidden) to match the confident prediction on a weak view (small noise),
    and ``L_rec`` asks the strong view's tokens to reconstruct the hidden
    values. With ``adaptive_threshold``, class c's threshold is
    ``threshold * M(b_c)``, ``M(b) = b / (2 - b)``, never below half the
    threshold, where ``b_c`` is the number of pool rows confidently
    predicted as c over that of the most confident class (FlexMatch).
    The confidence of a pool row is the largest of its mixed class scores
    ``(1 - w) * p_network + w * p_spreading`` with ``w =
    propagation_weight``, where ``p_spreading`` comes from label spreading
    [4]_ of the given labels over a k-NN graph of the inputs (the graph
    finds clusters, the network corrects it, in the spirit of [5]_).

    Unlike scikit-learn's ``SelfTrainingClassifier``, which reports
    ``n_iter_ = 0`` when y has no unlabeled row, the first round always runs
    (finding nothing to label), so ``n_iter_`` is at least 1 as the
    scikit-learn estimator contract asks of estimators with ``max_iter``.

    Early stopping holds out labeled rows only (never -1 rows); with
    ``early_stopping="auto"`` it needs 1000 labeled rows, and with fewer,
    round 0 trains for ``max_epochs`` epochs (``"auto"``: see above).

    References
    ----------
    .. [1] Sohn et al. "FixMatch: Simplifying Semi-Supervised Learning with
       Consistency and Confidence". NeurIPS 2020.
    .. [2] Zhang et al. "FlexMatch: Boosting Semi-Supervised Learning with
       Curriculum Pseudo Labeling". NeurIPS 2021.
    .. [3] Yarowsky. "Unsupervised word sense disambiguation rivaling
       supervised methods". ACL 1995.
    .. [4] Zhou et al. "Learning with Local and Global Consistency".
       NeurIPS 2003.
    .. [5] Iscen et al. "Label Propagation for Deep Semi-supervised
       Learning". CVPR 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_moons
    >>> from skattn import AttentionSelfTrainingClassifier
    >>> X, y = make_moons(n_samples=200, noise=0.1, random_state=0)
    >>> y_partial = np.where(np.arange(200) < 20, y, -1)
    >>> clf = AttentionSelfTrainingClassifier(max_epochs=20, max_iter=2, random_state=0)
    >>> clf = clf.fit(X, y_partial)
    >>> clf.classes_
    array([0, 1])
    >>> bool((clf.labeled_iter_[:20] == 0).all())
    True
    """

    _parameter_constraints = {
        **AttentionClassifier._parameter_constraints,
        "threshold": [Interval(Real, 0.0, 1.0, closed="left")],
        "criterion": [StrOptions({"threshold", "k_best"})],
        "k_best": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left"), None],
        "epochs_per_round": [Interval(Integral, 1, None, closed="left")],
        "unlabeled_weight": [Interval(Real, 0, None, closed="left")],
        "adaptive_threshold": ["boolean"],
        "consistency_weight": [Interval(Real, 0, None, closed="left")],
        "reconstruction_weight": [Interval(Real, 0, None, closed="left")],
        "mask_probability": [Interval(Real, 0, 1, closed="neither")],
        "propagation_weight": [Interval(Real, 0, 1, closed="both")],
        "propagation_space": [StrOptions({"input", "embedding"})],
        "adaptive_propagation": ["boolean"],
        "retrieval_neighbors": [Interval(Integral, 0, None, closed="left")],
    }
    _passes_per_step = 2  # memory: labeled rows, then a strong view of as many more

    def __init__(
        self,
        *,
        d_token=32,
        n_blocks=2,
        n_heads=2,
        d_ffn_factor=4 / 3,
        attention_dropout=0.0,
        ffn_dropout=0.1,
        residual_dropout=0.0,
        attention="self",
        tokenizer="auto",
        patch_size=4,
        max_tokens="auto",
        lr=1e-3,
        weight_decay=1e-4,
        batch_size="auto",
        max_epochs="auto",
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=3,
        tol=0.01,
        device="auto",
        mixed_precision=False,
        data_parallel=False,
        random_state=None,
        verbose=0,
        warm_start=False,
        class_weight=None,
        threshold=0.75,
        criterion="threshold",
        k_best=10,
        max_iter=3,
        epochs_per_round=2,
        unlabeled_weight=1.0,
        adaptive_threshold=True,
        consistency_weight=1.0,
        reconstruction_weight=1.0,
        mask_probability=0.3,
        propagation_weight=0.5,
        propagation_space="input",
        adaptive_propagation=True,
        retrieval_neighbors=0,
    ):
        super().__init__(
            d_token=d_token,
            n_blocks=n_blocks,
            n_heads=n_heads,
            d_ffn_factor=d_ffn_factor,
            attention_dropout=attention_dropout,
            ffn_dropout=ffn_dropout,
            residual_dropout=residual_dropout,
            attention=attention,
            tokenizer=tokenizer,
            patch_size=patch_size,
            max_tokens=max_tokens,
            lr=lr,
            weight_decay=weight_decay,
            batch_size=batch_size,
            max_epochs=max_epochs,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            device=device,
            mixed_precision=mixed_precision,
            data_parallel=data_parallel,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
            class_weight=class_weight,
        )
        self.threshold = threshold
        self.criterion = criterion
        self.k_best = k_best
        self.max_iter = max_iter
        self.epochs_per_round = epochs_per_round
        self.unlabeled_weight = unlabeled_weight
        self.adaptive_threshold = adaptive_threshold
        self.consistency_weight = consistency_weight
        self.reconstruction_weight = reconstruction_weight
        self.mask_probability = mask_probability
        self.propagation_weight = propagation_weight
        self.propagation_space = propagation_space
        self.adaptive_propagation = adaptive_propagation
        self.retrieval_neighbors = retrieval_neighbors

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit on labeled rows and learn from the unlabeled ones (``y == -1``).

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            All rows, labeled or not; NaN marks a missing value.
        y : array-like of shape (n_samples,)
            Labels, -1 for unlabeled rows. String labels need an object
            array (so that -1 can sit beside them).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights; on unlabeled rows they weigh the
            row's pseudo-label.

        Returns
        -------
        self : AttentionSelfTrainingClassifier
            The fitted estimator.
        """
        X, sample_weight = self._validate_fit_input(X, y, sample_weight)
        y = column_or_1d(check_array(y, ensure_2d=False, dtype=None, input_name="y"), warn=True)
        if y.dtype.kind in "US":
            raise ValueError(
                "y has dtype string. If you wish to predict on string targets, use "
                "dtype object, and use -1 as the label for unlabeled samples."
            )
        has_label = labeled_mask(y)
        self._warn_about_pool(has_label)
        labeled_target, labeled_weight, _, d_out = self._check_targets(
            y[has_label], sample_weight[has_label]
        )
        target = np.full(len(y), -1, dtype=np.int64)
        target[has_label] = labeled_target
        sample_weight[has_label] = labeled_weight

        inputs, seed = self._prepare(X, sample_weight)
        inputs["unlabeled"] = ~has_label
        # Row numbers let retrieval keep a row from attending to itself.
        inputs["row"] = np.arange(len(y))
        train_rows, valid_rows = self._split(
            labeled_target, seed, len(target), candidates=np.flatnonzero(has_label)
        )
        train_inputs, train_target = select_rows(inputs, target, train_rows)
        valid = None if valid_rows is None else select_rows(inputs, target, valid_rows)
        self.transduction_ = y.copy()
        self.labeled_iter_ = np.where(has_label, 0, -1)
        self.pseudo_label_history_ = []
        with seeded(seed, self.device_):
            self.net_ = self._make_net(
                d_out,
                valid,
                seed,
                len(train_rows),
                reconstruction=self.reconstruction_weight > 0,
                net_class=SemiSupervisedNet,
                net_params=dict(
                    consistency_weight=self.consistency_weight,
                    reconstruction_weight=self.reconstruction_weight,
                    mask_probability=self.mask_probability,
                    class_thresholds=torch.full((d_out,), float(self.threshold)),
                ),
            )
            self.net_.fit(train_inputs, train_target)
            self.n_iter_, self.termination_condition_ = 0, None
            try:
                self._self_train(train_inputs, train_target, train_rows, sample_weight, seed)
            except KeyboardInterrupt:
                # Ctrl-C in a training phase (which the net records) or between
                # them (spreading labels, scoring the pool): the rounds done so far stand.
                self._warn_interrupted()
                self.termination_condition_ = "interrupted"
        self._set_feature_importances(inputs)
        return self

    @available_if(lambda self: self.retrieval_neighbors > 0)
    def attended_rows(self, X):
        """The training rows each prediction attended to, and how much.

        Only with ``retrieval_neighbors > 0``. The candidates are the rows
        labeled, or pseudo-labeled, at the end of ``fit`` (at most 10,000 of
        them, drawn at random above that).

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)

        Returns
        -------
        weights : ndarray of shape (n_samples, n_attended)
            Attention weights, nearest row first; each row sums to one.
            ``n_attended`` is ``retrieval_neighbors`` or the number of
            candidates if smaller.
        rows : ndarray of shape (n_samples, n_attended)
            Their positions in the ``X`` given to ``fit``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import make_moons
        >>> from skattn import AttentionSelfTrainingClassifier
        >>> X, y = make_moons(n_samples=200, noise=0.1, random_state=0)
        >>> y_partial = np.where(np.arange(200) < 20, y, -1)
        >>> clf = AttentionSelfTrainingClassifier(
        ...     retrieval_neighbors=8, max_epochs=5, max_iter=1, random_state=0
        ... ).fit(X, y_partial)
        >>> weights, rows = clf.attended_rows(X[:3])
        >>> weights.shape, rows.shape
        ((3, 8), (3, 8))
        >>> bool(np.isin(rows, np.flatnonzero(clf.labeled_iter_ >= 0)).all())
        True
        """
        check_is_fitted(self)
        embeddings = self._network_outputs(
            self.encoder_.transform(check_X(self, X, reset=False)), embed=True
        )
        retrieval = self.net_.module_.retrieval
        with torch.no_grad():
            queries = retrieval.keys(
                torch.as_tensor(embeddings, dtype=torch.float32, device=self.device_)
            )
            weights, positions = retrieval.attend(queries, retrieval.memory_keys)
        return weights.cpu().numpy(), retrieval.memory_ids[positions].cpu().numpy()

    def _module_params(self, d_out):
        return {**super()._module_params(d_out), "retrieval_neighbors": self.retrieval_neighbors}

    def _warn_about_pool(self, has_label):
        if not has_label.any():
            raise ValueError(
                "y contains no labeled samples: at least one row needs a label other than -1."
            )
        n_unlabeled = int((~has_label).sum())
        if n_unlabeled == 0:
            warnings.warn("y contains no unlabeled samples", UserWarning, stacklevel=3)
        if self.criterion == "k_best" and self.k_best > n_unlabeled:
            warnings.warn(
                "k_best is larger than the amount of unlabeled samples. All unlabeled "
                "samples will be labeled in the first iteration",
                UserWarning,
                stacklevel=3,
            )

    def _self_train(self, train_inputs, train_target, train_rows, sample_weight, seed):
        """Pseudo-label the pool round after round, continuing training each time.

        ``labeled_iter_`` is the state: -1 rows form the pool, rows > 0 carry
        pseudo-labels (in ``train_target``).
        """
        self._stop_if_interrupted()
        n_classes = len(self.classes_)
        pool = np.flatnonzero(self.labeled_iter_ == -1)
        spread, spread_weight = None, 0.0
        if self.propagation_weight > 0 and len(pool) and self.max_iter != 0:
            spread_weight = self.propagation_weight
            points = _points(train_inputs)  # once, for the trust test and the spreading
            if self.adaptive_propagation:
                self.propagation_trust_ = spreading_trust(
                    points, train_target, n_classes, seed=seed
                )
                spread_weight *= self.propagation_trust_
            if spread_weight > 0 and self.propagation_space == "input":
                spread = spread_labels(points, train_target, n_classes, seed=seed)
        # Round 1 runs even on an empty pool, so n_iter_ counts it (see Notes).
        while (len(pool) or self.n_iter_ == 0) and (
            self.max_iter is None or self.n_iter_ < self.max_iter
        ):
            pseudo_positions = np.searchsorted(train_rows, np.flatnonzero(self.labeled_iter_ > 0))
            pseudo_counts = np.bincount(
                train_target[pseudo_positions].numpy(), minlength=n_classes
            )
            proba = self._proba_of_rows(train_inputs, np.searchsorted(train_rows, pool))
            if spread_weight > 0 and self.propagation_space == "embedding":
                # The network's representation changes every round: spread anew
                # over it, from the labels and the pseudo-labels so far.
                points = self._network_outputs(train_inputs, embed=True)
                spread = spread_labels(points, train_target, n_classes, seed=seed)
            if spread is not None:
                w = spread_weight
                proba = (1 - w) * proba + w * spread[np.searchsorted(train_rows, pool)]
            self.n_iter_ += 1  # after the slow scoring, so Ctrl-C there leaves it right
            confidence, prediction = proba.max(axis=1), proba.argmax(axis=1)
            thresholds = self._class_thresholds(confidence, prediction, pseudo_counts)
            self.net_.class_thresholds = torch.as_tensor(thresholds, dtype=torch.float32)
            if self.criterion == "threshold":
                selected = np.flatnonzero(confidence > thresholds[prediction])
                if len(selected) < MIN_NEW_LABELS * len(train_rows):
                    selected = selected[:0]
            else:
                selected = np.argsort(-confidence, kind="stable")[: self.k_best]
            self.pseudo_label_history_.append(
                self._round_report(confidence[selected], prediction[selected], thresholds)
            )
            if len(selected) == 0:
                self.termination_condition_ = "no_change"
                break
            new_rows = pool[selected]
            self.transduction_[new_rows] = self.classes_[prediction[selected]]
            self.labeled_iter_[new_rows] = self.n_iter_
            train_target[np.searchsorted(train_rows, new_rows)] = torch.as_tensor(
                prediction[selected]
            )
            pseudo_rows = np.flatnonzero(self.labeled_iter_ > 0)
            weight = self.unlabeled_weight * min(1.0, self.n_iter_ / RAMPUP_ROUNDS)
            train_inputs["sample_weight"][np.searchsorted(train_rows, pseudo_rows)] = (
                torch.as_tensor(sample_weight[pseudo_rows] * weight, dtype=torch.float32)
            )
            pool = np.flatnonzero(self.labeled_iter_ == -1)
            self._announce_round(len(selected), len(pool))
            self.net_.partial_fit(train_inputs, train_target, epochs=self.epochs_per_round)
            self._stop_if_interrupted()
        if self.n_iter_ == self.max_iter:
            self.termination_condition_ = "max_iter"
        if len(pool) == 0:
            self.termination_condition_ = "all_labeled"

    def _stop_if_interrupted(self):
        # skorch ends a training phase quietly on Ctrl-C; carry it on to fit.
        if self.net_.interrupted_:
            raise KeyboardInterrupt

    def _announce_round(self, n_new, n_pool):
        """Show the round on the progress bar (``verbose=1``) or log it (``verbose>=2``)."""
        message = f"round {self.n_iter_}: +{n_new} pseudo-labels, {n_pool} rows unlabeled"
        if self.verbose >= 2:
            # Where the net logs its epochs: with data_parallel, once, not per process.
            dict(self.net_.callbacks_)["print_log"].sink(message)
        self._progress(message, self.epochs_per_round)

    def _round_report(self, confidence, prediction, thresholds):
        """One entry of ``pseudo_label_history_``: this round's new pseudo-labels."""
        counts = np.bincount(prediction, minlength=len(self.classes_))
        return {
            "round": self.n_iter_,
            "n_pseudo_labeled": len(prediction),
            "mean_confidence": float(confidence.mean()) if len(prediction) else None,
            "class_counts": dict(zip(self.classes_.tolist(), counts.tolist(), strict=True)),
            "thresholds": thresholds.tolist(),
        }

    def _proba_of_rows(self, inputs, positions):
        """Class probabilities of the given rows of the encoded training inputs."""
        if len(positions) == 0:
            return np.empty((0, len(self.classes_)))
        rows = {key: inputs[key][positions] for key in ("x_num", "x_cat")}
        return softmax(self._network_outputs(rows))

    def _class_thresholds(self, confidence, prediction, pseudo_counts):
        """Per-class confidence thresholds (FlexMatch's curriculum when adaptive).

        A class's learning effect counts the pool rows confidently predicted
        as that class plus the rows already pseudo-labeled with it, so the
        thresholds do not collapse as the pool empties.
        """
        n_classes = len(self.classes_)
        thresholds = np.full(n_classes, float(self.threshold))
        confident = pseudo_counts + np.bincount(
            prediction[confidence > self.threshold], minlength=n_classes
        )
        if not self.adaptive_threshold or confident.max(initial=0) == 0:
            return thresholds
        learning = confident / confident.max()
        return np.maximum(thresholds * learning / (2 - learning), thresholds / 2)

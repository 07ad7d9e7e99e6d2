"""Self-training inside one attention network: y == -1 marks unlabeled rows."""

import warnings
from dataclasses import replace
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import _fit_context, clone
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    column_or_1d,
)

from ._base import FitJob, labeled_mask, softmax
from ._data import check_X
from ._docstring import SELF_TRAINING_DEFAULTS, shared_docs_with
from ._registry import persistable
from ._selection import balanced_densest
from ._shift import pool_shift, shift_rows
from ._sparse import take_rows
from ._spreading import as_points, spread_labels, spreading_trust
from .supervised import AttentionClassifier
from .training import Objective, SemiSupervisedNet

__all__ = ["AttentionSelfTrainingClassifier", "spread_labels", "spreading_trust"]

# The fitted attributes of the labels-only member, and the pool rows that temper it.
MEMBER_ATTRIBUTES = (
    "labels_only_",
    "temperature_",
    "pseudo_label_trust_",
    "pool_shift_",
    "self_trained_weight_",
)
MEMBER_POOL_ROWS = 10_000
MAX_TEMPERATURE = 1e4
# The self-trained network's weight falls from 1/2 to 0 over this much AUC of
# the pool-shift test, beyond SHIFT_ERRORS standard errors above chance (where
# labels drawn at random land: on the suite's 180 splits the test's largest
# excess over 3 standard errors was 0.015).
SHIFT_MARGIN = 0.1
SHIFT_ERRORS = 3

# Pseudo-label weights grow linearly to 1 (times the row's sample_weight) over
# these rounds. A final weight of 0.5 or 2 instead was level with 1 on the
# suite (benchmarks/results/ablation_knobs_issue29.md): no knob for it.
RAMPUP_ROUNDS = 3


@persistable
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

    termination_condition_ : {"max_iter", "no_change", "all_labeled", "interrupted"}
        Why the rounds stopped, with scikit-learn's meanings: ``max_iter``
        rounds ran, a round found no row to pseudo-label (``"no_change"``),
        or no row is left unlabeled (``"all_labeled"``, also when y has none);
        ``"interrupted"`` after Ctrl-C.

    propagation_trust_ : float
        With ``adaptive_propagation``, the share of ``propagation_weight``
        that label spreading kept (see that parameter); absent otherwise.

    labels_only_ : AttentionSelfTrainingClassifier
        The labels-only member: this estimator's ``max_iter=0`` fit (the
        network on the labeled rows alone, an ensemble of 4 members as in
        :class:`AttentionClassifier`). ``predict_proba`` averages its
        probabilities with the self-trained network's. Absent when no
        round ran on unlabeled rows (``max_iter=0``, a y without -1, or
        Ctrl-C).

    pool_shift_ : float
        How well a linear model tells the unlabeled rows from the labeled
        ones: its cross-validated ROC AUC (up to 2,000 rows of each kind).
        About 0.5, or below with few labels, when the labels were drawn at
        random; towards 1 when the unlabeled rows come from elsewhere.
        Absent with ``labels_only_``.

    self_trained_weight_ : float
        The self-trained network's weight in ``predict_proba``, the
        labels-only member having the rest: 0.5, falling linearly to 0 as
        ``pool_shift_`` rises from 3 standard errors above 0.5 (chance) to
        0.1 more. Absent with ``labels_only_``.

    temperature_ : float
        The temperature (at least 1) that divides the self-trained
        network's logits in ``predict_proba``: its mean top probability on
        the unlabeled rows then equals the labels-only member's, so the
        network that learned from its own pseudo-labels does not outvote the
        labels alone by being more confident. Absent with ``labels_only_``.

    pseudo_label_trust_ : float
        How far the unlabeled rows were trusted: of the unlabeled rows on
        which the two members disagree, the share whose prediction follows
        the self-trained network (1 when they never disagree; about 0.5 is
        an even split; towards 0 the prediction backs off to the labels-only
        fit). Up to 10,000 unlabeled rows, evenly spaced, measure it and
        ``temperature_``. Absent with ``labels_only_``.

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
    ``min(1, k / 3)`` in round k), ``L_cons`` asks the
    prediction on a strong view (a share ``mask_probability`` of the features
    hidden) to match the confident prediction on a weak view (small noise),
    and ``L_rec`` asks the strong view's tokens to reconstruct the hidden
    values. With ``adaptive_threshold``, class c's threshold is
    ``threshold * M(b_c)``, ``M(b) = b / (2 - b)``, never below halfway
    between chance (``1 / n_classes``) and the threshold, where ``b_c`` is
    the number of pool rows confidently predicted as c over that of the most
    confident class (FlexMatch). The rows above their class's threshold
    are shared out among the classes in proportion to the labeled rows
    (class-balanced quotas), and a class takes its quota densest first:
    ranked by confidence times the row's Gaussian kernel density among
    the class's labeled rows, relative to the densest (CAST [7]_), so a
    confident row far from every label of its class waits for a later
    round.
    The confidence of a pool row is the largest of its mixed class scores
    ``(1 - w) * p_network + w * p_spreading`` with ``w =
    propagation_weight``, where ``p_spreading`` comes from label spreading
    [4]_ of the given labels over a k-NN graph of the inputs (the graph
    finds clusters, the network corrects it, in the spirit of [5]_).

    Unlabeled rows can mislead: pseudo-labels confirm the network's own
    mistakes, and rows from another distribution pull its boundary. So the
    prediction is that of two members, as
    ``w * softmax(z / T) + (1 - w) * p_labels``: the self-trained
    network's logits ``z`` tempered by ``T`` (``temperature_``) and the
    probabilities ``p_labels`` of the same network fitted on the labeled
    rows alone (``labels_only_``, the ensemble of 4 members of
    :class:`AttentionClassifier`; about 8%% of the fit time on the
    benchmark suite). The weight ``w`` (``self_trained_weight_``) is 1/2
    unless a linear model can tell the unlabeled rows from the labeled
    ones (``pool_shift_``, a classifier two-sample test [6]_); then the
    unlabeled rows come from elsewhere, and ``w`` falls to 0: the
    labels-only fit. On the benchmark suite, whose labels are drawn at
    random, it stayed 1/2 on 178 of 180 splits and changed no prediction.
    On the suite (17 sets and ``motif60``, 5 splits), the
    self-trained network alone was more than 1 point below the labels-only
    fit on 7 of 36 (dataset, fraction) cells; with the member, on 2 (pima
    and tic-tac-toe at 1%% labels, by 1.9 and 2.9 points), and the mean
    test accuracy is 69.17%% at 1%% labels and 77.92%% at 10%% (the network
    alone: 68.63%% and 77.06%%).
    Explanations (``explain``, ``attention_maps``,
    ``feature_importances_``) are the self-trained network's.

    As in scikit-learn's ``SelfTrainingClassifier``, ``max_iter=0`` fits
    the network on the labeled rows alone: the model of
    :class:`AttentionClassifier` fitted on them, the baseline self-training
    has to beat, trained with this estimator's budget (``max_epochs``,
    ``n_iter_no_change``, ``tol``), which stops sooner than
    :class:`AttentionClassifier`'s (``large26``, 26 classes, 1,504 labels:
    76.1%% against ``AttentionClassifier()``'s 80.4%%). A y without
    unlabeled rows gets the same supervised fit, with ``n_iter_ = 0``.

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
    .. [6] Lopez-Paz and Oquab. "Revisiting Classifier Two-Sample Tests".
       ICLR 2017.
    .. [7] Kim et al. "CAST: Cluster-Aware Self-Training for Tabular Data
       via Reliable Confidence". arXiv:2310.06380, 2024.

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
        "adaptive_threshold": ["boolean"],
        "consistency_weight": [Interval(Real, 0, None, closed="left")],
        "reconstruction_weight": [Interval(Real, 0, None, closed="left")],
        "mask_probability": [Interval(Real, 0, 1, closed="neither")],
        "propagation_weight": [Interval(Real, 0, 1, closed="both")],
        "adaptive_propagation": ["boolean"],
    }
    # Fully labeled y is a mistake here (there is nothing to self-train on).
    _warns_without_unlabeled_rows = True

    def __init__(
        self,
        *,
        d_token=32,
        n_blocks=2,
        n_heads=2,
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
        adaptive_threshold=True,
        consistency_weight=1.0,
        reconstruction_weight=1.0,
        mask_probability=0.3,
        propagation_weight=0.5,
        adaptive_propagation=True,
    ):
        super().__init__(
            d_token=d_token,
            n_blocks=n_blocks,
            n_heads=n_heads,
            d_ffn_factor=d_ffn_factor,
            ffn_dropout=ffn_dropout,
            attention=attention,
            tokenizer=tokenizer,
            patch_size=patch_size,
            max_tokens=max_tokens,
            onehot_blocks=onehot_blocks,
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
        self.adaptive_threshold = adaptive_threshold
        self.consistency_weight = consistency_weight
        self.reconstruction_weight = reconstruction_weight
        self.mask_probability = mask_probability
        self.propagation_weight = propagation_weight
        self.adaptive_propagation = adaptive_propagation

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
        for name in MEMBER_ATTRIBUTES:  # an earlier fit's
            self.__dict__.pop(name, None)
        if self.max_iter == 0:
            return self._fit_labels_only(X, y, sample_weight)
        self._fit(X, y, sample_weight)
        self._add_labels_only_member(X, y, sample_weight)
        return self

    def _fit_labels_only(self, X, y, sample_weight):
        # As scikit-learn's SelfTrainingClassifier(max_iter=0): the network fitted
        # on the labeled rows alone, column statistics included (measured on the
        # suite: with every row's statistics, 1.0 point less accurate at 1%
        # labels; a column constant on the few labels stays out of the fit).
        y = _check_partial_y(y)
        check_consistent_length(X, y, sample_weight)
        has_label = labeled_mask(y)
        self._warn_about_pool(has_label)
        rows = np.flatnonzero(has_label)
        weight = None if sample_weight is None else _safe_indexing(sample_weight, rows)
        self._fit(_safe_indexing(X, rows), y[rows], weight)
        self.transduction_ = y.copy()
        self.labeled_iter_ = np.where(has_label, 0, -1)
        return self

    def _add_labels_only_member(self, X, y, sample_weight):
        """Fit the labels-only network and temper this one to its confidence.

        The self-trained network has learned from its own pseudo-labels, so
        it is more confident than it is right; tempered to the confidence of
        the labels-only network on the unlabeled rows, neither outvotes the
        other when they disagree. No member after Ctrl-C, or without
        unlabeled rows (the fit is the labels-only one already).
        """
        pool = np.flatnonzero(self.labeled_iter_ != 0)
        if len(pool) == 0 or self.termination_condition_ == "interrupted":
            return
        if sp.issparse(X):  # COO and DIA matrices cannot take rows
            X = X.tocsr()
        member = clone(self).set_params(max_iter=0, warm_start=False)
        member.fit(X, y, sample_weight)
        # Evenly spaced pool rows: enough for a mean confidence, bounded on a huge pool.
        pool = pool[np.linspace(0, len(pool) - 1, min(len(pool), MEMBER_POOL_ROWS)).astype(int)]
        rows = _safe_indexing(X, pool)
        logits, labels_only = self._forward(rows), member.predict_proba(rows)
        self.temperature_ = _temperature(logits, labels_only.max(axis=1).mean())
        self.labels_only_ = member
        # Only the rows the test compares are encoded again, so a large table costs no more.
        labeled = labeled_mask(_check_partial_y(y))
        compared = np.sort(np.concatenate(shift_rows(labeled)))
        encoded = self.encoder_.transform(check_X(self, _safe_indexing(X, compared), reset=False))
        self.pool_shift_, standard_error = pool_shift(as_points(encoded), labeled[compared])
        excess = self.pool_shift_ - 0.5 - SHIFT_ERRORS * standard_error
        self.self_trained_weight_ = 0.5 * float(np.clip(1 - excess / SHIFT_MARGIN, 0, 1))
        mine = logits.argmax(axis=1)
        disagree = mine != labels_only.argmax(axis=1)
        combined = self._combine(logits, labels_only).argmax(axis=1)
        self.pseudo_label_trust_ = (
            float(np.mean(combined[disagree] == mine[disagree])) if disagree.any() else 1.0
        )

    def predict_proba(self, X):
        """Class probabilities of X.

        With a labels-only member (``labels_only_``), the mean of its
        probabilities and of this network's, tempered by ``temperature_``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), float64
            Columns follow ``classes_``; each row sums to one.
        """
        member = getattr(self, "labels_only_", None)
        if member is None:
            return super().predict_proba(X)
        return self._combine(self._forward(X), member.predict_proba(X))

    def _combine(self, logits, labels_only):
        return combine_members(logits, self.temperature_, labels_only, self.self_trained_weight_)

    def _job(self, X, y, sample_weight):
        y = _check_partial_y(y)
        has_label = labeled_mask(y)
        if self.max_iter != 0 or not has_label.all():  # else fit checked the pool
            self._warn_about_pool(has_label)
        if has_label.all():
            # Nothing unlabeled to learn from: the supervised fit, as scikit-learn's
            # SelfTrainingClassifier fits its estimator on the labels alone.
            return replace(
                super()._job(X, y, sample_weight),
                rounds=_Rounds(self, y, sample_weight, labels_only=True),
            )
        labeled_target, labeled_weight = self._class_targets(
            y[has_label], sample_weight[has_label]
        )
        target = np.full(len(y), -1, dtype=np.int64)
        target[has_label] = labeled_target
        sample_weight[has_label] = labeled_weight
        rounds = _Rounds(self, y, sample_weight)
        return FitJob(
            target=target,
            sample_weight=sample_weight,
            d_out=len(self.classes_),
            objective=Objective(
                SemiSupervisedNet,
                torch.nn.CrossEntropyLoss,
                params=dict(
                    consistency_weight=self.consistency_weight,
                    reconstruction_weight=self.reconstruction_weight,
                    mask_probability=self.mask_probability,
                    class_thresholds=rounds.thresholds,
                    class_prior=_class_prior(labeled_target, len(self.classes_)),
                ),
                reconstruction=self.reconstruction_weight > 0,
            ),
            # Early stopping holds out labeled rows only.
            validation_rows=np.flatnonzero(has_label),
            stratify=labeled_target,
            # Row numbers: the rounds map training positions back to rows.
            inputs={"unlabeled": ~has_label, "row": np.arange(len(y))},
            passes_per_step=2,  # memory: labeled rows, then a strong view of as many more
            rounds=rounds,
        )

    def _warn_about_pool(self, has_label):
        if not has_label.any():
            raise ValueError(
                "y contains no labeled samples: at least one row needs a label other than -1."
            )
        n_unlabeled = int((~has_label).sum())
        if n_unlabeled == 0 and not self._warns_without_unlabeled_rows:
            return
        if n_unlabeled == 0:
            warnings.warn("y contains no unlabeled samples", UserWarning, stacklevel=5)
        if self.criterion == "k_best" and self.k_best > n_unlabeled:
            warnings.warn(
                "k_best is larger than the amount of unlabeled samples. All unlabeled "
                "samples will be labeled in the first iteration",
                UserWarning,
                stacklevel=5,
            )


def combine_members(logits, temperature, labels_only, weight):
    """The two members' prediction: the self-trained network's logits tempered by
    ``temperature`` with weight ``weight``, the labels-only probabilities with the rest."""
    return weight * softmax(logits / temperature) + (1 - weight) * labels_only


def _temperature(logits, confidence):
    """The temperature ``T >= 1`` at which ``softmax(logits / T)`` has mean top probability
    ``confidence`` (1 when the logits are no more confident than that)."""

    def mean_top(log_t):
        return softmax(logits / np.exp(log_t)).max(axis=1).mean()

    low, high = 0.0, np.log(MAX_TEMPERATURE)
    if mean_top(low) <= confidence:
        return 1.0
    if mean_top(high) > confidence:
        return MAX_TEMPERATURE
    for _ in range(40):  # bisection in log T: the mean top probability falls as T grows
        middle = (low + high) / 2
        low, high = (middle, high) if mean_top(middle) > confidence else (low, middle)
    return float(np.exp(high))


def _check_partial_y(y):
    """y as a 1-D array, refusing string dtypes (which cannot hold -1 beside the labels)."""
    y = column_or_1d(check_array(y, ensure_2d=False, dtype=None, input_name="y"), warn=True)
    if y.dtype.kind in "US":
        raise ValueError(
            "y has dtype string. If you wish to predict on string targets, use "
            "dtype object, and use -1 as the label for unlabeled samples."
        )
    return y


def _class_prior(target, n_classes):
    """Class shares of the labeled rows: the tensor that consistency aligns to."""
    counts = np.bincount(target, minlength=n_classes)
    return torch.as_tensor(counts / counts.sum(), dtype=torch.float32)


class _Rounds:
    """Self-training's rounds and all their state, in training positions.

    Declared by :meth:`AttentionSelfTrainingClassifier._job` and run by the
    base's fit after the first training phase: :meth:`run` pseudo-labels the
    pool and trains on, round after round; :meth:`finish` sets the fitted
    attributes. ``thresholds`` is the tensor of per-class confidence
    thresholds that the net's consistency loss reads; each round updates it
    in place.
    """

    def __init__(self, estimator, y, sample_weight, *, labels_only=False):
        self.estimator = estimator
        self.labels_only = labels_only  # no round runs: nothing is unlabeled
        self.y = y
        self.sample_weight = sample_weight  # of every row, float64
        self.thresholds = torch.full((len(estimator.classes_),), float(estimator.threshold))
        self.n_iter, self.termination, self.trust = 0, None, None
        self.history = []
        self.rows = self.labeled_iter = self.target = None

    def run(self, net, X, y):
        """Pseudo-label the pool round after round, training on after each; yield per round.

        ``X`` and ``y`` are the training rows (``X["row"]``: their row
        numbers); pseudo-labels go into ``y`` and their weights into
        ``X["sample_weight"]``, in place.
        """
        if self.labels_only:
            return
        estimator, seed = self.estimator, net.random_state
        n_classes = len(estimator.classes_)
        self.rows, self.target = X["row"].numpy(), y
        # Per training position: 0 for a given label, k for a pseudo-label of round k, -1 for none.
        self.labeled_iter = np.where(y.numpy() >= 0, 0, -1)
        weights = self.sample_weight[self.rows]
        pool = np.flatnonzero(self.labeled_iter == -1)
        given = np.flatnonzero(self.labeled_iter == 0)
        spread, spread_weight = None, 0.0
        learns = len(pool) > 0 and estimator.max_iter != 0
        # Once, for the choice of pseudo-labels, the trust test and the spreading.
        points = as_points(X) if learns else None
        if learns and estimator.propagation_weight > 0:
            spread_weight = estimator.propagation_weight
            if estimator.adaptive_propagation:
                self.trust = spreading_trust(points, y, n_classes, seed=seed)
                spread_weight *= self.trust
            if spread_weight > 0:
                spread = spread_labels(points, y, n_classes, seed=seed)
        while len(pool) and (estimator.max_iter is None or self.n_iter < estimator.max_iter):
            pseudo_counts = np.bincount(y[self.labeled_iter > 0].numpy(), minlength=n_classes)
            proba = self._proba(X, pool)
            if spread is not None:
                proba = (1 - spread_weight) * proba + spread_weight * spread[pool]
            self.n_iter += 1  # after the slow scoring, so Ctrl-C there leaves it right
            confidence, prediction = proba.max(axis=1), proba.argmax(axis=1)
            thresholds = self._class_thresholds(confidence, prediction, pseudo_counts)
            self.thresholds.copy_(torch.as_tensor(thresholds))
            if estimator.criterion == "threshold":
                passed = np.flatnonzero(confidence > thresholds[prediction])
                selected = passed[
                    balanced_densest(
                        points,
                        candidates=pool[passed],
                        confidence=confidence[passed],
                        prediction=prediction[passed],
                        labeled=given,
                        labels=y[given].numpy(),
                        n_classes=n_classes,
                        seed=seed,
                    )
                ]
            else:
                selected = np.argsort(-confidence, kind="stable")[: estimator.k_best]
            self.history.append(
                self._report(confidence[selected], prediction[selected], thresholds)
            )
            if len(selected) == 0:
                self.termination = "no_change"
                break
            new = pool[selected]
            self.labeled_iter[new] = self.n_iter
            y[new] = torch.as_tensor(prediction[selected])
            pseudo = np.flatnonzero(self.labeled_iter > 0)
            weight = min(1.0, self.n_iter / RAMPUP_ROUNDS)
            X["sample_weight"][pseudo] = torch.as_tensor(
                weights[pseudo] * weight, dtype=torch.float32
            )
            pool = np.flatnonzero(self.labeled_iter == -1)
            if estimator.verbose:
                print(f"End of iteration {self.n_iter}, added {len(selected)} new labels.")
            net.announce(
                f"round {self.n_iter}: +{len(selected)} pseudo-labels, {len(pool)} rows unlabeled",
                estimator.epochs_per_round,
            )
            net.partial_fit(X, y, epochs=estimator.epochs_per_round)
            yield
        if self.n_iter == estimator.max_iter:
            self.termination = "max_iter"
        if len(pool) == 0:
            self.termination = "all_labeled"

    def finish(self, estimator, interrupted):
        """Set the fitted attributes of the rounds (those run so far, if interrupted)."""
        estimator.n_iter_ = self.n_iter
        if self.labels_only:
            self.termination = "max_iter" if estimator.max_iter == 0 else "all_labeled"
        estimator.termination_condition_ = "interrupted" if interrupted else self.termination
        estimator.pseudo_label_history_ = self.history
        estimator.transduction_ = self.y.copy()
        estimator.labeled_iter_ = np.where(labeled_mask(self.y), 0, -1)
        if self.trust is not None:
            estimator.propagation_trust_ = self.trust
        if self.labeled_iter is None:  # no round ran
            return
        pseudo = self.labeled_iter > 0
        estimator.labeled_iter_[self.rows[pseudo]] = self.labeled_iter[pseudo]
        estimator.transduction_[self.rows[pseudo]] = estimator.classes_[
            self.target[pseudo].numpy()
        ]

    def _proba(self, X, positions):
        """Class probabilities of the given training positions."""
        if len(positions) == 0:
            return np.empty((0, len(self.estimator.classes_)))
        rows = {key: take_rows(X[key], positions) for key in ("x_num", "x_cat")}
        return softmax(self.estimator._network_outputs(rows))

    def _class_thresholds(self, confidence, prediction, pseudo_counts):
        """Per-class confidence thresholds (FlexMatch's curriculum when adaptive).

        A class's learning effect counts the pool rows confidently predicted
        as that class plus the rows already pseudo-labeled with it, so the
        thresholds do not collapse as the pool empties.
        """
        estimator = self.estimator
        n_classes = len(estimator.classes_)
        thresholds = np.full(n_classes, float(estimator.threshold))
        confident = pseudo_counts + np.bincount(
            prediction[confidence > estimator.threshold], minlength=n_classes
        )
        if not estimator.adaptive_threshold or confident.max(initial=0) == 0:
            return thresholds
        learning = confident / confident.max()
        # Never below halfway from chance (1 / n_classes) to the threshold: a
        # floor at threshold / 2 (0.375 for 0.75) is chance itself with 3
        # classes and below it with 2, where flat predictions pass it.
        floor = np.minimum(thresholds, (thresholds + 1 / n_classes) / 2)
        return np.maximum(thresholds * learning / (2 - learning), floor)

    def _report(self, confidence, prediction, thresholds):
        """One entry of ``pseudo_label_history_``: this round's new pseudo-labels."""
        classes = self.estimator.classes_
        counts = np.bincount(prediction, minlength=len(classes))
        return {
            "round": self.n_iter,
            "n_pseudo_labeled": len(prediction),
            "mean_confidence": float(confidence.mean()) if len(prediction) else None,
            "class_counts": dict(zip(classes.tolist(), counts.tolist(), strict=True)),
            "thresholds": thresholds.tolist(),
        }

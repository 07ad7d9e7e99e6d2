"""Supervised attention estimators: the base every other estimator builds on."""

import numpy as np
import pandas as pd
import torch
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.utils import compute_sample_weight
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, column_or_1d

from ._base import BaseAttentionEstimator, FitJob, softmax
from ._data import check_numeric
from ._docstring import shared_docs, shared_docs_with
from ._registry import persistable
from ._scaling import weighted_mean_and_scale
from .inspection import ExplainMixin
from .training import Objective, TabularNet


def _check_label_types(y):
    """Refuse missing labels, labels of mixed types and numbers in an object array.

    scikit-learn calls ``[1, "a"]`` and an object array of numbers "Unknown
    label type" and suggests a regression target, and ``["a", None]``
    reaches a NumPy sort that fails.
    """
    if y.dtype != object:
        return
    if pd.isna(y).any():
        raise ValueError(
            "y contains missing labels (None or NaN): every row needs a label "
            "(the semi-supervised estimators take -1 for a row without one)."
        )
    types = set(map(type, y))
    names = sorted(kind.__name__ for kind in types)
    strings = {kind for kind in types if issubclass(kind, str)}
    if strings and strings != types:
        raise ValueError(
            f"y mixes labels of types {names}, which cannot be compared: use labels "
            "of one type (all strings or all numbers)."
        )
    if types and not strings:
        raise ValueError(
            f"Unknown label type: y is an object array of {names}, but labels in an "
            "object array must be strings; pass numbers in a numeric array "
            "(e.g. y.astype(int))."
        )


def check_regression_target(y, *, allow_nan=False):
    """Validate a regression target into a float64 vector (NaN only if allowed)."""
    check_numeric(
        y, input_name="y", advice="a regressor needs numbers; for class labels use a classifier."
    )
    y = check_array(
        y,
        ensure_2d=False,
        dtype=np.float64,
        ensure_all_finite="allow-nan" if allow_nan else True,
        input_name="y",
    )
    return column_or_1d(y, warn=True)


# The classifier's network is an ensemble of this many members sharing one
# encoder (skattn.nn.Members). On the labeled rows of the public suite and
# motif60, 5 splits (benchmarks/results/members_issue29.md): 66.85 and
# 76.35 at 1% and 10% labels against 65.42 and 75.00 for one network, for
# 2.1x and 2.9x its CPU time. Not measured for regression: the regressor
# keeps one network.
ENSEMBLE_MEMBERS = 4


@persistable
@shared_docs_with(
    n_heads=2,
    n_heads_doc="Two, not four: on the benchmark suite (17 sets, ``motif60`` and\n"
    "        ``large26``, 5 splits, on the labels) two heads were level, -0.04 +- 0.17\n"
    "        points at 1% labels and -0.03 +- 0.20 at 10%, in 0.81x and 0.78x the CPU\n"
    "        time (``benchmarks/results/ac_heads_issue29.md``).",
)
class AttentionClassifier(ExplainMixin, ClassifierMixin, BaseAttentionEstimator):
    """Attention network classifier for tables (FT-Transformer style).

    Every column becomes a token: numeric values scale a learned embedding,
    categories look one up, and a missing value (NaN) has an embedding of its
    own. Transformer blocks let the tokens attend to each other, and a head
    on the CLS token predicts the class. Numeric columns are standardised
    inside the estimator, so no scaler is needed in front of it; categorical
    columns (``category``, ``object`` or string dtype in a DataFrame) need no
    encoding either, and a category unseen in fit is read as "unknown".

    The network is an ensemble of 4 members that share the transformer
    blocks (as TabM): each member scales the tokens by its own random signs
    and reads the CLS token with its own head, each learns from its own
    loss, and predictions are the softmax of the members' mean logits. On
    few labels the members average out much of the variance of one
    network: on the public suite with 1%% of the labels, 66.85%% test
    accuracy against 65.42%% for one network (10%%: 76.35 against 75.00),
    for 2-3 times its fit time.

    Parameters
    ----------
    %(network_parameters)s

    %(training_parameters)s

    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``.
        ``"balanced"`` weighs each class inversely to its frequency: for
        when the rare classes matter more than accuracy, as in
        scikit-learn. For accuracy it does not pay: -0.80 +- 0.64 points
        at 1%% labels (one titanic split -22) and -0.03 +- 0.23 at 10%% on
        a 2-split screen of the benchmark suite, whose labels keep each
        class's share (``benchmarks/results/ablation_knobs_issue29.md``).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.

    %(explained_attributes)s

    %(fitted_attributes)s

    See Also
    --------
    AttentionRegressor : The same network for regression.
    sklearn.neural_network.MLPClassifier : A multi-layer perceptron.

    Notes
    -----
    The network minimises the weighted cross-entropy
    ``L = sum_i w_i * CE(f(x_i), y_i) / sum_i w_i`` over each mini-batch with
    AdamW, where ``w_i`` is the sample weight times the class weight.

    References
    ----------
    .. [1] Gorishniy, Rubachev, Khrulkov, Babenko. "Revisiting Deep Learning
       Models for Tabular Data". NeurIPS 2021.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from skattn import AttentionClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = AttentionClassifier(max_epochs=20, random_state=0).fit(X, y)
    >>> clf.predict(X[:3])
    array([0, 0, 0])
    >>> round(clf.score(X, y), 2) > 0.9
    True
    """

    _parameter_constraints = {
        **BaseAttentionEstimator._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

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
        class_weight=None,
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
        )
        self.class_weight = class_weight

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to labeled rows.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Training data; NaN marks a missing value.
        y : array-like of shape (n_samples,)
            Class labels (ints, strings or any scikit-learn labels).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights.

        Returns
        -------
        self : AttentionClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    def _job(self, X, y, sample_weight):
        target, sample_weight = self._class_targets(y, sample_weight)
        return FitJob(
            target=target,
            sample_weight=sample_weight,
            d_out=len(self.classes_),
            objective=Objective(TabularNet, torch.nn.CrossEntropyLoss),
            stratify=target,
            module_params={"n_members": ENSEMBLE_MEMBERS},
        )

    def _class_targets(self, y, sample_weight):
        """Validate class labels: ``(class indices, sample_weight with class weights)``."""
        y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
        y = column_or_1d(y, warn=True)
        _check_label_types(y)
        check_classification_targets(y)
        classes, target = np.unique(y, return_inverse=True)
        if self._warm() and not np.array_equal(classes, self.classes_):
            raise ValueError(
                "warm_start=True continues a fit, so y needs the same classes as the "
                f"previous fit: it had {self.classes_.tolist()}, y has {classes.tolist()}. "
                "Set warm_start=False to start anew."
            )
        self.classes_ = classes
        if self.class_weight is not None:
            sample_weight = sample_weight * compute_sample_weight(self.class_weight, y)
        weighted_classes = np.unique(target[sample_weight > 0])
        if len(weighted_classes) < 2:
            found = [f"only one class: {c!r}" for c in self.classes_[weighted_classes].tolist()]
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes with positive "
                "weight in the data, but the data contains "
                f"{found[0] if found else 'no labeled row of positive weight'}."
            )
        return target.astype(np.int64), sample_weight

    def predict_proba(self, X):
        """Class probabilities of X.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), float64
            Columns follow ``classes_``; each row sums to one.
        """
        return softmax(self._forward(X))

    def predict(self, X):
        """Most probable class of each row of X.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        # Of predict_proba, so that an estimator that overrides it (self-training
        # averages two networks) predicts what its probabilities say.
        proba = self.predict_proba(X)  # first: it checks that the model is fitted
        return self.classes_[np.argmax(proba, axis=1)]


@persistable
@shared_docs
class AttentionRegressor(ExplainMixin, RegressorMixin, BaseAttentionEstimator):
    """Attention network regressor for tables (FT-Transformer style).

    The same network as :class:`AttentionClassifier` with one output. The
    target is standardised inside the estimator, so its scale does not
    matter.

    Parameters
    ----------
    %(network_parameters)s

    %(training_parameters)s

    Attributes
    ----------
    %(explained_attributes)s

    %(fitted_attributes)s

    See Also
    --------
    AttentionClassifier : The same network for classification.
    sklearn.neural_network.MLPRegressor : A multi-layer perceptron.

    Notes
    -----
    The network minimises the weighted squared error of the standardised
    target, ``L = sum_i w_i (f(x_i) - (y_i - m) / s)^2 / sum_i w_i``, where
    ``m`` and ``s`` are the weighted mean and standard deviation of y.

    References
    ----------
    .. [1] Gorishniy, Rubachev, Khrulkov, Babenko. "Revisiting Deep Learning
       Models for Tabular Data". NeurIPS 2021.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skattn import AttentionRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = AttentionRegressor(max_epochs=30, random_state=0).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    >>> round(reg.score(X, y), 1) > 0.3
    True
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Training data; NaN marks a missing value.
        y : array-like of shape (n_samples,)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights.

        Returns
        -------
        self : AttentionRegressor
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    def _job(self, X, y, sample_weight):
        y = check_regression_target(y)
        if not self._warm():  # the fitted weights predict on the old scale
            mean, scale = weighted_mean_and_scale(y[:, None], sample_weight)
            self.y_mean_, self.y_scale_ = float(mean[0]), float(scale[0])
        target = ((y - self.y_mean_) / self.y_scale_).astype(np.float32)[:, None]
        return FitJob(
            target=target,
            sample_weight=sample_weight,
            d_out=1,
            objective=Objective(TabularNet, torch.nn.MSELoss),
        )

    def predict(self, X):
        """Predict the target of each row of X.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,), float64
        """
        return self._forward(X)[:, 0] * self.y_scale_ + self.y_mean_

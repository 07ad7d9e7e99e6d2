"""Helpers for checking skattn estimators against scikit-learn's contract."""

from ._registry import ESTIMATORS
from .pretraining import MaskedAttentionPretrainer
from .self_training import AttentionSelfTrainingClassifier

_SAMPLE_WEIGHT_REASON = (
    "Mini-batch stochastic training cannot make a weight of 2 exactly equal to a "
    "repeated row (scikit-learn expects the same failure of its SGD-trained "
    "estimators). skattn's tests/test_supervised.py tests what sample_weight means "
    "instead: rows of weight 0 do not influence the fit "
    "(test_zero_weight_rows_do_not_influence_the_fit), and heavily weighted rows "
    "dominate it (test_heavily_weighted_class_dominates)."
)

_MINUS_ONE_REASON = (
    "The check trains on the labels [-1, 1], but -1 marks an unlabeled row, as in "
    "scikit-learn's semi-supervised estimators (which the check exempts by name). "
    "skattn's tests/test_self_training.py tests the -1 semantics instead "
    "(test_fitted_attributes_follow_scikit_learn, "
    "test_matches_scikit_learn_warnings_and_errors)."
)

_N_ITER_REASON = (
    "The check fits on fully labeled data, where there is nothing to self-train on: "
    "n_iter_ (the pseudo-labeling rounds) is 0, as for scikit-learn's "
    "SelfTrainingClassifier, which scikit-learn declares to fail this check with "
    "'n_iter_ can be 0.'. skattn's tests/test_self_training_sklearn.py tests it "
    "(test_no_unlabeled, test_zero_iterations)."
)


def expected_failed_checks(estimator):
    """The scikit-learn checks a skattn estimator is declared to fail, with why.

    Pass the result to scikit-learn's
    :func:`~sklearn.utils.estimator_checks.check_estimator` or
    :func:`~sklearn.utils.estimator_checks.parametrize_with_checks` as
    ``expected_failed_checks``: these checks are then reported as expected
    failures instead of errors. Three checks (one of them in its dense and
    sparse forms) are declared, and no others:

    - ``check_sample_weight_equivalence_on_dense_data`` and its sparse twin
      ``check_sample_weight_equivalence_on_sparse_data``, for every
      estimator that takes ``sample_weight`` (all but
      :class:`~skattn.MaskedAttentionPretrainer`): they ask that a weight
      of 2 equal a repeated row exactly, which mini-batch stochastic
      training cannot promise.
    - ``check_classifiers_classes``, for
      :class:`~skattn.AttentionSelfTrainingClassifier` and
      :class:`~skattn.FineTuneClassifier`: it trains on the labels
      ``[-1, 1]``, and for them -1 marks an unlabeled row.
    - ``check_non_transformer_estimators_n_iter``, for the same two: it
      fits fully labeled data, where they run no pseudo-labeling round and
      report ``n_iter_ = 0``, as scikit-learn's ``SelfTrainingClassifier``
      does (and declares for itself).

    Each reason says which of skattn's tests checks the behaviour instead.

    Parameters
    ----------
    estimator : estimator instance
        An instance of one of skattn's estimators (or of a subclass), as
        scikit-learn's checks pass it; it need not be fitted.

    Returns
    -------
    expected_failed_checks : dict of str to str
        The name of each check the estimator is declared to fail, mapped to
        the reason.

    Raises
    ------
    TypeError
        If ``estimator`` is not an instance of a skattn estimator (a class,
        or another library's estimator): skattn declares nothing for it.

    See Also
    --------
    sklearn.utils.estimator_checks.check_estimator : Check an estimator
        against scikit-learn's contract.

    Examples
    --------
    >>> from skattn import AttentionClassifier, AttentionSelfTrainingClassifier
    >>> from skattn.utils import expected_failed_checks
    >>> sorted(expected_failed_checks(AttentionClassifier()))  # doctest: +NORMALIZE_WHITESPACE
    ['check_sample_weight_equivalence_on_dense_data',
     'check_sample_weight_equivalence_on_sparse_data']
    >>> sorted(expected_failed_checks(AttentionSelfTrainingClassifier()))[0]
    'check_classifiers_classes'

    Checking an estimator takes a few minutes on a CPU:

    >>> from sklearn.utils.estimator_checks import check_estimator
    >>> clf = AttentionClassifier(max_epochs=5)
    >>> check_estimator(
    ...     clf, expected_failed_checks=expected_failed_checks(clf)
    ... )  # doctest: +SKIP
    """
    # Every estimator registers itself when the package is imported.
    public = tuple(ESTIMATORS.values())
    if not isinstance(estimator, public):
        if isinstance(estimator, type) and issubclass(estimator, public):
            raise TypeError(
                "expected_failed_checks takes an estimator instance, such as "
                f"{estimator.__name__}(), not the class {estimator.__name__}."
            )
        raise TypeError(
            "expected_failed_checks takes an instance of a skattn estimator ("
            + ", ".join(ESTIMATORS)
            + f"); got {type(estimator).__name__}, for which skattn declares nothing."
        )
    expected = {}
    if not isinstance(estimator, MaskedAttentionPretrainer):
        for layout in ("dense", "sparse"):
            expected[f"check_sample_weight_equivalence_on_{layout}_data"] = _SAMPLE_WEIGHT_REASON
    if isinstance(estimator, AttentionSelfTrainingClassifier):
        expected["check_classifiers_classes"] = _MINUS_ONE_REASON
        expected["check_non_transformer_estimators_n_iter"] = _N_ITER_REASON
    return expected

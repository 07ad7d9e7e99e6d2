"""What users rely on from skattn.utils: the checks to pass to check_estimator."""

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils import estimator_checks

from skattn import (
    AttentionClassifier,
    AttentionRegressor,
    AttentionSelfTrainingClassifier,
    FineTuneClassifier,
    FineTuneRegressor,
    MaskedAttentionPretrainer,
)
from skattn.utils import expected_failed_checks

# The dense check and its sparse twin, for the same reason.
SAMPLE_WEIGHT = {
    "check_sample_weight_equivalence_on_dense_data",
    "check_sample_weight_equivalence_on_sparse_data",
}
MINUS_ONE = "check_classifiers_classes"
# Fully labeled y: no pseudo-labeling round, n_iter_ = 0, as scikit-learn's.
N_ITER = "check_non_transformer_estimators_n_iter"

DECLARED = {
    AttentionClassifier: SAMPLE_WEIGHT,
    AttentionRegressor: SAMPLE_WEIGHT,
    AttentionSelfTrainingClassifier: {*SAMPLE_WEIGHT, MINUS_ONE, N_ITER},
    FineTuneClassifier: {*SAMPLE_WEIGHT, MINUS_ONE, N_ITER},
    FineTuneRegressor: SAMPLE_WEIGHT,
    MaskedAttentionPretrainer: set(),
}


@pytest.mark.parametrize("cls", list(DECLARED), ids=lambda cls: cls.__name__)
def test_each_estimator_declares_only_the_checks_it_cannot_pass(cls):
    expected = expected_failed_checks(cls())
    assert set(expected) == DECLARED[cls]
    for check, reason in expected.items():
        # A real scikit-learn check, so that a renamed one shows here.
        assert callable(getattr(estimator_checks, check))
        # Each reason says why and which skattn test covers the behaviour.
        assert "tests/test_" in reason
        keyword = {MINUS_ONE: "-1", N_ITER: "n_iter_"}.get(check, "sample_weight")
        assert keyword in reason


def test_parameters_and_subclasses_keep_the_declaration():
    assert set(expected_failed_checks(AttentionClassifier(max_epochs=5))) == SAMPLE_WEIGHT

    class MyClassifier(AttentionSelfTrainingClassifier):
        pass

    assert set(expected_failed_checks(MyClassifier())) == {*SAMPLE_WEIGHT, MINUS_ONE, N_ITER}


def test_each_call_returns_a_new_dict():
    first = expected_failed_checks(AttentionClassifier())
    first.clear()
    assert expected_failed_checks(AttentionClassifier())


@pytest.mark.parametrize(
    "foreign",
    [LogisticRegression(), make_pipeline(AttentionClassifier()), "AttentionClassifier"],
    ids=["sklearn estimator", "pipeline", "string"],
)
def test_foreign_objects_raise_a_clear_type_error(foreign):
    with pytest.raises(TypeError, match=r"instance of a skattn estimator .*; got \w+, for"):
        expected_failed_checks(foreign)


def test_a_class_instead_of_an_instance_raises_a_type_error():
    with pytest.raises(TypeError, match=r"such as AttentionClassifier\(\), not the class"):
        expected_failed_checks(AttentionClassifier)

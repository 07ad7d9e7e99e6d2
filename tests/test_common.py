"""The whole scikit-learn estimator contract, for every public estimator."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skattn import (
    AttentionClassifier,
    AttentionRegressor,
    AttentionSelfTrainingClassifier,
    FineTuneClassifier,
    FineTuneRegressor,
    MaskedAttentionPretrainer,
)
from skattn.utils import expected_failed_checks

# Small networks and few epochs keep the contract suite fast on two cores;
# the defaults are exercised by the behaviour tests.
FAST = dict(d_token=16, n_heads=2, max_epochs=40, random_state=0)

ESTIMATORS = [
    AttentionClassifier(**FAST),
    AttentionRegressor(**FAST),
    AttentionSelfTrainingClassifier(**FAST, max_iter=2, epochs_per_round=2),
    MaskedAttentionPretrainer(**{**FAST, "max_epochs": 5}),
    FineTuneClassifier(**FAST, pretrain_epochs=3, max_iter=2, epochs_per_round=2),
    FineTuneRegressor(**FAST, pretrain_epochs=3),
]


# The contract checks give fully labeled y; the self-training warning says so.
@pytest.mark.filterwarnings("ignore:y contains no unlabeled samples")
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_contract(estimator, check):
    check(estimator)

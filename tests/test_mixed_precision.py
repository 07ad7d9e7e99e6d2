"""mixed_precision=True: bfloat16 forward passes, float32 results, on any device."""

import numpy as np
import pytest
from sklearn.datasets import make_moons

from skattn import (
    AttentionRegressor,
    AttentionSelfTrainingClassifier,
    FineTuneClassifier,
)

SMALL = dict(d_token=16, max_epochs=15, random_state=0)


@pytest.fixture
def moons():
    X, y = make_moons(n_samples=200, noise=0.1, random_state=0)
    return X, y


def test_self_training_in_bfloat16_learns_and_returns_float64(moons):
    X, y = moons
    y_partial = np.where(np.arange(len(y)) < 40, y, -1)
    # tol=None: both train the same epochs (a plateau may end them apart).
    params = dict(**SMALL, max_iter=2, tol=None)
    mixed = AttentionSelfTrainingClassifier(**params, mixed_precision=True).fit(X, y_partial)
    full = AttentionSelfTrainingClassifier(**params).fit(X, y_partial)
    proba = mixed.predict_proba(X)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert mixed.score(X, y) > 0.8
    # The switch changes the arithmetic: the two models are close, not equal.
    assert not np.array_equal(proba, full.predict_proba(X))
    np.testing.assert_allclose(proba, full.predict_proba(X), atol=0.25)


def test_pretraining_and_regression_in_bfloat16_give_finite_outputs(moons):
    X, y = moons
    reg = AttentionRegressor(**SMALL, mixed_precision=True).fit(X, X[:, 0] + y)
    assert np.isfinite(reg.predict(X)).all()
    clf = FineTuneClassifier(**SMALL, pretrain_epochs=3, max_iter=1, mixed_precision=True)
    clf.fit(X, np.where(np.arange(len(y)) < 40, y, -1))
    assert np.isfinite(clf.pretrainer_.transform(X)).all()
    assert clf.pretrainer_.mixed_precision

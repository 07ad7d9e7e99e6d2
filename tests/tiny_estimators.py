"""Every public estimator, as small as can be, by kind, and a check of its output.

One epoch of a one-block network: the bad-input catalogue and the fuzz
tests check validation, not learning. The kind says how an estimator reads
y: ``"semi"`` takes -1 as unlabeled, ``"ft_regressor"`` NaN as unlabeled,
and the pretrainer ignores it.
"""

import numpy as np

from skattn import (
    AttentionClassifier,
    AttentionRegressor,
    AttentionSelfTrainingClassifier,
    FineTuneClassifier,
    FineTuneRegressor,
    MaskedAttentionPretrainer,
)

NET = dict(d_token=8, n_heads=2, n_blocks=1, max_epochs=1, random_state=0)

ESTIMATORS = {
    "AttentionClassifier": ("classifier", AttentionClassifier(**NET)),
    "AttentionSelfTrainingClassifier": (
        "semi",
        AttentionSelfTrainingClassifier(**NET, max_iter=1),
    ),
    "FineTuneClassifier": ("semi", FineTuneClassifier(**NET, pretrain_epochs=1, max_iter=1)),
    "AttentionRegressor": ("regressor", AttentionRegressor(**NET)),
    "FineTuneRegressor": ("ft_regressor", FineTuneRegressor(**NET, pretrain_epochs=1)),
    "MaskedAttentionPretrainer": ("pretrainer", MaskedAttentionPretrainer(**NET)),
}


def check_valid_output(estimator, X):
    """A fitted estimator's output for X: labels from ``classes_`` with finite
    probabilities summing to one, finite predictions, or finite embeddings."""
    n_rows = X.shape[0] if hasattr(X, "shape") else len(X)
    if isinstance(estimator, MaskedAttentionPretrainer):
        embedding = estimator.transform(X)
        assert embedding.shape == (n_rows, estimator.d_token)
        assert np.all(np.isfinite(embedding))
        return
    prediction = estimator.predict(X)
    assert prediction.shape == (n_rows,)
    if not hasattr(estimator, "classes_"):
        assert np.all(np.isfinite(prediction))
        return
    assert set(prediction.tolist()) <= set(estimator.classes_.tolist())
    proba = estimator.predict_proba(X)
    assert proba.shape == (n_rows, len(estimator.classes_))
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)

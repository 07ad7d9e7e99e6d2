"""Rows attend to rows: what users rely on from retrieval_neighbors."""

import joblib
import numpy as np
import pytest
import torch
from sklearn.datasets import make_moons

from skattn import AttentionSelfTrainingClassifier, load
from skattn.nn import RowRetrieval

PARAMS = dict(d_token=16, n_heads=2, max_epochs=8, max_iter=2, random_state=0)


@pytest.fixture(scope="module")
def moons():
    X, y = make_moons(n_samples=300, noise=0.1, random_state=0)
    y_partial = np.where(np.arange(300) < 30, y, -1)
    return X, y, y_partial


@pytest.fixture(scope="module")
def fitted(moons):
    X, _, y_partial = moons
    return AttentionSelfTrainingClassifier(**PARAMS, retrieval_neighbors=8).fit(X, y_partial)


def test_excluded_candidates_get_no_weight():
    retrieval = RowRetrieval(d_token=4, n_classes=2, n_neighbors=3)
    keys = retrieval.keys(torch.randn(5, 4))
    # Each row's own key is its nearest candidate (distance 0) until excluded.
    weights, positions = retrieval.attend(keys, keys, exclude=torch.eye(5, dtype=torch.bool))
    assert not (positions == torch.arange(5).unsqueeze(1)).any()
    assert torch.allclose(weights.sum(dim=1), torch.ones(5))
    _, positions = retrieval.attend(keys, keys)
    assert (positions[:, 0] == torch.arange(5)).all()


def test_a_row_with_every_candidate_excluded_gets_no_context():
    retrieval = RowRetrieval(d_token=4, n_classes=2)
    embeddings = torch.randn(1, 4)
    keys = retrieval.keys(embeddings)
    out = retrieval(
        embeddings, keys=keys, labels=torch.tensor([1]), exclude=torch.ones(1, 1, dtype=torch.bool)
    )
    assert torch.equal(out, embeddings)


def test_a_training_row_never_attends_to_itself(moons, monkeypatch):
    X, _, y_partial = moons
    calls = []
    attend = RowRetrieval.attend

    def recording(self, queries, keys, exclude=None):
        weights, positions = attend(self, queries, keys, exclude)
        if exclude is not None:
            # The labeled rows' own queries come first when they query themselves.
            own = len(queries) >= len(keys) and torch.equal(queries[: len(keys)], keys)
            calls.append((exclude.gather(1, positions), weights, exclude if own else None))
        return weights, positions

    monkeypatch.setattr(RowRetrieval, "attend", recording)
    AttentionSelfTrainingClassifier(**PARAMS, retrieval_neighbors=8).fit(X, y_partial)
    assert calls, "training never retrieved"
    assert any(exclude is not None for _, _, exclude in calls)
    for excluded, weights, exclude in calls:
        assert (weights[excluded] == 0).all()
        if exclude is not None:
            assert exclude.diagonal().all()


def test_predictions_do_not_depend_on_the_order_of_stored_rows(moons, fitted):
    X = moons[0]
    proba = fitted.predict_proba(X)
    weights, rows = fitted.attended_rows(X)
    retrieval = fitted.net_.module_.retrieval
    saved = retrieval.memory_keys, retrieval.memory_labels, retrieval.memory_ids
    order = torch.randperm(len(saved[0]), generator=torch.Generator().manual_seed(0))
    try:
        retrieval.memory_keys, retrieval.memory_labels, retrieval.memory_ids = (
            tensor[order] for tensor in saved
        )
        np.testing.assert_allclose(fitted.predict_proba(X), proba, atol=1e-5)
        shuffled_weights, shuffled_rows = fitted.attended_rows(X)
    finally:
        retrieval.memory_keys, retrieval.memory_labels, retrieval.memory_ids = saved
    np.testing.assert_allclose(shuffled_weights, weights, atol=1e-5)
    assert (shuffled_rows == rows).mean() > 0.99  # ties may swap


def test_predictions_read_the_labels_of_the_stored_rows(moons, fitted):
    X = moons[0]
    retrieval = fitted.net_.module_.retrieval
    labels = retrieval.memory_labels
    try:
        retrieval.memory_labels = 1 - labels
        flipped = fitted.predict_proba(X)
    finally:
        retrieval.memory_labels = labels
    assert np.abs(flipped - fitted.predict_proba(X)).max() > 0.01


def test_attended_rows_are_labeled_training_rows(moons, fitted):
    X = moons[0]
    weights, rows = fitted.attended_rows(X[:10])
    assert weights.shape == rows.shape == (10, 8)
    np.testing.assert_allclose(weights.sum(axis=1), 1, rtol=1e-5)
    assert np.isin(rows, np.flatnonzero(fitted.labeled_iter_ >= 0)).all()
    assert not hasattr(AttentionSelfTrainingClassifier(), "attended_rows")


@pytest.mark.parametrize("fmt", ["skattn", "joblib"])
def test_a_fitted_model_round_trips(moons, fitted, fmt, tmp_path):
    X = moons[0]
    path = tmp_path / f"model.{fmt}"
    if fmt == "skattn":
        fitted.save(path)
        loaded = load(path)
    else:
        joblib.dump(fitted, path)
        loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
    for got, expected in zip(loaded.attended_rows(X), fitted.attended_rows(X), strict=True):
        np.testing.assert_array_equal(got, expected)


def test_bad_input_to_retrieval_gets_a_clear_error(moons, fitted):
    from sklearn.exceptions import NotFittedError
    from sklearn.utils._param_validation import InvalidParameterError

    X, _, y_partial = moons
    with pytest.raises(ValueError, match="features"):
        fitted.attended_rows(X[:, :1])
    with pytest.raises(NotFittedError):
        AttentionSelfTrainingClassifier(retrieval_neighbors=4).attended_rows(X)
    with pytest.raises(InvalidParameterError, match="retrieval_neighbors"):
        AttentionSelfTrainingClassifier(retrieval_neighbors=-1).fit(X, y_partial)

"""scipy.sparse input: every estimator, every method, dense one batch at a time."""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from tiny_estimators import ESTIMATORS, check_valid_output

from skattn import AttentionClassifier, AttentionSelfTrainingClassifier

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def sparse_table(n_rows=60, n_columns=8, density=0.3, seed=0):
    rs = np.random.RandomState(seed)
    X = sp.random(n_rows, n_columns, density=density, random_state=rs, format="csr") * 5
    y = (np.asarray(X[:, 0].todense()).ravel() > 1).astype(int)
    return X, y


def targets(kind, y):
    if kind == "semi":
        return np.where(np.arange(len(y)) % 3 == 0, y, -1)
    if kind == "ft_regressor":
        return np.where(np.arange(len(y)) % 3 == 0, y, np.nan).astype(float)
    return y.astype(float) if kind == "regressor" else y


@pytest.mark.parametrize("name", list(ESTIMATORS))
@pytest.mark.parametrize("layout", ["csr", "csc", "coo", "csr_array"])
def test_every_method_takes_sparse_input(name, layout):
    kind, estimator = ESTIMATORS[name]
    X, y = sparse_table()
    X = sp.csr_array(X) if layout == "csr_array" else X.asformat(layout)
    estimator = clone(estimator).fit(X, targets(kind, y))
    check_valid_output(estimator, X)
    if hasattr(estimator, "score") and kind != "pretrainer":
        assert np.isfinite(estimator.score(X, targets("classifier", y)))
    if hasattr(estimator, "explain"):  # all but the pretrainer, a transformer
        assert estimator.explain(X).shape == (X.shape[0], X.shape[1])
        assert estimator.attention_maps(X).shape[0] == X.shape[0]


@pytest.mark.parametrize("name", ["AttentionClassifier", "AttentionSelfTrainingClassifier"])
def test_sparse_and_dense_give_the_same_predictions(name):
    kind, estimator = ESTIMATORS[name]
    X, y = sparse_table(n_rows=80)
    dense = np.asarray(X.todense())
    dense[3, 2] = np.nan  # a stored missing value
    X = sp.csr_matrix(dense)
    from_sparse = clone(estimator).fit(X, targets(kind, y))
    from_dense = clone(estimator).fit(dense, targets(kind, y))
    np.testing.assert_array_equal(from_sparse.predict_proba(X), from_dense.predict_proba(dense))
    np.testing.assert_array_equal(from_sparse.predict_proba(dense), from_dense.predict_proba(X))


def test_sparse_one_hot_pipeline_learns_a_rule():
    # The target: 12 categorical columns, a rule on three, 60 of 600 labeled.
    rs = np.random.RandomState(0)
    X = rs.choice(list("abcd"), size=(600, 12))
    y = ((X[:, 0] == "a") | ((X[:, 1] == "b") & (X[:, 2] != "c"))).astype(int)
    y_train = np.where(np.arange(600) < 60, y, -1)
    pipe = make_pipeline(OneHotEncoder(), AttentionSelfTrainingClassifier(random_state=0))
    pipe.fit(X[:450], y_train[:450])
    assert len(pipe[-1].onehot_blocks_) == 12
    assert pipe.score(X[450:], y[450:]) >= 0.8


def test_sparse_fit_never_makes_the_matrix_dense():
    # 20,000 x 1,000 at 0.1%: 80 MB as dense float32, 0.2 MB sparse.
    n_rows, n_columns = 20_000, 1_000
    X = sp.random(n_rows, n_columns, density=0.001, random_state=0, format="csr", dtype=np.float32)
    y = np.arange(n_rows) % 2
    dense_bytes = n_rows * n_columns * 4
    clf = AttentionClassifier(
        d_token=4, n_heads=1, n_blocks=1, max_tokens=4, max_epochs=1, random_state=0
    )
    clone(clf).fit(X[:100], y[:100])  # torch's lazy imports, before measuring
    tracemalloc.start()
    try:
        clf.fit(X, y)
        clf.predict_proba(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # NumPy reports its allocations to tracemalloc; torch's own buffers (a
    # batch's activations) do not count here. Made dense, X would take 80 MB.
    assert peak < dense_bytes / 4, f"peak {peak / 2**20:.0f} MiB"

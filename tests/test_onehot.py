"""One-hot blocks are read as the categorical columns they came from."""

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.compose import make_column_transformer
from sklearn.preprocessing import OneHotEncoder

import skattn
from skattn import AttentionClassifier, AttentionSelfTrainingClassifier
from skattn._onehot import find_onehot_blocks
from skattn.inspection import plot_importances

pytestmark = pytest.mark.usefixtures("one_torch_thread")

NET = dict(d_token=8, n_heads=2, n_blocks=1, max_epochs=3, random_state=0)


def categorical_table(n_rows=120, n_columns=4, seed=0):
    rs = np.random.RandomState(seed)
    X = pd.DataFrame(
        rs.choice(list("abc"), size=(n_rows, n_columns)),
        columns=[f"c{j}" for j in range(n_columns)],
    )
    y = ((X["c0"] == "a") | (X["c1"] == "b")).to_numpy().astype(int)
    return X, y


def test_blocks_found_in_encoder_output():
    X, _ = categorical_table()
    one_hot = OneHotEncoder(sparse_output=False).fit_transform(X)
    expected = [[3 * j, 3 * j + 1, 3 * j + 2] for j in range(4)]
    assert find_onehot_blocks(one_hot) == expected
    assert find_onehot_blocks(sp.csr_matrix(one_hot)) == expected
    # drop="first" leaves rows of zeros; a block of one column is a plain number.
    dropped = OneHotEncoder(drop="first", sparse_output=False).fit_transform(X)
    assert find_onehot_blocks(dropped) == [[2 * j, 2 * j + 1] for j in range(4)]


def test_numeric_and_binary_columns_are_no_blocks():
    rs = np.random.RandomState(0)
    flags = rs.randint(0, 2, size=(200, 3))  # independent 0/1 flags overlap
    assert find_onehot_blocks(np.hstack([rs.normal(size=(200, 2)), flags])) == []


def test_names_split_blocks_the_data_cannot():
    # Rows that never set two of these columns at once: by the data, one block.
    values = np.eye(4)[[0, 1, 2, 3, 0, 2]]
    assert find_onehot_blocks(values) == [[0, 1, 2, 3]]
    for names in (["a_x", "a_y", "b_x", "b_y"], ["a=x", "a=y", "b=x", "b=y"]):
        assert find_onehot_blocks(values, names) == [[0, 1], [2, 3]]
    transformer = ["one__a_x", "one__a_y", "two__a_x", "two__a_y"]
    assert find_onehot_blocks(values, transformer) == [[0, 1], [2, 3]]
    # A category with the separator in its name stays in its column's block.
    assert find_onehot_blocks(values, ["c_light_blue", "c_red", "c_dark_red", "c_x"]) == [
        [0, 1, 2, 3]
    ]


def test_one_hot_input_predicts_as_the_categories():
    X, y = categorical_table()
    native = AttentionClassifier(**NET).fit(X.astype("category"), y)
    encoder = OneHotEncoder(handle_unknown="ignore").fit(X)
    for matrix in (encoder.transform(X), encoder.transform(X).toarray()):
        one_hot = AttentionClassifier(**NET).fit(matrix, y)
        assert one_hot.onehot_blocks_ == [[3 * j, 3 * j + 1, 3 * j + 2] for j in range(4)]
        np.testing.assert_array_equal(
            one_hot.predict_proba(matrix), native.predict_proba(X.astype("category"))
        )


def test_all_zero_block_row_is_the_unknown_category():
    X, y = categorical_table()
    native = AttentionClassifier(**NET).fit(X, y)
    encoder = OneHotEncoder(handle_unknown="ignore").fit(X)
    one_hot = AttentionClassifier(**NET).fit(encoder.transform(X), y)
    new = X.head(5).copy()
    new["c0"] = "never seen"
    zeros = encoder.transform(new)  # all zero in c0's block
    assert zeros[:, :3].nnz == 0
    np.testing.assert_array_equal(one_hot.predict_proba(zeros), native.predict_proba(new))


def test_row_breaking_a_block_keeps_all_its_categories():
    X, y = categorical_table()
    matrix = OneHotEncoder(sparse_output=False).fit_transform(X)
    clf = AttentionClassifier(**NET).fit(matrix, y)
    a, b = matrix[:1].copy(), matrix[:1].copy()
    a[0, 6:9], b[0, 6:9] = [1, 0, 0], [0, 1, 0]
    both = np.maximum(a, b)  # two 1s in c2's block
    for rows in (both, sp.csr_matrix(both)):
        proba = clf.predict_proba(rows)
        assert np.isfinite(proba).all()
    proba_both = clf.predict_proba(both)
    assert not np.allclose(proba_both, clf.predict_proba(a))
    assert not np.allclose(proba_both, clf.predict_proba(b))
    assert clf.explain(both).shape == (1, 4)


def test_detection_off_and_blocks_by_hand():
    X, y = categorical_table()
    matrix = OneHotEncoder(sparse_output=False).fit_transform(X)
    off = AttentionClassifier(onehot_blocks=None, **NET).fit(matrix, y)
    assert off.onehot_blocks_ == []
    assert off.explain(matrix[:2]).shape == (2, 12)
    by_hand = AttentionClassifier(onehot_blocks=[[0, 1, 2]], **NET).fit(matrix, y)
    assert by_hand.onehot_blocks_ == [[0, 1, 2]]
    assert by_hand.explain(matrix[:2]).shape == (2, 10)
    frame = pd.get_dummies(X, dtype=float)
    named = AttentionClassifier(onehot_blocks=[["c0_a", "c0_b", "c0_c"]], **NET).fit(frame, y)
    assert named.onehot_blocks_ == [[0, 1, 2]]


@pytest.mark.parametrize(
    ("blocks", "message"),
    [
        ([[0, 1, 3]], "at most one 1 per row"),
        ([[0, 1], [1, 2]], "shares a column"),
        ([[0, 99]], "not the position of a numeric column"),
        ([["nope"]], "not a numeric column"),
    ],
)
def test_bad_blocks_by_hand_get_a_clear_error(blocks, message):
    X, y = categorical_table()
    matrix = OneHotEncoder(sparse_output=False).fit_transform(X)
    with pytest.raises(ValueError, match=message):
        AttentionClassifier(onehot_blocks=blocks, **NET).fit(matrix, y)


def test_explanations_name_the_original_columns():
    X, y = categorical_table()
    X["num"] = np.linspace(0, 1, len(X))
    transformer = make_column_transformer(
        (OneHotEncoder(sparse_output=False), ["c0", "c1", "c2", "c3"]), remainder="passthrough"
    ).set_output(transform="pandas")
    frame = transformer.fit_transform(X)
    clf = AttentionClassifier(**NET).fit(frame, y)
    names = ["onehotencoder__c0", "onehotencoder__c1", "onehotencoder__c2",
             "onehotencoder__c3", "remainder__num"]  # fmt: skip
    assert list(clf.explain(frame.head(3)).columns) == names
    assert clf.feature_importances_.shape == (5,)
    pytest.importorskip("matplotlib").use("Agg")
    ax = plot_importances(clf)
    assert {label.get_text() for label in ax.get_yticklabels()} == set(names)
    unnamed = AttentionClassifier(**NET).fit(frame.to_numpy(), y)
    assert list(unnamed.explain(frame.to_numpy()[:1]).columns)[:2] == ["x0-x2", "x3-x5"]


def test_blocks_survive_both_file_formats(tmp_path):
    X, y = categorical_table()
    matrix = OneHotEncoder().fit_transform(X)
    y_semi = np.where(np.arange(len(y)) < 30, y, -1)
    clf = AttentionSelfTrainingClassifier(max_iter=1, **NET).fit(matrix, y_semi)
    clf.save(tmp_path / "model.skattn")
    joblib.dump(clf, tmp_path / "model.joblib")
    for loaded in (skattn.load(tmp_path / "model.skattn"), joblib.load(tmp_path / "model.joblib")):
        assert loaded.onehot_blocks_ == clf.onehot_blocks_
        np.testing.assert_array_equal(loaded.predict_proba(matrix), clf.predict_proba(matrix))

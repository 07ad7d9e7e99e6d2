"""The catalogue of bad input: every case against every estimator it applies to.

Each case builds an input, and says what each estimator does with it: work
(fit, then predict, predict_proba or transform valid, finite output, with no
warning unless the case names one) or raise a ValueError/TypeError whose
message holds a given phrase, from skattn's or scikit-learn's validation,
never from inside torch. Either way the caller's data are left as they were.

docs/bad_input.md shows this table; ``python tests/test_bad_input.py``
rewrites it there from :data:`CASES`, and a test checks that it is current.
"""

import copy
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import DataConversionWarning
from tiny_estimators import ESTIMATORS, NET, check_valid_output

from skattn import (
    AttentionClassifier,
    AttentionRegressor,
    FineTuneRegressor,
)

# Tiny networks: one torch thread each (see conftest.py).
pytestmark = pytest.mark.usefixtures("one_torch_thread")

DOC = Path(__file__).resolve().parents[1] / "docs" / "bad_input.md"

GROUPS = {
    "classifier": "classifiers",
    "semi": "classifiers",
    "regressor": "regressors",
    "ft_regressor": "regressors",
    "pretrainer": "pretrainer",
}
# How the docs name the kinds, and the groups of kinds.
LABELS = {
    "classifiers": "classifiers",
    "classifier": "`AttentionClassifier`",
    "semi": "semi-supervised classifiers",
    "regressors": "regressors",
    "regressor": "`AttentionRegressor`",
    "ft_regressor": "`FineTuneRegressor`",
    "pretrainer": "`MaskedAttentionPretrainer`",
}

N_ROWS = 40
RNG = np.random.RandomState(0)
X0 = RNG.normal(size=(N_ROWS, 3))
Y0 = np.array([0, 1] * (N_ROWS // 2))
FRAME = pd.DataFrame({"a": X0[:, 0], "b": X0[:, 1], "c": ["x", "y", "z", "x"] * 10})
NUMERIC_FRAME = pd.DataFrame(X0, columns=["a", "b", "c"])
EVERY_4TH = np.arange(N_ROWS) % 4 == 0


@dataclass(frozen=True)
class Works:
    """Fits and gives valid output; ``warning`` names the one warning expected."""

    warning: type | None = None
    says: str = ""

    def __str__(self):
        if self.warning is None:
            return "works"
        return f"works, with a `{self.warning.__name__}`: `` {self.says} ``"


@dataclass(frozen=True)
class Raises:
    """Raises ``error`` with ``says`` (literally) in its message."""

    error: type
    says: str

    def __str__(self):
        return f"`{self.error.__name__}`: `` {self.says} ``"


WORKS = Works()
SKIP = None  # the case does not apply (the pretrainer takes no sample_weight)


@dataclass
class Data:
    """What a case passes: X, y and sample_weight to fit, and X to predict."""

    X: object = field(default_factory=lambda: X0.copy())
    y: object = field(default_factory=lambda: Y0.copy())
    sample_weight: object = None
    X_predict: object = None


@dataclass(frozen=True)
class Case:
    id: str
    input: str
    build: object  # tmp_path -> Data
    outcomes: dict  # kind, group or "*" -> Works, Raises or SKIP
    note: str = ""  # for the docs: why it works, or how

    def outcome(self, kind):
        for key in (kind, GROUPS[kind], "*"):
            if key in self.outcomes:
                return self.outcomes[key]
        raise KeyError(f"case {self.id} says nothing for {kind}")


def case(id, input, build, outcome=WORKS, note="", **outcomes):
    return Case(id, input, build, {"*": outcome, **outcomes}, note)


def weights(weight):
    return lambda _: Data(sample_weight=weight)


def labels(y):
    return lambda _: Data(y=y)


def fit_on(X, **data):
    return lambda _: Data(X=X, **data)


def predict_on(X_predict, X=None):
    return lambda _: Data(X=X0.copy() if X is None else X, X_predict=X_predict)


def read_only(array):
    array = array.copy()
    array.flags.writeable = False
    return array


def memmap(tmp_path, mode):
    path = tmp_path / "X.dat"
    np.asarray(X0, dtype=np.float64).tofile(path)
    return np.memmap(path, dtype=np.float64, mode=mode, shape=X0.shape)


def int64_indices(X):
    matrix = sp.csr_matrix(X)
    matrix.indices = matrix.indices.astype(np.int64)
    matrix.indptr = matrix.indptr.astype(np.int64)
    return matrix


def with_value(index, value, X=X0):
    X = X.copy()
    X[index] = value
    return X


INF = Raises(ValueError, "Input X contains infinity")
NOT_NUMBERS = Raises(ValueError, "X holds values that are not numbers")
Y_NOT_NUMBERS = Raises(ValueError, "y holds values that are not numbers")
ONE_CLASS = Raises(ValueError, "needs samples of at least 2 classes")
SPARSE_NOTE = "made dense one batch of rows at a time"
FEATURE_NAMES = Raises(ValueError, "The feature names should match those that were passed")
Y_IGNORED = {"pretrainer": WORKS}

CASES = [
    # Values in X
    case(
        "nan-in-X",
        "NaN in X (a missing value)",
        fit_on(np.where(EVERY_4TH[:, None], np.nan, X0)),
        note="a missing value has an embedding of its own",
    ),
    case("nan-column", "a column that is all NaN", fit_on(with_value((slice(None), 2), np.nan))),
    case("nan-row", "a row that is all NaN", fit_on(with_value(0, np.nan))),
    case("nan-at-predict", "only NaN at predict", predict_on(np.full((5, 3), np.nan))),
    case("inf-in-X", "`inf` in X", fit_on(with_value((3, 1), np.inf)), INF),
    case("minus-inf-in-X", "`-inf` in X", fit_on(with_value((3, 1), -np.inf)), INF),
    case("inf-at-predict", "`inf` in X at predict", predict_on(with_value((3, 1), np.inf)), INF),
    case(
        "huge-values",
        "huge values (±1e30)",
        fit_on(X0 * 1e30),
        note="each column is standardised inside the estimator",
    ),
    case("extreme-values", "extreme values (±1e300)", fit_on(X0 * 1e300)),
    case(
        "huge-at-predict",
        "1e30 at predict, after a fit on ordinary values",
        predict_on(X0 * 1e30),
        note="standardised values are clipped at ±1e6",
    ),
    case("tiny-values", "tiny values (±1e-30)", fit_on(X0 * 1e-30)),
    case(
        "huge-constant",
        "a constant huge column (7.5e199)",
        fit_on(with_value((slice(None), 1), 7.5e199)),
    ),
    case("constant-features", "constant features", fit_on(np.ones((N_ROWS, 3)))),
    # Shapes
    case("one-feature", "one feature", fit_on(X0[:, :1].copy())),
    case(
        "no-features",
        "no features, shape (40, 0)",
        fit_on(np.empty((N_ROWS, 0))),
        Raises(ValueError, "Found array with 0 feature(s)"),
    ),
    case(
        "empty",
        "no rows",
        fit_on(np.empty((0, 3)), y=np.empty(0, dtype=int)),
        Raises(ValueError, "Found array with 0 sample(s)"),
    ),
    case(
        "one-row",
        "one row",
        fit_on(X0[:1].copy(), y=Y0[:1].copy()),
        Raises(ValueError, "Found array with 1 sample(s) (shape=(1, 3)) while a minimum of 2"),
    ),
    case("two-rows", "two rows (one of each class)", fit_on(X0[:2].copy(), y=Y0[:2].copy())),
    case(
        "empty-at-predict",
        "no rows at predict",
        predict_on(np.empty((0, 3))),
        Raises(ValueError, "Found array with 0 sample(s)"),
    ),
    case("one-row-at-predict", "one row at predict", predict_on(X0[:1].copy())),
    case(
        "1-d-X", "X of one dimension", fit_on(X0[:, 0].copy()), Raises(ValueError, "Expected 2D")
    ),
    case(
        "5-d-X",
        "X of five dimensions",
        fit_on(X0.reshape(N_ROWS, 1, 1, 3, 1)),
        Raises(ValueError, "X has 5 dimensions but tokenizer='feature' reads tables"),
    ),
    case(
        "wrong-width-at-predict",
        "fewer columns at predict",
        predict_on(X0[:, :2].copy()),
        Raises(ValueError, "X has 2 features, but"),
    ),
    # dtypes
    case("int64", "int64 X", fit_on((X0 * 10).astype(np.int64))),
    case("uint8", "uint8 X", fit_on((np.abs(X0) * 10).astype(np.uint8))),
    case("float16", "float16 X", fit_on(X0.astype(np.float16))),
    case("float32", "float32 X", fit_on(X0.astype(np.float32))),
    case("bool", "bool X", fit_on(X0 > 0)),
    case("object-numbers", "object array of numbers", fit_on(X0.astype(object))),
    case(
        "object-strings",
        "NumPy array of strings (object or str dtype)",
        fit_on(np.array([["a", "b", "c"]] * N_ROWS, dtype=object)),
        NOT_NUMBERS,
    ),
    case(
        "complex", "complex X", fit_on(X0 + 1j), Raises(ValueError, "Complex data not supported")
    ),
    case(
        "complex-at-predict",
        "complex X at predict",
        predict_on(X0 + 1j),
        Raises(ValueError, "Complex data not supported"),
    ),
    # Memory layouts and containers
    case("fortran-order", "Fortran-ordered array", fit_on(np.asfortranarray(X0))),
    case("read-only", "read-only array", fit_on(read_only(X0))),
    case("read-only-memmap", "read-only memmap", lambda tmp: Data(X=memmap(tmp, "r"))),
    case(
        "writable-memmap",
        "writable memmap (left unchanged)",
        lambda tmp: Data(X=memmap(tmp, "r+")),
    ),
    case("strided-view", "non-contiguous view", fit_on(np.repeat(X0, 2, axis=1)[:, ::2])),
    case("list-of-lists", "list of lists", fit_on(X0.tolist(), y=Y0.tolist())),
    case("sparse-csr", "sparse CSR matrix", fit_on(sp.csr_matrix(X0)), note=SPARSE_NOTE),
    case("sparse-array", "sparse CSC array", fit_on(sp.csc_array(X0))),
    case("sparse-coo", "sparse COO matrix", fit_on(sp.coo_matrix(X0))),
    case("sparse-at-predict", "sparse matrix at predict", predict_on(sp.csr_matrix(X0))),
    case(
        "sparse-nan",
        "sparse matrix with NaN stored",
        fit_on(sp.csr_matrix(np.where(EVERY_4TH[:, None], np.nan, X0))),
        note="NaN is a missing value, as in dense X",
    ),
    case("sparse-int64-indices", "sparse matrix with int64 indices", fit_on(int64_indices(X0))),
    case(
        "sparse-empty",
        "sparse matrix with no rows",
        fit_on(sp.csr_matrix((0, 3))),
        Raises(ValueError, "Found array with 0 sample(s)"),
    ),
    case(
        "sparse-no-columns",
        "sparse matrix with no columns",
        fit_on(sp.csr_matrix((N_ROWS, 0))),
        Raises(ValueError, "0 feature(s)"),
    ),
    case(
        "sparse-frame",
        "DataFrame of sparse columns",
        fit_on(pd.DataFrame.sparse.from_spmatrix(sp.csr_matrix(X0))),
    ),
    # Lengths and sample weights
    case(
        "y-too-short",
        "y shorter than X",
        labels(Y0[:30].copy()),
        Raises(ValueError, "Found input variables with inconsistent numbers of samples: [40, 30]"),
        **Y_IGNORED,
    ),
    case(
        "weights-too-short",
        "sample_weight shorter than X",
        weights(np.ones(30)),
        Raises(ValueError, "sample_weight.shape == (30,), expected (40,)!"),
        pretrainer=SKIP,
    ),
    case(
        "negative-weight",
        "a negative sample weight",
        weights(np.where(EVERY_4TH, -1.0, 1.0)),
        Raises(ValueError, "Negative values in data passed to `sample_weight`"),
        pretrainer=SKIP,
    ),
    case(
        "zero-weights",
        "all sample weights zero",
        weights(np.zeros(N_ROWS)),
        Raises(ValueError, "Sample weights must contain at least one non-zero number"),
        pretrainer=SKIP,
    ),
    case(
        "nan-weight",
        "NaN in sample_weight",
        weights(np.where(EVERY_4TH, np.nan, 1.0)),
        Raises(ValueError, "Input sample_weight contains NaN"),
        pretrainer=SKIP,
    ),
    case(
        "huge-weights",
        "huge sample weights (1e300)",
        weights(np.full(N_ROWS, 1e300)),
        note="only the ratios of the weights count",
        pretrainer=SKIP,
    ),
    case(
        "tiny-weights",
        "tiny sample weights (1e-50)",
        weights(np.full(N_ROWS, 1e-50)),
        note="only the ratios of the weights count",
        pretrainer=SKIP,
    ),
    case(
        "one-class-weighted",
        "weight zero on every row of one class",
        weights(Y0.astype(float)),
        regressors=WORKS,
        classifiers=ONE_CLASS,
        pretrainer=SKIP,
    ),
    case(
        "labeled-rows-weightless",
        "weight zero on every row but the -1 ones",
        lambda _: Data(y=np.where(EVERY_4TH, -1, Y0), sample_weight=EVERY_4TH * 1.0),
        classifier=Raises(ValueError, "only one class: -1"),
        semi=Raises(ValueError, "but the data contains no labeled row of positive weight"),
        regressors=WORKS,
        pretrainer=SKIP,
    ),
    # Targets
    case(
        "nan-in-y",
        "NaN in y",
        labels(np.where(EVERY_4TH, np.nan, Y0)),
        Raises(ValueError, "Input y contains NaN"),
        ft_regressor=WORKS,
        **Y_IGNORED,
    ),
    case(
        "inf-in-y",
        "`inf` in y",
        labels(np.where(EVERY_4TH, np.inf, Y0)),
        Raises(ValueError, "Input y contains infinity"),
        **Y_IGNORED,
    ),
    case(
        "extreme-y",
        "extreme targets (±1e300)",
        labels(X0[:, 0] * 1e300),
        classifiers=Raises(ValueError, "Unknown label type: continuous"),
        regressors=WORKS,
        **Y_IGNORED,
    ),
    case(
        "huge-constant-y",
        "a constant huge target (7.5e199)",
        labels(np.full(N_ROWS, 7.5e199)),
        classifiers=Raises(ValueError, "Unknown label type: continuous"),
        regressors=WORKS,
        **Y_IGNORED,
    ),
    case(
        "complex-y",
        "complex y",
        labels(Y0 + 1j),
        Raises(ValueError, "Complex data not supported"),
        **Y_IGNORED,
    ),
    case(
        "no-y",
        "y=None",
        labels(None),
        Raises(ValueError, "requires y to be passed, but the target y is None"),
        **Y_IGNORED,
    ),
    case(
        "column-y",
        "y of shape (n, 1)",
        labels(Y0[:, None].copy()),
        Works(DataConversionWarning, "A column-vector y was passed when a 1d array was expected"),
        **Y_IGNORED,
    ),
    case(
        "two-column-y",
        "y of shape (n, 2)",
        labels(np.column_stack([Y0, Y0])),
        Raises(ValueError, "y should be a 1d array, got an array of shape (40, 2)"),
        **Y_IGNORED,
    ),
    case("bool-labels", "bool y", labels(Y0.astype(bool))),
    case(
        "mixed-labels",
        'labels of mixed types, `[1, "a", ...]`',
        labels(np.array([1, "a"] * (N_ROWS // 2), dtype=object)),
        classifiers=Raises(ValueError, "y mixes labels of types ['int', 'str']"),
        regressors=Y_NOT_NUMBERS,
        **Y_IGNORED,
    ),
    case(
        "none-label",
        'None among string labels, `["a", None, ...]`',
        labels(np.array(["a", "b", None, "a"] * (N_ROWS // 4), dtype=object)),
        classifiers=Raises(ValueError, "y contains missing labels (None or NaN)"),
        regressors=Y_NOT_NUMBERS,
        **Y_IGNORED,
    ),
    case(
        "object-number-labels",
        "numbers in an object array, `np.array([0, 1, ...], dtype=object)`",
        labels(Y0.astype(object)),
        classifiers=Raises(ValueError, "Unknown label type: y is an object array of ['int']"),
        regressors=WORKS,
        **Y_IGNORED,
    ),
    case(
        "string-labels",
        "string labels (NumPy str dtype)",
        labels(np.array(["a", "b"] * (N_ROWS // 2))),
        classifier=WORKS,
        semi=Raises(ValueError, "y has dtype string. If you wish to predict on string targets"),
        regressors=Y_NOT_NUMBERS,
        **Y_IGNORED,
    ),
    case(
        "object-labels-and-minus-one",
        'string labels and -1 (object dtype), `["a", -1, ...]`',
        labels(np.array(["a", "b", -1, "a"] * (N_ROWS // 4), dtype=object)),
        classifier=Raises(ValueError, "y mixes labels of types ['int', 'str']"),
        semi=WORKS,
        regressors=Y_NOT_NUMBERS,
        **Y_IGNORED,
    ),
    case(
        "string-series-labels",
        "pandas Series of strings",
        labels(pd.Series(["a", "b"] * (N_ROWS // 2))),
        classifiers=WORKS,
        regressors=Y_NOT_NUMBERS,
        **Y_IGNORED,
    ),
    case(
        "one-class",
        "one class",
        labels(np.zeros(N_ROWS, dtype=int)),
        classifiers=ONE_CLASS,
        regressors=WORKS,
        **Y_IGNORED,
    ),
    case(
        "all-unlabeled",
        "y all -1",
        labels(np.full(N_ROWS, -1)),
        classifier=Raises(ValueError, "only one class: -1"),
        semi=Raises(ValueError, "y contains no labeled samples"),
        regressors=WORKS,
        **Y_IGNORED,
    ),
    case(
        "one-labeled-class",
        "-1 and one class",
        labels(np.where(EVERY_4TH, 1, -1)),
        classifier=WORKS,
        semi=Raises(ValueError, "only one class: 1"),
        regressors=WORKS,
        **Y_IGNORED,
    ),
    # DataFrames
    case("frame-numeric", "numeric DataFrame", fit_on(NUMERIC_FRAME.copy())),
    case("frame-strings", "DataFrame with a string column", fit_on(FRAME.copy())),
    case(
        "frame-category",
        "DataFrame with a category column",
        fit_on(FRAME.assign(c=FRAME["c"].astype("category"))),
    ),
    case(
        "frame-mixed-object",
        "object column of mixed types, `[1, 'a', 2.5, None]`",
        fit_on(FRAME.assign(c=pd.Series([1, "a", 2.5, None] * 10, dtype=object))),
    ),
    case(
        "frame-all-missing-category",
        "object column that is all None",
        fit_on(FRAME.assign(c=pd.Series([None] * N_ROWS, dtype=object))),
    ),
    case(
        "frame-nullable",
        "nullable Int64, Float64, boolean columns with `pd.NA`",
        fit_on(
            pd.DataFrame(
                {
                    "i": pd.array([1, None, 3, 4] * 10, dtype="Int64"),
                    "f": pd.array([1.5, None, 3.0, 4.0] * 10, dtype="Float64"),
                    "b": pd.array([True, None, False, True] * 10, dtype="boolean"),
                }
            )
        ),
    ),
    case(
        "frame-datetime",
        "DataFrame with a datetime column",
        fit_on(FRAME.assign(a=pd.date_range("2020", periods=N_ROWS))),
        Raises(TypeError, "convert date and time columns to numbers"),
    ),
    case(
        "frame-complex",
        "DataFrame with a complex column",
        fit_on(FRAME.assign(a=FRAME["a"] + 1j)),
        Raises(ValueError, "Complex data not supported: column 'a' has dtype complex128"),
    ),
    case(
        "frame-inf",
        "`inf` in a DataFrame with a string column",
        fit_on(FRAME.assign(a=np.where(EVERY_4TH, np.inf, FRAME["a"]))),
        INF,
    ),
    case(
        "frame-duplicate-names",
        "DataFrame with duplicate column names",
        fit_on(FRAME.set_axis(["a", "a", "c"], axis=1)),
        Raises(ValueError, "X has duplicate column names ['a']"),
    ),
    case(
        "frame-mixed-names",
        "column names of mixed types (str and int)",
        fit_on(NUMERIC_FRAME.set_axis(["a", 1, "c"], axis=1)),
        Raises(TypeError, "Feature names are only supported if all input features have string"),
    ),
    case(
        "unseen-category",
        "a category first seen at predict, or None",
        predict_on(FRAME.assign(c=["never seen", None] * 20), X=FRAME.copy()),
        note='read as "unknown", None as "missing"',
    ),
    case(
        "numbers-in-category-column",
        "numbers at predict in a column of strings",
        predict_on(FRAME.assign(c=np.arange(N_ROWS) * 1.0), X=FRAME.copy()),
        note='categories never seen in fit: read as "unknown"',
    ),
    case(
        "text-in-numeric-column",
        "text at predict in a numeric column",
        predict_on(FRAME.assign(a="oops"), X=FRAME.copy()),
        Raises(ValueError, "Column 'a' held numbers in fit but holds other values now"),
    ),
    case(
        "new-column",
        "a new column at predict",
        predict_on(FRAME.assign(d=1.0), X=FRAME.copy()),
        Raises(ValueError, "Feature names unseen at fit time"),
    ),
    case(
        "renamed-column",
        "a renamed column at predict",
        predict_on(FRAME.rename(columns={"a": "A"}), X=FRAME.copy()),
        FEATURE_NAMES,
    ),
    case(
        "missing-column",
        "a missing column at predict",
        predict_on(FRAME[["a", "c"]], X=FRAME.copy()),
        Raises(ValueError, "Feature names seen at fit time, yet now missing"),
    ),
    case(
        "reordered-columns",
        "reordered columns at predict",
        predict_on(FRAME[["b", "a", "c"]], X=FRAME.copy()),
        Raises(ValueError, "Feature names must be in the same order as they were in fit"),
    ),
    case(
        "reordered-numeric-columns",
        "reordered columns of a numeric DataFrame at predict",
        predict_on(NUMERIC_FRAME[["b", "a", "c"]], X=NUMERIC_FRAME.copy()),
        Raises(ValueError, "Feature names must be in the same order as they were in fit"),
    ),
    case(
        "array-after-frame",
        "a NumPy array at predict after a fit on a DataFrame",
        predict_on(X0.copy(), X=NUMERIC_FRAME.copy()),
        Works(UserWarning, "X does not have valid feature names"),
    ),
    case(
        "frame-after-array",
        "a DataFrame at predict after a fit on an array",
        predict_on(NUMERIC_FRAME.copy()),
        Works(UserWarning, "X has feature names, but"),
    ),
    case(
        "strings-after-frame",
        "a NumPy array of strings at predict after a fit on a DataFrame",
        predict_on(FRAME.to_numpy(), X=FRAME.copy()),
        NOT_NUMBERS,
    ),
    # Images and sequences
    case(
        "image-nan", "NaN pixels", fit_on(np.where(RNG.rand(N_ROWS, 1, 4, 4) < 0.1, np.nan, 1.0))
    ),
    case(
        "image-inf",
        "`inf` pixels",
        fit_on(np.where(RNG.rand(N_ROWS, 1, 4, 4) < 0.1, np.inf, 1.0)),
        INF,
    ),
    case(
        "image-extreme",
        "extreme pixels (±1e200)",
        fit_on(RNG.normal(size=(N_ROWS, 1, 4, 4)) * 1e200),
    ),
    case(
        "sequence-inf",
        "`inf` in a list of sequences",
        fit_on([np.full((2 + i % 3, 2), np.inf) for i in range(N_ROWS)]),
        INF,
    ),
    case(
        "ragged-steps",
        "sequences whose steps differ in size",
        fit_on([np.ones((2 + i % 3, 1 + i % 2)) for i in range(N_ROWS)]),
        Raises(ValueError, "Sequences have different step dimensions [1, 2]"),
    ),
]


def snapshot(value):
    """A deep copy to compare the caller's data with after fit and predict."""
    if isinstance(value, pd.DataFrame | pd.Series):
        return value.copy(deep=True)
    if sp.issparse(value):
        return value.copy()
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)
    return copy.deepcopy(value)


def assert_unchanged(before, after):
    if isinstance(before, pd.DataFrame):
        pd.testing.assert_frame_equal(after, before)
    elif isinstance(before, pd.Series):
        pd.testing.assert_series_equal(after, before)
    elif sp.issparse(before):
        assert after.dtype == before.dtype
        assert after.format == before.format
        before, after = before.tocsr(), after.tocsr()
        np.testing.assert_array_equal(after.indptr, before.indptr)
        np.testing.assert_array_equal(after.indices, before.indices)
        np.testing.assert_array_equal(after.data, before.data)  # NaN equals NaN here
    elif isinstance(before, np.ndarray):
        assert np.asarray(after).dtype == before.dtype
        assert pd.Series(np.asarray(after).ravel()).equals(pd.Series(before.ravel()))
    elif isinstance(before, list):
        assert len(after) == len(before)
        for item_before, item_after in zip(before, after, strict=True):
            assert_unchanged(item_before, item_after)
    else:
        assert after == before


def fit_and_use(estimator, data):
    """Fit, then predict (and predict_proba) or transform; check the output."""
    kwargs = {} if data.sample_weight is None else {"sample_weight": data.sample_weight}
    estimator.fit(data.X, data.y, **kwargs)
    check_valid_output(estimator, data.X if data.X_predict is None else data.X_predict)


def assert_raised_by_validation(excinfo):
    """Raised by skattn's or scikit-learn's checks, before any torch code ran."""
    paths = [Path(str(entry.path)) for entry in excinfo.traceback]
    assert not any({"torch", "skorch"} & set(path.parts) for path in paths), paths
    assert {"skattn", "sklearn"} & set(paths[-1].parts), paths[-1]


PARAMS = [
    pytest.param(case, name, id=f"{case.id}-{name}")
    for case in CASES
    for name, (kind, _) in ESTIMATORS.items()
    if case.outcome(kind) is not SKIP
]


# The cases' y is fully labeled; scikit-learn's label check casts 1e300 to int.
@pytest.mark.filterwarnings("ignore:y contains no unlabeled samples")
@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")
@pytest.mark.parametrize(("case", "name"), PARAMS)
def test_bad_input_gets_the_catalogued_outcome(case, name, tmp_path):
    kind, prototype = ESTIMATORS[name]
    expected = case.outcome(kind)
    estimator = clone(prototype)
    data = case.build(tmp_path)
    before = {key: snapshot(value) for key, value in vars(data).items()}
    if isinstance(expected, Raises):
        with pytest.raises(expected.error, match=re.escape(expected.says)) as excinfo:
            fit_and_use(estimator, data)
        assert_raised_by_validation(excinfo)
    elif expected.warning is not None:
        with pytest.warns(expected.warning, match=re.escape(expected.says)):
            fit_and_use(estimator, data)
    else:
        with warnings.catch_warnings():
            # "Works" means silently: overflow and cast warnings were bugs here.
            warnings.simplefilter("error")
            warnings.filterwarnings("ignore", "y contains no unlabeled samples")
            fit_and_use(estimator, data)
    for key, value in before.items():
        assert_unchanged(value, getattr(data, key))


def test_extreme_weights_train_as_unit_weights():
    # Only the ratios of the weights count; float32 must not turn them into inf or 0.
    unit = AttentionClassifier(**NET).fit(X0, Y0).predict_proba(X0)
    for weight in (1e300, 1e-50):
        clf = AttentionClassifier(**NET).fit(X0, Y0, sample_weight=np.full(N_ROWS, weight))
        np.testing.assert_array_equal(clf.predict_proba(X0), unit)


def test_extreme_values_are_standardised_not_saturated():
    # 1e200 squared overflows: the scaling must still see the spread of the values.
    reg = AttentionRegressor(**NET).fit(X0 * 1e200, X0[:, 0] * 1e200)
    np.testing.assert_allclose(reg.encoder_.scale_, X0.std(axis=0) * 1e200)
    assert reg.y_scale_ == pytest.approx(X0[:, 0].std() * 1e200)
    assert np.all(np.abs(reg.predict(X0 * 1e200)) < 1e202)


def test_fine_tune_regressor_keeps_the_column_names():
    reg = FineTuneRegressor(**NET, pretrain_epochs=1).fit(NUMERIC_FRAME, Y0.astype(float))
    assert list(reg.feature_names_in_) == ["a", "b", "c"]


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_caller_data_is_not_modified(name, tmp_path):
    """A DataFrame with missing values, a writable memmap, y and weights: all as they were."""
    kind, prototype = ESTIMATORS[name]
    frame = FRAME.assign(a=np.where(EVERY_4TH, np.nan, FRAME["a"]), c=[None, "x", "y", "x"] * 10)
    y = np.where(EVERY_4TH & (kind == "semi"), -1, Y0)
    weight = np.linspace(0.5, 2.0, N_ROWS)
    for X in (frame, memmap(tmp_path, "r+")):
        before = snapshot(X), y.copy(), weight.copy()
        estimator = clone(prototype)
        if kind == "pretrainer":
            estimator.fit(X, y).transform(X)
        else:
            estimator.fit(X, y, sample_weight=weight).predict(X)
        assert_unchanged(before[0], X)
        np.testing.assert_array_equal(y, before[1])
        np.testing.assert_array_equal(weight, before[2])


def describe(each):
    """What happens with a case, in words: one outcome, or one per group of estimators."""
    by_kind = {kind: each.outcome(kind) for kind in GROUPS}
    if len({str(outcome) for outcome in by_kind.values() if outcome is not SKIP}) == 1:
        return str(next(outcome for outcome in by_kind.values() if outcome is not SKIP))
    said = {}  # outcome -> who
    for group in dict.fromkeys(GROUPS.values()):
        kinds = [kind for kind in GROUPS if GROUPS[kind] == group and by_kind[kind] is not SKIP]
        if len({str(by_kind[kind]) for kind in kinds}) == 1:
            said.setdefault(str(by_kind[kinds[0]]), []).append(LABELS[group])
        else:
            for kind in kinds:
                said.setdefault(str(by_kind[kind]), []).append(LABELS[kind])
    return "; ".join(f"{', '.join(who)}: {outcome}" for outcome, who in said.items())


def catalogue_table():
    """The Markdown table of docs/bad_input.md, one row per case."""
    rows = ["| input | what happens |", "| --- | --- |"]
    rows += [
        f"| {each.input} | {describe(each)}{f' ({each.note})' if each.note else ''} |"
        for each in CASES
    ]
    return "\n".join(rows) + "\n"


BEGIN, END = "% catalogue: begin\n", "% catalogue: end\n"


@pytest.mark.parametrize("name", ["AttentionClassifier", "AttentionSelfTrainingClassifier"])
def test_a_training_step_too_large_for_memory_is_refused_before_training(name, monkeypatch):
    import skattn
    from skattn import _base
    from skattn.exceptions import InsufficientMemoryError

    monkeypatch.setattr(_base, "available_bytes", lambda device: 256 * 2**20)
    X = RNG.normal(size=(300, 400))
    y = np.where(np.arange(300) < 100, np.arange(300) % 2, -1)
    estimator = getattr(skattn, name)(max_tokens=None, batch_size=256, attention="sparse")
    with pytest.raises(InsufficientMemoryError, match="Lower batch_size") as excinfo:
        estimator.fit(X, y)
    assert "set max_tokens" in str(excinfo.value)
    assert isinstance(excinfo.value, MemoryError)
    assert isinstance(excinfo.value, ValueError)
    assert_raised_by_validation(excinfo)
    assert not hasattr(estimator, "net_")


def test_an_automatic_batch_shrinks_to_fit_memory_with_a_warning(monkeypatch):
    from skattn import _base

    monkeypatch.setattr(_base, "available_bytes", lambda device: 16 * 2**20)
    X = RNG.normal(size=(100, 200))
    estimator = AttentionClassifier(max_tokens=None, attention="sparse", **NET)
    with pytest.warns(UserWarning, match="batch_size='auto' is"):
        estimator.fit(X, np.arange(100) % 2)
    assert estimator.net_.batch_size < 16  # the automatic size for 100 rows


def test_docs_table_is_the_catalogue():
    text = DOC.read_text()
    table = text[text.index(BEGIN) + len(BEGIN) : text.index(END)]
    assert table.strip() == catalogue_table().strip(), (
        "docs/bad_input.md is out of date: run python tests/test_bad_input.py"
    )


if __name__ == "__main__":
    text = DOC.read_text()
    start, stop = text.index(BEGIN) + len(BEGIN), text.index(END)
    DOC.write_text(text[:start] + "\n" + catalogue_table() + "\n" + text[stop:])

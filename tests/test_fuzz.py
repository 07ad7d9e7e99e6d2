"""Property-based tests: random tables and targets against every estimator.

Hypothesis draws the number of rows (1 to 24) and features (1 to 4), the
dtype of X (float64, float32, float16, int64, bool, or a DataFrame with an
object or category column), magnitudes from 1e-30 to 1e200, missing values
(none, scattered, a whole column, a whole row, everything), sample weights
(none, positive, some zero) and the target: 1 to 3 classes as ints or as
strings in an object array (beside -1 for the semi-supervised classifiers),
any share of -1 rows from none to all, or real values with any share of NaN.

The property: an estimator fits exactly when the input is usable (see
:func:`usable`), and then predicts labels from ``classes_`` with finite
probabilities summing to one, finite values (regressors) or finite
embeddings (the pretrainer), without a RuntimeWarning; otherwise it raises
a ValueError or TypeError with a message, never from inside torch. The
caller's arrays stay as they were.

``MAX_EXAMPLES`` (30) examples per estimator, 180 in all, the same on every
run (``derandomize``), take about 10 s on two cores; of each estimator's 30,
between 10 and 20 are usable and fit (``pytest --hypothesis-show-statistics``
counts them).
"""

import warnings
from functools import partial

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.base import clone
from tiny_estimators import ESTIMATORS, check_valid_output

# Tiny networks: one torch thread each (see conftest.py).
pytestmark = pytest.mark.usefixtures("one_torch_thread")

MAX_EXAMPLES = 30
SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,  # no saved examples: derandomize draws the same ones every run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def tables(draw):
    """X: an array of a drawn dtype, or a DataFrame with a categorical column."""
    n_rows = draw(st.integers(1, 24))
    n_features = draw(st.integers(1, 4))
    shape = (n_rows, n_features)
    values = draw(hnp.arrays(np.float64, shape, elements=st.floats(-1e3, 1e3)))
    dtype = draw(st.sampled_from(["float64", "float32", "float16", "int64", "bool", "frame"]))
    if dtype == "int64":
        return np.round(values).astype(np.int64)
    if dtype == "bool":
        return values > 0
    values = values * draw(st.sampled_from([1.0, 1e-30, 1e30, 1e200]))
    missing = draw(st.sampled_from(["none", "scattered", "column", "row", "all"]))
    if missing == "scattered":
        values[draw(hnp.arrays(bool, shape))] = np.nan
    elif missing == "column":
        values[:, draw(st.integers(0, n_features - 1))] = np.nan
    elif missing == "row":
        values[draw(st.integers(0, n_rows - 1))] = np.nan
    elif missing == "all":
        values[:] = np.nan
    if dtype != "frame":
        with np.errstate(over="ignore"):  # float16 makes inf of 1e30: unusable X
            return values.astype(dtype)
    frame = pd.DataFrame(values, columns=[f"x{j}" for j in range(n_features)])
    categories = draw(
        st.lists(st.sampled_from(["a", "b", "c", None]), min_size=n_rows, max_size=n_rows)
    )
    category_dtype = draw(st.sampled_from(["object", "category"]))
    return frame.assign(city=pd.Series(categories, dtype=category_dtype))


@st.composite
def class_labels(draw, n_rows, minus_one_beside_strings):
    """1 to 3 classes, ints or strings, and a share of -1 rows from none to all.

    Strings stand beside -1 only where -1 means "unlabeled" (elsewhere the
    catalogue's mixed-type case covers it, and every such draw is refused).
    """
    n_classes = draw(st.sampled_from([2, 3, 1]))
    # Every class on some row (given the rows): the share of -1 decides what is left.
    codes = np.array(draw(st.permutations(range(n_rows)))) % n_classes
    unlabeled_share = draw(st.sampled_from([0.25, 0.0, 0.5, 0.9, 1.0]))
    unlabeled = draw(hnp.arrays(np.float64, n_rows, elements=st.floats(0, 1))) < unlabeled_share
    if draw(st.booleans()):
        return np.where(unlabeled, -1, codes)
    names = np.array(["cat", "dog", "emu"], dtype=object)[codes]
    if not minus_one_beside_strings:
        return names
    return np.where(unlabeled, -1, names).astype(object)


@st.composite
def real_targets(draw, n_rows):
    """Real values at a drawn scale, with a share of NaN ("unlabeled") rows."""
    y = draw(hnp.arrays(np.float64, n_rows, elements=st.floats(-1e3, 1e3)))
    y = y * draw(st.sampled_from([1.0, 1e30, 1e200]))
    unlabeled_share = draw(st.sampled_from([0.0, 0.5, 1.0]))
    y[draw(hnp.arrays(np.float64, n_rows, elements=st.floats(0, 1))) < unlabeled_share] = np.nan
    return y


@st.composite
def problems(draw, kind):
    X = draw(tables())
    n_rows = len(X)
    regression = kind in ("regressor", "ft_regressor")
    y = draw(real_targets(n_rows) if regression else class_labels(n_rows, kind == "semi"))
    weighting = draw(st.sampled_from(["none", "positive", "some zero"]))
    if weighting == "none" or kind == "pretrainer":
        return X, y, None
    weight = draw(hnp.arrays(np.float64, n_rows, elements=st.floats(0.1, 10)))
    if weighting == "some zero":
        weight[draw(hnp.arrays(bool, n_rows))] = 0.0
    return X, y, weight


def usable(kind, X, y, weight):
    """Whether an estimator of ``kind`` must fit this input (else it must refuse it)."""
    values = X.select_dtypes("number") if hasattr(X, "select_dtypes") else X
    values = np.asarray(values, dtype=np.float64)
    if len(y) < 2 or np.isinf(values).any():
        return False
    if kind == "pretrainer":
        return True
    weight = np.ones(len(y)) if weight is None else weight
    if kind == "regressor":
        return not np.isnan(y).any() and weight.sum() > 0
    if kind == "ft_regressor":
        labeled = ~np.isnan(y)
        return labeled.sum() >= 2 and weight[labeled].sum() > 0
    labeled = np.ones(len(y), bool) if kind == "classifier" else y != -1
    if kind == "classifier" and y.dtype == object and len({type(label) for label in y}) > 1:
        return False  # -1 beside strings: labels of mixed types
    return weight.sum() > 0 and len(set(y[labeled & (weight > 0)].tolist())) >= 2


# scikit-learn's finiteness check sums X, and inf + -inf warns before its ValueError.
@pytest.mark.filterwarnings("ignore:invalid value encountered in reduce:RuntimeWarning")
@pytest.mark.parametrize("name", list(ESTIMATORS))
@SETTINGS
@given(data=st.data())
def test_every_input_fits_or_gets_a_clear_error(name, data):
    kind, prototype = ESTIMATORS[name]
    X, y, weight = data.draw(problems(kind), label="X, y, sample_weight")
    copies = [X.copy(), y.copy(), None if weight is None else weight.copy()]
    estimator = clone(prototype)
    fit = partial(estimator.fit, X, y, **({} if weight is None else {"sample_weight": weight}))
    with warnings.catch_warnings():
        # No unlabeled rows, or many classes in few rows: fine here.
        warnings.simplefilter("ignore", UserWarning)
        if usable(kind, X, y, weight):
            event("fitted")
            warnings.simplefilter("error", RuntimeWarning)  # overflow on usable input is a bug
            fit()
            check_valid_output(estimator, X)
        else:
            with pytest.raises((ValueError, TypeError)) as excinfo:
                fit()
            event(f"refused: {excinfo.value}"[:60])
            assert str(excinfo.value)
            assert not any("torch" in str(entry.path) for entry in excinfo.traceback)
    for before, after in zip(copies, (X, y, weight), strict=True):
        if isinstance(before, pd.DataFrame):
            pd.testing.assert_frame_equal(after, before)
        elif before is not None:
            assert pd.Series(before.ravel()).equals(pd.Series(after.ravel()))

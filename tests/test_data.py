"""Input handling: column kinds, vocabularies, missing values, scaling."""

import numpy as np
import pandas as pd
import pytest

from skattn._data import TabularEncoder
from skattn.nn import MISSING_CODE, N_RESERVED_CODES, UNKNOWN_CODE


@pytest.fixture
def frame():
    return pd.DataFrame(
        {
            "size": [1.0, 2.0, np.nan, 4.0],
            "flag": [True, False, True, False],
            "colour": pd.Categorical(["red", "blue", "red", None]),
            "city": ["Oslo", "Lima", "Oslo", "Pune"],
        }
    )


def test_dataframe_columns_split_into_numeric_and_categorical(frame):
    encoder = TabularEncoder().fit(frame)
    assert encoder.num_positions_ == [0, 1]
    assert encoder.cat_positions_ == [2, 3]
    assert encoder.cat_cardinalities == [2, 3]


def test_missing_and_unseen_categories_get_reserved_codes(frame):
    encoder = TabularEncoder().fit(frame)
    new = frame.copy()
    new["city"] = ["Oslo", "Rome", None, "Lima"]
    x_cat = encoder.transform(new)["x_cat"]
    assert x_cat[3, 0] == MISSING_CODE  # colour None
    assert x_cat[1, 1] == UNKNOWN_CODE  # Rome never seen
    assert x_cat[2, 1] == MISSING_CODE
    assert x_cat[0, 1] == x_cat[0, 1] >= N_RESERVED_CODES


def test_numeric_columns_are_standardised_and_nan_kept(frame):
    x_num = TabularEncoder().fit(frame).transform(frame)["x_num"]
    assert x_num.dtype == np.float32
    assert np.isnan(x_num[2, 0])
    np.testing.assert_allclose(np.nanmean(x_num, axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(np.nanstd(x_num, axis=0), 1, atol=1e-6)


def test_constant_and_huge_columns_stay_finite():
    X = np.array([[1.0, 1e30], [1.0, -1e30], [1.0, 0.0]])
    x_num = TabularEncoder().fit(X).transform(X * 10)["x_num"]
    assert np.all(np.isfinite(x_num))


def test_caller_data_is_not_modified(frame):
    before = frame.copy()
    encoder = TabularEncoder().fit(frame)
    encoder.transform(frame)
    pd.testing.assert_frame_equal(frame, before)

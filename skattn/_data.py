"""Input handling: validate X, learn column kinds, vocabularies and scaling.

Two kinds of X reach the network:

* a numeric array (NumPy, or a DataFrame whose columns are all numeric or
  boolean): validated by scikit-learn's ``validate_data`` like any estimator;
* a DataFrame with ``category``, ``object`` or string columns: those columns
  are categorical, the rest numeric.

:class:`TabularEncoder` learns, in fit, which columns are categorical, their
vocabularies and a (weighted) standardisation of the numeric columns; its
``transform`` produces the ``x_num`` / ``x_cat`` arrays the network eats.
Nothing here modifies the caller's data.
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pandas.api import types as pdt
from sklearn.utils.validation import check_array, validate_data

from ._arrays import ArrayEncoder, check_images_or_sequences, n_dims
from ._scaling import weighted_mean_and_scale
from .nn import MISSING_CODE, N_RESERVED_CODES, UNKNOWN_CODE

NUMBERS_OR_DATAFRAME = (
    "pass numbers (NaN where a value is missing), or a pandas DataFrame, whose "
    "string, object and category columns are read as categorical features."
)


def _is_numeric_column(dtype) -> bool:
    return pdt.is_bool_dtype(dtype) or (
        pdt.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype)
    )


def check_numeric(values, *, input_name: str, advice: str) -> None:
    """Refuse an array or list of values that are not numbers, saying what to pass.

    NumPy would say only "could not convert string to float", naming neither
    the input nor a remedy. DataFrames (their text columns are categorical)
    and sparse matrices (refused by scikit-learn's checks) pass through.

    Examples
    --------
    >>> check_numeric([[1.0, "a"]], input_name="X", advice="pass numbers.")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: X holds values that are not numbers (could not convert ...); pass numbers.
    """
    if hasattr(values, "columns") or sp.issparse(values):
        return
    try:
        array = np.asarray(values)
    except (TypeError, ValueError):  # ragged lists: check_array explains those
        return
    if array.dtype.kind not in "OUS":
        return
    try:
        array.astype(np.float64)
    except (TypeError, ValueError) as error:
        # The same class: TypeError for objects such as dicts, ValueError for text.
        raise type(error)(
            f"{input_name} holds values that are not numbers ({error}); {advice}"
        ) from None


def check_X(estimator, X, *, reset: bool, tokenizer=None):
    """Validate X for ``estimator``; return a numeric array or a DataFrame.

    Sets (``reset=True``) or checks ``n_features_in_`` and
    ``feature_names_in_`` as scikit-learn does. Numeric input becomes a
    float array with NaN allowed, inf and text refused; a DataFrame with
    categorical columns is returned as is, after the same checks (unique
    column names, no complex or date columns). Images and sequences
    (``tokenizer`` "patch" or "sequence"; at predict, the fitted
    ``tokenizer_``) go to :func:`check_images_or_sequences`.
    """
    if tokenizer is None:
        tokenizer = getattr(estimator, "tokenizer_", "feature")
    check_numeric(X, input_name="X", advice=NUMBERS_OR_DATAFRAME)
    if tokenizer != "feature":
        return check_images_or_sequences(estimator, X, kind=tokenizer, reset=reset)
    if n_dims(X) > 2:
        raise ValueError(
            f"X has {n_dims(X)} dimensions but tokenizer='feature' reads tables "
            "(n_samples, n_features); use tokenizer='patch' for images or "
            "tokenizer='sequence' for sequences."
        )
    if hasattr(X, "iloc") and hasattr(X, "dtypes") and X.ndim == 2:
        duplicated = X.columns[X.columns.duplicated()].unique().tolist()
        if duplicated:
            raise ValueError(
                f"X has duplicate column names {duplicated}; give every column a unique name."
            )
        dtypes = list(X.dtypes)
        for name, dtype in zip(X.columns, dtypes, strict=True):
            if pdt.is_datetime64_any_dtype(dtype) or pdt.is_timedelta64_dtype(dtype):
                raise TypeError(
                    f"Column {name!r} has dtype {dtype}; convert date and time "
                    "columns to numbers (e.g. seconds or day of week) first."
                )
            if pdt.is_complex_dtype(dtype):
                raise ValueError(f"Complex data not supported: column {name!r} has dtype {dtype}.")
        if not all(_is_numeric_column(dtype) for dtype in dtypes):
            validate_data(estimator, X, reset=reset, skip_check_array=True)
            if X.shape[0] == 0:
                raise ValueError(
                    f"Found array with 0 sample(s) (shape={X.shape}) while a "
                    "minimum of 1 is required."
                )
            if reset and X.shape[0] < 2:
                raise ValueError(
                    f"Found array with {X.shape[0]} sample(s) (shape={X.shape}) "
                    "while a minimum of 2 is required."
                )
            return X
    return validate_data(
        estimator,
        X,
        reset=reset,
        dtype=[np.float64, np.float32],
        ensure_all_finite="allow-nan",
        ensure_min_samples=2 if reset else 1,
    )


def _column(X, position):
    return X.iloc[:, position] if hasattr(X, "iloc") else X[:, position]


def _numeric_block(X, positions) -> np.ndarray:
    if hasattr(X, "iloc"):
        block = X.iloc[:, positions]
        try:
            block = block.astype("float64")
        except (TypeError, ValueError):
            _refuse_text_in_numeric_columns(block)
        return check_array(
            block.to_numpy(dtype=np.float64, na_value=np.nan),
            dtype=np.float64,
            ensure_all_finite="allow-nan",
            ensure_min_samples=0,
            ensure_min_features=0,
            input_name="X",
        )
    return np.asarray(X[:, positions], dtype=np.float64)


def _refuse_text_in_numeric_columns(block):
    # Columns are numeric in fit by construction: text in one is new at predict.
    for name, column in block.items():
        try:
            column.astype("float64")
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"Column {name!r} held numbers in fit but holds other values now "
                f"({error}); pass numbers (NaN where a value is missing)."
            ) from None


def _sort_key(value):
    return type(value).__name__, value


class TabularEncoder:
    """Turn validated X into the network's ``x_num`` and ``x_cat`` arrays.

    Attributes
    ----------
    num_positions_, cat_positions_ : list of int
        Column positions of the numeric and of the categorical features.
    vocabularies_ : list of pandas.Index
        Known categories of each categorical feature, in code order.
    mean_, scale_ : ndarray of shape (n_num_features,)
        Weighted mean and standard deviation of each numeric feature (NaN
        ignored); ``x_num = (x - mean_) / scale_``.
    """

    def fit(self, X, sample_weight=None):
        """Learn column kinds, vocabularies and scaling from validated ``X``."""
        n_features = X.shape[1]
        if hasattr(X, "iloc"):
            numeric = [_is_numeric_column(dtype) for dtype in X.dtypes]
        else:
            numeric = [True] * n_features
        self.num_positions_ = [j for j in range(n_features) if numeric[j]]
        self.cat_positions_ = [j for j in range(n_features) if not numeric[j]]

        self.vocabularies_ = []
        for position in self.cat_positions_:
            values = pd.Series(_column(X, position)).dropna().unique()
            self.vocabularies_.append(pd.Index(sorted(values, key=_sort_key), dtype=object))

        x_num = _numeric_block(X, self.num_positions_)
        weight = np.ones(X.shape[0]) if sample_weight is None else sample_weight
        self.mean_, self.scale_ = weighted_mean_and_scale(x_num, weight)
        return self

    @property
    def cat_cardinalities(self) -> list:
        """Number of known categories of each categorical feature."""
        return [len(vocabulary) for vocabulary in self.vocabularies_]

    def tokenizer_params(self) -> dict:
        """Keyword arguments of :class:`skattn.nn.FTTransformer` for this input."""
        return dict(
            tokenizer="feature",
            n_num_features=len(self.num_positions_),
            cat_cardinalities=self.cat_cardinalities,
        )

    def explained_columns(self, feature_names=None):
        """Names of the input columns and the token (0-based) of each.

        The network's tokens hold the numeric columns first, then the
        categorical ones.
        """
        n_columns = len(self.num_positions_) + len(self.cat_positions_)
        if feature_names is None:
            feature_names = [f"x{j}" for j in range(n_columns)]
        order = np.array(self.num_positions_ + self.cat_positions_, dtype=int)
        tokens = np.empty(n_columns, dtype=int)
        tokens[order] = np.arange(n_columns)
        return list(feature_names), tokens

    def transform(self, X) -> dict:
        """Encode validated ``X``.

        Returns
        -------
        dict with ``x_num`` (float32, shape (n, n_num), NaN = missing) and
        ``x_cat`` (int64, shape (n, n_cat), codes as in :mod:`skattn.nn`).
        """
        x_num = (_numeric_block(X, self.num_positions_) - self.mean_) / self.scale_
        x_cat = np.empty((X.shape[0], len(self.cat_positions_)), dtype=np.int64)
        for j, (position, vocabulary) in enumerate(
            zip(self.cat_positions_, self.vocabularies_, strict=True)
        ):
            column = pd.Series(_column(X, position), dtype=object)
            index = vocabulary.get_indexer(column)
            codes = np.where(index < 0, UNKNOWN_CODE, index + N_RESERVED_CODES)
            x_cat[:, j] = np.where(column.isna(), MISSING_CODE, codes)
        # Huge but finite inputs (1e30) must not become inf in float32.
        x_num = np.clip(x_num, -1e6, 1e6)
        return {"x_num": x_num.astype(np.float32), "x_cat": x_cat}


def make_encoder(tokenizer: str, patch_size=None):
    """The unfitted input encoder for a resolved ``tokenizer`` kind."""
    return TabularEncoder() if tokenizer == "feature" else ArrayEncoder(tokenizer, patch_size)

"""Input handling: validate X, learn column kinds, vocabularies and scaling.

Three kinds of X reach the network:

* a numeric array (NumPy, or a DataFrame whose columns are all numeric or
  boolean): validated by scikit-learn's ``validate_data`` like any estimator;
* a ``scipy.sparse`` matrix or array (CSR, CSC, COO): the same, kept sparse;
* a DataFrame with ``category``, ``object`` or string columns: those columns
  are categorical, the rest numeric.

:class:`TabularEncoder` learns, in fit, which columns are categorical (one-hot
blocks of numeric 0/1 columns included, :mod:`skattn._onehot`), their
vocabularies and a (weighted) standardisation of the numeric columns; its
``transform`` produces the ``x_num`` / ``x_cat`` arrays the network eats
(``x_num`` of a sparse X as :class:`~skattn._sparse.SparseRows`, dense one
batch at a time). Nothing here modifies the caller's data.
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pandas.api import types as pdt
from sklearn.utils.validation import check_array, validate_data

from ._arrays import ArrayEncoder, check_images_or_sequences, n_dims
from ._onehot import block_codes, block_name, check_onehot_blocks, find_onehot_blocks
from ._scaling import weighted_mean_and_scale
from ._sparse import SparseRows, column_slices, scale_rows
from .nn import BAG_STRIDE, MISSING_CODE, N_RESERVED_CODES, UNKNOWN_CODE

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
        accept_sparse="csr",  # CSC, COO and the others become CSR
        dtype=[np.float64, np.float32],
        ensure_all_finite="allow-nan",
        ensure_min_samples=2 if reset else 1,
    )


def _column(X, position):
    return X.iloc[:, position] if hasattr(X, "iloc") else X[:, position]


def _numeric_block(X, positions):
    """The raw values of the numeric columns at ``positions``: an array, or CSR if X is sparse."""
    if sp.issparse(X):
        return X[:, positions]
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


def _mean_and_scale(values, weight):
    """:func:`weighted_mean_and_scale` of raw columns, dense or sparse, a slice at a time."""
    parts = [
        weighted_mean_and_scale(
            values[:, columns].toarray() if sp.issparse(values) else values[:, columns], weight
        )
        for columns in column_slices(*values.shape)
    ]
    if not parts:
        return np.empty(0), np.empty(0)
    return tuple(np.concatenate(part) for part in zip(*parts, strict=True))


class TabularEncoder:
    """Turn validated X into the network's ``x_num`` and ``x_cat`` arrays.

    Parameters
    ----------
    onehot_blocks : "auto", None or list of list of int, default="auto"
        Which numeric 0/1 columns are one-hot blocks, each read as one
        categorical column: found in the data (``"auto"``, see
        :func:`~skattn._onehot.find_onehot_blocks`), none, or given as
        lists of column positions.

    Attributes
    ----------
    num_positions_, cat_positions_ : list of int
        Column positions of the numeric features (one-hot blocks' columns
        left out) and of the categorical features.
    blocks_ : list of list of int
        Column positions of each one-hot block.
    vocabularies_ : list of pandas.Index
        Known categories of each categorical feature, in code order.
    mean_, scale_ : ndarray of shape (n_num_features,)
        Weighted mean and standard deviation of each numeric feature (NaN
        ignored); ``x_num = (x - mean_) / scale_``.
    """

    def __init__(self, onehot_blocks="auto"):
        self.onehot_blocks = onehot_blocks

    def fit(self, X, sample_weight=None, feature_names=None):
        """Learn column kinds, vocabularies and scaling from validated ``X``."""
        n_features = X.shape[1]
        if hasattr(X, "iloc"):
            numeric = [_is_numeric_column(dtype) for dtype in X.dtypes]
        else:
            numeric = [True] * n_features
        numeric_positions = [j for j in range(n_features) if numeric[j]]
        self.cat_positions_ = [j for j in range(n_features) if not numeric[j]]

        self.vocabularies_ = []
        for position in self.cat_positions_:
            values = pd.Series(_column(X, position)).dropna().unique()
            self.vocabularies_.append(pd.Index(sorted(values, key=_sort_key), dtype=object))

        raw = _numeric_block(X, numeric_positions)
        self.blocks_ = self._find_blocks(raw, numeric_positions, feature_names)
        in_blocks = {position for block in self.blocks_ for position in block}
        self.num_positions_ = [j for j in numeric_positions if j not in in_blocks]
        plain = [numeric_positions.index(j) for j in self.num_positions_]
        weight = np.ones(X.shape[0]) if sample_weight is None else sample_weight
        self.mean_, self.scale_ = _mean_and_scale(raw[:, plain], weight)
        return self

    def _find_blocks(self, raw, positions, feature_names):
        if self.onehot_blocks is None:
            return []
        names = None if feature_names is None else [feature_names[j] for j in positions]
        if self.onehot_blocks == "auto":
            return [[positions[j] for j in block] for block in find_onehot_blocks(raw, names)]
        blocks = [
            [_block_column(column, positions, names) for column in block]
            for block in self.onehot_blocks
        ]
        check_onehot_blocks(raw, blocks)
        return [[positions[j] for j in block] for block in blocks]

    @property
    def cat_cardinalities(self) -> list:
        """Number of known categories of each categorical feature, one-hot blocks last."""
        return [len(vocabulary) for vocabulary in self.vocabularies_] + [
            len(block) for block in self.blocks_
        ]

    def tokenizer_params(self) -> dict:
        """Keyword arguments of :class:`skattn.nn.FTTransformer` for this input."""
        return dict(
            tokenizer="feature",
            n_num_features=len(self.num_positions_),
            cat_cardinalities=self.cat_cardinalities,
        )

    def explained_columns(self, feature_names=None):
        """Names of the explained columns and the token (0-based) of each.

        The explained columns are X's columns in order, a one-hot block
        standing for the categorical column it came from (named after it,
        see :func:`~skattn._onehot.block_name`). The network's tokens hold
        the numeric columns first, then the categorical ones, then the
        blocks.
        """
        blocks = self.blocks_
        units = [[j] for j in self.num_positions_ + self.cat_positions_] + blocks
        order = np.argsort([unit[0] for unit in units], kind="stable")
        if feature_names is None:
            n_columns = sum(len(unit) for unit in units)
            feature_names = [f"x{j}" for j in range(n_columns)]
        names = [
            str(feature_names[units[t][0]])
            if t < len(units) - len(blocks)
            else block_name(feature_names, units[t])
            for t in order
        ]
        return names, order.astype(int)

    def transform(self, X) -> dict:
        """Encode validated ``X``.

        Returns
        -------
        dict with ``x_num`` (float32, shape (n, n_num), NaN = missing; for a
        sparse X with numeric columns, a :class:`~skattn._sparse.SparseRows`)
        and ``x_cat`` (int64, shape (n, n_cat + n_blocks [+ n_extra]), codes
        as in :mod:`skattn.nn`).
        """
        raw = _numeric_block(X, self.num_positions_)
        if sp.issparse(raw) and raw.shape[1]:
            x_num = SparseRows(raw, self.mean_, self.scale_)
        else:
            x_num = scale_rows(_dense(raw), self.mean_, self.scale_)
        x_cat = np.empty((X.shape[0], len(self.cat_positions_)), dtype=np.int64)
        for j, (position, vocabulary) in enumerate(
            zip(self.cat_positions_, self.vocabularies_, strict=True)
        ):
            column = pd.Series(_column(X, position), dtype=object)
            index = vocabulary.get_indexer(column)
            codes = np.where(index < 0, UNKNOWN_CODE, index + N_RESERVED_CODES)
            x_cat[:, j] = np.where(column.isna(), MISSING_CODE, codes)
        blocks = self.blocks_
        if blocks:
            x_cat = np.hstack([x_cat, *self._block_codes(X, blocks)])
        return {"x_num": x_num, "x_cat": x_cat}

    def _block_codes(self, X, blocks):
        """Codes of the blocks, and the extra categories of rows that break them."""
        flat = [position for block in blocks for position in block]
        ends = np.cumsum([len(block) for block in blocks])
        local = [
            list(range(end - len(block), end)) for block, end in zip(blocks, ends, strict=True)
        ]
        codes, extra = block_codes(_numeric_block(X, flat), local)
        # Extra categories name their feature among all categorical ones.
        offset = len(self.cat_positions_) * BAG_STRIDE
        return codes, np.where(extra >= 0, extra + offset, -1)


def _block_column(column, positions, names) -> int:
    """Position among the numeric columns of a column given by position or name."""
    if isinstance(column, str):
        if names is None or column not in names:
            raise ValueError(
                f"onehot_blocks names the column {column!r}, which is not a numeric column "
                "of X" + ("" if names is not None else " (X has no column names)") + "."
            )
        return names.index(column)
    if column not in positions:
        raise ValueError(
            f"onehot_blocks holds {column!r}, which is not the position of a numeric column "
            f"of X (numeric columns: {len(positions)})."
        )
    return positions.index(column)


def _dense(values):
    return values.toarray() if sp.issparse(values) else values


def make_encoder(tokenizer: str, patch_size=None, onehot_blocks="auto"):
    """The unfitted input encoder for a resolved ``tokenizer`` kind."""
    if tokenizer == "feature":
        return TabularEncoder(onehot_blocks)
    return ArrayEncoder(tokenizer, patch_size)

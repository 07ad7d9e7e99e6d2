"""One-hot blocks: the 0/1 columns an encoder made of one categorical column.

``OneHotEncoder``, ``ColumnTransformer``, ``pd.get_dummies`` and
``DictVectorizer`` turn a categorical column into a block of adjacent 0/1
columns with at most one 1 per row. Read as numbers, such a block costs a
token per category, and every category's token looks the same to the
network until labels tell them apart. Read back as one categorical column,
it costs one token and gets an embedding per category, as a ``category``
column does.

The rules (:func:`find_onehot_blocks`):

* a block is a run of at least two adjacent columns, each holding only 0
  and 1, with at most one 1 in any row of the block (``drop="first"`` and
  ``handle_unknown="ignore"`` leave rows of zeros: those are read as the
  "unknown" category);
* feature names, when known, split runs further: two adjacent columns
  belong to one block only if their names share a prefix ending in ``_``
  or ``=`` (``color_red``/``color_blue``, ``color=red``), after the same
  ``transformer__`` prefix of a ``ColumnTransformer``; names without
  either separator leave the decision to the data.

Reading a block as one column never loses information: a row that breaks
the pattern at predict time (two 1s in a block) gets the sum of its active
categories' embeddings (an embedding bag, :func:`block_codes`).
"""

import numpy as np
import scipy.sparse as sp

from .nn import BAG_STRIDE, N_RESERVED_CODES, UNKNOWN_CODE

SEPARATORS = "_="


def _binary_columns(values) -> np.ndarray:
    """Whether each column holds only 0 and 1 (NaN is not binary)."""
    if sp.issparse(values):
        csc = values.tocsc()
        stored = (csc.data == 0) | (csc.data == 1)
        bad = np.bincount(
            np.repeat(np.arange(csc.shape[1]), np.diff(csc.indptr))[~stored],
            minlength=csc.shape[1],
        )
        return bad == 0
    return ((values == 0) | (values == 1)).all(axis=0)


def _active_rows(values, column) -> np.ndarray:
    """Rows where a binary column holds 1."""
    if sp.issparse(values):
        start, stop = values.indptr[column], values.indptr[column + 1]
        return values.indices[start:stop][values.data[start:stop] == 1]
    return np.flatnonzero(values[:, column] == 1)


def _has_separator(name: str) -> bool:
    return any(separator in name.rpartition("__")[2] for separator in SEPARATORS)


def _common_stem(names):
    """``(transformer, column)`` that all output names share, or None.

    The column is the names' longest common prefix cut back to its last
    separator, after a ``transformer__`` prefix that must be the same.
    """
    parts = [str(name).rpartition("__") for name in names]
    if len({transformer for transformer, _, _ in parts}) != 1:
        return None
    rests = [rest for _, _, rest in parts]
    common = rests[0]
    for rest in rests[1:]:
        while not rest.startswith(common):
            common = common[:-1]
    cut = max(common.rfind(separator) for separator in SEPARATORS)
    return None if cut <= 0 else (parts[0][0], common[:cut])


def _names_allow(left, right) -> bool:
    """Whether two adjacent output names may come from one categorical column."""
    if left is None or not (_has_separator(left) and _has_separator(right)):
        return True
    return _common_stem([left, right]) is not None


def find_onehot_blocks(values, names=None) -> list:
    """The one-hot blocks among the columns of ``values``, by the module's rules.

    Parameters
    ----------
    values : ndarray or sparse matrix of shape (n_rows, n_columns)
        The raw (unscaled) numeric columns.
    names : sequence of str, optional
        The columns' names.

    Returns
    -------
    blocks : list of list of int
        Column positions of each block, in order; columns in no block are
        left out.

    Examples
    --------
    >>> import numpy as np
    >>> colour = np.eye(3)[[0, 1, 2, 1]]               # one-hot, 3 categories
    >>> size = np.array([[1, 0], [0, 0], [0, 1], [1, 0]])  # drop="first": zeros
    >>> values = np.hstack([colour, size, [[5.0], [2.0], [1.0], [0.5]]])
    >>> find_onehot_blocks(values)
    [[0, 1, 2], [3, 4]]
    >>> find_onehot_blocks(values, ["c_r", "c_g", "c_b", "s=M", "s=L", "x"])
    [[0, 1, 2], [3, 4]]
    """
    if sp.issparse(values):
        values = values.tocsc()
        values.sum_duplicates()
    n_rows, n_columns = values.shape
    binary = _binary_columns(values)
    # Rows with a 1 in the current block, cleared row by row: O(non-zeros), not O(rows x columns).
    blocks, current, marked, taken = [], [], [], np.zeros(n_rows, dtype=bool)
    for column in range(n_columns):
        rows = _active_rows(values, column) if binary[column] else None
        joins = (
            rows is not None
            and current
            and not taken[rows].any()
            and _names_allow(
                None if names is None else str(names[current[-1]]),
                None if names is None else str(names[column]),
            )
        )
        if not joins:
            if len(current) > 1:
                blocks.append(current)
            for rows_of_block in marked:
                taken[rows_of_block] = False
            current, marked = [], []
            if rows is None:
                continue
        current.append(column)
        marked.append(rows)
        taken[rows] = True
    if len(current) > 1:
        blocks.append(current)
    return blocks


def check_onehot_blocks(values, blocks) -> None:
    """Refuse blocks given by hand that are not one-hot: say which and why.

    Each block must hold columns of 0 and 1 only, no column twice, with at
    most one 1 per row.
    """
    seen = set()
    binary = _binary_columns(values)
    for block in blocks:
        if not block or seen & set(block) or len(set(block)) < len(block):
            raise ValueError(
                f"onehot_blocks: the block {block} is empty or shares a column with "
                "another block; give each column to one block at most."
            )
        seen |= set(block)
        if not binary[block].all():
            raise ValueError(f"onehot_blocks: the block {block} holds values other than 0 and 1.")
        count, _, _ = _actives(values[:, block])
        if count.max(initial=0) > 1:
            raise ValueError(
                f"onehot_blocks: row {int(count.argmax())} has {int(count.max())} ones in the "
                f"block {block}; a one-hot block has at most one 1 per row."
            )


def block_name(names, block) -> str:
    """The categorical column a block came from: the names' stem, or ``x<first>-x<last>``.

    Examples
    --------
    >>> block_name(["cat__colour_red", "cat__colour_blue"], [0, 1])
    'cat__colour'
    >>> block_name(None, [4, 5, 6])
    'x4-x6'
    """
    if names is not None:
        stem = _common_stem([names[j] for j in block])
        if stem is not None:
            transformer, column = stem
            return f"{transformer}__{column}" if transformer else column
        return f"{names[block[0]]}-{names[block[-1]]}"
    return f"x{block[0]}-x{block[-1]}"


def _actives(part):
    """Per row of the block ``part``: active columns, first active, and rows with more.

    Returns ``(count, first, broken)``, ``broken`` a list of ``(row,
    active columns)`` for the rows with two or more.
    """
    if sp.issparse(part):
        part = sp.csr_matrix(part)
        part.sum_duplicates()  # also sorts each row's columns
        part.eliminate_zeros()
        count = np.diff(part.indptr)
        first = np.zeros_like(count)
        first[count > 0] = part.indices[part.indptr[:-1][count > 0]]
        broken = [
            (row, part.indices[part.indptr[row] : part.indptr[row + 1]])
            for row in np.flatnonzero(count > 1)
        ]
        return count, first, broken
    active = np.asarray(part) != 0
    count = active.sum(axis=1)
    broken = [(row, np.flatnonzero(active[row])) for row in np.flatnonzero(count > 1)]
    return count, active.argmax(axis=1), broken


def block_codes(values, blocks):
    """Each block's category codes, and the extra active categories of rows that break it.

    Parameters
    ----------
    values : ndarray or sparse matrix of shape (n_rows, n_columns)
    blocks : list of list of int

    Returns
    -------
    codes : ndarray of int64, shape (n_rows, n_blocks)
        Code of the block's first active column (its category), or
        ``UNKNOWN_CODE`` where none is active, as in :mod:`skattn.nn`.
    extra : ndarray of int64, shape (n_rows, n_extra)
        Every further active column of a block, as ``block * BAG_STRIDE +
        code``, -1 where a row has fewer: the tokenizer adds their
        embeddings to the block's token. ``n_extra`` is 0 when every row
        keeps the pattern.

    Examples
    --------
    >>> import numpy as np
    >>> values = np.array([[0, 1, 0, 1], [0, 0, 1, 0], [1, 1, 0, 0]])
    >>> codes, extra = block_codes(values, [[0, 1, 2], [3]])
    >>> codes.tolist(), extra.tolist()  # row 2: column 1 of block 0 too
    ([[3, 2], [4, 1], [2, 1]], [[-1], [-1], [3]])
    """
    n_rows = values.shape[0]
    codes = np.full((n_rows, len(blocks)), UNKNOWN_CODE, dtype=np.int64)
    extras = []
    for b, block in enumerate(blocks):
        count, first, broken = _actives(values[:, block])
        codes[count > 0, b] = first[count > 0] + N_RESERVED_CODES
        for row, columns in broken:
            extras += [
                (row, b * BAG_STRIDE + int(column) + N_RESERVED_CODES) for column in columns[1:]
            ]
    if not extras:
        return codes, np.empty((n_rows, 0), dtype=np.int64)
    rows = np.array([row for row, _ in extras])
    width = np.bincount(rows).max()
    extra = np.full((n_rows, width), -1, dtype=np.int64)
    slot = np.zeros(n_rows, dtype=int)
    for row, value in extras:
        extra[row, slot[row]] = value
        slot[row] += 1
    return codes, extra

"""Sparse numeric columns, made dense a batch of rows at a time.

Standardising a sparse matrix (``(x - mean) / scale``) fills it in, so the
numeric columns of a ``scipy.sparse`` X stay sparse in :class:`SparseRows`
and every batch of rows the network reads is made dense on its own: memory
stays bounded by the batch, whatever the number of rows. Statistics over
all rows go a slice of columns at a time (:func:`column_slices`).
"""

import numpy as np
import scipy.sparse as sp
import torch

# Numbers per dense slice of columns while statistics are gathered (2 MiB as float64).
SLICE_VALUES = 2**18
# Huge but finite inputs (1e30) must not become inf in float32.
CLIP = 1e6


def column_slices(n_rows: int, n_columns: int):
    """Slices of columns whose dense form holds at most ``SLICE_VALUES`` numbers."""
    width = max(1, SLICE_VALUES // max(n_rows, 1))
    return [slice(start, start + width) for start in range(0, n_columns, width)]


def scale_rows(values, mean, scale) -> np.ndarray:
    """``(values - mean) / scale``, clipped to ``[-CLIP, CLIP]``, as float32."""
    return np.clip((values - mean) / scale, -CLIP, CLIP).astype(np.float32)


class SparseRows:
    """Standardised numeric columns of a sparse matrix, dense one batch at a time.

    Indexing with rows (a slice, integers, a boolean mask or a tensor of
    them) returns those rows as a dense float32 tensor; :meth:`take` keeps
    them sparse. NaN stays NaN (a missing value).

    Parameters
    ----------
    matrix : sparse matrix of shape (n_rows, n_columns)
        Raw values; made CSR.
    mean, scale : ndarray of shape (n_columns,)

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> rows = SparseRows(sp.csr_matrix([[0.0, 2.0], [4.0, 0.0]]), np.array([2.0, 1.0]),
    ...                   np.array([2.0, 1.0]))
    >>> len(rows), rows.shape, rows[1:].tolist()
    (2, (2, 2), [[1.0, -1.0]])
    """

    def __init__(self, matrix, mean, scale):
        self.matrix = sp.csr_matrix(matrix)
        self.mean = np.asarray(mean, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)

    def __len__(self):
        return self.matrix.shape[0]

    @property
    def shape(self):
        return self.matrix.shape

    def _index(self, rows):
        if isinstance(rows, torch.Tensor):
            rows = rows.cpu().numpy()
        return rows

    def __getitem__(self, rows) -> torch.Tensor:
        dense = self.matrix[self._index(rows)].toarray()
        return torch.from_numpy(scale_rows(dense, self.mean, self.scale))

    def take(self, rows) -> "SparseRows":
        """The given rows, still sparse."""
        return SparseRows(self.matrix[self._index(rows)], self.mean, self.scale)

    def points(self) -> sp.csr_matrix:
        """The rows as sparse points with the distances of the standardised rows.

        A shift by the mean moves no distance, so only the scale is applied;
        a missing value sits at its column's mean.
        """
        points = self.matrix.multiply(1 / self.scale[None, :]).tocsr()
        missing = np.isnan(points.data)
        if missing.any():
            columns = points.indices[missing]
            points.data[missing] = self.mean[columns] / self.scale[columns]
        return points


def keep_rows(values, rows):
    """``values[rows]``: :class:`SparseRows` stay sparse, arrays become tensors."""
    return values.take(rows) if isinstance(values, SparseRows) else torch.as_tensor(values)[rows]


def take_rows(values, rows):
    """``values[rows]`` as a tensor, for an array, a tensor or :class:`SparseRows`."""
    if isinstance(values, SparseRows):
        return values[rows]
    return torch.as_tensor(values)[rows]

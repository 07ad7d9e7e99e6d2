"""Weighted standardisation, the one place that turns values into (mean, scale).

The table encoder, the image and sequence encoder and the regressors' target
scaling all use :func:`weighted_mean_and_scale`.
"""

import numpy as np


def weighted_mean_and_scale(values, weight):
    """Weighted mean and standard deviation of each column, NaN ignored.

    Finite values of any size are fine: the sums run in units of a power of
    two near each column's largest magnitude, so that squares of values
    beyond 1e154 do not overflow, while ordinary values give exactly the
    bits they would without the units (a power of two scales exactly).

    Parameters
    ----------
    values : ndarray of shape (n_rows, n_columns)
        Float values, NaN where missing.
    weight : ndarray of shape (n_rows,)
        Non-negative row weights.

    Returns
    -------
    mean, scale : ndarray of shape (n_columns,)
        ``scale`` is the standard deviation, except where a column is
        constant (spread below 1e-12 of its size), entirely missing or
        spread wider than float64 can hold: there it is 1, or 1e-12 of the
        mean where that is larger, so that ``(values - mean) / scale`` is
        always defined and small.

    Examples
    --------
    >>> import numpy as np
    >>> values = np.array([[1.0, 5.0, 1e200, 3e200], [3.0, 5.0, -1e200, 3e200]])
    >>> mean, scale = weighted_mean_and_scale(values, np.ones(2))
    >>> mean.tolist(), scale.tolist()
    ([2.0, 5.0, 0.0, 3e+200], [1.0, 1.0, 1e+200, 3e+188])
    """
    present = ~np.isnan(values)
    magnitude = np.where(present, np.abs(values), 0.0).max(axis=0, initial=0.0)
    unit = np.ldexp(1.0, np.frexp(magnitude)[1] - 1)  # at most the magnitude: finite
    scaled = np.where(present, values / unit, 0.0)
    total = (present * weight[:, None]).sum(axis=0)
    safe_total = np.where(total > 0, total, 1.0)
    mean = scaled.T @ weight / safe_total
    squares = np.where(present, scaled - mean, 0.0) ** 2
    std = np.sqrt(squares.T @ weight / safe_total)
    mean, std = mean * unit, std * unit
    # A constant (or all-missing) column carries no scale to learn: 1 keeps
    # values as they are, and 1e-12 of a huge mean keeps the rounding noise
    # of a constant 1e200 (1e184 from its mean) from becoming an outlier.
    constant = ~(np.isfinite(std) & (std > 1e-12 * (1 + np.abs(mean))))
    return mean, np.where(constant, np.maximum(1.0, 1e-12 * np.abs(mean)), std)

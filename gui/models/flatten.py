"""Flatten, one element at a time: where element ``i`` of the vector comes from, and the vector so far.

A ``(C, H, W)`` volume unrolls in C order: element ``i = c·H·W + r·W + col``
reads cell ``(c, r, col)``. The pipeline window steps ``i`` forward and back
(or plays it) and shows the vector filled up to ``i``.
"""

from __future__ import annotations

import numpy as np

from engine import describe

__all__ = ["index_formula", "unrolled"]


def index_formula(cell: tuple[int, int, int], shape: tuple[int, int, int]) -> str:
    """``i = c·H·W + r·W + col = 1·3·3 + 2·3 + 0 = 15``: the element index of ``cell`` with its numbers.

    Parameters
    ----------
    cell : (c, r, col)
    shape : (C, H, W)
    """
    c, r, col = cell
    _, h, w = shape
    i = (c * h + r) * w + col
    return f"i = c·H·W + r·W + col = {c}·{h}·{w} + {r}·{w} + {col} = {i}"


def step_text(k: int, cell: tuple[int, int, int], shape: tuple[int, int, int], value: float) -> str:
    """The line the pipeline window shows for element ``k``: what it reads, its value and its index."""
    c, r, col = cell
    n = shape[0] * shape[1] * shape[2]
    return (f"flatten: element {k} of {n} = x[{c}, {r}, {col}] = {describe.fmt(value)}   "
            f"({index_formula(cell, shape)})")


def unrolled(vector: np.ndarray, k: int) -> np.ndarray:
    """The flattened vector as far as element ``k`` (NaN after it): what has been unrolled so far.

    Parameters
    ----------
    vector : ndarray, shape (N,)
    k : int
        ``0 <= k < N``.

    Returns
    -------
    ndarray, shape (N,)
    """
    out = np.array(vector, dtype=float)
    out[k + 1:] = np.nan
    return out

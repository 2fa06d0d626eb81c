"""Pictures as grids: area-average resizing and value scaling (pure NumPy)."""

from __future__ import annotations

import numpy as np

__all__ = ["area_matrix", "area_resize", "to_gray"]


def area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Weights ``(n_out, n_in)``: each output cell averages the input it covers, by overlap.

    Output cell ``i`` covers ``[i·n_in/n_out, (i+1)·n_in/n_out)`` of the input
    axis; its weight on input cell ``j`` is the length of the overlap with
    ``[j, j+1)`` divided by the cell's length. Rows sum to 1.
    """
    if n_in < 1 or n_out < 1:
        raise ValueError(f"sizes must be at least 1, got {n_in} -> {n_out}")
    edges = np.arange(n_out + 1) * (n_in / n_out)
    lo, hi = edges[:-1, None], edges[1:, None]
    j = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(hi, j + 1) - np.maximum(lo, j), 0.0, None)
    return overlap / (n_in / n_out)


def area_resize(img: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Resize ``img (C, H, W)`` to ``(C, out_h, out_w)`` by area averaging.

    The same numbers as weighting by ``area_matrix`` on each axis, computed from
    running sums (``_area_axis``): time and memory grow with the picture, not with
    the picture times the grid, so a 12-megapixel photo resizes in a blink.
    """
    img = np.asarray(img, dtype=float)
    if img.ndim != 3:
        raise ValueError(f"img must be (C, H, W), got shape {img.shape}")
    if out_h < 1 or out_w < 1:
        raise ValueError(f"sizes must be at least 1, got {out_h}x{out_w}")
    return _area_axis(_area_axis(img, out_w, axis=2), out_h, axis=1)


def _area_axis(x: np.ndarray, n_out: int, axis: int) -> np.ndarray:
    """Area-average ``x`` along ``axis`` to ``n_out`` cells.

    Input cell ``j`` holds a constant on ``[j, j+1)``; its integral up to ``t`` is
    ``P(t) = S[⌊t⌋] + (t − ⌊t⌋)·x[⌊t⌋]`` with ``S`` the running sum. Output cell ``i``
    covers ``[i·n/n_out, (i+1)·n/n_out)``, so its mean is the difference of ``P`` at
    its two edges over its length.
    """
    n = x.shape[axis]
    if n == n_out:
        return x.copy()
    x = np.moveaxis(x, axis, -1)
    running = np.concatenate([np.zeros((*x.shape[:-1], 1)), np.cumsum(x, axis=-1)], axis=-1)
    edges = np.arange(n_out + 1) * (n / n_out)
    whole = np.minimum(np.floor(edges).astype(np.intp), n - 1)
    part = edges - whole  # 0 <= part <= 1 (1 only at the far edge)
    at_edges = running[..., whole] + part * x[..., whole]
    out = np.diff(at_edges, axis=-1) / (n / n_out)
    return np.moveaxis(out, -1, axis)


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """Luma of ``rgb (3, H, W)`` as ``(1, H, W)`` (ITU-R BT.601 weights, as Qt's grayscale)."""
    rgb = np.asarray(rgb, dtype=float)
    return (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2])[None]

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
    """Resize ``img (C, H, W)`` to ``(C, out_h, out_w)`` by area averaging."""
    img = np.asarray(img, dtype=float)
    if img.ndim != 3:
        raise ValueError(f"img must be (C, H, W), got shape {img.shape}")
    a = area_matrix(img.shape[1], out_h)
    b = area_matrix(img.shape[2], out_w)
    return np.einsum("ih,chw,jw->cij", a, img, b)


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """Luma of ``rgb (3, H, W)`` as ``(1, H, W)`` (ITU-R BT.601 weights, as Qt's grayscale)."""
    rgb = np.asarray(rgb, dtype=float)
    return (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2])[None]

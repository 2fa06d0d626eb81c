"""A picture of one digit to LeNet-5's input, as MNIST prepared its digits.

The same function prepares the training digits (``engine.train``) and whatever
a user draws or opens (``gui.models.digits``), so the network always sees one
kind of picture:

1. grey levels to 0…1; the background is what most of the border is, so dark
   ink on light paper is inverted and light-on-dark is kept: ink is 1;
2. crop to the ink's bounding box (pixels above ``INK_LEVEL`` of the brightest);
3. scale the crop, keeping its aspect ratio, so its longer side is ``BOX``
   pixels (20 in a 32×32 input: MNIST's 20 in 28, padded to 32 as LeNet-5 read it);
4. place it so the ink's centre of mass is the input's centre (sub-pixel,
   clamped so the box stays inside), brightest ink scaled to 1;
5. strokes thinner than scikit-learn's drawn broad (``engine.strokes.thicken``:
   the ink's skeleton drawn over it with a broad pen), so pen width matters less.

Scaling and placing are one separable linear resampling (a triangle filter,
widened when shrinking so thin strokes are averaged, not skipped).
"""

from __future__ import annotations

import numpy as np

from .strokes import thicken

__all__ = ["BOX", "INK_LEVEL", "SIZE", "digit_input", "ink_on_black", "resample"]

#: Side of the network's input (pixels).
SIZE = 32
#: Side of the box the digit's longer side is scaled to.
BOX = 20
#: A pixel is ink (for the bounding box) above this fraction of the brightest ink.
INK_LEVEL = 0.05


def ink_on_black(picture: np.ndarray) -> np.ndarray:
    """Grey levels to 0…1 with the ink bright on a black background.

    Parameters
    ----------
    picture : ndarray, shape (H, W)
        Any range of grey levels; dark on light or light on dark.

    Returns
    -------
    ndarray, shape (H, W), float in [0, 1]
        All zeros for a blank (constant) picture.
    """
    p = np.asarray(picture, dtype=float)
    if p.ndim != 2 or min(p.shape) < 1:
        raise ValueError(f"a digit picture is one grey (H, W) array, got shape {p.shape}")
    if not np.all(np.isfinite(p)):
        raise ValueError("the digit picture has missing (NaN) or infinite grey levels")
    lo, hi = float(p.min()), float(p.max())
    if hi - lo <= 1e-12:
        return np.zeros(p.shape)
    p = (p - lo) / (hi - lo)
    border = np.concatenate([p[0], p[-1], p[:, 0], p[:, -1]])
    background = float(np.median(border))
    if background > 0.5:  # dark ink on light paper
        p = 1.0 - p
        background = 1.0 - background
    ink = np.clip(p - background, 0.0, None)
    top = float(ink.max())
    return ink / top if top > 0 else np.zeros(p.shape)


def _axis_matrix(n_src: int, n_dst: int, scale: float, offset: float) -> np.ndarray:
    """Resampling weights along one axis: ``dst = M @ src``, shape (n_dst, n_src).

    Destination pixel ``i`` (centre ``i + ½``) reads the source at
    ``u = (i + ½ − offset) / scale`` with a triangle filter of half-width
    ``max(1, 1/scale)`` source pixels. Each row's weights are divided by their
    sum over an unbounded source grid (outside reads 0), so a uniform area
    stays uniform: no ripple at any scale, and no brightening at the edges.
    """
    support = max(1.0, 1.0 / scale)
    u = (np.arange(n_dst) + 0.5 - offset) / scale
    reach = int(np.ceil(support)) + 1
    j = np.arange(-reach, n_src + reach)
    tri = np.clip(1.0 - np.abs((j[None, :] + 0.5 - u[:, None]) / support), 0.0, None)
    total = tri.sum(axis=1, keepdims=True)
    tri = tri / np.where(total > 0, total, 1.0)
    return tri[:, reach:reach + n_src]


def resample(img: np.ndarray, out_shape: tuple[int, int], scale: float,
             offset: tuple[float, float]) -> np.ndarray:
    """Scale ``img`` by ``scale`` and shift it by ``offset`` onto an ``out_shape`` grid.

    Parameters
    ----------
    img : ndarray, shape (H, W)
    out_shape : (H_out, W_out)
    scale : float
        Output pixels per input pixel.
    offset : (dy, dx)
        Where the input's top-left corner lands, in output pixels.

    Returns
    -------
    ndarray, shape out_shape
    """
    ry = _axis_matrix(img.shape[0], out_shape[0], scale, offset[0])
    rx = _axis_matrix(img.shape[1], out_shape[1], scale, offset[1])
    return np.asarray(ry @ img @ rx.T)


def digit_input(picture: np.ndarray) -> np.ndarray:
    """LeNet-5's input for a picture of one digit (see the module's steps).

    Parameters
    ----------
    picture : ndarray, shape (H, W)
        Grey levels, any range, dark on light or light on dark.

    Returns
    -------
    ndarray, shape (1, SIZE, SIZE), float in [0, 1]
        Ink 1, background 0; all zeros for a blank picture.
    """
    ink = ink_on_black(picture)
    out = np.zeros((1, SIZE, SIZE))
    rows = np.flatnonzero((ink > INK_LEVEL).any(axis=1))
    if rows.size == 0:
        return out
    cols = np.flatnonzero((ink > INK_LEVEL).any(axis=0))
    crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = crop.shape
    scale = BOX / max(h, w)
    mass = crop.sum()
    cy = float((crop.sum(axis=1) * (np.arange(h) + 0.5)).sum() / mass)
    cx = float((crop.sum(axis=0) * (np.arange(w) + 0.5)).sum() / mass)
    oy = float(np.clip(SIZE / 2 - scale * cy, 0.0, SIZE - scale * h))
    ox = float(np.clip(SIZE / 2 - scale * cx, 0.0, SIZE - scale * w))
    placed = resample(crop, (SIZE, SIZE), scale, (oy, ox))
    top = float(placed.max())
    if top > 0:
        out[0] = thicken(np.clip(placed / top, 0.0, 1.0))
    return out

"""Thin strokes drawn again with a broad pen: the ink's one-pixel skeleton, drawn at a fixed width.

``engine.preprocess.digit_input`` applies ``thicken`` to every prepared digit
(the training digits and whatever a user draws or opens): scikit-learn's
upsampled 8×8 strokes are broad and barely change, while a hairline drawn with
the mouse reaches the network as broad as they are. NumPy only.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PEN_RADIUS", "STROKE_LEVEL", "skeleton", "thicken"]

#: Ink above this fraction of the brightest is stroke (before thinning).
STROKE_LEVEL = 0.35
#: Radius of the pen that redraws the skeleton (pixels of the 32×32 input): full ink within
#: ``PEN_RADIUS − ½`` of the skeleton, fading to none at ``PEN_RADIUS + ½``.
PEN_RADIUS = 1.75


def _neighbours(p: np.ndarray) -> list[np.ndarray]:
    """The 8 neighbours of every inner pixel of the padded ``p``, clockwise from north (P2…P9)."""
    return [p[:-2, 1:-1], p[:-2, 2:], p[1:-1, 2:], p[2:, 2:],
            p[2:, 1:-1], p[2:, :-2], p[1:-1, :-2], p[:-2, :-2]]


def skeleton(ink: np.ndarray) -> np.ndarray:
    """Zhang–Suen thinning (1984): ``ink`` worn down to lines one pixel wide, connections kept.

    Parameters
    ----------
    ink : ndarray of bool, shape (H, W)

    Returns
    -------
    ndarray of bool, shape (H, W)
        A subset of ``ink``.
    """
    b = np.pad(np.asarray(ink, dtype=bool), 1)
    changed = True
    while changed:
        changed = False
        for step in (0, 1):
            n = _neighbours(b.astype(np.int8))
            count = sum(n)
            ring = [*n, n[0]]
            turns = sum(((ring[k] == 0) & (ring[k + 1] == 1)).astype(np.int8) for k in range(8))
            p2, p4, p6, p8 = n[0], n[2], n[4], n[6]
            if step == 0:
                side = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
            else:
                side = (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
            drop = b[1:-1, 1:-1] & (count >= 2) & (count <= 6) & (turns == 1) & side
            if drop.any():
                b[1:-1, 1:-1] &= ~drop
                changed = True
    return b[1:-1, 1:-1]


def thicken(ink: np.ndarray, radius: float = PEN_RADIUS) -> np.ndarray:
    """``ink`` with its skeleton drawn over it by a round pen of ``radius``: no stroke stays thinner.

    Parameters
    ----------
    ink : ndarray, shape (H, W), in [0, 1]
        Bright ink on 0.
    radius : float
        The pen's radius in pixels (anti-aliased edge one pixel wide).

    Returns
    -------
    ndarray, shape (H, W), in [0, 1]
        The brighter of ``ink`` and the redrawn skeleton (of the pixels above
        ``STROKE_LEVEL`` of the brightest); all zeros for blank ``ink``.
    """
    ink = np.asarray(ink, dtype=float)
    top = float(ink.max()) if ink.size else 0.0
    if top <= 0:
        return np.zeros(ink.shape)
    ys, xs = np.nonzero(skeleton(ink > STROKE_LEVEL * top))
    if ys.size == 0:  # a speck that thinning wore away
        return ink / top
    yy, xx = np.mgrid[0:ink.shape[0], 0:ink.shape[1]]
    d2 = (yy[..., None] - ys) ** 2 + (xx[..., None] - xs) ** 2
    dist = np.sqrt(d2.min(axis=-1))
    return np.maximum(ink / top, np.clip(radius + 0.5 - dist, 0.0, 1.0))

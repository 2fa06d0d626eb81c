"""scikit-learn's 8×8 digits drawn large, and redrawn the ways people draw them.

``render`` upsamples a digit onto a roomy canvas; ``thickness`` draws it as
a pen would (a soft threshold of the blurry upsampled grey levels: crisp
edges, thinner or thicker strokes); ``augment`` turns it a little, shears and
stretches it and draws it with a random pen. ``engine.preprocess.digit_input``
then prepares it as any picture is prepared; ``shift`` moves the prepared
input a pixel or two.
NumPy only.
"""

from __future__ import annotations

import numpy as np

from .preprocess import resample

__all__ = ["CANVAS", "PEN_LEVEL", "UPSCALE", "affine", "augment", "describe", "render", "shift", "thickness"]

#: Source pixels to canvas pixels (8×8 → 32×32), and the canvas side (room to turn).
UPSCALE, CANVAS = 4, 48
#: Largest turn (degrees) and shear; ranges of the source-per-output factors along y (TALL) and x
#: (NARROW: above 1 draws narrower); range of the pen's edge level (``thickness``).
TURN, SHEAR = 20, 0.35
TALL, NARROW = (0.85, 1.2), (0.8, 1.25)
PEN = (0.25, 0.75)
#: Elastic distortion: random shifts (standard deviation, canvas pixels) on a WARP_GRID × WARP_GRID
#: grid over the canvas, interpolated smoothly in between (wobbly strokes, uneven loops).
WARP, WARP_GRID = 2.0, 5
#: The pen's edge level of a digit drawn without augmentation (the held-out digits, the samples).
PEN_LEVEL = 0.45


def render(digit8: np.ndarray) -> np.ndarray:
    """An 8×8 digit (grey 0–16, ink bright) upsampled 4× into the middle of a 48×48 canvas.

    Parameters
    ----------
    digit8 : ndarray, shape (8, 8)

    Returns
    -------
    ndarray, shape (CANVAS, CANVAS), float in [0, 1]
    """
    img = np.asarray(digit8, dtype=float) / 16.0
    off = (CANVAS - UPSCALE * img.shape[0]) / 2
    big = resample(img, (CANVAS, CANVAS), UPSCALE, (off, off))
    # Bilinear upsampling leaves a ridge on every source pixel's edge; a blur over one source
    # pixel rounds the strokes, so a threshold (``thickness``) draws smooth outlines.
    blur = np.convolve(np.ones(UPSCALE), np.ones(UPSCALE)) / UPSCALE**2
    band = sum(t * np.eye(CANVAS, k=j - UPSCALE + 1) for j, t in enumerate(blur))
    return np.clip(band @ big @ band.T, 0.0, 1.0)


def affine(img: np.ndarray, matrix: np.ndarray, warp: np.ndarray | None = None) -> np.ndarray:
    """``img`` mapped by ``matrix`` about its centre, sampled bilinearly (outside reads 0).

    Parameters
    ----------
    img : ndarray, shape (H, W)
    matrix : ndarray, shape (2, 2)
        Maps an output offset from the centre ``(dy, dx)`` to the source offset it reads.
    warp : ndarray, shape (2, H, W), optional
        Added to the source position each output pixel reads (``dy``, ``dx``; elastic distortion).

    Returns
    -------
    ndarray, shape (H, W)
    """
    H, W = img.shape
    cy, cx = (H - 1) / 2, (W - 1) / 2
    yy, xx = np.mgrid[0:H, 0:W].astype(float)
    sy = matrix[0, 0] * (yy - cy) + matrix[0, 1] * (xx - cx) + cy
    sx = matrix[1, 0] * (yy - cy) + matrix[1, 1] * (xx - cx) + cx
    if warp is not None:
        sy, sx = sy + warp[0], sx + warp[1]
    y0, x0 = np.floor(sy).astype(int), np.floor(sx).astype(int)
    fy, fx = sy - y0, sx - x0
    padded = np.pad(img, 1)
    out = np.zeros_like(img, dtype=float)
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            r = np.clip(y0 + dy + 1, 0, H + 1)
            c = np.clip(x0 + dx + 1, 0, W + 1)
            out += wy * wx * padded[r, c]
    return out


def thickness(img: np.ndarray, level: float, softness: float = 0.08) -> np.ndarray:
    """Strokes redrawn at another width: a soft threshold at ``level`` (low: thick, high: thin).

    Parameters
    ----------
    img : ndarray, shape (H, W), in [0, 1]
    level : float
        Grey level that becomes the stroke's edge.
    softness : float
        Width of the edge's ramp, in grey levels.
    """
    return np.asarray(1.0 / (1.0 + np.exp(-(img - level) / softness)) * (img > 0.02))


def elastic(rng: np.random.Generator, side: int = CANVAS) -> np.ndarray:
    """A smooth random displacement field ``(2, side, side)``: ``WARP_GRID``² random shifts, interpolated."""
    knots = rng.normal(0.0, WARP, size=(2, WARP_GRID, WARP_GRID))
    scale = side / (WARP_GRID - 1)
    return np.stack([resample(k, (side, side), scale, (-scale / 2, -scale / 2)) for k in knots])


def augment(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A randomly turned, sheared, narrowed or widened, elastically bent copy of a rendered digit,
    drawn with a random pen.

    Parameters
    ----------
    img : ndarray, shape (CANVAS, CANVAS)
        From ``render``.
    rng : numpy Generator

    Returns
    -------
    ndarray, shape (CANVAS, CANVAS)
    """
    angle = np.deg2rad(rng.uniform(-TURN, TURN))
    c, s = np.cos(angle), np.sin(angle)
    turn = np.array([[c, -s], [s, c]])
    shear = np.array([[1.0, 0.0], [rng.uniform(-SHEAR, SHEAR), 1.0]])
    stretch = np.diag([rng.uniform(*TALL), rng.uniform(*NARROW)])
    return thickness(affine(img, turn @ shear @ stretch, elastic(rng, img.shape[0])), rng.uniform(*PEN))


def describe() -> str:
    """The augmentation's ranges in words (for the training record)."""
    return (f"turn ±{TURN}°, shear ±{SHEAR}, height ×{1 / TALL[1]:.2f}–{1 / TALL[0]:.2f}, width "
            f"×{1 / NARROW[1]:.2f}–{1 / NARROW[0]:.2f}, elastic shifts of {WARP} px (s.d.) on a "
            f"{WARP_GRID}×{WARP_GRID} grid, pen edge at grey level {PEN[0]}–{PEN[1]}")


def shift(x: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``x (..., H, W)`` moved by whole pixels, the vacated border filled with 0."""
    out = np.zeros_like(x)
    H, W = x.shape[-2:]
    src_r, dst_r = slice(max(0, -dy), H - max(0, dy)), slice(max(0, dy), H - max(0, -dy))
    src_c, dst_c = slice(max(0, -dx), W - max(0, dx)), slice(max(0, dx), W - max(0, -dx))
    out[..., dst_r, dst_c] = x[..., src_r, src_c]
    return out

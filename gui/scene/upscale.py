"""A tile's opaque cell colours put into its picture with NumPy, pixel for pixel as QPainter draws them.

QPainter draws a tile's colours by scaling a one-pixel-per-cell image up to the
picture (nearest cell, no smoothing), through its generic per-pixel path: about a
quarter of the work of a 32x32 lesson's new values. Which cell each device pixel
shows depends only on the tile's shape, size and place, not on the values: QPainter
draws it once (``cell_map``, an image whose pixels are their own cell numbers, drawn
the same way), and each new set of values is then two NumPy look-ups (``fill_cells``).
Where the drawn cells are not a plain grid of rows and columns, ``cell_map`` says
None and the caller draws with QPainter as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter

__all__ = ["MAP_FROM_PX", "CellMap", "cell_map", "fill_cells"]

#: Cells this many device pixels a side or more get a map. Smaller cells are drawn by QPainter: its
#: scaling is then cheap, while a map costs a QPainter draw and several NumPy passes over the picture
#: at every new size or place (a big lesson's ~100 tiles at every resize, text zoom, presenter switch
#: or expand: turns of 139-326 ms at the largest setting, against 42-147 ms drawn by QPainter).
MAP_FROM_PX = 2.0

#: Largest side (cells) a map can number: 12 bits of a pixel's colour each way.
MAX_CELLS = 4096


@dataclass(frozen=True, eq=False)
class CellMap:
    """Which cell each device pixel of a tile's picture shows.

    Attributes
    ----------
    top, left : int
        The picture's first pixel row and column the cells cover.
    rows : ndarray of int, shape (H,)
        The cell row each covered pixel row shows.
    cols : ndarray of int, shape (W,)
        The cell column each covered pixel column shows.
    """

    top: int
    left: int
    rows: np.ndarray
    cols: np.ndarray


def cell_map(size: tuple[int, int], dpr: float, shape: tuple[int, int], corner: tuple[float, float],
             place: Callable[[QPainter], None]) -> CellMap | None:
    """The ``CellMap`` of a picture ``size = (width, height)`` (device pixels, ratio ``dpr``) whose painter,
    placed by ``place``, draws a ``shape = (h, w)`` colour image (RGBA8888) over the cells' rectangle from
    ``corner``; None when the drawn cells are not rows and columns of whole pixels, or are smaller than
    ``MAP_FROM_PX`` (then draw them)."""
    h, w = shape
    if not (0 < h < MAX_CELLS and 0 < w < MAX_CELLS) or min(size[0] / w, size[1] / h) < MAP_FROM_PX:
        return None  # too many cells to number, or cells too small to be worth it (``MAP_FROM_PX``)
    ii, jj = np.indices(shape)
    index = np.empty((h, w, 4), np.uint8)  # each cell's own number as its colour, opaque
    index[..., 0] = jj & 0xFF
    index[..., 1] = (jj >> 8) | ((ii >> 8) << 4)
    index[..., 2] = ii & 0xFF
    index[..., 3] = 255
    source = QImage(index.data, w, h, 4 * w, QImage.Format.Format_RGBA8888)
    picture = QImage(size[0], size[1], QImage.Format.Format_ARGB32_Premultiplied)
    picture.fill(0)
    picture.setDevicePixelRatio(dpr)
    q = QPainter(picture)
    try:
        place(q)
        q.drawImage(QRectF(corner[0], corner[1], w, h), source)
    finally:
        q.end()
    bpl = picture.bytesPerLine() // 4
    drawn = np.frombuffer(picture.constBits(), np.uint32, count=size[1] * bpl).reshape(size[1], bpl)
    drawn = drawn[:, :size[0]]
    covered = drawn >> 24 != 0
    ys, xs = np.flatnonzero(covered.any(axis=1)), np.flatnonzero(covered.any(axis=0))
    if ys.size == 0:
        return None
    box = drawn[ys[0]:ys[-1] + 1, xs[0]:xs[-1] + 1]
    col = ((box >> 16) & 0xFF) | (((box >> 8) & 0xF) << 8)
    row = (box & 0xFF) | (((box >> 12) & 0xF) << 8)
    rows, cols = row[:, 0].astype(np.intp), col[0].astype(np.intp)
    if not ((box >> 24 == 255).all() and (row == rows[:, None]).all() and (col == cols[None, :]).all()):
        return None
    return CellMap(int(ys[0]), int(xs[0]), rows, cols)


def fill_cells(picture: np.ndarray, rgba: np.ndarray, where: CellMap | None,
               at: tuple[int, int] = (0, 0)) -> bool:
    """Put opaque cell colours ``rgba (h, w, 4)`` into ``picture``, premultiplied ARGB words ``(H, W)``, as
    QPainter draws them (``where``: from ``cell_map``); every other pixel is left as it was. ``picture``
    may be a part of the picture the map was made for, its top-left corner at pixel ``at = (x, y)`` of
    that one. False (and nothing put in) without a map: QPainter draws them."""
    if where is None:
        return False
    top, left, rows, cols = where.top, where.left, where.rows, where.cols
    if at == (0, 0) and picture.shape[0] >= top + rows.size and picture.shape[1] >= left + cols.size:
        line = np.take(_words(rgba), cols, axis=1)  # one pixel row per cell row
        picture[top:top + rows.size, left:left + cols.size] = line[rows]
        return True
    x0, y0 = max(at[0], left), max(at[1], top)  # in the whole picture's pixels
    x1 = min(at[0] + picture.shape[1], left + cols.size)
    y1 = min(at[1] + picture.shape[0], top + rows.size)
    if x1 > x0 and y1 > y0:  # only the cells these pixels show are looked at
        part = _words(rgba[np.ix_(rows[y0 - top:y1 - top], cols[x0 - left:x1 - left])])
        picture[y0 - at[1]:y1 - at[1], x0 - at[0]:x1 - at[0]] = part
    return True


def _words(rgba: np.ndarray) -> np.ndarray:
    """Opaque colours ``rgba (..., 4)`` as premultiplied ARGB words ``(...)``."""
    return ((rgba[..., 0].astype(np.uint32) << 16) | (rgba[..., 1].astype(np.uint32) << 8)
            | rgba[..., 2] | np.uint32(0xFF000000))

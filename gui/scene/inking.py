"""A tile's numbers put into its picture with NumPy: every glyph copied in one pass, not drawn one by one.

A tile's text picture starts transparent and holds one small glyph picture
per cell. QPainter draws each at its position rounded to whole pixels
(``qRound``) and blends it over the picture; where the picture is still
transparent that blend is a copy of the glyph's pixels. So when no glyph's ink
reaches into another cell, copying every glyph's inked pixels into the
picture's bytes gives exactly the picture QPainter gives, about ten times
faster (a 34×34 tile: ~0.15 ms instead of ~1.5 ms). When some ink would
overlap (type too large for its cell), ``ink_spots`` says no and the caller
draws with QPainter as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from PySide6.QtGui import QImage, QPixmap

__all__ = ["Ink", "Spots", "ink_of", "ink_spots", "qround"]

@dataclass(frozen=True, eq=False)
class Spots:
    """Where a tile's glyphs go: ``n`` spots, each a glyph at a device position in a cell.

    Attributes
    ----------
    glyphs : list of QPixmap
        The distinct glyph pictures.
    gid : ndarray of int, shape (n,)
        The glyph of each spot (QPainter draws the spots in this order).
    x, y : ndarray of float, shape (n,)
        Top-left corner of each glyph in device pixels, unrounded (QPainter rounds them).
    cell_x, cell_y : ndarray of int, shape (n, 2)
        The spot's cell in whole device pixels: ``[x0, x1) × [y0, y1)``.
    """

    glyphs: list[QPixmap]
    gid: np.ndarray
    x: np.ndarray
    y: np.ndarray
    cell_x: np.ndarray
    cell_y: np.ndarray


@dataclass(eq=False)
class Ink:
    """The inked part of one glyph picture.

    Attributes
    ----------
    pixels : ndarray of uint32, shape (h, w)
        Premultiplied ARGB of the glyph's bounding box of non-transparent pixels.
    top, left : int
        Where that box starts inside the glyph picture.
    """

    pixels: np.ndarray
    top: int
    left: int

    @cached_property
    def rows(self) -> np.ndarray:
        """Row in the box of each inked pixel, shape (k,)."""
        return np.nonzero(self.pixels)[0]

    @cached_property
    def cols(self) -> np.ndarray:
        """Column in the box of each inked pixel, shape (k,)."""
        return np.nonzero(self.pixels)[1]

    @cached_property
    def values(self) -> np.ndarray:
        """Premultiplied ARGB of each inked pixel, shape (k,)."""
        return self.pixels[self.pixels != 0]


_INKS: dict[int, Ink] = {}


def ink_of(glyph: QPixmap) -> Ink:
    """The inked box of ``glyph`` (cached by the picture's ``cacheKey``: glyphs are cached too)."""
    key = glyph.cacheKey()
    hit = _INKS.get(key)
    if hit is None:
        img = glyph.toImage().convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
        h, w = img.height(), img.width()
        a = np.frombuffer(img.constBits(), np.uint32, count=h * img.bytesPerLine() // 4)
        a = a.reshape(h, img.bytesPerLine() // 4)[:, :w]
        rows, cols = np.flatnonzero(a.any(axis=1)), np.flatnonzero(a.any(axis=0))
        if rows.size == 0:
            hit = Ink(np.zeros((0, 0), np.uint32), 0, 0)
        else:
            hit = Ink(a[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].copy(), int(rows[0]), int(cols[0]))
        if len(_INKS) > 4096:
            _INKS.clear()
        _INKS[key] = hit
    return hit


def qround(v: np.ndarray) -> np.ndarray:
    """Qt's ``qRound`` of each value: halves away from zero, as ints."""
    return np.where(v >= 0, np.floor(v + 0.5), np.ceil(v - 0.5)).astype(np.int64)


def ink_spots(canvas: np.ndarray, spots: Spots) -> bool:
    """Copy every glyph of ``spots`` into ``canvas`` as QPainter would draw it there; False (and
    ``canvas`` untouched) when some glyph's ink would leave its cell.

    Parameters
    ----------
    canvas : ndarray of uint32, shape (H, W)
        A transparent (all zero) premultiplied ARGB picture, written in place.
    spots : Spots
        The glyphs and where they go (device pixels of ``canvas``).
    """
    if spots.gid.size == 0:
        return True
    inks = [ink_of(gl) for gl in spots.glyphs]
    gid = spots.gid
    ph = np.array([k.pixels.shape[0] for k in inks])[gid]
    pw = np.array([k.pixels.shape[1] for k in inks])[gid]
    left = qround(spots.x) + np.array([k.left for k in inks])[gid]
    top = qround(spots.y) + np.array([k.top for k in inks])[gid]
    cx, cy = spots.cell_x, spots.cell_y
    big_h, big_w = canvas.shape
    if not ((left >= cx[:, 0]) & (left + pw <= cx[:, 1]) & (top >= cy[:, 0]) & (top + ph <= cy[:, 1])).all():
        return False
    if cx[:, 1].max() > big_w or cy[:, 1].max() > big_h or cx[:, 0].min() < 0 or cy[:, 0].min() < 0:
        return False
    # A table of every glyph's inked pixels, one row per glyph: offsets into ``canvas`` and values, a short
    # row padded with its glyph's last pixel (written again: the same value). Each spot is then a row of
    # it moved to the spot: one gather and one scatter, whatever the glyphs.
    count = np.array([k.values.size for k in inks])
    width = int(count.max())
    if width == 0:
        return True
    stride = canvas.strides[0] // canvas.itemsize
    start = np.cumsum(count) - count
    pick = start[:, None] + np.minimum(np.arange(width), np.maximum(count - 1, 0)[:, None])
    offsets = (np.concatenate([k.rows for k in inks]) * stride + np.concatenate([k.cols for k in inks]))[pick]
    values = np.concatenate([k.values for k in inks])[pick]
    base = top * stride + left
    if not count.all():  # a glyph with no ink (a space) puts nothing anywhere
        base, gid = base[count[gid] > 0], gid[count[gid] > 0]
    where = offsets[gid] + base[:, None]
    if canvas.flags.c_contiguous:
        canvas.reshape(-1)[where.ravel()] = values[gid].ravel()
    else:  # rows apart by more than their width (a picture's padded lines)
        canvas[where // stride, where % stride] = values[gid]
    return True
    offsets = np.empty((len(inks), width), np.intp)
    values = np.empty((len(inks), width), canvas.dtype)
    inked = np.array([k.values.size > 0 for k in inks])
    for g, k in enumerate(inks):
        if k.values.size:
            offsets[g] = np.pad(k.rows * stride + k.cols, (0, width - k.values.size), mode="edge")
            values[g] = np.pad(k.values, (0, width - k.values.size), mode="edge")
    base = top * stride + left
    if not inked.all():  # a glyph with no ink (a space) puts nothing anywhere
        base, gid = base[inked[gid]], gid[inked[gid]]
    flat = canvas.reshape(-1) if canvas.base is None or canvas.flags.c_contiguous else None
    where = offsets[gid] + base[:, None]
    if flat is None:  # a view with a row stride past its width (a QImage's padded lines)
        canvas[where // stride, where % stride] = values[gid]
    else:
        flat[where.ravel()] = values[gid].ravel()
    return True

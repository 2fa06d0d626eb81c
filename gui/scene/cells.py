"""A tile's cells: colours (or the empty colour), padding, overhang, inserted and unreached cells, grid lines.

Free functions of a painter in cell units (one unit a cell, the tile's top-left
corner at ``corner``), shared by the tile pictures and direct (SVG) drawing.
What a tile's ``kinds`` array says is worked out once per array (``kind_cells``):
the channels of a panel share one, and a 16-channel 512×512 change paints
~100 tiles from a few.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter

from ..models.frame import Grid
from .draw import bands, is_vector, screen_pen

__all__ = ["LINES_PX", "KindCells", "kind_cells", "paint_cells", "paint_lines", "paint_pending",
           "paint_unreached"]

#: Cells narrower than this (pixels) have no grid lines: finer grids read as pictures.
LINES_PX = 9

Corner = tuple[float, float]


@dataclass(frozen=True)
class KindCells:
    """What a ``kinds`` array marks, for painting.

    Attributes
    ----------
    marked : bool
        Some cell is not a real input cell (padding, overhang or inserted).
    overhang : tuple of ndarray of int, each shape (n,)
        Rows and columns of ceil-mode overhang cells (kind 2).
    inserted : list of (int, int)
        Cells a transposed convolution's stride inserts (kind 3).
    """

    marked: bool
    overhang: tuple[np.ndarray, np.ndarray]
    inserted: list[tuple[int, int]]


_KINDS: dict[int, tuple[np.ndarray, KindCells]] = {}


def kind_cells(kinds: np.ndarray) -> KindCells:
    """``KindCells`` of ``kinds`` (h, w), cached by the array's identity (held, so its id is not reused)."""
    hit = _KINDS.get(id(kinds))
    if hit is not None and hit[0] is kinds:
        return hit[1]
    out = KindCells(bool((kinds != 0).any()), np.nonzero(kinds == 2),
                    [(int(i), int(j)) for i, j in np.argwhere(kinds == 3).tolist()])
    if len(_KINDS) >= 64:
        _KINDS.clear()
    _KINDS[id(kinds)] = (kinds, out)
    return out


def paint_cells(p: QPainter, g: Grid, colours: tuple[np.ndarray, QImage] | None, corner: Corner,
                theme: dict[str, str], px: float) -> None:
    """Cell colours ``(rgba (h, w, 4), the same as an image)`` (None: the empty colour), then padding,
    overhang, border and unreached marks; ``px`` device pixels per cell."""
    h, w = g.shape
    x0, y0 = corner
    if colours is None:
        p.fillRect(QRectF(x0, y0, w, h), QColor(theme["empty"]))
    elif is_vector(p) and h * w <= 4096:
        rgba = colours[0]
        for i in range(h):  # vector output: one rectangle per cell
            for j in range(w):
                r, gr, b, a = (int(v) for v in rgba[i, j])
                p.fillRect(QRectF(x0 + j, y0 + i, 1, 1), QColor(r, gr, b, a))
    else:
        p.drawImage(QRectF(x0, y0, w, h), colours[1])
    kinds = g.kinds
    marks = None if kinds is None else kind_cells(kinds)
    if kinds is not None and marks is not None and marks.marked:
        veil = QColor(theme["background"])
        veil.setAlpha(110)
        # Hatching on screen; an SVG gets a plain tint, since not every reader draws patterns.
        tint = QColor(theme["padding"])
        tint.setAlpha(90)
        hatch = QBrush(tint) if is_vector(p) else QBrush(QColor(theme["padding"]), Qt.BrushStyle.BDiagPattern)
        pad, over, real = bands(kinds)
        for band in pad:
            band = band.translated(x0, y0)
            p.fillRect(band, veil)
            p.fillRect(band, hatch)
        for band in over:
            p.fillRect(band.translated(x0, y0), QColor(theme["background"]))
        if over and px >= 8:
            p.setPen(screen_pen(p, theme["padding"], 1.0, Qt.PenStyle.DotLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            for i, j in zip(*marks.overhang, strict=True):
                p.drawRect(QRectF(x0 + j + 0.05, y0 + i + 0.05, 0.9, 0.9))
        if marks.inserted:  # no value of their own: dimmed and framed dotted (as on the stage), so
            dim = QColor(theme["background"])  # they never pass for a real cell, on dL/dX too
            dim.setAlpha(170)
            for i, j in marks.inserted:
                p.fillRect(QRectF(x0 + j, y0 + i, 1, 1), dim)
            if px >= 8:
                p.setPen(screen_pen(p, theme["padding"], 1.5, Qt.PenStyle.DotLine))
                p.setBrush(Qt.BrushStyle.NoBrush)
                for i, j in marks.inserted:
                    p.drawRect(QRectF(x0 + j + 0.12, y0 + i + 0.12, 0.76, 0.76))
        p.setPen(screen_pen(p, theme["text"], 2.0))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(real.translated(x0, y0))
    if g.unreached_rows or g.unreached_cols:
        paint_unreached(p, g, corner, theme, px)


def paint_unreached(p: QPainter, g: Grid, corner: Corner, theme: dict[str, str], px: float) -> None:
    """Never-reached rows and columns: a tint and bold diagonal hatching a projector keeps, framed."""
    h, w = g.shape
    x0, y0 = corner
    tint = QColor(theme["unreached"])
    tint.setAlpha(55)
    line = QColor(theme["unreached"])
    line.setAlpha(200)
    strips = [QRectF(x0, y0 + i, w, 1) for i in g.unreached_rows]
    strips += [QRectF(x0 + j, y0, 1, h) for j in g.unreached_cols]
    step = 0.25 if px >= 24 else 0.5  # hatch spacing in cells: about 6 px or more apart
    p.save()
    for band in strips:
        p.fillRect(band, tint)
        p.setClipRect(band)
        p.setPen(screen_pen(p, line, 2.5))
        d = band.width() + band.height()
        k = np.arange(0.0, d + step, step)
        p.drawLines([QLineF(band.left() + t - band.height(), band.bottom(), band.left() + t, band.top())
                     for t in k.tolist()])
        p.setClipping(False)
        p.setPen(screen_pen(p, line, 2.0))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(band)
    p.restore()


def paint_pending(p: QPainter, g: Grid, corner: Corner, theme: dict[str, str]) -> None:
    """Direct drawing only: the empty colour over cells not computed yet."""
    h, w = g.shape
    if g.pending_from is None or g.pending_from >= h * w:
        return
    x0, y0 = corner
    r0, c0 = divmod(g.pending_from, w)
    empty = QColor(theme["empty"])
    p.fillRect(QRectF(x0 + c0, y0 + r0, w - c0, 1), empty)
    p.fillRect(QRectF(x0, y0 + r0 + 1, w, h - r0 - 1), empty)


def paint_lines(p: QPainter, g: Grid, corner: Corner, theme: dict[str, str], px: float) -> None:
    """The grid lines, one device pixel wide (none when cells are narrower than ``LINES_PX``)."""
    if px < LINES_PX:  # finer grids read as pictures: no lines
        return
    h, w = g.shape
    x0, y0 = corner
    p.setPen(screen_pen(p, theme["grid"], 1.0))
    p.drawLines([QLineF(x0, y0 + i, x0 + w, y0 + i) for i in range(h + 1)]
                + [QLineF(x0 + j, y0, x0 + j, y0 + h) for j in range(w + 1)])

"""One tile of the stage: cell colours, padding, unreached rows/columns, grid lines and the labels.

On a raster device (the screen, PNG/GIF/MP4 export) a tile is drawn once per
content and zoom into a picture at the device's resolution and every later
paint is a blit; cells not computed yet come from a blank version of the same
picture. New values redraw only what depends on them: the blank picture and the
grid lines are kept per shape, kinds and size (the lines are copied in, the
same pixels as drawing them), opaque cells' colours (``upscale``) and the numbers
(``inking``) go in with NumPy wherever that gives QPainter's very pixels. On a
vector device (SVG export) it is drawn directly, a rectangle per cell, so the
file stays vector. The text is exactly ``Grid.labels``; it is painted by a layer
of its own (``LabelLayer``) above the flow lines, so a line never crosses a number.

Coordinates: in the item, one unit is one cell; cell ``(i, j)`` of a tile whose
origin is ``(x0, y0)`` is centred on ``(x0 + j, y0 + i)``; y points down. A
tile drawn ``scale`` times larger keeps cell (0, 0) centred on its origin and
puts cell ``(i, j)`` at ``(x0 + scale*j, y0 + scale*i)`` in the scene.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPixmap, QTransform
from PySide6.QtWidgets import QGraphicsObject

from ..models.frame import Grid
from .cells import paint_cells, paint_lines, paint_pending
from .colour import TileRender
from .draw import bands, is_vector, repaint, screen_pen
from .inking import Spots, ink_spots, qround
from .numbers import MIN_NUMBER_PX, MIN_TEXT_CELL, numbers_fit
from .tilepics import TilePictures

__all__ = ["LABEL_Z", "GridItem", "LabelLayer", "bands", "glyph", "is_vector", "number_px", "screen_pen"]


_GLYPHS: dict[tuple[str, bool, int, float], QPixmap] = {}
#: Depth of the labels: above the flow lines (45) and window footprints (40), under the cell marks (50).
LABEL_Z = 46.0
#: A window's tag ("+3", "×−2") is written in a white band this share of the cell high, at its top.
TAG_BAND = 0.25
#: The largest number type (a share of the cell): its digits, centred, keep clear of the tag band and
#: of the corner count (bottom right) in presenter mode.
NUMBER_CAP = 0.52
#: The corner count's largest type (a share of the cell).
CORNER_CAP = 0.24


def number_px(px: float, longest: int, zoom: float) -> int:
    """Type size (pixels) of a cell's number: ``0.42·px`` grown by the text zoom up to ``NUMBER_CAP·px``,
    and never wider than the cell holds for ``longest`` characters."""
    return int(max(MIN_NUMBER_PX, min(px * 0.42 * max(zoom, 0.5), px * NUMBER_CAP,
                                      px * 1.5 / max(longest, 2))))


def glyph(s: str, dark: bool, size: int, dpr: float) -> QPixmap:
    """A small transparent picture of one string (cached: grids repeat few distinct labels)."""
    key = (s, dark, size, dpr)
    pix = _GLYPHS.get(key)
    if pix is None:
        if len(_GLYPHS) > 4096:
            _GLYPHS.clear()
        font = QFont()
        font.setPixelSize(size)
        fm = QFontMetricsF(font)
        wd, ht = fm.horizontalAdvance(s) + 2, fm.height() + 1
        pix = QPixmap(max(1, int(np.ceil(wd * dpr))), max(1, int(np.ceil(ht * dpr))))
        pix.setDevicePixelRatio(dpr)
        pix.fill(Qt.GlobalColor.transparent)
        gp = QPainter(pix)
        gp.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        gp.setFont(font)
        gp.setPen(QColor("#111111") if dark else QColor("#ffffff"))
        gp.drawText(QRectF(0, 0, wd, ht), Qt.AlignmentFlag.AlignCenter, s)
        gp.end()
        _GLYPHS[key] = pix
    return pix


class GridItem(TilePictures, QGraphicsObject):
    """One tile, painted from a ``Grid`` and its ``TileRender``."""

    def __init__(self, theme: dict[str, str]) -> None:
        super().__init__()
        self.theme = theme  # shared with the view: a theme switch reaches every item
        self.grid: Grid | None = None
        self.render: TileRender | None = None
        self.origin = (0.0, 0.0)
        self.scale_ = 1.0
        self.front = True
        self.cover: tuple[float, float] | None = None  # where the opaque tile over this one is (cells)
        self.zoom = 1.0  # the text zoom: cell numbers grow with it where the cell has room
        self.labels = LabelLayer(self)
        self._rect = QRectF()
        self._qimage = QImage()
        self._rgba = np.zeros((0, 0, 4), np.uint8)
        self._pics: dict[str, QPixmap | QImage] = {}
        self._stale: dict[str, tuple[object, float]] = {}  # the last picture of each name (kept on forget)
        # A few recent (key, held objects, pictures): toggling a setting back shows cached pictures.
        self._recent: list[tuple[tuple[object, ...], tuple[object, ...], dict[str, QPixmap | QImage]]] = []
        # Pictures that do not depend on the values (blank, grid lines), by shape, kinds and size.
        self._statics: dict[tuple[object, ...], tuple[object, QPixmap | QImage]] = {}

    def set_tile(self, grid: Grid, render: TileRender, origin: tuple[float, float], front: bool,
                 scale: float = 1.0, cover: tuple[float, float] | None = None,
                 dirty: QRectF | None = None) -> None:
        """Show ``grid`` with cell (0, 0) centred on ``origin = (x0, y0)``, cells ``scale`` scene units
        wide; text only when ``front``; ``cover``: an opaque tile of the same shape is drawn over this one
        that far away (in this one's cells), hiding all but a sliver (only that is drawn: ``tilepics``).
        Repaints ``dirty`` (item units; ``tile_damage``), or all of it."""
        if render is not self.render:
            h, w = render.rgba.shape[:2]
            # The image reads the render's bytes (kept alive with it): no copy of a big grid.
            self._rgba = np.ascontiguousarray(render.rgba)
            self._qimage = QImage(self._rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888)
        if render is not self.render or origin != self.origin or scale != self.scale_:
            self.prepareGeometryChange()
            self.labels.prepareGeometryChange()
            h, w = render.rgba.shape[:2]
            self._rect = QRectF(origin[0] - 0.5, origin[1] - 0.5, w, h)
            x0, y0 = origin
            t = QTransform(scale, 0.0, 0.0, scale, x0 * (1 - scale), y0 * (1 - scale))
            self.setTransform(t)
            self.labels.setTransform(t)
        self.grid, self.render, self.origin, self.front, self.scale_ = grid, render, origin, front, scale
        self.cover = cover
        repaint(self, dirty)  # None: the whole tile
        repaint(self.labels, dirty)

    def show(self, on: bool) -> None:
        """Show or hide the tile and its labels."""
        self.setVisible(on)
        self.labels.setVisible(on)

    def forget(self) -> None:
        """Drop the pictures and what they show (a theme change redraws from the grid)."""
        self.grid = self.render = None
        self._recent = []
        self._pics = {}
        self._statics = {k: v for k, v in self._statics.items() if k[0] == "cell map"}  # maps have no colour

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self._rect.adjusted(-0.1, -0.1, 0.1, 0.1)

    # ------------------------------------------------------------------ painting
    def paint(self, p: QPainter, *args: object) -> None:
        g, d = self.grid, self.render
        if g is None or d is None:
            return
        tr = p.transform()
        px = float(np.hypot(tr.m11(), tr.m12()))  # device pixels per cell
        if is_vector(p) or abs(tr.m12()) > 1e-9:
            self._paint_cells(p, g, d, px, blank=False)
            paint_pending(p, g, self._corner(), self.theme)
            paint_lines(p, g, self._corner(), self.theme, px)
            return
        self._blit(p, g, d, px, (("full", True), ("blank", False)))

    def paint_labels(self, p: QPainter) -> None:
        """The labels (``LabelLayer`` calls this): on the front tile only, cells computed so far."""
        g, d = self.grid, self.render
        if g is None or d is None or not self.front:
            return
        tr = p.transform()
        px = float(np.hypot(tr.m11(), tr.m12()))
        if px < MIN_TEXT_CELL or not numbers_fit(px, d.longest):  # (cheap test first: ``longest`` reads)
            return
        if is_vector(p) or abs(tr.m12()) > 1e-9:
            self._paint_text(p, g, d, px)
            return
        self._blit(p, g, d, px, (("text", True),))

    def _paint_cells(self, p: QPainter, g: Grid, d: TileRender, px: float, *, blank: bool) -> None:
        """Cell colours (or the empty colour), then padding, overhang, border and unreached marks."""
        paint_cells(p, g, None if blank else (d.rgba, self._qimage), self._corner(), self.theme, px)

    def _paint_text(self, p: QPainter, g: Grid, d: TileRender, px: float) -> None:
        """The labels (and corner labels), centred, in type sized to the cell."""
        tr = p.transform()
        dpr = p.device().devicePixelRatioF() if p.device() is not None else 1.0
        p.save()
        p.resetTransform()
        if is_vector(p):  # text stays text in an SVG; cells not computed yet stay empty
            self._write_text(p, g, d, px, tr)
        else:
            sp = self._spots(tr, dpr, g, d, px)
            at = np.argsort(sp.gid, kind="stable")  # label by label: where ink meets, it blends as it did
            for k, x, y in zip(sp.gid[at].tolist(), sp.x[at].tolist(), sp.y[at].tolist(), strict=True):
                p.drawPixmap(QPointF(x, y), sp.glyphs[k])
        self._paint_corners(p, g, d, px, tr, dpr)
        p.restore()

    def _text_picture(self, g: Grid, d: TileRender, px: float, dpr: float) -> QImage:
        """The "text" picture: the labels copied in with NumPy (``ink_spots``) where QPainter would give
        the same pixels, else drawn by ``_paint_text``; then the corner labels."""
        w, h = self._picture_size(d, px, dpr)
        img = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
        img.setDevicePixelRatio(dpr)
        img.fill(0)
        q = QPainter(img)
        try:
            self._place_painter(q, px)
            tr = q.transform()
            bits = np.frombuffer(img.bits(), np.uint32).reshape(h, img.bytesPerLine() // 4)[:, :w]
            if dpr == 1.0 and ink_spots(bits, self._spots(tr, dpr, g, d, px)):
                q.resetTransform()
                self._paint_corners(q, g, d, px, tr, dpr)
            else:
                self._paint_text(q, g, d, px)
        finally:
            q.end()
        return img

    def _spots(self, tr: QTransform, dpr: float, g: Grid, d: TileRender, px: float) -> Spots:
        """Where each label's glyph goes under the tile's transform ``tr``: every cell (a picture is
        clipped to the cells computed so far when shown)."""
        x0, y0 = self.origin[0] - 0.5, self.origin[1] - 0.5
        h, w = g.shape
        size = number_px(px, d.longest, self.zoom)
        sx, sy, dx, dy = tr.m11(), tr.m22(), tr.dx(), tr.dy()  # no rotation here: scale and shift
        codes = d.codes
        glyphs = [glyph(s, is_dark, size, dpr) for s, is_dark in codes.keys]
        gid, ii, jj = codes.gid, codes.rows, codes.cols
        half_w = np.array([gl.width() / dpr / 2 for gl in glyphs])[gid]
        half_h = np.array([gl.height() / dpr / 2 for gl in glyphs])[gid]
        edge_x = qround(sx * (x0 + np.arange(w + 1)) + dx)
        edge_y = qround(sy * (y0 + np.arange(h + 1)) + dy)
        return Spots(glyphs, gid, sx * (x0 + jj + 0.5) + dx - half_w, sy * (y0 + ii + 0.5) + dy - half_h,
                     np.stack([edge_x[jj], edge_x[jj + 1]], 1), np.stack([edge_y[ii], edge_y[ii + 1]], 1))

    def _write_text(self, p: QPainter, g: Grid, d: TileRender, px: float, tr: QTransform) -> None:
        """Vector output: every label as text, ``p`` in device coordinates, the tile under ``tr``."""
        x0, y0 = self.origin[0] - 0.5, self.origin[1] - 0.5
        h, w = g.shape
        font = QFont()
        font.setPixelSize(number_px(px, d.longest, self.zoom))
        p.setFont(font)
        sx, sy, dx, dy = tr.m11(), tr.m22(), tr.dx(), tr.dy()
        stop = h * w if g.pending_from is None else g.pending_from
        for (s, is_dark), (ii, jj) in d.groups.items():
            p.setPen(QColor("#111111") if is_dark else QColor("#ffffff"))
            keep = (ii * w + jj) < stop
            cx, cy = sx * (x0 + jj[keep] + 0.5) + dx, sy * (y0 + ii[keep] + 0.5) + dy
            for x, y in zip(cx.tolist(), cy.tolist(), strict=True):
                p.drawText(QRectF(x - px / 2, y - px / 2, px, px), Qt.AlignmentFlag.AlignCenter, s)

    def _paint_corners(self, p: QPainter, g: Grid, d: TileRender, px: float, tr: QTransform,
                       dpr: float) -> None:
        """The small corner labels (``p`` in device coordinates, the tile under ``tr``)."""
        if g.corner is None or px < 30:
            return
        x0, y0 = self.origin[0] - 0.5, self.origin[1] - 0.5
        small = int(max(8, min(px * 0.2 * max(self.zoom, 1.0), px * CORNER_CAP)))
        for i, j in zip(*np.nonzero(g.corner != ""), strict=True):
            gl = glyph(str(g.corner[i, j]), bool(d.dark[i, j]), small, dpr)
            gw, gh = gl.width() / dpr, gl.height() / dpr
            c = tr.map(QPointF(x0 + j + 1, y0 + i + 1))
            p.drawPixmap(QPointF(c.x() - gw - 2, c.y() - gh - 1), gl)


class LabelLayer(QGraphicsObject):
    """The labels of one ``GridItem``, drawn above the flow lines and the window footprints."""

    def __init__(self, tile: GridItem) -> None:
        super().__init__()
        self.tile = tile
        self.setZValue(LABEL_Z)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self.tile.boundingRect()

    def paint(self, p: QPainter, *args: object) -> None:
        self.tile.paint_labels(p)

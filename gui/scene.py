"""The one scene renderer: input, kernel and output grids, drawn from a ``Frame``.

The same ``SceneRenderer`` paints the window on screen and (offscreen) every
exported frame. It only lays out and paints what a ``Frame`` says; colours
are looked up once per frame, never inside ``paint``.

Coordinates: one scene unit is one cell; cell ``(i, j)`` of a grid whose
origin is ``(x0, y0)`` is centred on ``(x0 + j, y0 + i)``; the y axis points
down, like a matrix.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QLinearGradient,
    QPaintEngine,
    QPainter,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QGraphicsView, QSizePolicy

from engine.describe import fmt_cell

from .models.choices import OP_LABELS, THEME_COLOUR_MAPS, THEME_COLOURS
from .models.frame import Frame, Highlight

GAP = 2.5  # cells between panels
STACK_SHIFT = 0.35  # cells each channel behind the front one is shifted up-right

THEMES = THEME_COLOURS
#: Colour maps per theme: sequential for values, diverging (centred on zero) for signed ones.
THEME_CMAPS = THEME_COLOUR_MAPS


@dataclass
class TileData:
    """What one grid tile shows (built from a Frame; plain data).

    Attributes
    ----------
    rgba : ndarray of uint8, shape (H, W, 4)
    text : list of list of str
        Value strings per cell ("" for none).
    dark_text : ndarray of bool, shape (H, W)
        Whether a cell's text is drawn dark (on a light colour).
    kinds : ndarray of int8, shape (H, W) or None
        0 real, 1 padding, 2 overhang (input tiles only).
    unreached_rows, unreached_cols : ndarray of int
        Grid rows/columns to mark as never reached.
    """

    rgba: np.ndarray
    text: list[list[str]]
    dark_text: np.ndarray
    kinds: np.ndarray | None = None
    unreached_rows: np.ndarray | None = None
    unreached_cols: np.ndarray | None = None
    front: bool = True
    corner: list[list[str]] | None = None
    pending_from: int | None = None  # cells from this raster index on are not computed yet
    _groups: dict[tuple[str, bool], tuple[np.ndarray, np.ndarray]] | None = None
    _longest: int = 0

    def text_groups(self) -> tuple[dict[tuple[str, bool], tuple[np.ndarray, np.ndarray]], int]:
        """Cells by (text, dark) as row and column index arrays, and the longest text (computed once)."""
        if self._groups is None:
            cells: dict[tuple[str, bool], tuple[list[int], list[int]]] = {}
            for i, row in enumerate(self.text):
                for j, s in enumerate(row):
                    if s:
                        rows, cols = cells.setdefault((s, bool(self.dark_text[i, j])), ([], []))
                        rows.append(i)
                        cols.append(j)
            self._groups = {k: (np.array(r), np.array(c)) for k, (r, c) in cells.items()}
            self._longest = max((len(s) for s, _ in self._groups), default=1)
        return self._groups, self._longest


def _bands(kinds: np.ndarray) -> tuple[list[QRectF], list[QRectF], QRectF]:
    """Rectangles (cell units, origin at cell (0, 0)'s corner) covering padding and overhang.

    The real cells form one block; explicit padding rings it and ceil-mode
    overhang lies past it on the bottom/right, so a few bands cover each.
    """
    h, w = kinds.shape
    rr, rc = np.nonzero(kinds == 0)
    r0, r1, c0, c1 = rr.min(), rr.max() + 1, rc.min(), rc.max() + 1
    inside_r = np.flatnonzero((kinds <= 1).any(axis=1))
    inside_c = np.flatnonzero((kinds <= 1).any(axis=0))
    R1, C1 = inside_r.max() + 1, inside_c.max() + 1
    pad = [QRectF(0, 0, C1, r0), QRectF(0, r1, C1, R1 - r1), QRectF(0, r0, c0, r1 - r0),
           QRectF(c1, r0, C1 - c1, r1 - r0)]
    over = [QRectF(C1, 0, w - C1, h), QRectF(0, R1, C1, h - R1)]
    keep = [r for r in pad if r.width() > 0 and r.height() > 0]
    return keep, [r for r in over if r.width() > 0 and r.height() > 0], QRectF(c0, r0, c1 - c0, r1 - r0)


def colorize(values: np.ndarray, levels: tuple[float, float], cmap: pg.ColorMap,
             empty: QColor, *, show_text: bool) -> TileData:
    """Map ``values (H, W)`` through ``cmap`` with fixed ``levels``; NaN cells become ``empty``."""
    lo, hi = levels
    finite = np.isfinite(values)
    norm = np.clip((np.where(finite, values, lo) - lo) / (hi - lo), 0.0, 1.0)
    rgba = apply_lut(cmap, norm)
    rgba[~finite] = (empty.red(), empty.green(), empty.blue(), 255)
    lum = 0.299 * rgba[..., 0] + 0.587 * rgba[..., 1] + 0.114 * rgba[..., 2]
    dark = lum > 140
    text: list[list[str]] = []
    groups: dict[tuple[str, bool], tuple[np.ndarray, np.ndarray]] | None = None
    if show_text:
        # One string per distinct value; cells grouped by (string, dark) with NumPy.
        flat = values.ravel()
        ok = np.flatnonzero(np.isfinite(flat))
        uniq, inverse = np.unique(flat[ok], return_inverse=True)
        labels = [fmt_cell(v) for v in uniq.tolist()]
        strings = np.full(flat.size, "", dtype=object)
        strings[ok] = np.array(labels, dtype=object)[inverse] if labels else []
        text = strings.reshape(values.shape).tolist()
        code = inverse * 2 + dark.ravel()[ok]
        order = np.argsort(code, kind="stable")
        bounds = np.flatnonzero(np.diff(code[order])) + 1
        groups = {}
        w = values.shape[1]
        for part in np.split(order, bounds) if order.size else []:
            c = int(code[part[0]])
            cells = ok[part]
            key = (labels[c // 2], bool(c % 2))
            if key[0]:
                groups[key] = (cells // w, cells % w)
    data = TileData(rgba, text, dark)
    if groups is not None:
        data._groups = groups
        data._longest = max((len(s) for s, _ in groups), default=1)
    return data


_LUTS: dict[str, np.ndarray] = {}


def apply_lut(cmap: pg.ColorMap, norm: np.ndarray) -> np.ndarray:
    """RGBA bytes ``(..., 4)`` for values ``norm`` in [0, 1]: one 32-bit lookup per cell."""
    lut32 = lut_bytes(cmap).view(np.uint32).ravel()
    idx = (norm * 255.0 + 0.5).astype(np.uint8)
    return np.take(lut32, idx).view(np.uint8).reshape(*norm.shape, 4)


def lut_bytes(cmap: pg.ColorMap) -> np.ndarray:
    """256 RGBA bytes of ``cmap`` (indexing this is ~10x faster than ``ColorMap.map``)."""
    key = cmap.name or str(id(cmap))
    lut = _LUTS.get(key)
    if lut is None:
        lut = np.ascontiguousarray(cmap.getLookupTable(0.0, 1.0, 256, alpha=True, mode="byte"), np.uint8)
        _LUTS[key] = lut
    return lut


def screen_pen(p: QPainter, color: QColor | str, width_px: float,
               style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    """A pen ``width_px`` screen pixels wide, whatever the zoom.

    On screen and in pictures it is a cosmetic pen; in an SVG it is a plain
    pen as wide in scene units, since not every SVG reader honours
    ``non-scaling-stroke``.
    """
    pen = QPen(QColor(color), width_px, style)
    if _is_vector(p):
        tr = p.transform()
        pen.setWidthF(width_px / max(float(np.hypot(tr.m11(), tr.m12())), 1e-9))
    else:
        pen.setCosmetic(True)
    return pen


_DIGESTS: dict[int, tuple[np.ndarray, bytes]] = {}


def _digest(a: np.ndarray) -> bytes:
    """A short fingerprint of an array's shape and values (remembered per array object)."""
    seen = _DIGESTS.get(id(a))
    if seen is not None and seen[0] is a:
        return seen[1]
    c = np.ascontiguousarray(a)
    person = str(c.shape).encode()[:16]
    digest = hashlib.blake2b(c.view(np.uint8).data, digest_size=16, person=person).digest()
    if len(_DIGESTS) > 64:
        _DIGESTS.clear()
    _DIGESTS[id(a)] = (a, digest)  # holding ``a`` keeps its id from being reused while remembered
    return digest


def _is_vector(p: QPainter) -> bool:
    """True when ``p`` paints on a vector device (an SVG), not into pixels."""
    engine = p.paintEngine()
    return engine is not None and engine.type() != QPaintEngine.Type.Raster


class GridOverlay(pg.GraphicsObject):
    """One tile: cell colours, padding marks, unreached rows/columns, grid lines and values.

    On a raster device (the screen, PNG/GIF/MP4 export) the tile is drawn once
    per data and zoom into a picture at the device's resolution, and every
    later paint is a blit; cells not computed yet come from a blank version
    of the same picture. On a vector device (SVG export) it is drawn directly,
    a rectangle per cell, so the file stays vector.
    """

    def __init__(self, theme: dict[str, str]) -> None:
        super().__init__()
        self.theme = theme
        self.data: TileData | None = None
        self.origin = (0.0, 0.0)
        self._rect = QRectF()
        self._qimage = QImage()
        self._pics: dict[str, QPixmap] = {}
        # A few recent (key, data, pictures): toggling a setting back shows cached pictures again.
        self._recent: list[tuple[tuple, TileData, dict[str, QPixmap]]] = []

    def set_tile(self, data: TileData, origin: tuple[float, float]) -> None:
        """Show ``data`` with cell (0, 0) centred on ``origin = (x0, y0)``."""
        if data is not self.data:
            h, w = data.rgba.shape[:2]
            rgba = np.ascontiguousarray(data.rgba)
            self._qimage = QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
        if data is not self.data or origin != self.origin:
            self.prepareGeometryChange()
            h, w = data.rgba.shape[:2]
            self._rect = QRectF(origin[0] - 0.5, origin[1] - 0.5, w, h)
        self.data = data
        self.origin = origin
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self._rect.adjusted(-0.1, -0.1, 0.1, 0.1)

    # ------------------------------------------------------------------ painting
    def paint(self, p: QPainter, *args: object) -> None:
        d = self.data
        if d is None:
            return
        tr = p.transform()
        px = float(np.hypot(tr.m11(), tr.m12()))  # device pixels per cell
        if _is_vector(p) or px < 1.0 or abs(tr.m12()) > 1e-9:
            self._paint_cells(p, d, px, blank=False)
            self._paint_pending(p, d)
            self._paint_lines(p, d, px)
            if px >= 16 and d.front:
                self._paint_text(p, d, px)
            return
        dpr = p.device().devicePixelRatioF() if p.device() is not None else 1.0
        key = (id(d), round(px, 3), dpr, d.front, d.corner is not None,
               None if d.unreached_rows is None else (tuple(d.unreached_rows), tuple(d.unreached_cols)))
        hit = next((e for e in self._recent if e[0] == key and e[1] is d), None)
        if hit is None:
            hit = (key, d, {})  # holding ``d`` keeps its id from being reused while cached
            self._recent = [hit, *self._recent[:3]]
        self._pics = hit[2]
        h, w = d.rgba.shape[:2]
        stop = h * w if d.pending_from is None else d.pending_from
        x0, y0 = self.origin[0] - 0.5, self.origin[1] - 0.5
        top_left = tr.map(QPointF(x0, y0))
        p.save()
        p.resetTransform()
        r0, c0 = divmod(stop, w)
        done = [(0, r0, 0, w), (r0, r0 + 1, 0, c0)] if stop < h * w else [(0, h, 0, w)]
        todo = [(r0, r0 + 1, c0, w), (r0 + 1, h, 0, w)] if stop < h * w else []
        for name, parts in (("full", done), ("blank", todo)):
            for i0, i1, j0, j1 in parts:
                if i1 <= i0 or j1 <= j0:
                    continue
                extra_w = 1.0 if j1 == w else 0.0  # the last grid line lies on the far edge
                extra_h = 1.0 if i1 == h else 0.0
                p.setClipRect(QRectF(top_left.x() + j0 * px, top_left.y() + i0 * px,
                                     (j1 - j0) * px + extra_w, (i1 - i0) * px + extra_h))
                p.drawPixmap(top_left, self._picture(name, d, px, dpr))
        p.restore()

    def _picture(self, name: str, d: TileData, px: float, dpr: float) -> QPixmap:
        """The tile drawn at ``px`` pixels per cell: "full", or "blank" (not computed yet)."""
        pix = self._pics.get(name)
        if pix is None:
            h, w = d.rgba.shape[:2]
            # One pixel more each way: the last grid line sits exactly on the far edge.
            pix = QPixmap(int(np.ceil(w * px * dpr)) + 1, int(np.ceil(h * px * dpr)) + 1)
            pix.setDevicePixelRatio(dpr)
            pix.fill(Qt.GlobalColor.transparent)
            g = QPainter(pix)
            try:
                g.scale(px, px)
                g.translate(-(self.origin[0] - 0.5), -(self.origin[1] - 0.5))
                blank = name == "blank"
                self._paint_cells(g, d, px, blank=blank)
                self._paint_lines(g, d, px)
                if px >= 16 and d.front and not blank:
                    self._paint_text(g, d, px)
            finally:
                g.end()
            self._pics[name] = pix
        return pix

    def _paint_cells(self, p: QPainter, d: TileData, px: float, *, blank: bool) -> None:
        """Cell colours (or the empty colour), then padding, overhang, border and unreached marks."""
        h, w = d.rgba.shape[:2]
        x0, y0 = self.origin[0] - 0.5, self.origin[1] - 0.5
        if blank:
            p.fillRect(QRectF(x0, y0, w, h), QColor(self.theme["empty"]))
        elif _is_vector(p) and h * w <= 4096:
            for i in range(h):  # vector output: one rectangle per cell
                for j in range(w):
                    r, g, b, a = (int(v) for v in d.rgba[i, j])
                    p.fillRect(QRectF(x0 + j, y0 + i, 1, 1), QColor(r, g, b, a))
        else:
            p.drawImage(QRectF(x0, y0, w, h), self._qimage)
        if d.kinds is not None and (d.kinds != 0).any():
            veil = QColor(self.theme["background"])
            veil.setAlpha(110)
            # Hatching on screen; an SVG gets a plain tint, since not every reader draws patterns.
            hatch = QColor(self.theme["padding"]) if _is_vector(p) else QBrush(
                QColor(self.theme["padding"]), Qt.BrushStyle.BDiagPattern)
            if isinstance(hatch, QColor):
                hatch.setAlpha(90)
            pad, over, real = _bands(d.kinds)
            for r in pad:
                r = r.translated(x0, y0)
                p.fillRect(r, veil)
                p.fillRect(r, hatch)
            for r in over:
                p.fillRect(r.translated(x0, y0), QColor(self.theme["background"]))
            if over and px >= 8:
                p.setPen(screen_pen(p, self.theme["padding"], 1.0, Qt.PenStyle.DotLine))
                p.setBrush(Qt.BrushStyle.NoBrush)
                for i, j in zip(*np.nonzero(d.kinds == 2), strict=True):
                    p.drawRect(QRectF(x0 + j + 0.05, y0 + i + 0.05, 0.9, 0.9))
            p.setPen(screen_pen(p, self.theme["text"], 2.0))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(real.translated(x0, y0))
        if d.unreached_rows is not None and (len(d.unreached_rows) or len(d.unreached_cols)):
            mark = QColor(self.theme["unreached"])
            mark.setAlpha(70)
            brush = QBrush(mark) if _is_vector(p) else QBrush(mark, Qt.BrushStyle.FDiagPattern)
            for i in d.unreached_rows:
                p.fillRect(QRectF(x0, y0 + i, w, 1), brush)
            for j in d.unreached_cols:
                p.fillRect(QRectF(x0 + j, y0, 1, h), brush)

    def _paint_pending(self, p: QPainter, d: TileData) -> None:
        """Direct drawing only: the empty colour over cells not computed yet."""
        h, w = d.rgba.shape[:2]
        if d.pending_from is None or d.pending_from >= h * w:
            return
        x0, y0 = self.origin[0] - 0.5, self.origin[1] - 0.5
        r0, c0 = divmod(d.pending_from, w)
        empty = QColor(self.theme["empty"])
        p.fillRect(QRectF(x0 + c0, y0 + r0, w - c0, 1), empty)
        p.fillRect(QRectF(x0, y0 + r0 + 1, w, h - r0 - 1), empty)

    def _paint_lines(self, p: QPainter, d: TileData, px: float) -> None:
        if px < 9:  # finer grids read as pictures: no lines
            return
        h, w = d.rgba.shape[:2]
        x0, y0 = self.origin[0] - 0.5, self.origin[1] - 0.5
        p.setPen(screen_pen(p, self.theme["grid"], 1.0))
        p.drawLines([QLineF(x0, y0 + i, x0 + w, y0 + i) for i in range(h + 1)]
                    + [QLineF(x0 + j, y0, x0 + j, y0 + h) for j in range(w + 1)])

    def _paint_text(self, p: QPainter, d: TileData, px: float) -> None:
        """Cell values (and corner counts), centred, in type sized to the cell."""
        x0, y0 = self.origin[0] - 0.5, self.origin[1] - 0.5
        tr = p.transform()
        dpr = p.device().devicePixelRatioF() if p.device() is not None else 1.0
        vector = _is_vector(p)
        h, w = d.rgba.shape[:2]
        groups, longest = d.text_groups()
        size = int(max(7, min(px * 0.42, px * 1.5 / max(longest, 2))))
        p.save()
        p.resetTransform()
        font = QFont()
        font.setPixelSize(size)
        p.setFont(font)
        dark, light = QColor("#111111"), QColor("#ffffff")
        sx, sy, dx, dy = tr.m11(), tr.m22(), tr.dx(), tr.dy()  # no rotation here: scale and shift
        for (s, is_dark), (ii, jj) in groups.items():
            cx = sx * (x0 + jj + 0.5) + dx
            cy = sy * (y0 + ii + 0.5) + dy
            if vector:  # text stays text in an SVG; cells not computed yet stay empty
                p.setPen(dark if is_dark else light)
                keep = (ii * w + jj) < (h * w if d.pending_from is None else d.pending_from)
                for x, y in zip(cx[keep].tolist(), cy[keep].tolist(), strict=True):
                    p.drawText(QRectF(x - px / 2, y - px / 2, px, px), Qt.AlignmentFlag.AlignCenter, s)
            else:
                g = _glyph(s, is_dark, size, dpr)
                gw, gh = g.width() / dpr, g.height() / dpr
                for x, y in zip((cx - gw / 2).tolist(), (cy - gh / 2).tolist(), strict=True):
                    p.drawPixmap(QPointF(x, y), g)
        if d.corner is not None and px >= 30:
            small = int(max(8, px * 0.2))
            for i, row in enumerate(d.corner):
                for j, s in enumerate(row):
                    if s:
                        g = _glyph(s, bool(d.dark_text[i, j]), small, dpr)
                        gw, gh = g.width() / dpr, g.height() / dpr
                        c = tr.map(QPointF(x0 + j + 1, y0 + i + 1))
                        p.drawPixmap(QPointF(c.x() - gw - 2, c.y() - gh - 1), g)
        p.restore()


_GLYPHS: dict[tuple[str, bool, int, float], QPixmap] = {}


def _glyph(s: str, dark: bool, size: int, dpr: float) -> QPixmap:
    """A small transparent picture of one string (cached: grids repeat few distinct values)."""
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


class CellMarks(pg.GraphicsObject):
    """Outlined cells at offsets from the item's position (a window, a cell, a receptive field).

    Moving the item with ``setPos`` moves the whole pattern: the glide.
    """

    def __init__(self, color: str, width: float = 3.0, fill_alpha: int = 60) -> None:
        super().__init__()
        self.color = QColor(color)
        self.width = width
        self.fill_alpha = fill_alpha
        self.cells: list[tuple[float, float]] = []  # (row, col) offsets
        self.labels: list[str] = []
        self.special: tuple[float, float] | None = None
        self.outline: QRectF | None = None
        self._rect = QRectF()

    def set_cells(self, cells: list[tuple[float, float]], *, labels: list[str] | None = None,
                  special: tuple[float, float] | None = None, outline: QRectF | None = None) -> None:
        """Cells as ``(row, col)`` offsets (centres); optional small labels and a marked cell."""
        self.prepareGeometryChange()
        self.cells = cells
        self.labels = labels or []
        self.special = special
        self.outline = outline
        if cells:
            rs = [c[0] for c in cells]
            cs = [c[1] for c in cells]
            self._rect = QRectF(min(cs) - 0.6, min(rs) - 0.6,
                                max(cs) - min(cs) + 1.2, max(rs) - min(rs) + 1.2)
            if outline is not None:
                self._rect = self._rect.united(outline.adjusted(-0.1, -0.1, 0.1, 0.1))
        else:
            self._rect = QRectF()
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self._rect

    def paint(self, p: QPainter, *args: object) -> None:
        if not self.cells:
            return
        fill = QColor(self.color)
        fill.setAlpha(self.fill_alpha)
        pen = screen_pen(p, self.color, self.width)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        if self.outline is not None:
            p.setPen(screen_pen(p, self.color, 1.5, Qt.PenStyle.DashLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(self.outline)
        p.setPen(pen)
        p.setBrush(fill)
        for r, c in self.cells:
            p.drawRect(QRectF(c - 0.5, r - 0.5, 1, 1))
        if self.special is not None:
            p.setPen(screen_pen(p, self.color, self.width * 2.2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            r, c = self.special
            p.drawEllipse(QRectF(c - 0.42, r - 0.42, 0.84, 0.84))
        if self.labels:
            tr = p.transform()
            px = float(np.hypot(tr.m11(), tr.m12()))
            if px >= 28:
                p.save()
                p.resetTransform()
                font = QFont()
                font.setPixelSize(int(max(8, px * 0.22)))
                font.setBold(True)
                p.setFont(font)
                for (r, c), s in zip(self.cells, self.labels, strict=False):
                    tl = tr.map(QPointF(c - 0.5, r - 0.5))
                    box = QRectF(tl.x() + 2, tl.y() + 1, px - 4, px * 0.3)
                    p.fillRect(box.adjusted(0, 0, 0, 0), QColor(255, 255, 255, 200))
                    p.setPen(QColor("#000000"))
                    p.drawText(box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, s)
                p.restore()


class Legend(pg.GraphicsObject):
    """A colour bar with its lowest and highest value, under a panel."""

    def __init__(self, theme: dict[str, str]) -> None:
        super().__init__()
        self.theme = theme
        self.colors: list[QColor] = []
        self.labels = ("", "")
        self.rect = QRectF()
        self._key: tuple | None = None

    def set_legend(self, cmap: pg.ColorMap, levels: tuple[float, float], rect: QRectF,
                   labels: tuple[str, str] | None = None) -> None:
        """Show ``cmap`` from ``levels[0]`` to ``levels[1]`` in ``rect`` (scene units)."""
        labels = labels or (fmt_cell(levels[0]), fmt_cell(levels[1]))
        key = (cmap.name, labels, rect.getRect())
        if key == self._key:
            return
        self._key = key
        self.prepareGeometryChange()
        rgba = lut_bytes(cmap)[::16]
        self.colors = [QColor(*(int(v) for v in c[:3])) for c in rgba]
        self.labels = labels
        self.rect = rect
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self.rect.adjusted(-0.5, 0, 0.5, 1.2)

    def paint(self, p: QPainter, *args: object) -> None:
        if not self.colors:
            return
        r = self.rect
        grad = QLinearGradient(r.left(), 0.0, r.right(), 0.0)
        n = len(self.colors)
        for k, c in enumerate(self.colors):
            grad.setColorAt(k / (n - 1), c)
        p.fillRect(r, QBrush(grad))
        tr = p.transform()
        px = float(np.hypot(tr.m11(), tr.m12()))
        p.save()
        p.resetTransform()
        font = QFont()
        font.setPixelSize(int(min(max(10, px * 0.3), 22)))
        p.setFont(font)
        p.setPen(QColor(self.theme["text"]))
        left = tr.map(QPointF(r.left(), r.bottom()))
        right = tr.map(QPointF(r.right(), r.bottom()))
        h = font.pixelSize() * 1.6
        p.drawText(QRectF(left.x(), left.y() + 2, 200, h), Qt.AlignmentFlag.AlignLeft, self.labels[0])
        p.drawText(QRectF(right.x() - 200, right.y() + 2, 200, h), Qt.AlignmentFlag.AlignRight,
                   self.labels[1])
        p.restore()


class Tile:
    """One 2-D grid, drawn by its ``GridOverlay``."""

    def __init__(self, view: pg.ViewBox, theme: dict[str, str]) -> None:
        self.overlay = GridOverlay(theme)
        view.addItem(self.overlay)
        self.origin = (0.0, 0.0)
        self.shape = (0, 0)

    def set(self, data: TileData, origin: tuple[float, float], z: float) -> None:
        """Show ``data`` with cell (0, 0) at ``origin``, stacked at depth ``z``."""
        self.origin, self.shape = origin, data.rgba.shape[:2]
        self.overlay.setZValue(z)
        self.overlay.set_tile(data, origin)
        self.set_visible(True)

    def set_visible(self, on: bool) -> None:
        """Show or hide the tile."""
        self.overlay.setVisible(on)

    def is_visible(self) -> bool:
        """Whether the tile is shown."""
        return self.overlay.isVisible()

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        """Grid cell ``(i, j)`` under scene point ``(x, y)``, or None."""
        j = int(np.floor(x - self.origin[0] + 0.5))
        i = int(np.floor(y - self.origin[1] + 0.5))
        if 0 <= i < self.shape[0] and 0 <= j < self.shape[1]:
            return i, j
        return None


class FlowLines(pg.GraphicsObject):
    """Lines from one cell to the cells it sends gradient to, as thick as the amount sent."""

    def __init__(self, pos_color: str, neg_color: str) -> None:
        super().__init__()
        self.pos, self.neg = QColor(pos_color), QColor(neg_color)
        self.start = QPointF()
        self.ends: list[QPointF] = []
        self.weights: list[float] = []
        self._rect = QRectF()

    def set_lines(self, start: QPointF, ends: list[QPointF], amounts: list[float]) -> None:
        """Draw a line from ``start`` to each of ``ends``; width ∝ |amount|, colour by sign."""
        self.prepareGeometryChange()
        self.start, self.ends = start, ends
        top = max((abs(a) for a in amounts), default=0.0) or 1.0
        self.weights = [a / top for a in amounts]
        pts = [start, *ends]
        xs, ys = [q.x() for q in pts], [q.y() for q in pts]
        self._rect = QRectF(min(xs) - 1, min(ys) - 1, max(xs) - min(xs) + 2, max(ys) - min(ys) + 2)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self._rect

    def paint(self, p: QPainter, *args: object) -> None:
        for end, wgt in zip(self.ends, self.weights, strict=True):
            if wgt == 0:
                continue
            c = QColor(self.pos if wgt > 0 else self.neg)
            c.setAlpha(110)  # light enough to read the numbers underneath
            pen = screen_pen(p, c, 1.0 + 3.5 * abs(wgt))
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            p.setPen(pen)
            p.drawLine(self.start, end)


PANEL_TITLES = {
    "input": "Input", "kernel": "Kernel", "output": "Output", "target": "Target T",
    "dx": "dL/dX", "dw": "dL/dW", "dy": "dL/dY",
}


class SceneRenderer(pg.GraphicsLayoutWidget):
    """Draws a ``Frame``: caption, the panels, and the step's arithmetic.

    Forward frames show one row (input, kernel, output). Backward frames add
    a second row under it with the gradients (dL/dX, dL/dW, dL/dY), and lines
    from the active dL/dY cell to the cells it feeds.

    Signals
    -------
    cell_hovered(str, int, int, int)
        Panel, channel, row, column under the mouse (panel "" when none).
        Input and dL/dX rows/columns are padded coordinates.
    cell_clicked(str, int, int, int)
    cell_double_clicked(str, int, int, int)
        Kernel and dL/dW cells give ``o*C_in + c`` as channel.
    """

    cell_hovered = Signal(str, int, int, int)
    cell_clicked = Signal(str, int, int, int)
    cell_double_clicked = Signal(str, int, int, int)

    def __init__(self, parent: object = None, theme: str = "light") -> None:
        super().__init__(parent)
        self.theme_name = theme
        self.theme = dict(THEMES[theme])  # items share this dict, so a theme switch reaches them
        self.zoom = 1.0
        self.setBackground(self.theme["background"])
        self.ci.setContentsMargins(12, 8, 12, 8)
        self.caption = self.addLabel("", row=0, col=0, size="14pt", color=self.theme["text"])
        self.view = self.addViewBox(row=1, col=0, lockAspect=True, invertY=True, enableMouse=False)
        self.view.setMenuEnabled(False)
        self._range: QRectF | None = None
        self._per_cell: float | None = None
        self._title_fit: dict[str, tuple] = {}
        self.view.sigResized.connect(self._refit)
        self.arith = self.addLabel("", row=2, col=0, size="15pt", color=self.theme["text"])
        self.ci.layout.setRowStretchFactor(1, 10)
        for label in (self.caption, self.arith):  # text never dictates the scene's width
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.cmaps = self._theme_cmaps(theme)
        self.tiles: dict[str, list[Tile]] = {k: [] for k in PANEL_TITLES}
        self.titles = {k: pg.TextItem(color=self.theme["text"], anchor=(0, 1)) for k in self.tiles}
        for t in self.titles.values():
            t.setFont(_font(13, bold=True))
            self.view.addItem(t)
        self.legends = {k: Legend(self.theme) for k in self.tiles}
        for lg in self.legends.values():
            self.view.addItem(lg)
        self._legend_boxes: dict[str, QRectF] = {}
        self.window_marks: list[CellMarks] = []
        self.cell_marks: list[CellMarks] = []
        self.out_mark = self._cell_mark()
        self.tap_mark = CellMarks(self.theme["output"], 4.0, 0)
        self.tap_in_mark = CellMarks(self.theme["output"], 4.0, 0)
        self.hover_marks = CellMarks(self.theme["hover"], 3.0, 90)
        self.hover_out = CellMarks(self.theme["hover"], 3.0, 90)
        self.change_marks = CellMarks(self.theme["unreached"], 3.0, 0)
        self.flow = FlowLines(self.theme["window"], self.theme["hover"])
        self.flow.setZValue(45)
        self.view.addItem(self.flow)
        for m in (self.tap_mark, self.tap_in_mark, self.hover_marks, self.hover_out, self.change_marks):
            m.setZValue(50)
            self.view.addItem(m)
        self.expanded = False
        self.frame: Frame | None = None
        self._glide_from: dict[int, QPointF] = {}
        self._glide_to: dict[int, QPointF] = {}
        self._glide_last: dict[int, QPointF] = {}
        self._layout_key: tuple | None = None
        self._color_cache: dict[tuple, tuple[object, list[TileData]]] = {}
        self._panel_width: dict[str, float] = {}
        self._label_pt = {id(self.caption): 14.0, id(self.arith): 15.0}
        self.scene().sigMouseMoved.connect(self._mouse_moved)
        self.scene().sigMouseClicked.connect(self._mouse_clicked)

    @staticmethod
    def _theme_cmaps(theme: str) -> dict[str, pg.ColorMap]:
        names = THEME_CMAPS[theme]
        return {
            "input": pg.colormap.get(names["input"]),
            "kernel": pg.colormap.get(names["diverging"]),
            "output": pg.colormap.get(names["output"]),
            "diverging": pg.colormap.get(names["diverging"]),
            "picture": pg.colormap.get("CET-L1"),  # grey, for inputs that came from a picture
        }

    def set_theme(self, name: str, zoom: float | None = None) -> None:
        """Switch to theme ``name`` (one of ``THEMES``) and text zoom; redraws the current frame."""
        if name not in THEMES:
            raise ValueError(f"unknown theme {name!r}; choose one of {', '.join(THEMES)}")
        self.theme_name = name
        self.theme.clear()
        self.theme.update(THEMES[name])
        if zoom is not None:
            self.zoom = min(max(float(zoom), 0.5), 3.0)
        self.cmaps = self._theme_cmaps(name)
        self._color_cache.clear()
        self.setBackground(self.theme["background"])
        self._label_pt = {id(self.caption): 14 * self.zoom, id(self.arith): 15 * min(self.zoom, 1.25)}
        for label in (self.caption, self.arith):
            label.opts["color"] = self.theme["text"]
        for t in self.titles.values():
            t.setColor(self.theme["text"])
            t.setFont(_font(round(13 * self.zoom), bold=True))
        self._title_fit.clear()
        for m in self.window_marks:
            m.color = QColor(self.theme["window"])
        for m in (*self.cell_marks, self.tap_mark, self.tap_in_mark):
            m.color = QColor(self.theme["output"])
        for m in (self.hover_marks, self.hover_out):
            m.color = QColor(self.theme["hover"])
        self.change_marks.color = QColor(self.theme["unreached"])
        self.flow.pos, self.flow.neg = QColor(self.theme["window"]), QColor(self.theme["hover"])
        for tiles in self.tiles.values():
            for t in tiles:
                t.overlay.data = None
        if self.frame is not None:
            f, self.frame = self.frame, None
            self.show_frame(f)

    def close(self) -> bool:
        """Close safely (see ``close_view``)."""
        return close_view(self)

    def _cell_mark(self) -> CellMarks:
        m = CellMarks(self.theme["output"], 4.0, 40)
        m.setZValue(50)
        self.view.addItem(m)
        self.cell_marks.append(m)
        return m

    def _window_mark(self) -> CellMarks:
        m = CellMarks(self.theme["window"], 3.5, 45)
        m.setZValue(40)
        self.view.addItem(m)
        self.window_marks.append(m)
        return m

    # ------------------------------------------------------------------ layout helpers
    def set_expanded(self, on: bool) -> None:
        """Show every channel side by side (True) or as a stack (False)."""
        if on != self.expanded:
            self.expanded = on
            self._layout_key = None
            if self.frame is not None:
                self.show_frame(self.frame)

    def _tiles(self, panel: str, n: int) -> list[Tile]:
        tiles = self.tiles[panel]
        while len(tiles) < n:
            tiles.append(Tile(self.view, self.theme))
        for t in tiles[n:]:
            t.set_visible(False)
        return tiles[:n]

    def visible_tiles(self, panel: str) -> list[Tile]:
        """The shown tiles of ``panel``, in channel order."""
        return [t for t in self.tiles[panel] if t.is_visible()]

    def front_tile(self, panel: str) -> Tile | None:
        """The tile drawn in front (the active channel) of ``panel``."""
        tiles = self.visible_tiles(panel)
        return next((t for t in tiles if t.overlay.data is not None and t.overlay.data.front),
                    tiles[0] if tiles else None)

    def _cmap(self, f: Frame, panel: str) -> pg.ColorMap:
        if panel in f.diverging or panel in ("dx", "dw", "dy"):
            return self.cmaps["diverging"]
        if panel == "input" and f.params.picture:
            return self.cmaps["picture"]
        return self.cmaps.get(panel, self.cmaps["output"])

    def _place(self, panel: str, datas: list[TileData], front: int, x0: float,
               shape: tuple[int, int], columns: int = 1, y0: float = 0.0) -> tuple[float, float]:
        """Lay the tiles of one panel out from ``(x0, y0)``; return its right and bottom edges."""
        n = len(datas)
        h, w = shape
        tiles = self._tiles(panel, n)
        right = x0 + w
        rows = (n + columns - 1) // columns
        bottom = y0 + (h if not self.expanded else rows * (h + 1.0) - 1.0)
        for k, (tile, data) in enumerate(zip(tiles, datas, strict=True)):
            if self.expanded:
                col, row = k % columns, k // columns
                origin = (x0 + col * (w + 1), y0 + row * (h + 1.0))
                data.front = True
                z = 0.0
            else:
                depth = (k - front) % n
                origin = (x0 + depth * STACK_SHIFT, y0 - depth * STACK_SHIFT)
                data.front = depth == 0
                z = -depth
            tile.set(data, origin, z)
            right = max(right, origin[0] + w)
        self._legend_boxes[panel] = QRectF(x0 - 0.5, bottom - 0.5 + 0.35, w, 0.3)
        lift = 0 if self.expanded else STACK_SHIFT * (n - 1)
        self.titles[panel].setPos(x0 - 0.5, y0 - 0.6 - lift)
        self._panel_width[panel] = right - x0
        return right, bottom

    def _grid(self, f: Frame, panel: str, values: np.ndarray, levels: tuple[float, float],
              show_text: bool) -> TileData:
        return colorize(values, levels, self._cmap(f, panel), QColor(self.theme["empty"]),
                        show_text=show_text)

    def _panel(self, f: Frame, panel: str, stack: np.ndarray, front: int, x0: float, y0: float,
               levels: tuple[float, float], *, show_text: bool, kinds: np.ndarray | None = None,
               columns: int = 1, same_as: object = None, variant: int = 0) -> tuple[float, float]:
        """Colour and place a stack ``(n, h, w)`` of grids as one panel, with its legend.

        ``same_as`` names what ``stack`` was cut from when it does not change
        between steps (the input, the kernel): its colours are then computed
        once per scenario, not once per step.
        """
        key = None
        if same_as is not None:
            # By content, not identity: a new scenario with the same values (a stride change
            # leaves the input and kernel alone) keeps its colours and its cached pictures.
            key = (panel, _digest(stack), None if kinds is None else _digest(kinds), variant, levels,
                   show_text, self._cmap(f, panel).name, self.expanded)
        cached = self._color_cache.get(key) if key is not None else None
        if cached is not None:
            datas = cached[1]
            for d in datas:
                d.kinds = kinds
        else:
            datas = []
            for a in stack:
                d = self._grid(f, panel, a, levels, show_text)
                d.kinds = kinds
                datas.append(d)
            if key is not None:
                if len(self._color_cache) > 32:
                    self._color_cache.clear()
                self._color_cache[key] = (same_as, datas)
        edges = self._place(panel, datas, front, x0, stack.shape[1:], columns, y0)
        self.legends[panel].set_legend(self._cmap(f, panel), levels, self._legend_boxes[panel])
        self.legends[panel].setVisible(True)
        return edges

    def _pool_window(self, f: Frame, x0: float, y0: float) -> tuple[float, float]:
        p = f.params
        d = self._grid(f, "kernel", np.full((p.k_h, p.k_w), np.nan), (0, 1), False)
        d.text = [[p.op] * p.k_w for _ in range(p.k_h)]
        d.dark_text = np.ones((p.k_h, p.k_w), bool)
        edges = self._place("kernel", [d], 0, x0, (p.k_h, p.k_w), 1, y0)
        self.legends["kernel"].setVisible(False)
        return edges

    # ------------------------------------------------------------------ drawing
    def show_frame(self, f: Frame) -> None:
        """Draw frame ``f`` (moving highlights jump; ``glide`` animates them)."""
        prev = self.frame
        self.frame = f
        used = self._show_backward(f) if f.phase == "backward" else self._show_forward(f)
        for panel in self.tiles:
            if panel not in used:
                self._tiles(panel, 0)
                self.titles[panel].setText("")
                self.legends[panel].setVisible(False)
        self._marks(f, prev)
        self._set_label(self.caption, f"{OP_LABELS[f.params.op]} — {_html_escape(f.caption)}")
        self._set_label(self.arith, _html_escape(f.arithmetic).replace("\n", "<br>"))
        key = (self.expanded, f.phase, f.x_padded.shape, None if f.kernel is None else f.kernel.shape,
               f.output.shape, f.params.op, f.loss is None)
        if key != self._layout_key:
            self._layout_key = key
            self._fit_range()
            self._fit_titles(remeasure=True)
        else:
            self._fit_titles()

    def _fit_range(self) -> None:
        """Show every visible tile, with room above for titles and below for legends."""
        rect = QRectF()
        for tiles in self.tiles.values():
            for t in tiles:
                if t.is_visible():
                    h, w = t.shape
                    rect = rect.united(QRectF(t.origin[0] - 0.5, t.origin[1] - 0.5, w, h))
        if rect.isEmpty():
            return
        self._range = rect.adjusted(-0.3, -1.9, 0.3, 1.3)
        self.view.setRange(self._range, padding=0)

    def _refit(self) -> None:
        """The view box changed size (a caption grew): show the same scene rectangle again."""
        if self._range is not None:
            self.view.setRange(self._range, padding=0)
            self._fit_titles(remeasure=True)

    def _fit_titles(self, *, remeasure: bool = False) -> None:
        """Shrink a title's type until it fits over its panel (and the gap after it).

        The view's scale is measured only when the layout or the view's size
        changed (``remeasure``); a title is refitted only when its text, its
        room or the zoom changed, so stepping costs nothing here.
        """
        if remeasure or self._per_cell is None:
            px_w = self.view.viewPixelSize()[0]
            if px_w <= 0:
                return
            self._per_cell = 1.0 / px_w
        base = round(13 * self.zoom)
        for panel, t in self.titles.items():
            text = t.textItem.toPlainText()
            if not text or panel not in self._panel_width:
                continue
            room = (self._panel_width[panel] + GAP * 0.6) * self._per_cell
            key = (text, round(room, 1), base)
            if self._title_fit.get(panel) == key:
                continue
            self._title_fit[panel] = key
            size = base
            font = _font(size, bold=True)
            while size > 7 and QFontMetricsF(font).horizontalAdvance(text) > room:
                size -= 1
                font = _font(size, bold=True)
            if t.textItem.font().pointSize() != size:
                t.setFont(font)

    def _set_pending(self, panel: str, done: int | None) -> None:
        """Cover the cells not computed yet: the first ``done`` cells (channel-major) are shown."""
        for c, t in enumerate(self.visible_tiles(panel)):
            d = t.overlay.data
            n = d.rgba.shape[0] * d.rgba.shape[1]
            start = None if done is None else min(max(done - c * n, 0), n)
            if d.pending_from != (None if start == n else start):
                d.pending_from = None if start == n else start
                t.overlay.update()

    def _set_label(self, label: pg.LabelItem, html: str) -> None:
        """Set a label's text wrapped to the widget's width (a LabelItem otherwise widens the scene).

        The arithmetic's type shrinks (down to 8 pt) until it takes at most
        30% of the height, so the grids keep the room.
        """
        avail = max(200.0, self.width() - 40.0)
        size = self._label_pt.get(id(label), 12.0)
        while True:
            label.item.setTextWidth(-1)
            label.setText(html, size=f"{size:.0f}pt")
            if label.item.boundingRect().width() > avail:
                label.item.setTextWidth(avail)
                label.updateMin()
            too_tall = label is self.arith and label.item.boundingRect().height() > 0.3 * self.height()
            if not too_tall or size <= 8:
                break
            size -= 1
        # Keep the layout inside the viewport: a grown label shrinks the view, never the reverse.
        self.ci.setGeometry(QRectF(0, 0, self.viewport().width(), self.viewport().height()))
        label.resizeEvent(None)  # LabelItem centres its text only when resized

    def resizeEvent(self, ev: object) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(ev)  # type: ignore[arg-type]
        if getattr(self, "closed", False):  # the scene's items are gone
            return
        if getattr(self, "frame", None) is not None:
            self._fit_titles(remeasure=True)
            self._set_label(self.arith, self.arith.text)
            self._set_label(self.caption, self.caption.text)

    def _show_forward(self, f: Frame) -> set[str]:
        p, step = f.params, f.step
        conv = p.is_conv or f.phase == "gather"
        active_in = 0 if conv else step.channel
        right, _ = self._panel(f, "input", f.x_padded, active_in, 0.0, 0.0, f.levels["input"],
                               same_as=f.x_padded,
                               show_text=f.show_values, kinds=f.kinds)
        for t in self.visible_tiles("input"):
            d = t.overlay.data
            d.unreached_rows = f.unreached_rows + f.offset[0]
            d.unreached_cols = f.unreached_cols + f.offset[1]
        kx = right + GAP
        if conv:
            k = f.kernel
            o = step.out_channel
            stack = k.reshape(-1, *k.shape[2:]) if self.expanded else k[o]
            right, _ = self._panel(f, "kernel", stack, 0, kx, 0.0, f.levels["kernel"], show_text=True,
                                   same_as=f.kernel, variant=-1 if self.expanded else o,
                                   columns=k.shape[1])
        else:
            right, _ = self._pool_window(f, kx, 0.0)
        ox = right + GAP
        active_out = step.out_channel if conv else step.channel
        full = f.output if f.output_full is None else f.output_full
        self._panel(f, "output", full, active_out, ox, 0.0, f.levels["output"],
                    show_text=f.show_values, same_as=None if f.output_full is None else full)
        self._set_pending("output", f.done if f.output_full is not None else None)
        self._forward_titles(f)
        return {"input", "kernel", "output"}

    def _forward_titles(self, f: Frame) -> None:
        p = f.params
        c_in, h, w = p.in_c, p.in_h, p.in_w
        pad = "" if (f.kinds == 0).all() else " + padding"
        t = self.titles
        t["input"].setText(f"Input {c_in}×{h}×{w}{pad}" if c_in > 1 else f"Input {h}×{w}{pad}")
        if p.is_conv:
            flip = " (flipped)" if p.flip_kernel else ""
            o = getattr(f.step, "out_channel", 0)
            label = f"Kernel {o + 1}/{p.out_c}{flip}" if p.out_c > 1 else f"Kernel{flip}"
        else:
            label = f"{p.op} window"
        t["kernel"].setText(f"{label} {p.k_h}×{p.k_w}")
        co, ho, wo = f.output.shape
        t["output"].setText(f"Output {co}×{ho}×{wo}" if co > 1 else f"Output {ho}×{wo}")
        for panel, text in f.titles.items():
            t[panel].setText(text)

    def _show_backward(self, f: Frame) -> set[str]:
        p, step, g = f.params, f.step, f.grads
        conv = p.is_conv
        active_in = 0 if conv else step.channel
        o = step.out_channel if conv else step.channel
        # Row 1: the forward tensors.
        right, bottom = self._panel(f, "input", f.x_padded, active_in, 0.0, 0.0, f.levels["input"],
                                    same_as=f.x_padded,
                                    show_text=f.show_values, kinds=f.kinds)
        kx = right + GAP + 1.5
        if conv:
            k = f.kernel
            stack = k.reshape(-1, *k.shape[2:]) if self.expanded else k[o]
            kr, kb = self._panel(f, "kernel", stack, 0, kx, 0.0, f.levels["kernel"], show_text=True,
                                   same_as=f.kernel, variant=-1 if self.expanded else o,
                                 columns=k.shape[1])
        else:
            kr, kb = self._pool_window(f, kx, 0.0)
        ox = kr + GAP + 1.5
        orr, ob = self._panel(f, "output", f.y_full, o, ox, 0.0, f.levels["output"], same_as=f.y_full,
                              show_text=f.show_values)
        self._set_pending("output", None)
        used = {"input", "kernel", "output", "dx", "dy"}
        if f.loss is not None:
            tx = orr + GAP
            target = f.y_full - f.dy
            self._panel(f, "target", target, o, tx, 0.0, f.levels["output"], show_text=f.show_values)
            self.titles["target"].setText("Target T")
            used.add("target")
        # Row 2: the gradients, under the tensors they belong to.
        y1 = max(bottom, kb, ob) + 3.2
        dx = g.grad_x_padded if f.dx_shown is None else f.dx_shown
        dxs = self._panel(f, "dx", dx, active_in, 0.0, y1, f.levels["dx"],
                          show_text=f.show_values, kinds=f.kinds)
        hits = np.asarray(g.hits)
        for c, t in enumerate(self.visible_tiles("dx")):
            h = hits[c]
            t.overlay.data.corner = [[f"{n}×" if n else "" for n in row] for row in h.tolist()]
            t.overlay.update()
        del dxs
        if conv:
            gw = g.grad_w
            stack = gw.reshape(-1, *gw.shape[2:]) if self.expanded else gw[o]
            self._panel(f, "dw", stack, 0, kx, y1, f.levels["dw"], show_text=True, columns=gw.shape[1])
            db = ", ".join(fmt_cell(v) for v in g.grad_bias)
            self.titles["dw"].setText(f"dL/dW, db = {db}")
            used.add("dw")
        entering = f.dz if f.dz is not None else f.dy  # dL/dY·f'(Z) when an activation follows
        self._panel(f, "dy", entering, o, ox, y1, f.levels["dy"], show_text=f.show_values, same_as=entering)
        t = self.titles
        t["input"].setText("Input X")
        t["kernel"].setText("Kernel W" if conv else f"{p.op} window")
        t["output"].setText("Output Y")
        t["dx"].setText("dL/dX")
        upstream = {"ones": "ones", "random": "random", "loss": "Y − T", "custom": "typed"}[p.upstream]
        t["dy"].setText(f"dL/dY ({upstream})")
        for panel, text in f.titles.items():
            t[panel].setText(text)
        return used

    def _marks(self, f: Frame, prev: Frame | None) -> None:
        """Window, tap and cell highlights (and flow lines) for the current step."""
        step, p = f.step, f.params
        backward = f.phase == "backward"
        conv = p.is_conv or f.phase == "gather"
        win = step.window
        rows0, cols0 = int(win.rows[0]), int(win.cols[0])
        cells = [(float(r - rows0), float(c - cols0)) for r in win.rows for c in win.cols]
        span = QRectF(-0.5, -0.5, float(win.cols[-1] - cols0 + 1), float(win.rows[-1] - rows0 + 1))
        in_ch = getattr(step, "channel", None)

        def window_tiles(panel: str) -> list[tuple[Tile, int]]:
            tiles = self.visible_tiles(panel)
            if self.expanded:
                pairs = list(enumerate(tiles)) if in_ch is None else [(in_ch, tiles[in_ch])]
                return [(t, c) for c, t in pairs]
            front = self.front_tile(panel)
            return [] if front is None else [(front, in_ch or 0)]

        targets = [(t, c, "input") for t, c in window_tiles("input")]
        if backward:
            targets += [(t, c, "dx") for t, c in window_tiles("dx")]
        while len(self.window_marks) < len(targets):
            self._window_mark()
        for k, m in enumerate(self.window_marks):
            if k >= len(targets):
                m.set_cells([])
                continue
            tile, c, panel = targets[k]
            labels: list[str] = []
            special = None
            if not p.is_conv and step.chosen is not None:
                special = cells[step.chosen[0] * len(win.cols) + step.chosen[1]]
            if panel == "dx":
                amounts = step.grad_input[c] if p.is_conv else step.grad_input
                labels = [f"+{fmt_cell(v)}" if v >= 0 else fmt_cell(v) for v in np.ravel(amounts)]
                if not p.is_conv:
                    labels = [s if v != 0 else "" for s, v in zip(labels, np.ravel(amounts), strict=True)]
            elif conv and not backward:
                labels = [f"×{fmt_cell(v)}" for v in step.weights[c if self.expanded else 0].ravel()]
            m.set_cells(cells, labels=labels, special=special, outline=span)
            m.setPos(QPointF(tile.origin[0] + cols0, tile.origin[1] + rows0))
        # Output cell(s): Y (and dL/dY when going backward).
        o = getattr(step, "out_channel", None)
        o = step.channel if o is None else o
        cell_panels = ["output", "dy"] if backward else ["output"]
        while len(self.cell_marks) < len(cell_panels):
            self._cell_mark()
        for m, panel in zip(self.cell_marks, cell_panels + [None] * len(self.cell_marks), strict=False):
            if panel is None:
                m.set_cells([])
                continue
            tiles = self.visible_tiles(panel)
            t = tiles[o] if self.expanded and o < len(tiles) else self.front_tile(panel)
            m.set_cells([(0.0, 0.0)])
            m.setPos(QPointF(t.origin[0] + step.out_col, t.origin[1] + step.out_row))
        # Current tap (tap granularity).
        if not backward and p.is_conv and step.tap is not None:
            c, i, j = step.tap
            k_tiles = self.visible_tiles("kernel")
            idx = (step.out_channel * p.in_c + c) if self.expanded else c
            kt = k_tiles[min(idx, len(k_tiles) - 1)]
            self.tap_mark.set_cells([(float(i), float(j))])
            self.tap_mark.setPos(QPointF(kt.origin[0], kt.origin[1]))
            in_tiles = self.visible_tiles("input")
            it = in_tiles[c] if self.expanded else self.front_tile("input")
            self.tap_in_mark.set_cells([(float(win.rows[i]), float(win.cols[j]))])
            self.tap_in_mark.setPos(QPointF(*it.origin))
            self.out_mark.set_cells([(0.0, 0.0)], labels=[f"Σ {fmt_cell(step.value)}"])
        else:
            self.tap_mark.set_cells([])
            self.tap_in_mark.set_cells([])
        # Flow lines: from the dL/dY cell to every dL/dX cell it feeds.
        if backward:
            dy_t, dx_t = self.front_tile("dy"), self.front_tile("dx")
            start = QPointF(dy_t.origin[0] + step.out_col, dy_t.origin[1] + step.out_row)
            amounts = step.grad_input[0] if p.is_conv else step.grad_input
            ends = [QPointF(dx_t.origin[0] + cols0 + c, dx_t.origin[1] + rows0 + r) for r, c in cells]
            self.flow.set_lines(start, ends, [float(a) for a in np.ravel(amounts)])
            self.flow.setVisible(True)
        else:
            self.flow.setVisible(False)
        # The activation step: outline the cells the activation changed (ReLU's zeros).
        front_out = self.front_tile("output")
        if f.phase == "activation" and f.changed is not None and front_out is not None:
            o = getattr(step, "out_channel", 0)
            cells_changed = np.argwhere(f.changed[o]) if f.params.activation in ("relu", "leaky_relu") else []
            self.change_marks.set_cells([(float(i), float(j)) for i, j in cells_changed])
            self.change_marks.setPos(QPointF(*front_out.origin))
            for m in [*self.window_marks, *self.cell_marks]:
                m.set_cells([])
        else:
            self.change_marks.set_cells([])
        # Glide bookkeeping: where each moving item was, and where it is now.
        items = [*self.window_marks, *self.cell_marks]
        self._glide_to = {id(m): m.pos() for m in items}
        same = prev is not None and prev.params == p and prev.phase == f.phase
        self._glide_from = ({id(m): self._glide_last.get(id(m), m.pos()) for m in items} if same
                            else dict(self._glide_to))
        self._glide_last = dict(self._glide_to)

    def glide(self, t: float) -> None:
        """Place the moving highlights at fraction ``t`` (0..1) of the way to this frame's positions."""
        t = min(max(t, 0.0), 1.0)
        s = t * t * (3 - 2 * t)  # smoothstep
        for m in [*self.window_marks, *self.cell_marks]:
            a = self._glide_from.get(id(m))
            b = self._glide_to.get(id(m))
            if a is None or b is None:
                continue
            m.setPos(QPointF(a.x() + (b.x() - a.x()) * s, a.y() + (b.y() - a.y()) * s))

    # ------------------------------------------------------------------ hover / pick
    def show_highlight(self, kind: str, h: Highlight | None) -> None:
        """Light ``h``'s cells: "receptive" (input cells read) or "fed" (output cells fed, labelled)."""
        if kind == "receptive":
            self.show_receptive_field([] if h is None else list(h.cells), "input" if h is None else h.panel)
        else:
            self.show_fed_outputs([] if h is None else list(h.cells), None if h is None else list(h.labels))

    def show_receptive_field(self, cells: list[tuple[int, int]], channel_tiles: str = "input") -> None:
        """Highlight padded input cells ``(row, col)`` on the front input tile."""
        front = self.front_tile(channel_tiles)
        if front is None or not cells:
            self.hover_marks.set_cells([])
            return
        self.hover_marks.setPos(QPointF(*front.origin))
        self.hover_marks.set_cells([(float(r), float(c)) for r, c in cells])

    def show_fed_outputs(self, cells: list[tuple[int, int]], labels: list[str] | None = None) -> None:
        """Highlight output cells ``(row, col)`` on the front output tile, with tap labels."""
        front = self.front_tile("output")
        if front is None or not cells:
            self.hover_out.set_cells([])
            return
        self.hover_out.setPos(QPointF(*front.origin))
        self.hover_out.set_cells([(float(r), float(c)) for r, c in cells], labels=labels)

    def pick(self, scene_pos: QPointF) -> tuple[str, int, int, int] | None:
        """The panel, channel index and cell under a scene position, or None."""
        v = self.view.mapSceneToView(scene_pos)
        f = self.frame
        for panel in ("output", "dy", "target", "input", "dx", "kernel", "dw"):
            tiles = self.visible_tiles(panel)
            ordered = sorted(enumerate(tiles), key=lambda kt: -kt[1].overlay.zValue())
            for k, t in ordered:
                hit = t.cell_at(v.x(), v.y())
                if hit is None:
                    continue
                ch = k
                if panel in ("kernel", "dw") and f is not None and f.params.is_conv and not self.expanded:
                    o = getattr(f.step, "out_channel", 0)
                    ch = o * f.params.in_c + k
                return panel, ch, hit[0], hit[1]
        return None

    def cell_center(self, panel: str, k: int, i: int, j: int) -> QPointF:
        """Widget coordinates of the centre of cell ``(i, j)`` of tile ``k`` of ``panel``."""
        t = self.visible_tiles(panel)[k]
        sp = self.view.mapViewToScene(QPointF(t.origin[0] + j, t.origin[1] + i))
        return QPointF(self.mapFromScene(sp))

    def _mouse_moved(self, pos: QPointF) -> None:
        hit = self.pick(pos)
        if hit is None:
            self.cell_hovered.emit("", -1, -1, -1)
        else:
            self.cell_hovered.emit(*hit)

    def _mouse_clicked(self, ev: object) -> None:
        hit = self.pick(ev.scenePos())  # type: ignore[attr-defined]
        if hit is None:
            return
        if ev.double():  # type: ignore[attr-defined]
            self.cell_double_clicked.emit(*hit)
        else:
            self.cell_clicked.emit(*hit)


def close_view(view: pg.GraphicsView) -> bool:
    """pyqtgraph's ``GraphicsView.close`` without its ``setViewport(None)``.

    Swapping the viewport out of a view that was shown off-screen
    (``WA_DontShowOnScreen``, as export does) crashes Qt; the rest of the
    clean-up (clearing the scene, marking the view closed) is kept.
    """
    view.centralWidget = None
    view.scene().clear()
    view.currentItem = None
    view.sceneObj = None
    view.closed = True
    return QGraphicsView.close(view)


def _font(size: int, *, bold: bool = False) -> QFont:
    f = QFont()
    f.setPointSize(size)
    f.setBold(bold)
    return f


def _html_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

"""What is drawn over the tiles: outlined cells (windows, cells, taps, highlights), legends, flow lines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QLinearGradient, QPainter, QPixmap, QTransform
from PySide6.QtWidgets import QGraphicsObject

from ..models.choices import PanelName
from ..models.frame import Frame, Highlight, MarkStyle
from .colour import lut_bytes
from .grid import TAG_BAND, is_vector, screen_pen
from .theme import ColourMap
from .widgets import Box

#: How opaque a flow line is (of 255): light enough to read the numbers underneath.
FLOW_ALPHA = 110
HighlightKind = Literal["receptive", "fed", "source"]
#: Where a panel's tile ``grid`` is (cell (0, 0)'s centre, and the scene units one cell takes; grid -1:
#: the front tile), or None when it is not shown.
OriginOf = Callable[[PanelName, int], tuple[float, float, float] | None]
#: How each highlight is drawn: theme colour, line width (px), fill alpha.
HIGHLIGHT_STYLES: dict[HighlightKind, tuple[str, float, int]] = {
    "receptive": ("hover", 3.0, 90), "fed": ("hover", 3.0, 90), "source": ("hover", 6.0, 150),
}
#: How each mark style is drawn: theme colour, line width (px), fill alpha, depth.
MARK_STYLES: dict[MarkStyle, tuple[str, float, int, float]] = {
    "window": ("window", 3.5, 45, 40.0), "cell": ("output", 4.0, 40, 50.0),
    "tap": ("output", 4.0, 0, 50.0), "changed": ("unreached", 3.0, 0, 50.0),
}
#: Styles whose marks glide from one step to the next.
GLIDING: tuple[MarkStyle, ...] = ("window", "cell")


class CellMarks(QGraphicsObject):
    """Outlined cells at offsets from the item's position (a window, a cell, a receptive field).

    Moving the item with ``setPos`` moves the whole pattern: the glide.
    """

    def __init__(self, color: str, width: float = 3.0, fill_alpha: int = 60) -> None:
        super().__init__()
        self.color = QColor(color)
        self.width = width
        self.fill_alpha = fill_alpha
        self.zoom = 1.0  # the text zoom: the small labels grow with it
        self.cells: list[tuple[float, float]] = []  # (row, col) offsets
        self.labels: list[str] = []
        self.special: tuple[float, float] | None = None
        self.outline: QRectF | None = None
        self._rect = QRectF()

    def set_cells(self, cells: list[tuple[float, float]], *, labels: list[str] | None = None,
                  special: tuple[float, float] | None = None, outline: QRectF | None = None) -> None:
        """Cells as ``(row, col)`` offsets (centres); optional small labels and a circled cell."""
        if not cells and not self.cells and outline is None and self.outline is None:
            return  # nothing before, nothing now (a change of nothing repaints an export's whole picture)
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
            self._paint_labels(p)

    def _paint_labels(self, p: QPainter) -> None:
        tr = p.transform()
        px = float(np.hypot(tr.m11(), tr.m12()))
        if px < 28:
            return
        p.save()
        p.resetTransform()
        font = QFont()
        font.setPixelSize(int(max(10, min(px * 0.22 * max(self.zoom, 1.0), px * TAG_BAND))))
        font.setBold(True)
        p.setFont(font)
        for (r, c), s in zip(self.cells, self.labels, strict=False):
            if not s:
                continue
            tl = tr.map(QPointF(c - 0.5, r - 0.5))
            box = QRectF(tl.x() + 2, tl.y() + 1, px - 4, px * TAG_BAND)
            p.fillRect(box, QColor(255, 255, 255, 200))
            p.setPen(QColor("#000000"))
            p.drawText(box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, s)
        p.restore()


class Legend(QGraphicsObject):
    """A colour bar with its two end labels, under a panel."""

    def __init__(self, theme: dict[str, str]) -> None:
        super().__init__()
        self.theme = theme
        self.colors: list[QColor] = []
        self.labels = ("", "")
        self.rect = QRectF()
        self.text_px = 11  # the end labels' type, set by the view (it grows with the text zoom)
        self._key: tuple[object, ...] | None = None

    def set_legend(self, cmap: ColourMap, rect: QRectF, labels: tuple[str, str]) -> None:
        """Show ``cmap`` in ``rect`` (scene units) with ``labels`` under its two ends."""
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

    def forget(self) -> None:
        """Redraw on the next ``set_legend`` even if nothing changed (a theme change)."""
        self._key = None

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self.rect.adjusted(-2.0, 0, 2.0, 3.0)

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
        p.save()
        p.resetTransform()
        font = QFont()
        font.setPixelSize(int(self.text_px))
        p.setFont(font)
        p.setPen(QColor(self.theme["text"]))
        left = tr.map(QPointF(r.left(), r.bottom()))
        right = tr.map(QPointF(r.right(), r.bottom()))
        h = font.pixelSize() * 1.6
        fm = p.fontMetrics()
        w0, w1 = fm.horizontalAdvance(self.labels[0]), fm.horizontalAdvance(self.labels[1])
        end = max(right.x(), left.x() + w0 + fm.horizontalAdvance("  ") + w1)  # the two never overlap
        p.drawText(QRectF(left.x(), left.y() + 2, w0 + 4, h), Qt.AlignmentFlag.AlignLeft, self.labels[0])
        p.drawText(QRectF(end - w1 - 4, right.y() + 2, w1 + 4, h), Qt.AlignmentFlag.AlignRight,
                   self.labels[1])
        p.restore()


class FlowLines(QGraphicsObject):
    """Lines from one cell to the cells it sends gradient to, as thick as the amount sent."""

    def __init__(self, pos_color: str, neg_color: str) -> None:
        super().__init__()
        self.pos, self.neg = QColor(pos_color), QColor(neg_color)
        self.start = QPointF()
        self.ends: list[QPointF] = []
        self.weights: list[float] = []
        self._rect = QRectF()

    def set_lines(self, start: QPointF, ends: list[QPointF], weights: list[float]) -> None:
        """A line from ``start`` to each of ``ends``: width by |weight| (<= 1), colour by its sign."""
        self.prepareGeometryChange()
        self.start, self.ends, self.weights = start, ends, weights
        pts = [start, *ends]
        xs, ys = [q.x() for q in pts], [q.y() for q in pts]
        self._rect = QRectF(min(xs) - 1, min(ys) - 1, max(xs) - min(xs) + 2, max(ys) - min(ys) + 2)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self._rect

    def paint(self, p: QPainter, *args: object) -> None:
        tr = p.transform()
        if is_vector(p) or abs(tr.m12()) > 1e-9 or abs(tr.m21()) > 1e-9:
            self._draw(p, FLOW_ALPHA, Qt.PenCapStyle.RoundCap)  # vector files keep one stroke a line
            return
        # On a raster device the lines are drawn opaque, with flat caps, into a layer laid over at the
        # lines' alpha: Qt strokes a translucent or round-capped antialiased line on its slow path (the
        # 225 lines of a 15x15 kernel took 60-70 ms a paint) and an opaque flat-capped one on its fast
        # path (a few ms). Where lines cross, the later one covers the earlier instead of darkening it.
        area = tr.mapRect(self._rect).adjusted(-4, -4, 4, 4)  # room for the widest round cap
        if p.hasClipping():
            area = area.intersected(tr.mapRect(p.clipBoundingRect()))
        dev = p.device()
        dpr = dev.devicePixelRatioF() if dev is not None else 1.0
        if dev is not None:  # a picture's width counts device pixels, a widget's logical ones
            scale = dpr if isinstance(dev, (QImage, QPixmap)) else 1.0
            area = area.intersected(QRectF(0, 0, dev.width() / scale, dev.height() / scale))
        box = area.toAlignedRect()
        if box.isEmpty():
            return
        layer = QImage(int(np.ceil(box.width() * dpr)), int(np.ceil(box.height() * dpr)),
                       QImage.Format.Format_ARGB32_Premultiplied)
        layer.setDevicePixelRatio(dpr)
        layer.fill(Qt.GlobalColor.transparent)
        q = QPainter(layer)
        try:
            aa = QPainter.RenderHint.Antialiasing
            q.setRenderHint(aa, p.testRenderHint(aa))
            q.setTransform(tr * QTransform.fromTranslate(-box.x(), -box.y()))
            self._draw(q, 255, Qt.PenCapStyle.FlatCap)
        finally:
            q.end()
        p.save()
        p.resetTransform()
        p.setOpacity(p.opacity() * FLOW_ALPHA / 255)
        p.drawImage(QPointF(box.x(), box.y()), layer)
        p.restore()

    def _draw(self, p: QPainter, alpha: int, cap: Qt.PenCapStyle) -> None:
        """Each line, ``alpha`` opaque (of 255), in ``p``'s coordinates."""
        for end, wgt in zip(self.ends, self.weights, strict=True):
            if wgt == 0:
                continue
            c = QColor(self.pos if wgt > 0 else self.neg)
            c.setAlpha(alpha)
            pen = screen_pen(p, c, 1.0 + 3.5 * abs(wgt))
            pen.setCapStyle(cap)
            p.setPen(pen)
            p.drawLine(self.start, end)


class MarkLayer:
    """Every mark of a frame, its flow lines and the hover highlights, placed on the tiles they name.

    Items are made on demand, one per mark, and reused from frame to frame
    in the order of the frame's marks of each style; that order is what
    glides.
    """

    def __init__(self, view: Box, theme: dict[str, str]) -> None:
        self.view = view
        self.theme = theme
        self.items: dict[MarkStyle, list[CellMarks]] = {s: [] for s in MARK_STYLES}
        self.hover: dict[HighlightKind, CellMarks] = {k: self._item(*style, 50.0)
                                                      for k, style in HIGHLIGHT_STYLES.items()}
        self.highlights: dict[HighlightKind, Highlight | None] = {k: None for k in HIGHLIGHT_STYLES}
        self.zoom = 1.0
        self.flow = FlowLines(theme["window"], theme["hover"])
        self.flow.setZValue(45)
        view.addItem(self.flow)
        self._from: dict[int, QPointF] = {}
        self._to: dict[int, QPointF] = {}
        self._last: dict[int, QPointF] = {}

    def _item(self, colour: str, width: float, fill: int, z: float) -> CellMarks:
        m = CellMarks(self.theme[colour], width, fill)
        m.setZValue(z)
        self.view.addItem(m)
        return m

    def of(self, style: MarkStyle, n: int = 0) -> list[CellMarks]:
        """The items of ``style``, at least ``n`` of them."""
        items = self.items[style]
        while len(items) < n:
            items.append(self._item(*MARK_STYLES[style]))
        return items

    def show(self, f: Frame, same_glide: bool, origin_of: OriginOf) -> None:
        """Place the marks and flow lines of ``f``; marks glide from the last frame when ``same_glide``."""
        for style in MARK_STYLES:
            marks = f.marks_of(style)
            for k, m in enumerate(self.of(style, len(marks))):
                mk = marks[k] if k < len(marks) else None
                origin = None if mk is None else origin_of(mk.panel, mk.grid)
                if mk is None or origin is None:
                    m.set_cells([])
                    continue
                outline = None if mk.span is None else QRectF(-0.5, -0.5, mk.span[1], mk.span[0])
                special = None if mk.special is None else (float(mk.special[0]), float(mk.special[1]))
                m.zoom = self.zoom
                m.set_cells([(float(r), float(c)) for r, c in mk.cells], labels=list(mk.labels),
                            special=special, outline=outline)
                x0, y0, s = origin
                m.setScale(s)
                m.setPos(QPointF(x0 + mk.at[1] * s, y0 + mk.at[0] * s))
        moving = [m for style in GLIDING for m in self.items[style]]
        self._to = {id(m): m.pos() for m in moving}
        self._from = ({id(m): self._last.get(id(m), m.pos()) for m in moving} if same_glide
                      else dict(self._to))
        self._last = dict(self._to)
        self._show_flow(f, origin_of)
        for kind in self.highlights:
            self.place_highlight(kind, origin_of)

    def _show_flow(self, f: Frame, origin_of: OriginOf) -> None:
        fl = f.flows[0] if f.flows else None
        start = None if fl is None else origin_of(fl.panel, fl.grid)
        end = None if fl is None else origin_of(fl.to_panel, fl.to_grid)
        if fl is None or start is None or end is None:
            self.flow.setVisible(False)
            return
        (x0, y0, s0), (x1, y1, s1) = start, end
        self.flow.set_lines(QPointF(x0 + fl.cell[1] * s0, y0 + fl.cell[0] * s0),
                            [QPointF(x1 + c * s1, y1 + r * s1) for r, c in fl.to_cells], list(fl.weights))
        self.flow.setVisible(True)

    def hide(self) -> None:
        """Hide every mark, highlight and flow line (the stage view draws its own)."""
        for items in self.items.values():
            for m in items:
                m.set_cells([])
        for m in self.hover.values():
            m.set_cells([])
        self.flow.setVisible(False)
        self._from, self._to, self._last = {}, {}, {}

    def glide(self, t: float) -> None:
        """Moving marks at fraction ``t`` (0..1) of the way to the current frame's positions."""
        t = min(max(t, 0.0), 1.0)
        s = t * t * (3 - 2 * t)  # smoothstep
        for style in GLIDING:
            for m in self.items[style]:
                a, b = self._from.get(id(m)), self._to.get(id(m))
                if a is not None and b is not None:
                    m.setPos(QPointF(a.x() + (b.x() - a.x()) * s, a.y() + (b.y() - a.y()) * s))

    def place_highlight(self, kind: HighlightKind, origin_of: OriginOf) -> None:
        """Draw highlight ``kind`` on the front tile of its panel, or on the tiles it names (one item
        at the first tile: the others' cells are offset by where their tiles are, at the same scale)."""
        item, h = self.hover[kind], self.highlights[kind]
        found = [] if h is None else [origin_of(h.panel, g) for g in h.grids or (-1,)]
        origins = [o for o in found if o is not None]
        if h is None or not origins or not h.cells:
            item.set_cells([])
            return
        x0, y0, scale = origins[0]
        item.setPos(QPointF(x0, y0))
        item.setScale(scale)
        item.zoom = self.zoom
        cells = [(r + (y - y0) / scale, c + (x - x0) / scale) for x, y, _ in origins for r, c in h.cells]
        item.set_cells(cells, labels=list(h.labels) * len(origins))

    def set_theme(self) -> None:
        """Take the colours of the (shared, just changed) theme."""
        for style, items in self.items.items():
            for m in items:
                m.color = QColor(self.theme[MARK_STYLES[style][0]])
        for kind, m in self.hover.items():
            m.color = QColor(self.theme[HIGHLIGHT_STYLES[kind][0]])
        self.flow.pos, self.flow.neg = QColor(self.theme["window"]), QColor(self.theme["hover"])

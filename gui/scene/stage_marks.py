"""The stage view's moving marks: the window's footprint, the lines to the cell being written, that
cell, the gradient's arrows and the hover highlights.

They are an item of their own, a child of the ``StageItem`` whose planes they mark, with a bounding
box just round them (both ends of a glide), so a step or a glide tick repaints that box and a few
cells of the planes, not the whole stage. The lines from the footprint are clipped out of the upper
planes: they run behind them, as the planes float above. Geometry comes from the stage item.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPolygonF
from PySide6.QtWidgets import QGraphicsObject

from ..models.frame import Cell, Frame, Mark
from .draw import is_vector, screen_pen
from .grid import glyph, number_px
from .projection import FORE, SHEAR, Plane, Point, StageLayout
from .stage_plane import EDGE, poly
from .theme import qcolor

if TYPE_CHECKING:
    from .stage import StageItem

__all__ = ["StageMarks"]

#: Room (cells of a plane) kept round the marks for pens, arrow heads and labels.
MARGIN = 0.6


def crossed(plane: Plane | None, segments: list[tuple[Point, Point]]) -> set[Cell]:
    """The cells of ``plane`` whose faces ``segments`` cross (sampled every twentieth of a cell): their
    numbers are written again over the lines, so a line never crosses a number (as in the flat view)."""
    out: set[Cell] = set()
    if plane is None:
        return out
    step = 0.05 * plane.scale * FORE
    for (x0, y0), (x1, y1) in segments:
        t = np.linspace(0.0, 1.0, max(2, int(math.hypot(x1 - x0, y1 - y0) / step) + 1))
        r = (y0 + (y1 - y0) * t - plane.y0) / (plane.scale * FORE)
        c = (x0 + (x1 - x0) * t - plane.x0) / plane.scale - SHEAR * (plane.rows - r)
        inside = (r >= 0) & (r < plane.rows) & (c >= 0) & (c < plane.cols)
        out.update(zip(r[inside].astype(int).tolist(), c[inside].astype(int).tolist(), strict=True))
    return out


class StageMarks(QGraphicsObject):
    """The moving marks of a ``StageItem`` (its child: drawn over its planes)."""

    def __init__(self, stage: StageItem) -> None:
        super().__init__(stage)
        self.stage = stage
        self._rect = QRectF()

    def refresh(self) -> None:
        """The frame or the glide's ends changed: take the new bounding box and repaint."""
        rect = self.stage.marks_bounds(MARGIN)
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self._rect

    def paint(self, p: QPainter, *args: object) -> None:
        st = self.stage
        f, lay = st.frame, st.layout
        if f is None or lay is None:
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self._paint_footprint_fill(p)
        self._paint_footprint(p, f, lay)
        self._paint_links(p, f, lay)
        self._paint_cell_fill(p)
        self._paint_cell_marks(p, f, lay)
        self._paint_flows(p, f, lay)
        self._paint_highlights(p, f)

    def _paint_footprint_fill(self, p: QPainter) -> None:
        """The window's taps tinted, the cells a dilated window skips hatched, the numbers over them again."""
        st = self.stage
        hit = st.window_mark()
        if hit is None:
            return
        m, plane, (r, c) = hit
        taps = set(m.cells)
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)  # cells side by side: no doubled seams
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(qcolor(st.theme, "window", 80))
        for a, b in m.cells:
            p.drawPolygon(poly(plane.quad(r + a, c + b)))
        skipped = [] if m.span is None else [(a, b) for a in range(m.span[0]) for b in range(m.span[1])
                                             if (a, b) not in taps]
        for brush in (QBrush(qcolor(st.theme, "background", 120)),
                      QBrush(qcolor(st.theme, "window", 200), Qt.BrushStyle.FDiagPattern)):
            if is_vector(p) and brush.style() != Qt.BrushStyle.SolidPattern:
                continue  # not every SVG reader draws patterns: the veil alone there
            p.setBrush(brush)
            for a, b in skipped:
                p.drawPolygon(poly(plane.quad(r + a, c + b)))
        p.restore()
        st.renumber(p, m.panel, _around(r, c, m.span or (1, 1)))

    def _paint_cell_fill(self, p: QPainter) -> None:
        """The cell being written, tinted, its number over the tint again."""
        st = self.stage
        hit = st.cell_mark()
        if hit is not None:
            _, plane, (r, c) = hit
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(qcolor(st.theme, "output", 60))
            p.drawPolygon(poly(plane.quad(r, c)))
            name = hit[0].panel
            st.renumber(p, name, _around(r, c, (1, 1)))

    def _paint_footprint(self, p: QPainter, f: Frame, lay: StageLayout) -> None:
        """Over the numbers: the window's taps outlined, its extent dashed, the chosen cell circled, each
        tap's small label (the weight it multiplies) in its corner."""
        st = self.stage
        hit = st.window_mark()
        if hit is None:
            return
        m, plane, (r, c) = hit
        colour = st.theme["window"]
        if m.span is not None:
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(screen_pen(p, colour, 2.5, Qt.PenStyle.DashLine))
            p.drawPolygon(poly(plane.quad(r, c, *m.span)))
        p.setPen(screen_pen(p, colour, 2.5))
        p.setBrush(Qt.BrushStyle.NoBrush)
        for a, b in m.cells:
            p.drawPolygon(poly(plane.quad(r + a, c + b)))
        if m.special is not None:
            x, y = plane.centre(r + m.special[0], c + m.special[1])
            rad = 0.42 * plane.scale
            p.setPen(screen_pen(p, st.theme["output"], 3.0))
            p.drawEllipse(QPointF(x, y), rad, rad * FORE)
        if m.labels:
            self._paint_tap_labels(p, m, plane, r, c)

    def _paint_tap_labels(self, p: QPainter, m: Mark, plane: Plane, r: float, c: float) -> None:
        """Each tap's small text ("×2"), in the near-right corner of its cell, as the paper's figures do
        (where the face has room for it beside the number: the kernel box shows the weights anyway)."""
        px = float(np.hypot(p.transform().m11(), p.transform().m12())) * plane.scale
        if px * FORE < number_px(px, 2, self.stage.zoom) + _tag_px(px, self.stage.zoom) + 2:
            return
        cells = [(r + a, c + b) for a, b in m.cells]
        self._tags(p, plane, cells, list(m.labels), "window", near=True)

    def _tags(self, p: QPainter, plane: Plane, cells: list[tuple[float, float]], labels: list[str],
              colour: str, *, near: bool) -> None:
        """Small texts on cells of ``plane``, on a tag of ``colour``: in each cell's near-right corner
        (``near``) or over its far-left one."""
        st = self.stage
        tr = p.transform()
        px = float(np.hypot(tr.m11(), tr.m12())) * plane.scale
        size = _tag_px(px, st.zoom)
        dpr = p.device().devicePixelRatioF() if p.device() is not None else 1.0
        back = qcolor(st.theme, colour, 230)
        p.save()
        p.resetTransform()
        for (i, j), s in zip(cells, labels, strict=False):
            if not s:
                continue
            at = tr.map(QPointF(*(plane.point(i + 1, j + 1) if near else plane.point(i, j))))
            gl = glyph(s, True, size, dpr)
            gw, gh = gl.width() / dpr, gl.height() / dpr
            box = (QRectF(at.x() - gw - 2, at.y() - gh - 1, gw, gh) if near
                   else QRectF(at.x() + 1, at.y() + 1, gw, gh))
            p.fillRect(box, back)
            p.drawPixmap(box.topLeft(), gl)
        p.restore()

    def _paint_links(self, p: QPainter, f: Frame, lay: StageLayout) -> None:
        """Lines from the footprint's corners to the corners of the cell being written."""
        st = self.stage
        lines = st.link_lines()
        if not lines:
            return
        backward = lay.lower == "dx"
        behind = QPainterPath()
        behind.addRect(self._rect)
        for plane in lay.planes[lay.upper]:  # each plane with its slab's edge (as ``stage_plane`` draws it)
            (fl, fr, nr, nl), e = plane.quad(0, 0, plane.rows, plane.cols), plane.scale * EDGE
            solid = QPainterPath()
            solid.addPolygon(poly([fl, fr, (fr[0], fr[1] + e), (nr[0], nr[1] + e), (nl[0], nl[1] + e), nl]))
            behind = behind.subtracted(solid)
        p.save()
        p.setClipPath(behind)
        p.setPen(screen_pen(p, st.theme["window"], 1.6, Qt.PenStyle.DashLine if backward
                            else Qt.PenStyle.SolidLine))
        p.drawLines([QLineF(QPointF(*a), QPointF(*b)) for a, b in lines])
        p.restore()
        st.renumber(p, lay.lower, tuple(sorted(crossed(st.plane(lay.lower), lines))))

    def _paint_cell_marks(self, p: QPainter, f: Frame, lay: StageLayout) -> None:
        """The cell being written (thick), cells the activation changed and multiply-add taps."""
        st = self.stage
        hit = st.cell_mark()
        if hit is not None:
            m, plane, (r, c) = hit
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(screen_pen(p, st.theme["output"], 3.5))
            p.drawPolygon(poly(plane.quad(r, c)))
        for m in f.marks:
            if m.style not in ("changed", "tap"):
                continue
            pn = f.panel(m.panel)
            plane = st.plane(m.panel)
            if pn is None or plane is None or m.grid != pn.front:
                continue
            colour = st.theme["output"] if m.style == "changed" else st.theme["window"]
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(screen_pen(p, colour, 3.0))
            for a, b in m.cells:
                p.drawPolygon(poly(plane.quad(m.at[0] + a, m.at[1] + b)))

    def _paint_flows(self, p: QPainter, f: Frame, lay: StageLayout) -> None:
        """The gradient flowing down: an arrow from the dL/dY cell to each dL/dX cell it reaches, as
        thick as its share and coloured by its sign; dots travel down them while the step glides. The
        numbers of the cells they join or cross are written again over them (the arrows start on dL/dY's)."""
        st = self.stage
        pos, neg = st.theme["window"], st.theme["hover"]
        t = st.t
        segments = st.flow_segments()
        for (x0, y0), (x1, y1), wgt in segments:
            colour = pos if wgt > 0 else neg
            p.setPen(screen_pen(p, colour, 1.0 + 2.5 * abs(wgt)))
            p.drawLine(QLineF(x0, y0, x1, y1))
            self._arrow_head(p, (x0, y0), (x1, y1), colour, 5.0 + 5.0 * abs(wgt))
            if t < 1.0:
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(QColor(colour))
                tr = p.transform()
                at = tr.map(QPointF(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t))
                p.save()
                p.resetTransform()
                p.drawEllipse(at, 4.0, 4.0)
                p.restore()
        if segments:
            fl = f.flows[0]
            ab = [(a, b) for a, b, _ in segments]
            st.renumber(p, fl.to_panel, tuple(sorted({*fl.to_cells, *crossed(st.plane(fl.to_panel), ab)})))
            st.renumber(p, fl.panel, tuple(sorted({fl.cell, *crossed(st.plane(fl.panel), ab)})))

    def _arrow_head(self, p: QPainter, a: Point, b: Point, colour: str, size: float) -> None:
        """A filled arrow head at ``b`` pointing from ``a`` (``size`` in pixels)."""
        tr = p.transform()
        pa, pb = tr.map(QPointF(*a)), tr.map(QPointF(*b))
        dx, dy = pb.x() - pa.x(), pb.y() - pa.y()
        n = float(np.hypot(dx, dy)) or 1.0
        ux, uy = dx / n, dy / n
        tip = QPointF(pb.x() - ux * 3, pb.y() - uy * 3)
        back = QPointF(tip.x() - ux * size, tip.y() - uy * size)
        left = QPointF(back.x() - uy * size * 0.5, back.y() + ux * size * 0.5)
        right = QPointF(back.x() + uy * size * 0.5, back.y() - ux * size * 0.5)
        p.save()
        p.resetTransform()
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(colour))
        p.drawPolygon(QPolygonF([tip, left, right]))
        p.restore()

    def _paint_highlights(self, p: QPainter, f: Frame) -> None:
        """Hover and pin highlights on the planes of their grids (``Highlight.grids``; none: the front)."""
        st = self.stage
        for kind, h in st.highlights.items():
            if h is None or not h.cells:
                continue
            for g in h.grids or (-1,):
                plane = st.plane(h.panel, g)
                if plane is None:
                    continue
                colour = st.theme["hover"] if kind != "fed" else st.theme["output"]
                p.setBrush(qcolor(st.theme, "hover", 70))
                p.setPen(screen_pen(p, colour, 2.5))
                for i, j in h.cells:
                    p.drawPolygon(poly(plane.quad(i, j)))
                if h.labels:  # through which tap each cell is fed ("w0,1")
                    spots = [(float(i), float(j)) for i, j in h.cells]
                    self._tags(p, plane, spots, list(h.labels), "hover", near=False)


def _around(r: float, c: float, span: tuple[int, int]) -> tuple[Cell, ...]:
    """The cells a block of ``span`` cells at fractional ``(r, c)`` (a gliding mark) touches."""
    r0, c0 = math.floor(r), math.floor(c)
    r1, c1 = math.ceil(r) + span[0], math.ceil(c) + span[1]
    return tuple((i, j) for i in range(r0, r1) for j in range(c0, c1))


def _tag_px(px: float, zoom: float) -> int:
    """Type size (pixels) of a small text on a cell ``px`` pixels wide."""
    return int(max(8, min(px * 0.2 * max(zoom, 1.0), px * 0.26)))

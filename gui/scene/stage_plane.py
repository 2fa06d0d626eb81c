"""One grid painted on a plane of the stage view: its slab edge, cells, padding, lines and numbers.

On a raster device a plane is drawn once per content, theme, zoom and screen
transform into a picture in device pixels and every later paint is a blit (the
cells not computed yet are then filled empty over it: two rectangles and their
lines), so a step costs a blit per plane however many numbers it holds. On a
vector device (SVG, PDF) it is drawn directly, a shape per cell and real text,
so the file stays vector.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QImage,
    QPainter,
    QPainterPath,
    QPixmap,
    QPolygonF,
    QTransform,
)

from ..models.frame import Cell, Frame, Grid
from .colour import TileRender
from .draw import is_vector, screen_pen
from .face_type import TypeFit, face_numbers_fit, face_type_px, type_fit
from .grid import glyph
from .numbers import MIN_TEXT_CELL
from .projection import Plane, Point, StageLayout
from .theme import qcolor

__all__ = ["EDGE", "PlanePainter", "changed_rows", "face_type_px", "over", "planes_key", "poly"]

#: How thick (cells) a slab's edge is drawn under its near side and along its right.
EDGE = 0.14
#: Pictures of planes kept (a few per plane: full, blank, a theme or zoom toggled back).
CACHE = 32


def poly(points: tuple[Point, ...] | list[Point]) -> QPolygonF:
    """A polygon of scene points."""
    return QPolygonF([QPointF(x, y) for x, y in points])


def over(base: QColor, veil: QColor | None) -> QColor:
    """``veil`` laid over ``base`` (source-over)."""
    if veil is None:
        return base
    a = veil.alphaF()
    return QColor.fromRgbF(*(v * a + b * (1 - a) for v, b in ((veil.redF(), base.redF()),
                                                               (veil.greenF(), base.greenF()),
                                                               (veil.blueF(), base.blueF()))))


class PlanePainter:
    """Paints grids on planes for one stage item (theme and text zoom shared with it)."""

    def __init__(self, theme: dict[str, str]) -> None:
        self.theme = theme
        self.zoom = 1.0
        self._images: dict[int, tuple[TileRender, QImage]] = {}
        self._pictures: dict[tuple[object, ...], tuple[tuple[object, ...], QPixmap]] = {}

    def forget(self) -> None:
        """Drop every picture (a theme or zoom change)."""
        self._images.clear()
        self._pictures.clear()

    def kind_veil(self, kind: int) -> QColor | None:
        """What is laid over a cell of ``kind``: padding a tint of its own, overhang and an inserted zero
        (no value of their own) a veil of the background."""
        if kind == 1:
            return qcolor(self.theme, "padding", 150)
        if kind in (2, 3):
            return qcolor(self.theme, "background", 185)
        return None

    # ------------------------------------------------------------------ one plane
    def paint(self, p: QPainter, g: Grid, render: TileRender, plane: Plane, *, numbers: bool,
              edge: str | None, blank: bool, fit: TypeFit | None = None) -> float:
        """Paint grid ``g`` on ``plane`` (numbers when ``numbers``); its cells' width in pixels.

        ``edge``: the slab's outline colour (a kernel's hue); ``blank``: the empty colour only;
        ``fit``: the labels the numbers' type is sized for (``type_fit``; default: ``render``'s).
        """
        h, w = g.shape
        stop = h * w if g.pending_from is None or blank else g.pending_from
        m = QTransform(*plane.affine()) * p.transform()
        px = math.hypot(m.m11(), m.m12())
        if is_vector(p):
            self._draw(p, g, render, plane, numbers=numbers, edge=edge, blank=blank, px=px, stop=stop,
                       fit=fit)
            return px
        self._blit(p, self._picture(p, g, render, plane, numbers=numbers, edge=edge, blank=blank, px=px,
                                    fit=fit))
        if stop < h * w:  # the cells to come: empty again, drawn over the finished picture
            p.save()
            p.setTransform(QTransform(*plane.affine()), True)
            self._pending(p, h, w, stop)
            p.setPen(screen_pen(p, self.theme["grid"], 1.0))
            r0, c0 = divmod(stop, w)
            if px >= 7:  # row by row, so a row still to come looks the same whichever step this is
                p.drawLines([QLineF(c0, r0, w, r0)] + [QLineF(0, i, w, i) for i in range(r0 + 1, h + 1)]
                            + [QLineF(j, r0, j, r0 + 1) for j in range(c0, w + 1)]
                            + [QLineF(j, i, j, i + 1) for i in range(r0 + 1, h) for j in range(w + 1)])
            p.setPen(screen_pen(p, edge or self.theme["grid"], 2.5 if edge else 1.5))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(0, 0, w, h))
            p.restore()
        return px

    def _pending(self, p: QPainter, h: int, w: int, stop: int) -> None:
        """Cells from raster index ``stop`` on in the empty colour (``p`` in grid coordinates)."""
        r0, c0 = divmod(stop, w)
        empty = qcolor(self.theme, "empty")
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.fillRect(QRectF(c0, r0, w - c0, 1), empty)
        p.fillRect(QRectF(0, r0 + 1, w, h - r0 - 1), empty)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)

    def _blit(self, p: QPainter, picture: tuple[tuple[int, int], QPixmap]) -> None:
        (x, y), pix = picture
        p.save()
        p.resetTransform()
        p.drawPixmap(QPointF(x, y), pix)
        p.restore()

    def _picture(self, p: QPainter, g: Grid, render: TileRender, plane: Plane, *, numbers: bool,
                 edge: str | None, blank: bool, px: float,
                 fit: TypeFit | None) -> tuple[tuple[int, int], QPixmap]:
        """The plane drawn into a device-pixel picture, and where its top-left corner goes (cached)."""
        tr = p.transform()
        dpr = p.device().devicePixelRatioF() if p.device() is not None else 1.0
        x, y, w, h = plane.bounds()
        box = tr.mapRect(QRectF(x, y, w, h + plane.scale * (EDGE + 0.1)))
        ox, oy = math.floor(box.left()) - 3, math.floor(box.top()) - 3
        shifted = QTransform(tr.m11(), tr.m12(), tr.m21(), tr.m22(), tr.dx() - ox, tr.dy() - oy)
        key = (id(g.labels), id(render), id(g.kinds), plane, numbers, edge, blank, dpr, self.zoom,
               round(tr.m11(), 6), round(tr.m12(), 6), round(tr.m21(), 6), round(tr.m22(), 6),
               round(shifted.dx(), 3), round(shifted.dy(), 3), tuple(self.theme.values()), fit)
        held = (g.labels, render, g.kinds)  # holding them keeps their ids from being reused while cached
        hit = self._pictures.get(key)
        if hit is not None and hit[0][1] is render and hit[0][0] is g.labels:
            return (ox, oy), hit[1]
        pix = QPixmap(max(1, math.ceil((box.width() + 7) * dpr)), max(1, math.ceil((box.height() + 7) * dpr)))
        pix.setDevicePixelRatio(dpr)
        pix.fill(Qt.GlobalColor.transparent)
        q = QPainter(pix)
        try:
            q.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            q.setTransform(shifted)
            self._draw(q, g, render, plane, numbers=numbers, edge=edge, blank=blank, px=px,
                       stop=g.values.size, fit=fit)
        finally:
            q.end()
        if len(self._pictures) >= CACHE:
            self._pictures.clear()
        self._pictures[key] = (held, pix)
        return (ox, oy), pix

    def _draw(self, p: QPainter, g: Grid, render: TileRender, plane: Plane, *, numbers: bool,
              edge: str | None, blank: bool, px: float, stop: int, fit: TypeFit | None = None) -> None:
        """Draw the plane directly with ``p``'s transform: edge band, cells, kinds, lines, numbers."""
        h, w = g.shape
        near_l, near_r, far_r = plane.point(h, 0), plane.point(h, w), plane.point(0, w)
        s = plane.scale * EDGE
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(qcolor(self.theme, "grid", 200))
        p.drawPolygon(poly([near_l, near_r, (near_r[0], near_r[1] + s), (near_l[0], near_l[1] + s)]))
        p.drawPolygon(poly([near_r, far_r, (far_r[0], far_r[1] + s), (near_r[0], near_r[1] + s)]))
        p.save()
        p.setTransform(QTransform(*plane.affine()), True)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        if blank:
            p.fillRect(QRectF(0, 0, w, h), qcolor(self.theme, "empty"))
        elif is_vector(p) and h * w <= 4096:
            for i in range(h):
                for j in range(w):
                    p.fillRect(QRectF(j, i, 1, 1), QColor(*(int(v) for v in render.rgba[i, j])))
        else:
            p.drawImage(QRectF(0, 0, w, h), self._image(render))
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if not blank or g.kinds is not None:
            self._kinds(p, g.kinds)
        if g.unreached_rows or g.unreached_cols:
            self._unreached(p, g)
        if stop < h * w:
            self._pending(p, h, w, stop)
        if px >= 7 and (numbers or blank):
            p.setPen(screen_pen(p, self.theme["grid"], 1.0))
            p.drawLines([QLineF(0, i, w, i) for i in range(h + 1)]
                        + [QLineF(j, 0, j, h) for j in range(w + 1)])
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(screen_pen(p, edge or self.theme["grid"], 2.5 if edge else 1.5))
        p.drawRect(QRectF(0, 0, w, h))
        p.restore()
        if numbers:
            self.numbers(p, g, render, plane, px, stop, fit=fit)

    def _unreached(self, p: QPainter, g: Grid) -> None:
        """Rows and columns no window reaches: tinted and hatched in the "unreached" colour, framed."""
        h, w = g.shape
        bands = [QRectF(0, i, w, 1) for i in g.unreached_rows]
        bands += [QRectF(j, 0, 1, h) for j in g.unreached_cols]
        tint = qcolor(self.theme, "unreached", 70)
        hatch = QBrush(qcolor(self.theme, "unreached", 220), Qt.BrushStyle.BDiagPattern)
        p.setPen(screen_pen(p, qcolor(self.theme, "unreached", 220), 2.0))
        for band in bands:
            p.fillRect(band, tint)
            if not is_vector(p):
                p.fillRect(band, hatch)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(band)

    def _image(self, render: TileRender) -> QImage:
        hit = self._images.get(id(render))
        if hit is not None and hit[0] is render:
            return hit[1]
        h, w = render.rgba.shape[:2]
        rgba = np.ascontiguousarray(render.rgba)
        img = QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
        if len(self._images) > 64:
            self._images.clear()
        self._images[id(render)] = (render, img)
        return img

    def _kinds(self, p: QPainter, kinds: np.ndarray | None) -> None:
        """Padding (tinted and hatched in the padding colour), overhang and inserted zeros (veiled, a
        dotted square inside: no value of their own), and a frame round the real cells."""
        if kinds is None or not (kinds != 0).any():
            return
        vector = is_vector(p)
        for kind in (1, 2, 3):
            cells = np.argwhere(kinds == kind)
            if not cells.size:
                continue
            veil = self.kind_veil(kind)
            path = QPainterPath()
            for i, j in cells.tolist():
                path.addRect(QRectF(j, i, 1, 1))
            if veil is not None:
                p.fillPath(path, veil)
            if kind == 1 and not vector:
                p.fillPath(path, QBrush(qcolor(self.theme, "text", 90), Qt.BrushStyle.BDiagPattern))
            if kind == 3:
                p.setPen(screen_pen(p, self.theme["padding"], 1.0, Qt.PenStyle.DotLine))
                p.setBrush(Qt.BrushStyle.NoBrush)
                for i, j in cells.tolist():
                    p.drawRect(QRectF(j + 0.15, i + 0.15, 0.7, 0.7))
        real = np.argwhere(kinds == 0)
        if real.size:
            (i0, j0), (i1, j1) = real.min(axis=0), real.max(axis=0)
            p.setPen(screen_pen(p, self.theme["text"], 2.0))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(float(j0), float(i0), float(j1 - j0 + 1), float(i1 - i0 + 1)))

    def numbers(self, p: QPainter, g: Grid, render: TileRender, plane: Plane, px: float, stop: int,
                only: tuple[Cell, ...] | None = None, fit: TypeFit | None = None) -> int | None:
        """The labels, upright, centred on their cell faces (``only`` those cells when given); the type
        size used, or None when the cells are too small to carry numbers."""
        if px < MIN_TEXT_CELL:  # (before ``type_fit``, which reads every label)
            return None
        fit = fit if fit is not None else type_fit((render,))
        if not face_numbers_fit(px, fit, self.zoom):
            return None
        size = face_type_px(px, render, self.zoom, fit)
        h, w = g.shape
        pick = None
        if only is not None:
            pick = np.zeros((h, w), dtype=bool)
            for i, j in only:
                if 0 <= i < h and 0 <= j < w:
                    pick[i, j] = True
        m = QTransform(*plane.affine()) * p.transform()
        dpr = p.device().devicePixelRatioF() if p.device() is not None else 1.0
        vector = is_vector(p)
        p.save()
        p.resetTransform()
        font = QFont()
        font.setPixelSize(size)
        p.setFont(font)
        dark, light = QColor("#111111"), QColor("#ffffff")
        for (s, is_dark), (ii, jj) in render.groups.items():
            keep = (ii * w + jj) < stop
            if pick is not None:
                keep &= pick[ii, jj]
            if not keep.any():
                continue
            cx, cy = jj[keep] + 0.5, ii[keep] + 0.5
            xs = m.m11() * cx + m.m21() * cy + m.dx()
            ys = m.m12() * cx + m.m22() * cy + m.dy()
            if vector:
                p.setPen(dark if is_dark else light)
                for x, y in zip(xs.tolist(), ys.tolist(), strict=True):
                    p.drawText(QRectF(x - px / 2, y - px / 2, px, px), Qt.AlignmentFlag.AlignCenter, s)
            else:
                gl = glyph(s, is_dark, size, dpr)
                gw, gh = gl.width() / dpr, gl.height() / dpr
                for x, y in zip((xs - gw / 2).tolist(), (ys - gh / 2).tolist(), strict=True):
                    p.drawPixmap(QPointF(x, y), gl)
        p.restore()
        return size


def changed_rows(prev: Frame, f: Frame, lay: StageLayout) -> list[QRectF]:
    """Where the planes of ``f`` differ from ``prev``'s in cells computed only: the rows between the
    old and the new first cell still to come, on each plane where it moved."""
    out = []
    for panel in f.panels:
        old = prev.panel(panel.name)
        planes = lay.planes.get(panel.name)
        if old is None or not planes:
            continue
        for g, before, plane in zip(panel.grids, old.grids, planes, strict=False):
            if g.pending_from == before.pending_from:
                continue
            h, w = g.shape
            if g.pending_from is None or before.pending_from is None:  # finished, or begun again
                x, y, bw, bh = plane.bounds()
                out.append(QRectF(x - 1, y - 1, bw + 2, bh + 2 + plane.scale * 0.3))
                continue
            a = h * w if before.pending_from is None else before.pending_from
            b = h * w if g.pending_from is None else g.pending_from
            r0, r1 = min(a, b) // w, min(max(a, b) // w, h - 1)
            x0, y0 = plane.point(r1 + 1, 0)
            x1, y1 = plane.point(r0, w)
            pad = 0.3 * plane.scale
            out.append(QRectF(x0 - pad, y1 - pad, x1 - x0 + 2 * pad, y0 - y1 + 2 * pad))
    return out


def planes_key(f: Frame, lay: StageLayout) -> tuple[object, ...]:
    """What the planes item paints of ``f``, but which cells are computed yet: equal keys differ in
    ``pending_from`` at most."""
    panels = tuple((p.name, p.title, p.levels, p.colour, p.front,
                    tuple((id(g.values), id(g.labels), id(g.kinds), g.unreached_rows, g.unreached_cols)
                          for g in p.grids)) for p in f.panels)
    return (lay.bounds, len(lay.boxes), tuple(lay.planes.get("kernel", ())), panels)

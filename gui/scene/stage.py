"""The stage view's painter: a ``Frame`` drawn as conv_arithmetic draws it, with its numbers.

The lower plane (the input, or dL/dX in the backward pass) lies below, the
upper plane (the output, or dL/dY) floats above, both seen at an angle
(``gui.scene.projection``). The window's footprint is drawn on the lower plane
(its taps filled, the cells a dilated window skips hatched, padding tinted and
hatched in its own colour, inserted zeros dimmed), and lines join the
footprint's corners to the corners of the output cell being written. In the
backward pass the gradient flows down those lines: arrows from the dL/dY cell
to every dL/dX cell it reaches, as thick as the amount each receives, and dots
that travel down them while the step glides. Channels are stacked slabs; each
kernel is a box beside the lower plane, in its own colour, as is the output
slab it makes.

The numbers are exactly the frame's labels, painted upright on the cell faces,
never smaller than the flat view's type for a cell that wide unless the widest
would then not fit inside its slanted face (``face_type.face_number_px``).
What is shown is the frame's; where it goes is the projection's; these modules
only paint: ``stage_plane`` one grid on its plane (a cached picture per plane),
``stage_marks`` the moving marks (an item of their own, so a step repaints
little), ``stage_titles`` the titles and the boxes' numbers, this one the planes
and boxes, the glide and the geometry tests read back. Plain
``QGraphicsObject``/``QPainter`` code: it needs nothing of pyqtgraph's beyond a
colour map's lookup table.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QGraphicsObject

from ..models.choices import PanelName
from ..models.frame import Cell, Frame, Grid, Highlight, Mark, Panel
from .colour import RenderCache, TileRender
from .face_type import TypeFit, face_number_px, face_numbers_fit, face_type_px, type_fit
from .projection import Plane, Point, StageLayout, stage_layout
from .stage_marks import StageMarks
from .stage_plane import PlanePainter, changed_rows, over, planes_key
from .stage_titles import paint_index, paint_titles
from .theme import colour_map, qcolor

__all__ = ["KERNEL_HUES", "StageItem", "face_number_px"]

#: One colour per kernel (Okabe–Ito, then repeated): its box and the output slab it makes.
KERNEL_HUES = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#f0e442", "#000000")
_Corner = tuple[float, float]


class StageItem(QGraphicsObject):
    """Paints one frame in the stage view. ``set_frame`` takes a frame, ``glide`` moves its marks.

    Attributes read back by tests
    -----------------------------
    layout : StageLayout or None
        Where each plane went.
    number_px : dict of PanelName to int
        Type size (pixels) the numbers of each panel's front plane were painted in last.
    cell_px : dict of PanelName to float
        Width (pixels) of one cell of each panel's front plane when last painted.
    index_rects : dict of int to QRectF
        Where (device pixels) each kernel box's number was painted last.
    box_number_px : dict of int to int
        Type size (pixels) each kernel box's numbers were painted in last (one for them all).
    title_rects : dict of PanelName to (str, QRectF)
        Each title as painted last (its text, "…" where it had to be cut) and where (device pixels).
    """

    def __init__(self, theme: dict[str, str], theme_name: str = "light") -> None:
        super().__init__()
        self.theme = theme  # shared with the view: a theme switch reaches this item
        self.theme_name = theme_name
        self.zoom = 1.0
        self.frame: Frame | None = None
        self.layout: StageLayout | None = None
        self.highlights: dict[str, Highlight | None] = {}
        self.number_px: dict[PanelName, int] = {}
        self.cell_px: dict[PanelName, float] = {}
        self.index_rects: dict[int, QRectF] = {}
        self.title_rects: dict[PanelName, tuple[str, QRectF]] = {}
        self.box_number_px: dict[int, int] = {}
        self._renders = RenderCache()
        self.planes = PlanePainter(theme)
        self._from: dict[tuple[str, int], _Corner] = {}
        self._to: dict[tuple[str, int], _Corner] = {}
        self.t = 1.0
        self._rect = QRectF()
        self._planes_key: tuple[object, ...] | None = None
        self.marks = StageMarks(self)

    # ------------------------------------------------------------------ state
    def set_frame(self, f: Frame, same_glide: bool) -> None:
        """Show frame ``f``; its window and cell marks glide from the last frame's when ``same_glide``."""
        lay = stage_layout(f)
        new_to = {(m.style, k): (float(m.at[0]), float(m.at[1])) for k, m in enumerate(self._moving(f))}
        self._from = ({key: self._at(key) for key in new_to} if same_glide and self.frame is not None
                      else dict(new_to))
        self._to = new_to
        self.t = 1.0  # as the flat view: the marks are where the frame says until ``glide`` moves them
        prev, self.frame = self.frame, f
        x, y, w, h = lay.bounds
        if self.layout is None or self.layout.bounds != lay.bounds:
            self.prepareGeometryChange()
            self._rect = QRectF(x, y, w, h)
        self.layout = lay
        key = planes_key(f, lay)
        if key != self._planes_key or prev is None:
            self.update()  # other grids, titles or places: the whole stage
        else:  # the same planes, more (or fewer) cells computed: repaint those rows only
            for rect in changed_rows(prev, f, lay):
                self.update(rect)
        self._planes_key = key
        self.marks.refresh()

    def glide(self, t: float) -> None:
        """Put the moving marks at fraction ``t`` (0..1) of their way from the last frame's places."""
        self.t = min(max(float(t), 0.0), 1.0)
        self.marks.update()

    def show_highlights(self, highlights: dict[str, Highlight | None]) -> None:
        """Light the hover and pin highlights (``kind: Highlight``) on the planes."""
        self.highlights = dict(highlights)
        self.marks.refresh()

    def forget(self, colours: bool = True) -> None:
        """Drop what was computed for the old theme (``colours`` False: a text zoom, the cells'
        colours are kept)."""
        if colours:
            self._renders.clear()
        self.planes.forget()
        self._planes_key = None
        self.update()
        self.marks.refresh()

    def marks_bounds(self, margin: float) -> QRectF:
        """A box round every mark at both ends of its glide, the arrows and the highlights, ``margin``
        cells of room added."""
        f, lay = self.frame, self.layout
        if f is None or lay is None:
            return QRectF()
        pts: list[Point] = []
        scale = 1.0
        for k, m in enumerate(self._moving(f)):
            pn, plane = f.panel(m.panel), self.plane(m.panel)
            if pn is None or plane is None or m.grid != pn.front:
                continue
            for at in (self._from.get((m.style, k)), self._to.get((m.style, k))):
                if at is not None:
                    pts += plane.quad(at[0], at[1], *(m.span or (1, 1)))
            scale = max(scale, plane.scale)
        for m in f.marks:
            plane = self.plane(m.panel) if m.style in ("changed", "tap") else None
            if plane is not None:
                pts += [q for a, b in m.cells for q in plane.quad(m.at[0] + a, m.at[1] + b)]
                scale = max(scale, plane.scale)
        for a, b, _ in self.flow_segments():
            pts += [a, b]
        for h in self.highlights.values():
            for plane in [] if h is None else [self.plane(h.panel, g) for g in h.grids or (-1,)]:
                if plane is not None and h is not None:
                    pts += [q for i, j in h.cells for q in plane.quad(i, j)]
                    scale = max(scale, plane.scale)
        if not pts:
            return QRectF()
        xs, ys = [x for x, _ in pts], [y for _, y in pts]
        pad = margin * scale
        return QRectF(min(xs) - pad, min(ys) - pad, max(xs) - min(xs) + 2 * pad, max(ys) - min(ys) + 2 * pad)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self._rect

    def _moving(self, f: Frame) -> list[Mark]:
        """The marks that glide: the windows, then the cells, in the frame's order."""
        return [m for m in f.marks if m.style in ("window", "cell")]

    def _at(self, key: tuple[str, int]) -> _Corner:
        """Where the moving mark ``key`` is now (between its last and its next place)."""
        a, b = self._from.get(key), self._to.get(key)
        if a is None or b is None:
            return b or a or (0.0, 0.0)
        t = self.t
        s = t * t * (3 - 2 * t)  # smoothstep, as the flat view glides
        return (a[0] + (b[0] - a[0]) * s, a[1] + (b[1] - a[1]) * s)

    # ------------------------------------------------------------------ geometry read back
    def plane(self, panel: PanelName, grid: int = -1) -> Plane | None:
        """The plane of grid ``grid`` of ``panel`` (-1: its front grid), or None when not drawn."""
        f, lay = self.frame, self.layout
        if f is None or lay is None or panel not in lay.planes:
            return None
        p = f.panel(panel)
        planes = lay.planes[panel]
        k = (p.front if p is not None else 0) if grid < 0 else grid
        return planes[k] if 0 <= k < len(planes) else None

    def window_mark(self) -> tuple[Mark, Plane, _Corner] | None:
        """The window footprint drawn (on the lower or upper plane), its plane and where it is now."""
        return self._mark_on("window")

    def cell_mark(self) -> tuple[Mark, Plane, _Corner] | None:
        """The output cell drawn as being written, its plane and where it is now."""
        return self._mark_on("cell")

    def _mark_on(self, style: str) -> tuple[Mark, Plane, _Corner] | None:
        f, lay = self.frame, self.layout
        if f is None or lay is None:
            return None
        for k, m in enumerate(self._moving(f)):
            if m.style != style or m.panel not in (lay.lower, lay.upper):
                continue
            p = f.panel(m.panel)
            if p is None or m.grid != p.front:
                continue
            plane = self.plane(m.panel)
            if plane is not None:
                return m, plane, self._at((m.style, k))
        return None

    def footprint_quad(self) -> tuple[Point, Point, Point, Point] | None:
        """Scene corners of the window's extent as drawn now (far-left, far-right, near-right, near-left)."""
        hit = self.window_mark()
        if hit is None:
            return None
        m, plane, (r, c) = hit
        h, w = m.span if m.span is not None else (1, 1)
        return plane.quad(r, c, h, w)

    def cell_quad(self) -> tuple[Point, Point, Point, Point] | None:
        """Scene corners of the cell being written, as drawn now."""
        hit = self.cell_mark()
        if hit is None:
            return None
        _, plane, (r, c) = hit
        return plane.quad(r, c)

    def link_lines(self) -> list[tuple[Point, Point]]:
        """The lines joining the footprint's corners to the written cell's (lower end first)."""
        a, b = self.footprint_quad(), self.cell_quad()
        if a is None or b is None:
            return []
        return list(zip(a, b, strict=True))

    def flow_segments(self) -> list[tuple[Point, Point, float]]:
        """The gradient's arrows: from the dL/dY cell's centre to the far part of each dL/dX cell's face
        (the number stays clear), with the signed share each receives; none that receives nothing."""
        f = self.frame
        if f is None or not f.flows:
            return []
        fl = f.flows[0]
        start, end = self.plane(fl.panel, fl.grid), self.plane(fl.to_panel, fl.to_grid)
        if start is None or end is None:
            return []
        a = start.centre(*fl.cell)
        return [(a, end.point(i + 0.22, j + 0.5), w)
                for (i, j), w in zip(fl.to_cells, fl.weights, strict=True) if w != 0]

    def face_colour(self, panel: PanelName, i: int, j: int) -> QColor:
        """The colour cell ``(i, j)`` of ``panel``'s front plane is filled with (before its text)."""
        f = self.frame
        p = None if f is None else f.panel(panel)
        if p is None:
            raise ValueError(f"no {panel} panel is shown")
        g = p.grids[p.front]
        rgba = self._render(p, g).rgba
        c = QColor(*(int(v) for v in rgba[i, j]))
        kind = 0 if g.kinds is None else int(g.kinds[i, j])
        return over(c, self.planes.kind_veil(kind))

    def pick(self, x: float, y: float) -> tuple[PanelName, int, int, int] | None:
        """The panel, channel and cell of a front plane under scene point ``(x, y)``, or None."""
        f, lay = self.frame, self.layout
        if f is None or lay is None:
            return None
        for name in (lay.upper, lay.lower, *lay.side):
            plane = self.plane(name)
            p = f.panel(name)
            hit = None if plane is None else plane.cell_at(x, y)
            if hit is not None and p is not None:
                return name, p.front + p.channel_base, hit[0], hit[1]
        return None

    # ------------------------------------------------------------------ painting
    def paint(self, p: QPainter, *args: object) -> None:
        f, lay = self.frame, self.layout
        if f is None or lay is None:
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.planes.zoom = self.zoom
        self._paint_boxes(p, f, lay)
        self._paint_stack(p, f, lay.lower)
        self._paint_stack(p, f, lay.upper)
        self.title_rects = paint_titles(p, f, lay, self.theme["text"], self.zoom)

    def _render(self, panel: Panel, grid: Grid) -> TileRender:
        empty = qcolor(self.theme, "empty")
        cmap = None if panel.colour == "none" else colour_map(self.theme_name, panel.colour)
        return self._renders.get(grid, panel.levels, cmap, (empty.red(), empty.green(), empty.blue()))

    def _paint_stack(self, p: QPainter, f: Frame, name: PanelName, hue: str | None = None,
                     planes: tuple[Plane, ...] | None = None, grids: tuple[Grid, ...] | None = None,
                     active: bool = True) -> int | None:
        """A panel's slabs, the ones behind first, then its front plane with numbers: ``grids`` (default
        the panel's) on ``planes``; ``grids`` of None with ``planes`` given: every slab blank (a kernel
        the frame does not show). The type size of the front plane's numbers (None: none); only the
        ``active`` stack's sizes are noted for tests."""
        panel = f.panel(name)
        lay = self.layout
        if panel is None or lay is None:
            return None
        blank = planes is not None and grids is None
        planes = planes if planes is not None else lay.planes.get(name)
        stack = grids if grids is not None else panel.grids
        if not planes or len(stack) != len(planes):
            return None
        shown = None
        order = sorted(range(len(planes)), key=lambda k: (k == panel.front, -planes[k].y0))
        for k in order:
            front = (k == panel.front or f.spread) and not blank  # spread apart: every slab's numbers
            edge = hue or (KERNEL_HUES[k % len(KERNEL_HUES)] if name == lay.upper and len(planes) > 1
                           else None)
            g = stack[k]
            fit = self._fit(panel)
            px = self.planes.paint(p, g, self._render(panel, g), planes[k], numbers=front, edge=edge,
                                   blank=blank, fit=fit)
            if k == panel.front and front:
                size = face_type_px(px, self._render(panel, g), self.zoom, fit)
                shown = size if face_numbers_fit(px, fit, self.zoom) else None
                if active:
                    self.cell_px[name] = px
                    if shown is not None:
                        self.number_px[name] = shown
                    else:
                        self.number_px.pop(name, None)
        return shown

    def renumber(self, p: QPainter, name: PanelName, cells: tuple[Cell, ...]) -> None:
        """The numbers of ``cells`` of ``name``'s front plane again, over a tint just laid on them."""
        f = self.frame
        panel = None if f is None else f.panel(name)
        plane = self.plane(name)
        if panel is None or plane is None or name not in self.cell_px:
            return
        g = panel.grids[panel.front]
        h, w = g.shape
        stop = h * w if g.pending_from is None else g.pending_from
        self.planes.numbers(p, g, self._render(panel, g), plane, self.cell_px[name], stop, only=cells,
                            fit=self._fit(panel))

    def _fit(self, panel: Panel) -> TypeFit:
        """What the numbers of every plane of ``panel`` are sized for: all its labels (every kernel's, for
        the kernel boxes), so its slabs and boxes share one type size."""
        grids = [g for stack in panel.stacks for g in stack] if panel.stacks else list(panel.grids)
        return type_fit(self._render(panel, g) for g in grids)

    def _panel_of(self, g: Grid) -> PanelName | None:
        f = self.frame
        if f is None:
            return None
        return next((pn.name for pn in f.panels if any(x is g for x in pn.grids)), None)

    def _paint_boxes(self, p: QPainter, f: Frame, lay: StageLayout) -> None:
        """The kernel boxes (one per kernel, in its colour; numbers on the one at work) and dL/dW."""
        active = next((k for k, b in enumerate(lay.boxes) if b is lay.planes.get("kernel")), -1)
        many = len(lay.boxes) > 1
        kernel = f.panel("kernel")
        stacks = kernel.stacks if kernel is not None and len(kernel.stacks) == len(lay.boxes) else ()
        for k, planes in enumerate(lay.boxes):
            hue = KERNEL_HUES[k % len(KERNEL_HUES)] if many else None
            grids = kernel.grids if k == active and kernel is not None else (stacks[k] if stacks else None)
            size = self._paint_stack(p, f, "kernel", hue=hue, planes=planes, grids=grids, active=k == active)
            if size is not None:
                self.box_number_px[k] = size
            if many:
                self.index_rects[k] = paint_index(p, planes, k, hue or self.theme["text"], k == active,
                                                  self.zoom, self.theme["text"])
        if "dw" in lay.planes:
            self._paint_stack(p, f, "dw")

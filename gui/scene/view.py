"""``SceneView``: the one stage painter, on screen and (offscreen) for every export. It lays out and paints
exactly what a ``Frame`` says: the heading, the caption, the panels with their titles, tiles and legends,
the marks, the flow lines, the facts line and the arithmetic. It decides nothing about what is shown;
colours are looked up once per grid, never inside ``paint``."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QCoreApplication, QEvent, QPointF, QRectF, Signal
from PySide6.QtWidgets import QSizePolicy

from ..models.choices import MATRIX_PANELS, MAX_ZOOM, MIN_ZOOM, PANELS, PanelName
from ..models.frame import Frame, Highlight, Panel
from .closing import close_view
from .colour import Entries, RenderCache
from .layout import (
    LEGEND_PX,
    Margins,
    PanelPlace,
    Tile,
    can_grow,
    grow_for,
    margins_for,
    place,
    same_margins,
    stage_rect,
)
from .marks import CellMarks, HighlightKind, Legend, MarkLayer
from .onefit import one_fit
from .placing import place_panels
from .stage import StageItem
from .stage_mode import StageMode
from .text import TextRows
from .theme import theme_colours
from .title_fit import TITLE_PT, bold_font, fit_titles
from .widgets import LayoutView, Title

#: Rounds of fitting titles at most: a crowded stage converges slowly (each push makes every cell smaller).
ROUNDS = 10

#: Hit-testing order: panels drawn over others first.
PICK_ORDER: tuple[PanelName, ...] = ("output", "dy", "target", "input", "dx", "kernel", "dw", *MATRIX_PANELS)


class SceneView(LayoutView):
    """Paints a ``Frame``: caption, panels, marks and the step's arithmetic.

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
        self.theme = theme_colours(theme)  # items share this dict, so a theme switch reaches them
        self.theme_name = theme
        self.zoom = 1.0
        self.progressive = False  # a live window: tiles' pictures made over a few turns (``tilepics``)
        self.frame: Frame | None = None
        self.setBackground(self.theme["background"])
        self.ci.setContentsMargins(12, 8, 12, 8)
        self.view = self.addViewBox(row=2, col=0)
        self.view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.text = TextRows(self, self.theme["text"], box=self.view, theme=self.theme)
        self.heading, self.caption, self.facts, self.arith = self.text.labels
        self.ci.layout.setRowStretchFactor(2, 10)
        self.ci.layout.setColumnStretchFactor(0, 10)
        self._renders = RenderCache()
        self.tiles: dict[PanelName, list[Tile]] = {k: [] for k in PANELS}
        self.titles = {k: Title(color=self.theme["text"], anchor=(0, 1)) for k in PANELS}
        for t in self.titles.values():
            t.setFont(bold_font(TITLE_PT))
            t.setZValue(60)
            self.view.addItem(t)
        self.legends = {k: Legend(self.theme) for k in PANELS}
        for lg in self.legends.values():
            self.view.addItem(lg)
        self.marks = MarkLayer(self.view, self.theme)
        self.staging = StageMode(self, self.theme, theme)  # the stage view, hidden in the flat view
        self.stage: StageItem = self.staging.item
        self._panels: dict[PanelName, Panel] = {}
        self._title_fit: dict[PanelName, tuple[object, ...]] = {}
        self._layout_key: tuple[object, ...] | None = None
        self._range: QRectF | None = None
        self._per_cell: float | None = None
        self._margins = Margins()
        self._placed: dict[PanelName, PanelPlace] = {}
        self._fitting = False
        self.held: list[bool] | None = None  # fits asked for while ``one_fit`` holds them
        self.view.sigResized.connect(self._refit)
        self.scene().sigMouseMoved.connect(self._mouse_moved)
        self.scene().sigMouseClicked.connect(self._mouse_clicked)

    # ------------------------------------------------------------------ what is shown
    @property
    def expanded(self) -> bool:
        """Whether the frame shown lays channels side by side."""
        return self.frame is not None and self.frame.expanded

    @property
    def window_marks(self) -> list[CellMarks]:
        """The items drawing window footprints (in the order of the frame's window marks)."""
        return self.marks.of("window")

    @property
    def out_mark(self) -> CellMarks:
        """The item outlining the output cell being written."""
        return self.marks.of("cell", 1)[0]

    @property
    def hover_marks(self) -> CellMarks:
        """The item drawing the "receptive" highlight."""
        return self.marks.hover["receptive"]

    @property
    def hover_out(self) -> CellMarks:
        """The item drawing the "fed" highlight."""
        return self.marks.hover["fed"]

    @property
    def staged(self) -> bool:
        """Whether the frame shown is drawn in the stage view (``Frame.view == "stage"``)."""
        return self.frame is not None and self.frame.view == "stage"

    def show_frame(self, f: Frame) -> None:
        """Draw frame ``f`` (moving marks jump there; ``glide`` animates them)."""
        prev, self.frame = self.frame, f
        self._panels = {p.name: p for p in f.panels}
        self.text.travel.show(f, self._origin, self.staging.item.plane)
        if f.view == "stage":
            return self.staging.show(f, prev)
        if self.staging.on:
            self.staging.leave()
            self._layout_key = None  # back from the stage view: lay the panels out again
        key = (f.expanded, *((p.name, len(p.grids), p.grids[0].shape, p.columns) for p in f.panels))
        self._place(f, items=key == self._layout_key or self._fitting)  # a new layout: fitting places tiles
        if key != self._layout_key:
            self._layout_key = key
            self._fit()
        else:
            self._fit_titles()
        self.marks.show(f, prev is not None and prev.glide_key == f.glide_key, self._origin)
        self.text.show_frame(f)

    def _place(self, f: Frame, *, items: bool = True) -> None:
        """Put every title of ``f`` where the layout (with the current margins) says and, with ``items``,
        every tile and legend (not while fitting measures the titles round after round)."""
        self._placed = dict(place(f, self._margins))
        place_panels(self, f, items=items)

    def _legend_px(self) -> int:
        """Legend labels' type: ``LEGEND_PX`` at text zoom 1, growing with the zoom and the cells."""
        pc = self._per_cell or 30.0
        return int(min(max(LEGEND_PX * self.zoom, pc * 0.3), 22 * self.zoom))

    def settle(self, passes: int = 4) -> None:
        """Run the layout passes a new frame posts (text moving beside the grids posts another) until
        the stage stops moving, at most ``passes``, as the event loop would: export does before a grab."""
        for _ in range(passes):
            before = self.view.sceneBoundingRect()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
            if self.view.sceneBoundingRect() == before:
                return

    def glide(self, t: float) -> None:
        """The marks and travelling products at fraction ``t`` (0..1) of their glide from the last frame."""
        w = self.text.travel.glide(t)  # the window's own fraction: it waits while products fly
        self.marks.glide(w)
        self.stage.glide(w)  # hidden in the flat view

    def show_highlight(self, kind: HighlightKind, h: Highlight | None) -> None:
        """Light cells of ``h.panel``'s front tile: "receptive" (hover colour), "fed" (with labels) or
        "source" (the real cell a padding cell copies)."""
        if kind not in self.marks.highlights:
            raise ValueError(f"unknown highlight {kind!r}; choose receptive or fed")
        self.marks.highlights[kind] = h
        self.stage.show_highlights(self.marks.highlights)
        if not self.staged:
            self.marks.place_highlight(kind, self._origin)

    def show_receptive_field(self, cells: list[tuple[int, int]], channel_tiles: PanelName = "input") -> None:
        """Old name: ``show_highlight("receptive", …)`` on padded input cells ``(row, col)``."""
        self.show_highlight("receptive", Highlight(channel_tiles, tuple(cells)) if cells else None)

    def show_fed_outputs(self, cells: list[tuple[int, int]], labels: list[str] | None = None) -> None:
        """Old name: ``show_highlight("fed", …)`` on output cells ``(row, col)`` with tap labels."""
        self.show_highlight("fed", Highlight("output", tuple(cells), tuple(labels or ())) if cells else None)

    def set_theme(self, name: str, zoom: float | None = None, renders: Entries | None = None) -> None:
        """Switch to theme ``name`` and text zoom; redraws the current frame (``renders``: its grids
        coloured in ``name`` already, by ``render_frame``)."""
        colours = theme_colours(name)
        recolour = name != self.theme_name  # a text zoom alone keeps every colour
        self.theme_name = name
        self.theme.clear()
        self.theme.update(colours)
        if zoom is not None:
            self.zoom = min(max(float(zoom), MIN_ZOOM), MAX_ZOOM)
        if recolour:
            self._renders.clear()
        self._renders.adopt(renders or [])
        self.setBackground(self.theme["background"])
        self.text.set_style(self.theme["text"], self.zoom)
        for t in self.titles.values():
            t.setColor(self.theme["text"])
            t.setFont(bold_font(round(TITLE_PT * self.zoom)))
        self._title_fit.clear()
        self._layout_key = None  # titles and legends change size: fit the stage again
        self.marks.zoom = self.zoom
        self.marks.set_theme()
        self.staging.set_theme(name, self.zoom)
        for tiles in self.tiles.values():
            for t in tiles:
                t.item.forget()
        for lg in self.legends.values():
            lg.forget()
        if self.frame is not None:
            f, self.frame = self.frame, None
            self.show_frame(f)
        # The captions took their new type: lay them out now, so the view box takes its new size (and the
        # stage its final fit) before the next paint, not after it (one picture of each tile, not two).
        for _ in range(3):  # a refit may rewrap a caption: again, until the layout holds
            if self.ci.layout.isActivated():
                break
            self.ci.layout.activate()

    # ------------------------------------------------------------------ tiles and hits
    def visible_tiles(self, panel: PanelName) -> list[Tile]:
        """The shown tiles of ``panel``, in channel order."""
        return [t for t in self.tiles[panel] if t.is_visible()]

    def front_tile(self, panel: PanelName) -> Tile | None:
        """The tile of ``panel``'s front grid (the active channel), or None."""
        p = self._panels.get(panel)
        tiles = self.visible_tiles(panel)
        if p is None or not tiles:
            return None
        return tiles[min(p.front, len(tiles) - 1)]

    def pick(self, scene_pos: QPointF) -> tuple[str, int, int, int] | None:
        """The panel, channel and cell under a scene position, or None."""
        if self.staged:
            return self.staging.pick(scene_pos)
        v = self.view.mapSceneToView(scene_pos)
        for panel in PICK_ORDER:
            tiles = self.visible_tiles(panel)
            for k, t in sorted(enumerate(tiles), key=lambda kt: -kt[1].item.zValue()):
                hit = t.cell_at(v.x(), v.y())
                if hit is not None:
                    return panel, k + self._panels[panel].channel_base, hit[0], hit[1]
        return None

    def cell_center(self, panel: PanelName, k: int, i: int, j: int) -> QPointF:
        """Widget coordinates of the centre of cell ``(i, j)`` of tile ``k`` of ``panel``."""
        if self.staged:
            return self.staging.cell_center(panel, k, i, j)
        t = self.visible_tiles(panel)[k]
        sp = self.view.mapViewToScene(QPointF(t.origin[0] + j * t.scale, t.origin[1] + i * t.scale))
        return QPointF(self.mapFromScene(sp))

    def close(self) -> bool:
        """Close safely (see ``close_view``)."""
        return close_view(self)

    def _tiles(self, panel: PanelName, n: int) -> list[Tile]:
        tiles = self.tiles[panel]
        while len(tiles) < n:
            tiles.append(Tile(self.view, self.theme))
        for t in tiles[n:]:
            if t.item.isVisible():  # hundreds are kept hidden once expanded: a fit places the panels often
                t.item.show(False)
        return tiles[:n]

    def _origin(self, panel: PanelName, grid: int) -> tuple[float, float, float] | None:
        """Where tile ``grid`` of ``panel`` is (-1: the front tile) and its scale, or None."""
        if grid < 0:
            tile = self.front_tile(panel)
        else:
            tiles = self.visible_tiles(panel)
            tile = tiles[grid] if grid < len(tiles) else None
        return None if tile is None else (tile.origin[0], tile.origin[1], tile.scale)

    # ------------------------------------------------------------------ fitting
    def _fit(self) -> None:
        """Fit the stage to the view: place, show, measure the titles, make room for them (a few rounds)."""
        f = self.frame
        if self.held is not None:  # inside ``onefit.one_fit``: fitted once, at its end
            self.held.append(True)
            return
        if f is None or self._fitting:
            return  # fitting already (the text moved and the view resized)
        if self.view.height() < 40 or self.view.width() < 40:
            self._layout_key = None  # not laid out yet: the next frame (or the resize) fits it
            self._place(f)
            return
        self._fitting = True
        try:
            self._margins = Margins()  # from the start: a tiny view's tall titles must not stick
            self._place(f, items=False)
            self._fit_rounds(f)
            rect = stage_rect(self._placed, self._margins)
            if self.text.arrange(rect.width(), rect.height(), grows=can_grow(f)):  # the view has new room
                self._fit_rounds(f)
            across = 0.98 * self.view.width() / (self._per_cell or 1e9)  # scene units across the view
            grown = grow_for(f, self._placed, self._margins, across)
            if grown != self._margins:  # room beside a two-row stage: its short panels take it (at the
                self._margins = grown     # same scale: the titles only gain room, fitted to it once)
                self._place(f, items=False)
                self._range = stage_rect(self._placed, self._margins)
                self.view.setRange(self._range, padding=0)
                self._fit_titles()
            self._place(f)  # the tiles move once, where the last round put them
        finally:
            self._fitting = False

    def _fit_rounds(self, f: Frame) -> None:
        """Show the placed stage, measure its titles at that scale, make room for them; again until the
        room stops changing. A view too small for its titles stops shrinking the stage at 40% of its
        first scale (the titles then keep to their floor and may crowd)."""
        slots = {p.name: p.slot for p in f.panels}
        first = 0.0
        for last in (False,) * (ROUNDS - 1) + (True,):
            rect = stage_rect(self._placed, self._margins)
            if rect.isEmpty():
                return
            self._range = rect
            self.view.setRange(rect, padding=0)
            px_w = self.view.viewPixelSize()[0]
            if px_w <= 0:
                return
            self._per_cell = 1.0 / px_w
            first = first or self._per_cell
            heights, short = self._fit_titles()
            need = margins_for(self._placed, heights, short, self._per_cell, self._legend_px(), slots,
                               self._margins)
            if last or same_margins(need, self._margins) or self._per_cell < 0.4 * first:
                return
            self._margins = need
            self._place(f, items=False)

    def _refit(self) -> None:
        """The view box changed size (a caption grew): fit the stage again, marks with it."""
        if self.staged:
            return self.staging.fit()
        if self.frame is not None and not self._fitting:
            self._fit()
            self.marks.show(self.frame, False, self._origin)

    def _fit_titles(self) -> tuple[dict[PanelName, float], dict[PanelName, float]]:
        """Wrap (then shrink, to a legible floor) each title to the room up to the next panel; their
        heights and how much each is still too wide, in pixels. A title is refitted only when its
        text, room or size changed."""
        if self._per_cell is None:
            return {}, {}
        heights, short = fit_titles(self.titles, self._placed, self._per_cell, round(TITLE_PT * self.zoom),
                                    self._title_fit)
        if self.frame is not None and self._range is not None and not self._fitting:
            f = self.frame
            need = margins_for(self._placed, heights, short, self._per_cell, self._legend_px(),
                               {p.name: p.slot for p in f.panels}, self._margins)
            if (need.top > self._margins.top + 0.05 or need.row_gap > self._margins.row_gap + 0.05
                    or not same_margins(replace(need, top=0, row_gap=0, bottom=0),
                                        replace(self._margins, top=0, row_gap=0, bottom=0))):
                self._fit()  # a title grew (dL/dW's db changes every step): make room for it now
                self.marks.show(f, False, self._origin)
        return heights, short

    def resizeEvent(self, ev: object) -> None:  # noqa: N802 - Qt API
        with one_fit(self):  # the view box resizes inside: one fit for both
            super().resizeEvent(ev)
            if not getattr(self, "closed", False) and getattr(self, "frame", None) is not None:  # items alive
                self.text.refresh()
                self._refit()

    # ------------------------------------------------------------------ mouse
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

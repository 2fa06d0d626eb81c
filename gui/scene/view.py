"""``SceneView``: the one stage painter, used on screen and (offscreen) for every export.

It lays out and paints exactly what a ``Frame`` says: the panels with their
titles, tiles and legends, the marks, the flow lines, the caption and the
arithmetic. It decides nothing about what is shown; colours are looked up
once per grid, never inside ``paint``.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtWidgets import QGraphicsView, QSizePolicy

from ..models.choices import MAX_ZOOM, MIN_ZOOM, PANELS, PanelName
from ..models.frame import Frame, Highlight, Panel
from .colour import RenderCache
from .layout import Tile, bold_font, fit_titles, place, set_wrapped
from .marks import CellMarks, HighlightKind, Legend, MarkLayer
from .theme import colour_map, qcolor, theme_colours

#: Hit-testing order: panels drawn over others first.
PICK_ORDER: tuple[PanelName, ...] = ("output", "dy", "target", "input", "dx", "kernel", "dw")


class SceneView(pg.GraphicsLayoutWidget):
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
        self.frame: Frame | None = None
        self.setBackground(self.theme["background"])
        self.ci.setContentsMargins(12, 8, 12, 8)
        self.caption = self.addLabel("", row=0, col=0, size="14pt", color=self.theme["text"])
        self.view = self.addViewBox(row=1, col=0, lockAspect=True, invertY=True, enableMouse=False)
        self.view.setMenuEnabled(False)
        self.arith = self.addLabel("", row=2, col=0, size="15pt", color=self.theme["text"])
        self.ci.layout.setRowStretchFactor(1, 10)
        for label in (self.caption, self.arith):  # text never dictates the scene's width
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._label_pt = (14.0, 15.0)  # caption, arithmetic
        self._renders = RenderCache()
        self.tiles: dict[PanelName, list[Tile]] = {k: [] for k in PANELS}
        self.titles = {k: pg.TextItem(color=self.theme["text"], anchor=(0, 1)) for k in PANELS}
        for t in self.titles.values():
            t.setFont(bold_font(13))
            self.view.addItem(t)
        self.legends = {k: Legend(self.theme) for k in PANELS}
        for lg in self.legends.values():
            self.view.addItem(lg)
        self.marks = MarkLayer(self.view, self.theme)
        self._panels: dict[PanelName, Panel] = {}
        self._panel_width: dict[PanelName, float] = {}
        self._title_fit: dict[PanelName, tuple[object, ...]] = {}
        self._layout_key: tuple[object, ...] | None = None
        self._range: QRectF | None = None
        self._per_cell: float | None = None
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

    def show_frame(self, f: Frame) -> None:
        """Draw frame ``f`` (moving marks jump there; ``glide`` animates them)."""
        prev, self.frame = self.frame, f
        self._panels = {p.name: p for p in f.panels}
        placed = place(f)
        empty = qcolor(self.theme, "empty")
        rgb = (empty.red(), empty.green(), empty.blue())
        for name in PANELS:
            panel = self._panels.get(name)
            tiles = self._tiles(name, 0 if panel is None else len(panel.grids))
            legend = self.legends[name]
            if panel is None:
                self.titles[name].setText("")
                legend.setVisible(False)
                self._panel_width.pop(name, None)
                continue
            pp = placed[name]
            cmap = None if panel.colour == "none" else colour_map(self.theme_name, panel.colour)
            for tile, grid, tp in zip(tiles, panel.grids, pp.tiles, strict=True):
                tile.origin, tile.shape = tp.origin, grid.shape
                tile.item.setZValue(tp.z)
                render = self._renders.get(grid, panel.levels, cmap, rgb)
                tile.item.set_tile(grid, render, tp.origin, tp.front)
                tile.item.setVisible(True)
            self.titles[name].setText(panel.title)
            self.titles[name].setPos(*pp.title_at)
            self._panel_width[name] = pp.width
            if panel.legend is not None and cmap is not None:
                legend.set_legend(cmap, QRectF(*pp.legend_box), panel.legend)
            legend.setVisible(panel.legend is not None and cmap is not None)
        self.marks.show(f, prev is not None and prev.glide_key == f.glide_key, self._origin)
        self._set_label(self.caption, _html_escape(f.caption))
        self._set_label(self.arith, _html_escape(f.arithmetic).replace("\n", "<br>"))
        key = (f.expanded, *((p.name, len(p.grids), p.grids[0].shape, p.columns) for p in f.panels))
        if key != self._layout_key:
            self._layout_key = key
            self._fit_range()
            self._fit_titles(remeasure=True)
        else:
            self._fit_titles()

    def glide(self, t: float) -> None:
        """Place the moving marks at fraction ``t`` (0..1) of the way from the previous frame's positions
        (when both frames have the same ``glide_key``)."""
        self.marks.glide(t)

    def show_highlight(self, kind: HighlightKind, h: Highlight | None) -> None:
        """Light cells of ``h.panel``'s front tile: "receptive" (hover colour) or "fed" (with labels)."""
        if kind not in self.marks.highlights:
            raise ValueError(f"unknown highlight {kind!r}; choose receptive or fed")
        self.marks.highlights[kind] = h
        self.marks.place_highlight(kind, self._origin)

    def show_receptive_field(self, cells: list[tuple[int, int]], channel_tiles: PanelName = "input") -> None:
        """Old name: ``show_highlight("receptive", …)`` on padded input cells ``(row, col)``."""
        self.show_highlight("receptive", Highlight(channel_tiles, tuple(cells)) if cells else None)

    def show_fed_outputs(self, cells: list[tuple[int, int]], labels: list[str] | None = None) -> None:
        """Old name: ``show_highlight("fed", …)`` on output cells ``(row, col)`` with tap labels."""
        self.show_highlight("fed", Highlight("output", tuple(cells), tuple(labels or ())) if cells else None)

    def set_theme(self, name: str, zoom: float | None = None) -> None:
        """Switch to theme ``name`` and text zoom; redraws the current frame."""
        colours = theme_colours(name)
        self.theme_name = name
        self.theme.clear()
        self.theme.update(colours)
        if zoom is not None:
            self.zoom = min(max(float(zoom), MIN_ZOOM), MAX_ZOOM)
        self._renders.clear()
        self.setBackground(self.theme["background"])
        self._label_pt = (14 * self.zoom, 15 * min(self.zoom, 1.25))
        for label in (self.caption, self.arith):
            label.opts["color"] = self.theme["text"]
        for t in self.titles.values():
            t.setColor(self.theme["text"])
            t.setFont(bold_font(round(13 * self.zoom)))
        self._title_fit.clear()
        self.marks.set_theme()
        for tiles in self.tiles.values():
            for t in tiles:
                t.item.forget()
        for lg in self.legends.values():
            lg.forget()
        if self.frame is not None:
            f, self.frame = self.frame, None
            self.show_frame(f)

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
        t = self.visible_tiles(panel)[k]
        sp = self.view.mapViewToScene(QPointF(t.origin[0] + j, t.origin[1] + i))
        return QPointF(self.mapFromScene(sp))

    def close(self) -> bool:
        """Close safely (see ``close_view``)."""
        return close_view(self)

    def _tiles(self, panel: PanelName, n: int) -> list[Tile]:
        tiles = self.tiles[panel]
        while len(tiles) < n:
            tiles.append(Tile(self.view, self.theme))
        for t in tiles[n:]:
            t.item.setVisible(False)
        return tiles[:n]

    def _origin(self, panel: PanelName, grid: int) -> tuple[float, float] | None:
        """Where tile ``grid`` of ``panel`` is (-1: the front tile), or None."""
        if grid < 0:
            front = self.front_tile(panel)
            return None if front is None else front.origin
        tiles = self.visible_tiles(panel)
        return tiles[grid].origin if grid < len(tiles) else None

    # ------------------------------------------------------------------ fitting
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
        fit_titles(self.titles, self._panel_width, self._per_cell, round(13 * self.zoom), self._title_fit)

    def _set_label(self, label: pg.LabelItem, html: str) -> None:
        """The caption or the arithmetic (which shrinks to at most 30% of the height), wrapped."""
        if label is self.arith:
            set_wrapped(self, label, html, self._label_pt[1], max_height=0.3)
        else:
            set_wrapped(self, label, html, self._label_pt[0])

    def resizeEvent(self, ev: object) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(ev)  # type: ignore[arg-type]
        if getattr(self, "closed", False):  # the scene's items are gone
            return
        if getattr(self, "frame", None) is not None:
            self._fit_titles(remeasure=True)
            self._set_label(self.arith, self.arith.text)
            self._set_label(self.caption, self.caption.text)

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


def _html_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

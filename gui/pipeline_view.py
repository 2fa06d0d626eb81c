"""The pipeline window's maps: every stage's feature maps (or bars) drawn with pyqtgraph, left to right.

``PipelineView`` paints what ``gui.models.pipeline.PipelineState`` computed: the
input picture and feature maps in the theme's colour maps, dense outputs as bars,
a classifier's outputs labelled with their class (each stage in its box:
``gui.pipeline_stage``), receptive fields traced back to the input and the cells
flatten reads. Here the stages are laid out (titled columns wrapped into rows,
``gui.pipeline_layout``), built (at once, or a slice of them a turn of the event
loop) and fitted to the view; it decides nothing the state does.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QTimer, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QWidget

from .models.choices import THEME_COLOUR_MAPS, THEME_COLOURS
from .models.flatten import unrolled
from .models.pipeline import is_signal_stack, runs
from .pipeline_layout import (
    MIN_MAP_WIDTH,
    MIN_VECTOR_WIDTH,
    TITLE_GAP,
    best_columns,
    tile_origins,
    wrap_rows,
)
from .pipeline_stage import BAR_LIMIT, StageItems
from .scene import apply_lut, close_view

TITLE_SIZE = "13pt"  # stage titles
#: A build spread over turns draws stages for about this long a turn (one at least), then lets the loop run.
BUILD_SLICE_S = 0.015
#: ... and waits this long before the next slice: not 0, since a 0 ms timer (or a queued call) started in
#: one of Qt's event sources can run in the same turn as the slice before it, when another source runs next.
BUILD_GAP_MS = 4


class PipelineView(StageItems, pg.GraphicsLayoutWidget):
    """Every stage's maps (or bars), left to right; click a map cell to trace its receptive field.

    Colours follow the theme, as on the main stage: the input picture in the
    theme's picture map, feature maps in its output map (levels from each
    stage's own range), dense outputs as bars coloured by sign with the ends
    of its diverging map, receptive fields in its window colour and the
    flatten cursor in its output colour.

    Signals
    -------
    cell_clicked(int, int, int, int)
        Stage, channel, row, column.
    built()
        A rebuild of the stages is complete (one spread over turns: all its stages are drawn).
    """

    cell_clicked = Signal(int, int, int, int)
    built = Signal()

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        self.boxes: list[pg.ViewBox] = []
        self.labels: list[pg.LabelItem] = []
        self.tiles: list[list[tuple[float, float, int, int]]] = []  # per stage: (x0, y0, h, w) per map
        self.rf_items: list[tuple[pg.GraphicsObject, pg.ViewBox]] = []
        self.flat_items: list[tuple[pg.GraphicsObject, pg.ViewBox]] = []
        self.items: list[list[pg.GraphicsObject]] = []
        self._structure: list[tuple[str, tuple[int, ...]]] = []
        self._shown: tuple[list[str], list[np.ndarray]] = ([], [])
        self._fields: list[tuple[np.ndarray, np.ndarray]] = []
        self._marked: tuple[int, list[tuple[int, int, int]]] = (0, [])
        self._rows: list[list[int]] = []  # stage indices per row of the layout
        self.class_texts: dict[int, list[tuple[pg.TextItem, pg.TextItem]]] = {}  # stage: (digit, value)
        self.more_texts: dict[int, pg.TextItem] = {}  # stage: "+N more"
        self._building: Iterator[None] | None = None  # the steps of a build spread over turns
        self._apply_theme(theme)
        self.scene().sigMouseClicked.connect(self._clicked)

    # ------------------------------------------------------------------ theme
    def _apply_theme(self, name: str) -> None:
        if name not in THEME_COLOURS:
            raise ValueError(f"unknown theme {name!r}; choose one of {', '.join(THEME_COLOURS)}")
        self.theme_name = name
        self.theme = THEME_COLOURS[name]
        maps = THEME_COLOUR_MAPS[name]
        self.cmaps = {"picture": pg.colormap.get(maps["picture"]), "output": pg.colormap.get(maps["output"]),
                      "diverging": pg.colormap.get(maps["diverging"])}
        ends = apply_lut(self.cmaps["diverging"], np.array([0.0, 1.0]))
        self.bar_colours = (QColor(*map(int, ends[0])), QColor(*map(int, ends[1])))  # negative, positive
        self.setBackground(self.theme["background"])

    def set_theme(self, name: str) -> None:
        """Switch to theme ``name`` (one of ``THEME_COLOURS``); redraws what is shown."""
        self._apply_theme(name)
        names, outputs = self._shown
        if outputs:
            fields, marked = self._fields, self._marked
            self._structure = []
            self.show_stages(names, outputs)
            self.show_field(fields)
            self.mark_cells(*marked)

    def close(self) -> bool:
        """Close safely (see ``gui.scene.close_view``)."""
        return close_view(self)

    # ------------------------------------------------------------------ stages
    def show_stages(self, names: list[str], outputs: list[np.ndarray], in_turns: bool = False) -> None:
        """Draw ``outputs`` (maps ``(C, H, W)`` or vectors ``(N,)``), each under its name.

        When the stages are the same as last time (a new picture or new
        weights), only the pictures and bars are updated; otherwise the view
        is rebuilt: at once, or with ``in_turns`` a slice of the stages per
        turn of the event loop (``building`` meanwhile; ``built`` when done).
        """
        self._shown = (list(names), list(outputs))
        structure = [(n, a.shape) for n, a in zip(names, outputs, strict=False)]
        if structure == self._structure:
            for k, a in enumerate(outputs[: len(self.boxes)]):
                self._update(k, a)
            return  # a build still going on draws the stages it has not reached with these values
        self._structure = structure
        self._build(names, outputs, in_turns)

    @property
    def building(self) -> bool:
        """A build spread over turns (``show_stages(..., in_turns=True)``) has stages left to draw."""
        return self._building is not None

    def _build(self, names: list[str], outputs: list[np.ndarray], in_turns: bool = False) -> None:
        """Lay the stages out afresh (``_build_steps``): at once, or a slice of them per event-loop turn.

        Either way the same steps run in the same order, so the picture is the same; a newer build
        supersedes one still going on (its remaining steps never run).
        """
        self._building = build = self._build_steps(names, outputs)
        if in_turns:  # the old stages go now, the new ones come from the next turn on (this one may be
            next(build)  # busy already: a first paint, a refresh)
            QTimer.singleShot(BUILD_GAP_MS, self, lambda: self._build_more(build))
            return
        for _ in build:
            pass
        self._building = None
        self.built.emit()

    def _build_more(self, build: Iterator[None]) -> None:
        """Run ``build``'s steps for about ``BUILD_SLICE_S`` (one at least), then leave the rest to the
        next turn of the event loop; ``built`` once the last has run."""
        if build is not self._building or getattr(self, "closed", False):
            return  # superseded (or the view is closed): dropped
        end = time.perf_counter() + BUILD_SLICE_S
        for _ in build:
            if time.perf_counter() >= end:
                QTimer.singleShot(BUILD_GAP_MS, self, lambda: self._build_more(build))
                return
        if build is self._building:  # (a rewrap in its ``_fit`` built the view again, at once)
            self._building = None
            self.built.emit()

    def _build_steps(self, names: list[str], outputs: list[np.ndarray]) -> Iterator[None]:
        """The steps of a build, each a share of its work: titled columns wrapped into rows so no two
        titles overlap (the layout, hidden meanwhile), then one stage each, then the whole fitted.

        A stage is drawn with the values shown when its step runs (``show_stages`` may have brought
        new ones of the same shapes meanwhile).
        """
        self.clear()
        self.ci.setVisible(False)  # nothing half-built is painted: the view stays empty until the end
        self.boxes, self.labels, self.tiles, self.rf_items, self.flat_items = [], [], [], [], []
        self._fields, self._marked = [], (0, [])
        self.items, self.class_texts, self.more_texts = [], {}, {}
        signal = is_signal_stack(outputs)  # one stage a row, the whole width: WaveNet's own figure
        labels = [pg.LabelItem(name, size=TITLE_SIZE, color=self.theme["text"]) for name in names]
        widths = self._title_widths(labels, outputs)
        self._rows = [[k] for k in range(len(names))] if signal else wrap_rows(widths, self._width())
        yield
        for r, row in enumerate(self._rows):
            grid = self.ci if signal else self.ci.addLayout(row=r, col=0)
            for col, k in enumerate(row):
                a = self._shown[1][k]
                at = (2 * k, 0) if signal else (0, col)
                grid.addItem(labels[k], row=at[0], col=at[1])
                # No context menu: made unasked, pyqtgraph's menus took ~2 ms a box to build.
                box = grid.addViewBox(row=at[0] + 1, col=at[1], invertY=True, enableMouse=False,
                                      enableMenu=False,
                                      lockAspect=not signal and (a.ndim == 3 or a.size > BAR_LIMIT))
                self.labels.append(labels[k])
                self.boxes.append(box)
                self.items.append([])
                self.tiles.append(self._draw(k, box, a, last=k == len(outputs) - 1))
                if not signal:
                    grid.layout.setColumnStretchFactor(col, 3 if a.ndim == 3 else 1)
                    grid.layout.setColumnMinimumWidth(col, widths[k])
                yield
        self.ci.setVisible(True)
        self._fit()

    @staticmethod
    def _title_widths(labels: list[pg.LabelItem], outputs: list[np.ndarray]) -> list[float]:
        """The narrowest each stage's column may be: its title's whole width (or a floor) and a gap."""
        return [max(lab.minimumWidth(), MIN_MAP_WIDTH if a.ndim == 3 else MIN_VECTOR_WIDTH) + TITLE_GAP
                for lab, a in zip(labels, outputs, strict=False)]

    def _width(self) -> float:
        """The view's width in pixels (what the rows must fit): its viewport's, known before it is shown."""
        return float(max(self.maximumViewportSize().width(), 1))

    def _fit(self) -> None:
        """Keep the layout inside the viewport, rewrap the rows if the width asks, tile maps to fill boxes."""
        outputs = self._shown[1]
        if (self.labels and not is_signal_stack(outputs)
                and wrap_rows(self._title_widths(self.labels, outputs), self._width()) != self._rows):
            fields, marked = self._fields, self._marked
            self._build(*self._shown)
            self.show_field(fields)
            self.mark_cells(*marked)
            return
        self.ci.setGeometry(QRectF(0, 0, self.viewport().width(), self.viewport().height()))
        self.ci.layout.activate()
        retiled = False
        for k, box in enumerate(self.boxes):
            retiled |= self._retile(k, box)
            box.autoRange(padding=0.05)
            if k in self.class_texts:
                self._place_class_texts(k)
        if retiled:
            self.show_field(self._fields)
            self.mark_cells(*self._marked)

    def _retile(self, k: int, box: pg.ViewBox) -> bool:
        """Tile stage ``k``'s maps in the columns that make them largest in ``box``; True if they moved."""
        tiles = self.tiles[k]
        a = self._shown[1][k]
        if a.ndim != 3 or len(tiles) < 2 or a.shape[1] == 1:  # one map, bars, or a signal's rows
            return False
        _x, _y, h, w = tiles[0]
        size = box.size()
        cols = best_columns(len(tiles), h, w, size.width(), size.height())
        new = tile_origins(len(tiles), cols, h, w)
        if new == tiles:
            return False
        self.tiles[k] = new
        for img, (x0, y0, _h, _w) in zip(self.items[k], new, strict=False):
            img.setRect(QRectF(x0 - 0.5, y0 - 0.5, w, h))
        if k in self.more_texts:
            self.more_texts[k].setPos(-0.5, new[-1][1] + h + 0.5)
        return True

    def resizeEvent(self, ev: object) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(ev)
        if getattr(self, "boxes", None) and not getattr(self, "closed", False) and not self.building:
            self._fit()  # (a build going on fits the view at its end)

    # ------------------------------------------------------------------ marks
    def show_field(self, fields: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """Outline the receptive field in every stage it covers (on every shown map); [] clears."""
        for item, box in self.rf_items:
            box.removeItem(item)
        self.rf_items = []
        self._fields = list(fields)
        colour = QColor(self.theme["window"])
        fill = QColor(colour)
        fill.setAlpha(60)
        for k, (rows, cols) in enumerate(fields):
            if k >= len(self.boxes) or not len(rows) or not len(cols):
                continue
            spans = runs(cols) if len(rows) == 1 else [(int(cols.min()), int(cols.max()) + 1)]
            for (x0, y0, _h, _w), (c0, c1) in itertools.product(self.tiles[k], spans):  # dilation: gaps
                r = QRectF(x0 + c0 - 0.5, y0 + rows.min() - 0.5, c1 - c0, rows.max() - rows.min() + 1)
                item = pg.QtWidgets.QGraphicsRectItem(r)
                pen = QPen(colour, 2.5)
                pen.setCosmetic(True)
                item.setPen(pen)
                item.setBrush(fill)
                item.setZValue(10)
                self.boxes[k].addItem(item)
                self.rf_items.append((item, self.boxes[k]))

    def mark_cells(self, stage: int, cells: list[tuple[int, int, int]]) -> None:
        """Outline cells ``(channel, row, col)`` of ``stage`` in the theme's output colour; [] clears."""
        for item, box in self.flat_items:
            box.removeItem(item)
        self.flat_items = []
        self._marked = (stage, list(cells))
        if stage >= len(self.tiles):
            return
        for c, i, j in cells:
            if c >= len(self.tiles[stage]):
                continue
            x0, y0, _h, _w = self.tiles[stage][c]
            self._outline(stage, QRectF(x0 + j - 0.5, y0 + i - 0.5, 1, 1))

    def _outline(self, stage: int, rect: QRectF) -> None:
        """Outline ``rect`` (view units) of ``stage`` in the output colour (``mark_cells`` clears it)."""
        item = pg.QtWidgets.QGraphicsRectItem(rect)
        pen = QPen(QColor(self.theme["output"]), 3)
        pen.setCosmetic(True)
        item.setPen(pen)
        item.setZValue(20)
        self.boxes[stage].addItem(item)
        self.flat_items.append((item, self.boxes[stage]))

    def show_unrolled(self, stage: int, k: int) -> None:
        """Show the vector of ``stage`` filled up to element ``k`` (the flatten so far) with that element
        outlined; ``k < 0`` shows the whole vector again. Call after ``mark_cells`` (it clears outlines)."""
        outputs = self._shown[1]
        if not 0 <= stage < min(len(outputs), len(self.items)) or outputs[stage].ndim != 1:
            return
        vector = outputs[stage]
        shown = vector if k < 0 else unrolled(vector, k)
        self._update(stage, np.nan_to_num(shown, nan=0.0) if vector.size <= BAR_LIMIT else shown)  # no bar: 0
        if k < 0:
            return
        if vector.size <= BAR_LIMIT:  # bars, one per row
            v = float(vector[k])
            rect = QRectF(min(v, 0.0), k - 0.5, max(abs(v), 1e-9), 1.0)
        else:  # folded into a square picture
            side = int(np.ceil(np.sqrt(vector.size)))
            rect = QRectF(k % side - 0.5, k // side - 0.5, 1.0, 1.0)
        self._outline(stage, rect)

    # ------------------------------------------------------------------ mouse
    def pick(self, scene_pos: QPointF) -> tuple[int, int, int, int] | None:
        """Stage, map, row, column under a scene point."""
        for k, box in enumerate(self.boxes):
            if not box.sceneBoundingRect().contains(scene_pos):
                continue
            v = box.mapSceneToView(scene_pos)
            for m, (x0, y0, h, w) in enumerate(self.tiles[k]):
                j, i = int(np.floor(v.x() - x0 + 0.5)), int(np.floor(v.y() - y0 + 0.5))
                if 0 <= i < h and 0 <= j < w:
                    return k, m, i, j
        return None

    def _clicked(self, ev: object) -> None:
        hit = self.pick(ev.scenePos())  # type: ignore[attr-defined]
        if hit is not None:
            self.cell_clicked.emit(*hit)

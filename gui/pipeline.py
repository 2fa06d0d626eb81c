"""The pipeline window: a thin Qt view over ``gui.models.pipeline.PipelineState``.

The state (network, input, weights, every stage's output, and every text shown
here) lives in the core; this module paints it. ``PipelineWindow`` shows the
stack (with shapes, parameter counts and the first impossible layer flagged),
the feature maps of every stage in the theme's colour maps, dense outputs as
bars, receptive fields traced back to the input, and an animation of
flatten's reading order. It reads the sample pictures (Qt image reading) and
hands them to the state. Beside the maps, the digit panel (``gui.pipeline_digit``)
is a canvas on the input with the class probabilities and a saliency map.
"""

from __future__ import annotations

import itertools

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QFont, QKeySequence, QPalette, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QPushButton,
    QSpinBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine import network as nw

from .controllers.pipeline_jobs import PipelineJobs
from .images import SAMPLES, read_image, sample_path
from .models.choices import THEME_COLOUR_MAPS, THEME_COLOURS
from .models.flatten import unrolled
from .models.pipeline import (
    PRESETS,
    PipelineState,
    apply_layer_edits,
    is_signal_stack,
    layer_fields,
    new_layers,
    runs,
)
from .models.weights import WEIGHTS_KINDS
from .pipeline_digit import DigitPanel
from .pipeline_layout import (
    MIN_MAP_WIDTH,
    MIN_VECTOR_WIDTH,
    TITLE_GAP,
    best_columns,
    classifier_range,
    label_pixels,
    tile_origins,
    wrap_rows,
)
from .scene import apply_lut, close_view

MAX_MAPS = 16  # feature maps drawn per stage; the rest are counted
BAR_LIMIT = 128  # vectors up to this long are bars; longer ones a square block
MAX_CLASSES = 10  # a last vector this short is a classifier's output: bars labelled 0..n-1 with values
TITLE_SIZE, TEXT_POINTS = "13pt", 12.0  # stage titles; "+N more" in the boxes
PANEL_POINTS = 12.0  # the stack list and the receptive-field / flatten text beside the maps
CLASS_PITCH_PX = 14  # a classifier's bars are at least this many pixels apart (its labels' line height)
#: Refusals and impossible layers in the (unthemed) side panel, as the main window's status line.
ERROR_COLOUR = "#b00000"


def read_sample(name: str, channels: int, height: int, width: int) -> np.ndarray:
    """A sample picture at ``height``×``width``: grey for one channel, else RGB (values 0-1)."""
    return read_image(sample_path(name), gray=channels == 1, size=(height, width))


class LayerDialog(QDialog):
    """Edit one layer's settings (the fields and the rules are ``gui.models.pipeline``'s)."""

    def __init__(self, layer: nw.Layer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Edit {nw.describe_layer(layer)}")
        self.layer = layer
        f = QFormLayout(self)
        self.fields: dict[str, QSpinBox | QComboBox] = {}
        for field in layer_fields(layer):
            w: QSpinBox | QComboBox
            if field.choices:
                w = QComboBox()
                w.addItems(list(field.choices))
                w.setCurrentText(str(field.value))
            else:
                w = QSpinBox()
                w.setRange(field.lo, field.hi)
                w.setValue(int(field.value))
            w.setObjectName(field.name)
            if field.tip:
                w.setToolTip(field.tip)
            f.addRow(field.label, w)
            self.fields[field.name] = w
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        f.addRow(box)

    def values(self) -> dict[str, int | str]:
        """What the fields show now."""
        return {name: w.value() if isinstance(w, QSpinBox) else w.currentText()
                for name, w in self.fields.items()}

    def result_layer(self) -> nw.Layer:
        """The layer with the edited settings; settings the dialog did not change stay as they were.

        A rectangular kernel, ``"same"`` padding or ``bias=False`` therefore
        survive an OK without edits.
        """
        return apply_layer_edits(self.layer, self.values())


class PipelineView(pg.GraphicsLayoutWidget):
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
    """

    cell_clicked = Signal(int, int, int, int)

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
    def show_stages(self, names: list[str], outputs: list[np.ndarray]) -> None:
        """Draw ``outputs`` (maps ``(C, H, W)`` or vectors ``(N,)``), each under its name.

        When the stages are the same as last time (a new picture or new
        weights), only the pictures and bars are updated; otherwise the view
        is rebuilt.
        """
        self._shown = (list(names), list(outputs))
        structure = [(n, a.shape) for n, a in zip(names, outputs, strict=False)]
        if structure == self._structure:
            for k, a in enumerate(outputs[: len(self.boxes)]):
                self._update(k, a)
            return
        self._structure = structure
        self._build(names, outputs)

    def _build(self, names: list[str], outputs: list[np.ndarray]) -> None:
        """Lay the stages out afresh: titled columns, wrapped into rows so no two titles overlap."""
        self.clear()
        self.boxes, self.labels, self.tiles, self.rf_items, self.flat_items = [], [], [], [], []
        self._fields, self._marked = [], (0, [])
        self.items, self.class_texts, self.more_texts = [], {}, {}
        signal = is_signal_stack(outputs)  # one stage a row, the whole width: WaveNet's own figure
        labels = [pg.LabelItem(name, size=TITLE_SIZE, color=self.theme["text"]) for name in names]
        widths = self._title_widths(labels, outputs)
        self._rows = [[k] for k in range(len(names))] if signal else wrap_rows(widths, self._width())
        for r, row in enumerate(self._rows):
            grid = self.ci if signal else self.ci.addLayout(row=r, col=0)
            for col, k in enumerate(row):
                a = outputs[k]
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

    def _place_class_texts(self, k: int) -> None:
        """Put a classifier's digits left of its bars and its values right of them, sized to the bars."""
        a = self._shown[1][k]
        box = self.boxes[k]
        size = box.size()
        pixels = label_pixels(size.height() / max(a.size, 1))
        font = QFont()
        font.setPixelSize(max(pixels, 1))
        texts = self.class_texts[k]
        for (digit, value), v in zip(texts, a, strict=False):
            value.setText(f"{v:+.2f}")
            for t in (digit, value):
                t.setFont(font)
                t.setVisible(pixels > 0)
        gap = 4.0  # pixels between a label and the nearest bar
        left = max(d.boundingRect().width() for d, _v in texts) + gap
        right = max(v.boundingRect().width() for _d, v in texts) + gap
        x0, x1 = classifier_range(float(np.nanmin(a)), float(np.nanmax(a)), size.width(), left, right)
        box.setRange(xRange=(x0, x1), yRange=(-0.5, a.size - 0.5), padding=0)
        for i, (digit, value) in enumerate(texts):
            digit.setPos(x0, i)
            value.setPos(x1, i)

    def resizeEvent(self, ev: object) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(ev)
        if getattr(self, "boxes", None) and not getattr(self, "closed", False):
            self._fit()

    @staticmethod
    def _levels(a: np.ndarray) -> tuple[float, float]:
        finite = a[np.isfinite(a)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        return (lo, hi if hi - lo >= 1e-12 else lo + 1.0)

    @staticmethod
    def _as_maps(a: np.ndarray) -> np.ndarray:
        """A long vector folded into a square picture ``(1, s, s)`` (NaN after its end)."""
        side = int(np.ceil(np.sqrt(a.size)))
        grid = np.full(side * side, np.nan)
        grid[: a.size] = a
        return grid.reshape(1, side, side)

    def _bar_colors(self, a: np.ndarray) -> list[QColor]:
        neg, pos = self.bar_colours
        return [pos if v >= 0 else neg for v in a]

    def _update(self, k: int, a: np.ndarray) -> None:
        """New values for stage ``k``'s existing pictures or bars."""
        items = self.items[k]
        if a.ndim == 1 and a.size <= BAR_LIMIT:
            items[0].setOpts(width=a, brushes=self._bar_colors(a))
            if k in self.class_texts:
                self._place_class_texts(k)
            return
        rgba = self._colors(k, (a if a.ndim == 3 else self._as_maps(a))[: len(items)])
        for m, img in enumerate(items):
            img.setImage(rgba[m], autoLevels=False)

    def _colors(self, stage: int, a: np.ndarray) -> np.ndarray:
        """RGBA bytes ``(C, H, W, 4)`` of a stack, levels from its own range (NaN: the theme's empty)."""
        lo, hi = self._levels(a)
        nan = np.isnan(a)
        norm = np.clip((np.where(nan, lo, a) - lo) / (hi - lo), 0.0, 1.0)
        rgba = apply_lut(self.cmaps["picture" if stage == 0 else "output"], norm)
        rgba[nan] = QColor(self.theme["empty"]).getRgb()
        return rgba

    def _draw(self, stage: int, box: pg.ViewBox, a: np.ndarray, last: bool = False
              ) -> list[tuple[float, float, int, int]]:
        """Draw stage ``stage``'s maps, folded vector or bars into ``box``; its tiles ``(x0, y0, h, w)``.

        A ``last`` stage of at most ``MAX_CLASSES`` values is a classifier's
        output: its bars are labelled with the class digit and the value.
        """
        if a.ndim == 1:
            if a.size <= BAR_LIMIT:  # dense outputs as horizontal bars, one per unit, top to bottom
                bars = pg.BarGraphItem(x0=0, y=np.arange(a.size), width=a, height=0.8,
                                       brushes=self._bar_colors(a), pen=None)
                box.addItem(bars)
                self.items[-1].append(bars)
                box.addItem(pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen(self.theme["text"], width=1.5)))
                box.setAspectLocked(False)
                if last and a.size <= MAX_CLASSES:
                    self._add_class_texts(stage, box, a.size)
                return [(0.0, 0.0, int(a.size), 1)]
            a = self._as_maps(a)  # a long vector as a compact square block, read row by row
        c, h, w = a.shape
        n = min(c, MAX_MAPS)
        rgba = self._colors(stage, a[:n])
        tiles = tile_origins(n, 1 if h == 1 else int(np.ceil(np.sqrt(n))), h, w)  # a signal: one a row
        for m, (x0, y0, _h, _w) in enumerate(tiles):
            img = pg.ImageItem(axisOrder="row-major")
            img.setImage(rgba[m], autoLevels=False)
            img.setRect(QRectF(x0 - 0.5, y0 - 0.5, w, h))
            box.addItem(img)
            self.items[-1].append(img)
        if c > n:
            t = pg.TextItem(f"+{c - n} more", color=self.theme["text"], anchor=(0, 0))
            t.setFont(self._text_font())
            t.setPos(-0.5, tiles[-1][1] + h + 0.5)
            box.addItem(t, ignoreBounds=True)
            self.more_texts[stage] = t
        return tiles

    def _text_font(self) -> QFont:
        """The font of labels drawn inside the boxes (legible from the back row)."""
        font = QFont()
        font.setPointSizeF(TEXT_POINTS)
        return font

    def _add_class_texts(self, stage: int, box: pg.ViewBox, n: int) -> None:
        """Class digits 0–9 left of a classifier's bars and their values right (placed by ``_fit``)."""
        texts = []
        for i in range(n):
            digit = pg.TextItem(str(i), color=self.theme["text"], anchor=(0, 0.5))
            value = pg.TextItem("", color=self.theme["text"], anchor=(1, 0.5))
            for t in (digit, value):
                t.textItem.document().setDocumentMargin(0)  # lines as close as the bars
                box.addItem(t, ignoreBounds=True)
            texts.append((digit, value))
        self.class_texts[stage] = texts
        box.setMinimumHeight(n * CLASS_PITCH_PX)  # room for a legible line per class

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


class PipelineWindow(QMainWindow):
    """Build and inspect a small CNN: stack, feature maps, receptive fields, flatten order.

    Signals
    -------
    open_layer(object)
        A dict ``{"layer", "x", "w", "b"}`` (``PipelineState.open_spec``) for the main
        window, which turns it into a lesson with ``gui.models.pipeline.lesson_spec_for_layer``.
    """

    open_layer = Signal(object)
    #: The stages are drawn and the sample digit is on the canvas (``later``: a few turns after it shows).
    ready = Signal()

    def __init__(self, parent: QWidget | None = None, theme: str = "light", *, later: bool = False) -> None:
        """``later``: draw the stages on the next turn of the event loop and put the sample digit on the
        canvas on the one after (each a share of the ~150 ms of opening, so the window shows at once and
        no turn stops the app for long); else here, before this returns."""
        super().__init__(parent)
        self.is_ready = False
        self.setWindowTitle("convviz — pipeline")
        self.model = PipelineState(load_sample=read_sample)
        self.view = PipelineView(self, theme=theme)
        self.field_sizes: list[tuple[int, int]] = []
        self.flatten_timer = QTimer(self)
        self.flatten_timer.setInterval(60)
        self.flatten_timer.timeout.connect(self._flatten_tick)
        self.flatten_k = -1  # the element shown (-1: none)
        left = QWidget()
        ll = QVBoxLayout(left)
        row = QHBoxLayout()
        self.preset = QComboBox()
        self.preset.setObjectName("preset")
        self.preset.addItems(list(PRESETS))
        self.preset.setToolTip("Start from a classic stack")
        self.preset.activated.connect(lambda _: self.model.set_network(PRESETS[self.preset.currentText()]()))
        row.addWidget(QLabel("Preset"))
        row.addWidget(self.preset, 1)
        ll.addLayout(row)
        row = QHBoxLayout()
        self.weights_kind = QComboBox()
        self.weights_kind.setObjectName("weights_kind")
        self.weights_kind.addItems(list(WEIGHTS_KINDS))
        self.weights_kind.setToolTip("LeNet-5's weights trained on handwritten digits, or seeded random ones")
        self.weights_kind.activated.connect(
            lambda _: self.model.set_weights_kind(self.weights_kind.currentText()))
        row.addWidget(QLabel("Weights"))
        row.addWidget(self.weights_kind, 1)
        reseed = QPushButton("New weights")
        reseed.setObjectName("new_weights")
        reseed.setToolTip("Draw new seeded random weights (hand-set filters stay; trained weights give way)")
        reseed.clicked.connect(self.model.new_weights)
        row.addWidget(reseed)
        ll.addLayout(row)
        row = QHBoxLayout()
        self.sample = QComboBox()
        self.sample.setObjectName("sample")
        self.sample.addItems(list(SAMPLES))
        self.sample.setToolTip("The input picture (drawn by convviz)")
        self.sample.activated.connect(lambda _: self.use_sample(self.sample.currentText()))
        row.addWidget(QLabel("Input"))
        row.addWidget(self.sample, 1)
        ll.addLayout(row)
        self.layers = QListWidget()
        self.layers.setObjectName("layers")
        self.layers.setToolTip("The stack; double-click a layer to edit it")
        self._enlarge(self.layers)
        self.layers.setWordWrap(True)  # a long row wraps rather than hiding its parameter count
        self.layers.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.layers.itemDoubleClicked.connect(lambda _: self.edit_layer())
        self.layers.currentRowChanged.connect(self._layer_selected)
        ll.addWidget(self.layers, 1)
        buttons = QHBoxLayout()
        self.add = QToolButton()
        self.add.setText("Add")
        self.add.setToolTip("Add a layer after the selected one")
        self.add.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.add)
        menu.aboutToShow.connect(self._fill_add_menu)  # a signal's input offers a causal layer too
        self.add.setMenu(menu)
        buttons.addWidget(self.add)
        for text, tip, slot in (("Edit", "Edit the selected layer", self.edit_layer),
                                ("Remove", "Remove the selected layer", self.remove_layer),
                                ("Up", "Move the selected layer up", lambda: self.move_layer(-1)),
                                ("Down", "Move the selected layer down", lambda: self.move_layer(1))):
            b = QPushButton(text)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            buttons.addWidget(b)
        ll.addLayout(buttons)
        self.weights_label = QLabel()
        self.weights_label.setObjectName("weights_text")
        self.weights_label.setWordWrap(True)
        ll.addWidget(self.weights_label)
        self.totals = QLabel()
        self.totals.setObjectName("totals")
        self.totals.setWordWrap(True)
        ll.addWidget(self.totals)
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {ERROR_COLOUR}; font-weight: bold")
        ll.addWidget(self.message)
        self.field_label = QLabel("Click a cell of any feature map to trace its receptive field.")
        self.field_label.setObjectName("field")
        self._enlarge(self.field_label)
        self.field_label.setWordWrap(True)
        ll.addWidget(self.field_label)
        self.flatten_button = QPushButton("Animate flatten")
        self.flatten_button.setObjectName("flatten")
        self.flatten_button.setToolTip(
            "Watch the C×H×W volume become a vector, in the order the engine reads it"
        )
        self.flatten_button.setCheckable(True)
        self.flatten_button.toggled.connect(self.animate_flatten)
        flat_row = QHBoxLayout()
        self.flatten_back, self.flatten_next = QPushButton("◀"), QPushButton("▶")
        for b, name, delta, key in ((self.flatten_back, "flatten_back", -1, "Left"),
                                    (self.flatten_next, "flatten_next", 1, "Right")):
            b.setObjectName(name)
            b.setToolTip(f"Flatten one element {'back' if delta < 0 else 'on'} ({key}): the cell it reads "
                         "and i = c·H·W + r·W + col with its numbers")
            b.clicked.connect(lambda _=False, d=delta: self.step_flatten(d))
            act = QAction(b.toolTip(), self)
            act.setShortcut(QKeySequence(key))
            act.triggered.connect(b.click)
            self.addAction(act)
        flat_row.addWidget(self.flatten_back)
        flat_row.addWidget(self.flatten_button, 1)
        flat_row.addWidget(self.flatten_next)
        ll.addLayout(flat_row)
        self.open_button = QPushButton("Open layer in main window")
        self.open_button.setObjectName("open_layer")
        self.open_button.setToolTip(
            "Step through the selected convolution or pooling layer, forward and backward"
        )
        self.open_button.clicked.connect(self.open_selected)
        ll.addWidget(self.open_button)
        self.digits = DigitPanel(self.model, theme=theme)
        self.digits.drawn.connect(self.use_drawing)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(self.digits)
        split.addWidget(self.view)
        split.setStretchFactor(2, 1)
        split.setSizes([330, 330, 1000])
        self.setCentralWidget(split)
        self.resize(1700, 900)
        self.model.changed.connect(self.refresh)
        self.model.error.connect(self._show_error)
        self.jobs = PipelineJobs(self.model, self)  # a big change is computed in a worker thread
        ll.addWidget(self._busy_row())
        self.view.cell_clicked.connect(self.trace_field)
        # Laid out at its size before the stages are drawn, so they are built once, for the width they
        # get (built in a 100-pixel view, they were built again when the window first showed).
        self.layout().activate()
        split.setSizes([330, 330, 1000])  # a hidden splitter lays its parts out here, not when resized
        if later:  # after this turn (the window shows): the stages, then the digit, a turn each
            self.totals.setText("Drawing the stages…")  # what the first, still empty, picture says
            QTimer.singleShot(0, self, self._draw_stages)
        else:
            self._draw_stages()

    def _draw_stages(self) -> None:
        """The stages drawn for the first time (at the size they were laid out for), then the sample."""
        self.refresh()
        self._show_error(self.model.last_error)
        if self.isVisible():  # shown meanwhile (``later``): the digit on the next turn
            QTimer.singleShot(0, self, self._start_digit)
        else:
            self._start_digit()

    def _start_digit(self) -> None:
        self.digits.start()
        self.is_ready = True
        self.ready.emit()

    @staticmethod
    def _enlarge(widget: QWidget) -> None:
        """Write ``widget`` in ``PANEL_POINTS`` (the stack and the field/flatten text, read from afar)."""
        font = widget.font()
        font.setPointSizeF(max(font.pointSizeF(), PANEL_POINTS))
        widget.setFont(font)

    # ------------------------------------------------------------------ theme
    @property
    def theme_name(self) -> str:
        """The theme the maps are drawn in."""
        return self.view.theme_name

    def set_theme(self, name: str) -> None:
        """Draw in theme ``name`` (one of ``gui.models.choices.THEMES``), as the main stage does."""
        self.view.set_theme(name)
        self.digits.set_theme(name)

    # ------------------------------------------------------------------ stack editing
    def _current(self) -> int:
        return self.layers.currentRow()

    def _select(self, k: int | None) -> None:
        if k is not None:
            self.layers.setCurrentRow(k)

    def insert_layer(self, layer: nw.Layer) -> None:
        """Insert ``layer`` after the selected one (or at the end)."""
        self._select(self.model.insert_layer(self._current(), layer))

    def _fill_add_menu(self) -> None:
        """The "Add" menu's layers for the network's input (``new_layers``)."""
        menu = self.add.menu()
        menu.clear()
        for name, layer in new_layers(self.model.network.input_shape).items():
            menu.addAction(name, lambda lay=layer: self.insert_layer(lay))

    def remove_layer(self) -> None:
        """Remove the selected layer."""
        self._select(self.model.remove_layer(self._current()))

    def move_layer(self, delta: int) -> None:
        """Move the selected layer up (−1) or down (+1)."""
        self._select(self.model.move_layer(self._current(), delta))

    def edit_layer(self) -> None:
        """Edit the selected layer in a dialog."""
        k = self._current()
        layers = self.model.network.layers
        if not 0 <= k < len(layers):
            return
        dlg = LayerDialog(layers[k], self)
        if dlg.exec() == QDialog.DialogCode.Accepted and self.model.replace_layer(k, dlg.result_layer()):
            self.layers.setCurrentRow(k)

    def use_drawing(self) -> None:
        """The canvas's drawing as the input, prepared as the training digits were."""
        self.model.set_drawing(self.digits.canvas.model.picture)

    def use_sample(self, name: str) -> None:
        """Use a sample picture as the input, at the network's input size (the canvas is wiped)."""
        if self.model.use_sample(name):
            self.digits.canvas.model.clear()  # it no longer shows the input; drawing on it takes over again

    # ------------------------------------------------------------------ drawing
    def _show_error(self, message: str) -> None:
        self.message.setText(message or self.model.message_text())

    def refresh(self) -> None:
        """Redraw the list, totals, message and stages from the model."""
        m = self.model
        k_sel = self._current()
        greyed = self.layers.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        self.layers.blockSignals(True)
        self.layers.clear()
        for r in m.layer_rows():
            item = QListWidgetItem(r.text)
            if r.status == "problem":
                item.setForeground(QColor(ERROR_COLOUR))
                item.setToolTip(r.tip)
            elif r.status == "after":
                item.setForeground(greyed)
            self.layers.addItem(item)
        self.layers.setCurrentRow(min(k_sel, self.layers.count() - 1))
        self.layers.blockSignals(False)
        self.totals.setText(m.totals_text())
        self.weights_kind.setCurrentText(m.weights_kind)
        self.weights_label.setText(m.weights_text())
        self.digits.refresh()
        self.message.setText(m.message_text())
        self.view.show_stages([t.replace("\n", "<br>") for t in m.stage_titles()], m.outputs)
        self._layer_selected(self.layers.currentRow())
        self.flatten_button.setEnabled(m.can_flatten())
        for b in (self.flatten_back, self.flatten_next):
            b.setEnabled(m.can_flatten())
        if self.flatten_k >= 0 and not self.flatten_timer.isActive():
            self.show_flatten(self.flatten_k)  # the stack changed under a stepped flatten: show it again

    def trace_field(self, stage: int, channel: int, row: int, col: int) -> None:
        """Show the receptive field of a clicked cell in every earlier stage, with its size."""
        trace = self.model.trace_field(stage, row, col)
        if trace is None:
            return
        self.view.show_field(trace.fields)
        self.field_label.setText(trace.text)
        self.field_sizes = trace.sizes

    def _layer_selected(self, k: int) -> None:
        self.open_button.setEnabled(self.model.can_open(k))

    # ------------------------------------------------------------------ flatten animation
    def animate_flatten(self, on: bool) -> None:
        """Start or stop sweeping flatten's reading order: ``k = c·H·W + h·W + w``."""
        if on and self.model.can_flatten():
            self.flatten_k = -1
            self.flatten_timer.start()
        else:
            self.flatten_timer.stop()
            self.show_flatten(-1)
            if self.flatten_button.isChecked():
                self.flatten_button.setChecked(False)

    def _flatten_tick(self) -> None:
        if not self.show_flatten(self.flatten_k + 1):
            self.animate_flatten(False)

    def step_flatten(self, delta: int) -> None:
        """Show the flatten's next (``delta`` 1) or previous (−1) element, wrapping round; playing stops."""
        if self.flatten_timer.isActive():
            self.flatten_timer.stop()
            self.flatten_button.setChecked(False)
        first = self.model.flatten_step(0)
        if first is None:
            return
        k = self.flatten_k + delta if self.flatten_k >= 0 else (0 if delta > 0 else -1)
        self.show_flatten(k % first.n)

    def show_flatten(self, k: int) -> bool:
        """Outline the cell flatten's element ``k`` reads and the vector filled up to it, and say
        ``i = c·H·W + r·W + col`` with its numbers; ``k < 0`` clears (False when there is nothing to read)."""
        step = None if k < 0 else self.model.flatten_step(k)
        if step is None:
            self.flatten_k = -1
            self.view.mark_cells(0, [])
            stage = self.model.flatten_layer()
            if stage is not None:
                self.view.show_unrolled(stage + 1, -1)
            return k < 0
        self.flatten_k = step.k
        self.view.mark_cells(step.stage, [step.cell])
        self.view.show_unrolled(step.stage + 1, step.k)
        self.field_label.setText(step.text)
        return True

    def closeEvent(self, event: object) -> None:  # noqa: N802 - Qt API
        self.animate_flatten(False)
        self.jobs.shutdown()
        super().closeEvent(event)  # type: ignore[arg-type]

    def _busy_row(self) -> QWidget:
        """'Computing…' with Cancel, shown while a big change is computed; the last picture stays."""
        self.busy = QWidget()
        self.busy.setObjectName("busy")
        row = QHBoxLayout(self.busy)
        row.setContentsMargins(0, 0, 0, 0)
        label = QLabel("Computing… the last picture stays meanwhile")
        label.setWordWrap(True)
        self.cancel = QPushButton("Cancel")
        self.cancel.setObjectName("cancel")
        self.cancel.setToolTip("Stop the change being computed and keep the picture on screen")
        self.cancel.clicked.connect(self.jobs.cancel)
        row.addWidget(label, 1)
        row.addWidget(self.cancel)
        keep = self.busy.sizePolicy()
        keep.setRetainSizeWhenHidden(True)  # showing it moves nothing
        self.busy.setSizePolicy(keep)
        self.busy.setVisible(False)
        self.jobs.busy_changed.connect(self.busy.setVisible)
        return self.busy

    # ------------------------------------------------------------------ hand-off
    def open_selected(self) -> None:
        """Send the selected conv/pool layer, with its input maps and weights, to the main window."""
        spec = self.model.open_spec(self._current())
        if spec is not None:
            self.open_layer.emit(spec)

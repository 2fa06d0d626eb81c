"""The pipeline view: a small CNN from picture to class scores, layer by layer.

``PipelineModel`` (no widgets) holds the network, the input picture, seeded
weights and every layer's output, all computed by the engine when something
changes. ``PipelineWindow`` shows the stack (with shapes, parameter counts and
the first impossible layer flagged), the feature maps of every stage, dense
outputs as bars, receptive fields traced back to the input, and an animation
of flatten's reading order.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, QRectF, QTimer, Signal
from PySide6.QtGui import QColor, QPen
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
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine import network as nw
from engine.activations import ACTIVATIONS
from engine.image import area_resize, to_gray
from engine.kernels import KERNEL_PRESETS

from .images import SAMPLES, ImageError, read_image, sample_path
from .scene import apply_lut, close_view

MAX_MAPS = 16  # feature maps drawn per stage; the rest are counted
PRESETS = {"LeNet-5": nw.lenet5, "tiny VGG": nw.tiny_vgg}


class PipelineModel(QObject):
    """Network, input and every stage's output; emits ``changed`` after each recomputation.

    Attributes
    ----------
    network : engine.network.Network
    x : ndarray, shape (C, H, W)
    outputs : list of ndarray
        Stage 0 is the input; stage ``k + 1`` is layer ``k``'s output. When a
        layer is impossible, the list stops before it.
    problem : engine.network.LayerError or None
    """

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.seed = 0
        self.network = nw.lenet5()
        self.x = self._sample("digit", 1, 32)
        self.outputs: list[np.ndarray] = []
        self.weights: list[tuple[np.ndarray, np.ndarray] | None] = []
        self.problem: nw.LayerError | None = None
        self._recompute()

    @staticmethod
    def _sample(name: str, channels: int, size: int) -> np.ndarray:
        return read_image(sample_path(name), gray=channels == 1, size=(size, size))

    # ------------------------------------------------------------------ changes
    def set_layers(self, layers: list[nw.Layer] | tuple[nw.Layer, ...]) -> None:
        """Replace the stack (an impossible stack is kept and flagged, not refused)."""
        self.network = replace(self.network, layers=tuple(layers))
        self._recompute()

    def set_network(self, net: nw.Network) -> None:
        """A whole network; the input picture is resized to its input shape."""
        c, h, w = net.input_shape
        x = self.x
        if x.shape[0] != c:
            x = to_gray(x) if c == 1 else np.repeat(x[:1], c, axis=0)
        if x.shape[1:] != (h, w):
            x = area_resize(x, h, w)
        self.network, self.x = net, x
        self._recompute()

    def set_input(self, x: np.ndarray) -> None:
        """A new input picture ``(C, H, W)``; the network's input shape follows it."""
        x = np.asarray(x, dtype=float)
        self.network = replace(self.network, input_shape=tuple(x.shape))  # type: ignore[arg-type]
        self.x = x
        self._recompute()

    def new_weights(self) -> None:
        """Draw new random weights."""
        self.seed += 1
        self._recompute()

    def _recompute(self) -> None:
        net = self.network
        self.problem = net.check()
        good = net if self.problem is None else replace(net, layers=net.layers[: self.problem.index])
        self.weights = good.init_weights(self.seed)
        self.outputs = good.forward(self.x, self.weights)
        self.changed.emit()

    # ------------------------------------------------------------------ derived
    def shapes(self) -> list[tuple[int, ...] | None]:
        """Shape of every stage (None from the impossible layer on)."""
        out: list[tuple[int, ...] | None] = [o.shape for o in self.outputs]
        return out + [None] * (len(self.network.layers) + 1 - len(out))

    def param_counts(self) -> list[int | None]:
        """Parameters per layer (None where the stack is impossible)."""
        shapes = self.shapes()
        return [nw.param_count(layer, shapes[k]) if shapes[k] is not None and shapes[k + 1] is not None
                else None for k, layer in enumerate(self.network.layers)]

    def receptive_field(self, stage: int, row: int, col: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Rows and columns that cell ``(row, col)`` of ``stage`` reads, in stages ``0..stage``."""
        if stage == 0:
            return [(np.array([row]), np.array([col]))]
        return self.network.receptive_field(stage - 1, (row, col))


class LayerDialog(QDialog):
    """Edit one layer's settings."""

    def __init__(self, layer: nw.Layer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Edit {nw.describe_layer(layer)}")
        self.layer = layer
        f = QFormLayout(self)
        self.fields: dict[str, QWidget] = {}

        def spin(name: str, value: int, lo: int, hi: int, label: str) -> None:
            s = QSpinBox()
            s.setRange(lo, hi)
            s.setValue(value)
            s.setObjectName(name)
            f.addRow(label, s)
            self.fields[name] = s

        def combo(name: str, items: tuple[str, ...], value: str, label: str) -> None:
            c = QComboBox()
            c.addItems(list(items))
            c.setCurrentText(value)
            c.setObjectName(name)
            f.addRow(label, c)
            self.fields[name] = c

        if isinstance(layer, nw.Conv):
            spin("out_channels", layer.out_channels, 1, 64, "Kernels")
            spin("kernel", nw._pair(layer.kernel)[0], 1, 15, "Kernel size")
            spin("stride", nw._pair(layer.stride)[0], 1, 8, "Stride")
            spin("padding", 0 if isinstance(layer.padding, str) else nw._pair(layer.padding)[0], 0, 8,
                 "Padding")
            spin("dilation", nw._pair(layer.dilation)[0], 1, 8, "Dilation")
            combo("filters", KERNEL_PRESETS, layer.filters, "Filters")
            self.fields["filters"].setToolTip(
                "random (seeded) weights, or every kernel a hand-set filter (Sobel, Gaussian, …)"
            )
        elif isinstance(layer, nw.Activation):
            combo("name", ACTIVATIONS[1:], layer.name, "Activation")
        elif isinstance(layer, nw.Pool):
            combo("op", ("max", "min", "avg"), layer.op, "Pooling")
            spin("kernel", nw._pair(layer.kernel)[0], 1, 8, "Window")
            spin("stride", nw._pair(layer.stride if layer.stride is not None else layer.kernel)[0], 1, 8,
                 "Stride")
        elif isinstance(layer, nw.GlobalPool):
            combo("op", ("max", "avg"), layer.op, "Pooling")
        elif isinstance(layer, nw.Dense):
            spin("units", layer.units, 1, 1024, "Units")
        self._shown = {k: (w.value() if isinstance(w, QSpinBox) else w.currentText())  # type: ignore[attr-defined]
                       for k, w in self.fields.items()}
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        f.addRow(box)

    def result_layer(self) -> nw.Layer:
        """The layer with the edited settings; settings the dialog did not change stay as they were.

        A rectangular kernel, ``"same"`` padding or ``bias=False`` therefore
        survive an OK without edits.
        """
        changes: dict[str, object] = {}
        for name, w in self.fields.items():
            value = w.value() if isinstance(w, QSpinBox) else w.currentText()  # type: ignore[attr-defined]
            if value != self._shown[name]:
                changes[name] = value
        return replace(self.layer, **changes) if changes else self.layer


NEW_LAYERS: dict[str, nw.Layer] = {
    "convolution 3x3": nw.Conv(8, 3, padding=1), "ReLU": nw.Activation("relu"),
    "leaky ReLU": nw.Activation("leaky_relu"), "sigmoid": nw.Activation("sigmoid"),
    "tanh": nw.Activation("tanh"), "max pool 2x2": nw.Pool("max", 2), "min pool 2x2": nw.Pool("min", 2),
    "avg pool 2x2": nw.Pool("avg", 2), "global max pool": nw.GlobalPool("max"),
    "global avg pool": nw.GlobalPool("avg"), "flatten": nw.Flatten(), "dense 10": nw.Dense(10),
}


class SqueezyLabel(pg.LabelItem):
    """A label that may be narrower than its text (LabelItem pins its minimum width to the text)."""

    def __init__(self, text: str, **opts: object) -> None:
        super().__init__(text, **opts)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def updateMin(self) -> None:  # noqa: N802 - pyqtgraph API
        super().updateMin()
        self.setMinimumWidth(1)


class PipelineView(pg.GraphicsLayoutWidget):
    """Every stage's maps (or bars), left to right; click a map cell to trace its receptive field.

    Signals
    -------
    cell_clicked(int, int, int, int)
        Stage, channel, row, column.
    """

    cell_clicked = Signal(int, int, int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("#ffffff")
        self.cmap = pg.colormap.get("CET-L1")
        self.boxes: list[pg.ViewBox] = []
        self.labels: list[pg.LabelItem] = []
        self.tiles: list[list[tuple[float, float, int, int]]] = []  # per stage: (x0, y0, h, w) per map
        self.rf_items: list[pg.GraphicsObject] = []
        self.flat_items: list[pg.GraphicsObject] = []
        self.items: list[list[pg.GraphicsObject]] = []
        self._structure: list[tuple[str, tuple[int, ...]]] = []
        self.scene().sigMouseClicked.connect(self._clicked)

    def close(self) -> bool:
        """Close safely (see ``gui.scene.close_view``)."""
        return close_view(self)

    def show_stages(self, names: list[str], outputs: list[np.ndarray]) -> None:
        """Draw ``outputs`` (maps ``(C, H, W)`` or vectors ``(N,)``), each under its name.

        When the stages are the same as last time (a new picture or new
        weights), only the pictures and bars are updated; otherwise the view
        is rebuilt.
        """
        structure = [(n, a.shape) for n, a in zip(names, outputs, strict=False)]
        if structure == self._structure:
            for k, a in enumerate(outputs[: len(self.boxes)]):
                self._update(k, a)
            return
        self._structure = structure
        self.clear()
        self.boxes, self.labels, self.tiles, self.rf_items, self.flat_items = [], [], [], [], []
        self.items: list[list[pg.GraphicsObject]] = []
        for k, (name, a) in enumerate(zip(names, outputs, strict=False)):
            label = SqueezyLabel(name, size="10pt" if a.ndim == 3 else "8pt", color="#222222")
            self.addItem(label, row=0, col=k)
            box = self.addViewBox(row=1, col=k, lockAspect=a.ndim == 3, invertY=True, enableMouse=False)
            box.setMenuEnabled(False)
            self.labels.append(label)
            self.boxes.append(box)
            self.items.append([])
            self.tiles.append(self._draw(box, a))
            self.ci.layout.setColumnStretchFactor(k, 3 if a.ndim == 3 else 1)
        self._fit()

    def _fit(self) -> None:
        """Keep the layout inside the viewport (a top-level layout otherwise grows to its hint)."""
        self.ci.setGeometry(QRectF(0, 0, self.viewport().width(), self.viewport().height()))
        for box in self.boxes:
            box.autoRange(padding=0.05)

    def resizeEvent(self, ev: object) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(ev)  # type: ignore[arg-type]
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

    @staticmethod
    def _bar_colors(a: np.ndarray) -> list[str]:
        return ["#4477aa" if v >= 0 else "#cc6677" for v in a]

    def _update(self, k: int, a: np.ndarray) -> None:
        """New values for stage ``k``'s existing pictures or bars."""
        items = self.items[k]
        if a.ndim == 1 and a.size <= 128:
            items[0].setOpts(width=a, brushes=self._bar_colors(a))
            return
        rgba = self._colors((a if a.ndim == 3 else self._as_maps(a))[: len(items)])
        for m, img in enumerate(items):
            img.setImage(rgba[m], autoLevels=False)

    def _colors(self, a: np.ndarray) -> np.ndarray:
        """RGBA bytes ``(C, H, W, 4)`` of a stack, levels from its own range (NaN: white)."""
        lo, hi = self._levels(a)
        nan = np.isnan(a)
        norm = np.clip((np.where(nan, lo, a) - lo) / (hi - lo), 0.0, 1.0)
        rgba = apply_lut(self.cmap, norm)
        rgba[nan] = 255
        return rgba

    def _draw(self, box: pg.ViewBox, a: np.ndarray) -> list[tuple[float, float, int, int]]:
        if a.ndim == 1:
            if a.size <= 128:  # dense outputs as horizontal bars, one per unit, top to bottom
                bars = pg.BarGraphItem(x0=0, y=np.arange(a.size), width=a, height=0.8,
                                       brushes=self._bar_colors(a), pen=None)
                box.addItem(bars)
                self.items[-1].append(bars)
                box.addItem(pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen("#888888")))
                box.setAspectLocked(False)
                return [(0.0, 0.0, int(a.size), 1)]
            a = self._as_maps(a)
        c, h, w = a.shape
        n = min(c, MAX_MAPS)
        cols = int(np.ceil(np.sqrt(n)))
        rgba = self._colors(a[:n])
        tiles = []
        for m in range(n):
            x0, y0 = (m % cols) * (w + 1.0), (m // cols) * (h + 1.0)
            img = pg.ImageItem(axisOrder="row-major")
            img.setImage(rgba[m], autoLevels=False)
            img.setRect(QRectF(x0 - 0.5, y0 - 0.5, w, h))
            box.addItem(img)
            self.items[-1].append(img)
            tiles.append((x0, y0, h, w))
        if c > n:
            t = pg.TextItem(f"+{c - n} more", color="#444444", anchor=(0, 0))
            t.setPos(0, (n // cols + 1) * (h + 1.0))
            box.addItem(t)
        return tiles

    def show_field(self, fields: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """Outline the receptive field in every stage it covers (on every shown map)."""
        for item, box in self.rf_items:
            box.removeItem(item)
        self.rf_items = []
        for k, (rows, cols) in enumerate(fields):
            if k >= len(self.boxes) or not len(rows) or not len(cols):
                continue
            for x0, y0, _h, _w in self.tiles[k]:
                r = QRectF(x0 + cols.min() - 0.5, y0 + rows.min() - 0.5, cols.max() - cols.min() + 1,
                           rows.max() - rows.min() + 1)
                item = pg.QtWidgets.QGraphicsRectItem(r)
                pen = QPen(QColor("#ff7f0e"), 2.5)
                pen.setCosmetic(True)
                item.setPen(pen)
                item.setBrush(QColor(255, 127, 14, 60))
                item.setZValue(10)
                self.boxes[k].addItem(item)
                self.rf_items.append((item, self.boxes[k]))

    def mark_cells(self, stage: int, cells: list[tuple[int, int, int]], color: str = "#d62728") -> None:
        """Outline cells ``(channel, row, col)`` of ``stage`` (the flatten animation); [] clears."""
        for item, box in self.flat_items:
            box.removeItem(item)
        self.flat_items = []
        if stage >= len(self.tiles):
            return
        for c, i, j in cells:
            if c >= len(self.tiles[stage]):
                continue
            x0, y0, _h, _w = self.tiles[stage][c]
            item = pg.QtWidgets.QGraphicsRectItem(QRectF(x0 + j - 0.5, y0 + i - 0.5, 1, 1))
            pen = QPen(QColor(color), 3)
            pen.setCosmetic(True)
            item.setPen(pen)
            item.setZValue(20)
            self.boxes[stage].addItem(item)
            self.flat_items.append((item, self.boxes[stage]))

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
        A dict with the layer's settings and values, for the main window.
    """

    open_layer = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("convviz — pipeline")
        self.model = PipelineModel(self)
        self.view = PipelineView(self)
        self.flatten_timer = QTimer(self)
        self.flatten_timer.setInterval(60)
        self.flatten_timer.timeout.connect(self._flatten_tick)
        self.flatten_k = 0
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
        reseed = QPushButton("New weights")
        reseed.setObjectName("new_weights")
        reseed.setToolTip("Draw new seeded random weights (hand-set filters stay)")
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
        self.layers.itemDoubleClicked.connect(lambda _: self.edit_layer())
        self.layers.currentRowChanged.connect(self._layer_selected)
        ll.addWidget(self.layers, 1)
        buttons = QHBoxLayout()
        self.add = QToolButton()
        self.add.setText("Add")
        self.add.setToolTip("Add a layer after the selected one")
        self.add.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.add)
        for name in NEW_LAYERS:
            menu.addAction(name, lambda n=name: self.insert_layer(NEW_LAYERS[n]))
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
        self.totals = QLabel()
        self.totals.setObjectName("totals")
        self.totals.setWordWrap(True)
        ll.addWidget(self.totals)
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #8b0000; font-weight: bold")
        ll.addWidget(self.message)
        self.field_label = QLabel("Click a cell of any feature map to trace its receptive field.")
        self.field_label.setObjectName("field")
        self.field_label.setWordWrap(True)
        ll.addWidget(self.field_label)
        self.flatten_button = QPushButton("Animate flatten")
        self.flatten_button.setObjectName("flatten")
        self.flatten_button.setToolTip(
            "Watch the C×H×W volume become a vector, in the order the engine reads it"
        )
        self.flatten_button.setCheckable(True)
        self.flatten_button.toggled.connect(self.animate_flatten)
        ll.addWidget(self.flatten_button)
        self.open_button = QPushButton("Open layer in main window")
        self.open_button.setObjectName("open_layer")
        self.open_button.setToolTip(
            "Step through the selected convolution or pooling layer, forward and backward"
        )
        self.open_button.clicked.connect(self.open_selected)
        ll.addWidget(self.open_button)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(self.view)
        split.setStretchFactor(1, 1)
        split.setSizes([330, 1100])
        self.setCentralWidget(split)
        self.resize(1450, 700)
        self.model.changed.connect(self.refresh)
        self.view.cell_clicked.connect(self.trace_field)
        self.refresh()

    # ------------------------------------------------------------------ stack editing
    def _current(self) -> int:
        return self.layers.currentRow()

    def insert_layer(self, layer: nw.Layer) -> None:
        """Insert ``layer`` after the selected one (or at the end)."""
        layers = list(self.model.network.layers)
        k = self._current() + 1 if self._current() >= 0 else len(layers)
        layers.insert(k, layer)
        self.model.set_layers(layers)
        self.layers.setCurrentRow(k)

    def remove_layer(self) -> None:
        """Remove the selected layer."""
        k = self._current()
        layers = list(self.model.network.layers)
        if 0 <= k < len(layers):
            del layers[k]
            self.model.set_layers(layers)
            self.layers.setCurrentRow(min(k, len(layers) - 1))

    def move_layer(self, delta: int) -> None:
        """Move the selected layer up (−1) or down (+1)."""
        k = self._current()
        layers = list(self.model.network.layers)
        j = k + delta
        if 0 <= k < len(layers) and 0 <= j < len(layers):
            layers[k], layers[j] = layers[j], layers[k]
            self.model.set_layers(layers)
            self.layers.setCurrentRow(j)

    def edit_layer(self) -> None:
        """Edit the selected layer in a dialog."""
        k = self._current()
        layers = list(self.model.network.layers)
        if not 0 <= k < len(layers):
            return
        dlg = LayerDialog(layers[k], self)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            layers[k] = dlg.result_layer()
            self.model.set_layers(layers)
            self.layers.setCurrentRow(k)

    def use_sample(self, name: str) -> None:
        """Use a sample picture as the input, at the network's input size."""
        c, h, w = self.model.network.input_shape
        try:
            self.model.set_input(read_image(sample_path(name), gray=c == 1, size=(h, w)))
        except ImageError as exc:
            self.message.setText(str(exc))

    # ------------------------------------------------------------------ drawing
    def refresh(self) -> None:
        """Redraw the list, totals, message and stages from the model."""
        m = self.model
        shapes = m.shapes()
        counts = m.param_counts()
        k_sel = self._current()
        self.layers.blockSignals(True)
        self.layers.clear()
        for k, layer in enumerate(m.network.layers):
            shape = shapes[k + 1]
            if m.problem is not None and k == m.problem.index:
                text = f"{k + 1}. {nw.describe_layer(layer)}  ✗ {m.problem.reason}"
            elif shape is None:
                text = f"{k + 1}. {nw.describe_layer(layer)}  (after the problem)"
            else:
                n = counts[k]
                params = f" · {n:,} params" if n else ""
                text = f"{k + 1}. {nw.describe_layer(layer)} → {'×'.join(map(str, shape))}{params}"
            item = QListWidgetItem(text)
            if m.problem is not None and k == m.problem.index:
                item.setForeground(QColor("#b00000"))
                item.setToolTip(m.problem.reason)
            elif shape is None:
                item.setForeground(QColor("#999999"))
            self.layers.addItem(item)
        self.layers.setCurrentRow(min(k_sel, self.layers.count() - 1))
        self.layers.blockSignals(False)
        total = sum(n for n in counts if n is not None)
        c, h, w = m.network.input_shape
        self.totals.setText(f"Input {c}×{h}×{w} · {len(m.network.layers)} layers · "
                            f"{total:,} parameters in all")
        self.message.setText("" if m.problem is None else f"Impossible stack: {m.problem}")
        names = ["input " + "×".join(map(str, shapes[0]))] + [
            f"{k + 1}. {nw.describe_layer(layer)}\n{'×'.join(map(str, shapes[k + 1]))}"
            for k, layer in enumerate(m.network.layers) if shapes[k + 1] is not None
        ]
        self.view.show_stages([n.replace("\n", "<br>") for n in names], m.outputs)
        self._layer_selected(self.layers.currentRow())
        self.flatten_button.setEnabled(any(isinstance(layer, nw.Flatten) for layer in m.network.layers)
                                       and m.problem is None)

    def trace_field(self, stage: int, channel: int, row: int, col: int) -> None:
        """Show the receptive field of a clicked cell in every earlier stage, with its size."""
        shapes = self.model.shapes()
        if shapes[stage] is None or len(shapes[stage]) != 3:
            return
        fields = self.model.receptive_field(stage, row, col)
        self.view.show_field(fields)
        sizes = []
        for k, (rows, cols) in enumerate(fields):
            name = "input" if k == 0 else f"after layer {k}"
            sizes.append(f"{name}: {len(rows)}×{len(cols)}")
        self.field_label.setText(f"Cell ({row}, {col}) of stage {stage}: its receptive field is "
                                 + "; ".join(sizes))
        self.field_sizes = [(len(r), len(c)) for r, c in fields]

    def _layer_selected(self, k: int) -> None:
        layers = self.model.network.layers
        can_open = 0 <= k < len(layers) and isinstance(layers[k], (nw.Conv, nw.Pool))
        self.open_button.setEnabled(can_open and self.model.shapes()[k + 1] is not None)

    # ------------------------------------------------------------------ flatten animation
    def _flatten_index(self) -> int | None:
        for k, layer in enumerate(self.model.network.layers):
            if isinstance(layer, nw.Flatten):
                return k
        return None

    def animate_flatten(self, on: bool) -> None:
        """Start or stop sweeping flatten's reading order: ``k = c·H·W + h·W + w``."""
        if on and self._flatten_index() is not None:
            self.flatten_k = 0
            self.flatten_timer.start()
        else:
            self.flatten_timer.stop()
            self.view.mark_cells(0, [])
            if self.flatten_button.isChecked():
                self.flatten_button.setChecked(False)

    def _flatten_tick(self) -> None:
        k_layer = self._flatten_index()
        if k_layer is None or self.model.problem is not None:
            self.animate_flatten(False)
            return
        c, h, w = self.model.outputs[k_layer].shape
        k = self.flatten_k % (c * h * w)
        ci, rem = divmod(k, h * w)
        hi, wi = divmod(rem, w)
        self.view.mark_cells(k_layer, [(ci, hi, wi)])
        self.field_label.setText(f"flatten: element {k} = x[{ci}, {hi}, {wi}]   "
                                 f"(k = c·H·W + h·W + w = {ci}·{h * w} + {hi}·{w} + {wi})")
        self.flatten_k += 1

    def closeEvent(self, event: object) -> None:  # noqa: N802 - Qt API
        self.animate_flatten(False)
        super().closeEvent(event)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ hand-off
    def open_selected(self) -> None:
        """Send the selected conv/pool layer, with its input maps and weights, to the main window."""
        k = self._current()
        layers = self.model.network.layers
        if not 0 <= k < len(layers) or self.model.shapes()[k + 1] is None:
            return
        layer = layers[k]
        x = self.model.outputs[k]
        if x.ndim != 3 or not isinstance(layer, (nw.Conv, nw.Pool)):
            return
        spec: dict[str, object] = {"x": x, "layer": layer}
        if isinstance(layer, nw.Conv):
            spec["w"], spec["b"] = self.model.weights[k]  # type: ignore[misc]
        self.open_layer.emit(spec)

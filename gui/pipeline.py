"""The pipeline window: a thin Qt view over ``gui.models.pipeline.PipelineState``.

The state (network, input, weights, every stage's output, and every text shown
here) lives in the core; this module wires it to the widgets. ``PipelineWindow`` shows the
stack (``gui.pipeline_panel``: shapes, parameter counts, the first impossible layer
flagged), the maps of every stage (``gui.pipeline_view``: feature maps in the theme's
colour maps, dense outputs as bars, receptive fields traced back to the input) and an
animation of flatten's reading order; a layer is edited in ``gui.pipeline_dialog``.
It reads the sample pictures (Qt image reading) and hands them to the state. Beside
the maps, the digit panel (``gui.pipeline_digit``) is a canvas on the input with the
class probabilities and a saliency map.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence, QPalette
from PySide6.QtWidgets import QDialog, QListWidgetItem, QMainWindow, QSplitter, QWidget

from engine import network as nw

from .controllers.pipeline_jobs import PipelineJobs
from .images import read_image, sample_path
from .models.pipeline import PRESETS, PipelineState, new_layers
from .pipeline_dialog import LayerDialog
from .pipeline_digit import DigitPanel
from .pipeline_panel import ERROR_COLOUR, StackPanel
from .pipeline_view import PipelineView

__all__ = ["ERROR_COLOUR", "LayerDialog", "PipelineView", "PipelineWindow", "read_sample"]

#: The totals line while the stages are first drawn (plain: nothing is wrong).
DRAWING = "Drawing the stages…"


def read_sample(name: str, channels: int, height: int, width: int) -> np.ndarray:
    """A sample picture at ``height``×``width``: grey for one channel, else RGB (values 0-1)."""
    return read_image(sample_path(name), gray=channels == 1, size=(height, width))


class PipelineWindow(QMainWindow):
    """Build and inspect a small CNN: stack, feature maps, receptive fields, flatten order.

    Signals
    -------
    open_layer(object)
        A dict ``{"layer", "x", "w", "b"}`` (``PipelineState.open_spec``) for the main
        window, which turns it into a lesson with ``gui.models.pipeline.lesson_spec_for_layer``.
    """

    open_layer = Signal(object)
    #: The sample digit is on the canvas and the stages are drawn (``later``: a few turns after it shows).
    ready = Signal()

    def __init__(self, parent: QWidget | None = None, theme: str = "light", *, later: bool = False) -> None:
        """``later``: put the sample digit on the canvas on the next turn of the event loop and draw the
        stages from then on, a slice of them a turn (``PipelineView.show_stages``): each a share of the
        ~150 ms of opening, so the window shows at once and no turn stops the app for long; else all here,
        before this returns."""
        super().__init__(parent)
        self.is_ready = False
        self._drawing = True  # the stages' first drawing is to come or going on (``refresh``)
        self.setWindowTitle("convviz — pipeline")
        self.model = PipelineState(load_sample=read_sample)
        self.view = PipelineView(self, theme=theme)
        self.field_sizes: list[tuple[int, int]] = []
        self.flatten_timer = QTimer(self)
        self.flatten_timer.setInterval(60)
        self.flatten_timer.timeout.connect(self._flatten_tick)
        self.flatten_k = -1  # the element shown (-1: none)
        self.panel = panel = StackPanel()
        (self.preset, self.weights_kind, self.sample, self.layers, self.add, self.weights_label, self.totals,
         self.message, self.field_label, self.flatten_button, self.flatten_back, self.flatten_next,
         self.open_button, self.busy, self.cancel) = (
            panel.preset, panel.weights_kind, panel.sample, panel.layers, panel.add, panel.weights_label,
            panel.totals, panel.message, panel.field_label, panel.flatten_button, panel.flatten_back,
            panel.flatten_next, panel.open_button, panel.busy, panel.cancel)
        self.preset.activated.connect(lambda _: self.model.set_network(PRESETS[self.preset.currentText()]()))
        self.weights_kind.activated.connect(
            lambda _: self.model.set_weights_kind(self.weights_kind.currentText()))
        panel.new_weights.clicked.connect(self.model.new_weights)
        self.sample.activated.connect(lambda _: self.use_sample(self.sample.currentText()))
        self.layers.itemDoubleClicked.connect(lambda _: self.edit_layer())
        self.layers.currentRowChanged.connect(self._layer_selected)
        self.add.menu().aboutToShow.connect(self._fill_add_menu)
        for name, slot in (("Edit", self.edit_layer), ("Remove", self.remove_layer),
                           ("Up", lambda: self.move_layer(-1)), ("Down", lambda: self.move_layer(1))):
            panel.stack_buttons[name].clicked.connect(slot)
        self.flatten_button.toggled.connect(self.animate_flatten)
        for b, delta, key in panel.flatten_steps:
            b.clicked.connect(lambda _=False, d=delta: self.step_flatten(d))
            act = QAction(b.toolTip(), self)
            act.setShortcut(QKeySequence(key))
            act.triggered.connect(b.click)
            self.addAction(act)
        self.open_button.clicked.connect(self.open_selected)
        self.digits = DigitPanel(self.model, theme=theme)
        self.digits.drawn.connect(self.use_drawing)
        split = QSplitter()
        split.addWidget(panel)
        split.addWidget(self.digits)
        split.addWidget(self.view)
        split.setStretchFactor(2, 1)
        split.setSizes([330, 330, 1000])
        self.setCentralWidget(split)
        self.resize(1700, 900)
        self.model.changed.connect(self.refresh)
        self.model.error.connect(self._show_error)
        self.jobs = PipelineJobs(self.model, self)  # a big change is computed in a worker thread
        self.cancel.clicked.connect(self.jobs.cancel)
        self.jobs.busy_changed.connect(self.busy.setVisible)
        self.view.cell_clicked.connect(self.trace_field)
        # Laid out at its size before the stages are drawn, so they are built once, for the width they
        # get (built in a 100-pixel view, they were built again when the window first showed).
        self.layout().activate()
        split.setSizes([330, 330, 1000])  # a hidden splitter lays its parts out here, not when resized
        self.view.built.connect(self._stages_drawn)
        if later:  # after this turn (the window shows): the digit, then the stages a slice a turn
            self.totals.setText(DRAWING)  # what the first, still empty, picture says
            QTimer.singleShot(0, self, self._draw_stages)
        else:
            self._draw_stages()

    def _draw_stages(self) -> None:
        """The sample digit on the canvas, then the stages drawn for the first time, with its values (at
        the size they were laid out for): a slice of them a turn when the window is shown meanwhile
        (``later``), else at once."""
        self.digits.start()  # its change draws the stages (``refresh``)
        if not self.view.building and not self.view.boxes:
            self.refresh()  # no digit was put (no samples, or the network reads a signal)
        if self.view.building:
            self.totals.setText(DRAWING)  # the empty picture says why until the stages are drawn
        else:
            self._stages_drawn()

    def _stages_drawn(self) -> None:
        """The first drawing of the stages is complete: the window is ready."""
        if not self._drawing:
            return  # a later rebuild
        self._drawing = False
        self.totals.setText(self.model.totals_text())
        self._show_error(self.model.last_error)
        self.is_ready = True
        self.ready.emit()

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

    def refresh(self, in_turns: bool | None = None) -> None:
        """Redraw the list, totals, message and stages from the model; the stages are rebuilt a slice a
        turn (``PipelineView.show_stages``) with ``in_turns``, by default while a shown window draws them
        for the first time."""
        m = self.model
        if in_turns is None:
            in_turns = self._drawing and self.isVisible()
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
        self.view.show_stages([t.replace("\n", "<br>") for t in m.stage_titles()], m.outputs, in_turns)
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

    # ------------------------------------------------------------------ hand-off
    def open_selected(self) -> None:
        """Send the selected conv/pool layer, with its input maps and weights, to the main window."""
        spec = self.model.open_spec(self._current())
        if spec is not None:
            self.open_layer.emit(spec)

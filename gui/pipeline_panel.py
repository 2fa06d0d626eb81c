"""The pipeline window's side panel: the stack and what acts on it, as widgets (``gui.pipeline`` wires them).

``StackPanel`` holds the preset, weights and input choices, the stack list with
its buttons, the texts the state writes (weights, totals, message, the traced
field or flatten step), flatten's controls, the hand-off button and the
"Computing…" row. It knows no state: ``PipelineWindow`` connects each widget
to ``gui.models.pipeline.PipelineState`` and to its own slots.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMenu,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .images import SAMPLES
from .models.pipeline import PRESETS
from .models.weights import WEIGHTS_KINDS

PANEL_POINTS = 12.0  # the stack list and the receptive-field / flatten text beside the maps
#: Refusals and impossible layers in the (unthemed) side panel, as the main window's status line.
ERROR_COLOUR = "#b00000"
#: The stack's buttons beside "Add": text and tooltip.
STACK_BUTTONS = (("Edit", "Edit the selected layer"), ("Remove", "Remove the selected layer"),
                 ("Up", "Move the selected layer up"), ("Down", "Move the selected layer down"))


class StackPanel(QWidget):
    """The widgets left of the maps, top to bottom (see the module's docstring).

    Attributes
    ----------
    stack_buttons : dict[str, QPushButton]
        "Edit", "Remove", "Up" and "Down".
    flatten_steps : tuple
        ``(button, delta, key)`` for flatten's one-element steps back and on.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        ll = QVBoxLayout(self)
        self.preset = self._choice(ll, "Preset", "preset", PRESETS, "Start from a classic stack")
        self.weights_kind = self._choice(
            ll, "Weights", "weights_kind", WEIGHTS_KINDS,
            "LeNet-5's weights trained on handwritten digits, or seeded random ones")
        self.new_weights = QPushButton("New weights")
        self.new_weights.setObjectName("new_weights")
        self.new_weights.setToolTip(
            "Draw new seeded random weights (hand-set filters stay; trained weights give way)")
        ll.itemAt(ll.count() - 1).layout().addWidget(self.new_weights)
        self.sample = self._choice(ll, "Input", "sample", SAMPLES, "The input picture (drawn by convviz)")
        self.layers = QListWidget()
        self.layers.setObjectName("layers")
        self.layers.setToolTip("The stack; double-click a layer to edit it")
        enlarge(self.layers)
        self.layers.setWordWrap(True)  # a long row wraps rather than hiding its parameter count
        self.layers.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        ll.addWidget(self.layers, 1)
        buttons = QHBoxLayout()
        self.add = QToolButton()
        self.add.setText("Add")
        self.add.setToolTip("Add a layer after the selected one")
        self.add.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.add.setMenu(QMenu(self.add))  # filled as it opens: a signal's input offers a causal layer too
        buttons.addWidget(self.add)
        self.stack_buttons: dict[str, QPushButton] = {}
        for text, tip in STACK_BUTTONS:
            b = QPushButton(text)
            b.setToolTip(tip)
            buttons.addWidget(b)
            self.stack_buttons[text] = b
        ll.addLayout(buttons)
        self.weights_label = self._text(ll, "weights_text")
        self.totals = self._text(ll, "totals")
        self.message = self._text(ll, "message")
        self.message.setStyleSheet(f"color: {ERROR_COLOUR}; font-weight: bold")
        self.field_label = self._text(ll, "field",
                                      "Click a cell of any feature map to trace its receptive field.")
        enlarge(self.field_label)
        self.flatten_button = QPushButton("Animate flatten")
        self.flatten_button.setObjectName("flatten")
        self.flatten_button.setToolTip(
            "Watch the C×H×W volume become a vector, in the order the engine reads it"
        )
        self.flatten_button.setCheckable(True)
        flat_row = QHBoxLayout()
        self.flatten_back, self.flatten_next = QPushButton("◀"), QPushButton("▶")
        self.flatten_steps = ((self.flatten_back, -1, "Left"), (self.flatten_next, 1, "Right"))
        for b, delta, key in self.flatten_steps:
            b.setObjectName("flatten_back" if delta < 0 else "flatten_next")
            b.setToolTip(f"Flatten one element {'back' if delta < 0 else 'on'} ({key}): the cell it reads "
                         "and i = c·H·W + r·W + col with its numbers")
        flat_row.addWidget(self.flatten_back)
        flat_row.addWidget(self.flatten_button, 1)
        flat_row.addWidget(self.flatten_next)
        ll.addLayout(flat_row)
        self.open_button = QPushButton("Open layer in main window")
        self.open_button.setObjectName("open_layer")
        self.open_button.setToolTip(
            "Step through the selected convolution or pooling layer, forward and backward"
        )
        ll.addWidget(self.open_button)
        ll.addWidget(self._busy_row())

    @staticmethod
    def _choice(ll: QVBoxLayout, label: str, name: str, items: Iterable[str], tip: str) -> QComboBox:
        """A labelled drop-down on a row of its own."""
        row = QHBoxLayout()
        box = QComboBox()
        box.setObjectName(name)
        box.addItems(list(items))
        box.setToolTip(tip)
        row.addWidget(QLabel(label))
        row.addWidget(box, 1)
        ll.addLayout(row)
        return box

    @staticmethod
    def _text(ll: QVBoxLayout, name: str, text: str = "") -> QLabel:
        """A wrapped line of text the state writes."""
        label = QLabel(text)
        label.setObjectName(name)
        label.setWordWrap(True)
        ll.addWidget(label)
        return label

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
        row.addWidget(label, 1)
        row.addWidget(self.cancel)
        keep = self.busy.sizePolicy()
        keep.setRetainSizeWhenHidden(True)  # showing it moves nothing
        self.busy.setSizePolicy(keep)
        self.busy.setVisible(False)
        return self.busy


def enlarge(widget: QWidget) -> None:
    """Write ``widget`` in ``PANEL_POINTS`` (the stack and the field/flatten text, read from afar)."""
    font = widget.font()
    font.setPointSizeF(max(font.pointSizeF(), PANEL_POINTS))
    widget.setFont(font)

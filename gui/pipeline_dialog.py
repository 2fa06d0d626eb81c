"""The pipeline window's layer editor: one layer's settings (fields and rules: ``gui.models.pipeline``)."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QSpinBox, QWidget

from engine import network as nw

from .models.pipeline import apply_layer_edits, layer_fields


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

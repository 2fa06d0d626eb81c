"""The export dialog: what to export, which steps, how large, where."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from .models.choices import BOUNDS, EXPORT_FORMAT_LABELS, MAX_SCALE, MAX_VALUE_GRID, MIN_SCALE

FILTERS: dict[str, str] = {
    "png": "PNG pictures (*.png)", "svg": "SVG pictures (*.svg)", "gif": "GIF animations (*.gif)",
    "mp4": "MP4 videos (*.mp4)", "json": "convviz frames as JSON (*.json)", "pdf": "PDF documents (*.pdf)",
}


def pair_row(left: QWidget, between: str, right: QWidget) -> tuple[QWidget, QHBoxLayout]:
    """``left between right`` on one row; the layout is returned for more widgets."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(left)
    layout.addWidget(QLabel(between))
    layout.addWidget(right)
    return row, layout


def path_row(text: str, placeholder: str, browse: object) -> tuple[QWidget, QLineEdit]:
    """A path field (object name "path") with a Browse… button calling ``browse``."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    edit = QLineEdit(text)
    edit.setObjectName("path")
    edit.setPlaceholderText(placeholder)
    button = QPushButton("Browse…")
    button.clicked.connect(browse)
    layout.addWidget(edit, 1)
    layout.addWidget(button)
    return row, edit


class ExportDialog(QDialog):
    """Choose format, step range, scale, frame rate, loop and destination."""

    def __init__(self, n_steps: int, current: int, parent: QWidget | None = None,
                 last_path: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        f = QFormLayout(self)
        self.format = QComboBox()
        self.format.setObjectName("format")
        for k, v in EXPORT_FORMAT_LABELS.items():
            self.format.addItem(v, k)
        f.addRow("Format", self.format)
        self.first = QSpinBox()
        self.first.setObjectName("first")
        self.last = QSpinBox()
        self.last.setObjectName("last")
        for s in (self.first, self.last):
            s.setRange(1, max(1, n_steps))
        self.first.setValue(current + 1)
        self.last.setValue(current + 1)
        row, rl = pair_row(self.first, "to", self.last)
        all_steps = QPushButton("All")
        all_steps.setToolTip("Every step of the animation")
        all_steps.clicked.connect(lambda: (self.first.setValue(1), self.last.setValue(n_steps)))
        rl.addWidget(all_steps)
        f.addRow("Steps", row)
        self.scale = QDoubleSpinBox()
        self.scale.setObjectName("scale")
        self.scale.setRange(MIN_SCALE, MAX_SCALE)
        self.scale.setSingleStep(1.0)
        self.scale.setDecimals(0)
        self.scale.setSuffix("×")
        self.scale.setToolTip("2× or more stays crisp on a 4K projector")
        f.addRow("Scale", self.scale)
        self.fps = QDoubleSpinBox()
        self.fps.setObjectName("fps")
        self.fps.setRange(0.25, 60.0)
        self.fps.setValue(2.0)
        self.fps.setSuffix(" frames/s")
        f.addRow("Frame rate", self.fps)
        self.loop = QSpinBox()
        self.loop.setObjectName("loop")
        self.loop.setRange(0, 1000)
        self.loop.setSpecialValueText("forever")
        self.loop.setToolTip("How many times a GIF plays (forever by default)")
        f.addRow("GIF loops", self.loop)
        row, self.path = path_row(last_path, "where to write (a new folder for a PNG sequence)", self._browse)
        f.addRow("Save to", row)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        f.addRow(self.buttons)
        self.format.currentIndexChanged.connect(self._format_changed)
        self._format_changed()

    def fmt(self) -> str:
        """The chosen format key."""
        return str(self.format.currentData())

    def steps(self) -> range:
        """0-based steps, last included."""
        a, b = sorted((self.first.value(), self.last.value()))
        return range(a - 1, b)

    def _format_changed(self) -> None:
        fmt = self.fmt()
        self.fps.setEnabled(fmt in ("gif", "mp4"))
        self.loop.setEnabled(fmt == "gif")
        self.scale.setEnabled(fmt in ("png", "gif", "mp4"))  # the others are vector or data
        self.last.setEnabled(fmt != "svg")

    def _browse(self) -> None:
        fmt = self.fmt()
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.path.text(), FILTERS[fmt])
        if path:
            if fmt != "png" and not path.lower().endswith(f".{fmt}"):
                path += f".{fmt}"
            self.path.setText(path)


class ImageDialog(QDialog):
    """Choose a picture (a built-in sample or a file), its channels, grid size and value range."""

    def __init__(self, parent: QWidget | None = None, size: tuple[int, int] = (28, 28)) -> None:
        from .images import SAMPLES

        super().__init__(parent)
        self.setWindowTitle("Open a picture as the input")
        f = QFormLayout(self)
        self.source = QComboBox()
        self.source.setObjectName("source")
        for s in SAMPLES:
            self.source.addItem(f"sample: {s}", s)
        self.source.addItem("a file…", "")
        f.addRow("Picture", self.source)
        row, self.path = path_row("", "a PNG, JPEG or BMP file", self._browse)
        f.addRow("File", row)
        self.channels = QComboBox()
        self.channels.setObjectName("channels")
        self.channels.addItem("grayscale (1 channel)", True)
        self.channels.addItem("RGB (3 channels)", False)
        f.addRow("Channels", self.channels)
        self.h = QSpinBox()
        self.h.setObjectName("grid_h")
        self.w = QSpinBox()
        self.w.setObjectName("grid_w")
        for s, v in ((self.h, size[0]), (self.w, size[1])):
            s.setRange(*BOUNDS["in_h"])
            s.setValue(v)
            s.setToolTip(f"Grid size: the picture is resized by area averaging (values shown up to "
                         f"{MAX_VALUE_GRID})")
        f.addRow("Grid H × W", pair_row(self.h, "×", self.w)[0])
        self.unit = QComboBox()
        self.unit.setObjectName("unit")
        self.unit.addItem("0 to 1", True)
        self.unit.addItem("0 to 255", False)
        f.addRow("Values", self.unit)
        ok_cancel = QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        buttons = QDialogButtonBox(ok_cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        f.addRow(buttons)
        self.source.currentIndexChanged.connect(self._source_changed)
        self._source_changed()

    def chosen_path(self) -> str:
        """The file to read: the sample's picture or the typed path."""
        from .images import sample_path

        name = self.source.currentData()
        return str(sample_path(name)) if name else self.path.text().strip()

    def _source_changed(self) -> None:
        self.path.setEnabled(not self.source.currentData())

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a picture", self.path.text(),
                                              "Pictures (*.png *.jpg *.jpeg *.bmp)")
        if path:
            self.path.setText(path)
            self.source.setCurrentIndex(self.source.count() - 1)

"""The pipeline window's digit panel: draw a digit, read the class probabilities, see the saliency.

A thin column of widgets over ``PipelineState``: the canvas (``gui.canvas``)
with *Clear* and the held-out sample digits to start from, the prediction's
headline and bars, the first convolution's kernels, and the saliency map of
the predicted (or a chosen) class. What each shows is computed by the core
(``PipelineState.prediction``, ``saliency``, ``first_kernels``); this module
lays it out and passes the user's choices on.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .canvas import CanvasWidget
from .models import digits
from .models.pipeline import PipelineState
from .models.prediction import headline
from .pipeline_bars import KernelTiles, ProbabilityBars, SaliencyPicture

__all__ = ["PREDICTED", "DigitPanel"]

#: The saliency class choice that follows the prediction.
PREDICTED = "predicted class"


class DigitPanel(QWidget):
    """Canvas, samples, probability bars, C1's kernels and the saliency map of one pipeline state.

    Signals
    -------
    drawn()
        The drawing changed (throttled by the canvas): the window sends it to the state.
    """

    drawn = Signal()

    def __init__(self, model: PipelineState, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        self.model = model
        self.samples = digits.sample_digits()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.headline = QLabel()
        self.headline.setObjectName("headline")
        self.headline.setWordWrap(True)
        self.headline.setStyleSheet("font-size: 16pt; font-weight: bold")
        lay.addWidget(self.headline)
        self.canvas = CanvasWidget(parent=self)
        self.canvas.drawn.connect(self.drawn)
        lay.addWidget(self.canvas, 3)
        row = QHBoxLayout()
        self.clear_button = QPushButton("Clear")
        self.clear_button.setObjectName("clear")
        self.clear_button.setToolTip("Blank the canvas")
        self.clear_button.clicked.connect(self.canvas.clear)
        row.addWidget(self.clear_button)
        self.sample = QComboBox()
        self.sample.setObjectName("digit_sample")
        self.sample.setToolTip("Start from a handwritten digit the network never trained on")
        self.sample.addItem("Start from a sample…")
        for k, (label, _) in enumerate(self.samples):
            self.sample.addItem(f"sample {k + 1}: a {label}")
        self.sample.setEnabled(bool(self.samples))
        self.sample.activated.connect(self._sample_chosen)
        row.addWidget(self.sample, 1)
        lay.addLayout(row)
        self.bars = ProbabilityBars(self, theme=theme)
        lay.addWidget(self.bars, 3)
        self.kernels_title = QLabel()
        self.kernels_title.setObjectName("kernels_title")
        self.kernels_title.setWordWrap(True)
        lay.addWidget(self.kernels_title)
        self.kernels = KernelTiles(self, theme=theme)
        lay.addWidget(self.kernels, 1)
        row = QHBoxLayout()
        row.addWidget(QLabel("Gradient of"))
        self.target = QComboBox()
        self.target.setObjectName("saliency_target")
        self.target.setToolTip("Whose class score the saliency map differentiates")
        self.target.addItems([PREDICTED, *map(str, range(10))])
        self.target.activated.connect(lambda _: self.refresh())
        row.addWidget(self.target, 1)
        lay.addLayout(row)
        self.saliency = SaliencyPicture(self, theme=theme)
        lay.addWidget(self.saliency, 2)
        self.saliency_title = QLabel()
        self.saliency_title.setObjectName("saliency_title")
        self.saliency_title.setWordWrap(True)
        lay.addWidget(self.saliency_title)

    # ------------------------------------------------------------------ user choices
    def load_sample(self, index: int) -> None:
        """Put sample digit ``index`` (0-based) on the canvas."""
        if 0 <= index < len(self.samples):
            self.canvas.load(self.samples[index][1])

    def start(self, digit: int = 7) -> None:
        """Start from the first sample of ``digit`` (from the first sample when there is none; nothing
        when no samples are shipped)."""
        labels = [label for label, _ in self.samples]
        if labels:
            self.load_sample(labels.index(digit) if digit in labels else 0)

    def _sample_chosen(self, row: int) -> None:
        self.load_sample(row - 1)
        self.sample.setCurrentIndex(0)

    def target_class(self) -> int | None:
        """The class chosen for the saliency map, None for the predicted one."""
        text = self.target.currentText()
        return None if text == PREDICTED else int(text)

    def set_theme(self, name: str) -> None:
        """Paint in theme ``name``."""
        for w in (self.bars, self.kernels, self.saliency):
            w.set_theme(name)

    # ------------------------------------------------------------------ drawing
    def refresh(self) -> None:
        """Show the state's prediction, first kernels and saliency map."""
        m = self.model
        pred = m.prediction()
        self.bars.show_prediction(pred)
        self.headline.setText(headline(pred, self.canvas.model.is_empty() and not m.x.any()))
        kernels = m.first_kernels()
        self.kernels.show_kernels(kernels)
        self.kernels_title.setText("" if kernels is None else kernels.title)
        sal = m.saliency(self.target_class())
        self.saliency.show_saliency(sal)
        self.saliency_title.setText("" if sal is None else sal.title)

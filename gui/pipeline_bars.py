"""Two small painters for the pipeline's digit panel: class probability bars and a saliency picture.

Both paint what the core decided (``gui.models.prediction``): the bars' labels,
numbers and winner come from ``Prediction``; the saliency's values, levels and
title from ``Saliency``. Colours follow the theme, as the feature maps do.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from .canvas import SquareWidget
from .models.choices import THEME_COLOUR_MAPS, THEME_COLOURS
from .models.prediction import Kernels, Prediction, Saliency
from .scene import colourize

__all__ = ["KernelTiles", "ProbabilityBars", "SaliencyPicture"]


class ProbabilityBars(QWidget):
    """One horizontal bar per class: its label, its probability as a bar and as a number; the winner marked.

    The winner's bar is drawn in the theme's output colour with its label and
    number in bold and a ``◀`` after the number; the others in the grid colour.
    """

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        self.setObjectName("class_bars")
        self.prediction: Prediction | None = None
        self.theme = THEME_COLOURS["light"]
        self.set_theme(theme)
        self.setMinimumHeight(200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(280, 260)

    def set_theme(self, name: str) -> None:
        """Colours of theme ``name``."""
        self.theme = THEME_COLOURS[name]  # type: ignore[index]
        self.update()

    def show_prediction(self, prediction: Prediction | None) -> None:
        """Bars for ``prediction`` (None: empty)."""
        self.prediction = prediction
        self.update()

    def texts(self) -> list[tuple[str, str, bool]]:
        """What is written, bar by bar: ``(label, number, winner)``."""
        p = self.prediction
        return [] if p is None else [(b.label, b.text, b.winner) for b in p.bars]

    def paintEvent(self, ev: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        try:
            p.fillRect(self.rect(), QColor(self.theme["background"]))
            pred = self.prediction
            if pred is None or not pred.bars:
                return
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            n = len(pred.bars)
            row = self.height() / n
            font = QFont(self.font())
            font.setPixelSize(max(9, min(int(row * 0.62), 22)))
            bold = QFont(font)
            bold.setBold(True)
            fm = QFontMetricsF(bold)
            label_w = fm.horizontalAdvance("00") + 8
            number_w = fm.horizontalAdvance("100.0% ◀") + 8
            bar_w = max(self.width() - label_w - number_w, 10.0)
            text, grid = QColor(self.theme["text"]), QColor(self.theme["grid"])
            win = QColor(self.theme["output"])
            right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
            for k, bar in enumerate(pred.bars):
                y = k * row
                p.setFont(bold if bar.winner else font)
                p.setPen(win if bar.winner else text)
                p.drawText(QRectF(0, y, label_w - 6, row), right, bar.label)
                length = bar.probability * bar_w
                p.fillRect(QRectF(label_w, y + row * 0.15, max(length, 1.0), row * 0.7),
                           win if bar.winner else grid)
                mark = f"{bar.text} ◀" if bar.winner else bar.text
                p.drawText(QRectF(label_w + length + 4, y, number_w + bar_w - length, row), left, mark)
        finally:
            p.end()


class SaliencyPicture(SquareWidget):
    """A signed picture (the saliency map) in the theme's diverging colour map, 0 in the middle colour."""

    SIDE = 160

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        self.setObjectName("saliency")
        self.saliency: Saliency | None = None
        self._rgba: np.ndarray | None = None
        self.theme_name = "light"
        self.set_theme(theme)
        self.setMinimumSize(96, 96)

    def set_theme(self, name: str) -> None:
        """The diverging map and background of theme ``name``."""
        self.theme_name = name
        self.cmap = pg.colormap.get(THEME_COLOUR_MAPS[name]["diverging"])  # type: ignore[index]
        self.show_saliency(self.saliency)

    def show_saliency(self, s: Saliency | None) -> None:
        """Draw ``s`` (None: empty)."""
        self.saliency = s
        empty = QColor(THEME_COLOURS[self.theme_name]["empty"]).getRgb()[:3]  # type: ignore[index]
        self._rgba = None if s is None else colourize(s.picture, s.levels, self.cmap, empty)
        self.update()

    def rgba(self) -> np.ndarray | None:
        """The colours painted, ``(H, W, 4)`` bytes, one per input cell (None when empty)."""
        return self._rgba

    def paintEvent(self, ev: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        try:
            p.fillRect(self.rect(), QColor(THEME_COLOURS[self.theme_name]["background"]))  # type: ignore[index]
            if self._rgba is None:
                return
            a = np.ascontiguousarray(self._rgba)
            h, w = a.shape[:2]
            img = QImage(a.data, w, h, 4 * w, QImage.Format.Format_RGBA8888)
            target = self.square()
            p.drawImage(target, img)
            if self.saliency is not None:  # the input as a faint shadow: alpha grows with its ink
                shade = np.zeros((h, w, 4), np.uint8)
                shade[..., 3] = np.rint(self.saliency.ink * 90).astype(np.uint8)
                p.drawImage(target, QImage(shade.data, w, h, 4 * w, QImage.Format.Format_RGBA8888))
        finally:
            p.end()


class KernelTiles(QWidget):
    """Kernels side by side as small signed pictures, one diverging colour scale for all."""

    GAP = 0.25  # of a kernel's width, between kernels

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        self.setObjectName("kernels")
        self.data: Kernels | None = None
        self.theme_name = "light"
        self.set_theme(theme)
        self.setMinimumHeight(60)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(280, 60)

    def set_theme(self, name: str) -> None:
        """The diverging map and background of theme ``name``."""
        self.theme_name = name
        self.cmap = pg.colormap.get(THEME_COLOUR_MAPS[name]["diverging"])  # type: ignore[index]
        self.update()

    def show_kernels(self, k: Kernels | None) -> None:
        """Draw ``k`` (None: empty)."""
        self.data = k
        self.update()

    def tiles(self) -> list[QRectF]:
        """Where each kernel is painted (widget pixels), left to right."""
        k = self.data
        if k is None or not len(k.kernels):
            return []
        n, kh, kw = k.kernels.shape
        side = min((self.width() - 2) / (n + (n - 1) * self.GAP) / kw, (self.height() - 2) / kh)
        w, h = kw * side, kh * side
        left = (self.width() - (n * w + (n - 1) * self.GAP * w)) / 2
        return [QRectF(left + i * w * (1 + self.GAP), (self.height() - h) / 2, w, h) for i in range(n)]

    def paintEvent(self, ev: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        try:
            colours = THEME_COLOURS[self.theme_name]  # type: ignore[index]
            p.fillRect(self.rect(), QColor(colours["background"]))
            k = self.data
            if k is None:
                return
            empty = QColor(colours["empty"]).getRgb()[:3]
            for kern, r in zip(k.kernels, self.tiles(), strict=True):
                a = np.ascontiguousarray(colourize(kern, k.levels, self.cmap, empty))
                img = QImage(a.data, a.shape[1], a.shape[0], 4 * a.shape[1], QImage.Format.Format_RGBA8888)
                p.drawImage(r, img)
                p.setPen(QColor(colours["grid"]))
                p.drawRect(r)
        finally:
            p.end()

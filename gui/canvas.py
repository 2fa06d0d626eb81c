"""A thin Qt widget to draw on: mouse (or pen) positions into ``gui.models.canvas.InkCanvas``.

The grid, the strokes and their thickness are the core's; this widget maps
widget pixels to grid coordinates, forwards press / move / release, and paints
the ink dark on light paper. A graphics tablet's pen works too: its tablet
events are left unaccepted, so Qt delivers them again as mouse events.

``drawn`` is throttled: however fast the mouse moves, it is emitted at most
once per ``interval`` milliseconds while drawing (and once more when the pen
lifts), so whatever listens (the network re-running) cannot stall the window.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QTabletEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from .models.canvas import InkCanvas

__all__ = ["CanvasWidget", "SquareWidget"]

PAPER = QColor("#ffffff")
INK = QColor("#000000")


class SquareWidget(QWidget):
    """A widget its layout keeps as tall as it is wide, painting in a centred square (``square``)."""

    SIDE = 280  # preferred side, in pixels

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(self.SIDE, self.SIDE)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt API
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt API
        return width

    def square(self) -> QRectF:
        """The largest square inside the widget, centred (widget pixels)."""
        side = float(min(self.width(), self.height()))
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)


class CanvasWidget(SquareWidget):
    """A square drawing surface over an ``InkCanvas``.

    Parameters
    ----------
    model : InkCanvas, optional
        The grid to draw into (a new 128×128 one by default).
    interval : int
        Least milliseconds between two ``drawn`` signals while drawing.

    Signals
    -------
    drawn()
        The ink changed (throttled while drawing; at once for a clear, a load or a lifted pen).
    """

    drawn = Signal()

    def __init__(self, model: InkCanvas | None = None, parent: QWidget | None = None,
                 interval: int = 40) -> None:
        super().__init__(parent)
        self.model = model if model is not None else InkCanvas()
        self.setObjectName("canvas")
        self.setToolTip("Draw a digit with the mouse or a pen")
        self.setMinimumSize(160, 160)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._throttle = QTimer(self)
        self._throttle.setSingleShot(True)
        self._throttle.setInterval(interval)
        self._throttle.timeout.connect(self._flush)
        self._pending = False
        self.model.changed.connect(self._ink_changed)

    # ------------------------------------------------------------------ geometry
    def paper(self) -> QRectF:
        """The square the grid is painted in (widget pixels), centred."""
        return self.square()

    def to_grid(self, pos: QPointF) -> tuple[float, float]:
        """Widget pixel ``pos`` as grid coordinates ``(x, y)`` (column, row; cell centres at +0.5)."""
        r = self.paper()
        rows, cols = self.model.shape
        return ((pos.x() - r.left()) / r.width() * cols, (pos.y() - r.top()) / r.height() * rows)

    # ------------------------------------------------------------------ input
    def mousePressEvent(self, ev: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if ev.button() == Qt.MouseButton.LeftButton:
            self.model.begin(*self.to_grid(ev.position()))
            ev.accept()
        else:
            super().mousePressEvent(ev)

    def mouseMoveEvent(self, ev: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self.model.drawing():
            self.model.extend(*self.to_grid(ev.position()))
            ev.accept()
        else:
            super().mouseMoveEvent(ev)

    def mouseReleaseEvent(self, ev: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if ev.button() == Qt.MouseButton.LeftButton and self.model.drawing():
            self.model.extend(*self.to_grid(ev.position()))
            self.model.end()
            self._flush()
            ev.accept()
        else:
            super().mouseReleaseEvent(ev)

    def tabletEvent(self, ev: QTabletEvent) -> None:  # noqa: N802 - Qt API
        ev.ignore()  # Qt then sends the pen as mouse events

    # ------------------------------------------------------------------ commands
    def clear(self) -> None:
        """Blank paper (``drawn`` at once)."""
        self.model.clear()
        self._flush()

    def load(self, picture: np.ndarray) -> None:
        """Show ``picture (h, w)`` (ink 0-1) as the drawing (``drawn`` at once)."""
        self.model.load(picture)
        self._flush()

    # ------------------------------------------------------------------ throttling
    def _ink_changed(self) -> None:
        self.update()
        self._pending = True
        if self.model.drawing() and not self._throttle.isActive():
            self._throttle.start()

    def _flush(self) -> None:
        self._throttle.stop()
        if self._pending:
            self._pending = False
            self.drawn.emit()

    # ------------------------------------------------------------------ painting
    def image(self) -> QImage:
        """The ink as a grey picture (ink dark on white paper), one pixel per cell."""
        grey = np.ascontiguousarray(255 - np.rint(self.model.picture * 255).astype(np.uint8))
        rows, cols = grey.shape
        return QImage(grey.data, cols, rows, cols, QImage.Format.Format_Grayscale8).copy()

    def paintEvent(self, ev: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        try:
            p.fillRect(self.rect(), self.palette().window())
            r = self.paper()
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            p.drawImage(r, self.image())
            pen = QPen(QColor("#808080"), 1)
            p.setPen(pen)
            p.drawRect(r.adjusted(0, 0, -1, -1))
        finally:
            p.end()

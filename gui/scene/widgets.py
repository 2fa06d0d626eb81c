"""The stage's frame in plain Qt: a view whose scene is one grid layout of text rows around a box.

These are the few pieces of pyqtgraph the stage used (``GraphicsLayoutWidget``,
``ViewBox``, ``LabelItem``, ``TextItem``), written with their names and the
calls the stage makes, so the main window starts without importing pyqtgraph
(about half a second of its cold start). The pipeline window still uses
pyqtgraph, imported when it first opens.

Coordinates: the scene is the viewport, one unit per pixel. A ``Box`` shows a
rectangle of *view* coordinates (one unit per grid cell, y pointing down)
scaled to fit, centred, with the aspect ratio kept; items added to it live in
view coordinates.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, QRectF, QSizeF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPolygonF, QTransform
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsGridLayout,
    QGraphicsItem,
    QGraphicsLayoutItem,
    QGraphicsObject,
    QGraphicsScene,
    QGraphicsSceneMouseEvent,
    QGraphicsTextItem,
    QGraphicsView,
    QGraphicsWidget,
    QSizePolicy,
    QWidget,
)

__all__ = ["Box", "Click", "GridBox", "Label", "LayoutView", "StageScene", "Title"]

_NONE = 16777215.0  # Qt's "no maximum"


class _Group(QGraphicsObject):
    """The box's child that carries the view-to-box transform; it draws nothing."""

    def __init__(self, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return QRectF()

    def paint(self, p: QPainter, *args: object) -> None:
        return None


class Title(QGraphicsObject):
    """Text of a fixed pixel size at a point of a ``Box``'s view, anchored by a fraction of its size.

    ``anchor=(0, 1)`` puts the text's bottom-left corner on the point. ``textItem`` is the
    ``QGraphicsTextItem`` drawing it.
    """

    def __init__(self, color: str = "#000000", anchor: tuple[float, float] = (0.0, 0.0)) -> None:
        super().__init__()
        self.anchor = anchor
        self.textItem = QGraphicsTextItem(self)
        self.setColor(color)

    def setText(self, text: str) -> None:  # noqa: N802 - pyqtgraph's name
        if text != self.textItem.toPlainText():
            self.textItem.setPlainText(text)
            self._place()

    def setColor(self, color: str) -> None:  # noqa: N802 - pyqtgraph's name
        self.textItem.setDefaultTextColor(QColor(color))

    def setFont(self, font: object) -> None:  # noqa: N802 - pyqtgraph's name
        self.textItem.setFont(font)  # type: ignore[arg-type]
        self._place()

    def setTextWidth(self, width: float) -> None:  # noqa: N802 - pyqtgraph's name
        self.textItem.setTextWidth(width)
        self._place()

    def _place(self) -> None:
        self.prepareGeometryChange()
        r = self.textItem.boundingRect()
        self.textItem.setPos(-r.width() * self.anchor[0], -r.height() * self.anchor[1])

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self.textItem.mapRectToParent(self.textItem.boundingRect())

    def paint(self, p: QPainter, *args: object) -> None:
        return None


class Box(QGraphicsWidget):
    """A rectangle of view coordinates fitted into the widget, centred, aspect ratio kept.

    Signals
    -------
    sigResized(object)
        The box changed size (the view was fitted again).
    """

    sigResized = Signal(object)  # noqa: N815 - pyqtgraph's name

    def __init__(self) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape)
        self.childGroup = _Group(self)
        self._target = QRectF(0, 0, 1, 1)
        self._scale = 1.0
        self._titles: list[Title] = []

    def addItem(self, item: QGraphicsItem) -> None:  # noqa: N802 - pyqtgraph's name
        """Put ``item`` in the view (a ``Title`` keeps its pixel size)."""
        item.setParentItem(self.childGroup)
        if isinstance(item, Title):
            self._titles.append(item)
            item.setTransform(QTransform.fromScale(1 / self._scale, 1 / self._scale))

    def setRange(self, rect: QRectF, padding: float = 0.0) -> None:  # noqa: N802 - pyqtgraph's name
        """Show ``rect`` (view coordinates), as large as fits, centred."""
        self._target = QRectF(rect).adjusted(-rect.width() * padding, -rect.height() * padding,
                                             rect.width() * padding, rect.height() * padding)
        self._fit()

    def _fit(self) -> None:
        r, w, h = self._target, self.size().width(), self.size().height()
        if r.width() <= 0 or r.height() <= 0 or w <= 0 or h <= 0:
            return
        s = min(w / r.width(), h / r.height())
        c = r.center()
        self.childGroup.setTransform(QTransform(s, 0.0, 0.0, s, w / 2 - s * c.x(), h / 2 - s * c.y()))
        if s != self._scale:
            self._scale = s
            for t in self._titles:
                t.setTransform(QTransform.fromScale(1 / s, 1 / s))

    def width(self) -> float:
        return float(self.size().width())

    def height(self) -> float:
        return float(self.size().height())

    def viewPixelSize(self) -> tuple[float, float]:  # noqa: N802 - pyqtgraph's name
        """View units per screen pixel, across and down."""
        return 1 / self._scale, 1 / self._scale

    def mapSceneToView(self, p: QPointF) -> QPointF:  # noqa: N802 - pyqtgraph's name
        return self.childGroup.mapFromScene(p)

    def mapViewToScene(self, p: QPointF | QRectF) -> QPointF | QPolygonF:  # noqa: N802 - pyqtgraph's name
        return self.childGroup.mapToScene(p)

    def resizeEvent(self, ev: object) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(ev)  # type: ignore[arg-type]
        self._fit()
        self.sigResized.emit(self)


class Label(QGraphicsWidget):
    """A line (or a wrapped paragraph) of HTML text in the layout, centred in its cell.

    ``item`` is its ``QGraphicsTextItem``; ``opts`` holds its "color" and "size" (e.g. "14pt");
    ``text`` is the last text set.
    """

    def __init__(self, text: str = "", **opts: str) -> None:
        super().__init__()
        self.item = QGraphicsTextItem(self)
        self.opts: dict[str, str] = {"color": "#000000", **opts}
        self.text = ""
        self._hint = QSizeF(0, 0)
        self.setText(text)

    def setText(self, text: str, **opts: str) -> None:  # noqa: N802 - pyqtgraph's name
        """Show ``text`` (HTML) with the colour and size in ``opts`` (kept for later texts)."""
        self.text = text
        self.opts.update(opts)
        style = f"color: {QColor(self.opts['color']).name(QColor.NameFormat.HexArgb)}"
        if "size" in self.opts:
            style += f"; font-size: {self.opts['size']}"
        self.item.setHtml(f"<span style='{style}'>{text}</span>")
        self.updateMin()
        self.resizeEvent(None)

    def updateMin(self) -> None:  # noqa: N802 - pyqtgraph's name
        """Make the text's size the label's minimum and preferred size."""
        r = self.item.mapRectToParent(self.item.boundingRect())
        self._hint = QSizeF(r.width(), r.height())
        self.setMinimumWidth(r.width())
        self.setMinimumHeight(r.height())
        self.updateGeometry()

    def sizeHint(self, which: Qt.SizeHint, constraint: QSizeF | None = None) -> QSizeF:  # noqa: N802 - Qt API
        if which in (Qt.SizeHint.MinimumSize, Qt.SizeHint.PreferredSize):
            return QSizeF(self._hint)
        if which == Qt.SizeHint.MaximumSize:
            return QSizeF(-1, -1)
        return QSizeF(0, 0)

    def resizeEvent(self, ev: object) -> None:  # noqa: N802 - Qt API
        """Centre the text in the label."""
        r = self.item.mapRectToParent(self.item.boundingRect())
        here = self.rect()
        self.item.setPos(here.center().x() - r.width() / 2, here.center().y() - r.height() / 2)
        self.updateMin()


class GridBox(QGraphicsWidget):
    """A widget laid out by a ``QGraphicsGridLayout`` (``layout``); items go in by row and column."""

    def __init__(self, parent: QGraphicsItem | None = None) -> None:
        super().__init__(parent)
        self.layout = QGraphicsGridLayout()  # type: ignore[assignment]
        self.setLayout(self.layout)  # type: ignore[arg-type]
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def setContentsMargins(self, left: float, top: float, right: float, bottom: float) -> None:  # noqa: N802
        """The layout's margins (the widget's own stay 0)."""
        self.layout.setContentsMargins(left, top, right, bottom)  # type: ignore[attr-defined]

    def addItem(self, item: QGraphicsLayoutItem, row: int, col: int, rowspan: int = 1,  # noqa: N802
                colspan: int = 1) -> None:
        """Put ``item`` in cell ``(row, col)``, spanning ``rowspan`` × ``colspan`` cells."""
        self.layout.addItem(item, row, col, rowspan, colspan)  # type: ignore[attr-defined]

    def removeItem(self, item: QGraphicsLayoutItem) -> None:  # noqa: N802 - pyqtgraph's name
        """Take ``item`` out of the layout (it stays alive, to be added elsewhere)."""
        self.layout.removeItem(item)  # type: ignore[attr-defined]

    def addLayout(self, row: int, col: int) -> GridBox:  # noqa: N802 - pyqtgraph's name
        """A new ``GridBox`` in cell ``(row, col)``."""
        inner = GridBox()
        self.addItem(inner, row, col)
        return inner


class Click:
    """A finished mouse click in the scene: where, and whether it was the second of a double click."""

    def __init__(self, pos: QPointF, double: bool, button: Qt.MouseButton) -> None:
        self._pos, self._double, self._button = QPointF(pos), double, button

    def scenePos(self) -> QPointF:  # noqa: N802 - Qt's name
        return self._pos

    def double(self) -> bool:
        return self._double

    def button(self) -> Qt.MouseButton:
        return self._button


class StageScene(QGraphicsScene):
    """A scene that reports mouse moves and finished clicks (on the release; a double click on the
    release that ends it).

    Signals
    -------
    sigMouseMoved(QPointF)
        Scene position of the mouse.
    sigMouseClicked(Click)
    """

    sigMouseMoved = Signal(object)  # noqa: N815 - pyqtgraph's name
    sigMouseClicked = Signal(object)  # noqa: N815 - pyqtgraph's name

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._double = False

    def mouseMoveEvent(self, ev: QGraphicsSceneMouseEvent) -> None:  # noqa: N802 - Qt API
        self.sigMouseMoved.emit(ev.scenePos())
        super().mouseMoveEvent(ev)

    def mousePressEvent(self, ev: QGraphicsSceneMouseEvent) -> None:  # noqa: N802 - Qt API
        self._double = False
        super().mousePressEvent(ev)

    def mouseDoubleClickEvent(self, ev: QGraphicsSceneMouseEvent) -> None:  # noqa: N802 - Qt API
        self._double = True
        super().mouseDoubleClickEvent(ev)

    def mouseReleaseEvent(self, ev: QGraphicsSceneMouseEvent) -> None:  # noqa: N802 - Qt API
        double, self._double = self._double, False
        self.sigMouseClicked.emit(Click(ev.scenePos(), double, ev.button()))
        super().mouseReleaseEvent(ev)


class LayoutView(QGraphicsView):
    """A view showing one ``GridBox`` (``ci``) that always fills it, at one scene unit per pixel."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.closed = False
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.sceneObj = StageScene(self)
        self.setScene(self.sceneObj)
        self.ci = GridBox()
        self.sceneObj.addItem(self.ci)

    def setBackground(self, color: str) -> None:  # noqa: N802 - pyqtgraph's name
        self.setBackgroundBrush(QColor(color))

    def addLabel(self, text: str = "", row: int = 0, col: int = 0, colspan: int = 1,  # noqa: N802
                 **opts: str) -> Label:
        """A ``Label`` in cell ``(row, col)`` of ``ci``."""
        label = Label(text, **opts)
        self.ci.addItem(label, row, col, 1, colspan)
        return label

    def addViewBox(self, row: int = 0, col: int = 0) -> Box:  # noqa: N802 - pyqtgraph's name
        """A ``Box`` in cell ``(row, col)`` of ``ci``."""
        box = Box()
        self.ci.addItem(box, row, col)
        return box

    def resizeEvent(self, ev: object) -> None:  # noqa: N802 - Qt API
        if self.closed:
            return
        rect = QRectF(0, 0, self.size().width(), self.size().height())
        self.setSceneRect(rect)
        self.ci.setGeometry(rect)

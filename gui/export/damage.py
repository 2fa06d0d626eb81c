"""Export pictures painted where the stage changed, over the previous picture.

Consecutive steps differ in a few cells, a mark and a line of text, yet a whole
1280×720 picture took longer to paint than the screen's step. The stage's
items say when they change (``QGraphicsItem.update``, ``prepareGeometryChange``;
a tile only the rows of cells the step reached: ``gui.scene.placing.tile_damage``).
While a ``Repainter`` listens to the scene's ``changed`` signal, Qt hands those
scene rectangles over (each changed item's old and new place, Qt's own path for
listeners) instead of sending them to the view; the next picture is the previous
one with that region filled and painted again, clipped to it, the same calls as a
whole picture makes.

A whole picture is painted instead for the first, when the stage's box moved or
was fitted again (its children move without saying where they were), when Qt
asks for everything, and at a scale that is not a whole number (a clip edge would
fall inside a device pixel). Items whose pixels depend on where a clip starts (a
legend's gradient, the stage view's planes, drawn with scaling) are painted whole
whenever the region touches them. Tests hold every picture to a whole repaint.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from PySide6.QtCore import SIGNAL, SLOT, QCoreApplication, QEvent, QObject, QRect, QRectF
from PySide6.QtGui import QImage, QPainter, QRegion
from PySide6.QtWidgets import QWidget

from ..scene import SceneRenderer

#: Pixels added around every changed rectangle: antialiased edges, and thick pens that reach past an item's
#: bounds (a cell mark's outline at small cells, the stage view's plane edges; the view adds 2 on screen).
MARGIN = 6
_CHANGED = SIGNAL("changed(QList<QRectF>)")
_UPDATE_SCENE = SLOT("updateScene(QList<QRectF>)")


class Repainter:
    """Pictures of what ``renderer`` shows, each painted over the previous one where the scene changed.

    Parameters
    ----------
    renderer : SceneRenderer
        The offscreen stage (its scene reports changes while this listens: ``close`` stops it).
    scale : float
        Pixels per point, as ``gui.export.paint.grab``.

    Attributes
    ----------
    whole, partial : int
        Pictures painted whole and in part so far.
    """

    def __init__(self, renderer: SceneRenderer, scale: float = 1.0) -> None:
        self.renderer, self.scale = renderer, scale
        self.whole = self.partial = 0
        self._rects: list[QRectF] = []
        self._previous: QImage | None = None
        self._key: tuple[object, ...] | None = None
        self._scene = renderer.scene()
        self._quieted = False
        self._scene.changed.connect(self._changed)

    def _changed(self, rects: Sequence[QRectF]) -> None:
        self._rects.extend(rects)

    def _quiet_view(self) -> None:
        """Take the view off the scene's ``changed`` signal, which Qt connects it to once anyone listens:
        it would paint the offscreen widget itself (nobody sees it) at every picture."""
        if not self._quieted and self._scene.receivers(_CHANGED) > 1:
            self._quieted = QObject.disconnect(self._scene, _CHANGED, self.renderer, _UPDATE_SCENE)

    def close(self) -> None:
        """Stop listening (the scene sends its changes to the view again)."""
        self._scene.changed.disconnect(self._changed)
        self._previous = None

    def picture(self) -> QImage:
        """The renderer's picture now (a new image: the previous one may still be encoded elsewhere)."""
        for _ in range(2):  # the scene's queued passes: find the dirty items, then hand their rectangles
            QCoreApplication.sendPostedEvents(self._scene, QEvent.Type.MetaCall)
            self._quiet_view()
        rects, self._rects = self._rects, []
        key = self._layout()
        boxes = None if key != self._key or self._previous is None else self._region(rects)
        self._key = key
        if boxes is None:
            from .paint import grab

            self.whole += 1
            self._previous = grab(self.renderer, self.scale)
            return self._previous
        img = self._previous.copy()
        self._paint(img, boxes)
        self.partial += 1
        self._previous = img
        return img

    def _layout(self) -> tuple[object, ...]:
        """What moves every item without each saying so: a change repaints the whole picture."""
        r = self.renderer
        return (r.width(), r.height(), self.scale, r.view.sceneBoundingRect(),
                r.view.childGroup.sceneTransform(), r.backgroundBrush().color().rgba())

    def _region(self, rects: list[QRectF]) -> list[QRect] | None:
        """Widget rectangles to paint again for ``rects`` (scene units; ``merged``), or None for the
        whole picture."""
        r = self.renderer
        bounds = QRect(0, 0, r.width(), r.height())
        if (not float(self.scale).is_integer() or r.view.sceneBoundingRect().isEmpty()
                or not QRectF(bounds).contains(r.ci.sceneBoundingRect())):
            # A clip edge inside a pixel; a stage squeezed out of its box, or text pushing the layout
            # past the picture's edge (items then paint beyond their bounds, or Qt clips them otherwise
            # in a part than in the whole).
            return None
        everything = self._scene.sceneRect()
        if any(rect.isNull() or rect == everything for rect in rects):
            return None  # Qt asked for everything
        boxes = merged([self._pixels(rect) for rect in rects])
        whole = [self._pixels(item.sceneBoundingRect()) for item in (*r.legends.values(), r.stage)
                 if item.isVisible()]
        while True:  # an item painted whole (or a joined rectangle) may reach another
            more = [w for w in whole
                    if any(w.intersects(b) for b in boxes) and not any(b.contains(w) for b in boxes)]
            if not more:
                break
            boxes = merged(boxes + more)
        return [b.intersected(bounds) for b in boxes if b.intersects(bounds)]

    def _pixels(self, rect: QRectF) -> QRect:
        """Scene rectangle ``rect`` as the widget pixels it covers, with ``MARGIN`` around."""
        return (self.renderer.mapFromScene(rect).boundingRect()
                .adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN))

    def _paint(self, img: QImage, boxes: list[QRect]) -> None:
        """Fill ``boxes`` of ``img`` and paint the stage there, as ``grab`` paints the whole picture.

        Each rectangle is painted on its own: an item that clips itself to a rectangle inside a clip of
        one rectangle gets the very pixels of a whole picture (inside a clip of several, Qt cuts the
        edges otherwise).
        """
        r = self.renderer
        flags = (QWidget.RenderFlag.DrawWindowBackground | QWidget.RenderFlag.DrawChildren
                 | QWidget.RenderFlag.IgnoreMask)
        colour = r.backgroundBrush().color()
        img.setDevicePixelRatio(self.scale)
        try:
            for rect in boxes:
                p = QPainter(img)
                try:
                    p.fillRect(rect, colour)
                finally:
                    p.end()
                QWidget.render(r, img, rect.topLeft(), QRegion(rect), flags)
        finally:
            img.setDevicePixelRatio(1.0)


def merged(rects: list[QRect]) -> list[QRect]:
    """Rectangles covering ``rects``, each pair that touches or overlaps joined into their bounding
    rectangle until none do (fewer, larger paints)."""
    joined = True
    while joined:
        joined = False
        out: list[QRect] = []
        for rc in rects:
            for k, o in enumerate(out):
                if o.adjusted(-1, -1, 1, 1).intersects(rc):
                    out[k] = o.united(rc)
                    joined = True
                    break
            else:
                out.append(rc)
        rects = out
    return rects


@contextmanager
def repainting(renderer: SceneRenderer, scale: float = 1.0) -> Iterator[Repainter]:
    """A ``Repainter`` of ``renderer`` that stops listening on the way out."""
    rp = Repainter(renderer, scale)
    try:
        yield rp
    finally:
        rp.close()


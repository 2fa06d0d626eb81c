"""The stage view's words: each panel's title (over the upper plane and the boxes, under the lower
plane) and the name under each kernel box. Exactly the frame's titles; placed by the layout."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter

from ..models.choices import PanelName
from ..models.frame import Frame
from .projection import Plane, StageLayout
from .stage_plane import EDGE
from .title_fit import MAX_TITLE_LINES, TITLE_PT

__all__ = ["MIN_TITLE_PX", "paint_index", "paint_titles", "title_room_px"]

#: A stage title shrinks to this type size (pixels) before it is cut.
MIN_TITLE_PX = 13


def title_room_px(zoom: float) -> float:
    """Pixels a one-line title takes over the upper plane or under the lower one, its gap included."""
    font = QFont()
    font.setBold(True)
    font.setPixelSize(_title_px(zoom))
    return QFontMetricsF(font).lineSpacing() + 8.0


def _title_px(zoom: float) -> int:
    return max(10, round(TITLE_PT * 1.3 * zoom))


def paint_index(p: QPainter, planes: tuple[Plane, ...], k: int, colour: str, active: bool,
                zoom: float, text_colour: str = "#000000") -> QRectF:
    """The kernel's name, "W[k]", under a box's near-left corner, below its lowest slab's edge (clear of
    every face: it never covers a weight): a swatch of the kernel's ``colour`` and the name in
    ``text_colour`` (a yellow or orange name on white was hard to read); the kernel at work's larger and
    bold. Where it went, in device pixels."""
    low = max(planes, key=lambda pl: pl.y0)  # the lowest slab: the front one, unless spread apart
    x, y = low.point(low.rows, 0)
    at = p.transform().map(QPointF(x, y + EDGE * low.scale))
    p.save()
    p.resetTransform()
    font = QFont()
    size = int((16 if active else 14) * zoom)
    font.setPixelSize(size)
    font.setBold(active)
    p.setFont(font)
    text = f"W[{k}]"
    swatch = QRectF(at.x(), at.y() + 2 + size * 0.25, size * 0.7, size * 0.7)
    p.fillRect(swatch, QColor(colour))
    p.setPen(QColor(text_colour))
    rect = QRectF(swatch.right() + size * 0.3, at.y() + 2, QFontMetricsF(font).horizontalAdvance(text) + 4,
                  size * 1.3)
    p.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, text)
    p.restore()
    return QRectF(swatch.topLeft(), rect.bottomRight())


def paint_titles(p: QPainter, f: Frame, lay: StageLayout, colour: str,
                 zoom: float) -> dict[PanelName, tuple[str, QRectF]]:
    """Each panel's title: over the upper plane and the boxes, under the lower plane. A title too wide
    for its room shrinks on one line to ``MIN_TITLE_PX``, then wraps at the spaces onto
    ``MAX_TITLE_LINES`` lines (from its full size down); only then is it cut ("…"). What each title
    shows and where it went, in device pixels."""
    tr = p.transform()
    base = _title_px(zoom)
    lower_left = tr.map(QPointF(lay.planes[lay.lower][0].x0, 0)).x()
    items: list[tuple[PanelName, str, QPointF, bool, float]] = []
    for name, planes in lay.planes.items():
        panel = f.panel(name)
        if panel is None or not planes:
            continue
        x, y = planes[panel.front].point(planes[0].rows, 0)
        if name == lay.lower:  # under the lowest slab (the front one, unless spread apart)
            x, y = max(planes, key=lambda pl: pl.y0).point(planes[0].rows, 0)
            at = tr.map(QPointF(x, y + EDGE * planes[0].scale))
            items.append((name, panel.title, at, False, 4000.0))  # nothing beside it
            continue
        first = lay.boxes[0] if name == "kernel" and lay.boxes else planes
        at = tr.map(QPointF(x, min(pl.y0 for pl in first)))
        # A box's title keeps clear of the column right of it; the upper plane's, of the edge.
        nxt = [tr.map(QPointF(q[0].x0, 0)).x() for n, q in lay.planes.items()
               if n in lay.side and q[0].x0 > planes[0].x0]
        room = (min(nxt) if nxt else lower_left) - at.x() - 12 if name in lay.side else 4000.0
        items.append((name, panel.title, at, True, room))
    p.save()
    p.resetTransform()
    p.setPen(QColor(colour))
    out: dict[PanelName, tuple[str, QRectF]] = {}
    for name, text, at, above, room in items:
        width = max(room, 40.0)
        font, shown, box = _fit(text, width, base)
        p.setFont(font)
        rect = QRectF(at.x(), at.y() - 4 - box.height() if above else at.y() + 4, box.width() + 2,
                      box.height())
        flags = Qt.AlignmentFlag.AlignLeft | (Qt.AlignmentFlag.AlignBottom if above
                                              else Qt.AlignmentFlag.AlignTop) | Qt.TextFlag.TextWordWrap
        p.drawText(rect, flags, shown)
        out[name] = (shown, rect)
    p.restore()
    return out


def _fit(text: str, width: float, base: int) -> tuple[QFont, str, QRectF]:
    """The font, the text and its box for a title ``width`` pixels wide at most (see ``paint_titles``)."""
    font = QFont()
    font.setBold(True)
    flags = int(Qt.TextFlag.TextWordWrap)
    sizes = range(base, min(base, MIN_TITLE_PX) - 1, -1)
    for size in sizes:  # one line first: a smaller type before a broken title
        font.setPixelSize(size)
        box = QFontMetricsF(font).boundingRect(QRectF(0, 0, 1e5, 1e5), 0, text)
        if box.width() <= width + 0.5:
            return font, text, box
    for size in sizes:
        font.setPixelSize(size)
        metrics = QFontMetricsF(font)
        box = metrics.boundingRect(QRectF(0, 0, width, 1e5), flags, text)
        if box.width() <= width + 0.5 and box.height() < (MAX_TITLE_LINES + 0.5) * metrics.lineSpacing():
            return font, text, box
    metrics = QFontMetricsF(font)
    shown = metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)
    return font, shown, metrics.boundingRect(QRectF(0, 0, width, 1e5), flags, shown)

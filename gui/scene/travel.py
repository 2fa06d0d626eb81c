"""Products that travel: the painter side of ``gui.models.motion``.

The core says what travels (a cell, a text, a slot of the arithmetic line and
where its text starts); this layer only finds those two places on the screen
and interpolates between them along ``motion.moment``'s schedule. While the
products fly, the arithmetic line reads only as far as they have arrived. In
the flat view a cell is found on its tile; in the stage view on its plane's
face (the stage painter's projection): a product leaves the input cell's face
on the lower plane and the sum lands on the output cell's face above.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPolygonF,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPolygonItem,
    QGraphicsTextItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from ..models.choices import PanelName
from ..models.frame import Frame
from ..models.motion import Motion, Travel, moment
from .marks import OriginOf
from .projection import Plane
from .widgets import Box, Label

#: Where a ``Travel``'s cell is in scene coordinates (its centre), or None when it is not shown.
CellAt = Callable[[Travel], QPointF | None]
#: The stage view's plane of grid ``grid`` of a panel, or None (``StageItem.plane``).
PlaneOf = Callable[[PanelName, int], Plane | None]
_SPACES = re.compile(r" {2,}")


class Chip(QGraphicsItem):
    """One travelling text ("2·(−1)") on a light box, centred on its position (scene coordinates)."""

    def __init__(self) -> None:
        super().__init__()
        self.text = ""
        self.font = QFont()
        self.fill = QColor("#fff4c2")
        self.edge = QColor("#d08a00")
        self.ink = QColor("#000000")
        self._rect = QRectF()

    def set_text(self, text: str, font: QFont) -> None:
        """Show ``text`` in ``font`` (the arithmetic line's)."""
        if (text, font) == (self.text, self.font):
            return
        self.prepareGeometryChange()
        self.text, self.font = text, QFont(font)
        self.font.setBold(True)
        fm = QFontMetricsF(self.font)
        w, h = fm.horizontalAdvance(text) + 10.0, fm.height() + 4.0
        self._rect = QRectF(-w / 2, -h / 2, w, h)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self._rect.adjusted(-2, -2, 2, 2)

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem | None = None,
              widget: QWidget | None = None) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pen = p.pen()
        pen.setColor(self.edge)
        pen.setWidthF(2.0)
        p.setPen(pen)
        p.setBrush(self.fill)
        p.drawRoundedRect(self._rect, 5.0, 5.0)
        p.setFont(self.font)
        p.setPen(self.ink)
        p.drawText(self._rect, Qt.AlignmentFlag.AlignCenter, self.text)


class TravelLayer:
    """Moves a ``Chip`` from cell to line (a product) or line to cell (the sum) during a glide.

    Parameters
    ----------
    view : Box
        The stage's view box (cells are in its coordinates).
    line : Label
        The arithmetic label.
    theme : dict of str to str
        The view's (shared) theme colours: the output cell waiting for its sum is drawn "empty".
    """

    def __init__(self, view: Box, line: Label, theme: dict[str, str]) -> None:
        self.view, self.line, self.theme = view, line, theme
        self.chip = Chip()
        self.chip.setZValue(1000)
        self.cover = QGraphicsPolygonItem()  # over the output cell until the sum lands in it
        self.cover.setZValue(999)
        scene = view.scene()
        for item in (self.chip, self.cover):
            item.setVisible(False)
            if scene is not None:
                scene.addItem(item)
        self.enabled = False  # the setting, as the window resolves it (on, or auto while presenting)
        self.active = False  # this glide shows the motion (playback may skip it at high rates)
        self.motion: Motion | None = None
        self._text = ""
        self._origin: OriginOf | None = None
        self._plane: PlaneOf | None = None  # the stage view's planes (None: the flat view's tiles)
        self._shown_until = -1
        self._brush: QBrush | None = None

    # ------------------------------------------------------------------ state
    def set_enabled(self, on: bool) -> None:
        """Whether products travel between steps (the setting, as the window resolves it)."""
        self.enabled = bool(on)
        if not on:
            self.start(False)

    @property
    def pieces(self) -> int:
        """Pieces that travel in the glide to the frame shown (0: none, or motion is off)."""
        return self.motion.pieces if self.motion is not None and self.enabled else 0

    def show(self, f: Frame, origin_of: OriginOf, plane_of: PlaneOf | None = None) -> None:
        """A new frame: the line reads whole; nothing flies until ``start``. Cells are found on the tiles
        (``origin_of``) or, in the stage view, on the planes (``plane_of``)."""
        self.restore()
        self.motion, self._text, self._origin = f.motion, f.arithmetic, origin_of
        self._plane = plane_of if f.view == "stage" else None
        self.active = False

    def start(self, active: bool) -> None:
        """A glide to the frame shown begins: with the travelling products (``active``, when enabled and
        the frame has any) or with the window's glide only."""
        self.restore()
        self.active = bool(active and self.enabled and self.motion is not None)

    def glide(self, t: float) -> float:
        """Place the motion at glide fraction ``t``; return the fraction the window marks glide to."""
        m = self.motion
        if not self.active or m is None or t >= 1.0:
            if t >= 1.0:
                self.restore()
                self.active = False
            return t
        now = moment(t, m.pieces)
        self._reveal(m, m.shown_until(now, len(self._text)))
        if 0 <= now.moving < m.pieces:
            self._fly(m.travels[now.moving], now.flight)
        else:
            self.chip.setVisible(False)
        last = m.travels[-1]
        self._cover(last if last.kind == "sum" and now.moving < m.pieces else None)
        return now.window

    def restore(self) -> None:
        """The whole line reads again and the chip is hidden."""
        self.chip.setVisible(False)
        self.cover.setVisible(False)
        if self._shown_until >= 0 and self.motion is not None:
            self._format(self.motion.hidden_from, len(self._text), self._brush)
        self._shown_until = -1

    # ------------------------------------------------------------------ geometry
    def grid_point(self, tr: Travel, r: float, c: float) -> QPointF | None:
        """The scene point at grid coordinate ``(r, c)`` (corners at whole numbers) of ``tr``'s grid:
        on its tile, or on its plane in the stage view; None when it is not shown."""
        if self._plane is not None:
            plane = self._plane(tr.panel, tr.grid)
            return None if plane is None else self.view.mapViewToScene(QPointF(*plane.point(r, c)))
        o = None if self._origin is None else self._origin(tr.panel, tr.grid)
        if o is None:
            return None
        x0, y0, s = o  # the centre of cell (0, 0)
        return self.view.mapViewToScene(QPointF(x0 + (c - 0.5) * s, y0 + (r - 0.5) * s))

    def cell_point(self, tr: Travel) -> QPointF | None:
        """The scene point of the centre of ``tr``'s cell, or None when its tile (plane) is not shown."""
        return self.grid_point(tr, tr.cell[0] + 0.5, tr.cell[1] + 0.5)

    def slot_point(self, tr: Travel) -> QPointF | None:
        """The scene point of the centre of ``tr``'s text in the arithmetic line, or None."""
        item = self.line.item
        a, b = self._doc_pos(tr.start), self._doc_pos(tr.end)
        p0, p1 = _char_point(item, a), _char_point(item, b)
        if p0 is None or p1 is None:
            return None
        if abs(p0.y() - p1.y()) > 1.0:  # the text wraps: aim at its start
            p1 = p0
        return item.mapToScene(QPointF((p0.x() + p1.x()) / 2, p0.y()))

    def _cover(self, tr: Travel | None) -> None:
        """Hide the value of ``tr``'s cell, on its tile or its face on the plane (None: uncover)."""
        inset = 0.06
        corners = [] if tr is None else [
            self.grid_point(tr, tr.cell[0] + a, tr.cell[1] + b)
            for a, b in ((inset, inset), (inset, 1 - inset), (1 - inset, 1 - inset), (1 - inset, inset))]
        if tr is None or not corners or any(q is None for q in corners):
            self.cover.setVisible(False)
            return
        self.cover.setPolygon(QPolygonF([q for q in corners if q is not None]))
        self.cover.setBrush(QColor(self.theme["empty"]))
        self.cover.setPen(Qt.PenStyle.NoPen)
        self.cover.setVisible(True)

    def _fly(self, tr: Travel, flight: float) -> None:
        cell, slot = self.cell_point(tr), self.slot_point(tr)
        if cell is None or slot is None:
            self.chip.setVisible(False)
            return
        a, b = (cell, slot) if tr.into_line else (slot, cell)
        s = flight * flight * (3 - 2 * flight)
        self.chip.set_text(tr.text, self._line_font(tr.start))
        self.chip.setPos(QPointF(a.x() + (b.x() - a.x()) * s, a.y() + (b.y() - a.y()) * s))
        self.chip.setVisible(True)

    # ------------------------------------------------------------------ the line's text
    def _doc_pos(self, i: int) -> int:
        """Offset ``i`` of the frame's arithmetic in the label's document (HTML folds runs of spaces)."""
        return len(_SPACES.sub(" ", self._text[:i]))

    def _line_font(self, i: int) -> QFont:
        cur = QTextCursor(self.line.item.document())
        cur.setPosition(self._doc_pos(i) + 1)
        return cur.charFormat().font()

    def _reveal(self, m: Motion, until: int) -> None:
        """The line reads up to character ``until``; the rest, from ``hidden_from``, is kept clear."""
        if until == self._shown_until:
            return
        if self._shown_until < 0:
            cur = QTextCursor(self.line.item.document())
            cur.setPosition(self._doc_pos(m.hidden_from) + 1)
            self._brush = cur.charFormat().foreground()
        self._shown_until = until
        self._format(m.hidden_from, until, self._brush)
        self._format(until, len(self._text), QBrush(QColor(0, 0, 0, 0)))

    def _format(self, a: int, b: int, brush: QBrush | None) -> None:
        doc = self.line.item.document()
        lo, hi = self._doc_pos(a), min(self._doc_pos(b), doc.characterCount() - 1)
        if brush is None or hi <= lo:
            return
        cur = QTextCursor(doc)
        cur.setPosition(lo)
        cur.setPosition(hi, QTextCursor.MoveMode.KeepAnchor)
        fmt = QTextCharFormat()
        fmt.setForeground(brush)
        cur.mergeCharFormat(fmt)


def _char_point(item: QGraphicsTextItem, pos: int) -> QPointF | None:
    """Item coordinates of the left of character ``pos`` of ``item``'s text, halfway up its line."""
    doc = item.document()
    block = doc.findBlock(pos)
    layout = block.layout() if block.isValid() else None
    if layout is None or layout.lineCount() == 0:
        return None
    rel = pos - block.position()
    line = layout.lineForTextPosition(rel)
    if not line.isValid():
        return None
    x = line.cursorToX(rel)
    x = x[0] if isinstance(x, tuple) else x
    box = doc.documentLayout().blockBoundingRect(block)
    return QPointF(box.x() + float(x), box.y() + line.y() + line.height() / 2)

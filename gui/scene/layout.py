"""Where every panel, tile, title and legend of a frame goes (scene units), and titles that fit.

Row 0 holds the tensors left to right by slot (input, kernel, output,
target); row 1 the gradients, each under the slot of its tensor. A stacked
panel draws the channels behind its front tile, each shifted up-right; an
expanded one lays them out ``columns`` to a row.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFont, QFontMetricsF

from ..models.choices import PanelName
from ..models.frame import Frame, Panel
from .grid import GridItem

GAP = 2.5  # cells between panels
WIDE_GAP = GAP + 1.5  # between the columns of a two-row (backward) stage: room for the flow lines
STACK_SHIFT = 0.35  # cells each channel behind the front one is shifted up-right
ROW_GAP = 3.2  # cells between the bottom of row 0 and the top of row 1


@dataclass(frozen=True)
class TilePlace:
    """One tile: cell (0, 0) centred on ``origin``, at depth ``z``; ``front`` tiles show their text."""

    origin: tuple[float, float]
    z: float
    front: bool


@dataclass(frozen=True)
class PanelPlace:
    """One panel's tiles, title position, legend box ``(x, y, w, h)`` and width."""

    tiles: tuple[TilePlace, ...]
    title_at: tuple[float, float]
    legend_box: tuple[float, float, float, float]
    width: float
    bottom: float


def place_panel(panel: Panel, x0: float, y0: float, expanded: bool) -> PanelPlace:
    """Lay the tiles of ``panel`` out from ``(x0, y0)``."""
    n = len(panel.grids)
    h, w = panel.grids[0].shape
    rows = (n + panel.columns - 1) // panel.columns
    bottom = y0 + (h if not expanded else rows * (h + 1.0) - 1.0)
    right = x0 + w
    tiles = []
    for k in range(n):
        if expanded:
            col, row = k % panel.columns, k // panel.columns
            place = TilePlace((x0 + col * (w + 1), y0 + row * (h + 1.0)), 0.0, True)
        else:
            depth = (k - panel.front) % n
            place = TilePlace((x0 + depth * STACK_SHIFT, y0 - depth * STACK_SHIFT), -float(depth), depth == 0)
        tiles.append(place)
        right = max(right, place.origin[0] + w)
    lift = 0 if expanded else STACK_SHIFT * (n - 1)
    return PanelPlace(tuple(tiles), (x0 - 0.5, y0 - 0.6 - lift), (x0 - 0.5, bottom - 0.5 + 0.35, w, 0.3),
                      right - x0, bottom)


def place(frame: Frame) -> dict[PanelName, PanelPlace]:
    """Every panel of ``frame``, placed."""
    by_row = {r: sorted((p for p in frame.panels if p.row == r), key=lambda p: p.slot) for r in (0, 1)}
    two_rows = bool(by_row[1])
    placed: dict[PanelName, PanelPlace] = {}
    slot_x: dict[int, float] = {}
    x = 0.0
    for p in by_row[0]:
        if slot_x:
            x += GAP if (p.slot == 3 or not two_rows) else WIDE_GAP
        slot_x[p.slot] = x
        placed[p.name] = place_panel(p, x, 0.0, frame.expanded)
        x += placed[p.name].width
    y1 = max((pl.bottom for pl in placed.values()), default=0.0) + ROW_GAP
    for p in by_row[1]:
        placed[p.name] = place_panel(p, slot_x.get(p.slot, 0.0), y1, frame.expanded)
    return placed


class Tile:
    """One tile of a panel and where it is."""

    def __init__(self, view: pg.ViewBox, theme: dict[str, str]) -> None:
        self.item = GridItem(theme)
        view.addItem(self.item)
        self.origin = (0.0, 0.0)
        self.shape = (0, 0)

    def is_visible(self) -> bool:
        """Whether the tile is shown."""
        return self.item.isVisible()

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        """Grid cell ``(i, j)`` under scene point ``(x, y)``, or None."""
        j = int((x - self.origin[0] + 0.5) // 1)
        i = int((y - self.origin[1] + 0.5) // 1)
        if 0 <= i < self.shape[0] and 0 <= j < self.shape[1]:
            return i, j
        return None


def bold_font(size: int) -> QFont:
    """The titles' font at ``size`` points."""
    f = QFont()
    f.setPointSize(size)
    f.setBold(True)
    return f


def fitting_size(text: str, room_px: float, base: int) -> int:
    """The largest point size from ``base`` down to 7 at which ``text`` is at most ``room_px`` wide."""
    size = base
    while size > 7 and QFontMetricsF(bold_font(size)).horizontalAdvance(text) > room_px:
        size -= 1
    return size


def fit_titles(titles: dict[PanelName, pg.TextItem], widths: dict[PanelName, float], per_cell: float,
               base: int, fitted: dict[PanelName, tuple[object, ...]]) -> None:
    """Shrink each title's type until it fits over its panel (and the gap after it).

    ``per_cell`` is pixels per cell; a title is refitted only when its text,
    its room or ``base`` changed since ``fitted`` recorded it.
    """
    for panel, t in titles.items():
        text = t.textItem.toPlainText()
        if not text or panel not in widths:
            continue
        room = (widths[panel] + GAP * 0.6) * per_cell
        key = (text, round(room, 1), base)
        if fitted.get(panel) == key:
            continue
        fitted[panel] = key
        size = fitting_size(text, room, base)
        if t.textItem.font().pointSize() != size:
            t.setFont(bold_font(size))


def set_wrapped(widget: pg.GraphicsLayoutWidget, label: pg.LabelItem, html: str, size: float, *,
                max_height: float | None = None) -> None:
    """Set a label's text wrapped to the widget's width (a LabelItem otherwise widens the scene).

    With ``max_height`` (a fraction of the widget's height) the type shrinks,
    down to 8 pt, until the text takes at most that much, so the grids keep
    the room.
    """
    avail = max(200.0, widget.width() - 40.0)
    while True:
        label.item.setTextWidth(-1)
        label.setText(html, size=f"{size:.0f}pt")
        if label.item.boundingRect().width() > avail:
            label.item.setTextWidth(avail)
            label.updateMin()
        height = label.item.boundingRect().height()
        too_tall = max_height is not None and height > max_height * widget.height()
        if not too_tall or size <= 8:
            break
        size -= 1
    # Keep the layout inside the viewport: a grown label shrinks the view, never the reverse.
    widget.ci.setGeometry(QRectF(0, 0, widget.viewport().width(), widget.viewport().height()))
    label.resizeEvent(None)  # LabelItem centres its text only when resized

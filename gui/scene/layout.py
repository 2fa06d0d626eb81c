"""Where every panel, tile, title and legend of a frame goes (scene units), and titles that fit.

Row 0 holds the tensors left to right by slot (input, kernel, output,
target); row 1 the gradients, each under the slot of its tensor. A stacked
panel draws the channels behind its front tile, each shifted up-right; an
expanded one lays them out ``columns`` to a row.

A panel far narrower than the widest (a 3×3 kernel beside a 64×64 picture)
is drawn with larger cells, ``MIN_SHARE`` of the widest at least, so its
numbers and title stay readable. Titles never run into the next panel: they
shrink on one line, down to a legible floor, then wrap at spaces (onto two
lines at most, never one word to a line: "Target" over "T"); a title that
still needs more room pushes the next panel (or the right edge) further out.
The room above each row is measured from the titles' real height
(``Margins``), so a wrapped or zoomed title never covers a panel or leaves
the view.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from PySide6.QtCore import QRectF

from ..models.choices import MATRIX_PANELS, PanelName
from ..models.frame import Frame, Panel
from .grid import GridItem
from .title_fit import TITLE_PT, bold_font, fit_title, title_floor  # noqa: F401 - where tests look
from .widgets import Box

GAP = 2.5  # cells between panels
WIDE_GAP = GAP + 1.5  # between the columns of a two-row (backward) stage: room for the flow lines
BESIDE_GAP = 1.0  # before a row-1 panel with nothing above it (the matrix picture's y beside C)
STACK_SHIFT = 0.35  # cells each channel behind the front one is shifted up-right
ROW_GAP = 3.2  # cells between the bottom of row 0 and the top of row 1 (before titles are measured)
SIDE = 0.3  # cells left and right of the stage
TITLE_ROOM = 0.3  # cells a title keeps clear of the next panel
MIN_SHARE = 0.3  # a panel is drawn at least this fraction as wide as the widest one
MAX_GROW = 2.0  # a two-row stage's short panels grow into the room beside it at most this much
LEGEND_TOP, LEGEND_HEIGHT = 0.35, 0.3  # the colour bar under a panel (cells of the stage)
LEGEND_PX = 11  # legend labels' type (pixels) at text zoom 1


@dataclass(frozen=True)
class TilePlace:
    """One tile: cell (0, 0) centred on ``origin``, cells ``scale`` units wide, at depth ``z``;
    ``front`` tiles show their text."""

    origin: tuple[float, float]
    z: float
    front: bool
    scale: float = 1.0


@dataclass(frozen=True)
class PanelPlace:
    """One panel: its tiles, the title's bottom-left corner, the legend box ``(x, y, w, h)``, the
    tiles' extent ``rect = (x, y, w, h)``, the width its title may take and its depth ``lift``
    (how far the stack rises above ``rect``); ``legend``: whether a colour bar goes under it."""

    tiles: tuple[TilePlace, ...]
    title_at: tuple[float, float]
    legend_box: tuple[float, float, float, float]
    rect: tuple[float, float, float, float]
    room: float
    lift: float
    row: int
    legend: bool = True

    @property
    def width(self) -> float:
        """The tiles' extent left to right."""
        return self.rect[2]

    @property
    def bottom(self) -> float:
        """The lower edge of the tiles."""
        return self.rect[1] + self.rect[3]


@dataclass(frozen=True)
class Margins:
    """Room (scene units) above row 0, between the rows, under the last row, right of the last panel,
    and after each slot (``gaps``: ``(slot, extra)`` pairs) for titles wider than their panel; and how
    much larger a two-row stage draws its short panels (``grow``: ``grown_scales``)."""

    top: float = 1.9
    row_gap: float = ROW_GAP
    bottom: float = 1.3
    right: float = 0.0
    gaps: tuple[tuple[int, float], ...] = ()
    grow: float = 1.0  # a two-row stage's panels shorter than their row are drawn this much larger

    def gap_after(self, slot: int) -> float:
        """Extra room after the panels of ``slot``."""
        return sum(g for s, g in self.gaps if s == slot)


def natural_width(panel: Panel, expanded: bool) -> float:
    """Width of ``panel`` in cells at scale 1."""
    n = len(panel.grids)
    w = panel.grids[0].shape[1]
    if expanded:
        cols = min(n, panel.columns)
        return cols * (w + 1.0) - 1.0
    return w + STACK_SHIFT * (n - 1)


def panel_scales(frame: Frame) -> dict[PanelName, float]:
    """How many scene units one cell of each panel takes: 1, or more for a panel much narrower
    than the widest (``MIN_SHARE``)."""
    widths = {p.name: natural_width(p, frame.expanded) for p in frame.panels}
    widest = max(widths.values(), default=1.0)
    enlarge = {p.name: p.enlarge for p in frame.panels}
    return {name: max(1.0, MIN_SHARE * widest / w) if enlarge[name] else 1.0 for name, w in widths.items()}


def place_panel(panel: Panel, left: float, top: float, expanded: bool, scale: float = 1.0,
                row: int = 0) -> PanelPlace:
    """Lay the tiles of ``panel`` out with their top-left corner at ``(left, top)``."""
    n = len(panel.grids)
    h, w = panel.grids[0].shape
    s = scale
    rows = (n + panel.columns - 1) // panel.columns
    height = s * (h if not expanded else rows * (h + 1.0) - 1.0)
    x0, y0 = left + 0.5 * s, top + 0.5 * s  # centre of cell (0, 0) of the front tile
    right = left + w * s
    tiles = []
    for k in range(n):
        if expanded:
            col, r = k % panel.columns, k // panel.columns
            tp = TilePlace((x0 + col * (w + 1) * s, y0 + r * (h + 1.0) * s), 0.0, True, s)
        else:
            depth = (k - panel.front) % n
            shift = depth * STACK_SHIFT * s
            tp = TilePlace((x0 + shift, y0 - shift), -float(depth), depth == 0, s)
        tiles.append(tp)
        right = max(right, tp.origin[0] - 0.5 * s + w * s)
    lift = 0.0 if expanded else STACK_SHIFT * s * (n - 1)
    bottom = top + height
    return PanelPlace(tuple(tiles), (left, top - 0.1 - lift),
                      (left, bottom + LEGEND_TOP, w * s, LEGEND_HEIGHT), (left, top, right - left, height),
                      right - left + TITLE_ROOM, lift, row, panel.legend is not None)


def place(frame: Frame, margins: Margins = Margins()) -> dict[PanelName, PanelPlace]:
    """Every panel of ``frame``, placed; each title's ``room`` reaches to the next panel of its row."""
    if frame.banded:
        return place_bands(frame, margins)
    by_row = {r: sorted((p for p in frame.panels if p.row == r), key=lambda p: p.slot) for r in (0, 1)}
    two_rows = bool(by_row[1])
    scales = panel_scales(frame)
    if two_rows and margins.grow > 1.0:
        scales = grown_scales(frame, by_row, scales, margins.grow)
    placed: dict[PanelName, PanelPlace] = {}
    slot_x: dict[int, float] = {}
    x, last = 0.0, -1
    for p in by_row[0]:
        if slot_x:
            x += (GAP if (p.slot == 3 or not two_rows) else WIDE_GAP) + margins.gap_after(last)
        slot_x[p.slot] = last = p.slot
        slot_x[p.slot] = x
        placed[p.name] = place_panel(p, x, 0.0, frame.expanded, scales[p.name], 0)
        x += placed[p.name].width
    y1 = max((pl.bottom for pl in placed.values()), default=0.0) + margins.row_gap
    row_end: float | None = None
    for p in by_row[1]:
        left = slot_x.get(p.slot)
        if left is None:  # nothing above it (the matrix picture's y beside C): right of the panel before
            left = 0.0 if row_end is None else row_end + BESIDE_GAP + margins.gap_after(p.slot - 1)
        placed[p.name] = place_panel(p, left, y1, frame.expanded, scales[p.name], 1)
        row_end = left + placed[p.name].width
    right = max((pl.rect[0] + pl.width for pl in placed.values()), default=0.0)
    for r in (0, 1):
        row = sorted((placed[p.name] for p in by_row[r]), key=lambda pl: pl.rect[0])
        for a, b in zip(row, [*row[1:], None], strict=False):
            end = b.rect[0] - TITLE_ROOM if b is not None else right + SIDE + margins.right
            name = next(n for n, pl in placed.items() if pl is a)
            placed[name] = PanelPlace(a.tiles, a.title_at, a.legend_box, a.rect, end - a.rect[0], a.lift,
                                      a.row, a.legend)
    return placed


def _tall(panel: Panel, expanded: bool) -> float:
    """Height of ``panel`` in cells at scale 1."""
    h = panel.grids[0].shape[0]
    rows = (len(panel.grids) + panel.columns - 1) // panel.columns
    return rows * (h + 1.0) - 1.0 if expanded else float(h)


def can_grow(frame: Frame) -> bool:
    """Whether ``frame``'s short panels may grow into room beside the stage (``grown_scales``): a
    two-row stage (the backward pass) without matrix pictures or panels that keep their size."""
    return (not frame.banded and any(p.row == 1 for p in frame.panels)
            and not any(p.name in MATRIX_PANELS or not p.enlarge for p in frame.panels))


def grown_scales(frame: Frame, by_row: dict[int, list[Panel]], scales: dict[PanelName, float],
                 grow: float) -> dict[PanelName, float]:
    """A two-row (backward) stage's columns drawn up to ``grow`` times larger, each no taller than
    the tallest panel of its rows (a 3×3 kernel beside a 7×7 input grows, the input does not): the
    room a stage bounded by the view's height leaves beside it (``grow_to``). Matrix pictures and
    panels that keep their size (``Panel.enlarge``) do not grow."""
    if not can_grow(frame):
        return scales
    height = {r: max((_tall(p, frame.expanded) * scales[p.name] for p in by_row[r]), default=0.0)
              for r in (0, 1)}
    out = dict(scales)
    for slot in {p.slot for p in by_row[0]}:
        column = [p for r in (0, 1) for p in by_row[r] if p.slot == slot]
        k = min([grow] + [height[p.row] / (_tall(p, frame.expanded) * scales[p.name]) for p in column])
        for p in column:
            out[p.name] = scales[p.name] * max(k, 1.0)
    return out


def grow_to(frame: Frame, margins: Margins, width: float) -> float:
    """The largest ``Margins.grow`` (up to ``MAX_GROW``) whose stage is at most ``width`` scene units
    wide; 1 when the stage is that wide already."""
    def wide(g: float) -> float:
        m = replace(margins, grow=g)
        return stage_rect(place(frame, m), m).width()

    lo, hi = 1.0, MAX_GROW
    if wide(lo * 1.01) > width:
        return 1.0
    if wide(hi) <= width:
        return hi
    for _ in range(8):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if wide(mid) <= width else (lo, mid)
    return lo


def grow_for(frame: Frame, placed: dict[PanelName, PanelPlace], margins: Margins, room: float) -> Margins:
    """``margins`` with the ``grow`` that a two-row stage, ``placed``, takes of ``room`` scene units
    across (a stage the view's height bounds leaves room beside it: ``grown_scales``)."""
    rect = stage_rect(placed, margins)
    if not can_grow(frame) or rect.isEmpty() or room < max(rect.width() * 1.03, rect.width() + 0.5):
        return margins  # (a stage as wide as the view, or nearly: nothing to gain)
    g = grow_to(frame, margins, room)
    return replace(margins, grow=g) if g > 1.01 else margins


def place_bands(frame: Frame, margins: Margins = Margins()) -> dict[PanelName, PanelPlace]:
    """A banded frame's panels one under another (tensors, then gradients, by slot), the longest
    across the stage and the kernels centred under it, every one at the same cell size (a short
    kernel in its own band is legible without ``MIN_SHARE``); each title may take the stage's width.

    The first band counts as row 0, every other as row 1, so ``margins_for`` measures the room
    above each band from the titles (``Margins.row_gap`` between every two bands).
    """
    order = sorted(frame.panels, key=lambda p: (p.row, p.slot))
    widths = {p.name: natural_width(p, frame.expanded) for p in order}
    widest = max(widths.values(), default=0.0)
    placed: dict[PanelName, PanelPlace] = {}
    y = 0.0
    for k, p in enumerate(order):
        left = (widest - widths[p.name]) / 2 if p.name in ("kernel", "dw") else 0.0
        placed[p.name] = place_panel(p, left, y, frame.expanded, 1.0, min(k, 1))
        y = placed[p.name].bottom + margins.row_gap
    end = max((pl.rect[0] + pl.width for pl in placed.values()), default=0.0) + SIDE + margins.right
    return {name: replace(pl, room=end - pl.rect[0]) for name, pl in placed.items()}


def stage_rect(placed: dict[PanelName, PanelPlace], margins: Margins) -> QRectF:
    """The scene rectangle to show: every panel with room for its title above and legend below."""
    rect = QRectF()
    for pl in placed.values():
        x, y, w, h = pl.rect
        rect = rect.united(QRectF(x, y - pl.lift, w, h + pl.lift))
    if rect.isEmpty():
        return rect
    return rect.adjusted(-SIDE, -margins.top, SIDE + margins.right, margins.bottom)


def margins_for(placed: dict[PanelName, PanelPlace], heights: dict[PanelName, float],
                short: dict[PanelName, float], per_cell: float, legend_px: float, slots: dict[PanelName, int],
                old: Margins) -> Margins:
    """The margins that fit titles ``heights`` tall (pixels), each still ``short`` pixels too wide
    for its room, and legend labels ``legend_px`` tall."""
    pc = max(per_cell, 1e-6)
    legend = LEGEND_TOP + LEGEND_HEIGHT + (legend_px * 1.6 + 4) / pc
    need = {0: 0.0, 1: 0.0}
    for name, pl in placed.items():
        need[pl.row] = max(need[pl.row], 0.1 + pl.lift + (heights.get(name, 0.0) + 2) / pc)
    two_rows = any(pl.row == 1 for pl in placed.values())
    gaps = dict(old.gaps)
    right = old.right
    lasts = {max((pl for pl in placed.values() if pl.row == r), key=lambda pl: pl.rect[0], default=None)
             for r in (0, 1)}
    for name, px in short.items():
        if px <= 0.5:
            continue
        if placed[name] in lasts:
            right += (px + 1.0) / pc  # a pixel to spare: the next round may scale by a hair
        else:
            gaps[slots[name]] = gaps.get(slots[name], 0.0) + (px + 1.0) / pc
    # Under row 0: its colour bars' room, or only a little when none of its panels has one.
    under = legend if any(pl.legend for pl in placed.values() if pl.row == 0) else LEGEND_TOP
    return Margins(top=need[0], row_gap=under + need[1] + 0.2 if two_rows else ROW_GAP, bottom=legend,
                   right=right, gaps=tuple(sorted(gaps.items())), grow=old.grow)


def same_margins(a: Margins, b: Margins) -> bool:
    """Whether two margins differ by less than a twentieth of a cell anywhere."""
    near = [abs(a.top - b.top), abs(a.row_gap - b.row_gap), abs(a.bottom - b.bottom), abs(a.right - b.right)]
    slots = {s for s, _ in a.gaps} | {s for s, _ in b.gaps}
    near += [abs(a.gap_after(s) - b.gap_after(s)) for s in slots]
    return max(near) < 0.05


class Tile:
    """One tile of a panel and where it is."""

    def __init__(self, view: Box, theme: dict[str, str]) -> None:
        self.item = GridItem(theme)
        view.addItem(self.item)
        view.addItem(self.item.labels)
        self.origin = (0.0, 0.0)
        self.shape = (0, 0)
        self.scale = 1.0

    def is_visible(self) -> bool:
        """Whether the tile is shown."""
        return self.item.isVisible()

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        """Grid cell ``(i, j)`` under scene point ``(x, y)``, or None."""
        j = int(((x - self.origin[0]) / self.scale + 0.5) // 1)
        i = int(((y - self.origin[1]) / self.scale + 0.5) // 1)
        if 0 <= i < self.shape[0] and 0 <= j < self.shape[1]:
            return i, j
        return None

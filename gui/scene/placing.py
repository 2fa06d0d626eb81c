"""Putting a frame's panels where the layout says: titles, tiles (coloured through the view's cache) and
legends. Fitting the stage measures the titles at a few scales in turn; the tiles move once, at the end
(each move of ~100 tiles of a 16-channel lesson costs the scene a few milliseconds)."""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Literal

import numpy as np
from PySide6.QtCore import QRectF

from ..models.choices import PANELS
from ..models.frame import Frame, Grid
from .colour import TileRender
from .layout import Tile, TilePlace
from .theme import colour_map, qcolor

if TYPE_CHECKING:
    from .colour import TileRender
    from .grid import GridItem
    from .view import SceneView

__all__ = ["place_panels", "reserve_tiles", "tile_damage"]


def tile_damage(item: GridItem, grid: Grid, render: TileRender, origin: tuple[float, float], front: bool,
                scale: float, zoom: float) -> QRectF | Literal[False] | None:
    """What showing ``grid`` on ``item`` changes, in the item's units: False for the grid it shows, an
    empty rectangle for the same picture, the rows whose cells were computed or taken back (with a row
    either side, for the lines between them) when only the step moved (``Grid.pending_from``), None
    (all of it) otherwise.

    Repainting less is what lets the screen, and an export (``gui.export.damage``), paint a step in
    the time its few changed cells take.
    """
    old = item.grid
    if (old is None or render is not item.render or origin != item.origin or scale != item.scale_
            or front != item.front or zoom != item.zoom or not item.isVisible()):
        return None
    if grid is old:
        return False
    for f in fields(grid):
        a, b = getattr(grid, f.name), getattr(old, f.name)
        if f.name != "pending_from" and a is not b and (isinstance(a, np.ndarray) or a != b):
            return None
    h, w = render.rgba.shape[:2]
    was = h * w if old.pending_from is None else old.pending_from
    now = h * w if grid.pending_from is None else grid.pending_from
    if was == now:
        return QRectF()  # the same picture of another grid: nothing to repaint
    r0, r1 = max(0, min(was, now) // w - 1), min(h, (max(was, now) - 1) // w + 2)
    return QRectF(origin[0] - 0.6, origin[1] - 0.6 + r0, w + 0.2, r1 - r0 + 0.2)


def reserve_tiles(view: SceneView, counts: dict[str, int]) -> None:
    """Make, hidden, the tiles ``counts`` (panel name to tiles) asks of ``view`` beyond those it has."""
    if getattr(view, "closed", False):  # its scene's items are gone
        return
    for name, n in counts.items():
        tiles = view.tiles.get(name)  # type: ignore[call-overload]
        while tiles is not None and len(tiles) < n:
            tile = Tile(view.view, view.theme)
            tile.item.show(False)
            tiles.append(tile)


def covering(places: tuple[TilePlace, ...], grids: tuple[Grid, ...] | list[Grid],
             renders: list[TileRender]) -> list[tuple[float, float] | None]:
    """For each tile of a stack, where the tile just over it is (its own cells), when that one is opaque,
    of the same shape and size and drawn over it: it hides all of this one but a sliver. None for a front
    tile, and for every tile of an expanded panel (none lies over another)."""
    by_z = {tp.z: k for k, tp in enumerate(places)}
    out: list[tuple[float, float] | None] = []
    for tp, g in zip(places, grids, strict=True):
        k = by_z.get(tp.z + 1.0) if tp.z < 0 else None
        over = None if k is None else places[k]
        if over is None or k is None or grids[k].shape != g.shape or over.scale != tp.scale \
                or not renders[k].opaque:
            out.append(None)
            continue
        out.append(((over.origin[0] - tp.origin[0]) / tp.scale, (over.origin[1] - tp.origin[1]) / tp.scale))
    return out


def _within(view: SceneView, title: object, at: tuple[float, float]) -> tuple[float, float]:
    """Where a title anchored at its bottom-left ``at`` goes: there, or moved left just enough to end
    inside the view's range where the fit's last round left it a pixel or two short of room."""
    rng, pc = view._range, view._per_cell
    if rng is None or not pc:
        return at
    width = title.textItem.boundingRect().width() / pc  # type: ignore[attr-defined]
    over = at[0] + width - rng.right()
    return (at[0] - over, at[1]) if 0 < over < 0.5 else at


def place_panels(view: SceneView, f: Frame, *, items: bool) -> None:
    """Put every title of ``f`` where ``view._placed`` says and, with ``items``, every tile and legend."""
    empty = qcolor(view.theme, "empty")
    rgb = (empty.red(), empty.green(), empty.blue())
    legend_px = view._legend_px()
    for name in PANELS:
        panel = view._panels.get(name)
        title, legend = view.titles[name], view.legends[name]
        tiles = view._tiles(name, 0 if panel is None else len(panel.grids)) if items else []
        if panel is None:
            title.setText("")
            legend.setVisible(False)
            continue
        pp = view._placed[name]
        if title.textItem.toPlainText() != panel.title:
            title.setText(panel.title)
        title.setPos(*_within(view, title, pp.title_at))
        if not items:
            continue
        cmap = None if panel.colour == "none" else colour_map(view.theme_name, panel.colour)
        renders = view._renders.get_stack(panel.grids, panel.levels, cmap, rgb, name)
        covers = covering(pp.tiles, panel.grids, renders)
        over = {tp.z + 1.0 for tp, c in zip(pp.tiles, covers, strict=True) if c is not None}
        for tile, grid, tp, render, cover in zip(tiles, panel.grids, pp.tiles, renders, covers, strict=True):
            tile.origin, tile.shape, tile.scale = tp.origin, grid.shape, tp.scale
            dirty = tile_damage(tile.item, grid, render, tp.origin, tp.front, tp.scale, view.zoom)
            tile.item.setZValue(tp.z)
            tile.item.zoom = view.zoom
            tile.item.progressive = view.progressive
            tile.item.hides = tp.z in over
            if cover != tile.item.cover:
                dirty = None  # another sliver: all of it
            if dirty is not False:  # False: the same picture
                tile.item.set_tile(grid, render, tp.origin, tp.front, tp.scale, cover, dirty=dirty)
            tile.item.show(True)
        if panel.legend is not None and cmap is not None:
            legend.text_px = legend_px
            legend.set_legend(cmap, QRectF(*pp.legend_box), panel.legend)
        legend.setVisible(panel.legend is not None and cmap is not None)

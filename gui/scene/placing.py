"""Putting a frame's panels where the layout says: titles, tiles (coloured through the view's cache) and
legends. Fitting the stage measures the titles at a few scales in turn; the tiles move once, at the end
(each move of ~100 tiles of a 16-channel lesson costs the scene a few milliseconds)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF

from ..models.choices import PANELS
from ..models.frame import Frame
from .layout import Tile
from .theme import colour_map, qcolor

if TYPE_CHECKING:
    from .view import SceneView

__all__ = ["place_panels", "reserve_tiles"]


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
        for tile, grid, tp, render in zip(tiles, panel.grids, pp.tiles, renders, strict=True):
            tile.origin, tile.shape, tile.scale = tp.origin, grid.shape, tp.scale
            tile.item.setZValue(tp.z)
            tile.item.zoom = view.zoom
            tile.item.set_tile(grid, render, tp.origin, tp.front, tp.scale)
            tile.item.show(True)
        if panel.legend is not None and cmap is not None:
            legend.text_px = legend_px
            legend.set_legend(cmap, QRectF(*pp.legend_box), panel.legend)
        legend.setVisible(panel.legend is not None and cmap is not None)

"""Values to colours with fixed levels, and what one tile paints (colours, text colour, labels).

Everything here runs once per grid content, never inside ``paint``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..models.frame import Grid
from .theme import ColourMap, load_colour_map

_LUTS: dict[str, np.ndarray] = {}


def lut_bytes(cmap: Any) -> np.ndarray:
    """256 RGBA bytes of ``cmap``, shape (256, 4): a ``ColourMap``'s table, or a pyqtgraph ``ColorMap``'s
    (the pipeline window's; indexing this is ~10x faster than ``ColorMap.map``)."""
    if isinstance(cmap, ColourMap):
        return cmap.lut
    key = cmap.name or str(id(cmap))
    lut = _LUTS.get(key)
    if lut is None:
        lut = np.ascontiguousarray(cmap.getLookupTable(0.0, 1.0, 256, alpha=True, mode="byte"), np.uint8)
        _LUTS[key] = lut
    return lut


def apply_lut(cmap: Any, norm: np.ndarray) -> np.ndarray:
    """RGBA bytes ``(..., 4)`` for values ``norm`` in [0, 1]: one 32-bit lookup per cell."""
    lut32 = np.ascontiguousarray(lut_bytes(cmap)).view(np.uint32).ravel()
    idx = (norm * 255.0 + 0.5).astype(np.uint8)
    return np.take(lut32, idx).view(np.uint8).reshape(*norm.shape, 4)


def colourize(values: np.ndarray, levels: tuple[float, float], cmap: ColourMap,
              empty: tuple[int, int, int]) -> np.ndarray:
    """RGBA bytes ``(h, w, 4)`` of ``values (h, w)`` through ``cmap`` with fixed ``levels``.

    Cells that are not finite (not computed, or the ±inf padding of max/min
    pooling) take the ``empty`` colour.
    """
    lo, hi = levels
    finite = np.isfinite(values)
    norm = np.clip((np.where(finite, values, lo) - lo) / (hi - lo), 0.0, 1.0)
    rgba = apply_lut(cmap, norm)
    rgba[~finite] = (*empty, 255)
    return rgba


@dataclass(eq=False)
class TileRender:
    """What one tile paints, derived from a ``Grid`` once.

    Attributes
    ----------
    rgba : ndarray of uint8, shape (h, w, 4)
    dark : ndarray of bool, shape (h, w)
        Cells whose text is drawn dark (on a light colour).
    groups : dict of (str, bool) to (ndarray, ndarray)
        Cells by (label, dark) as row and column index arrays.
    longest : int
        Characters in the longest label.
    """

    rgba: np.ndarray
    dark: np.ndarray
    groups: dict[tuple[str, bool], tuple[np.ndarray, np.ndarray]]
    longest: int


Groups = dict[tuple[str, bool], tuple[np.ndarray, np.ndarray]]


def text_groups(labels: np.ndarray, dark: np.ndarray) -> Groups:
    """Every labelled cell, grouped by (label, dark): one glyph is drawn per group at many places."""
    w = labels.shape[1]
    flat = labels.ravel()
    cells = np.flatnonzero(flat != "")
    if cells.size == 0:
        return {}
    uniq, inverse = np.unique(flat[cells], return_inverse=True)
    code = inverse.ravel() * 2 + dark.ravel()[cells]
    order = np.argsort(code, kind="stable")
    bounds = np.flatnonzero(np.diff(code[order])) + 1
    groups: Groups = {}
    for part in np.split(order, bounds):
        c = int(code[part[0]])
        where = cells[part]
        groups[(str(uniq[c // 2]), bool(c % 2))] = (where // w, where % w)
    return groups


def render_grid(grid: Grid, levels: tuple[float, float], cmap: ColourMap | None,
                empty: tuple[int, int, int]) -> TileRender:
    """Colours (``cmap`` None: every cell empty), text colours and label groups of ``grid``."""
    values = grid.values if cmap is not None else np.full(grid.values.shape, np.nan)
    rgba = colourize(values, levels, cmap or load_colour_map("CET-L1"), empty)
    lum = 0.299 * rgba[..., 0] + 0.587 * rgba[..., 1] + 0.114 * rgba[..., 2]
    dark = lum > 140
    groups = text_groups(grid.labels, dark)
    longest = max((len(s) for s, _ in groups), default=1)
    return TileRender(rgba, dark, groups, longest)


class RenderCache:
    """``render_grid`` remembered by the identity of a grid's arrays (held, so ids are not reused)."""

    def __init__(self, size: int = 96) -> None:
        self.size = size
        self._items: dict[tuple[object, ...], tuple[Grid, TileRender]] = {}

    def get(self, grid: Grid, levels: tuple[float, float], cmap: ColourMap | None,
            empty: tuple[int, int, int]) -> TileRender:
        """The render of ``grid`` (computed once per values, labels, levels, map and empty colour)."""
        key = (id(grid.values), id(grid.labels), levels, None if cmap is None else cmap.name, empty)
        hit = self._items.get(key)
        if hit is not None and hit[0].values is grid.values and hit[0].labels is grid.labels:
            return hit[1]
        render = render_grid(grid, levels, cmap, empty)
        if len(self._items) >= self.size:
            self._items.clear()
        self._items[key] = (grid, render)
        return render

    def clear(self) -> None:
        """Forget every render (a theme change)."""
        self._items.clear()

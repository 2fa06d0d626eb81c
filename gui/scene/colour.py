"""Values to colours with fixed levels, and what one tile paints (colours, text colour, labels).

Everything here runs once per grid content, never inside ``paint``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ..models.frame import Frame, Grid
from .theme import ColourMap, colour_map

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


def lut_indices(values: np.ndarray, levels: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's row of a 256-colour table with fixed ``levels`` (uint8, shape of ``values``) and
    whether it is finite (a cell that is not takes the empty colour instead)."""
    lo, hi = levels
    finite = np.isfinite(values)
    norm = np.clip((np.where(finite, values, lo) - lo) / (hi - lo), 0.0, 1.0)
    return (norm * 255.0 + 0.5).astype(np.uint8), finite


def colourize(values: np.ndarray, levels: tuple[float, float], cmap: ColourMap,
              empty: tuple[int, int, int]) -> np.ndarray:
    """RGBA bytes ``(h, w, 4)`` of ``values (h, w)`` through ``cmap`` with fixed ``levels``.

    Cells that are not finite (not computed, or the ±inf padding of max/min
    pooling) take the ``empty`` colour.
    """
    idx, finite = lut_indices(values, levels)
    lut32 = np.ascontiguousarray(lut_bytes(cmap)).view(np.uint32).ravel()
    rgba = np.take(lut32, idx).view(np.uint8).reshape(*values.shape, 4)
    rgba[~finite] = (*empty, 255)
    return rgba


def dark_text(rgba: np.ndarray) -> np.ndarray:
    """Which colours of ``rgba (..., 4)`` are light enough to take dark text (bool, shape ``(...)``)."""
    return 0.299 * rgba[..., 0] + 0.587 * rgba[..., 1] + 0.114 * rgba[..., 2] > 140


@dataclass(eq=False)
class TileRender:
    """What one tile paints, derived from a ``Grid`` once.

    Attributes
    ----------
    rgba : ndarray of uint8, shape (h, w, 4)
    dark : ndarray of bool, shape (h, w)
        Cells whose text is drawn dark (on a light colour).
    labels : ndarray of str, shape (h, w)
        The grid's labels ("" for none).
    codes : TextCodes
        Every labelled cell and its (label, dark) (worked out when first read: a grid whose cells are
        too small for numbers never needs them).
    groups : dict of (str, bool) to (ndarray, ndarray)
        Cells by (label, dark) as row and column index arrays, in the order of ``codes.keys``.
    longest : int
        Characters in the longest label.
    opaque : bool
        Every colour is fully opaque.
    rows : ndarray of uint16, shape (h, w), or None
        Each cell's row of the colour table (``table_rows``): what the colours are made from, kept
        for a theme switch.
    """

    rgba: np.ndarray
    dark: np.ndarray
    labels: np.ndarray
    rows: np.ndarray | None = None

    @cached_property
    def opaque(self) -> bool:
        return bool((self.rgba[..., 3] == 255).all())

    @cached_property
    def codes(self) -> TextCodes:
        return text_codes(self.labels, self.dark)

    @cached_property
    def groups(self) -> dict[tuple[str, bool], tuple[np.ndarray, np.ndarray]]:
        return text_groups(self.codes)

    @cached_property
    def longest(self) -> int:
        return max((len(s) for s, _ in self.codes.keys), default=1)


Groups = dict[tuple[str, bool], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True, eq=False)
class TextCodes:
    """Every labelled cell of a grid, row by row, and which (label, dark) it shows.

    Attributes
    ----------
    keys : list of (str, bool)
        The distinct (label, dark) pairs, sorted.
    gid : ndarray of int, shape (n,)
        Each labelled cell's index into ``keys``.
    rows, cols : ndarray of int, shape (n,)
        Each labelled cell's row and column, in row-major order.
    """

    keys: list[tuple[str, bool]]
    gid: np.ndarray
    rows: np.ndarray
    cols: np.ndarray


def text_codes(labels: np.ndarray, dark: np.ndarray) -> TextCodes:
    """Every labelled cell of ``labels (h, w)`` with the index of its (label, dark) pair."""
    w = labels.shape[1]
    flat = labels.ravel()
    cells = np.flatnonzero(flat != "")
    if cells.size == 0:
        return TextCodes([], cells, cells, cells)
    uniq, inverse = np.unique(flat[cells], return_inverse=True)
    used, gid = np.unique(inverse.ravel() * 2 + dark.ravel()[cells], return_inverse=True)
    keys = [(str(uniq[c // 2]), bool(c % 2)) for c in used.tolist()]
    return TextCodes(keys, gid.ravel(), cells // w, cells % w)


def text_groups(codes: TextCodes) -> Groups:
    """Every labelled cell, grouped by (label, dark): one glyph is drawn per group at many places."""
    order = np.argsort(codes.gid, kind="stable")
    bounds = np.flatnonzero(np.diff(codes.gid[order])) + 1
    return {codes.keys[int(codes.gid[part[0]])]: (codes.rows[part], codes.cols[part])
            for part in np.split(order, bounds)} if order.size else {}


EMPTY_ROW = 256  # the row of the empty colour, after a map's 256 colours


def table_rows(values: np.ndarray, levels: tuple[float, float] | None) -> np.ndarray:
    """Each cell's row of a map's table with the empty colour after it (uint16, shape of ``values``):
    0..255 by value with fixed ``levels``, ``EMPTY_ROW`` for a cell that is not finite (and for every
    cell when ``levels`` is None: a grid drawn without colours). The rows do not depend on the theme."""
    if levels is None:
        return np.full(values.shape, EMPTY_ROW, np.uint16)
    idx, finite = lut_indices(values, levels)
    rows = idx.astype(np.uint16)
    if not finite.all():
        rows[~finite] = EMPTY_ROW
    return rows


def paint_rows(rows: np.ndarray, cmap: ColourMap | None,
               empty: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """RGBA bytes ``(h, w, 4)`` of table ``rows (h, w)`` in ``cmap`` and ``empty``, and which cells take
    dark text ``(h, w)``: the text colour of each of the 257 colours is worked out once (the same sums
    on the same bytes as cell by cell)."""
    lut = lut_bytes(cmap) if cmap is not None else np.zeros((256, 4), np.uint8)  # every row EMPTY_ROW
    table = np.ascontiguousarray(np.vstack([lut, np.array([[*empty, 255]], np.uint8)]), np.uint8)
    rgba = np.take(table.view(np.uint32).ravel(), rows).view(np.uint8).reshape(*rows.shape, 4)
    return rgba, np.take(dark_text(table), rows)


def render_grid(grid: Grid, levels: tuple[float, float], cmap: ColourMap | None,
                empty: tuple[int, int, int]) -> TileRender:
    """Colours (``cmap`` None: every cell empty), text colours and label groups of ``grid``."""
    rows = table_rows(grid.values, None if cmap is None else levels)
    return _tile_render(rows, cmap, empty, grid.labels)


def _tile_render(rows: np.ndarray, cmap: ColourMap | None, empty: tuple[int, int, int],
                 labels: np.ndarray) -> TileRender:
    """The ``TileRender`` of table ``rows (h, w)`` in ``cmap``: opaque without looking at every cell when
    every colour of the map is (the empty colour always is), a scan of a 512 x 512 grid costs 0.1-0.3 ms."""
    out = TileRender(*paint_rows(rows, cmap, empty), labels, rows)
    if cmap is not None and bool((lut_bytes(cmap)[:, 3] == 255).all()):
        out.__dict__["opaque"] = True  # the cached property: every cell's colour comes from that table
    return out


def changed_box(old: np.ndarray, new: np.ndarray) -> tuple[slice, slice] | None:
    """The smallest box of rows and columns holding every cell of ``new`` whose value differs from
    ``old`` (bit for bit, so NaN is NaN), ``(slice(0, 0), slice(0, 0))`` when none does, or None when
    the two cannot be compared that way (other shapes or dtypes, not floats)."""
    if old.shape != new.shape or old.dtype != new.dtype or old.dtype.kind != "f" or old.ndim != 2:
        return None
    bits = np.dtype(f"u{old.dtype.itemsize}")
    diff = old.view(bits) != new.view(bits)
    rows, cols = np.flatnonzero(diff.any(axis=1)), np.flatnonzero(diff.any(axis=0))
    if rows.size == 0:
        return slice(0, 0), slice(0, 0)
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)


def recolour(old: Grid, render: TileRender, grid: Grid, levels: tuple[float, float],
             cmap: ColourMap | None, empty: tuple[int, int, int]) -> TileRender:
    """``render_grid(grid, …)`` made from ``render``, ``old``'s render with the same levels, map and
    empty colour: only the box round the cells whose values changed is coloured again (one step of a
    big lesson changes one window of a 512 x 512 grid). Same pixels as ``render_grid``."""
    box = changed_box(old.values, grid.values) if cmap is not None else (slice(0, 0), slice(0, 0))
    if box is None or render.rows is None or render.rows.shape != grid.values.shape:
        return render_grid(grid, levels, cmap, empty)
    rgba, dark, rows = render.rgba, render.dark, render.rows
    opaque = render.opaque
    if box[0].stop > box[0].start:
        part = table_rows(grid.values[box], levels)
        rgba, dark, rows = rgba.copy(), dark.copy(), rows.copy()
        rows[box] = part
        rgba[box], dark[box] = paint_rows(part, cmap, empty)
        opaque = opaque and bool((rgba[box][..., 3] == 255).all())
    out = TileRender(rgba, dark, grid.labels, rows)
    out.__dict__["opaque"] = opaque  # the cached property, known without looking at every cell
    return out


def repaint(render: TileRender, grid: Grid, cmap: ColourMap | None,
            empty: tuple[int, int, int]) -> TileRender:
    """``render_grid(grid, …)`` for the values and levels ``render`` was made from (``render.rows``),
    in another map or empty colour (a theme switch): the table rows are kept, only looked up again."""
    assert render.rows is not None
    return _tile_render(render.rows, cmap, empty, grid.labels)


Entries = list[tuple[tuple[object, ...], Grid, "TileRender"]]


def render_frame(f: Frame, theme: str, empty: tuple[int, int, int]) -> Entries:
    """Every grid of ``f`` coloured as a stage in ``theme`` colours it, as ``RenderCache.adopt`` takes them.

    NumPy only: a worker thread may run it on a frame that is about to be shown.
    """
    entries: Entries = []
    for panel in f.panels:
        cmap = None if panel.colour == "none" else colour_map(theme, panel.colour)
        for grid in panel.grids:
            key = RenderCache.key(grid, panel.levels, cmap, empty)
            render = render_grid(grid, panel.levels, cmap, empty)
            _ = render.opaque  # worked out here, not when first painted
            entries.append((key, grid, render))
    return entries


class RenderCache:
    """``render_grid`` remembered by the identity of a grid's arrays (held, so ids are not reused).

    The least recently used renders go first once ``size`` are held (a frame of the largest
    lesson has about 100 grids: it must fit whole, or every layout pass colours it again).
    """

    def __init__(self, size: int = 160) -> None:
        self.size = size
        self._items: dict[tuple[object, ...], tuple[Grid, TileRender]] = {}
        self._slots: dict[object, tuple[Grid, TileRender, tuple[object, ...]]] = {}

    @staticmethod
    def key(grid: Grid, levels: tuple[float, float], cmap: ColourMap | None,
            empty: tuple[int, int, int]) -> tuple[object, ...]:
        """What a render depends on: the grid's arrays (by identity), levels, map and empty colour."""
        return (id(grid.values), id(grid.labels), levels, None if cmap is None else cmap.name, empty)

    def get(self, grid: Grid, levels: tuple[float, float], cmap: ColourMap | None,
            empty: tuple[int, int, int], slot: object = None) -> TileRender:
        """The render of ``grid`` (computed once per values, labels, levels, map and empty colour).

        ``slot`` names the tile that shows ``grid`` (e.g. panel and index): a new grid in a slot is
        coloured from the slot's last render: with the same levels, map and empty colour, only its
        changed cells again (``recolour``); the same values in another theme, from its table rows
        (``repaint``).
        """
        key = self.key(grid, levels, cmap, empty)
        hit = self._items.pop(key, None)
        if hit is not None and hit[0].values is grid.values and hit[0].labels is grid.labels:
            self._items[key] = hit  # now the most recently used
            render = hit[1]
        else:
            render = self._from_slot(slot, grid, levels, cmap, empty)
            self.adopt([(key, grid, render)])
        if slot is not None:
            self._slots[slot] = (grid, render, key[2:])
        return render

    def get_stack(self, grids: tuple[Grid, ...], levels: tuple[float, float], cmap: ColourMap | None,
                  empty: tuple[int, int, int], name: object) -> list[TileRender]:
        """``get`` of every grid of a panel, grid ``k`` in slot ``(name, k)``: the grids that neither the
        cache nor their slot's last render can colour, if of one shape, are coloured together (the same
        bytes: an expanded 16 -> 16 kernel is 256 grids of 15 x 15, ~50 µs each alone)."""
        fresh = [k for k, g in enumerate(grids) if self._cold(g, levels, cmap, empty, (name, k))]
        if len(fresh) < 2 or len({grids[k].values.shape for k in fresh}) > 1:
            fresh = []
        else:
            rows = table_rows(np.stack([grids[k].values for k in fresh]), None if cmap is None else levels)
            together = _tile_render(rows, cmap, empty, np.empty(0))
            opaque = together.__dict__.get("opaque")  # known without a scan when the map is opaque
            for i, k in enumerate(fresh):
                render = TileRender(together.rgba[i], together.dark[i], grids[k].labels, rows[i])
                if opaque is not None:
                    render.__dict__["opaque"] = opaque
                key = self.key(grids[k], levels, cmap, empty)
                self.adopt([(key, grids[k], render)])
                self._slots[(name, k)] = (grids[k], render, key[2:])
        return [self.get(g, levels, cmap, empty, slot=(name, k)) for k, g in enumerate(grids)]

    def _cold(self, grid: Grid, levels: tuple[float, float], cmap: ColourMap | None,
              empty: tuple[int, int, int], slot: object) -> bool:
        """Whether ``get`` would colour ``grid`` from nothing (no cache entry, no slot to start from)."""
        key = self.key(grid, levels, cmap, empty)
        hit = self._items.get(key)
        if hit is not None and hit[0].values is grid.values and hit[0].labels is grid.labels:
            return False
        return self._last(slot, grid, levels, cmap, empty) is None

    def _last(self, slot: object, grid: Grid, levels: tuple[float, float], cmap: ColourMap | None,
              empty: tuple[int, int, int]) -> tuple[str, Grid, TileRender] | None:
        """How the slot's last render can make ``grid``'s: ("recolour" or "repaint", its grid, it)."""
        last = self._slots.get(slot) if slot is not None else None
        if last is None:
            return None
        old, render, (old_levels, old_name, _) = last
        if last[2] == self.key(grid, levels, cmap, empty)[2:]:
            return "recolour", old, render
        if (old.values is grid.values and old_levels == levels and (old_name is None) == (cmap is None)
                and render.rows is not None):
            return "repaint", old, render
        return None

    def _from_slot(self, slot: object, grid: Grid, levels: tuple[float, float], cmap: ColourMap | None,
                   empty: tuple[int, int, int]) -> TileRender:
        """A new render of ``grid``, from the slot's last one where it can be."""
        last = self._last(slot, grid, levels, cmap, empty)
        if last is None:
            return render_grid(grid, levels, cmap, empty)
        how, old, render = last
        if how == "recolour":
            return recolour(old, render, grid, levels, cmap, empty)
        return repaint(render, grid, cmap, empty)

    def adopt(self, entries: Entries) -> None:
        """Remember renders worked out elsewhere (``(key, grid, render)``, e.g. by a worker thread)."""
        for key, grid, render in entries:
            self._items.pop(key, None)
            self._items[key] = (grid, render)
        while len(self._items) > self.size:
            del self._items[next(iter(self._items))]

    def clear(self) -> None:
        """Forget every render (a theme change); each slot's last render is kept for its table rows."""
        self._items.clear()

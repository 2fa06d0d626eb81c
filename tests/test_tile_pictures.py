"""Issue 12 on the tiles' pictures: new values redraw only what depends on them, and every picture is the
one QPainter drew before. The numbers are copied into the text picture with NumPy (``scene.inking``),
grid lines and blank tiles are kept across values, opaque cells skip clearing what they cover; each
picture is compared pixel for pixel with one drawn the plain way, glyph by glyph and line by line."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage, QPainter, QPixmap

from gui import export
from gui.models.frame import Grid
from gui.models.lesson import Lesson
from gui.models.params import Params
from gui.scene import grid, inking, tilepics, upscale
from gui.scene.cells import paint_cells, paint_lines
from gui.scene.colour import RenderCache, TileRender
from gui.scene.grid import GridItem
from gui.scene.prerender import colourer
from gui.scene.theme import colour_map, theme_colours


def pixels(pic: QPixmap | QImage) -> np.ndarray:
    """Premultiplied ARGB words of a picture, shape (h, w)."""
    img = (pic if isinstance(pic, QImage) else pic.toImage()).convertToFormat(
        QImage.Format.Format_ARGB32_Premultiplied)
    a = np.frombuffer(img.constBits(), np.uint32).reshape(img.height(), img.bytesPerLine() // 4)
    return a[:, :img.width()].copy()


def tiles(params: Params, theme: str = "light") -> list[tuple[Grid, TileRender]]:
    """Every grid of a few frames of ``params`` with its render, as the stage colours them."""
    m = Lesson(params)
    out = []
    for k in (0, m.n_steps // 2, m.n_steps - 1):
        for panel in m.frame(k).panels:
            cmap = None if panel.colour == "none" else colour_map(theme, panel.colour)
            for g in panel.grids[:2]:
                out.append((g, RenderCache().get(g, panel.levels, cmap, (236, 236, 236))))
    return out


def item_for(g: Grid, d: TileRender, theme: str = "light",
             origin: tuple[float, float] = (37.7, 1.2)) -> GridItem:
    item = GridItem(theme_colours(theme))
    item.set_tile(g, d, origin, True)
    return item


def blank_canvas(item: GridItem, d: TileRender, px: float) -> tuple[QPixmap, QPainter]:
    """A transparent picture the size of the tile's and a painter on it, one unit a cell."""
    pm = QPixmap(*item._picture_size(d, px, 1.0))
    pm.fill(Qt.GlobalColor.transparent)
    q = QPainter(pm)
    q.scale(px, px)
    q.translate(-(item.origin[0] - 0.5), -(item.origin[1] - 0.5))
    return pm, q


def glyph_by_glyph(item: GridItem, g: Grid, d: TileRender, px: float) -> np.ndarray:
    """The text picture drawn the plain way: every cell's glyph drawn by QPainter, centred on the cell, label
    by label (where two glyphs' ink meets, the one drawn last blends over the other)."""
    pm, q = blank_canvas(item, d, px)
    size = grid.number_px(px, d.longest, item.zoom)
    q.resetTransform()
    for (s, dark), (ii, jj) in d.groups.items():
        gl = grid.glyph(s, dark, size, 1.0)
        for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
            assert g.labels[i, j] == s
            q.drawPixmap(QPointF(px * (j + 0.5) - gl.width() / 2, px * (i + 0.5) - gl.height() / 2), gl)
    q.end()
    return pixels(pm)


CASES = [Params(in_h=32, in_w=32), Params(in_h=7, in_w=9, integers=False),
         Params(in_h=6, in_w=6, integers=False, bias=True, mode="both"),
         Params(in_h=5, in_w=5, mode="backward")]
CEIL = Params(op="max", k_h=2, k_w=2, stride=(2, 2), ceil_mode=True, in_h=7, in_w=7)


@pytest.mark.parametrize("params", CASES, ids=["32x32", "decimals", "both", "backward"])
@pytest.mark.parametrize("px", [16.0, 18.264, 23.7, 44.9])
def test_numbers_copied_with_numpy_are_the_pixels_qpainter_draws(qapp, monkeypatch, params, px) -> None:  # type: ignore[no-untyped-def]
    copied: list[bool] = []
    real = grid.ink_spots
    monkeypatch.setattr(grid, "ink_spots", lambda *a: copied.append(real(*a)) or copied[-1])
    for g, d in tiles(params):
        if g.corner is not None and (g.corner != "").any():
            continue  # corner labels: the next test
        item = item_for(g, d, origin=(0.0, 0.0))
        np.testing.assert_array_equal(pixels(item._picture("text", g, d, px, 1.0)),
                                      glyph_by_glyph(item, g, d, px))
    assert any(copied)  # the NumPy path ran (it steps aside only where ink would cross a cell)


def test_a_fallback_and_corner_labels_draw_as_qpainter_does(qapp, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Long numbers in narrow cells (ink crossing into the next cell) fall back to QPainter; corner labels
    are drawn by it over the copied numbers."""
    copied: list[bool] = []
    real = grid.ink_spots
    monkeypatch.setattr(grid, "ink_spots", lambda *a: copied.append(real(*a)) or copied[-1])
    values = np.array([[-88.8, 0.25, 17.0], [3.5, -0.125, 9.99]])
    labels = np.array([["-88.8", "0.25", "17"], ["3.5", "-0.125", "9.99"]])
    corner = np.array([["a", "", "b"], ["", "c", ""]])
    d = RenderCache().get(Grid(values, labels), (-90.0, 20.0), colour_map("light", "input"), (236, 236, 236))
    for g, px in ((Grid(values, labels), 18.0), (Grid(values, labels, corner=corner), 40.3)):
        item = item_for(g, d)
        painted, q = blank_canvas(item, d, px)
        item._paint_text(q, g, d, px)
        q.end()
        np.testing.assert_array_equal(pixels(item._picture("text", g, d, px, 1.0)), pixels(painted))
    assert copied == [False, True]


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("params", [*CASES, CEIL], ids=["32x32", "decimals", "both", "backward", "ceil"])
def test_a_tile_picture_is_its_cells_then_lines_drawn_directly(qapp, monkeypatch, theme, params) -> None:  # type: ignore[no-untyped-def]
    """Lines come from a cached picture and only the far edges are cleared: still the same pixels, and
    no pixel left from memory the picture was made in (it starts filled with a colour here)."""
    class Dirty(QImage):
        def __init__(self, *args: object) -> None:
            super().__init__(*args)  # type: ignore[call-overload]
            if len(args) == 3 and isinstance(args[0], int):
                self.fill(0x7F123456)

    monkeypatch.setattr(tilepics, "QImage", Dirty)
    for g, d in tiles(params, theme):
        for px in (0.72, 9.5, 18.264, 31.3):
            item = item_for(g, d, theme)
            for name in ("full", "blank"):
                direct, q = blank_canvas(item, d, px)
                colours = None if name == "blank" else (d.rgba, item._qimage)
                paint_cells(q, g, colours, item._corner(), item.theme, px)
                paint_lines(q, g, item._corner(), item.theme, px)
                q.end()
                np.testing.assert_array_equal(pixels(item._picture(name, g, d, px, 1.0)), pixels(direct))


def test_new_values_redraw_cells_and_numbers_but_keep_lines_and_blank_pictures(qapp) -> None:  # type: ignore[no-untyped-def]
    m = Lesson(Params(in_h=8, in_w=8))
    f1 = m.frame(0)
    assert m.set_params(seed=7)
    f2 = m.frame(0)
    g1, g2 = f1.panel("output").grids[0], f2.panel("output").grids[0]
    assert not np.array_equal(g1.values, g2.values) and g1.pending_from is not None  # new values, half drawn
    cmap = colour_map("light", f1.panel("output").colour)
    d1, d2 = (RenderCache().get(g, (-20.0, 20.0), cmap, (236, 236, 236)) for g in (g1, g2))
    item = item_for(g1, d1)
    first = {n: item._picture(n, g1, d1, 30.0, 1.0) for n in ("full", "blank", "text")}
    statics = {k: v[1] for k, v in item._statics.items()}
    assert len(statics) == 3  # the lines, the blank tile and which cell each pixel shows (upscale)
    item.set_tile(g2, d2, item.origin, True)
    item._recent, item._pics = [], {}
    second = {n: item._picture(n, g2, d2, 30.0, 1.0) for n in ("full", "blank", "text")}
    assert second["blank"] is first["blank"]  # lines and blank kept
    assert {k: v[1] for k, v in item._statics.items()} == statics
    assert not np.array_equal(pixels(second["full"]), pixels(first["full"]))
    assert not np.array_equal(pixels(second["text"]), pixels(first["text"]))
    fresh = item_for(g2, d2)
    for n in ("full", "blank", "text"):
        np.testing.assert_array_equal(pixels(second[n]), pixels(fresh._picture(n, g2, d2, 30.0, 1.0)))
    # A theme switch forgets them: the lines and the blank cells take the new colours.
    item.theme.clear()
    item.theme.update(theme_colours("dark"))
    item.forget()
    item.set_tile(g2, d2, item.origin, True)
    dark = item_for(g2, d2, "dark")
    np.testing.assert_array_equal(pixels(item._picture("blank", g2, d2, 30.0, 1.0)),
                                  pixels(dark._picture("blank", g2, d2, 30.0, 1.0)))


def test_ink_spots_puts_each_glyphs_ink_at_its_spot_on_any_canvas(qapp) -> None:  # type: ignore[no-untyped-def]
    """Glyphs of different ink sizes, one with no ink at all (a space), on a canvas whose rows are wider
    than the picture (a QImage's padded lines) and on a plain one: each spot holds its glyph's inked
    box, copied pixel for pixel, and nothing else is touched."""
    glyphs = [grid.glyph(s, dark, 14, 1.0)
              for s, dark in (("7", True), ("-12.5", False), (" ", True), ("0", False))]
    gid = np.array([1, 0, 2, 3, 0, 1, 3, 2])
    cell = 60
    ii, jj = np.divmod(np.arange(gid.size), 3)
    x = jj * cell + 3.4
    y = ii * cell + 2.6
    spots = inking.Spots(glyphs, gid, x, y, np.stack([jj * cell, jj * cell + cell], 1),
                         np.stack([ii * cell, ii * cell + cell], 1))
    expected = np.zeros((3 * cell, 3 * cell), np.uint32)
    for k, g in enumerate(gid):
        ink = inking.ink_of(glyphs[g])
        h, w = ink.pixels.shape
        top, left = int(inking.qround(y[k])) + ink.top, int(inking.qround(x[k])) + ink.left
        expected[top:top + h, left:left + w] = ink.pixels
    assert (expected != 0).sum() > 100
    plain = np.zeros_like(expected)
    padded = np.zeros((3 * cell, 3 * cell + 5), np.uint32)
    for canvas, whole in ((plain, plain), (padded[:, :3 * cell], padded)):
        assert inking.ink_spots(canvas, spots)
        np.testing.assert_array_equal(canvas, expected)
        assert not whole[:, 3 * cell:].any()


def test_ink_of_a_glyph_is_its_inked_box(qapp) -> None:  # type: ignore[no-untyped-def]
    gl = grid.glyph("42", True, 14, 1.0)
    ink = inking.ink_of(gl)
    whole = pixels(gl)
    h, w = ink.pixels.shape
    np.testing.assert_array_equal(whole[ink.top:ink.top + h, ink.left:ink.left + w], ink.pixels)
    assert whole.sum() == ink.pixels.sum() > 0
    assert ink.pixels[0].any() and ink.pixels[-1].any() and ink.pixels[:, 0].any() and ink.pixels[:, -1].any()
    np.testing.assert_array_equal(inking.qround(np.array([0.5, 1.49, 2.5, -0.5, -1.5])), [1, 1, 3, -1, -2])


def test_tiles_a_big_frame_needs_are_made_while_a_worker_colours_it(qtbot) -> None:  # type: ignore[no-untyped-def]
    """A 16-channel change has ~100 tiles: the UI thread makes them (hidden) while the worker colours the
    frame, so showing it makes none; they are hidden until then (the last picture stays as it was)."""
    from tests.conftest import dispose_view

    view = export.offscreen_renderer((1400, 860))
    try:
        old = Lesson(Params(in_h=6, in_w=6)).frame()
        view.show_frame(old)
        shown = {p.name: list(view.visible_tiles(p.name)) for p in old.panels}
        f = Lesson(Params(in_h=6, in_w=6, in_c=3, out_c=4, mode="backward")).frame()
        need = {p.name: len(p.grids) for p in f.panels}
        colour = colourer(view)  # made on the UI thread, run by a worker
        adopt: list[object] = []
        worker = threading.Thread(target=lambda: adopt.append(colour(f)))
        worker.start()
        worker.join()
        qtbot.waitUntil(lambda: all(len(view.tiles[n]) >= k for n, k in need.items()))  # type: ignore[index]
        assert {p.name: list(view.visible_tiles(p.name)) for p in old.panels} == shown
        made = {n: list(view.tiles[n]) for n in need}  # type: ignore[index]
        adopt[0]()  # type: ignore[operator]
        view.show_frame(f)
        for n, k in need.items():
            assert view.tiles[n] == made[n] and len(view.visible_tiles(n)) == k  # type: ignore[index, arg-type]
    finally:
        dispose_view(view)


@pytest.mark.parametrize(("shape", "px", "dpr", "origin"), [
    ((34, 34), 18.264, 1.0, (0.0, 0.0)), ((7, 9), 23.7, 1.0, (37.7, 1.2)),
    ((3, 3), 44.9, 2.0, (-3.31, 12.77)), ((130, 61), 3.3, 1.0, (5.5, -2.25)),
    ((514, 514), 4.6, 1.0, (0.0, 0.0)), ((40, 90), 0.72, 1.5, (1.0, 2.0)),
    ((5, 800), 2.9, 1.0, (-11.1, 0.4)),  # wider than QPainter's 2048-pixel spans
])
def test_cell_colours_put_in_with_numpy_are_the_pixels_qpainter_draws(qapp, monkeypatch, shape, px, dpr,  # type: ignore[no-untyped-def]
                                                                     origin) -> None:
    """Issue 12 (``scene.upscale``): an opaque tile's colours come from NumPy, through a map of which cell
    each pixel shows that QPainter drew once per shape, size and place; the pictures are QPainter's own,
    and the map is kept for the next values."""
    rng = np.random.default_rng(3)
    grids = [Grid(rng.normal(size=shape) * 3, np.full(shape, "", "<U1")) for _ in range(2)]
    cmap = colour_map("light", "output")
    renders = [RenderCache().get(g, (-5.0, 5.0), cmap, (236, 236, 236)) for g in grids]
    item = GridItem(theme_colours("light"))
    drawn = []
    for g, d in zip(grids, renders, strict=True):
        assert d.opaque
        item.set_tile(g, d, origin, True)
        item._recent, item._pics = [], {}  # new values: new pictures (as ``_blit`` keys them)
        drawn.append(pixels(item._picture("full", g, d, px, dpr)))
        maps = [v[1] for k, v in item._statics.items() if k[0] == "cell map"]
        # One map, made once, used twice; cells under ``MAP_FROM_PX`` device pixels get none (QPainter's).
        assert len(maps) == 1 and (isinstance(maps[0], upscale.CellMap) if px * dpr >= upscale.MAP_FROM_PX
                                   else maps[0] is None)
    assert not np.array_equal(drawn[0], drawn[1])
    monkeypatch.setattr(tilepics, "cell_map", lambda *args: None)  # QPainter draws the colours
    for g, d, numpy_drawn in zip(grids, renders, drawn, strict=True):
        plain = GridItem(theme_colours("light"))
        plain.set_tile(g, d, origin, True)
        np.testing.assert_array_equal(numpy_drawn, pixels(plain._picture("full", g, d, px, dpr)))


def test_a_theme_switch_keeps_the_cell_map_and_draws_the_new_colours(qapp) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: a theme switch forgot the tiles' cell maps with their pictures, and made them again (~26 ms
    a switch at the largest setting); a map depends on no colour, so it is kept, and the picture in the new
    theme is a fresh tile's."""
    g = Grid(np.random.default_rng(5).normal(size=(15, 15)) * 3, np.full((15, 15), "", "<U1"))
    px, dpr, origin = 12.5, 1.0, (0.0, 0.0)

    def render(theme: str) -> TileRender:
        return RenderCache().get(g, (-5.0, 5.0), colour_map(theme, "output"), (236, 236, 236))

    item = GridItem(theme_colours("light"))
    item.set_tile(g, render("light"), origin, True)
    item._picture("full", g, item.render, px, dpr)
    maps = [v[1] for k, v in item._statics.items() if k[0] == "cell map"]
    assert len(maps) == 1 and isinstance(maps[0], upscale.CellMap)
    item.theme = theme_colours("dark")
    item.forget()  # as the view does on a theme switch
    item.set_tile(g, render("dark"), origin, True)
    switched = pixels(item._picture("full", g, item.render, px, dpr))
    assert [v[1] for k, v in item._statics.items() if k[0] == "cell map"] == maps  # the same map, kept
    fresh = GridItem(theme_colours("dark"))
    fresh.set_tile(g, render("dark"), origin, True)
    np.testing.assert_array_equal(switched, pixels(fresh._picture("full", g, fresh.render, px, dpr)))


def test_a_cell_map_is_only_made_of_rows_and_columns(qapp) -> None:  # type: ignore[no-untyped-def]
    """Turned cells are no grid of pixel rows and columns: no map (QPainter draws them); nor is a grid too
    big to number."""
    def place(q: QPainter) -> None:
        q.translate(40, 0)
        q.rotate(20)
        q.scale(9.0, 9.0)

    assert upscale.cell_map((200, 200), 1.0, (8, 8), (0.0, 0.0), place) is None
    assert upscale.cell_map((200, 200), 1.0, (upscale.MAX_CELLS, 2), (0.0, 0.0), lambda q: None) is None
    straight = upscale.cell_map((200, 200), 1.0, (8, 8), (0.0, 0.0), lambda q: q.scale(9.0, 9.0))
    assert straight is not None and straight.rows.tolist() == np.repeat(np.arange(8), 9).tolist()

"""What keeps the UI thread quick on the biggest lessons gives the same text and pictures as before."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

import engine.describe as describe
from engine import trace_conv2d_backward
from engine.describe import TIMES, _term, conv_backward_arithmetic, fmt
from gui.models.frame import Frame, Grid
from gui.models.lesson import Lesson
from gui.models.params import Params
from gui.scene import SceneView, colour
from gui.scene.colour import TileRender, changed_box, colourize, recolour, render_grid, repaint
from gui.scene.theme import ColourMap, colour_map, load_colour_map, qcolor
from tests.test_scene import view  # noqa: F401 - the offscreen stage fixture


def _every_term(step, grad_x_padded, offset, grad_bias_after, per_line, max_lines) -> str:  # type: ignore[no-untyped-def]
    """The caption built the slow way: every term formatted, then cut to what fits."""
    o, i, j, g = step.out_channel, step.out_row, step.out_col, step.grad
    lines = [f"dY[{o},{i},{j}] = {fmt(g)} flows back:  dX(window) += {_term(g)}{TIMES}W[{o}]; "
             f"dW[{o}] += {_term(g)}{TIMES}X(window); db[{o}] += {_term(g)} → {fmt(grad_bias_after)}"]
    terms, win = [], step.window
    for c in range(step.weights.shape[0]):
        for p, r in enumerate(win.rows):
            for q, col in enumerate(win.cols):
                ch = step.in_channels[c]
                name = f"dX[{ch},{int(r) - offset[0]},{int(col) - offset[1]}]"
                note = ""
                if win.kind[p, q] != 0:
                    name = f"dX_padded[{ch},{int(r)},{int(col)}]"
                    sr, sc = int(win.source_rows[p]), int(win.source_cols[q])
                    note = (f" (padding: folded onto X[{ch},{sr},{sc}])" if sr >= 0 and sc >= 0
                            else " (padding: dropped)")
                terms.append(f"{name} += {_term(g)}{TIMES}{_term(float(step.weights[c, p, q]))} = "
                             f"{fmt(float(step.grad_input[c, p, q]))} → "
                             f"{fmt(float(grad_x_padded[ch, r, col]))}{note}")
    room = max_lines * per_line
    if len(terms) > room:
        terms = [*terms[: room - 1], f"… and {len(terms) - room + 1} more (each on the grid)"]
    lines += [";   ".join(terms[k : k + per_line]) for k in range(0, len(terms), per_line)]
    return "\n".join(lines)


@pytest.mark.parametrize(("per_line", "max_lines"), [(3, 2), (1, 1), (100, 1), (2, 50)])
@pytest.mark.parametrize("padding_mode", ["zeros", "reflect"])
def test_backward_caption_formats_only_what_it_shows_and_reads_the_same(
        per_line: int, max_lines: int, padding_mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 5, 5)), rng.standard_normal((2, 2, 3, 3))
    kw = {"padding": 1, "stride": 2, "padding_mode": padding_mode}
    dy = rng.standard_normal((2, 3, 3))
    tr = trace_conv2d_backward(x, w, dy, **kw)
    for k in range(len(tr)):
        step, gx = tr[k], tr.partial(k).grad_x_padded
        want = _every_term(step, gx, (1, 1), 0.5, per_line, max_lines)
        calls: list[float] = []
        monkeypatch.setattr(describe, "fmt", lambda v, *a, _c=calls, **kw: _c.append(v) or fmt(v, *a, **kw))
        got = conv_backward_arithmetic(step, gx, (1, 1), 0.5, per_line=per_line, max_lines=max_lines)
        monkeypatch.setattr(describe, "fmt", fmt)
        assert got == want
        shown = min(18, per_line * max_lines)  # of 2 channels x 3 x 3 terms; 4 numbers each, 5 in the head
        assert len(calls) <= 4 * shown + 5


# --------------------------------------------------------------------------- colouring only what changed


def _reference(grid: Grid, levels: tuple[float, float], cmap: ColourMap | None,
               empty: tuple[int, int, int]) -> TileRender:
    """A grid coloured cell by cell, text colour from each cell's own colour (no shortcut)."""
    values = grid.values if cmap is not None else np.full(grid.values.shape, np.nan)
    rgba = colourize(values, levels, cmap or load_colour_map("CET-L1"), empty)
    lum = 0.299 * rgba[..., 0] + 0.587 * rgba[..., 1] + 0.114 * rgba[..., 2]
    return TileRender(rgba, lum > 140, grid.labels)


def _same(a: TileRender, b: TileRender) -> None:
    np.testing.assert_array_equal(a.rgba, b.rgba)
    np.testing.assert_array_equal(a.dark, b.dark)
    assert a.labels is b.labels and a.opaque == b.opaque


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_recolouring_the_changed_cells_gives_the_pixels_of_a_fresh_render(theme: str) -> None:
    rng = np.random.default_rng(7)
    cmap, empty, levels = colour_map(theme, "diverging"), (200, 10, 30), (-2.0, 2.0)
    values = rng.standard_normal((40, 30))
    values[0, :5], values[1, 0], values[2, 0] = np.nan, np.inf, -np.inf
    labels = np.full(values.shape, "")
    old = Grid(values, labels)
    render = render_grid(old, levels, cmap, empty)
    for r0, c0, fill in [(3, 4, 1.5), (0, 0, 0.25), (30, 25, np.nan), (10, 10, -9.0)]:
        new_values = values.copy()
        new_values[r0 : r0 + 5, c0 : c0 + 5] = fill if not np.isnan(fill) else np.nan
        new = Grid(new_values, np.full(values.shape, "1"))
        got = recolour(old, render, new, levels, cmap, empty)
        _same(got, _reference(new, levels, cmap, empty))
        _same(render_grid(new, levels, cmap, empty), _reference(new, levels, cmap, empty))
        assert changed_box(values, new_values) == (slice(r0, min(r0 + 5, 40)), slice(c0, min(c0 + 5, 30)))
    same = Grid(values.copy(), labels)  # nothing changed: the colours are shared, not made again
    assert recolour(old, render, same, levels, cmap, empty).rgba is render.rgba
    blank = render_grid(old, levels, None, empty)  # no map: every cell empty, whatever the values
    _same(recolour(old, blank, Grid(values + 1, labels), levels, None, empty),
          _reference(same, levels, None, empty))
    other_map = colour_map("dark" if theme == "light" else "light", "output")  # a theme switch
    _same(repaint(render, same, other_map, (1, 2, 3)), _reference(same, levels, other_map, (1, 2, 3)))
    other = Grid(rng.standard_normal((41, 30)), np.full((41, 30), ""))  # another shape: a fresh render
    _same(recolour(old, render, other, levels, cmap, empty), _reference(other, levels, cmap, empty))


def test_a_backward_step_colours_only_the_window_it_changed_with_the_same_pixels(
        view: SceneView, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    m = Lesson(Params(in_c=3, out_c=2, in_h=40, in_w=40, mode="backward"))
    k = m.n_forward + 5 if m.n_forward else 5
    view.show_frame(m.frame(k))
    coloured: list[int] = []
    real = colour.lut_indices
    monkeypatch.setattr(colour, "lut_indices", lambda v, *a: coloured.append(v.size) or real(v, *a))
    f = m.frame(k + 1)
    view.show_frame(f)
    dx = next(p for p in f.panels if p.name == "dx")
    assert sum(g.values.size for g in dx.grids) > 3 * 40 * 40
    assert 0 < sum(coloured) < 3 * 3 * 3 + 2 * 3 * 9 + 1  # a 3x3 window in 3 channels, and dW
    _shows_fresh_colours(view, f)


def _shows_fresh_colours(view: SceneView, f: Frame) -> None:  # noqa: F811
    """Every tile of ``view`` shows the colours a fresh render of its grid in the view's theme has."""
    empty = qcolor(view.theme, "empty")
    rgb = (empty.red(), empty.green(), empty.blue())
    for p in f.panels:
        cmap = None if p.colour == "none" else colour_map(view.theme_name, p.colour)
        tiles = view.visible_tiles(p.name)
        assert len(tiles) == len(p.grids)
        for tile, g in zip(tiles, p.grids, strict=True):
            _same(tile.item.render, _reference(g, p.levels, cmap, rgb))


def test_a_text_zoom_colours_nothing_again_and_a_theme_switch_only_looks_colours_up_again(
        view: SceneView, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    m = Lesson(Params(in_c=2, out_c=2, mode="backward"))
    f = m.frame(m.n_steps // 2)
    view.show_frame(f)
    coloured: list[int] = []
    real = colour.lut_indices
    monkeypatch.setattr(colour, "lut_indices", lambda v, *a: coloured.append(v.size) or real(v, *a))
    real_paint = colour.paint_rows
    view.set_theme(view.theme_name, zoom=1.5)
    assert view.zoom == 1.5 and coloured == []
    _shows_fresh_colours(view, f)
    painted: list[int] = []
    coloured.clear()  # the check above coloured its own references
    monkeypatch.setattr(colour, "paint_rows", lambda r, *a: painted.append(r.size) or real_paint(r, *a))
    view.set_theme("dark" if view.theme_name == "light" else "light")
    assert view.zoom == 1.5 and painted and coloured == []  # the values' table rows are kept
    _shows_fresh_colours(view, f)


def _settled(view: SceneView) -> tuple[float | None, QImage]:  # noqa: F811
    """The view's cell width and its picture once every posted event (a layout request) has run."""
    for _ in range(3):
        QApplication.sendPostedEvents()
        QApplication.processEvents()
    return view._per_cell, view.grab().toImage()


@pytest.mark.parametrize("zoom", [1.5, 0.8, 2.0])
def test_a_text_zoom_lays_out_before_the_next_paint_which_is_the_settled_picture(
        view: SceneView, zoom: float) -> None:  # noqa: F811
    m = Lesson(Params(in_c=2, out_c=2, in_h=12, in_w=12, mode="backward"))
    view.show_frame(m.frame(m.n_steps // 2))
    before = _settled(view)
    view.set_theme(view.theme_name, zoom=zoom)
    first = view._per_cell, view.grab().toImage()  # what the next paint shows, before any event runs
    after = _settled(view)
    assert after[0] != before[0]  # the zoom did change the layout (the captions grew or shrank) ...
    assert first[0] == after[0] and first[1] == after[1]  # ... and only once: no second fit, same pixels


@pytest.mark.parametrize("alpha_at", [None, 0, 255, 100])
def test_a_render_is_opaque_exactly_when_every_cell_colour_is_whatever_the_map(alpha_at: int | None) -> None:
    """Opaque maps tell it without a scan of every cell; a map with a see-through colour still looks."""
    values = np.linspace(-1.0, 1.0, 40 * 30).reshape(40, 30)  # every colour of the map at levels (-1, 1)
    values[3, 4] = np.nan  # the empty colour
    g = Grid(values=values, labels=np.full((40, 30), "", dtype=object))
    lut = load_colour_map("CET-L1").lut.copy()
    if alpha_at is not None:
        lut[alpha_at, 3] = 128
    cmap = ColourMap("test", lut)
    for levels in ((-1.0, 1.0), (5.0, 6.0)):  # every row of the map in use, or only row 0
        rows = set(colour.table_rows(values, levels).ravel().tolist())
        want = alpha_at is None or alpha_at not in rows
        r = render_grid(g, levels, cmap, (250, 250, 250))
        assert r.opaque == want == bool((r.rgba[..., 3] == 255).all())
        assert repaint(r, g, cmap, (10, 10, 10)).opaque == want


@pytest.mark.parametrize("expanded", [False, True])
def test_labels_formatted_for_a_whole_stack_read_as_each_channel_formatted_alone(expanded: bool) -> None:
    """The labels of a stack's channels are formatted in one pass (256 kernels of 15x15 when expanded):
    each grid's labels are still exactly its own values' labels."""
    from gui.models.frame import cell_labels

    m = Lesson(Params(in_c=3, out_c=4, in_h=9, in_w=9, k_h=3, k_w=3, padding=(1, 1, 1, 1), mode="backward"))
    checked = 0
    for k in (0, m.n_forward + 3, m.n_steps - 1):
        for p in m.frame(k, expanded=expanded).panels:
            for g in p.grids:
                if (g.labels != "").any():
                    blank = None if g.kinds is None else g.kinds >= 2
                    assert g.labels.tolist() == cell_labels(g.values, blank=blank).tolist(), p.name
                    checked += 1
    assert checked > (40 if expanded else 20)


def test_a_panels_new_grids_are_coloured_together_with_the_bytes_of_each_alone(
        view: SceneView, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """Issue 12: expanding a 16 -> 16 lesson shows 256 kernels and 256 dL/dW grids never coloured
    before; each panel's are coloured in one lookup, and every tile shows what colouring it alone gives
    (a step after it still recolours from each tile's own render)."""
    m = Lesson(Params(in_c=3, out_c=4, in_h=9, in_w=9, mode="backward"))
    k = m.n_forward + 4
    f = m.frame(k, expanded=True)
    lookups: list[int] = []
    real = colour.lut_indices
    monkeypatch.setattr(colour, "lut_indices", lambda v, *a: lookups.append(v.size) or real(v, *a))
    view.show_frame(f)
    assert sum(len(p.grids) >= 12 for p in f.panels) >= 2  # kernels and dL/dW: 12 grids each
    assert len(lookups) <= len(f.panels)  # one per panel (a panel of one grid: its own)
    _shows_fresh_colours(view, f)
    g = m.frame(k + 1, expanded=True)
    view.show_frame(g)
    _shows_fresh_colours(view, g)

"""Display defects a lecturer would notice, read back from what is painted: titles on one line,
numbers only where they fit their cells, the room the views take, lines clear of the numbers."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from tests.test_titles_whole import painted_lines


def settle(qtbot, window, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    """``window`` resized to ``size`` (or its minimum size, if larger: 1043 px wide) and laid out."""
    window.resize(*size)
    want = (max(size[0], window.minimumSizeHint().width()), max(size[1], window.minimumSizeHint().height()))
    qtbot.waitUntil(lambda: (window.width(), window.height()) == want, timeout=2000)
    for _ in range(3):
        QApplication.processEvents()


@pytest.mark.parametrize(("size", "step"), [((1400, 860), 12), ((1920, 1080), 12), ((1024, 768), 17)])
def test_backward_titles_stay_on_one_line(window, qtbot, size, step) -> None:  # type: ignore[no-untyped-def]
    """"Target T" read "Target" over "T" in the default window; "Kernel W", "Output Y" too at 1024x768:
    a short title takes a smaller type, or more room, never two lines."""
    assert window.files.open_preset("backprop-conv"), window.status.text()
    window.model.set_step(step)
    settle(qtbot, window, size)
    f = window.model.frame(step)
    titles = window.renderer.titles
    shown = {p.name: painted_lines(titles[p.name].textItem) for p in f.panels}
    assert "target" in shown
    assert all(lines == [f.panel(name).title] for name, lines in shown.items()), shown
    rects = {n: titles[n].sceneBoundingRect() for n in shown}
    for name, rect in rects.items():  # and a title kept on one line runs into no other
        assert all(o == name or not rect.intersects(r) for o, r in rects.items()), name


# --------------------------------------------------------------------------- numbers only where they fit
def long_labelled_tile():  # type: ignore[no-untyped-def]
    """A grid whose labels run to 5 characters ("−0.49") and its render, as the stage colours it."""
    from gui.models.lesson import Lesson
    from gui.models.params import Params
    from gui.scene.colour import RenderCache
    from gui.scene.theme import colour_map

    f = Lesson(Params(integers=False)).frame(3)
    for panel in f.panels:
        cmap = None if panel.colour == "none" else colour_map("light", panel.colour)
        g = panel.grids[0]
        d = RenderCache().get(g, panel.levels, cmap, (236, 236, 236))
        if d.longest >= 5:
            return g, d
    raise AssertionError("no grid with 5-character labels")


def painted_labels(px: float) -> int:
    """How many pixels the flat view's labels of ``long_labelled_tile`` ink at ``px`` pixels a cell."""
    import numpy as np
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter

    from gui.scene.grid import GridItem
    from gui.scene.theme import theme_colours

    g, d = long_labelled_tile()
    item = GridItem(theme_colours("light"))
    item.set_tile(g, d, (0.0, 0.0), True)
    h, w = g.shape
    img = QImage(int(px * w) + 2, int(px * h) + 2, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.transparent)
    q = QPainter(img)
    q.scale(px, px)
    q.translate(0.5, 0.5)
    item.paint_labels(q)
    q.end()
    a = np.frombuffer(img.constBits(), np.uint32).reshape(img.height(), img.bytesPerLine() // 4)
    return int((a >> 24 > 0).sum())


def test_flat_numbers_too_long_for_their_cells_are_not_drawn(qapp) -> None:  # type: ignore[no-untyped-def]
    """20-pixel cells are wide enough for numbers (``MIN_TEXT_CELL``), but "−0.49" would need type
    under the 7-pixel floor there: it spilled over its neighbours; now the tile reads as a picture."""
    from gui.scene.numbers import MIN_NUMBER_PX, MIN_TEXT_CELL, numbers_fit

    assert MIN_TEXT_CELL <= 20 and not numbers_fit(20, 5) and numbers_fit(5 * MIN_NUMBER_PX / 1.5, 5)
    assert painted_labels(20) == 0
    assert painted_labels(40) > 0  # where they fit, they are drawn


@pytest.mark.parametrize("size", [(1000, 700), (1500, 980), (1920, 1080)])  # the stage in 1400x860, 1920x1080
def test_lenet_c1_stage_draws_only_numbers_that_fit_their_faces(offscreen_renderers, size) -> None:
    """LeNet-5's C1 in the stage view: the 32×32 input's and 28×28 output's numbers were drawn at the
    7-pixel floor, wider than their faces ("−0.49−0.59−1.7" ran together); a plane whose numbers do not
    fit now reads as a picture, and every number drawn lies inside its face."""
    from test_stage_faces import ink_box, inside_face

    from gui import export
    from gui.models import scenario
    from gui.models.lesson import Lesson

    m = Lesson()
    assert scenario.apply(m, scenario.load_preset("lenet5-c1")), m.last_error
    assert m.set_view("stage")
    r = offscreen_renderers(size)
    export.draw(r, m, 3)
    export.grab(r)  # painted: the painter notes the type sizes it used
    f = m.frame(3)
    st = r.stage
    shown = [(p, st.number_px[p]) for p in st.number_px] + [("kernel", s) for s in st.box_number_px.values()]
    assert shown or size[0] < 1920  # at 1920x1080 the kernels' 5×5 numbers are drawn
    for pname, type_px in shown:
        panel = f.panel(pname)
        render = st._render(panel, panel.grids[panel.front])
        for s, dark in render.groups:
            assert inside_face(ink_box(s, dark, type_px), st.cell_px[pname]), (pname, s, type_px)


# --------------------------------------------------------------------------- the room a backward view takes
def stage_fill(r) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """How much of the view box's width and height the flat stage takes."""
    rect = r._range
    return rect.width() * r._per_cell / r.view.width(), rect.height() * r._per_cell / r.view.height()


@pytest.mark.parametrize("size", [(1400, 860), (1920, 1080)])
def test_a_backward_view_takes_the_room_beside_it(window, qtbot, size) -> None:  # type: ignore[no-untyped-def]
    """At 1920x1080 the backward stage took 1119 of 1494 pixels across, its 3×3 panels as small as the
    7×7 input's cells: the short panels now grow into the room (up to their row's height), the input
    keeps its size, and the stage fills the view one way and nearly the other (up to ``MAX_GROW``)."""
    assert window.files.open_preset("backprop-conv"), window.status.text()
    window.model.set_step(12)
    settle(qtbot, window, (1400, 860))
    settle(qtbot, window, size)  # as a lecturer does: the default window, then larger
    r = window.renderer
    scale = {name: tiles[0].scale for name, tiles in r.tiles.items() if tiles and tiles[0].is_visible()}
    assert scale["input"] == scale["dx"] == 1.0
    tallest = r.tiles["input"][0].shape[0] / 3  # a 3×3 panel grown to the padded input's height, no more
    for name in ("kernel", "output", "target", "dw", "dy"):
        assert 1.5 <= scale[name] <= tallest, (name, scale)  # larger, never taller than the 7×7 input
    across, down = stage_fill(r)
    assert max(across, down) > 0.99 and min(across, down) > 0.85, (across, down)  # (0.75 at 1920x1080)


def test_forward_layouts_do_not_grow(offscreen_renderers) -> None:
    """One-row (forward) stages keep their layout: every panel at the size ``MIN_SHARE`` gives it."""
    from gui import export
    from gui.models import scenario
    from gui.models.lesson import Lesson
    from gui.scene.layout import panel_scales

    for name in ("conv-half-padding", "maxpool-2x2", "lenet5-c1", "backprop-conv"):
        m = Lesson()
        assert scenario.apply(m, scenario.load_preset(name)), m.last_error
        r = offscreen_renderers((1524, 991))
        export.draw(r, m, 2)  # backprop-conv's step 2 is its forward pass
        f = m.frame(2)
        assert not any(p.row == 1 for p in f.panels)
        want = panel_scales(f)
        for p in f.panels:
            assert r.tiles[p.name][0].scale == want[p.name], (name, p.name)


# --------------------------------------------------------------------------- the matrix picture at 1024x768
@pytest.mark.parametrize("mode", ["forward", "backward"])
def test_the_matrix_carries_its_numbers_at_1024x768(window, qtbot, mode) -> None:  # type: ignore[no-untyped-def]
    """C's title ("C 4×16: one row per output cell (a kernel placement), · = structural zero") pushed
    the panels beside C 11 cells away: C's cells were 13 pixels, too small for numbers. The facts line
    says what a row is; the title is short, and C's numbers are drawn."""
    from gui.scene.numbers import numbers_fit

    assert window.files.open_preset("conv-as-matrix"), window.status.text()
    assert window.model.set_params(mode=mode), window.model.last_error
    window.model.set_step(1)
    settle(qtbot, window, (1024, 768))
    r = window.renderer
    f = window.model.frame(1)
    assert f.panel("matrix").title == "C 4×16, · = structural zero"
    assert any("one row per output cell" in fact for fact in f.facts)
    tile = r.tiles["matrix"][0]
    px = r._per_cell * tile.scale
    assert numbers_fit(px, tile.item.render.longest), px


# --------------------------------------------------------------------------- stage lines under the numbers
def cells_under(plane, segments) -> set[tuple[int, int]]:  # type: ignore[no-untyped-def]
    """Cells of ``plane`` whose faces the scene segments cross (sampled finely)."""
    out = set()
    for (x0, y0), (x1, y1) in segments:
        for k in range(2001):
            hit = plane.cell_at(x0 + (x1 - x0) * k / 2000, y0 + (y1 - y0) * k / 2000)
            if hit is not None:
                out.add(hit)
    return out


@pytest.mark.parametrize(("name", "step"), [("conv-half-padding", 7), ("backprop-conv", 12)])
def test_stage_lines_never_cross_a_number(offscreen_renderers, name, step) -> None:
    """The lines from the footprint to the cell being written crossed the "8" and "1" beside the window
    (conv-half-padding, step 8); the gradient's arrows crossed dL/dY's "−39" and dL/dX's "−106": every
    number a line or an arrow crosses is written over it, its ink the number's own colour."""
    import numpy as np
    from PySide6.QtGui import QImage

    from gui import export
    from gui.models import scenario
    from gui.models.lesson import Lesson
    from gui.scene.grid import glyph

    m = Lesson()
    assert scenario.apply(m, scenario.load_preset(name)), m.last_error
    assert m.set_view("stage")
    r = offscreen_renderers((1500, 980))
    export.draw(r, m, step)
    img = export.rgb(export.grab(r)).astype(int)
    st, f = r.stage, m.frame(step)
    lines = [(a, b) for a, b in st.link_lines()] + [(a, b) for a, b, _ in st.flow_segments()]
    assert lines
    checked = 0
    for pname in (st.layout.lower, st.layout.upper):
        panel, size = f.panel(pname), st.number_px.get(pname)
        if panel is None or size is None:
            continue
        g = panel.grids[panel.front]
        dark_of = {s: dark for s, dark in st._render(panel, g).groups}
        stop = g.values.size if g.pending_from is None else g.pending_from
        for i, j in sorted(cells_under(st.plane(pname), lines)):
            s = g.labels[i, j]
            if not s or i * g.shape[1] + j >= stop:  # not computed yet: no number drawn
                continue
            pic = glyph(s, dark_of[s], size, 1.0).toImage().convertToFormat(QImage.Format.Format_RGBA8888)
            w, h = pic.width(), pic.height()
            alpha = np.frombuffer(pic.constBits(), np.uint8).reshape(h, pic.bytesPerLine() // 4, 4)[:, :w, 3]
            at = r.cell_center(pname, panel.front, i, j)
            x0, y0 = round(at.x() - w / 2), round(at.y() - h / 2)
            want = 0x11 if dark_of[s] else 0xFF
            off = min(  # the painter rounds the glyph's corner its own way: the best of a pixel either side
                np.abs(img[y0 + dy:y0 + dy + h, x0 + dx:x0 + dx + w][alpha > 200] - want).max()
                for dx in (-1, 0, 1) for dy in (-1, 0, 1))
            assert off < 60, (pname, (i, j), s, off)
            checked += 1
    assert checked >= 3

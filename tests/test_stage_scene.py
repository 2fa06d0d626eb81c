"""Issue 10 on the painted stage: titles that never collide or leave the view, panels that keep a
readable width, the facts line and the lecturer's words painted, numbers above the flow lines, a
hatching a projector keeps, and type that a back row reads at 1080p. Geometry and pixels are read
from the painted items, never from the frame alone."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QRectF
from PySide6.QtGui import QColor, QFontInfo, QImage, QPainter, QTransform
from PySide6.QtWidgets import QApplication

from gui import export
from gui.models import interaction, resources, scenario
from gui.models.frame import Frame, Grid
from gui.models.lesson import Lesson
from gui.models.params import Params
from gui.scene import SceneView, grid
from gui.scene.colour import RenderCache
from gui.scene.grid import GridItem
from gui.scene.layout import TITLE_PT, title_floor
from gui.scene.theme import colour_map, theme_colours

HALL = (1920, 1080)
PRESENTER_ZOOM = 1.6  # what F5 sets (MainWindow.toggle_presenter)


@pytest.fixture
def make_view(qapp) -> Iterator:  # type: ignore[no-untyped-def]
    made: list[SceneView] = []

    def make(size: tuple[int, int] = (1400, 860), zoom: float = 1.0) -> SceneView:
        v = export.offscreen_renderer(size)
        v.set_theme("light", zoom=zoom)
        made.append(v)
        return v

    yield make
    for v in made:
        v.hide()
        v.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def show(view: SceneView, f: Frame) -> None:
    view.show_frame(f)
    view.glide(1.0)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    QApplication.processEvents()


def picture_lesson(n: int = 64) -> Lesson:
    m = Lesson()
    assert m.use_picture(np.random.default_rng(0).random((1, n, n)))
    return m


def preset(name: str, step: int = 0) -> Lesson:
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset(name))
    m.set_step(step)
    return m


def title_rects(view: SceneView) -> dict[str, QRectF]:
    return {name: t.sceneBoundingRect() for name, t in view.titles.items() if t.textItem.toPlainText()}


def tile_rects(view: SceneView) -> dict[str, list[QRectF]]:
    """Where each panel's tiles are painted, in the widget's pixels."""
    out: dict[str, list[QRectF]] = {}
    for name in view.tiles:
        out[name] = []
        for t in view.visible_tiles(name):
            h, w = t.shape
            cells = QRectF(t.origin[0] - 0.5 * t.scale, t.origin[1] - 0.5 * t.scale, w * t.scale, h * t.scale)
            out[name].append(view.view.mapViewToScene(cells).boundingRect())
    return out


def check_titles(view: SceneView, f: Frame, zoom: float) -> None:
    """Every title is all there, inside the view, clear of every other title and panel, and not
    shrunk below its floor."""
    box = view.view.sceneBoundingRect().adjusted(-1, -1, 1, 1)
    titles = title_rects(view)
    tiles = tile_rects(view)
    assert set(titles) == {p.name for p in f.panels}
    floor = title_floor(round(TITLE_PT * zoom))
    for name, rect in titles.items():
        t = view.titles[name]
        assert t.textItem.toPlainText() == f.panel(name).title  # never cut short
        assert box.contains(rect), (name, rect, box)  # never clipped by the view
        assert t.textItem.font().pointSize() >= floor, (name, t.textItem.font().pointSize(), floor)
        for other, orect in titles.items():
            if other != name:
                assert not rect.intersects(orect), (name, other)
        for other, rects in tiles.items():
            for r in rects:
                assert not rect.adjusted(1, 1, -1, -1).intersects(r), (name, "covers", other)


# --------------------------------------------------------------------------- 13: titles and widths
CASES = {
    "zoom-2": (lambda: Lesson(Params()), 7, 2.0, (900, 700)),  # the output's title was clipped
    "zoom-2-two-kernels": (lambda: Lesson(Params(out_c=2)), 7, 2.0, (1020, 770)),
    "zoom-3-narrow": (lambda: Lesson(Params(out_c=3, in_c=2, flip_kernel=True)), 3, 3.0, (900, 640)),
    "picture-64": (picture_lesson, 0, 1.0, (1000, 700)),
    "backward": (lambda: preset("backprop-conv"), 12, 1.0, (1000, 700)),
    "backward-zoom-2": (lambda: preset("backprop-conv"), 12, 2.0, (1000, 700)),
    "backward-bias-db": (lambda: Lesson(Params(mode="backward", bias=True, out_c=3, in_c=2)), 40, 1.5,
                         (1100, 720)),
    "pool-dilated": (lambda: Lesson(Params(op="avg", in_h=7, in_w=7, dilation=(2, 2), padding=(2, 2, 2, 2),
                                           count_include_pad=False)), 0, 2.0, (1000, 700)),
    "gather": (lambda: Lesson(Params(mode="backward", grad_view="gather", stride=(2, 2))), 5, 2.0,
               (1000, 700)),
    "presenter-backward": (lambda: preset("backprop-conv"), 12, PRESENTER_ZOOM, HALL),
}


@pytest.mark.parametrize("name", list(CASES))
def test_titles_never_overlap_leave_the_view_or_shrink_below_their_floor(make_view, name) -> None:
    """Regression (13): at text zoom 2.0 the output panel's title was clipped; with a 64×64 picture the
    kernel's title hid under the output's."""
    make, step, zoom, size = CASES[name]
    m = make()
    view = make_view(size, zoom)
    for k in (step, m.n_steps - 1):
        f = m.frame(k)
        show(view, f)
        check_titles(view, f, zoom)


def test_a_small_panel_keeps_a_readable_width_beside_a_large_picture(make_view) -> None:
    """Regression (13): beside a 64×64 picture the 3×3 kernel was squashed to a few pixels."""
    m = picture_lesson()
    view = make_view((1000, 700))
    show(view, m.frame())
    (inp,), (kern,) = (view.visible_tiles(n) for n in ("input", "kernel"))
    w_in = inp.item.sceneBoundingRect().width()
    w_kernel = kern.item.sceneBoundingRect().width()
    assert w_kernel >= 0.25 * w_in
    cell_px = w_kernel / 3
    assert cell_px >= grid.MIN_TEXT_CELL  # its numbers are drawn
    # Its cells still answer the mouse where they are drawn.
    at = view.cell_center("kernel", 0, 2, 1)
    assert view.pick(view.mapToScene(at.toPoint())) == ("kernel", 0, 2, 1)
    legend = view.legends["kernel"].sceneBoundingRect()
    assert legend.width() > 0.8 * w_kernel * 0.9


# --------------------------------------------------------------------------- the facts and the words
def test_the_facts_and_the_lecturers_words_are_painted_on_the_stage(make_view) -> None:
    m = preset("backprop-conv", 12)
    m.set_presentation("Gradients flow back", "Each dY cell sends dY·W to its window.")
    for size, zoom in (((1280, 720), 1.0), (HALL, PRESENTER_ZOOM)):
        view = make_view(size, zoom)
        f = m.frame()
        show(view, f)
        assert view.heading.text == "<b>Gradients flow back</b> — Each dY cell sends dY·W to its window."
        for fact in f.facts:
            assert fact in view.facts.text.replace("&lt;", "<").replace("&gt;", ">")
        for label in (view.heading, view.caption, view.facts, view.arith):
            r = label.sceneBoundingRect()
            assert r.height() > 5 and QRectF(0, 0, *size).contains(r), (label.text[:30], r)
        img = view.grab().toImage()
        assert img.width() == size[0]
    empty = make_view()
    show(empty, Lesson().frame())
    assert empty.heading.text == "" and empty.heading.sceneBoundingRect().height() <= 1


def test_a_tall_stage_on_a_wide_screen_takes_the_text_beside_it(make_view) -> None:
    """The backward pass on a 16:9 projector: the facts and arithmetic move right of the stage, so
    the grids get the height."""
    m = preset("backprop-conv", 12)
    view = make_view(HALL, PRESENTER_ZOOM)
    show(view, m.frame())
    assert view.text.mode == "side"
    stage = view.view.sceneBoundingRect()
    for label in (view.facts, view.arith):
        assert label.sceneBoundingRect().left() >= stage.right() - 1
    forward = make_view(HALL, PRESENTER_ZOOM)
    show(forward, Lesson(Params()).frame(7))
    assert forward.text.mode == "bottom"
    assert forward.arith.sceneBoundingRect().top() >= forward.view.sceneBoundingRect().bottom() - 1


# --------------------------------------------------------------------------- the back row at 1080p
def number_sizes(view: SceneView) -> dict[str, int]:
    """The type size (pixels) each front tile with numbers paints them in, from its painted cell size."""
    sizes = {}
    for name in view.tiles:
        for t in view.visible_tiles(name):
            item = t.item
            if not item.front or item.render is None or not item.render.groups:
                continue
            px = item.sceneTransform().m11()  # widget pixels per cell
            assert px >= grid.MIN_TEXT_CELL, (name, px)  # the numbers are drawn at all
            sizes[name] = grid.number_px(px, item.render.longest, item.zoom)
    return sizes


def test_presenter_backward_screen_is_legible_at_1080p(make_view) -> None:
    """At 1920×1080 in presenter mode no title or number of the backward screen shrinks below what a
    back row reads: titles at least 24 px, cell numbers 16 px, legends 14 px, the text 14 pt."""
    m = preset("backprop-conv")
    view = make_view(HALL, PRESENTER_ZOOM)
    for k in (0, 6, 12, m.n_steps - 1):
        f = m.frame(k)
        show(view, f)
        for name, t in view.titles.items():
            if t.textItem.toPlainText():
                assert QFontInfo(t.textItem.font()).pixelSize() >= 24, name
        sizes = number_sizes(view)
        assert set(sizes) == {p.name for p in f.panels if p.grids[p.front].labels.any()}
        assert min(sizes.values()) >= 16, sizes
        for p in f.panels:
            if p.legend is not None:
                assert view.legends[p.name].isVisible() and view.legends[p.name].text_px >= 14
        for label in (view.caption, view.facts, view.arith):  # 14 pt: about 19 px
            assert float(label.opts["size"].removesuffix("pt")) >= 14, label.text[:40]


def test_text_zoom_scales_the_cell_numbers(make_view, monkeypatch) -> None:
    sizes: dict[float, list[float]] = {}
    real = grid.glyph
    current: list[float] = []

    def record(s: str, dark: bool, size: int, dpr: float) -> object:
        current.append(size)
        return real(s, dark, size, dpr)

    monkeypatch.setattr(grid, "glyph", record)
    f = Lesson(Params(in_h=4, in_w=4, padding=(0, 0, 0, 0), k_h=2, k_w=2)).frame()
    for zoom in (1.0, 2.0):
        view = make_view((1400, 860), zoom)
        current.clear()
        show(view, f)
        view.grab()
        tile = view.visible_tiles("input")[0]
        px = tile.item.sceneBoundingRect().width() / 4
        sizes[zoom] = [s / px for s in current]
    assert min(sizes[2.0]) > 1.2 * max(sizes[1.0])  # relative to the cell, the numbers grew


# --------------------------------------------------------------------------- flow lines, hatching, zeros
def test_flow_lines_run_under_the_numbers(make_view, monkeypatch) -> None:
    """The lines from dL/dY to dL/dX crossed the numbers of dL/dW: the numbers are now a layer of
    their own above every flow line, and the tile picture under the lines holds no text."""
    m = preset("backprop-conv", 12)
    view = make_view(HALL, PRESENTER_ZOOM)
    show(view, m.frame())
    flow = view.marks.flow
    assert flow.isVisible()
    for name in ("dx", "dw", "dy"):
        for tile in view.visible_tiles(name):
            assert tile.item.zValue() < flow.zValue() < tile.item.labels.zValue()
    drawn: list[str] = []
    real = grid.glyph
    monkeypatch.setattr(grid, "glyph", lambda s, *a: drawn.append(s) or real(s, *a))
    tile = view.visible_tiles("dw")[0]
    img = QImage(400, 400, QImage.Format.Format_ARGB32)
    img.fill(0)
    p = QPainter(img)
    p.setTransform(QTransform.fromScale(60, 60).translate(-tile.origin[0] + 1, -tile.origin[1] + 1))
    tile.item.paint(p)
    assert drawn == []  # cells and lines only
    tile.item.labels.paint(p)
    p.end()
    assert set(drawn) >= set(m.frame().panel("dw").grids[0].labels.ravel().tolist()) - {""}


def paint_tile(g: Grid, px: int = 40) -> np.ndarray:
    """The tile of ``g`` painted at ``px`` pixels per cell, as RGB bytes (h·px, w·px, 3)."""
    item = GridItem(theme_colours("light"))
    render = RenderCache().get(g, (0.0, 9.0), colour_map("light", "input"), (236, 236, 236))
    item.set_tile(g, render, (0.0, 0.0), True)
    h, w = g.shape
    img = QImage(w * px, h * px, QImage.Format.Format_RGB32)
    img.fill(QColor("white"))
    p = QPainter(img)
    p.setTransform(QTransform.fromScale(px, px).translate(0.5, 0.5))
    item.paint(p)
    p.end()
    a = np.frombuffer(img.constBits(), np.uint8).reshape(h * px, w * px, 4)
    return a[..., [2, 1, 0]].astype(int)


def test_never_reached_rows_are_hatched_boldly_enough_for_a_projector(qapp) -> None:
    """The hatching was a 1-pixel pattern at 27% opacity: projectors wash it out."""
    values = np.full((5, 5), 4.0)
    labels = np.full((5, 5), "")
    plain = paint_tile(Grid(values, labels))
    hatched = paint_tile(Grid(values, labels, unreached_rows=(2,)))
    row = slice(2 * 40 + 3, 3 * 40 - 3)
    change = np.abs(hatched[row] - plain[row]).sum(axis=2)
    assert (change > 90).mean() > 0.25  # a quarter of the row's pixels change clearly
    assert change.mean() > 60
    others = np.r_[0:76, 124:200]  # (the band's 2-pixel frame reaches a pixel past it)
    assert np.abs(hatched[others] - plain[others]).max() < 60  # and nothing else does


def test_inserted_zeros_are_drawn_apart_from_real_zeros(make_view) -> None:
    p = Params(mode="backward", grad_view="gather", stride=(2, 2), upstream="custom")
    m = Lesson(p)
    assert m.load(p, upstream=np.array([[[0.0, 1.0, 2.0], [3.0, 0.0, 4.0], [5.0, 6.0, 0.0]]]))
    g = m.frame().panel("input").grids[0]
    picture = paint_tile(g)
    real_zero = np.argwhere((g.kinds == 0) & (g.values == 0))[0]
    inserted = np.argwhere(g.kinds == 3)[0]

    def colour(ij: np.ndarray) -> np.ndarray:
        i, j = ij
        return picture[i * 40 + 5 : i * 40 + 12, j * 40 + 5 : j * 40 + 12].reshape(-1, 3).mean(axis=0)

    assert np.abs(colour(real_zero) - colour(inserted)).sum() > 60


# --------------------------------------------------------------------------- hovering a padding copy
def test_hovering_a_reflected_padding_cell_lights_its_source_on_the_stage(window, user) -> None:
    m = window.model
    assert m.set_params(padding=(2, 2, 2, 2), padding_mode="reflect")
    user.hover_cell(window.renderer, "input", 0, 1)
    src = window.renderer.marks.hover["source"]
    assert src.cells == [(4.0, 3.0)]
    assert window.renderer.front_tile("input").origin == (src.pos().x(), src.pos().y())
    assert window.status.text().startswith("Padding cell (0, 1) of the padded grid copies input cell (2, 1)")
    user.hover_cell(window.renderer, "input", 3, 3)
    assert src.cells == []
    assert interaction.hover(m, "input", 3, 3).source is None


# --------------------------------------------------------------------------- controllers
def test_opening_a_preset_ends_the_deck(window) -> None:
    """Regression (12): opening a preset while a deck was open left the deck (and Page Down) going."""
    assert window.files.open_path(resources.deck_path("conv-arithmetic"))
    assert window.files.deck and window.act_next.isEnabled()
    assert window.files.open_preset("maxpool-2x2")
    assert window.files.deck == [] and not window.act_next.isEnabled() and not window.act_prev.isEnabled()
    window.files.deck_step(1)
    assert "No lecture deck" in window.status.text()


def test_a_stale_gradient_check_is_cleared(window) -> None:
    """Regression (15): the result of a check stayed after switching the pass to forward."""
    m = window.model
    assert m.set_params(mode="backward")
    window.stage.check_gradient()
    assert "analytic" in window.controls.check_result.text()
    assert m.set_params(mode="forward")
    assert window.controls.check_result.text() == ""


def test_the_status_bar_says_what_was_loaded_last(window, tmp_path) -> None:
    """Regression (15): "Opened preset …" stayed in the status bar after other loads, and an error's
    red stayed on the next plain message."""
    from engine import network as nw

    assert window.files.open_preset("conv-stride2")
    assert window.status.text() == "Opened preset conv-stride2"
    spec = {"layer": nw.Conv(2, 3), "x": np.ones((1, 6, 6)), "w": np.ones((2, 1, 3, 3)), "b": np.zeros(2)}
    assert window.open_layer(spec)
    assert window.status.text().startswith("Opened pipeline layer")
    assert window.files.open_preset("conv-stride2")
    assert window.files.open_picture(resources.image_path("digit.png"))
    assert window.status.text().startswith("Input: digit.png")
    assert not window.files.open_path(tmp_path / "missing.json")
    assert "color: #b00000" in window.status.styleSheet()
    assert window.files.open_preset("conv-stride2")
    assert window.status.styleSheet() == ""


def test_another_load_drops_the_old_heading(window) -> None:
    assert window.files.open_preset("conv-half-padding")
    assert window.model.frame().heading.startswith("Half (same) padding")
    assert window.renderer.heading.text.startswith("<b>Half (same) padding")
    assert window.files.open_picture(resources.image_path("digit.png"))
    assert window.model.frame().heading == "" and window.renderer.heading.text == ""


@pytest.mark.parametrize("zoom", [1.0, 2.0])
def test_svg_export_still_draws_the_numbers(make_view, tmp_path, zoom) -> None:
    m = preset("backprop-conv", 12)
    view = make_view((1280, 720), zoom)
    out = export.export(m, view, "svg", str(tmp_path / "a.svg"), steps=range(12, 13))
    text = out.read_text(encoding="utf-8")
    assert "−106" in text or "&#8722;106" in text


def test_a_window_shown_after_its_first_frame_fits_the_stage_to_the_view(qtbot) -> None:
    """The first frame is drawn before the window is laid out; once shown, the stage fills the view
    (regression while building this: the fit waited for a frame that never came)."""
    from gui.mainwindow import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    assert w.files.open_preset("conv-half-padding")
    with qtbot.waitExposed(w):
        w.show()
    QApplication.processEvents()
    view = w.renderer
    tiles = [r for rects in tile_rects(view).values() for r in rects]
    stage = tiles[0]
    for r in tiles[1:]:
        stage = stage.united(r)
    box = view.view.sceneBoundingRect()
    assert stage.width() > 0.85 * box.width() or stage.height() > 0.7 * box.height()
    check_titles(view, view.frame, 1.0)

"""The stage view as drawn: geometry read back from the painter item, pictures compared with pictures,
and the window's toggle. The frame decides what is shown; these tests check it is drawn where it says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF
from PySide6.QtGui import QPolygonF

from gui import export
from gui.app import run_export
from gui.models import scenario
from gui.models.frame import cell_label
from gui.models.lesson import Lesson
from gui.scene.grid import number_px
from gui.scene.stage_plane import face_type_px

ROOT = Path(__file__).resolve().parents[1]
SIZE = (1280, 720)
DECK = ("conv-no-padding", "conv-half-padding", "conv-full-padding", "conv-stride2",
        "conv-stride2-padding", "conv-dilation2", "maxpool-2x2", "avgpool-3x3-stride1", "rgb-volume",
        "transposed-padding-strides-odd")


def lesson_of(name: str, step: int | None = None, view: str = "stage") -> Lesson:
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset(name)), m.last_error
    assert m.set_view(view)
    if step is not None:
        m.set_step(step)
    return m


@pytest.fixture
def renderer(offscreen_renderers):  # type: ignore[no-untyped-def]
    return lambda size=SIZE: offscreen_renderers(size)


def widget_point(r: object, x: float, y: float) -> tuple[int, int]:
    """Widget pixel of scene point ``(x, y)`` of the stage item."""
    sp = r.view.mapViewToScene(QPointF(x, y))  # type: ignore[attr-defined]
    wp = r.mapFromScene(sp)  # type: ignore[attr-defined]
    return wp.x(), wp.y()


def close(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return abs(a[0] - b[0]) < 1e-9 and abs(a[1] - b[1]) < 1e-9


# --------------------------------------------------------------------------- geometry
def test_footprint_and_lines_are_drawn_at_the_frames_step(renderer) -> None:
    r = renderer()
    m = lesson_of("conv-stride2")
    quads = []
    for k in range(m.n_steps):
        export.draw(r, m, k)
        f = m.frame(k)
        assert r.staged and r.stage.isVisible()
        assert not any(t.is_visible() for t in r.tiles["input"])  # the flat tiles make way
        win = f.marks_of("window")[0]
        cell = next(mk for mk in f.marks_of("cell") if mk.panel == "output")
        lower, upper = r.stage.plane("input"), r.stage.plane("output")
        quad = r.stage.footprint_quad()
        assert all(close(a, b) for a, b in zip(quad, lower.quad(*win.at, *win.span), strict=True))
        lines = r.stage.link_lines()
        assert len(lines) == 4
        for (lo, up), foot, corner in zip(lines, quad, upper.quad(*cell.at), strict=True):
            assert close(lo, foot)  # each line starts on a corner of the footprint ...
            assert close(up, corner)  # ... and ends on the matching corner of the cell being written
        assert cell.at == (f.step.out_row, f.step.out_col)
        quads.append(quad)
    # Stride 2 moves the footprint two cells along a row (a plane cell is one unit wide)
    assert np.isclose(quads[1][0][0] - quads[0][0][0], 2.0) and np.isclose(quads[1][0][1], quads[0][0][1])
    assert quads[2][0][1] > quads[1][0][1]  # the next row of windows is nearer the viewer: lower down


def test_the_footprint_glides_between_steps(renderer) -> None:
    r = renderer()
    m = lesson_of("conv-stride2")
    r.show_frame(m.frame(0))
    r.glide(1.0)
    before = r.stage.footprint_quad()[0]
    r.show_frame(m.frame(1))
    shown = r.stage.footprint_quad()[0]  # where the frame says, until the playback glides it there
    r.glide(0.5)
    mid = r.stage.footprint_quad()[0]
    r.glide(1.0)
    after = r.stage.footprint_quad()[0]
    assert before[0] < mid[0] < after[0] == shown[0]


def test_dilated_taps_skipped_cells_and_padding_are_told_apart(renderer) -> None:
    """A dilated window's taps are tinted, the cells it skips hatched; padding has its own colour."""
    r = renderer()
    m = lesson_of("conv-dilation2", 0)
    export.draw(r, m, 0)
    img = export.rgb(export.grab(r))
    win = m.frame(0).marks_of("window")[0]
    plane = r.stage.plane("input")

    def patch(i: int, j: int) -> set[tuple[int, ...]]:
        """The colours of a 7x7 pixel patch left of the cell's number, clear of its edges."""
        x, y = widget_point(r, *plane.point(i + 0.5, j + 0.15))
        return {tuple(c) for c in img[y - 3 : y + 4, x - 3 : x + 4].reshape(-1, 3).tolist()}

    (i0, j0), (di, dj) = win.at, win.cells[1]
    assert (di, dj) == (0, 2)  # dilation 2: the window skips a column between taps
    assert len(patch(i0, j0)) == 1  # a tap: one even tint
    assert len(patch(i0, j0 + 1)) >= 2  # a skipped cell: hatched
    pad = lesson_of("conv-half-padding", 0)
    export.draw(r, pad, 0)
    kinds = pad.frame(0).panel("input").grids[0].kinds
    assert kinds is not None and kinds[0, 0] == 1 and kinds[3, 3] == 0
    assert r.stage.face_colour("input", 0, 0) != r.stage.face_colour("input", 3, 3)


def test_transposed_inserted_zeros_look_different_from_real_zeros(renderer) -> None:
    r = renderer()
    m = lesson_of("transposed-padding-strides-odd", 0)
    export.draw(r, m, 0)
    g = m.frame(0).panel("input").grids[0]
    assert g.kinds is not None
    inserted = tuple(int(v) for v in np.argwhere(g.kinds == 3)[0])
    real = [tuple(int(v) for v in c) for c in np.argwhere((g.kinds == 0) & (g.values == 0))]
    assert real, "the preset's spread input holds a real zero"
    img = export.rgb(export.grab(r))
    plane = r.stage.plane("input")

    def colour(c: tuple[int, int]) -> np.ndarray:
        x, y = widget_point(r, *plane.point(c[0] + 0.5, c[1] + 0.1))  # left of the number, in the face
        return img[y, x].astype(int)

    assert np.abs(colour(inserted) - colour(real[0])).sum() > 60
    assert r.stage.face_colour("input", *inserted) != r.stage.face_colour("input", *real[0])
    assert g.labels[inserted] == "·" and g.labels[real[0]] == "0"


def test_numbers_are_never_smaller_than_the_flat_views(renderer) -> None:
    """At the same size and text zoom a stage cell's numbers are at least the flat view's: the type for
    a face is never below the flat rule for its width, and the deck's scenarios read larger."""
    r = renderer()
    for name in DECK:
        m = lesson_of(name, view="flat")
        export.draw(r, m, m.step)
        tile = r.front_tile("input")
        flat = number_px(r._per_cell * tile.scale, tile.item.render.longest, r.zoom)
        m.set_view("stage")
        export.draw(r, m, m.step)
        export.grab(r)  # painted: the painter notes the sizes it drew
        px = r.stage.cell_px["input"]
        longest = max(len(s) for s in m.frame().panel("input").grids[0].labels.ravel())
        shown = r.stage.number_px["input"]
        assert shown >= number_px(px, max(longest, 1), r.zoom), name
        panel = m.frame().panel("input")
        assert shown == face_type_px(px, r.stage._render(panel, panel.grids[0]), r.zoom, r.stage._fit(panel))
        assert shown >= flat, (name, shown, flat)


def test_a_larger_text_zoom_grows_the_numbers(renderer) -> None:
    r = renderer()
    m = lesson_of("conv-half-padding", 3)
    export.draw(r, m, 3)
    export.grab(r)
    before = r.stage.number_px["input"]
    r.set_theme("light", zoom=1.5)
    export.draw(r, m, 3)
    export.grab(r)
    assert r.stage.number_px["input"] > before


def test_n_kernels_are_n_boxes_making_n_slabs(renderer) -> None:
    r = renderer()
    m = lesson_of("lenet5-c1", 0)
    export.draw(r, m, 0)
    lay = r.stage.layout
    n = m.params.out_c
    assert len(lay.boxes) == n == len(lay.planes["output"]) == 6
    assert lay.planes["kernel"] is lay.boxes[0]  # the kernel at work is the one the title names
    k = m.n_steps // n * 2 + 1  # a step of kernel 2
    export.draw(r, m, k)
    assert r.stage.layout.planes["kernel"] is r.stage.layout.boxes[2]


def test_every_kernel_box_of_an_rgb_volume_carries_its_own_numbers(renderer) -> None:
    """Two 3x3x3 kernels: both boxes show their front weights (not only the kernel at work), each face
    coloured by its weight, and each box's number sits clear of every face (it hid a corner weight)."""
    r = renderer()
    m = lesson_of("rgb-volume", 1)
    export.draw(r, m, 1)
    img = export.rgb(export.grab(r))
    kernel = m.frame().panel("kernel")
    assert len(kernel.stacks) == 2
    for o, stack in enumerate(kernel.stacks):
        assert len(stack) == 3  # one slab per input channel
        labels = [[lab for lab in row] for row in stack[kernel.front].labels.tolist()]
        assert labels == [[cell_label(v) for v in row] for row in m.frame().kernel[o, kernel.front].tolist()]
    boxes = r.stage.layout.boxes
    assert len(boxes) == 2 and r.stage.layout.planes["kernel"] is boxes[0]
    second = boxes[1][kernel.front]
    weights = m.frame().kernel[1, kernel.front]

    def fill(i: int, j: int) -> tuple[int, ...]:
        x, y = widget_point(r, *second.point(i + 0.5, j + 0.12))  # left of the number, in the face
        return tuple(img[y, x].tolist())

    def inked(i: int, j: int) -> bool:
        x, y = widget_point(r, *second.centre(i, j))
        patch = img[y - 4 : y + 5, x - 6 : x + 7].astype(int)
        return bool((np.abs(patch - np.array(fill(i, j))).sum(axis=2) > 150).any())

    cells = [(i, j) for i in range(3) for j in range(3)]
    assert len({fill(i, j) for i, j in cells}) >= len({float(v) for v in weights.ravel()}) - 1
    assert all(inked(i, j) for i, j in cells), "every weight of the second kernel is written on its face"
    faces = [QPolygonF([QPointF(*widget_point(r, *pt)) for pt in plane.quad(0, 0, plane.rows, plane.cols)])
             for stack in boxes for plane in stack]
    assert set(r.stage.index_rects) == {0, 1}
    for rect in r.stage.index_rects.values():
        assert not any(face.intersects(QPolygonF(rect)) for face in faces)


def test_backward_arrows_flow_down_from_dy_to_dx(renderer) -> None:
    r = renderer()
    m = lesson_of("backprop-conv")
    k = m.n_forward + 4
    export.draw(r, m, k)
    f = m.frame(k)
    assert f.phase == "backward"
    lay = r.stage.layout
    assert (lay.lower, lay.upper) == ("dx", "dy")
    segments = r.stage.flow_segments()
    assert len(segments) == sum(1 for w in f.flows[0].weights if w != 0) > 0
    up, down = r.stage.plane("dy"), r.stage.plane("dx")
    for start, end, _ in segments:
        assert up.cell_at(*start) == f.flows[0].cell
        assert down.cell_at(*end) is not None and end[1] > start[1]  # downwards, onto dL/dX


def test_pick_finds_the_cell_under_the_pointer(renderer) -> None:
    r = renderer()
    m = lesson_of("conv-half-padding", 0)
    export.draw(r, m, 0)
    x, y = r.stage.plane("input").centre(2, 3)
    assert r.stage.pick(x, y) == ("input", 0, 2, 3)
    x, y = r.stage.plane("output").centre(4, 1)
    assert r.stage.pick(x, y) == ("output", 0, 4, 1)
    assert r.stage.pick(-100.0, -100.0) is None


# --------------------------------------------------------------------------- pictures and exports
def test_the_stage_view_export_is_the_stage_as_drawn(renderer, tmp_path) -> None:
    """``convviz export --view stage`` gives the picture the stage view paints for that step, and it is
    not the flat picture."""
    out = tmp_path / "stage.png"
    assert run_export(["--preset", "conv-half-padding", "--format", "png", "--out", str(out), "--steps",
                       "7:8", "--view", "stage"]) == 0
    flat_png = tmp_path / "flat.png"
    assert run_export(["--preset", "conv-half-padding", "--format", "png", "--out", str(flat_png),
                       "--steps", "7:8"]) == 0
    with Image.open(out) as im:
        got = np.asarray(im.convert("RGB"))
    with Image.open(flat_png) as im:
        flat = np.asarray(im.convert("RGB"))
    r = renderer()
    export.draw(r, lesson_of("conv-half-padding"), 7)
    want = export.rgb(export.grab(r))
    assert got.shape == want.shape and (got == want).all()
    assert np.abs(got.astype(int) - flat).mean() > 5


def test_a_stage_view_gif_holds_the_stage_pictures(renderer, tmp_path) -> None:
    out = tmp_path / "fig.gif"
    assert run_export(["--preset", "transposed-no-padding", "--format", "gif", "--out", str(out),
                       "--view", "stage", "--size", "640x360"]) == 0
    m = lesson_of("transposed-no-padding")
    r = renderer((640, 360))
    with Image.open(out) as im:
        assert im.n_frames == m.n_steps
        im.seek(2)
        got = np.asarray(im.convert("RGB")).astype(int)
    export.draw(r, m, 2)
    want = export.rgb(export.grab(r)).astype(int)
    assert np.abs(got - want).mean() < 4  # a GIF's palette, the same picture


def test_a_stage_view_svg_draws_the_planes(renderer, tmp_path) -> None:
    """A vector export of the stage view: the same text as painted, cells as shapes."""
    m = lesson_of("conv-half-padding", 7)
    out = tmp_path / "stage.svg"
    export.export(m, renderer(), "svg", str(out), steps=range(7, 8))
    text = out.read_text()
    assert "Output 5×5" in text and ">22<" in text.replace(" ", "")


# --------------------------------------------------------------------------- the window
def test_the_window_toggles_the_view_and_follows_the_scenario(window, settle) -> None:
    win = window
    assert not win.act_stage_view.isChecked() and not win.renderer.staged
    win.act_stage_view.trigger()
    assert win.model.params.view == "stage" and win.renderer.staged
    win.toggle_presenter()
    assert win.renderer.staged  # presenter mode shows the same view
    win.toggle_presenter()
    assert win.files.open_preset("conv-stride2")  # a flat scenario brings its own view
    assert not win.act_stage_view.isChecked() and not win.renderer.staged
    assert win.act_stage_view.shortcut().toString() == "Ctrl+3"


def test_page_down_presents_the_stage_deck(window) -> None:
    win = window
    assert win.files.open_path(str(ROOT / "resources" / "decks" / "conv-arithmetic-stage.json"))
    seen = []
    for _ in range(len(win.files.deck)):
        assert win.renderer.staged and win.act_stage_view.isChecked()
        seen.append(win.model.frame().params)
        win.act_next.trigger()
    assert seen == [s.params for s in win.files.deck]  # every scenario, in order, PageDown only


def test_the_screenshot_path_takes_a_view(tmp_path) -> None:
    shots = {}
    for view in ("stage", "flat"):
        out = tmp_path / f"{view}.png"
        cmd = [sys.executable, str(ROOT / "main.py"), "--preset", "conv-stride2", "--view", view,
               "--screenshot", str(out)]
        run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120,
                             env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)})
        assert run.returncode == 0, run.stderr
        with Image.open(out) as im:
            shots[view] = np.asarray(im.convert("RGB")).astype(int)
    assert shots["stage"].shape == shots["flat"].shape
    assert np.abs(shots["stage"] - shots["flat"]).mean() > 5  # the stage view, not the flat one


def test_hovering_a_stage_cell_lights_its_receptive_field(window, user) -> None:
    win = window
    assert win.files.open_preset("conv-half-padding")
    win.act_stage_view.trigger()
    win.renderer.settle()  # the text rows take their heights, the stage its final place
    user.hover_cell(win.renderer, "output", 1, 2)
    lit = win.renderer.stage.highlights.get("receptive")
    assert lit is not None and lit.panel == "input"
    assert set(lit.cells) == {(1 + a, 2 + b) for a in range(3) for b in range(3)}  # padded coordinates
    user.hover_cell(win.renderer, "input", 2, 2)
    fed = win.renderer.stage.highlights.get("fed")
    assert fed is not None and fed.panel == "output" and len(fed.labels) == len(fed.cells) == 9
    img = export.rgb(export.grab(win.renderer))  # painted: taking it away changes the picture
    win.renderer.show_highlight("fed", None)
    assert np.abs(export.rgb(export.grab(win.renderer)).astype(int) - img).sum() > 0


def test_every_kernel_box_of_a_1d_convolution_carries_its_own_rows() -> None:
    """A 1-D convolution with two kernels: the kernel panel keeps each kernel's rows for its box."""
    m = lesson_of("conv1d-stride2", 0)
    kernel = m.frame().panel("kernel")
    assert len(kernel.stacks) == m.params.out_c == 2
    for o, stack in enumerate(kernel.stacks):
        assert [g.labels.tolist() for g in stack] == [[[cell_label(v) for v in row] for row in ch.tolist()]
                                                      for ch in m.frame().kernel[o]]
    assert kernel.grids == kernel.stacks[0]

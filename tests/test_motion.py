"""Motion that teaches: what travels (the core), its schedule, the clock, the painter, setting, exports."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import QLineF, Qt
from PySide6.QtGui import QTextCursor

import engine
from engine import describe
from gui.export import export, paint
from gui.models import scenario
from gui.models.clock import PlaybackClock
from gui.models.frames_io import frame_to_dict
from gui.models.lesson import Lesson
from gui.models.motion import (
    MIN_PIECE_MS,
    WINDOW_SHARE,
    Moment,
    export_fractions,
    export_per_step,
    glide_ms,
    moment,
    motion_on,
)
from gui.models.params import Params


def _term(v: float) -> str:
    s = describe.fmt(v)
    return f"({s})" if v < 0 else s


CASES = [
    Params(bias=True),
    Params(stride=(2, 2), dilation=(2, 1), padding=(2, 2, 1, 1), in_h=7, in_w=6),
    Params(in_c=2, out_c=2, k_h=2, k_w=2, integers=False, seed=3),
    Params(in_c=4, out_c=2, groups=2, k_h=2, k_w=3),
    Params(granularity="tap", bias=True),
    Params(flip_kernel=True, padding_mode="reflect", seed=5),
]


@pytest.mark.parametrize("p", CASES, ids=range(len(CASES)))
@pytest.mark.parametrize("expanded", [False, True])
def test_every_product_travels_from_its_own_cell_into_its_own_term(p: Params, expanded: bool) -> None:
    lesson = Lesson(p)
    for k in range(0, lesson.n_forward, max(1, lesson.n_forward // 7)):
        f = lesson.frame(k, expanded=expanded)
        step = f.step
        assert isinstance(step, engine.ConvStep) and f.motion is not None
        products = [t for t in f.motion.travels if t.kind == "product"]
        x, w = step.inputs.ravel(), step.weights.ravel()
        n = x.size if step.tap is None else int(np.ravel_multi_index(step.tap, step.weights.shape)) + 1
        # Window granularity: every product of the line; tap granularity: the new one only.
        assert [t.slot for t in products] == (list(range(n)) if step.tap is None else [n - 1])
        inp = f.panel("input")
        assert inp is not None
        for t in products:
            assert f.arithmetic[t.start:t.end] == t.text == f"{_term(x[t.slot])}·{_term(w[t.slot])}"
            c, i, j = np.unravel_index(t.slot, step.weights.shape)
            # The cell it leaves holds the input value of the product, on the grid that shows channel c.
            assert t.cell == (int(step.window.rows[i]), int(step.window.cols[j]))
            assert f.x_padded[_channel(step, c), t.cell[0], t.cell[1]] == x[t.slot]
            assert t.grid == inp.front + c  # stacked too: the slab of channel c, whose value it uses
        starts = [t.start for t in products]
        assert starts == sorted(starts) and f.motion.hidden_from == starts[0]
        if step.complete:
            s = f.motion.travels[-1]
            assert s.kind == "sum" and s.slot == n
            assert (s.panel, s.grid, s.cell) == ("output", step.out_channel, (step.out_row, step.out_col))
            assert f.arithmetic[s.start:s.end] == s.text == describe.fmt(step.total)
            assert f.arithmetic[s.start - 2:s.start] == "= "
            assert float(f.output[step.out_channel, step.out_row, step.out_col]) == pytest.approx(step.total)


def test_a_long_line_moves_the_products_it_writes_from_their_own_cells() -> None:
    """Regression: past 27 terms the line writes "… (n more) …" and the last two; a left-out product
    whose text equals a written one ("1·1" among 0/1 inputs and weights) took that term's place and
    travelled from its own, wrong, cell (and the written one did not travel)."""
    # Every weight the same: the 36 products take at most 10 texts.
    lesson = Lesson(Params(in_c=4, in_h=5, in_w=5, k_h=3, k_w=3, preset="box blur", seed=2))
    checked = 0
    for k in range(lesson.n_forward):
        f = lesson.frame(k)
        step = f.step
        assert isinstance(step, engine.ConvStep) and f.motion is not None
        x, w = step.inputs.ravel(), step.weights.ravel()
        n = x.size
        assert n == 36 and "(10 more)" in f.arithmetic
        products = [t for t in f.motion.travels if t.kind == "product"]
        assert [t.slot for t in products] == [*range(24), n - 2, n - 1]
        for t in products:
            assert f.arithmetic[t.start:t.end] == t.text == f"{_term(x[t.slot])}·{_term(w[t.slot])}"
            c, i, j = np.unravel_index(t.slot, step.weights.shape)
            cell = (int(step.window.rows[i]), int(step.window.cols[j]))
            assert (t.grid, t.cell) == (f.panel("input").front + c, cell)
        checked += 1
    assert checked == lesson.n_forward


def test_a_long_line_formats_only_what_it_writes() -> None:
    """The line is the same as formatting every term and cutting the middle out (the old way)."""
    lesson = Lesson(Params(in_c=4, in_h=5, in_w=5, k_h=3, k_w=3, integers=False, seed=7))
    for k in range(0, lesson.n_forward, 5):
        step = lesson.run.fwd[k]
        x, w = step.inputs.ravel(), step.weights.ravel()
        terms = [f"{_term(x[i])}·{_term(w[i])}" for i in range(x.size)]
        breaks = {i for i in range(1, 24) if i % 9 == 0}
        kept = [*terms[:24], f"… ({x.size - 26} more) …", *terms[-2:]]
        text = "".join((" +\n" if i in breaks else " + ") + t if i else t for i, t in enumerate(kept))
        end = f" + {_term(step.bias)} (bias) = {describe.fmt(step.total)}"
        assert describe.conv_arithmetic(step) == text + end


def _channel(step: engine.ConvStep, c: int) -> int:
    group = getattr(step, "in_channels", None)
    return int(c + (group.start if group is not None else 0))


def test_the_gather_view_moves_its_products_too() -> None:
    lesson = Lesson(Params(mode="backward", grad_view="gather", stride=(2, 2)))
    f = lesson.frame(lesson.n_forward + 3)
    assert f.phase == "gather" and f.motion is not None
    for t in f.motion.travels:
        assert f.arithmetic[t.start:t.end] == t.text
    assert f.motion.travels[0].start > f.arithmetic.index(" = ")  # after "dX_padded[...] = "


def test_backward_steps_have_no_motion() -> None:
    lesson = Lesson(Params(mode="backward"))
    assert lesson.frame(lesson.n_forward + 1).motion is None


def test_a_json_frame_carries_the_motion() -> None:
    f = Lesson(Params()).frame(6)
    d = json.loads(json.dumps(frame_to_dict(f)))
    assert f.motion is not None
    assert [m["text"] for m in d["motion"]] == [t.text for t in f.motion.travels]
    first, last = d["motion"][0], d["motion"][-1]
    assert first["from"] == {"panel": "input", "grid": 0, "cell": list(f.motion.travels[0].cell)}
    assert last["kind"] == "sum" and last["to"]["cell"] == [f.step.out_row, f.step.out_col]
    assert d["arithmetic"][first["start"]:first["start"] + len(first["text"])] == first["text"]


# ----------------------------------------------------------------------------- the schedule
def test_the_schedule_moves_the_window_first_then_one_piece_at_a_time() -> None:
    assert moment(0.0, 10) == Moment(0.0, -1, 0.0)
    assert moment(WINDOW_SHARE / 2, 10).window == pytest.approx(0.5)
    slice_ = (1 - WINDOW_SHARE) / 10
    m = moment(WINDOW_SHARE + 3.5 * slice_, 10)
    assert (m.window, m.moving, m.flight) == (1.0, 3, pytest.approx(0.5))
    assert moment(1.0, 10) == Moment(1.0, 10, 1.0)
    assert moment(0.4, 0).window == 0.4


def test_the_line_reads_as_far_as_the_products_have_arrived() -> None:
    f = Lesson(Params(bias=True)).frame(4)
    m = f.motion
    assert m is not None
    n = len(f.arithmetic)
    assert m.shown_until(moment(0.1, m.pieces), n) == m.hidden_from == 0
    assert m.shown_until(Moment(1.0, 3, 0.5), n) == m.travels[2].end
    assert m.shown_until(Moment(1.0, 3, 1.0), n) == m.travels[3].end
    assert m.shown_until(Moment(1.0, m.pieces - 1, 0.0), n) == n  # the sum leaves a whole line


# ----------------------------------------------------------------------------- the clock
def test_stepping_by_hand_gives_each_piece_time_to_fly() -> None:
    clock = PlaybackClock(speed=2.0)
    assert clock.start_glide(0.0, pieces=10) == 0.0 and clock.motion
    assert clock.glide_fraction(glide_ms(10, None) / 2000.0) == pytest.approx(0.5)
    clock.start_glide(0.0, pieces=0)
    assert not clock.motion


@pytest.mark.parametrize("speed", [0.5, 1.0, 2.0, 8.0, 30.0, 60.0])
def test_while_playing_the_motion_fits_the_step_or_is_skipped(speed: float) -> None:
    clock = PlaybackClock(speed=speed)
    clock.play(0.0)
    clock.start_glide(0.0, pieces=10)
    interval = 1000.0 / speed
    assert clock.glide_fraction(0.8 * interval / 1000.0 + 1e-9) == 1.0  # never runs into the next step
    if clock.motion:
        assert glide_ms(10, interval) * (1 - WINDOW_SHARE) / 10 >= MIN_PIECE_MS
    assert clock.motion == (speed <= 2.0)
    clock.pause()


def test_the_setting_resolves_with_presenter_mode() -> None:
    assert [motion_on(s, False) for s in ("auto", "on", "off")] == [False, True, False]
    assert [motion_on(s, True) for s in ("auto", "on", "off")] == [True, True, False]


# ----------------------------------------------------------------------------- the setting
def test_the_setting_is_saved_and_old_files_load_as_auto() -> None:
    lesson = Lesson(Params(motion="on"))
    s = scenario.from_model(lesson)
    back = scenario.loads(scenario.dumps(s))
    assert back.params.motion == "on"
    d = scenario.to_dict(s)
    del d["params"]["motion"]
    assert scenario.loads(json.dumps(d)).params.motion == "auto"
    d["params"]["motion"] = "sometimes"
    with pytest.raises(scenario.ScenarioError, match=r"params\.motion: must be one of auto, on, off"):
        scenario.loads(json.dumps(d))


def test_changing_the_setting_keeps_the_run_and_the_step() -> None:
    lesson = Lesson(Params())
    lesson.set_step(5)
    run = lesson.run
    assert lesson.set_params(motion="off")
    assert lesson.run is run and lesson.step == 5 and lesson.frame().params.motion == "off"


def test_presenter_mode_turns_auto_motion_on(window) -> None:  # type: ignore[no-untyped-def]
    assert window.model.params.motion == "auto" and not window.renderer.text.travel.enabled
    window.toggle_presenter()
    assert window.renderer.text.travel.enabled and window.renderer.text.travel.pieces == 10
    window.toggle_presenter()
    assert not window.renderer.text.travel.enabled
    window.motion.actions["on"].trigger()
    assert window.model.params.motion == "on" and window.renderer.text.travel.enabled
    window.motion.actions["off"].trigger()
    assert not window.renderer.text.travel.enabled and window.motion.actions["off"].isChecked()


def test_a_step_by_hand_starts_the_motion(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.motion.set("on")
    window.controller.step_by(1)
    assert window.controller.clock.motion and window.renderer.text.travel.active
    qtbot.waitUntil(lambda: window.renderer.text.travel.chip.isVisible(), timeout=3000)
    window.controller.go_to(window.model.step + 1)  # a jump: nothing flies
    assert not window.renderer.text.travel.chip.isVisible()
    window.controller.stop()


# ----------------------------------------------------------------------------- the painter
def _mid_glide(offscreen_renderers, piece: int, flight: float):  # type: ignore[no-untyped-def]
    lesson = Lesson(Params(bias=True))
    r = offscreen_renderers((1280, 720))
    paint.draw(r, lesson, 3)
    f = lesson.frame(4)
    r.show_frame(f)
    r.settle()
    r.text.travel.set_enabled(True)
    r.text.travel.start(True)
    assert f.motion is not None
    t = WINDOW_SHARE + (piece + flight) * (1 - WINDOW_SHARE) / f.motion.pieces
    r.glide(t)
    return r, f


def test_mid_glide_the_product_is_between_its_cell_and_its_slot(offscreen_renderers) -> None:  # type: ignore[no-untyped-def]
    r, f = _mid_glide(offscreen_renderers, 3, 0.5)
    tr = f.motion.travels[3]
    chip = r.text.travel.chip
    assert chip.isVisible() and chip.text == tr.text == "2·2"
    cell, slot = r.text.travel.cell_point(tr), r.text.travel.slot_point(tr)
    line = QLineF(cell, slot)
    along = QLineF(cell, chip.pos()).length() / line.length()
    assert 0.3 < along < 0.7  # smoothstep halfway: half the way
    # On the segment from the cell to the slot.
    at = chip.pos()
    d = abs((slot.x() - cell.x()) * (cell.y() - at.y()) - (cell.x() - at.x()) * (slot.y() - cell.y()))
    assert d / line.length() < 1.0
    # The cell is inside the input tile; the slot is on the arithmetic line, below the stage.
    item = r.arith.item
    assert item.mapToScene(item.boundingRect()).boundingRect().contains(slot)
    assert r.view.sceneBoundingRect().contains(cell)
    # The line reads up to the last product that arrived: products 0-2 are painted, 3 on are clear.
    doc = item.document()
    assert doc.toPlainText() == f.arithmetic

    def alpha(i: int) -> int:
        cur = QTextCursor(doc)
        cur.setPosition(i + 1)
        return cur.charFormat().foreground().color().alpha()

    assert [alpha(t.start) for t in f.motion.travels[:5]] == [255, 255, 255, 0, 0]


def test_the_picture_shows_the_product_in_flight_and_a_whole_line_after(offscreen_renderers) -> None:  # type: ignore[no-untyped-def]
    r, _ = _mid_glide(offscreen_renderers, 3, 0.5)
    mid = paint.rgb(paint.grab(r))
    pos = r.mapFromScene(r.text.travel.chip.pos())
    assert tuple(mid[pos.y() + 8, pos.x() - 14]) == (0xFF, 0xF4, 0xC2)  # the chip's fill
    r.glide(1.0)
    r.settle()
    end = paint.rgb(paint.grab(r))
    assert tuple(end[pos.y() + 8, pos.x() - 14]) != (0xFF, 0xF4, 0xC2)
    # After the glide the picture is the one of the step drawn without motion (after the same step).
    still = offscreen_renderers((1280, 720))
    paint.draw(still, Lesson(Params(bias=True)), 3)
    paint.draw(still, Lesson(Params(bias=True)), 4)
    assert np.array_equal(paint.rgb(paint.grab(still)), end)
    # Mid-glide the end of the line is not painted yet: the rows of the arithmetic differ.
    box = r.arith.item.mapToScene(r.arith.item.boundingRect()).boundingRect()
    rows = slice(int(box.top()), int(box.bottom()))
    assert not np.array_equal(mid[rows], end[rows])


def test_the_output_cell_waits_for_its_sum(offscreen_renderers) -> None:  # type: ignore[no-untyped-def]
    r, f = _mid_glide(offscreen_renderers, 5, 0.5)
    sum_ = f.motion.travels[-1]
    assert r.text.travel.cover.isVisible()
    cover = r.text.travel.cover.polygon()
    assert cover.containsPoint(r.text.travel.cell_point(sum_), Qt.FillRule.OddEvenFill)
    r.glide(WINDOW_SHARE + (f.motion.pieces - 0.5) * (1 - WINDOW_SHARE) / f.motion.pieces)
    assert r.text.travel.chip.text == sum_.text and r.text.travel.cover.isVisible()
    r.glide(1.0)
    assert not r.text.travel.cover.isVisible() and not r.text.travel.chip.isVisible()


def test_motion_off_glides_the_window_only(offscreen_renderers) -> None:  # type: ignore[no-untyped-def]
    lesson = Lesson(Params())
    r = offscreen_renderers((1280, 720))
    paint.draw(r, lesson, 3)
    r.show_frame(lesson.frame(4))
    r.text.travel.start(True)  # asked, but the setting is off
    r.glide(0.5)
    assert not r.text.travel.active and not r.text.travel.chip.isVisible()


# ----------------------------------------------------------------------------- exports
def test_export_pictures_per_step() -> None:
    assert export_per_step("auto", 2.0) == 1 and export_per_step("off", 2.0) == 1
    assert export_per_step("on", 2.0) == 25 and export_per_step("on", 30.0) == 1
    fractions, per_step = export_fractions(10, 2.0)  # type: ignore[misc]
    assert per_step == 25 and len(fractions) == 20 and all(0 < t < 1 for t in fractions)
    assert export_fractions(10, 10.0) is None  # too fast for ten products: no motion


def test_a_gif_holds_the_in_between_pictures(tmp_path, offscreen_renderers) -> None:  # type: ignore[no-untyped-def]
    pil = pytest.importorskip("PIL.Image")
    lesson = Lesson(Params(motion="on"))
    out = export(lesson, offscreen_renderers((640, 360)), "gif", tmp_path / "m.gif", steps=range(2, 4), fps=2)
    with pil.open(out) as im:
        assert im.n_frames == 2 * 25 and im.info["duration"] == 20
    off = export(Lesson(Params()), offscreen_renderers((640, 360)), "gif", tmp_path / "s.gif",
                 steps=range(2, 4), fps=2)
    with pil.open(off) as im:
        assert im.n_frames == 2


def test_a_1d_lesson_moves_its_products_into_its_1d_words() -> None:
    lesson = Lesson(Params(op="conv1d", in_h=1, in_w=9, k_h=1, padding=(0, 0, 1, 1), mode="both",
                           grad_view="gather", bias=True))
    for k in (2, lesson.n_forward + 3):
        f = lesson.frame(k)
        assert f.motion is not None and "[0,0," not in f.arithmetic
        for t in f.motion.travels:
            assert f.arithmetic[t.start:t.end] == t.text


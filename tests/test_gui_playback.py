"""Stepping, scrubbing and playing from the keyboard and the timeline, and what the picture does."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QSlider

import engine
from gui.controllers.playback import MAX_SPEED, MIN_SPEED


def engine_trace(model):  # type: ignore[no-untyped-def]
    """The engine's own trace of the default scenario, built from the model's values."""
    p = model.params
    assert (p.op, p.stride, p.padding, p.dilation) == ("conv", (1, 1), (1, 1, 1, 1), (1, 1))
    return engine.trace_conv2d(np.array(model.x), np.array(model.w), stride=1, padding=1)


def mark_at(win) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    pos = win.renderer.window_marks[0].pos()
    return (pos.x(), pos.y())


def expected_mark(win, window) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    x0, y0 = win.renderer.front_tile("input").origin
    return (x0 + int(window.cols[0]), y0 + int(window.rows[0]))


def expected_cells(window) -> tuple[tuple[int, int], ...]:  # type: ignore[no-untyped-def]
    r0, c0 = int(window.rows[0]), int(window.cols[0])
    return tuple((int(r - r0), int(c - c0)) for r in window.rows for c in window.cols)


def press(qtbot, win, key) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClick(win, key)


# --------------------------------------------------------------------------- stepping
def test_right_steps_and_the_window_glides_to_the_engine_window(window, qtbot, settle) -> None:
    trace = engine_trace(window.model)
    start = mark_at(window)
    assert start == expected_mark(window, trace[0].window)

    press(qtbot, window, Qt.Key.Key_Right)
    assert window.model.step == 1
    assert window.controller.timer.isActive()  # gliding, not jumping
    assert mark_at(window) == start
    settle(window)
    assert mark_at(window) == expected_mark(window, trace[1].window)
    # The frame says where the window is (the engine's window) and the painter draws just that.
    (mark,) = window.model.frame().marks_of("window")
    assert mark.at == (int(trace[1].window.rows[0]), int(trace[1].window.cols[0]))
    assert mark.cells == expected_cells(trace[1].window)
    assert window.renderer.window_marks[0].cells == [(float(r), float(c)) for r, c in mark.cells]
    (cell,) = window.model.frame().marks_of("cell")
    assert cell.at == (trace[1].out_row, trace[1].out_col)
    out = window.renderer.out_mark.pos()
    ox, oy = window.renderer.front_tile("output").origin
    assert (out.x(), out.y()) == (ox + trace[1].out_col, oy + trace[1].out_row)


def test_the_teardown_guard_sees_the_glide_timer(window, qtbot, settle, running_qt_activity) -> None:
    assert running_qt_activity() == []
    press(qtbot, window, Qt.Key.Key_Right)
    running = running_qt_activity()
    assert len(running) == 1 and "PlaybackController" in running[0]
    settle(window)
    assert running_qt_activity() == []


def test_glide_signal_places_the_mark_on_the_way(window, qtbot, settle) -> None:
    trace = engine_trace(window.model)
    press(qtbot, window, Qt.Key.Key_Right)
    a = expected_mark(window, trace[0].window)
    b = expected_mark(window, trace[1].window)
    window.controller.glide.emit(0.5)
    halfway = mark_at(window)
    assert halfway == pytest.approx(((a[0] + b[0]) / 2, (a[1] + b[1]) / 2))
    window.controller.glide.emit(1.0)
    assert mark_at(window) == b
    settle(window)
    assert mark_at(window) == b


def test_left_home_and_end(window, qtbot, settle) -> None:
    trace = engine_trace(window.model)
    n = len(trace)
    for _ in range(3):
        press(qtbot, window, Qt.Key.Key_Right)
    settle(window)
    assert window.model.step == 3
    press(qtbot, window, Qt.Key.Key_Left)
    settle(window)
    assert window.model.step == 2
    assert mark_at(window) == expected_mark(window, trace[2].window)

    press(qtbot, window, Qt.Key.Key_End)
    assert window.model.step == n - 1
    settle(window)
    assert mark_at(window) == expected_mark(window, trace[n - 1].window)
    assert window.playback.label.text() == f"step {n} / {n}"
    press(qtbot, window, Qt.Key.Key_Right)  # nothing after the last step
    assert window.model.step == n - 1
    settle(window)

    press(qtbot, window, Qt.Key.Key_Home)
    assert window.model.step == 0
    settle(window)
    assert mark_at(window) == expected_mark(window, trace[0].window)
    press(qtbot, window, Qt.Key.Key_Left)  # nothing before the first
    assert window.model.step == 0
    settle(window)


def test_stepping_shows_the_engine_arithmetic(window, qtbot, settle) -> None:
    trace = engine_trace(window.model)
    press(qtbot, window, Qt.Key.Key_Right)
    settle(window)
    expected = engine.describe.conv_arithmetic(trace[1], show_bias=False)
    assert window.model.frame().arithmetic == expected
    assert window.renderer.arith.text.endswith(f"= {engine.describe.fmt(trace[1].total)}")
    assert window.model.frame().caption == "Convolution — Step 2 of 25: output channel 0, cell (0, 1)"
    assert window.renderer.caption.text == window.model.frame().caption


# --------------------------------------------------------------------------- the timeline
def test_scrubbing_the_timeline_moves_the_step_and_the_label(window, qtbot) -> None:
    slider = window.findChild(QSlider, "timeline")
    assert slider is not None
    n = window.model.n_steps
    assert (slider.minimum(), slider.maximum(), slider.value()) == (0, n - 1, 0)
    slider.setValue(12)
    assert window.model.step == 12
    assert window.playback.label.text() == f"step 13 / {n}"
    assert not window.controller.timer.isActive()  # a scrub jumps, it does not glide
    assert mark_at(window) == expected_mark(window, engine_trace(window.model)[12].window)

    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_PageDown)
    assert window.model.step == 12 - slider.pageStep()
    qtbot.keyClick(slider, Qt.Key.Key_PageUp)
    qtbot.keyClick(slider, Qt.Key.Key_PageUp)
    assert window.model.step == min(12 + slider.pageStep(), n - 1)
    assert window.playback.label.text() == f"step {window.model.step + 1} / {n}"


def test_the_timeline_follows_the_keyboard(window, qtbot, settle) -> None:
    slider = window.findChild(QSlider, "timeline")
    press(qtbot, window, Qt.Key.Key_End)
    assert slider.value() == window.model.n_steps - 1
    press(qtbot, window, Qt.Key.Key_Left)
    settle(window)
    assert slider.value() == window.model.n_steps - 2


# --------------------------------------------------------------------------- playing
def test_space_plays_and_pauses(window, qtbot, settle) -> None:
    c = window.controller
    press(qtbot, window, Qt.Key.Key_Space)
    assert c.playing
    assert c.timer.isActive()
    qtbot.waitUntil(lambda: window.model.step > 0, timeout=3000)
    press(qtbot, window, Qt.Key.Key_Space)
    assert not c.playing
    settle(window)  # the glide in progress finishes, then the timer stops
    stopped_at = window.model.step
    assert stopped_at > 0
    assert window.playback.slider.value() == stopped_at


def test_playing_to_the_end_stops_by_itself(window, qtbot, settle) -> None:
    c = window.controller
    window.playback.slider.setValue(window.model.n_steps - 3)
    for _ in range(8):
        press(qtbot, window, Qt.Key.Key_Plus)
    assert c.speed == MAX_SPEED
    press(qtbot, window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not c.playing, timeout=3000)
    settle(window)
    assert window.model.step == window.model.n_steps - 1
    # Space at the end starts again from the first step.
    press(qtbot, window, Qt.Key.Key_Space)
    assert c.playing
    press(qtbot, window, Qt.Key.Key_Space)
    settle(window)
    assert window.model.step < window.model.n_steps - 1


def test_plus_and_minus_change_the_speed_within_limits(window, qtbot) -> None:
    c = window.controller
    start = c.speed
    press(qtbot, window, Qt.Key.Key_Plus)
    assert c.speed > start
    press(qtbot, window, Qt.Key.Key_Minus)
    assert c.speed == start
    press(qtbot, window, Qt.Key.Key_Equal)  # "=" is "+" without Shift
    assert c.speed > start
    for _ in range(20):
        press(qtbot, window, Qt.Key.Key_Minus)
    assert c.speed == MIN_SPEED
    assert window.playback.speed.value() == MIN_SPEED
    for _ in range(20):
        press(qtbot, window, Qt.Key.Key_Plus)
    assert c.speed == MAX_SPEED
    assert window.playback.speed.value() == MAX_SPEED
    assert not c.timer.isActive()


# --------------------------------------------------------------------------- pictures
def as_array(img: QImage) -> np.ndarray:
    img = img.convertToFormat(QImage.Format.Format_RGBA8888)
    h, w, bpl = img.height(), img.width(), img.bytesPerLine()
    return np.frombuffer(img.constBits(), np.uint8, count=h * bpl).reshape(h, bpl)[:, : 4 * w] \
        .reshape(h, w, 4).copy()


def cell_rect(win, panel: str, i: int, j: int, scale: float) -> QRect:  # type: ignore[no-untyped-def]
    """Pixel rectangle (in the grabbed image) of the inner part of a cell."""
    r = win.renderer
    c = r.cell_center(panel, 0, i, j)
    n = r.cell_center(panel, 0, i, j + 1)
    half = abs(n.x() - c.x()) * 0.4
    return QRect(round((c.x() - half) * scale), round((c.y() - half) * scale),
                 round(2 * half * scale), round(2 * half * scale))


def crop(a: np.ndarray, rect: QRect) -> np.ndarray:
    return a[rect.top() : rect.bottom() + 1, rect.left() : rect.right() + 1]


def test_grabbed_pictures_differ_where_the_window_moved_only(window, qtbot, settle, tmp_path) -> None:
    r = window.renderer
    trace = engine_trace(window.model)
    r.grab().toImage().save(str(tmp_path / "step0.png"))
    press(qtbot, window, Qt.Key.Key_Right)
    settle(window)
    r.grab().toImage().save(str(tmp_path / "step1.png"))
    a = QImage(str(tmp_path / "step0.png"))
    b = QImage(str(tmp_path / "step1.png"))
    assert not a.isNull() and a.size() == b.size()
    scale = a.width() / r.width()
    pa, pb = as_array(a), as_array(b)

    old, new = trace[0].window, trace[1].window
    left_behind = [(int(i), int(old.cols[0])) for i in old.rows]  # in the old window only
    entered = [(int(i), int(new.cols[-1])) for i in new.rows]  # in the new window only
    assert not set(left_behind) & {(int(i), int(j)) for i in new.rows for j in new.cols}
    for i, j in left_behind + entered:
        rect = cell_rect(window, "input", i, j, scale)
        assert rect.width() > 4
        assert not np.array_equal(crop(pa, rect), crop(pb, rect)), f"input cell {(i, j)} did not change"
    # The output cell written by step 1 changes too.
    out = cell_rect(window, "output", trace[1].out_row, trace[1].out_col, scale)
    assert not np.array_equal(crop(pa, out), crop(pb, out))
    # Far from the window: the kernel panel is the same picture, pixel for pixel.
    k = window.model.params.k_h
    for i in range(k):
        for j in range(k):
            rect = cell_rect(window, "kernel", i, j, scale)
            np.testing.assert_array_equal(crop(pa, rect), crop(pb, rect))
    # And a cell the window never touched at either step.
    far = cell_rect(window, "input", 5, 5, scale)
    np.testing.assert_array_equal(crop(pa, far), crop(pb, far))

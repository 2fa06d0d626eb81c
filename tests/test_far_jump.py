"""A far jump in a big backward lesson is worked out in a worker: the last picture stays until it lands."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest

import engine
from engine import trace as _trace
from gui.controllers import jump as jump_ctl
from gui.controllers import lesson as lesson_ctl
from gui.models.cancel import checkpoint
from gui.models.frame import Frame
from gui.models.lesson import Lesson

SMALL_BACKWARD = dict(mode="backward", in_h=8, in_w=8, in_c=2, out_c=2, k_h=3, k_w=3)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Backward traces reach 5 steps; every lesson counts as big; the worker's pass waits for the gate."""
    monkeypatch.setattr(_trace, "INCREMENTAL_MIN", 5)
    monkeypatch.setattr(_trace, "INCREMENTAL_LIMIT", 5)
    monkeypatch.setattr(jump_ctl, "BACKGROUND_COST", 0)
    opened = threading.Event()
    real = engine.ConvBackwardTrace.totals_at

    def gated(self: engine.ConvBackwardTrace, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        while not opened.wait(0.005):
            checkpoint()  # a cancelled jump stops here, as it would in the engine's pass
        return real(self, i)

    monkeypatch.setattr(engine.ConvBackwardTrace, "totals_at", gated)
    yield opened
    opened.set()


def _seen(f: Frame) -> tuple[object, ...]:
    """What a frame shows: its words and every grid's values and labels."""
    grids = [(p.name, p.title, g.values.tolist(), g.labels.tolist()) for p in f.panels for g in p.grids]
    return f.step_index, f.caption, f.arithmetic, grids


def _backward_window(window, qtbot) -> Lesson:  # type: ignore[no-untyped-def]
    lesson = window.model
    assert lesson.set_params(**SMALL_BACKWARD)
    assert lesson.run.bwd._limit == 5 and lesson.n_steps == 2 * 8 * 8
    return lesson


def test_a_far_jump_is_worked_out_in_a_worker_and_lands_with_the_synchronous_frame(  # type: ignore[no-untyped-def]
        window, qtbot, gate, settle) -> None:
    lesson = _backward_window(window, qtbot)
    old = lesson.frame()
    assert window.renderer.frame is old
    window.playback.slider.setValue(100)
    assert window.jumps.jumping and window.jumps.target == 100
    # Meanwhile: the step, its picture and label stay; the slider shows where it is going; the row says so.
    assert lesson.step == 0 and lesson.frame() is old
    assert window.playback.label.text().startswith("step 1 /")
    assert window.playback.slider.value() == 100
    assert window.controls.busy.isVisibleTo(window.controls)
    assert window.controls.busy_label.text().startswith("Computing step 101…")
    assert window.renderer.frame is old  # the last picture stays
    gate.set()
    qtbot.waitUntil(lambda: not window.jumps.jumping, timeout=10_000)
    assert lesson.step == 100 and window.playback.label.text().startswith("step 101 /")
    assert window.renderer.frame is lesson.frame()
    assert not window.controls.busy.isVisibleTo(window.controls)
    direct = Lesson(lesson.params)  # the same seed: the same values, jumped to synchronously
    assert direct.set_step(100)
    assert _seen(lesson.frame()) == _seen(direct.frame())
    assert lesson.run.bwd.reaches(100)
    window.controller.step_by(1)  # then cheap, and synchronous
    assert lesson.step == 101 and not window.jumps.jumping
    assert _seen(lesson.frame()) == _seen(direct.frame(101))
    settle(window)


def test_a_near_step_stays_synchronous(window, qtbot, gate, settle) -> None:  # type: ignore[no-untyped-def]
    lesson = _backward_window(window, qtbot)
    window.controller.go_to(4)
    window.controller.step_by(1)
    assert lesson.step == 5 and not window.jumps.jumping
    settle(window)


def test_cancel_keeps_the_old_step(window, qtbot, gate) -> None:  # type: ignore[no-untyped-def]
    lesson = _backward_window(window, qtbot)
    steps: list[int] = []
    lesson.step_changed.connect(steps.append)
    window.playback.slider.setValue(90)
    assert window.jumps.jumping
    window.controls.cancel.click()
    assert not window.jumps.jumping and not window.controls.busy.isVisibleTo(window.controls)
    assert window.playback.slider.value() == 0
    gate.set()
    qtbot.waitUntil(lambda: lesson_ctl.running_jobs() == 0, timeout=10_000)
    qtbot.wait(1)  # deliver the dropped job's queued result
    assert lesson.step == 0 and steps == [] and not lesson.run.bwd.reaches(90)


def test_a_newer_jump_supersedes_and_a_cheap_step_is_not_overwritten(window, qtbot, gate) -> None:  # type: ignore[no-untyped-def]
    lesson = _backward_window(window, qtbot)
    steps: list[int] = []
    lesson.step_changed.connect(steps.append)
    window.playback.slider.setValue(60)
    window.playback.slider.setValue(110)  # supersedes the jump to 60
    assert window.jumps.target == 110
    gate.set()
    qtbot.waitUntil(lambda: not window.jumps.jumping, timeout=10_000)
    qtbot.waitUntil(lambda: lesson_ctl.running_jobs() == 0, timeout=10_000)
    qtbot.wait(1)
    assert steps == [110]
    gate.clear()
    window.playback.slider.setValue(20)  # far again …
    assert window.jumps.jumping
    window.controller.go_to(112)  # … but a cheap step near the current one comes first
    assert lesson.step == 112 and not window.jumps.jumping
    gate.set()
    qtbot.waitUntil(lambda: lesson_ctl.running_jobs() == 0, timeout=10_000)
    qtbot.wait(1)
    assert lesson.step == 112 and steps == [110, 112]


def test_a_parameter_change_drops_the_jump_and_close_joins(window, qtbot, gate) -> None:  # type: ignore[no-untyped-def]
    lesson = _backward_window(window, qtbot)
    window.playback.slider.setValue(100)
    assert lesson.set_params(seed=7)
    assert not window.jumps.jumping and lesson.step == 0
    window.playback.slider.setValue(80)
    assert window.jumps.jumping
    window.close()  # stops the running jump (at its next check) and waits for it
    assert lesson_ctl.running_jobs() == 0
    assert lesson.step == 0


def test_a_small_lesson_jumps_at_once(window, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(_trace, "INCREMENTAL_MIN", 5)
    monkeypatch.setattr(_trace, "INCREMENTAL_LIMIT", 5)
    lesson = _backward_window(window, qtbot)
    window.playback.slider.setValue(100)
    assert lesson.step == 100 and not window.jumps.jumping


def test_end_lands_at_once_on_the_final_totals(window, qtbot, gate, settle) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    lesson = _backward_window(window, qtbot)
    trace, last = lesson.run.bwd, lesson.n_steps - 1
    gate.set()
    for k in (60, 100):  # far jumps: the trace's checkpoints are now elsewhere, the last step's gone
        window.playback.slider.setValue(k)
        qtbot.waitUntil(lambda k=k: lesson.step == k and not window.jumps.jumping, timeout=10_000)
    assert not trace.reaches(last)
    gate.clear()  # a recompute in the worker would now wait for the gate: End must not need one
    qtbot.keyClick(window, Qt.Key.Key_End)
    in_worker = window.jumps.jumping
    window.jumps.cancel()  # (a failing run leaves no worker waiting for the gate)
    gate.set()
    assert lesson.step == last and not in_worker
    assert window.playback.label.text().startswith(f"step {last + 1} /")
    fresh = engine.ConvBackwardTrace(trace.setup, trace.dy)  # the same lesson's numbers, nothing reached yet
    expected = fresh.totals_at(last)
    shown = lesson.run.bwd.partial(last)
    for got, want in zip((shown.grad_x_padded, shown.grad_w, shown.grad_bias), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    direct = Lesson(lesson.params)  # the same seed: the same values, jumped to synchronously
    assert direct.set_step(last)
    assert _seen(lesson.frame()) == _seen(direct.frame())
    settle(window)


@pytest.fixture
def gather_gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Every lesson counts as big; the gather trace's ``partial`` waits for the gate off the UI thread."""
    monkeypatch.setattr(jump_ctl, "BACKGROUND_COST", 0)
    opened = threading.Event()
    real = engine.ConvTrace.partial

    def gated(self: engine.ConvTrace, i: int) -> np.ndarray:
        while threading.current_thread() is not threading.main_thread() and not opened.wait(0.005):
            checkpoint()
        return real(self, i)

    monkeypatch.setattr(engine.ConvTrace, "partial", gated)
    yield opened
    opened.set()


def test_a_gather_jump_is_worked_out_in_a_worker_and_lands_with_the_synchronous_frame(  # type: ignore[no-untyped-def]
        window, qtbot, gather_gate, settle) -> None:
    lesson = window.model
    assert lesson.set_params(**SMALL_BACKWARD, grad_view="gather") and lesson.run.gather is not None
    steps: list[int] = []
    lesson.step_changed.connect(steps.append)
    old = lesson.frame()
    window.playback.slider.setValue(60)
    window.playback.slider.setValue(100)  # supersedes the jump to 60
    assert window.jumps.jumping and window.jumps.target == 100
    assert lesson.step == 0 and window.renderer.frame is old  # the last picture stays meanwhile
    assert window.controls.busy_label.text().startswith("Computing step 101…")
    gather_gate.set()
    qtbot.waitUntil(lambda: not window.jumps.jumping, timeout=10_000)
    qtbot.waitUntil(lambda: lesson_ctl.running_jobs() == 0, timeout=10_000)
    qtbot.wait(1)  # deliver the superseded job's queued result (dropped)
    assert steps == [100] and window.renderer.frame is lesson.frame()
    direct = Lesson(lesson.params)  # the same seed: the same values, jumped to synchronously
    assert direct.set_step(100)
    assert _seen(lesson.frame()) == _seen(direct.frame())
    window.controller.step_by(1)  # one step stays synchronous
    assert lesson.step == 101 and not window.jumps.jumping
    assert _seen(lesson.frame()) == _seen(direct.frame(101))
    settle(window)
    window.controller.last()  # End: the whole gradient, and its comparison with the scatter's
    assert window.jumps.jumping
    qtbot.waitUntil(lambda: not window.jumps.jumping, timeout=10_000)
    last = lesson.n_steps - 1
    assert lesson.step == last and "Gather and scatter agree cell for cell" in lesson.frame().arithmetic
    assert _seen(lesson.frame()) == _seen(direct.frame(last))
    np.testing.assert_array_equal(lesson.frame().output, lesson.run.gather.grad_x_padded)


def test_a_conv_trace_hands_out_an_adopted_partial() -> None:
    t = engine.trace_conv2d(np.arange(32.0).reshape(2, 4, 4), np.ones((3, 2, 2, 2)))
    worked_out = t.partial(5)
    t.adopt(5, worked_out)
    assert t.partial(5) is not worked_out and np.shares_memory(t.partial(5), worked_out)
    assert not t.partial(5).flags.writeable
    np.testing.assert_array_equal(t.partial(6), engine.trace_conv2d(
        np.arange(32.0).reshape(2, 4, 4), np.ones((3, 2, 2, 2))).partial(6))
    with pytest.raises(ValueError, match="shape"):
        t.adopt(5, worked_out[:1])

"""A big gradient check is worked out off the UI thread, from a snapshot of the lesson; small ones at once."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from gui.controllers import lesson as lesson_ctl
from gui.controllers import stage as stage_ctl
from gui.models import interaction
from gui.models.lesson import GradientCheck, Lesson
from gui.models.params import Params

# A check that takes a noticeable while (about a second): a backward lesson on 256x256, 8 -> 8, 11x11.
BIG = dict(mode="backward", in_h=256, in_w=256, in_c=8, out_c=8, k_h=11, k_w=11)

CASES = [
    (Params(mode="backward", integers=False), "x", (0, 1, 1)),
    (Params(mode="backward", integers=False, flip_kernel=True), "w", (0, 0, 1, 2)),
    (Params(mode="backward", activation="relu", upstream="loss", in_c=2, out_c=3), "w", (2, 1, 0, 1)),
    (Params(mode="backward", op="max", k_h=2, k_w=2, stride=(2, 2)), "x", (0, 2, 3)),
    (Params(mode="backward", op="avg", k_h=3, k_w=3, stride=(1, 1)), "x", (0, 0, 0)),
]


# ------------------------------------------------------------------ the Qt-free core
@pytest.mark.parametrize(("params", "wrt", "index"), CASES)
def test_the_snapshot_job_gives_exactly_the_synchronous_result(params, wrt, index) -> None:  # type: ignore[no-untyped-def]
    m = Lesson(params)
    job = m.gradient_check_job(wrt, index)
    got = job()
    assert isinstance(got, GradientCheck) and (got.wrt, got.index, got.version) == (wrt, index, m.version)
    assert (got.analytic, got.numeric) == m.check_gradient(wrt, index)
    assert (got.left, got.right) == m.one_sided_slopes(wrt, index)
    assert interaction.check_text(got) == interaction.check_gradient_text(m, (wrt, index))


def test_the_job_reads_the_lesson_when_made_not_when_run() -> None:
    m = Lesson(Params(mode="backward", integers=False))
    expected = m.gradient_check_job("x", (0, 1, 1))()
    job = m.gradient_check_job("x", (0, 1, 1))
    x = m.x.copy()
    assert m.set_input_value(0, 1, 1, 3.5) and m.set_params(seed=m.params.seed + 1)  # changes meanwhile
    assert job() == expected
    assert expected.version != m.version and not np.array_equal(m.x, x)


def test_a_request_the_check_cannot_answer_is_refused_when_the_job_is_made() -> None:
    m = Lesson(Params(mode="backward"))
    with pytest.raises(ValueError, match="input"):
        m.gradient_check_job("x", (9, 0, 0))
    assert "Backward" in str(interaction.gradient_check_job(Lesson(), ("x", (0, 0, 0))))


def test_the_check_of_a_big_lesson_costs_more_than_a_change_worked_out_at_once() -> None:
    assert Lesson.check_cost(Params()) <= lesson_ctl.BACKGROUND_COST < Lesson.check_cost(Params(**BIG))


# ------------------------------------------------------------------ the window
def _ticking_while(qtbot, stage, start) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Run ``start()``, tick every 10 ms until the check is shown: the longest gap, the time checking (s)."""
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    try:
        t0 = time.perf_counter()
        start()
        ticks.append(t0)
        qtbot.waitUntil(lambda: not stage.checking, timeout=120_000)
        ticks.append(time.perf_counter())
    finally:
        timer.stop()
    seen = sorted(ticks)
    return float(np.diff(seen).max()), seen[-1] - seen[0]


def test_a_small_check_is_shown_at_once(window) -> None:  # type: ignore[no-untyped-def]
    assert window.model.set_params(mode="backward")
    window.stage.check_gradient()
    assert not window.stage.checking and "analytic" in window.controls.check_result.text()


def test_a_big_check_keeps_the_window_responsive_then_shows_its_result(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    lesson, stage, label = window.model, window.stage, window.controls.check_result
    assert lesson.set_params(**BIG)
    stage.selected = ("w", (1, 0, 4, 4))
    said: list[str] = []

    def start() -> None:
        stage.check_gradient()
        said.append(label.text())
        assert stage.checking and lesson_ctl.running_jobs() == 1

    gap, computing = _ticking_while(qtbot, stage, start)
    assert said == [stage_ctl.CHECKING]
    assert label.text() == interaction.check_gradient_text(lesson, stage.selected)
    assert label.text().startswith("<b>dL/dW[1, 0, 4, 4]</b>")
    # On the UI thread the check is one stall as long as the computing (see test_background.py).
    assert gap < max(0.25, computing / 2), f"the event loop stalled {gap * 1e3:.0f} ms of {computing:.2f} s"


def _wait_for_the_worker(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Until no check is computing and its queued result, if any, has been delivered."""
    qtbot.waitUntil(lambda: lesson_ctl.running_jobs() == 0, timeout=120_000)
    QApplication.processEvents()  # the result was posted before the worker ended


def test_a_change_while_checking_drops_the_stale_result(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    lesson, stage, label = window.model, window.stage, window.controls.check_result
    assert lesson.set_params(**BIG)
    stage.check_gradient()
    assert label.text() == stage_ctl.CHECKING
    assert lesson.set_input_value(0, 0, 0, 2.5)  # the check is of the lesson before this
    assert not stage.checking and label.text() == ""
    _wait_for_the_worker(qtbot)
    assert label.text() == ""


def test_a_newer_check_supersedes_a_running_one(window, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(stage_ctl, "BACKGROUND_COST", 0)  # every check in the worker: a small lesson is quick
    lesson, stage, label = window.model, window.stage, window.controls.check_result
    assert lesson.set_params(mode="backward", integers=False)
    shown: list[str] = []
    stage._check_result = lambda html: (shown.append(html), label.setText(html))
    stage.selected = ("x", (0, 1, 1))
    stage.check_gradient()
    stage.selected = ("x", (0, 2, 2))
    stage.check_gradient()
    qtbot.waitUntil(lambda: not stage.checking, timeout=120_000)
    _wait_for_the_worker(qtbot)
    newest = interaction.check_gradient_text(lesson, stage.selected)
    assert shown == [stage_ctl.CHECKING, stage_ctl.CHECKING, newest]  # the first one's result is dropped
    assert label.text().startswith("<b>dL/dX[0, 2, 2]</b>")


def test_every_check_is_joined_when_the_window_closes(window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(stage_ctl, "BACKGROUND_COST", 0)
    assert window.model.set_params(mode="backward")
    window.stage.check_gradient()
    assert window.stage.checking
    window.close()
    assert lesson_ctl.running_jobs() == 0 and not window.stage.checking

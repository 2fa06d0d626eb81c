"""A long computation stops when asked: Cancel, a newer change and closing the window stop the worker.

Progress is the job's own: ``StopToken.checks`` counts the checks it made (one per
chunk of work). A stopped job makes at most one check after ``cancel()``, and
stops before the whole job is done; nothing here asserts on a wall clock.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

import engine
from engine import network as nw
from engine.cancel import Cancelled, checkpoint, stop_when
from gui.controllers import lesson as lesson_ctl
from gui.controllers import stage as stage_ctl
from gui.models.cancel import StopToken
from gui.models.lesson import Lesson
from gui.models.params import Params
from gui.models.pipeline import PipelineJob, PipelineState

# About a second or more of work (192x192, 8 -> 8 channels, 9x9 kernels, backward): over a thousand checks.
BIG = dict(in_h=192, in_w=192, in_c=8, out_c=8, k_h=9, k_w=9)
# A pipeline whose forward pass is about 300 million multiply-adds: some hundred checks.
BIG_NET = nw.Network((3, 160, 160), (nw.Conv(8, 9, padding=4), nw.Activation("relu"),
                                     nw.Conv(8, 9, padding=4), nw.Conv(8, 9, padding=4)))


def _checks_of(work) -> int:  # type: ignore[no-untyped-def]
    """How many checks ``work`` makes when nothing stops it."""
    token = StopToken()
    token.run(work)
    return token.checks


def _events(obj) -> list[object]:  # type: ignore[no-untyped-def]
    got: list[object] = []
    obj.changed.connect(lambda: got.append("changed"))
    obj.error.connect(lambda m: got.append(("error", m)))
    return got


def _join(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Until no worker runs and any result it posted has been delivered (and dropped or applied)."""
    qtbot.waitUntil(lambda: lesson_ctl.running_jobs() == 0, timeout=120_000)
    QApplication.processEvents()


# ------------------------------------------------------------------ the engine and the core
def test_a_check_outside_stop_when_never_stops_and_the_numbers_do_not_change() -> None:
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(3, 20, 20)), rng.normal(size=(4, 3, 5, 5))
    checkpoint()  # no stop_when: nothing to ask
    asked: list[int] = []
    with stop_when(lambda: asked.append(1) is not None):  # asked, never stops
        y = engine.conv2d(x, w, padding=2, stride=2)
        gx, gw, gb = engine.conv2d_backward(x, w, y, padding=2, stride=2)
        p = engine.pool2d(x, 3, op="max", padding=1)
    assert len(asked) >= 20  # at least one check per block of output rows
    np.testing.assert_array_equal(y, engine.conv2d(x, w, padding=2, stride=2))
    for a, b in zip((gx, gw, gb), engine.conv2d_backward(x, w, y, padding=2, stride=2), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(p, engine.pool2d(x, 3, op="max", padding=1))


def test_stop_when_belongs_to_its_thread() -> None:
    seen: list[bool] = []
    with stop_when(lambda: True):
        t = threading.Thread(target=lambda: seen.append(checkpoint() is None))  # another thread: no stop
        t.start()
        t.join()
        with pytest.raises(Cancelled):
            checkpoint()
    checkpoint()  # the block is over: no stop
    assert seen == [True]


def test_a_cancelled_token_stops_before_the_work_begins() -> None:
    token = StopToken()
    token.cancel()
    ran: list[int] = []
    with pytest.raises(Cancelled):
        token.run(lambda: ran.append(1))
    assert ran == [] and token.cancelled and token.checks == 1


@pytest.mark.parametrize("what", ["change", "gradient check"])
def test_a_big_job_stops_at_the_check_after_cancel_and_changes_nothing(what: str) -> None:
    lesson = Lesson(Params(mode="backward"))
    if what == "gradient check":
        assert lesson.set_params(**BIG)
    got = _events(lesson)
    before = (lesson.params, lesson.version, lesson.run)

    def job():  # type: ignore[no-untyped-def]
        return lesson.preparer(**BIG) if what == "change" else lesson.gradient_check_job("w", (1, 0, 4, 4))

    full = _checks_of(job())
    token = StopToken()
    stop_at = 10

    def ask() -> bool:  # cancels itself at its 10th check, as if Cancel were clicked right then
        if token.checks + 1 >= stop_at:
            token.cancel()
        return token()

    with pytest.raises(Cancelled), stop_when(ask):
        job()()
    assert token.checks == stop_at and full > 20 * stop_at, (token.checks, full)
    assert (lesson.params, lesson.version, lesson.run) == before and got == []


def test_the_pipeline_core_hands_a_big_change_to_its_runner_and_applies_only_the_newest() -> None:
    state = PipelineState()
    got = _events(state)
    jobs: list[PipelineJob] = []
    state.runner = lambda job: jobs.append(job) is None  # takes every change
    shown = (state.network, state.outputs)
    assert state.set_network(BIG_NET)
    assert state.new_weights()  # on top of the pending change: BIG_NET, next seed
    assert (state.network, state.outputs) == shown and got == []
    first, second = jobs
    assert state.pending is second and second.network == BIG_NET and second.seed == first.seed + 1
    assert not state.finish(first.run())  # superseded: dropped without a word
    assert got == [] and state.network == shown[0]
    assert state.finish(second.run())
    assert got == ["changed"] and state.network == BIG_NET and state.seed == second.seed
    assert state.pending is None and len(state.outputs) == len(BIG_NET.layers) + 1
    assert state.set_layers(BIG_NET.layers[:1])
    assert state.cancel() and state.pending is None and not state.finish(jobs[-1].run())
    assert state.network == BIG_NET and got == ["changed"]


# ------------------------------------------------------------------ the main window
def _started(qtbot, token: StopToken) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: token.checks >= 3, timeout=120_000)


def test_cancel_stops_the_running_change_and_the_old_lesson_stays(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    lesson, ctl = window.model, window.lesson_ctl
    assert lesson.set_params(mode="backward")
    full = _checks_of(lesson.preparer(**BIG))
    got = _events(lesson)
    old = lesson.params
    ctl.change(**BIG)
    token = ctl.token
    _started(qtbot, token)
    window.controls.cancel.click()
    at = token.checks
    assert token.cancelled and not ctl.busy and not window.controls.busy.isVisibleTo(window.controls)
    _join(qtbot)
    assert token.checks <= at + 1 < full, (at, token.checks, full)
    assert lesson.params == old and got == []
    assert lesson.frame() is lesson.frame()  # still answers, whole


def test_a_newer_change_stops_the_running_one(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    lesson, ctl = window.model, window.lesson_ctl
    assert lesson.set_params(mode="backward")
    full = _checks_of(lesson.preparer(**BIG))
    got = _events(lesson)
    ctl.change(**BIG)
    first = ctl.token
    _started(qtbot, first)
    ctl.change(out_c=6)  # on top of the first: both apply, once
    at = first.checks
    assert first.cancelled and ctl.token is not first and ctl.busy
    qtbot.waitUntil(lambda: not ctl.busy, timeout=120_000)
    _join(qtbot)
    assert first.checks <= at + 1 < full
    assert got == ["changed"] and (lesson.params.in_h, lesson.params.out_c) == (192, 6)


def test_a_change_from_elsewhere_stops_the_running_one(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    lesson, ctl = window.model, window.lesson_ctl
    assert lesson.set_params(mode="backward")
    ctl.change(**BIG)
    token = ctl.token
    _started(qtbot, token)
    assert lesson.set_params(k_h=2)  # e.g. a scenario file opened meanwhile: the running change is stale
    at = token.checks
    assert token.cancelled and not ctl.busy and not window.controls.busy.isVisibleTo(window.controls)
    assert window.controls.kernel_size.value()[0] == 2
    _join(qtbot)
    assert token.checks <= at + 1 and lesson.params.k_h == 2 and lesson.params.in_h != 192


def test_closing_during_a_big_change_stops_it_and_leaves_no_thread(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    lesson, ctl = window.model, window.lesson_ctl
    assert lesson.set_params(mode="backward")
    full = _checks_of(lesson.preparer(**BIG))
    ctl.change(**BIG)
    token = ctl.token
    _started(qtbot, token)
    window.close()  # returns once the worker has ended
    assert lesson_ctl.running_jobs() == 0 and token.cancelled
    assert token.checks < full, (token.checks, full)  # stopped before the end, at its next check


def test_cancel_beside_checking_the_gradient_stops_the_check(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    lesson, stage, controls = window.model, window.stage, window.controls
    assert lesson.set_params(**BIG, mode="backward")
    stage.selected = ("w", (1, 0, 4, 4))
    full = _checks_of(lesson.gradient_check_job(*stage.selected))
    assert not controls.check_cancel.isVisibleTo(controls)
    stage.check_gradient()
    assert controls.check_result.text() == stage_ctl.CHECKING and controls.check_cancel.isVisibleTo(controls)
    token = stage.token
    _started(qtbot, token)
    controls.check_cancel.click()
    at = token.checks
    assert not stage.checking and controls.check_result.text() == ""
    assert not controls.check_cancel.isVisibleTo(controls)
    _join(qtbot)
    assert token.checks <= at + 1 < full
    assert controls.check_result.text() == ""  # the stopped check's result never lands


def test_a_finished_check_hides_its_cancel(window, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(stage_ctl, "BACKGROUND_COST", 0)  # a small lesson's check in the worker
    assert window.model.set_params(mode="backward")
    window.stage.check_gradient()
    assert window.controls.check_cancel.isVisibleTo(window.controls)
    qtbot.waitUntil(lambda: not window.stage.checking, timeout=120_000)
    assert "analytic" in window.controls.check_result.text()
    assert not window.controls.check_cancel.isVisibleTo(window.controls)


# ------------------------------------------------------------------ the pipeline window
def _pipeline_checks() -> int:
    """How many checks computing BIG_NET makes when nothing stops it."""
    state = PipelineState()
    jobs: list[PipelineJob] = []
    state.runner = lambda job: jobs.append(job) is None
    assert state.set_network(BIG_NET)
    return _checks_of(jobs[0].run)


def test_a_small_pipeline_change_is_applied_at_once(pipeline) -> None:  # type: ignore[no-untyped-def]
    n = len(pipeline.model.network.layers)
    pipeline.insert_layer(nw.Activation("relu"))
    assert not pipeline.jobs.busy and len(pipeline.model.network.layers) == n + 1
    assert pipeline.layers.count() == n + 1


def test_a_big_pipeline_change_computes_in_the_worker_while_the_last_picture_stays(pipeline, qtbot) -> None:  # type: ignore[no-untyped-def]
    state, jobs = pipeline.model, pipeline.jobs
    got = _events(state)
    old_net, old_outputs, rows = state.network, state.outputs, pipeline.layers.count()
    assert state.set_network(BIG_NET)
    assert jobs.busy and pipeline.busy.isVisibleTo(pipeline)
    assert state.network == old_net and pipeline.layers.count() == rows
    assert all(a is b for a, b in zip(state.outputs, old_outputs, strict=True))
    pipeline.trace_field(1, 0, 2, 2)  # the last picture still answers
    assert pipeline.field_sizes
    qtbot.waitUntil(lambda: not jobs.busy, timeout=120_000)
    assert got == ["changed"] and state.network == BIG_NET
    assert not pipeline.busy.isVisibleTo(pipeline) and pipeline.layers.count() == len(BIG_NET.layers)
    np.testing.assert_allclose(state.outputs[-1], BIG_NET.forward(state.x, state.weights)[-1])


def test_cancel_stops_the_pipeline_worker_and_the_last_picture_stays(pipeline, qtbot) -> None:  # type: ignore[no-untyped-def]
    state, jobs = pipeline.model, pipeline.jobs
    got = _events(state)
    old_net = state.network
    assert state.set_network(BIG_NET)
    token = jobs.token
    _started(qtbot, token)
    pipeline.cancel.click()
    at = token.checks
    assert not jobs.busy and not pipeline.busy.isVisibleTo(pipeline) and state.pending is None
    _join(qtbot)
    assert token.checks <= at + 1 < _pipeline_checks()
    assert state.network == old_net and got == []


def test_a_newer_pipeline_change_supersedes_the_running_one(pipeline, qtbot) -> None:  # type: ignore[no-untyped-def]
    state, jobs = pipeline.model, pipeline.jobs
    got = _events(state)
    assert state.set_network(BIG_NET)
    first = jobs.token
    _started(qtbot, first)
    assert state.new_weights()  # builds on the running change
    at = first.checks
    assert first.cancelled and jobs.busy
    qtbot.waitUntil(lambda: not jobs.busy, timeout=120_000)
    _join(qtbot)
    assert first.checks <= at + 1
    assert got == ["changed"] and state.network == BIG_NET and state.seed == 1


def test_closing_the_pipeline_during_a_big_change_leaves_no_thread(pipeline, qtbot) -> None:  # type: ignore[no-untyped-def]
    state, jobs = pipeline.model, pipeline.jobs
    assert state.set_network(BIG_NET)
    token = jobs.token
    _started(qtbot, token)
    pipeline.close()
    assert lesson_ctl.running_jobs() == 0 and token.cancelled and not jobs.busy


def test_the_pipelines_cost_counts_multiply_adds_per_layer() -> None:
    from gui.models.pipeline_job import forward_cost

    net = nw.Network((4, 10, 10), (nw.Conv(4, 3, groups=2), nw.Activation("relu"), nw.Pool("max", 2),
                                   nw.Flatten(), nw.Dense(10)))
    # conv: 4x8x8 outputs, each 2 channels x 3x3; relu: one per value; pool: 4x4x4 outputs x 2x2;
    # flatten: one per value; dense: 64 x 10 weights.
    assert forward_cost(net) == 256 * 2 * 9 + 256 + 64 * 4 + 64 + 64 * 10


def test_a_pending_pipeline_change_keeps_its_weights_choice_until_applied() -> None:
    state = PipelineState()
    assert state.weights_kind == "trained" and state.trained_layers > 0
    jobs: list[PipelineJob] = []
    state.runner = lambda job: jobs.append(job) is None
    assert state.set_weights_kind("random")
    assert state.weights_kind == "trained" and jobs[-1].kind == "random"  # shown: still the trained ones
    assert state.cancel() and state.weights_kind == "trained" and state.trained_layers > 0
    assert state.set_weights_kind("random") and state.new_weights()  # on top of the pending choice
    assert jobs[-1].kind == "random" and jobs[-1].seed == state.seed + 1
    assert state.finish(jobs[-1].run())
    assert (state.weights_kind, state.trained_layers, state.seed) == ("random", 0, jobs[-1].seed)

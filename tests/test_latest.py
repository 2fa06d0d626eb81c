"""``Latest``: only the latest job's result lands; a superseded or dropped one's never does."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from gui.controllers.latest import Latest, running_jobs
from gui.models.cancel import checkpoint


@pytest.fixture
def latest(qtbot: QtBot) -> Iterator[tuple[Latest, list[object], list[bool]]]:
    """A ``Latest`` with what landed and every ``running_changed`` it emitted."""
    landed: list[object] = []
    running: list[bool] = []
    job = Latest(landed.append)
    job.running_changed.connect(running.append)
    yield job, landed, running
    job.shutdown()
    assert running_jobs() == 0


def _gated(gate: threading.Event, result: object, ran: list[object], *,
           stoppable: bool) -> Callable[[], object]:
    """Work that records that it ran, waits for ``gate`` (asking its token meanwhile if ``stoppable``)."""
    def work() -> object:
        ran.append(result)
        while not gate.wait(0.005):
            if stoppable:
                checkpoint()
        return result

    return work


def test_a_superseded_job_that_runs_to_its_end_is_dropped(qtbot: QtBot, latest) -> None:
    job, landed, running = latest
    gate, ran = threading.Event(), []
    job.start(_gated(gate, "first", ran, stoppable=False))  # never asks its token: it finishes
    qtbot.waitUntil(lambda: ran == ["first"])
    job.start(lambda: "second")
    assert job.running and running == [True]  # one busy spell, not two
    gate.set()
    qtbot.waitUntil(lambda: not job.running, timeout=5_000)
    assert landed == ["second"] and running == [True, False]


def test_a_job_not_started_yet_never_runs(qtbot: QtBot, latest) -> None:
    job, landed, running = latest
    gate, ran = threading.Event(), []
    job.start(_gated(gate, "first", ran, stoppable=False))
    qtbot.waitUntil(lambda: ran == ["first"])
    first = job.token
    job.start(_gated(gate, "queued", ran, stoppable=False))  # waits for the pool's one thread
    job.start(lambda: ran.append("third") or "third")
    assert first.cancelled and job.token is not first
    gate.set()
    qtbot.waitUntil(lambda: not job.running, timeout=5_000)
    assert ran == ["first", "third"] and landed == ["third"] and running == [True, False]


@pytest.mark.parametrize("stoppable", [True, False])
def test_a_dropped_job_stops_and_lands_nothing(qtbot: QtBot, latest, stoppable: bool) -> None:
    job, landed, running = latest
    gate, ran = threading.Event(), []
    job.start(_gated(gate, "first", ran, stoppable=stoppable))
    qtbot.waitUntil(lambda: ran == ["first"])
    assert job.drop() and not job.running and not job.drop()
    if not stoppable:
        gate.set()  # it runs to its end: its result must still be dropped
    qtbot.waitUntil(lambda: running_jobs() == 0, timeout=5_000)  # a stoppable one stopped on its own
    QApplication.processEvents()  # its result, posted before the thread ended, is delivered now
    assert landed == [] and running == [True, False]


def test_an_exception_lands_as_the_result(qtbot: QtBot, latest) -> None:
    job, landed, _ = latest

    def fails() -> object:
        raise ValueError("bad shape")

    job.start(fails)
    qtbot.waitUntil(lambda: bool(landed), timeout=5_000)
    assert isinstance(landed[0], ValueError) and str(landed[0]) == "bad shape" and not job.running

"""Runs a big pipeline change in a worker thread: the last picture stays, Cancel stops it, close joins.

``PipelineJobs`` is the ``runner`` of a ``PipelineState``: every checked
change passes through it. A small one (``PipelineJob.cost`` at most
``BACKGROUND_COST``) is left to the state, which computes it at once, so
tests and tiny nets stay immediate; a big one runs in a worker thread (the
same ``Job``/``Sink``/``worker_pool`` pieces as the lesson's changes) while
the state, and so the window, keep the last picture. Either kind stops a
running job at its next check; its result is dropped.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from ..models.cancel import StopToken
from ..models.pipeline import PipelineJob, PipelineResult, PipelineState
from .lesson import BACKGROUND_COST as LESSON_BACKGROUND_COST
from .lesson import Job, Sink, dropped, worker_pool

#: A pipeline change whose forward pass takes more multiply-adds than this (``PipelineJob.cost``)
#: is computed in a worker thread; a smaller one at once.
BACKGROUND_COST = LESSON_BACKGROUND_COST


class PipelineJobs(QObject):
    """Computes ``state``'s big changes off the UI thread.

    Parameters
    ----------
    state : PipelineState
        Its ``runner`` is set to ``self.run``.
    parent : QObject, optional

    Signals
    -------
    busy_changed(bool)
        A change is being computed in the background (True) or no longer (False).
    """

    busy_changed = Signal(bool)

    def __init__(self, state: PipelineState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._pool = worker_pool()  # owned by Python: never deleted under a live reference
        self._sink = Sink(self)
        self._sink.done.connect(self._finished)
        self._job = 0  # the id of the job whose result is wanted; 0: none
        self._next_job = 0
        self._running: PipelineJob | None = None
        #: The running (or last) job's stop token: ``token.checks`` is its progress.
        self.token = StopToken()
        state.runner = self.run

    @property
    def busy(self) -> bool:
        """A change is being computed in the worker thread."""
        return self._job != 0

    def run(self, job: PipelineJob) -> bool:
        """``PipelineState.runner``: take a big job to the worker (True), leave a small one to the state.

        Either supersedes a job still running: it stops at its next check and its result is dropped.
        """
        self._pool.clear()  # a job not started yet is stale already: it never runs
        self.token.cancel()
        if job.cost <= BACKGROUND_COST:
            self._set_job(0, None)
            return False
        self._next_job += 1
        self.token = StopToken()
        self._pool.start(Job(self._next_job, job.run, self._sink, self.token))
        self._set_job(self._next_job, job)
        return True

    def cancel(self) -> None:
        """Stop the change being computed; the last picture stays."""
        if self.busy:
            self._pool.clear()
            self.token.cancel()
            self.state.cancel()
            self._set_job(0, None)

    def shutdown(self) -> None:
        """Stop any change being computed and wait for the worker thread to end (soon: it is stopped)."""
        self.cancel()
        self._pool.waitForDone()

    def _set_job(self, job: int, running: PipelineJob | None) -> None:
        was = self.busy
        self._job, self._running = job, running
        if self.busy != was:
            self.busy_changed.emit(self.busy)

    def _finished(self, job: int, result: object) -> None:
        if job != self._job or dropped(result) or self._running is None:
            return  # superseded or cancelled: dropped
        running = self._running
        self._set_job(0, None)
        if isinstance(result, Exception):  # reported in plain words, the state stays whole
            result = PipelineResult(running, [], [], 0, f"the forward pass failed: {result}")
        if isinstance(result, PipelineResult):
            self.state.finish(result)

"""Runs a big pipeline change in a worker thread: the last picture stays, Cancel stops it, close joins.

``PipelineJobs`` is the ``runner`` of a ``PipelineState``: every checked
change passes through it. A small one (``PipelineJob.cost`` at most
``BACKGROUND_COST``) is left to the state, which computes it at once, so
tests and tiny nets stay immediate; a big one runs in a worker thread (a
``Latest``, as the lesson's changes) while the state, and so the window,
keep the last picture. Either kind stops a running job at its next check;
its result is dropped.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from ..models.cancel import StopToken
from ..models.pipeline import PipelineJob, PipelineResult, PipelineState
from .latest import Latest
from .lesson import BACKGROUND_COST as LESSON_BACKGROUND_COST

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
        self._latest = Latest(self._finished, self)
        self._latest.running_changed.connect(self.busy_changed)
        self._running: PipelineJob | None = None
        state.runner = self.run

    @property
    def busy(self) -> bool:
        """A change is being computed in the worker thread."""
        return self._latest.running

    @property
    def token(self) -> StopToken:
        """The running (or last) change's stop token: ``token.checks`` is its progress."""
        return self._latest.token

    def run(self, job: PipelineJob) -> bool:
        """``PipelineState.runner``: take a big job to the worker (True), leave a small one to the state.

        Either supersedes a job still running: it stops at its next check and its result is dropped.
        """
        if job.cost <= BACKGROUND_COST:
            self._running = None
            self._latest.drop()
            return False
        self._running = job
        self._latest.start(job.run)
        return True

    def cancel(self) -> None:
        """Stop the change being computed; the last picture stays."""
        if self.busy:
            self.state.cancel()
            self._running = None
            self._latest.drop()

    def shutdown(self) -> None:
        """Stop any change being computed and wait for the worker thread to end (soon: it is stopped)."""
        self.cancel()
        self._latest.shutdown()

    def _finished(self, result: object) -> None:
        running, self._running = self._running, None
        if running is None:
            return
        if isinstance(result, Exception):  # reported in plain words, the state stays whole
            result = PipelineResult(running, [], [], 0, f"the forward pass failed: {result}")
        if isinstance(result, PipelineResult):
            self.state.finish(result)

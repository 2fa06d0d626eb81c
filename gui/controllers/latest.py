"""The latest of a series of jobs, run in a worker thread: a newer one supersedes it, only its result lands.

Every heavy action of the shell (a big lesson change, a picture being read,
a far jump, a gradient check, a pipeline change) follows one rule: the last
good picture stays and stays interactive while the job runs in a worker;
a newer job supersedes a running one (no queue of stale work: one not started
yet never runs, one running stops at its next check of its ``StopToken``) and
the result of a superseded or dropped job is never used. ``Latest`` keeps
that bookkeeping in one place; the controllers say only what a job is and
what its result does.

``Job``/``Sink``/``worker_pool`` are the pieces under it: a one-thread pool
that ``running_jobs`` counts (tests check that none is left running), a
runnable that posts its result (or its exception) through a queued signal.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from ..models.cancel import Cancelled, StopToken

__all__ = ["Job", "Latest", "Sink", "dropped", "live_pools", "running_jobs", "worker_pool"]

_POOLS: weakref.WeakSet[QThreadPool] = weakref.WeakSet()


def running_jobs() -> int:
    """Worker threads still running a job, over every live pool (tests check 0)."""
    return sum(p.activeThreadCount() for p in live_pools())


def live_pools() -> list[QThreadPool]:
    """Every live worker pool."""
    return [p for p in list(_POOLS) if shiboken6.isValid(p)]


def worker_pool() -> QThreadPool:
    """A one-thread pool that ``running_jobs`` counts (keep a Python reference to it: it is not parented)."""
    pool = QThreadPool()
    pool.setMaxThreadCount(1)
    _POOLS.add(pool)
    return pool


class Sink(QObject):
    """Lives in the UI thread; a worker's result reaches it through a queued signal."""

    done = Signal(int, object)


class Job(QRunnable):
    """Runs ``work`` (e.g. a ``Lesson.preparer``) under ``token`` and posts ``(job, result)`` to the sink.

    An exception is posted as the result: it is reported on the UI thread, never lost in the worker.
    A job stopped by ``token.cancel()`` posts ``Cancelled``, which the receiver drops silently.
    """

    def __init__(self, job: int, work: Callable[[], object], sink: Sink, token: StopToken) -> None:
        super().__init__()
        self.job, self.work, self.sink, self.token = job, work, sink, token

    def run(self) -> None:
        try:
            result: object = self.token.run(self.work)
        except Exception as exc:  # reported on the UI thread, never lost in the worker (Cancelled too)
            result = exc
        self.sink.done.emit(self.job, result)


def dropped(result: object) -> bool:
    """A job's result that is dropped without a word: it was cancelled."""
    return isinstance(result, Cancelled)


class Latest(QObject):
    """Runs the latest job in a worker thread and hands its result (only its) to ``landed``.

    Parameters
    ----------
    landed : callable
        ``landed(result)``, on the UI thread, with what the wanted job's work
        returned or the exception it raised; never called for a superseded,
        dropped or cancelled job.
    parent : QObject, optional

    Signals
    -------
    running_changed(bool)
        A job started when none was running (True); the running one landed or was dropped (False).
        Emitted before ``landed`` is called.
    """

    running_changed = Signal(bool)

    def __init__(self, landed: Callable[[object], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._landed = landed
        self._pool = worker_pool()  # owned by Python: never deleted under a live reference
        self._sink = Sink(self)
        self._sink.done.connect(self._finished)
        self._job = 0  # the id of the job whose result is wanted; 0: none
        self._next_job = 0
        #: The running (or last) job's stop token: ``token.checks`` is its progress.
        self.token = StopToken()

    @property
    def running(self) -> bool:
        """A job is being worked out (or waits for the worker thread) and its result is wanted."""
        return self._job != 0

    def start(self, work: Callable[[], object]) -> None:
        """Run ``work`` in the worker thread; the job before it (if any) is superseded."""
        self._stop()
        was = self.running
        self._next_job += 1
        self._job = self._next_job
        self.token = StopToken()
        self._pool.start(Job(self._job, work, self._sink, self.token))
        if not was:
            self.running_changed.emit(True)

    def drop(self) -> bool:
        """Stop the running job and drop its result; False when none was running."""
        self._stop()
        if not self._job:
            return False
        self._job = 0
        self.running_changed.emit(False)
        return True

    def shutdown(self) -> None:
        """Drop any job and wait for the worker thread to end (soon: the job is stopped)."""
        self.drop()
        self._pool.waitForDone()

    def _stop(self) -> None:
        self._pool.clear()  # a job not started yet is stale already: it never runs
        self.token.cancel()  # one running stops at its next check: the pool's one thread is free soon

    def _finished(self, job: int, result: object) -> None:
        if job != self._job or dropped(result):
            return  # superseded or cancelled: dropped
        self._job = 0
        self.running_changed.emit(False)
        self._landed(result)

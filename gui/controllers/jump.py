"""Far jumps in a big backward lesson: worked out in a worker, the last picture stays until it lands.

A jump of the timeline (the slider, Home/End, a typed step) to a backward
step that the trace cannot reach by adding a few windows recomputes the
gradients of the whole prefix (``gui.models.jump``). In a big lesson (cost
above ``BACKGROUND_COST``) that pass runs in a worker thread (the same
``Job``/``Sink``/``worker_pool`` pieces as the lesson's changes): the lesson's
step, the picture and the step label stay where they are (the slider shows
where it is going), the busy row says "Computing step N…" with Cancel, and
the step moves when the result lands. A newer jump supersedes a running one;
any other move of the step (a cheap jump, playback, a step key), a change of
the lesson or ``cancel`` drops it; ``shutdown`` stops it and waits.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from ..controls import PlaybackBar
from ..models.cancel import StopToken
from ..models.jump import Reached, far_jump, land
from ..models.lesson import Lesson
from .lesson import BACKGROUND_COST, Job, Sink, dropped, worker_pool

__all__ = ["JumpController"]


class JumpController(QObject):
    """Takes far backward jumps of a big ``lesson`` off the UI thread (``go_to``).

    Parameters
    ----------
    lesson : Lesson
    bar : PlaybackBar
        Its slider is put back on the lesson's step when a jump is dropped.
    notify : callable
        ``notify(text)`` says, next to the controls, why a jump did not land.

    Signals
    -------
    jumping_changed(int)
        The step being worked out in a worker (-1: none any more).
    """

    jumping_changed = Signal(int)

    def __init__(self, lesson: Lesson, bar: PlaybackBar, *, notify: Callable[[str], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lesson, self.bar, self._notify = lesson, bar, notify
        self._pool = worker_pool()  # owned by Python: never deleted under a live reference
        self._sink = Sink(self)
        self._sink.done.connect(self._finished)
        self._job = 0  # the id of the jump whose result is wanted; 0: none
        self._next_job = 0
        self._landing = False
        #: The step being worked out (-1: none).
        self.target = -1
        #: The running (or last) jump's stop token: ``token.checks`` is its progress.
        self.token = StopToken()
        lesson.changed.connect(self._drop)  # its trace is gone: the result would be stale
        lesson.step_changed.connect(self._stepped)

    @property
    def jumping(self) -> bool:
        """A jump is being worked out in a worker thread."""
        return self._job != 0

    def go_to(self, k: int) -> bool:
        """Take a move to step ``k`` over when it is a far jump in a big backward lesson.

        Returns
        -------
        bool
            True: it is worked out in a worker and the step moves when it lands.
            False: the caller moves the step at once (a running jump is dropped:
            the newer move wins).
        """
        work = far_jump(self.lesson, k) if Lesson.cost(self.lesson.params) > BACKGROUND_COST else None
        if work is None:
            self._drop()
            return False
        self._pool.clear()  # a jump not started yet is stale already: it never runs
        self.token.cancel()  # one running stops at its next check
        self._next_job += 1
        self._job = self._next_job
        self.token = StopToken()
        self._pool.start(Job(self._job, work, self._sink, self.token))
        self._set_target(max(0, min(int(k), self.lesson.n_steps - 1)))
        return True

    def cancel(self) -> None:
        """Stop the jump being worked out: the lesson stays on its step, the slider goes back there."""
        if self.jumping:
            self._drop()
            self.bar.show_step(self.lesson.step)

    def shutdown(self) -> None:
        """Stop any jump being worked out and wait for the worker thread to end (soon: it is stopped)."""
        self._drop()
        self._pool.waitForDone()

    def _stepped(self, _: int) -> None:
        if not self._landing:
            self._drop()  # the step moved another way: a jump landing now would move it back

    def _drop(self) -> None:
        self._pool.clear()
        self.token.cancel()
        self._job = 0
        self._set_target(-1)

    def _set_target(self, k: int) -> None:
        if k != self.target:
            self.target = k
            self.jumping_changed.emit(k)

    def _finished(self, job: int, result: object) -> None:
        if job != self._job or dropped(result):
            return  # superseded or cancelled: dropped
        target = self.target
        self._job = 0
        self._set_target(-1)
        self._landing = True
        try:
            landed = isinstance(result, Reached) and land(self.lesson, result)
        except ValueError as exc:  # totals of another shape: never escapes the slot
            landed, result = False, exc
        finally:
            self._landing = False
        if not landed:
            self.bar.show_step(self.lesson.step)
        if isinstance(result, Exception):
            self._notify(f"Could not show step {target + 1}: {result}")

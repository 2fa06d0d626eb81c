"""Far jumps in a big backward lesson: worked out in a worker, the last picture stays until it lands.

A jump of the timeline (the slider, Home/End, a typed step) to a backward
step that the trace cannot reach by adding a few windows recomputes the
gradients of the whole prefix (``gui.models.jump``). In a big lesson (cost
above ``BACKGROUND_COST``) that pass runs in a worker thread (a ``Latest``, as
the lesson's changes): the lesson's
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
from ..models.jump import Gathered, Reached, far_jump, land
from ..models.lesson import Lesson
from .latest import Latest
from .lesson import BACKGROUND_COST

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
        self._latest = Latest(self._finished, self)
        self._landing = False
        #: The step being worked out (-1: none).
        self.target = -1
        lesson.changed.connect(self._drop)  # its trace is gone: the result would be stale
        lesson.step_changed.connect(self._stepped)

    @property
    def jumping(self) -> bool:
        """A jump is being worked out in a worker thread."""
        return self._latest.running

    @property
    def token(self) -> StopToken:
        """The running (or last) jump's stop token: ``token.checks`` is its progress."""
        return self._latest.token

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
        self._latest.start(work)  # a jump still running is superseded
        self._set_target(max(0, min(int(k), self.lesson.n_steps - 1)))
        return True

    def cancel(self) -> None:
        """Stop the jump being worked out: the lesson stays on its step, the slider goes back there."""
        if self.jumping:
            self._drop()
            self.bar.show_step(self.lesson.step)

    def shutdown(self) -> None:
        """Stop any jump being worked out and wait for the worker thread to end (soon: it is stopped)."""
        self._set_target(-1)
        self._latest.shutdown()

    def _stepped(self, _: int) -> None:
        if not self._landing:
            self._drop()  # the step moved another way: a jump landing now would move it back

    def _drop(self) -> None:
        self._latest.drop()
        self._set_target(-1)

    def _set_target(self, k: int) -> None:
        if k != self.target:
            self.target = k
            self.jumping_changed.emit(k)

    def _finished(self, result: object) -> None:
        target = self.target
        self._set_target(-1)
        self._landing = True
        try:
            landed = isinstance(result, (Reached, Gathered)) and land(self.lesson, result)
        except ValueError as exc:  # totals of another shape: never escapes the slot
            landed, result = False, exc
        finally:
            self._landing = False
        if not landed:
            self.bar.show_step(self.lesson.step)
        if isinstance(result, Exception):
            self._notify(f"Could not show step {target + 1}: {result}")

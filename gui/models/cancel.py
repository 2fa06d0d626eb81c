"""A stop token for work run off the UI thread: cancel it from anywhere, the engine hears it soon.

``StopToken.run(work)`` runs ``work()`` inside ``engine.cancel.stop_when``:
the engine's heavy loops (and the lesson's passes between them) ask the
token between chunks and raise ``Cancelled`` once ``cancel()`` was called.
The token counts how often it was asked (``checks``): the job's own
progress, which tests and benchmarks read instead of a wall clock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from engine.cancel import Cancelled, checkpoint, stop_when

__all__ = ["Cancelled", "StopToken", "checkpoint"]

T = TypeVar("T")


class StopToken:
    """Asked by a running job between chunks of work; ``cancel()`` makes the next question stop it.

    Attributes
    ----------
    checks : int
        How many times the job asked so far (its progress, in chunks).
    """

    def __init__(self) -> None:
        self._stop = threading.Event()
        self.checks = 0

    def cancel(self) -> None:
        """Stop the job at its next check (any thread; a job not started yet stops at its first)."""
        self._stop.set()

    @property
    def cancelled(self) -> bool:
        """``cancel()`` was called."""
        return self._stop.is_set()

    def __call__(self) -> bool:
        """Whether the job should stop now (what ``engine.cancel.checkpoint`` asks)."""
        self.checks += 1
        return self._stop.is_set()

    def run(self, work: Callable[[], T]) -> T:
        """``work()``, stopped with ``Cancelled`` at the first check after ``cancel()``.

        Raises
        ------
        Cancelled
            When ``cancel()`` was called before or while ``work`` ran.
        """
        with stop_when(self):
            checkpoint()  # cancelled before it started: never begins
            return work()

"""Cooperative cancellation: a long computation asks, between chunks, whether to stop.

The caller wraps the work in ``stop_when(should_stop)``; the heavy loops of
the engine call ``checkpoint()`` between chunks (a block of output rows, a
kernel tap, a layer), which raises ``Cancelled`` once ``should_stop()`` is
true. Outside ``stop_when`` a checkpoint costs one lookup and never raises,
so every function keeps its signature and its result. The callback lives in
a ``ContextVar``: each thread (a worker, the UI thread) has its own.

Examples
--------
::

    stop = threading.Event()           # another thread calls stop.set()
    with stop_when(stop.is_set):
        y = engine.conv2d(x, w)        # raises Cancelled at the first check after it
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["Cancelled", "checkpoint", "stop_when"]

_SHOULD_STOP: ContextVar[Callable[[], bool] | None] = ContextVar("convviz_should_stop", default=None)


class Cancelled(Exception):  # noqa: N818 - a result, not an error: the caller asked for it
    """The computation was stopped because its ``should_stop()`` became true."""

    def __init__(self) -> None:
        super().__init__("the computation was cancelled")


@contextmanager
def stop_when(should_stop: Callable[[], bool] | None) -> Iterator[None]:
    """Within the block, every ``checkpoint()`` of this thread raises ``Cancelled`` once ``should_stop()``.

    Parameters
    ----------
    should_stop : callable or None
        Called (often: keep it cheap, e.g. ``threading.Event.is_set``) at each
        checkpoint; None: never stop.
    """
    token = _SHOULD_STOP.set(should_stop)
    try:
        yield
    finally:
        _SHOULD_STOP.reset(token)


def checkpoint() -> None:
    """Raise ``Cancelled`` when the enclosing ``stop_when``'s ``should_stop()`` is true."""
    should_stop = _SHOULD_STOP.get()
    if should_stop is not None and should_stop():
        raise Cancelled

"""Overlap the encoding of one exported frame with the painting of the next.

Painting must stay on the thread that owns the offscreen stage; compressing a
picture (a GIF frame's palette mapping and LZW, a PNG's deflate) need not, and
Pillow and Qt release the interpreter while they compress. ``overlapped`` runs
``work`` on one worker thread, in order, while the caller's loop draws the next
picture; at most ``depth`` pictures wait, so memory stays that of a few frames.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def overlapped(items: Iterable[T], work: Callable[[T], R], depth: int = 2) -> Iterator[R]:
    """``work(item)`` for each item, in order, computed on one worker thread.

    The items are produced (drawn) on the calling thread, as the loop asks for
    results. An exception in ``work`` is raised here, at its item's turn. When
    the loop stops early (a cancel), work not started is dropped and the worker
    is joined before this generator closes: no thread outlives the export.
    """
    pending: deque[Future[R]] = deque()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="convviz-encode") as pool:
        try:
            for item in items:
                pending.append(pool.submit(work, item))
                if len(pending) >= depth:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()

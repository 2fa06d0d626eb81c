"""Overlap the encoding of one exported frame with the painting of the next.

Painting must stay on the thread that owns the offscreen stage; compressing a
picture (a GIF frame's palette mapping and LZW, a PNG's deflate) need not. zlib
releases the interpreter while it compresses, so PNGs compress alongside the
drawing; Pillow's GIF (LZW) encoder does not (two threads of it take twice as
long as one), so a GIF's worker hands its frames to a child process
(``gui.models.gif_lzw``) and waits for the blocks. ``overlapped``
runs ``work`` on worker threads while the caller's loop draws the next picture
and hands the results back in order; at most ``depth`` pictures wait, so memory
stays that of a few frames. Work that keeps state from one picture to the next
(a GIF's frame differences, a PNG sequence's bands) takes one worker; independent work two,
one per core of a small machine.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def overlapped(items: Iterable[T], work: Callable[[T], R], depth: int = 2, workers: int = 1) -> Iterator[R]:
    """``work(item)`` for each item, in order, computed on ``workers`` threads.

    With one worker the items are worked on one after another (``work`` may keep
    state); with more, ``depth`` should be at least ``workers`` so they all have
    something to do.

    The items are produced (drawn) on the calling thread, as the loop asks for
    results. An exception in ``work`` is raised here, at its item's turn. When
    the loop stops early (a cancel), work not started is dropped, the workers
    are joined and ``items`` is closed (a generator, perhaps another
    ``overlapped``, stops its own workers) before this generator closes: no
    thread outlives the export.
    """
    pending: deque[Future[R]] = deque()
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="convviz-encode") as pool:
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
    finally:
        close = getattr(items, "close", None)
        if close is not None:  # items from another ``overlapped``: its workers stop too
            close()

"""``overlapped``: an export's frames are compressed on one worker, in order, while the next is drawn."""

from __future__ import annotations

import threading

import pytest

from gui.export.overlap import overlapped


def test_results_come_in_order_from_one_worker_while_items_are_made_here() -> None:
    here = threading.get_ident()
    made: list[int] = []
    workers: set[int] = set()

    def items():  # type: ignore[no-untyped-def]
        for k in range(7):
            made.append(threading.get_ident())
            yield k

    def work(k: int) -> int:
        workers.add(threading.get_ident())
        return k * k

    assert list(overlapped(items(), work)) == [k * k for k in range(7)]
    assert set(made) == {here} and len(workers) == 1 and here not in workers


def test_an_error_in_the_work_is_raised_at_its_turn() -> None:
    got: list[int] = []

    def work(k: int) -> int:
        if k == 3:
            raise ValueError("frame 3 failed")
        return k

    with pytest.raises(ValueError, match="frame 3"):
        for r in overlapped(range(10), work):
            got.append(r)
    assert got == [0, 1, 2]


def test_stopping_early_drops_what_has_not_started_and_leaves_no_thread() -> None:
    done: list[int] = []
    before = threading.active_count()
    gen = overlapped(range(100), lambda k: done.append(k) or k, depth=2)
    assert [next(gen), next(gen)] == [0, 1]
    gen.close()  # the export was cancelled
    assert threading.active_count() == before
    assert len(done) <= 4  # at most the ones waiting when it stopped, never the other 96


def test_two_workers_finish_out_of_order_and_results_still_come_in_order() -> None:
    second_done = threading.Event()
    workers: set[int] = set()

    def work(k: int) -> int:
        workers.add(threading.get_ident())
        if k == 0:  # the first item waits for the second: they finish in the other order
            assert second_done.wait(5)
        if k == 1:
            second_done.set()
        return k * 10

    assert list(overlapped(range(6), work, depth=3, workers=2)) == [0, 10, 20, 30, 40, 50]
    assert len(workers) == 2


def test_stopping_a_chain_of_overlapped_stages_stops_every_worker() -> None:
    before = threading.active_count()
    inner = overlapped(range(100), lambda k: k + 1, depth=3, workers=2)
    outer = overlapped(inner, lambda k: k * 2)
    assert [next(outer), next(outer)] == [2, 4]
    outer.close()  # a cancel: the inner stage's two workers stop as well
    assert threading.active_count() == before

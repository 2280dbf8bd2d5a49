"""map_in_order: overlapping calls, results in input order, failures surfaced."""

from __future__ import annotations

import threading
import time

import pytest

from tap_gong_calls.concurrency import map_in_order, prefetch


def test_results_come_in_input_order_although_they_finish_out_of_order() -> None:
    # Each even item waits until the odd one after it has finished (events, not sleeps), so
    # every pair finishes out of order whatever the scheduling.
    done = [threading.Event() for _ in range(12)]
    finished: list[int] = []

    def later_for_even(n: int) -> int:
        if n % 2 == 0:
            assert done[n + 1].wait(timeout=30)
        finished.append(n)
        done[n].set()
        return n * 10

    assert list(map_in_order(later_for_even, range(12), max_in_flight=4)) == [
        n * 10 for n in range(12)
    ]
    assert all(finished.index(n + 1) < finished.index(n) for n in range(0, 12, 2)), finished


def test_no_more_than_max_in_flight_run_at_once() -> None:
    # A barrier of three lets items go only three at a time: it proves three do run at once;
    # the count proves no fourth joins them. Neither depends on how fast threads are scheduled.
    running = 0
    peak = 0
    lock = threading.Lock()
    together = threading.Barrier(3, timeout=30)

    def tracked(n: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        together.wait()
        with lock:
            running -= 1
        return n

    assert list(map_in_order(tracked, range(30), max_in_flight=3)) == list(range(30))
    assert peak == 3


def test_the_first_failure_is_raised_and_no_new_item_starts() -> None:
    started: list[int] = []

    def fail_on_three(n: int) -> int:
        started.append(n)
        if n == 3:
            raise RuntimeError("call 3 failed")
        time.sleep(0.01)
        return n

    results = map_in_order(fail_on_three, range(100), max_in_flight=4)
    assert [next(results) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(RuntimeError, match="call 3 failed"):
        next(results)
    assert max(started) < 10


# -- prefetch ------------------------------------------------------------------------------


def test_prefetch_yields_everything_in_order_and_runs_ahead_by_at_most_depth() -> None:
    produced: list[int] = []
    fourth, fifth = threading.Event(), threading.Event()

    def producer():
        for n in range(6):
            produced.append(n)
            if n == 3:
                fourth.set()
            if n == 4:
                fifth.set()
            yield n

    items = prefetch(producer(), depth=2)
    assert next(items) == 0
    # The consumer is busy; the producer fills the queue meanwhile: 1 taken, 2 queued, 1 waiting
    # to be queued. Waited for, not slept on; then it must stay there while nothing is taken
    # (a slow CPU can only make that check pass, never fail it).
    assert fourth.wait(timeout=30)
    assert not fifth.wait(timeout=0.2)
    assert len(produced) == 4
    assert list(items) == [1, 2, 3, 4, 5]


def test_prefetch_raises_the_producers_failure_after_the_items_before_it() -> None:
    def producer():
        yield 1
        raise ValueError("Gong said no")

    items = prefetch(producer(), depth=1)
    assert next(items) == 1
    with pytest.raises(ValueError, match="Gong said no"):
        next(items)


def test_closing_prefetch_closes_the_producer() -> None:
    closed = threading.Event()

    def producer():
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.set()

    items = prefetch(producer(), depth=1)
    assert next(items) == 0
    items.close()
    assert closed.wait(timeout=2)

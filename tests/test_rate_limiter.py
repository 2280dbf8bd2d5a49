"""The limiter spaces starts evenly and honours pauses, across threads."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from tap_gong_calls.gong.limits import RateLimiter


class FakeClock:
    """A clock that only moves when the limiter sleeps, so the test takes no time."""

    def __init__(self) -> None:
        self.now = 100.0
        self.starts: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0, "the limiter must not spin with zero sleeps"
        self.now += seconds


def test_starts_are_spaced_by_the_interval() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, clock=clock, sleep=clock.sleep)
    for _ in range(7):
        limiter.acquire()
        clock.starts.append(clock.now)
    gaps = [b - a for a, b in zip(clock.starts, clock.starts[1:], strict=False)]
    assert gaps == pytest.approx([1 / 3] * 6)


def test_a_pause_holds_back_the_next_start_even_if_its_slot_was_due() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.pause_until(clock.now + 2.5)
    limiter.acquire()
    assert clock.now == pytest.approx(102.5)


def test_an_earlier_pause_never_shortens_a_later_one() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, clock=clock, sleep=clock.sleep)
    limiter.pause_until(105.0)
    limiter.pause_until(101.0)
    limiter.acquire()
    assert clock.now == pytest.approx(105.0)


@pytest.mark.parametrize("rate", [0, -1])
def test_a_non_positive_rate_is_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="requests_per_second must be positive"):
        RateLimiter(rate)


def test_threads_share_one_budget_in_real_time() -> None:
    limiter = RateLimiter(50)
    starts: list[float] = []
    early: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            start = limiter.acquire()
            returned = time.monotonic()
            with lock:
                starts.append(start)
                if returned < start:
                    early.append(start - returned)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    starts.sort()
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # Twenty starts from four threads, none closer than the 20 ms interval, none let go early.
    # The starts acquire claimed, not the times threads resumed: a loaded CPU wakes a thread
    # late, and the next one on time, which said nothing about the limiter.
    assert len(starts) == 20
    assert min(gaps) >= 0.02 - 1e-9
    assert early == []


def test_callers_get_their_starts_in_the_order_they_asked() -> None:
    # map_in_order waits for the oldest request; if it kept losing the race for a start, the
    # whole pipeline would stall behind it. Each caller asks only once the one before it is
    # waiting for its start (no sleeps to order the threads): all eight wait at once, then are
    # woken together, and each must come back with the start it reserved, in asking order.
    clock = FakeClock()
    clock_lock = threading.Lock()
    waiting = threading.Semaphore(0)  # released by each caller as it starts to wait
    wake = threading.Event()

    def sleep(seconds: float) -> None:
        until = clock.now + seconds  # the clock stands still until every caller is waiting
        waiting.release()
        assert wake.wait(timeout=30)
        with clock_lock:
            clock.now = max(clock.now, until)

    limiter = RateLimiter(40, clock=clock, sleep=sleep)
    starts: dict[int, float] = {}

    def caller(number: int) -> None:
        starts[number] = limiter.acquire()

    first = threading.Thread(target=caller, args=(0,))
    first.start()
    first.join(timeout=30)  # the first start is due at once: no wait
    threads = []
    for number in range(1, 8):
        thread = threading.Thread(target=caller, args=(number,))
        thread.start()
        threads.append(thread)
        assert waiting.acquire(timeout=30)  # it holds its reservation before the next asks
    wake.set()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(starts) == list(range(8))
    assert [starts[n] for n in range(8)] == sorted(starts.values())
    gaps = [b - a for a, b in itertools.pairwise(starts[n] for n in range(8))]
    assert gaps == pytest.approx([1 / 40] * 7)

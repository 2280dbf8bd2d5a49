"""The adaptive rate finds the rate the server grants, under the ceiling, deterministically."""

from __future__ import annotations

import itertools
import random
import threading
import time

import pytest

from tap_gong_calls.gong.limits import AdaptiveRate, RateLimiter
from tests.test_rate_limiter import FakeClock


def make(ceiling: float) -> tuple[FakeClock, RateLimiter, AdaptiveRate]:
    clock = FakeClock()
    limiter = RateLimiter(ceiling, clock=clock, sleep=clock.sleep)
    return clock, limiter, AdaptiveRate(limiter)


def admit_at(clock: FakeClock, control: AdaptiveRate, rate: float, seconds: float) -> None:
    """The server admits one request every 1 / rate seconds for ``seconds``."""
    for _ in range(round(rate * seconds)):
        clock.now += 1 / rate
        control.admitted(clock.now - 0.1)


def test_a_429_lowers_the_rate_to_about_what_was_granted() -> None:
    clock, limiter, control = make(3)
    admit_at(clock, control, 2.0, 10)

    lowered = control.rate_limited(clock.now)

    assert lowered == pytest.approx(2.0 * AdaptiveRate.MARGIN, rel=0.06)
    assert limiter.rate == lowered
    assert limiter.interval == pytest.approx(1 / lowered)


def test_one_cut_halves_the_rate_at_most_and_never_goes_below_the_floor() -> None:
    clock, _, control = make(6)
    control.admitted(clock.now)
    clock.now += 5
    assert control.rate_limited(clock.now) == pytest.approx(3.0)  # nothing admitted for 5 s

    clock, _, control = make(0.15)
    control.admitted(clock.now)
    clock.now += 60
    assert control.rate_limited(clock.now) == pytest.approx(AdaptiveRate.FLOOR)


def test_429s_of_requests_sent_before_the_lowering_do_not_lower_it_again() -> None:
    clock, limiter, control = make(3)
    admit_at(clock, control, 2.0, 10)
    in_flight_since = clock.now - 0.2
    lowered = control.rate_limited(clock.now)
    clock.now += 0.1

    assert control.rate_limited(in_flight_since) is None
    assert limiter.rate == lowered


def test_the_rate_probes_back_up_to_the_ceiling_and_never_past_it() -> None:
    clock, limiter, control = make(3)
    admit_at(clock, control, 2.0, 10)
    lowered = control.rate_limited(clock.now)
    assert lowered is not None
    seen, announced = [], []
    for _ in range(2000):
        clock.now += 0.25
        if (rate := control.admitted(clock.now - 0.1)) is not None:
            announced.append(rate)
        seen.append(limiter.rate)

    assert max(seen) == 3  # reached, never exceeded
    assert announced[-1] == 3
    steps = [b - a for a, b in itertools.pairwise(announced)]
    assert max(steps) <= AdaptiveRate.PROBE_STEP * 3 + 1e-9  # slowly: small steps ...
    climb = seen.index(3) * 0.25
    assert climb >= (3 - lowered) / (AdaptiveRate.PROBE_STEP * 3) * AdaptiveRate.PROBE_EVERY - 1


def test_no_start_before_a_pause_even_when_the_rate_falls_during_the_wait() -> None:
    clock = FakeClock()

    def sleep(seconds: float) -> None:
        # While the second caller waits for its slot, a 429 pauses everyone and lowers the rate.
        if limiter.rate == 3:
            limiter.pause_until(deadline)
            control.rate_limited(clock.now)
        clock.sleep(seconds)

    limiter = RateLimiter(3, clock=clock, sleep=sleep)
    control = AdaptiveRate(limiter)
    limiter.acquire()
    control.admitted(clock.now)
    deadline = clock.now + 1.7
    second = limiter.acquire()
    third = limiter.acquire()

    assert second >= deadline
    assert third - second == pytest.approx(1 / limiter.rate)
    assert limiter.rate < 3


def test_lowering_the_rate_respaces_starts_already_reserved() -> None:
    _, limiter, _ = make(4)
    starts = [limiter.acquire() for _ in range(3)]
    limiter.set_rate(1)
    starts += [limiter.acquire() for _ in range(2)]

    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert gaps == pytest.approx([0.25, 0.25, 1.0, 1.0])


def test_threads_acquire_while_the_rate_changes() -> None:
    ceiling = 400.0
    limiter = RateLimiter(ceiling)
    control = AdaptiveRate(limiter)
    starts: list[float] = []
    lock = threading.Lock()
    chooser = random.Random(7)

    def worker() -> None:
        for _ in range(15):
            started = limiter.acquire()
            with lock:
                starts.append(started)
                limited = chooser.random() < 0.05
            if limited:
                control.rate_limited(started)
            else:
                control.admitted(started)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(starts) == 90
    assert len(set(starts)) == 90  # every start claimed once
    gaps = [b - a for a, b in itertools.pairwise(sorted(starts))]
    assert min(gaps) >= 1 / ceiling - 1e-6
    assert AdaptiveRate.FLOOR <= limiter.rate <= ceiling
    assert time.monotonic() >= max(starts)

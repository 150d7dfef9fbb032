"""Pacing, 429 pauses and backoff, on a fake clock: no sockets, no wall-clock sleeping."""

from __future__ import annotations

import random
import threading

import pytest
from fakeclock import FakeClock

from csvsync.webflow.pacing import Backoff, Pacer, SystemClock, default_margin


def max_in_window(times: list[float], window: float) -> int:
    """The most events any half-open interval [t, t + window) holds."""
    ordered = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(ordered):
        while ordered[lo] <= t - window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def run(pacer: Pacer, n: int) -> list[float]:
    return [pacer.acquire()[0] for _ in range(n)]


def test_fake_clock_sleep_advances_time_and_is_recorded() -> None:
    clock = FakeClock(start=10.0)
    clock.sleep(2.5)
    clock.sleep(0)
    clock.advance(1.0)
    assert clock.now() == 13.5
    assert clock.sleeps == [2.5, 0]


def test_system_clock_is_monotonic() -> None:
    clock = SystemClock()
    first = clock.now()
    clock.sleep(0)
    assert clock.now() >= first


def test_first_window_is_not_delayed_then_the_next_start_waits_a_window() -> None:
    clock = FakeClock()
    pacer = Pacer(window=10.0, limit=5, clock=clock, margin=0.5)
    starts = run(pacer, 5)
    assert starts == [1000.0] * 5
    assert clock.sleeps == []

    start, waited = pacer.acquire()
    assert start == pytest.approx(1000.0 + 10.5)
    assert waited == pytest.approx(10.5)


def test_steady_state_runs_at_the_limit_and_never_exceeds_it() -> None:
    clock = FakeClock()
    window = 3.0
    pacer = Pacer(window=window, limit=60, clock=clock)
    starts = []
    for _ in range(600):
        starts.append(pacer.acquire()[0])
        clock.advance(0.01)  # the request itself takes a little time
    assert max_in_window(starts, window + pacer.margin) <= 60
    rate = (len(starts) - 60) / (starts[-1] - starts[0])  # after the first window's burst
    assert rate >= 0.95 * 60 / window


def test_margin_absorbs_arrival_jitter_under_a_sliding_server_counter() -> None:
    # The server counts arrivals; each arrival is the start plus up to `margin` of jitter.
    clock = FakeClock()
    pacer = Pacer(window=1.0, limit=20, clock=clock)
    rng = random.Random(7)
    arrivals = []
    for _ in range(200):
        start, _ = pacer.acquire()
        arrivals.append(start + rng.uniform(0, pacer.margin * 0.99))
        clock.advance(rng.uniform(0, 0.02))
    assert max_in_window(arrivals, 1.0) <= 20


def test_default_margin_is_small_but_not_zero() -> None:
    assert default_margin(60.0) == pytest.approx(1.2)
    assert default_margin(1.0) == pytest.approx(0.05)


def test_limit_is_learned_from_the_header() -> None:
    clock = FakeClock()
    pacer = Pacer(window=10.0, clock=clock, margin=0.0)
    assert pacer.limit == 60  # until the first answer
    start, _ = pacer.acquire()
    pacer.observe(start, limit=3, remaining=2)
    assert pacer.limit == 3
    run(pacer, 2)
    _, waited = pacer.acquire()
    assert waited == pytest.approx(10.0)


def test_a_configured_limit_caps_the_announced_one() -> None:
    pacer = Pacer(window=10.0, limit=5, clock=FakeClock())
    start, _ = pacer.acquire()
    pacer.observe(start, limit=100, remaining=99)
    assert pacer.limit == 5
    pacer.observe(start, limit=2, remaining=1)
    assert pacer.limit == 2


def test_fewer_remaining_than_the_log_knows_counts_as_requests_made_now() -> None:
    clock = FakeClock()
    pacer = Pacer(window=10.0, limit=10, clock=clock, margin=0.0)
    start, _ = pacer.acquire()
    clock.advance(2.0)
    # Another process used 5 requests: the server says 4 remain, the log expected 9.
    pacer.observe(start, limit=10, remaining=4)
    starts = run(pacer, 4)
    assert starts == [1002.0] * 4
    next_start, waited = pacer.acquire()
    assert waited > 0
    assert next_start == pytest.approx(1000.0 + 10.0)  # the real request leaves the window first


def test_more_remaining_than_the_log_knows_never_loosens_pacing() -> None:
    clock = FakeClock()
    pacer = Pacer(window=10.0, limit=3, clock=clock, margin=0.0)
    starts = run(pacer, 3)
    pacer.observe(starts[-1], limit=3, remaining=3)  # e.g. a fixed window that just reset
    _, waited = pacer.acquire()
    assert waited == pytest.approx(10.0)


def test_concurrent_requests_answering_out_of_order_add_no_phantoms() -> None:
    clock = FakeClock()
    pacer = Pacer(window=10.0, limit=10, clock=clock, margin=0.0)
    first, _ = pacer.acquire()
    run(pacer, 3)  # three more start before the first is answered, and arrive first
    pacer.observe(first, limit=10, remaining=6)
    assert len(run(pacer, 6)) == 6
    assert clock.sleeps == []


def test_an_answer_older_than_a_window_is_ignored() -> None:
    clock = FakeClock()
    pacer = Pacer(window=10.0, limit=10, clock=clock, margin=0.0)
    start, _ = pacer.acquire()
    clock.advance(11.0)
    pacer.observe(start, limit=10, remaining=0)
    run(pacer, 10)
    assert clock.sleeps == []


def test_pause_blocks_until_retry_after_has_passed() -> None:
    clock = FakeClock()
    pacer = Pacer(window=10.0, limit=100, clock=clock)
    pacer.acquire()
    pacer.pause(7.0)
    start, waited = pacer.acquire()
    assert start >= 1007.0
    assert waited == pytest.approx(7.0)
    pacer.pause(1.0)
    pacer.pause(0.5)  # a shorter pause never shortens a longer one
    assert pacer.blocked_until == pytest.approx(start + 1.0)


def test_pause_blocks_every_thread() -> None:
    clock = FakeClock()
    pacer = Pacer(window=10.0, limit=100, clock=clock)
    pacer.pause(5.0)
    starts: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        start, _ = pacer.acquire()
        with lock:
            starts.append(start)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert len(starts) == 8
    assert min(starts) >= 1005.0


def test_threads_never_exceed_the_limit_in_a_window() -> None:
    clock = FakeClock()
    pacer = Pacer(window=2.0, limit=7, clock=clock)
    starts: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(20):
            start, _ = pacer.acquire()
            with lock:
                starts.append(start)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert len(starts) == 80
    assert max_in_window(starts, 2.0 + pacer.margin) <= 7


def test_pacer_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        Pacer(window=0)
    with pytest.raises(ValueError):
        Pacer(limit=0)


def test_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    backoff = Backoff(base=1.0, cap=8.0, rng=random.Random(1))
    delays = [backoff.delay(n) for n in range(8)]
    for n, delay in enumerate(delays):
        ceiling = min(8.0, 2.0**n)
        assert ceiling / 2 <= delay <= ceiling
    assert max(delays) <= 8.0
    assert backoff.delay(10_000) <= 8.0  # no overflow on absurd attempt numbers


def test_backoff_is_reproducible_with_a_seed_and_jittered_without() -> None:
    a = [Backoff(rng=random.Random(3)).delay(4) for _ in range(2)]
    assert a[0] == a[1]
    b = Backoff()
    assert len({b.delay(5) for _ in range(20)}) > 1

"""Time and pacing for the Webflow client: ``Clock``, ``Pacer`` and ``Backoff``.

This module owns *when* a request may start; ``client.py`` owns what is sent, ``transport.py``
what is repeated. Nothing here does I/O, so it is tested with a fake clock (tests/fakeclock.py)
and no sockets.

Why a sliding log
    Webflow allows ``limit`` requests per rate window (60 s; no header says so, hence the
    ``window`` setting) and reports ``X-RateLimit-Limit`` / ``X-RateLimit-Remaining``. It does not
    say whether it counts in fixed or sliding windows. The ``Pacer`` therefore keeps the start
    time of every request of the last windows and lets a new one start only while fewer than
    ``limit`` starts lie in the trailing window. Any fixed window is one of the sliding windows, so
    this is safe under both counting schemes, and it lets a long run go at exactly ``limit`` per
    ``window`` in the steady state: the (n + limit)-th request starts one window after the n-th.
    A token bucket would either allow a burst of ``limit`` on top of a refilled bucket (a 429 under
    a sliding counter) or pace evenly and lose the first window's burst.

Why a margin
    The server counts by *arrival* time, and arrival = start + network and scheduling jitter that
    differs per request. If the n-th request arrives late and the (n + limit)-th early, both would
    fall in one server window although they are a full window apart at our end. Each start
    therefore has to be ``window + margin`` after the start ``limit`` places before it; the default
    margin (2 % of the window, at least 50 ms) costs about 2 % of throughput and absorbs jitter far
    beyond loopback or a normal internet path.

Correcting from headers
    Another process using the same token, or a restart of csvsync inside a window, uses requests
    the log never saw. When a response says fewer requests remain than the log can account for,
    the difference is recorded as requests made now, so the log never again believes it has more
    headroom than the server grants. A 429 blocks every caller until ``Retry-After`` has passed.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque

from csvsync.options import Clock

DEFAULT_LIMIT = 60  # Webflow's lowest plan; used until a response states the real limit.
DEFAULT_WINDOW = 60.0


class SystemClock:
    """The real clock: ``time.monotonic`` and ``time.sleep``."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


def default_margin(window: float) -> float:
    """Safety margin added to the window between a start and the start ``limit`` places later."""
    return max(0.02 * window, 0.05)


class Pacer:
    """Admits request starts so that at most ``limit`` fall in any ``window + margin`` interval.

    ``fixed_limit`` (a configured limit) caps whatever the server announces; without it the limit
    is learned from ``X-RateLimit-Limit``. Thread-safe: ``acquire`` may be called from a pool.
    """

    def __init__(
        self,
        *,
        window: float = DEFAULT_WINDOW,
        limit: int | None = None,
        clock: Clock | None = None,
        margin: float | None = None,
    ) -> None:
        if window <= 0:
            raise ValueError("window must be positive")
        if limit is not None and limit < 1:
            raise ValueError("limit must be at least 1")
        self.window = window
        self.margin = default_margin(window) if margin is None else margin
        self.clock: Clock = clock or SystemClock()
        self._fixed_limit = limit
        self._limit = limit or DEFAULT_LIMIT
        self._starts: deque[float] = deque()
        self._blocked_until = -math.inf
        self._lock = threading.Lock()

    @property
    def limit(self) -> int:
        with self._lock:
            return self._limit

    @property
    def blocked_until(self) -> float:
        with self._lock:
            return self._blocked_until

    def acquire(self) -> tuple[float, float]:
        """Wait until a request may start; record it. Returns ``(start_time, seconds_waited)``."""
        waited = 0.0
        while True:
            with self._lock:
                now = self.clock.now()
                wait = self._wait_needed(now)
                if wait <= 0:
                    self._starts.append(now)
                    return now, waited
            # Sleep outside the lock so other threads can record answers (and 429s) meanwhile.
            self.clock.sleep(wait)
            waited += wait

    def observe(self, start: float, limit: int | None, remaining: int | None) -> None:
        """Learn from a response's ``X-RateLimit-Limit`` / ``X-RateLimit-Remaining``.

        ``start`` is the value ``acquire`` returned for that request.
        """
        with self._lock:
            if limit is not None and limit >= 1:
                self._limit = min(limit, self._fixed_limit) if self._fixed_limit else limit
            if remaining is None:
                return
            now = self.clock.now()
            if start <= now - self.window:
                return  # the answer is older than a window: it says nothing about now
            # Count every start the server may have seen when it answered: those in the window
            # before ours plus any started since (they may have arrived first). Counting fewer
            # would add phantom starts whenever concurrent requests overtake each other.
            known = sum(1 for t in self._starts if t > start - self.window)
            unseen = (self._limit - known) - remaining
            for _ in range(max(0, unseen)):
                self._starts.append(now)

    def pause(self, retry_after: float) -> None:
        """A 429 said to wait ``retry_after`` seconds: no request starts before then."""
        with self._lock:
            until = self.clock.now() + max(0.0, retry_after)
            self._blocked_until = max(self._blocked_until, until)

    def _wait_needed(self, now: float) -> float:
        self._forget(now)
        wait = self._blocked_until - now
        span = self.window + self.margin
        in_span = sum(1 for t in reversed(self._starts) if t > now - span)
        if in_span >= self._limit:
            # The start `limit` places back from the newest must leave the span first.
            oldest_blocking = self._starts[len(self._starts) - self._limit]
            wait = max(wait, oldest_blocking + span - now)
        return wait

    def _forget(self, now: float) -> None:
        # `observe` looks back one window from a start up to a window old: keep two windows.
        horizon = now - 2 * (self.window + self.margin)
        while self._starts and self._starts[0] <= horizon:
            self._starts.popleft()


class Backoff:
    """Capped exponential backoff with jitter for 5xx, timeouts and dropped connections.

    Delay for retry ``n`` (0-based) is uniform in ``[d/2, d]`` with ``d = min(cap, base * 2**n)``:
    the jitter spreads clients that failed together, the floor keeps the backoff meaningful.
    """

    def __init__(
        self, base: float = 0.5, cap: float = 30.0, rng: random.Random | None = None
    ) -> None:
        self.base = base
        self.cap = cap
        self._rng = rng or random.Random()
        self._lock = threading.Lock()

    def delay(self, attempt: int) -> float:
        ceiling = min(self.cap, self.base * (2 ** min(attempt, 32)))
        with self._lock:
            return self._rng.uniform(ceiling / 2, ceiling)

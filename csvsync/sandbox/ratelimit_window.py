"""Webflow-style rate limiting: per token, a fixed window of ``window`` seconds.

The clock is injectable (default ``time.monotonic``) so tests can move time instead of sleeping.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # whole seconds until the window resets, at least 1


class RateWindow:
    """Counts requests per token in fixed windows that start at a token's first request."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = int(limit)
        self.window = float(window)
        self.clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}  # token -> (start, used)

    def configure(self, limit: int | None = None, window: float | None = None) -> None:
        with self._lock:
            if limit is not None:
                self.limit = int(limit)
            if window is not None:
                self.window = float(window)

    def _current(self, token: str, now: float) -> tuple[float, int]:
        start, used = self._windows.get(token, (now, 0))
        if now - start >= self.window:
            start, used = now, 0
        return start, used

    def _retry_after(self, start: float, now: float) -> int:
        return max(1, math.ceil(start + self.window - now))

    def take(self, token: str) -> Decision:
        """Spend one request if the window has room; a refused request spends nothing."""
        with self._lock:
            now = self.clock()
            start, used = self._current(token, now)
            if used >= self.limit:
                self._windows[token] = (start, used)
                return Decision(False, self.limit, 0, self._retry_after(start, now))
            used += 1
            self._windows[token] = (start, used)
            return Decision(True, self.limit, self.limit - used, self._retry_after(start, now))

    def peek(self, token: str) -> Decision:
        """The current state without spending (for 401s and injected 429s)."""
        with self._lock:
            now = self.clock()
            start, used = self._current(token, now)
            remaining = max(0, self.limit - used)
            return Decision(remaining > 0, self.limit, remaining, self._retry_after(start, now))

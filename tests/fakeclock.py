"""``FakeClock``: the test double for ``csvsync.webflow.pacing.Clock`` (pacing, retry budgets).

Kept apart from ``support.py``, which imports the CLI and pandas: the pacing tests need neither.
"""

from __future__ import annotations

import threading


class FakeClock:
    """A clock for tests: ``sleep`` advances time instantly; every call is recorded.

    Thread-safe. With several threads, each ``sleep`` adds to the shared time (sleeps do not
    overlap), which over-states elapsed time but never lets pacing look better than it is.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            if seconds > 0:
                self._now += seconds

    def advance(self, seconds: float) -> None:
        """Let time pass without recording a sleep (as if the work took ``seconds``)."""
        with self._lock:
            self._now += seconds

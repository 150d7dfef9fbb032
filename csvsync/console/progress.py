"""Progress for people: rich bars on a terminal, a few plain lines elsewhere, nothing if quiet.

The library reports ``(stage, done, total)`` through ``RunOptions``' progress callback; this
module only draws. ``total`` 0 means unknown (a pull learns the size as it goes).
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

LABELS = {"pull": "Reading live items", "push": "Pushing variants"}


class ProgressDisplay:
    """A callable progress sink; ``close()`` when the run is over."""

    def __init__(self, quiet: bool, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.live = not quiet and self.stream.isatty()
        self._bar: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._last_line: dict[str, float] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.quiet:
            return
        if self.live:
            self._draw(stage, done, total)
        else:
            self._line(stage, done, total)

    def _draw(self, stage: str, done: int, total: int) -> None:
        if self._bar is None:
            self._bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}/s"), TimeRemainingColumn(),
                console=Console(file=self.stream), transient=True,
            )  # fmt: skip
            self._bar.start()
        if stage not in self._tasks:
            self._tasks[stage] = self._bar.add_task(
                LABELS.get(stage, stage), total=total or None, rate="-"
            )
        task = self._tasks[stage]
        elapsed = self._bar.tasks[task].elapsed or 0.0
        rate = f"{done / elapsed:,.0f}" if elapsed > 0 else "-"
        self._bar.update(task, completed=done, total=total or None, rate=rate)

    def _line(self, stage: str, done: int, total: int) -> None:
        # Not a terminal: a line at most every 10 s per stage, and at the end.
        now = time.monotonic()
        finished = bool(total) and done >= total
        if not finished and now - self._last_line.get(stage, 0.0) < 10.0:
            return
        self._last_line[stage] = now
        of = f"/{total}" if total else ""
        print(f"{LABELS.get(stage, stage)}: {done}{of}", file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

"""The page's runs: each upload is a folder in the data folder (sheet, saved plan, workbooks),
and a confirmed plan runs in a thread of its own, with progress and a stop button."""

from __future__ import annotations

import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csvsync.errors import CsvsyncError

SHEET_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".ods", ".xls")


@dataclass
class PageRun:
    """One upload: its plan, and once confirmed the sync in a thread."""

    run_key: str
    collection: str  # the mapping's name
    folder: Path
    sheet: Path
    plan_result: Any = None  # RunResult of the plan
    plan_options: Any = None  # the RunOptions it was made with (to plan again when it moved)
    moved: list[str] = field(default_factory=list)  # what moved since the last plan shown
    sync_result: Any = None  # RunResult of the sync, once done
    error: CsvsyncError | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    progress: tuple[int, int] = (0, 0)
    # The first answered batch: (when, variants done then); the rate counts from there, so a
    # first batch answered at once does not read as an infinite rate.
    first_answer: tuple[float, int] | None = None
    started: float = 0.0
    thread: threading.Thread | None = None
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    @property
    def plan_file(self) -> Path:
        return self.folder / "plan.json"

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    @property
    def confirmable(self) -> bool:
        """Its plan may be confirmed: not sending, not done, not failed (a plan that moved
        was replaced by a new one, which may be confirmed in turn)."""
        return not self.running and self.sync_result is None and self.error is None

    def on_progress(self, stage: str, done: int, total: int) -> None:
        if stage == "push":
            if self.first_answer is None and done:
                self.first_answer = (self.clock(), done)
            self.progress = (done, total)

    @property
    def started_text(self) -> str:
        return time.strftime("%H:%M:%S", time.localtime(self.started)) if self.started else ""

    def pace(self) -> tuple[float, float | None]:
        """(item-variants a second, seconds left), from the batches answered after the first.

        The rate is what Webflow lets through, throttling included: waits for a 429's
        ``Retry-After`` or for the pacer lower it, and the time left grows with them."""
        done, total = self.progress
        if self.first_answer is None:
            return 0.0, None
        since, done_then = self.first_answer
        spent = self.clock() - since
        if done <= done_then or spent <= 0:
            return 0.0, None
        rate = (done - done_then) / spent
        return rate, (total - done) / rate if total else None

    def pace_text(self) -> str:
        """The pace for a person: ``40 a second, about 2 min left``; empty before a rate."""
        rate, left = self.pace()
        if not rate:
            return ""
        text = f"{rate:.0f} a second" if rate >= 10 else f"{rate:.1f} a second"
        if left is not None:
            text += (
                f", about {left:.0f} s left" if left < 90 else f", about {left / 60:.0f} min left"
            )
        return text


class Runs:
    """The runs of this server, by key; their folders under ``data_dir`` (mode 0700)."""

    def __init__(self, data_dir: Path, keep: int) -> None:
        self.data_dir = data_dir
        self.keep = keep
        data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(data_dir, 0o700)
        self._runs: dict[str, PageRun] = {}
        self._lock = threading.Lock()

    def new(self, collection: str, filename: str, data: bytes) -> PageRun:
        """A run folder holding the uploaded sheet (its name kept only for its suffix)."""
        suffix = Path(filename).suffix.lower()
        if suffix not in SHEET_SUFFIXES:
            raise CsvsyncError(
                f"{filename!r} is not a sheet csvsync reads",
                "upload a CSV, TSV, XLSX, ODS or XLS file",
            )
        key = time.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(4)
        folder = self.data_dir / key
        folder.mkdir(mode=0o700)
        sheet = folder / f"sheet{suffix}"
        sheet.write_bytes(data)
        run = PageRun(key, collection, folder, sheet)
        with self._lock:
            self._runs[key] = run
            self._prune()
        return run

    def get(self, key: str) -> PageRun | None:
        with self._lock:
            return self._runs.get(key)

    def busy(self, collection: str) -> PageRun | None:
        with self._lock:
            return next(
                (r for r in self._runs.values() if r.collection == collection and r.running), None
            )

    def _prune(self) -> None:
        done = sorted((r for r in self._runs.values() if not r.running), key=lambda r: r.run_key)
        for run in done[: max(0, len(self._runs) - self.keep)]:
            self._runs.pop(run.run_key, None)
            shutil.rmtree(run.folder, ignore_errors=True)

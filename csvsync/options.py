"""The options objects a run is described by: one per command, built by the CLI or the web page.

``RunOptions`` is the one options object every operation takes (no long parameter lists);
``SheetOptions`` and ``XlsxLimits`` say how a sheet is read; ``Clock`` is the injectable time
that pacing and retries wait on, ``RetryNotice`` what a retry hook is told. Plain frozen
dataclasses and protocols: no I/O, no imports of the layers above, so every layer can name them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

DEFAULT_API_BASE = "https://api.webflow.com/v2"
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384

Progress = Callable[[str, int, int], None]  # (stage, done, total)


class Clock(Protocol):
    """Monotonic time and sleep, injectable so pacing can be tested without waiting."""

    def now(self) -> float:
        """Monotonic seconds."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block the calling thread for ``seconds``."""
        ...


@dataclass(frozen=True)
class RetryNotice:
    """A request failed and is about to be sent again: what ``on_retry`` hooks are told.

    ``origin`` is the API's scheme, host and port (what a person recognises as "the address");
    ``attempt`` is the attempt about to start (2 for the first retry) of at most ``attempts``.
    ``unreachable``: no connection could be made (refused, no such host, connect timeout), so
    the request never reached the API. ``first``: the first failure since the API last answered,
    so a hook can say so once per outage rather than once per retry. A 429's wait is no outage:
    ``first`` is False for it. Carries no header, so never the token.
    """

    origin: str
    method: str
    url: str
    attempt: int
    attempts: int
    delay: float
    reason: str
    unreachable: bool
    first: bool


@dataclass(frozen=True)
class XlsxLimits:
    """Ceilings for what an XLSX file may expand to; each refusal names the limit it hit."""

    max_total_uncompressed: int = 1 << 30  # 1 GiB over all entries
    max_ratio: float = 200.0  # per entry, for entries bigger than ratio_min_size
    ratio_min_size: int = 1 << 20  # small entries compress absurdly well legitimately
    max_entries: int = 10_000
    max_rows: int = EXCEL_MAX_ROWS
    max_columns: int = EXCEL_MAX_COLUMNS
    # calamine allocates the whole rows x columns rectangle (~32 bytes a cell) and pandas then
    # makes a Python object per cell: 10 million cells is ~500,000 rows of 20 columns.
    max_cells: int = 10_000_000
    # calamine reserves room for the count a shared strings table declares (24 bytes each)
    # before reading one string: a lie of 10^12 aborts the process.
    max_shared_strings: int = 10_000_000


@dataclass(frozen=True)
class SheetOptions:
    """How to read a sheet. ``limits`` bounds what an XLSX file may expand to."""

    encoding: str | None = None  # CSV only; None = UTF-8 (with or without BOM)
    delimiter: str | None = None  # CSV only; None = sniffed among , ; \t |
    sheet_name: str | None = None  # XLSX, ODS, XLS; None = first sheet
    limits: XlsxLimits = field(default_factory=XlsxLimits)
    # A longer cell makes its row invalid (Webflow documents no limit; this is the sanity cap
    # convert/to_api.py applies to text, MAX_TEXT_LENGTH).
    max_cell_chars: int = 1_000_000


@dataclass(frozen=True)
class RunOptions:
    """Everything a command needs; the CLI builds one from its flags."""

    mapping: Path
    api_base: str = DEFAULT_API_BASE
    token: str = field(default="", repr=False)
    sheet: Path | None = None
    state_path: Path | None = None
    results: Path | None = None
    sheet_options: SheetOptions = field(default_factory=SheetOptions)
    allow_missing_columns: bool = False
    # key: {field: ...}: a key value no item has creates an item (the mapping's create: true).
    create: bool = False
    refresh: bool = False
    batch_size: int = 100
    rate_window: float = 60.0
    max_in_flight: int = 4
    max_retry_time: float = 300.0
    timeout: float = 30.0
    on_conflict: str = "report"
    write_results: bool = True
    keep_results: int | None = None  # default-named workbooks of a sheet to keep (None: all)
    keep_runs: int = 1000  # runs (and their journals) the state keeps per collection
    write_back: bool = False  # a copy of the sheet with new items' ids filled in
    # live: PATCH /items/live (the site changes at once; the staged version keeps the old
    # values). staged: PATCH /items (the Designer's version; --publish puts it live). both.
    target: str = "live"
    publish: bool = False
    unpublish_missing: bool = False
    max_unpublish: float = 0.10  # share of the collection --unpublish-missing may take down
    yes: bool = False
    # The site plan's item limit, if the user knows it (Webflow tells not every plan): a sync
    # whose creates would go past it is refused before anything is sent.
    item_limit: int | None = None
    clock: Clock | None = None
    # Told of each retry of a request (the CLI says "cannot reach ..." on stderr once).
    on_retry: Callable[[RetryNotice], None] | None = field(default=None, compare=False)
    # Who starts the run, as the history shows it (None: the login name of this process).
    actor: str | None = None
    # Set by the CLI's SIGINT/SIGTERM handlers: stop after the batches in flight.
    stop: threading.Event | None = field(default=None, compare=False)
    # Called with one dict per event (run start, each batch, run end): --log-file.
    on_event: Callable[[dict[str, Any]], None] | None = field(default=None, compare=False)
    # Called with (step name, seconds) after each step of a run (read_sheet, diff, push, ...):
    # the public timing hook the benchmark reads.
    on_step: Callable[[str, float], None] | None = field(default=None, compare=False)

    def who(self) -> str:
        """The run's actor: ``actor``, else this process's login name."""
        if self.actor:
            return self.actor
        import getpass

        try:
            return getpass.getuser()
        except (KeyError, OSError):  # a container's uid with no passwd entry, no $USER
            return "unknown"

    def resolved_state_path(self) -> Path:
        if self.state_path:
            return self.state_path
        return self.mapping.parent / ".csvsync" / "state.db"

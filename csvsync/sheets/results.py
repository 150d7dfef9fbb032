"""The results workbook: what a run did, row by row, as an ``.xlsx`` a person can open and read.

This module owns the workbook's layout (``Problems`` first when there are problems, then
``Summary``, ``Rows``, ``Changes``, and ``Rows to fix`` last when rows failed), how it prints
(landscape, fit to the page's width, the header row on every page, the Summary on one page), its
file name (:func:`default_results_path`), writing it atomically (:func:`write_results`) and
reading a run id back from it (:func:`read_run_id`, for ``csvsync revert RESULTS.xlsx``). It
knows nothing of how the outcomes were reached: the caller hands it a :class:`RunSummary` and the
DataFrames.

Every cell is written as data, never as a formula, URL or reinterpreted number: a sheet cell
holding ``=HYPERLINK(...)`` must come back as that text, not run in the reader's Excel.

Speed matters (100,000 row-locales with formatting within 1.5x of a bare xlsxwriter write; see
``bench/results_write.py``), so the writer streams with xlsxwriter's ``constant_memory`` mode, row
by row over plain Python lists, with every Format created once up front.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import uuid
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import pandas as pd
import xlsxwriter
from xlsxwriter.exceptions import XlsxWriterException
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from csvsync import outcomes
from csvsync.errors import (
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_ROWS,
    EXIT_SIGINT,
    EXIT_SIGTERM,
    EXIT_START,
    EXIT_STOPPED,
    ConfigError,
    SheetError,
)

ROWS_COLUMNS = ["row", "item_id", "item", "locale", "outcome", "changed_fields", "message"]
CHANGES_COLUMNS = ["row", "item_id", "item", "locale", "field", "old", "new", "outcome"]

PROBLEMS_COLUMNS = ["row", "item", "locale", "outcome", "field", "value", "reason", "fix"]

ROWS_HEADERS = ["Row", "Item ID", "Item", "Locale", "Outcome", "Changed fields", "Message"]
CHANGES_HEADERS = ["Row", "Item ID", "Item", "Locale", "Field", "Old value", "New value", "Outcome"]
PROBLEMS_HEADERS = ["Row", "Item", "Locale", "Outcome", "Field", "Value", "Reason", "How to fix"]

PROBLEMS_SHEET = "Problems"
FIX_SHEET = "Rows to fix"
SUMMARY_SHEET = "Summary"
ROWS_SHEET = "Rows"
CHANGES_SHEET = "Changes"
RUN_ID_LABEL = "Run ID"
# Also stored as a document property, so the id survives someone editing the Summary sheet.
RUN_ID_PROPERTY = "csvsync run id"

# Excel's hard limits. Tests monkeypatch MAX_SHEET_ROWS to exercise continuation sheets.
MAX_SHEET_ROWS = 1_048_576  # header included
MAX_CELL_CHARS = 32_767  # counted in UTF-16 code units, as Excel counts
_SAFE_CHARS = MAX_CELL_CHARS // 2  # a str this short cannot exceed the limit even in UTF-16
_MAX_EXACT_INT = 2**53  # beyond this Excel's doubles silently change the number


EXIT_MEANINGS: dict[int, str] = {
    EXIT_OK: "every row fine (or nothing to do)",
    EXIT_ROWS: "finished, but some rows were invalid, failed, not found or in conflict",
    EXIT_START: "could not start: usage, mapping, sheet file or API failure before any write",
    EXIT_LOCKED: "another run holds the lock for this collection",
    EXIT_STOPPED: "stopped part-way after the first write request",
    EXIT_SIGINT: "interrupted (SIGINT) after the batches in flight",
    EXIT_SIGTERM: "terminated (SIGTERM) after the batches in flight",
}

_WORKBOOK_OPTIONS: dict[str, Any] = {
    "constant_memory": True,
    # write_string is used for all text already; these make sure nothing else reinterprets it.
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}

_WIDTH_SAMPLE = 1000
_MIN_WIDTH = 6
_MAX_WIDTH = 60
_KEY_COLUMNS = frozenset({"outcome"})
# The Problems sheet's long texts wrap in their column, so a printed page shows all of them.
_WRAP_COLUMNS = frozenset({"row", "item", "locale", "field", "value", "reason", "fix"})
_WRAP_WIDTH = 45
# A sheet's columns are many (every field in every locale): narrower, so that its printed page
# is not too small to read, while a cell opened for editing still shows all of its text.
_FIX_WIDTH = 30


@dataclass(frozen=True)
class RunSummary:
    """What the Summary sheet reports about one run."""

    run_id: str
    command: str  # "plan" | "sync" | "revert"
    sheet: str  # sheet file path as given
    mapping: str
    collection: str  # "<display name> (<id>)"
    api_base: str
    started: datetime  # aware, UTC
    finished: datetime
    counts: Mapping[str, int]  # outcome -> number of row-locales
    requests: int = 0
    write_requests: int = 0
    retries: int = 0
    rate_limit_waits: int = 0
    exit_code: int = 0
    notes: Sequence[str] = ()


# --------------------------------------------------------------------------------------------
# File names and atomic writing


def prune_workbooks(sheet_path: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` default-named workbooks of ``sheet_path`` (any
    command's: ``<stem>.<command>-<UTC time>[-n].xlsx`` beside it); returns those deleted.
    Only names csvsync gives are touched: a workbook named with ``--results`` is the user's."""
    pattern = re.compile(
        rf"^{re.escape(sheet_path.stem)}\.(?:plan|sync|revert)-(\d{{8}}T\d{{6}}Z)(?:-\d+)?\.xlsx$"
    )
    found = []
    for path in sheet_path.parent.iterdir() if sheet_path.parent.is_dir() else []:
        m = pattern.match(path.name)
        if m and path.is_file() and not path.is_symlink():
            # Within one second names are reused once pruned: the write time orders them.
            found.append((m.group(1), path.stat().st_mtime_ns, path))
    found.sort(reverse=True)
    gone = []
    for _, _, path in found[keep:]:
        try:
            path.unlink()
            gone.append(path)
        except OSError:
            continue  # another process's, or read-only: left, tried again next run
    return gone


def default_results_path(sheet_path: Path, command: str, now: datetime) -> Path:
    """``<sheet stem>.<command>-<UTC time>.xlsx`` next to the sheet, never an existing name.

    A same-second clash gets ``-2``, ``-3`` ... The time has no ``:`` so the name is valid on
    every file system. The name is not reserved: two runs on one collection are kept apart by
    the run lock, not here.
    """
    if now.tzinfo is None:
        raise ValueError("default_results_path needs an aware datetime (UTC)")
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = f"{sheet_path.stem}.{command}-{stamp}"
    candidate = sheet_path.with_name(f"{base}.xlsx")
    counter = 2
    while candidate.exists():
        candidate = sheet_path.with_name(f"{base}-{counter}.xlsx")
        counter += 1
    return candidate


def write_results(
    path: Path,
    summary: RunSummary,
    rows: pd.DataFrame,
    changes: pd.DataFrame,
    problems: pd.DataFrame | None = None,
    to_fix: pd.DataFrame | None = None,
) -> Path:
    """Write the results workbook to ``path`` atomically and return ``path``.

    ``problems`` (``PROBLEMS_COLUMNS``) is the first sheet when it has lines; ``to_fix`` is the
    sheet's failed rows in its own columns (header names as columns), written as they were read
    so that the sheet can be corrected and uploaded as it is.

    The workbook is built in a temporary file in the same folder and moved onto ``path`` with
    ``os.replace``, so an existing file is replaced in one step and a failure leaves the old file
    (or nothing) behind, never half a workbook.
    """
    _check_columns(rows, ROWS_COLUMNS, "rows")
    _check_columns(changes, CHANGES_COLUMNS, "changes")
    if problems is not None:
        _check_columns(problems, PROBLEMS_COLUMNS, "problems")
    path = Path(path)
    # A random name rather than mkstemp: xlsxwriter creates the file itself, so it gets the
    # usual umask permissions instead of mkstemp's 0600.
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        # xlsxwriter's per-sheet row files go to a folder we own, so a failure cleans them up too.
        with TemporaryDirectory(prefix="csvsync-xlsx-", ignore_cleanup_errors=True) as tmpdir:
            workbook = xlsxwriter.Workbook(str(tmp), {**_WORKBOOK_OPTIONS, "tmpdir": tmpdir})
            _build_workbook(workbook, summary, rows, changes, problems, to_fix)
            workbook.close()
        os.replace(tmp, path)
    except (OSError, XlsxWriterException) as exc:
        _remove_quietly(tmp)
        raise ConfigError(
            f"cannot write the results workbook {path}: {exc}",
            hint="check that the folder exists and is writable, or choose another --results PATH",
        ) from exc
    except BaseException:
        _remove_quietly(tmp)
        raise
    return path


def check_writable(path: Path) -> None:
    """Refuse, before a run sends anything, a results path that cannot be written: its folder
    missing or read-only, or the path a folder. Probed with a real file: permissions alone do
    not tell about read-only mounts."""
    path = Path(path)
    folder = path.parent
    hint = "create the folder, make it writable, or choose another --results PATH"
    if path.is_dir():
        raise ConfigError(f"cannot write the results workbook {path}: it is a folder", hint)
    if not folder.is_dir():
        raise ConfigError(
            f"cannot write the results workbook {path}: the folder {folder} does not exist", hint
        )
    probe = folder / f".{path.name}.{uuid.uuid4().hex}.tmp"
    try:
        probe.touch(exist_ok=False)
    except OSError as exc:
        raise ConfigError(
            f"cannot write the results workbook {path}: {exc.strerror or exc}", hint
        ) from None
    _remove_quietly(probe)


_NOT_OURS = "pass the run id itself, or a workbook written by csvsync sync"
# What openpyxl raises on a damaged or hostile workbook: it wraps the parser's error (a
# defusedxml refusal, an ExpatError) in a ValueError, and trips over odd structures with the
# plain built-in exceptions.
_UNREADABLE = (
    OSError, EOFError, zipfile.BadZipFile, zlib.error, LookupError, ValueError, TypeError,
    AttributeError, SyntaxError,
)  # fmt: skip


def read_run_id(path: Path) -> str:
    """The run id stored in a results workbook (its Summary sheet, else its document property).

    The workbook is checked as a sheet is (a zip, no bomb, no lying shared strings table)
    before openpyxl opens it, and anything openpyxl cannot parse is one ``SheetError`` line.
    """
    import openpyxl  # only revert needs it; keeps openpyxl's import cost off sync runs
    from openpyxl.utils.exceptions import InvalidFileException

    from csvsync.sheets.xlsxguard import check_xlsx_safe

    try:
        check_xlsx_safe(path)
    except SheetError as exc:
        raise SheetError(f"cannot read results workbook {exc.message}", _NOT_OURS) from None
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            run_id = _run_id_from_summary(workbook) or _run_id_from_properties(workbook)
        finally:
            workbook.close()
    except (InvalidFileException, *_UNREADABLE) as exc:
        raise SheetError(
            f"cannot read results workbook {path}: {_unreadable(exc)}", _NOT_OURS
        ) from None
    if not run_id:
        raise SheetError(
            f"{path} has no run id (no '{RUN_ID_LABEL}' line in its {SUMMARY_SHEET} sheet)",
            hint=_NOT_OURS,
        )
    return run_id


def _unreadable(exc: BaseException) -> str:
    """Why openpyxl gave up, in one line: the innermost cause of the exception it raised."""
    from defusedxml import DefusedXmlException

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DefusedXmlException):
            return "it contains a DTD or entity declarations, which csvsync does not read"
        exc, seen = seen, seen.__cause__ or seen.__context__
    return " ".join(str(exc).split()) or type(exc).__name__


def _run_id_from_summary(workbook: Any) -> str | None:
    if SUMMARY_SHEET not in workbook.sheetnames:
        return None
    # The run id is near the top: a hostile Summary of a million rows is not read to its end.
    rows = workbook[SUMMARY_SHEET].iter_rows(min_col=1, max_col=2, max_row=200, values_only=True)
    for row in rows:
        if len(row) == 2 and row[0] == RUN_ID_LABEL and row[1] not in (None, ""):
            return str(row[1]).strip()
    return None


def _run_id_from_properties(workbook: Any) -> str | None:
    for prop in getattr(workbook, "custom_doc_props", None) or ():
        if getattr(prop, "name", None) == RUN_ID_PROPERTY and getattr(prop, "value", None):
            return str(prop.value).strip()
    return None


def _check_columns(frame: pd.DataFrame, expected: list[str], what: str) -> None:
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise ValueError(f"write_results: {what} lacks columns {missing}")


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------
# Workbook layout


def _build_workbook(
    workbook: Workbook,
    summary: RunSummary,
    rows: pd.DataFrame,
    changes: pd.DataFrame,
    problems: pd.DataFrame | None = None,
    to_fix: pd.DataFrame | None = None,
) -> None:
    styles = _Styles(workbook)
    workbook.set_properties(
        {"title": f"csvsync {summary.command} results", "comments": f"run {summary.run_id}"}
    )
    workbook.set_custom_property(RUN_ID_PROPERTY, summary.run_id)
    # Sheets are added in reading order; constant_memory lets each be streamed in turn. What
    # needs a person's hand comes first: on screen it is the sheet that opens, on paper page 1.
    if problems is not None and len(problems):
        _write_table(workbook, PROBLEMS_SHEET, PROBLEMS_COLUMNS, PROBLEMS_HEADERS, problems,
                     styles)  # fmt: skip
    ws = workbook.add_worksheet(SUMMARY_SHEET)
    _write_summary(ws, summary, styles)
    _print_layout(ws, one_page=True)
    _write_table(workbook, ROWS_SHEET, ROWS_COLUMNS, ROWS_HEADERS, rows, styles)
    _write_table(workbook, CHANGES_SHEET, CHANGES_COLUMNS, CHANGES_HEADERS, changes, styles)
    # Last: it is for uploading, not reading; printed, it would part the Problems from the run.
    if to_fix is not None and len(to_fix):
        _write_fix_sheet(workbook, to_fix, styles)


def _print_layout(ws: Worksheet, one_page: bool = False) -> None:
    """Landscape, as wide as the page (a column cut off onto page 15 is a message nobody
    finds), the header row on every page, and a footer saying which sheet and page it is."""
    ws.set_landscape()
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.fit_to_pages(1, 1 if one_page else 0)
    ws.repeat_rows(0)
    ws.set_footer("&L&A&RPage &P of &N")


def _columns(frame: pd.DataFrame, names: list[str]) -> list[list[Any]]:
    # tolist() turns numpy scalars into Python ones, so the write loop can dispatch on type().
    return [frame[name].tolist() for name in names]


class _Styles:
    """Every Format the workbook uses, created once (xlsxwriter formats are per workbook)."""

    def __init__(self, workbook: Workbook) -> None:
        self._workbook = workbook
        self.header = workbook.add_format(
            {"bold": True, "bg_color": "#F2F2F2", "bottom": 1, "text_wrap": False}
        )
        self.label = workbook.add_format({"bold": True, "valign": "top"})
        self.title = workbook.add_format({"bold": True, "font_size": 14})
        self.value = workbook.add_format({"valign": "top", "align": "left"})
        self.number = workbook.add_format({"align": "left"})
        self.day = workbook.add_format({"num_format": "yyyy-mm-dd"})
        self.moment = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self._made: dict[tuple[str, str | None], Format] = {}

    def fill(self, outcome: Any) -> Format:
        """A bold cell with the outcome's fill (the Summary counts table)."""
        return self._bold_fill(outcomes.fill(outcome))

    def row_formats(self, outcome: Any, kinds: Sequence[str]) -> list[Format | None]:
        """One Format (or None) per column for a table row with this outcome."""
        color = outcomes.fill(outcome)
        return [self._cell(color, kind) for kind in kinds]

    def _cell(self, color: str | None, kind: str) -> Format | None:
        if kind == "key":
            return self._bold_fill(color)
        if kind == "wrap":
            return self._wrap(color)
        if color is None:
            return None
        return self._styled("fill", color)

    def _wrap(self, color: str | None) -> Format:
        return self._styled("wrap", color)

    def _bold_fill(self, color: str | None) -> Format:
        return self._styled("bold", color)

    def _styled(self, style: str, color: str | None) -> Format:
        """One Format per (style, fill colour), made on first use."""
        fmt = self._made.get((style, color))
        if fmt is None:
            props: dict[str, Any] = dict(_STYLES[style])
            if color:
                props["bg_color"] = color
            fmt = self._workbook.add_format(props)
            self._made[(style, color)] = fmt
        return fmt


_STYLES: dict[str, dict[str, Any]] = {
    "fill": {},
    "wrap": {"text_wrap": True, "valign": "top"},
    "bold": {"bold": True, "valign": "top"},
}


# --------------------------------------------------------------------------------------------
# Summary sheet


def _write_summary(ws: Worksheet, summary: RunSummary, styles: _Styles) -> None:
    lines = _summary_lines(summary)
    ws.write_string(0, 0, f"csvsync {summary.command} results", styles.title)
    row = 2
    for label, value in lines:
        ws.write_string(row, 0, label, styles.label)
        _write_summary_value(ws, row, 1, value, styles.value)
        row += 1
    row = _write_counts(ws, row + 1, summary.counts, styles)
    _write_notes(ws, row + 1, summary.notes, styles)
    labels = [label for label, _ in lines] + ["Outcome", "Notes", *map(str, summary.counts)]
    values = [_render(v) for _, v in lines] + ["Row-locales", *map(str, summary.notes)]
    ws.set_column(0, 0, _width(labels, cap=40))
    ws.set_column(1, 1, _width(values, cap=100))


def _summary_lines(s: RunSummary) -> list[tuple[str, Any]]:
    meaning = EXIT_MEANINGS.get(s.exit_code, "unknown exit code")
    return [
        (RUN_ID_LABEL, s.run_id),
        ("Command", s.command),
        ("Sheet", s.sheet),
        ("Mapping", s.mapping),
        ("Collection", s.collection),
        ("API base", s.api_base),
        ("Started", _utc_text(s.started)),
        ("Finished", _utc_text(s.finished)),
        ("Duration", _duration_text(s.finished - s.started)),
        ("Requests sent", s.requests),
        ("Write requests", s.write_requests),
        ("Retries", s.retries),
        ("Rate-limit waits", s.rate_limit_waits),
        ("Exit code", f"{s.exit_code}: {meaning}"),
    ]


def _write_summary_value(ws: Worksheet, row: int, col: int, value: Any, fmt: Format) -> None:
    if type(value) is int:
        ws.write_number(row, col, value, fmt)
    else:
        ws.write_string(row, col, _fit(str(value)), fmt)


def _write_counts(ws: Worksheet, row: int, counts: Mapping[str, int], styles: _Styles) -> int:
    """The counts table, known outcomes in pipeline order first; returns the next free row."""
    ws.write_string(row, 0, "Outcome", styles.header)
    ws.write_string(row, 1, "Row-locales", styles.header)
    ranked = sorted(counts.items(), key=lambda kv: (outcomes.summary_order(kv[0]), kv[0]))
    for outcome, number in ranked:
        row += 1
        ws.write_string(row, 0, _fit(str(outcome)), styles.fill(outcome))
        ws.write_number(row, 1, int(number), styles.number)
    row += 1
    ws.write_string(row, 0, "Total", styles.label)
    ws.write_number(row, 1, sum(int(n) for n in counts.values()), styles.label)
    return row + 1


def _write_notes(ws: Worksheet, row: int, notes: Sequence[str], styles: _Styles) -> None:
    if not notes:
        return
    ws.write_string(row, 0, "Notes", styles.label)
    for note in notes:
        ws.write_string(row, 1, _fit(str(note)), styles.value)
        row += 1


def _utc_text(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration_text(delta: timedelta) -> str:
    seconds = max(delta.total_seconds(), 0.0)
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {secs:02d} s"
    return f"{minutes} min {secs:02d} s"


# --------------------------------------------------------------------------------------------
# Rows / Changes tables


def _write_table(
    workbook: Workbook,
    name: str,
    names: list[str],
    headers: list[str],
    frame: pd.DataFrame,
    styles: _Styles,
) -> None:
    """Stream one table over as many sheets as Excel's row limit needs (``Rows``, ``Rows (2)``)."""
    columns = _columns(frame, names)
    wrap = _WRAP_COLUMNS if name == PROBLEMS_SHEET else frozenset()
    kinds = ["key" if n in _KEY_COLUMNS else "wrap" if n in wrap else "cell" for n in names]
    widths = [
        _width(
            [h, *map(_render, col[:_WIDTH_SAMPLE])], cap=_WRAP_WIDTH if k == "wrap" else _MAX_WIDTH
        )
        for h, col, k in zip(headers, columns, kinds, strict=True)
    ]
    outcome_col = names.index("outcome")
    per_sheet = MAX_SHEET_ROWS - 1
    total = len(frame)
    start, part = 0, 1
    while True:
        stop = min(start + per_sheet, total)
        title = name if part == 1 else f"{name} ({part})"
        ws = _table_sheet(workbook, title, headers, widths, stop - start, styles)
        # Slicing copies; the common single-sheet case writes the lists as they are.
        chunk = columns if (start, stop) == (0, total) else [col[start:stop] for col in columns]
        if "wrap" in kinds:
            _wrapped_heights(ws, chunk, kinds, widths)
        _write_cells(ws, chunk, outcome_col, kinds, styles)
        if stop >= total:
            return
        start, part = stop, part + 1


def _wrapped_heights(
    ws: Worksheet, columns: list[list[Any]], kinds: list[str], widths: list[float]
) -> None:
    """Each row as tall as its longest wrapped text: LibreOffice, unlike Excel, does not size
    rows on opening, and its PDF prints wrapped lines over each other. Set before the rows are
    written, as constant_memory needs."""
    wrapped = [(col, widths[j] - 1) for j, col in enumerate(columns) if kinds[j] == "wrap"]
    for r in range(len(columns[0]) if columns else 0):
        lines = 1
        for col, width in wrapped:
            text = _render(col[r])
            lines = max(lines, sum(-(-len(part) // int(width)) or 1 for part in text.split("\n")))
        if lines > 1:
            ws.set_row(r + 1, 15.0 * min(lines, 20))


def _table_sheet(
    workbook: Workbook,
    title: str,
    headers: list[str],
    widths: list[float],
    n_rows: int,
    styles: _Styles,
) -> Worksheet:
    ws = workbook.add_worksheet(title)
    for col, (header, width) in enumerate(zip(headers, widths, strict=True)):
        ws.set_column(col, col, width)
        ws.write_string(0, col, header, styles.header)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(n_rows, 1), len(headers) - 1)
    _print_layout(ws)
    # The table's own columns only: a long message overflowing into empty cells would widen
    # the printed page, and so shrink every page of the sheet.
    ws.print_area(0, 0, max(n_rows, 1), len(headers) - 1)
    ws.hide_gridlines(0)  # printed too: a long table on paper needs its lines
    return ws


def _write_fix_sheet(workbook: Workbook, frame: pd.DataFrame, styles: _Styles) -> None:
    """The failed rows in the sheet's own columns, cells as read: corrected and uploaded as it
    is (or saved as CSV), it is a sheet csvsync reads like the one it came from. So no outcome
    fills, no extra column, only the header the mapping knows."""
    ws = workbook.add_worksheet(FIX_SHEET)
    headers = [str(c) for c in frame.columns]
    columns = [frame.iloc[:, j].tolist() for j in range(frame.shape[1])]
    for col, (header, values) in enumerate(zip(headers, columns, strict=True)):
        texts = [header, *map(_render, values[:_WIDTH_SAMPLE])]
        ws.set_column(col, col, _width(texts, cap=_FIX_WIDTH) + 2)  # +2: the filter button
        ws.write_string(0, col, _fit(header), styles.header)
    for r, values in enumerate(zip(*columns, strict=True), start=1):
        for c, v in enumerate(values):
            _write_source_cell(ws, r, c, v, styles)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(frame), 1), max(len(headers) - 1, 0))
    _print_layout(ws)
    ws.print_area(0, 0, max(len(frame), 1), max(len(headers) - 1, 0))
    ws.hide_gridlines(0)


def _write_source_cell(ws: Worksheet, row: int, col: int, value: Any, styles: _Styles) -> None:
    """A sheet cell as it was read: text stays text (never a formula), numbers and dates stay
    typed, so the reader sees what it saw in the uploaded sheet."""
    value = _plain(value)
    if value is None or value == "":
        return  # left empty: an empty cell is what the reader reads as empty
    if isinstance(value, datetime) and value.tzinfo is None:
        plain_day = value.time() == datetime.min.time()
        ws.write_datetime(row, col, value, styles.day if plain_day else styles.moment)
    elif isinstance(value, date) and not isinstance(value, datetime):
        ws.write_datetime(row, col, value, styles.day)
    elif type(value) is bool:
        ws.write_boolean(row, col, value)
    elif isinstance(value, int | float) and _exact_number(value):
        ws.write_number(row, col, value)
    else:
        ws.write_string(row, col, _fit(_render(value)))


def _write_cells(
    ws: Worksheet,
    columns: list[list[Any]],
    outcome_col: int,
    kinds: list[str],
    styles: _Styles,
) -> None:
    """The hot loop: one typed write per cell, formats looked up once per row."""
    write_string, write_number, write_boolean, write_blank = _cell_writers(ws)
    by_outcome: dict[Any, list[Format | None]] = {}
    for r, values in enumerate(zip(*columns, strict=True), start=1):
        outcome = values[outcome_col]
        key = outcome if type(outcome) is str else repr(outcome)
        formats = by_outcome.get(key)
        if formats is None:
            formats = by_outcome[key] = styles.row_formats(outcome, kinds)
        for c, v in enumerate(values):
            t = type(v)
            if t is str:
                if v:
                    write_string(r, c, v if len(v) <= _SAFE_CHARS else _fit(v), formats[c])
                else:  # a true blank, so Excel's filter lists it under "(Blanks)"
                    write_blank(r, c, None, formats[c])
            elif t is int:
                if -_MAX_EXACT_INT < v < _MAX_EXACT_INT:
                    write_number(r, c, v, formats[c])
                else:
                    write_string(r, c, str(v), formats[c])
            elif v is None:
                write_blank(r, c, None, formats[c])
            elif t is bool:
                write_boolean(r, c, v, formats[c])
            else:
                _write_other(ws, r, c, v, formats[c])


def _cell_writers(ws: Worksheet) -> tuple[Any, Any, Any, Any]:
    """The sheet's typed cell writers, without the A1-notation decorator where available.

    ``write_string`` & co. first try ``int(row)`` to support "A1" arguments; we always pass
    numbers, and skipping that wrapper is several per cent of the whole write (the 1.5x target).
    The undecorated ``_write_*`` methods are documented in xlsxwriter's source as exactly that;
    if a future version drops them we fall back to the public ones.
    """
    names = ("write_string", "write_number", "write_boolean", "write_blank")
    return tuple(getattr(ws, "_" + name, None) or getattr(ws, name) for name in names)


def _write_other(ws: Worksheet, row: int, col: int, value: Any, fmt: Format | None) -> None:
    """The rare types: floats (NaN is blank), lists/dicts as JSON, numpy scalars, NA, dates."""
    value = _plain(value)
    if value is None:
        ws.write_blank(row, col, None, fmt)
    elif type(value) is bool:
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, int | float) and _exact_number(value):
        ws.write_number(row, col, value, fmt)
    else:
        ws.write_string(row, col, _fit(_render(value)), fmt)


def _plain(value: Any) -> Any:
    """Missing markers to None, numpy scalars to Python ones."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, list | dict | str | bytes):
        try:
            return _plain(item())
        except (TypeError, ValueError):
            return value
    return value


def _exact_number(value: int | float) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return -_MAX_EXACT_INT < value < _MAX_EXACT_INT


def _render(value: Any) -> str:
    """A value as the text a cell shows (also used to size columns)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return ""
    return str(value)


def _json_default(value: Any) -> Any:
    plain = _plain(value)
    if plain is not value:
        return plain
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


# --------------------------------------------------------------------------------------------
# Excel limits and widths


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str) -> str:
    """Cut text over Excel's cell limit, with a visible marker saying how long it was."""
    if len(text) <= _SAFE_CHARS:
        return text
    total = _utf16_len(text)
    if total <= MAX_CELL_CHARS:
        return text
    marker = f"… [cut: {len(text)} characters in all]"
    keep = MAX_CELL_CHARS - _utf16_len(marker)
    head = text[:keep]
    # Astral characters count twice in UTF-16; drop from the end until the cut fits.
    while (excess := _utf16_len(head) - keep) > 0:
        head = head[: len(head) - excess]
    return head + marker


def _width(texts: Sequence[str], cap: int = _MAX_WIDTH) -> float:
    longest = max((len(line) for text in texts for line in _lines(text)), default=0)
    return float(min(max(longest + 2, _MIN_WIDTH), cap))


def _lines(text: str) -> Iterator[str]:
    # Only the first 200 characters matter for a width that is capped well below that.
    yield from text[:200].split("\n")

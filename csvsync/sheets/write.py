"""Writing a table of cells to a CSV or XLSX file atomically, so nothing in it runs as a formula.

This module owns the file side of ``export``: the cells come typed from ``convert/to_sheet.py``;
here they become a UTF-8 CSV (no BOM; a text beginning with ``=``, ``+``, ``-`` or ``@`` gets a
leading apostrophe, which ``read.py`` strips when it reads the file back) or an XLSX workbook
(numbers, booleans and dates as typed cells, every text through ``write_string`` with
xlsxwriter's string conversions off, so no text becomes a formula, URL or number; a frozen,
filtered header row; fitted widths). The file is built under a temporary name in the target
folder and moved into place with ``os.replace``: a failure leaves the old file or nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import uuid
from collections.abc import Sequence
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import xlsxwriter
from xlsxwriter.exceptions import XlsxWriterException

from csvsync.convert.to_sheet import Cell
from csvsync.errors import ConfigError, SheetError

MAX_CELL_CHARS = 32_767  # Excel's limit for one cell's text
_FORMULA_START = re.compile(r"'*[=+\-@]")
_MIN_WIDTH, _MAX_WIDTH = 8, 60
_WIDTH_SAMPLE = 2000  # rows looked at to size columns
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def csv_text(cell: Cell) -> str:
    """A cell as CSV text: formula-looking text escaped with one apostrophe."""
    if cell is None:
        return ""
    text = cell if isinstance(cell, str) else str(cell)
    # "'=x" itself gets one more apostrophe: the reader strips one from "'+[=+-@]".
    return "'" + text if _FORMULA_START.match(text) else text


def write_table(
    path: Path, header: Sequence[str], rows: Sequence[Sequence[Cell]], sheet_name: str
) -> None:
    """Write ``header`` and ``rows`` to ``path`` (.csv or .xlsx, by its suffix), atomically."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        if path.suffix.lower() == ".csv":
            _write_csv(tmp, header, rows)
        else:
            _write_xlsx(tmp, path, header, rows, sheet_name)
        os.replace(tmp, path)
    except (OSError, XlsxWriterException) as exc:
        raise ConfigError(
            f"cannot write {path}: {exc}", "check that the folder exists and is writable"
        ) from exc
    finally:
        if tmp.exists():
            tmp.unlink()


def _write_csv(tmp: Path, header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> None:
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow([csv_text(h) for h in header])
        writer.writerows([csv_text(c) for c in row] for row in rows)


def check_sheet_name(name: str) -> str | None:
    """Why Excel would refuse ``name`` as a sheet name, or None."""
    if not name or len(name) > 31:
        return "a sheet name has 1 to 31 characters"
    if _BAD_SHEET_CHARS.search(name) or name.startswith("'") or name.endswith("'"):
        return "a sheet name cannot hold [ ] : * ? / \\ or start or end with '"
    return None


def _write_xlsx(
    tmp: Path,
    path: Path,
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    sheet_name: str,
) -> None:
    options = {
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
        "constant_memory": True,
    }
    with TemporaryDirectory(prefix="csvsync-xlsx-", ignore_cleanup_errors=True) as tmpdir:
        book = xlsxwriter.Workbook(str(tmp), {**options, "tmpdir": tmpdir})
        try:
            ws = book.add_worksheet(sheet_name)
            bold = book.add_format({"bold": True})
            day = book.add_format({"num_format": "yyyy-mm-dd"})
            seconds = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
            millis = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss.000"})
            for col, width in enumerate(_widths(header, rows)):
                ws.set_column(col, col, width)
            for col, name in enumerate(header):
                ws.write_string(0, col, name, bold)
            for r, row in enumerate(rows, start=1):
                for col, cell in enumerate(row):
                    if cell is None:
                        continue
                    if isinstance(cell, bool):
                        ws.write_boolean(r, col, cell)
                    elif isinstance(cell, int | float):
                        ws.write_number(r, col, cell)
                    elif isinstance(cell, dt.datetime):
                        ws.write_datetime(r, col, cell, _date_format(cell, day, seconds, millis))
                    elif ws.write_string(r, col, cell) == -2:
                        raise SheetError(
                            f"{path}: column '{header[col]}', row {r + 1} holds {len(cell):,} "
                            f"characters; an XLSX cell holds at most {MAX_CELL_CHARS:,}",
                            "export to a .csv file instead",
                        )
            ws.freeze_panes(1, 0)
            ws.autofilter(0, 0, max(len(rows), 1), max(len(header) - 1, 0))
        finally:
            book.close()


def _date_format(cell: dt.datetime, day: Any, seconds: Any, millis: Any) -> Any:
    # Display only: the cell holds the full date and time whatever the format shows.
    if cell.microsecond:
        return millis
    return day if cell.time() == dt.time(0) else seconds


def _shown(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, dt.datetime):
        return "2024-05-01 08:30:00.000" if cell.microsecond else "2024-05-01 08:30:00"
    return cell if isinstance(cell, str) else str(cell)


def _widths(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> list[float]:
    out = []
    for col, name in enumerate(header):
        longest = len(name) + 3  # room for the filter button
        for row in rows[:_WIDTH_SAMPLE]:
            text = _shown(row[col])[:200]
            longest = max(longest, max((len(line) for line in text.split("\n")), default=0))
        out.append(float(min(max(longest + 1, _MIN_WIDTH), _MAX_WIDTH)))
    return out

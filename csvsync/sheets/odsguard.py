"""Safety checks on an ODS file, run before calamine opens it: the zip guards of an XLSX, and
every table's extent as calamine would expand it.

calamine (0.36 ``ods``) parses every table of ``content.xml`` when it opens the file, not only
the sheet asked for, and expands ``table:number-rows-repeated`` and
``table:number-columns-repeated`` in memory. LibreOffice legitimately writes a million trailing
empty rows and 16,000 trailing empty columns that way; calamine keeps no empty cell after a
row's last value and no empty row after a table's last value, so those cost nothing and are not
counted here. What is counted, per table, is what calamine builds: rows up to the last row
holding a value, columns up to the last column holding one, each repeat counted, so a small
file declaring a million repeated non-empty rows is refused by the extent limits XLSX has. The
text calamine copies into each repeated cell (a value, its formula, ``text:s`` spaces) counts
against ``XlsxLimits.max_total_uncompressed``: one long string repeated 16,384 times is a bomb
too.

``content.xml`` is read as a stream through expat (the entry's declared size and ratio checked
first, as for XLSX), so the scan holds one chunk and counters, never the document. A DTD is
refused. Names are matched with their literal ``table:``/``text:`` prefixes, as calamine
matches them. Every failure is a one-line ``SheetError`` naming the file.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.parsers import expat

from csvsync.errors import SheetError
from csvsync.options import XlsxLimits
from csvsync.sheets.filetype import ZIP_MAGICS, sniff
from csvsync.sheets.xlsxguard import (
    DtdFound,
    check_entries,
    check_extent,
    check_total,
    guarded_parser,
)

CONTENT = "content.xml"
_HINT_RESAVE = "save it again from LibreOffice as .ods"
_CHUNK = 1 << 20
# Any of these on a cell gives calamine a value (or a formula) to keep; a "string" value type
# does too, its text being the element's content, even when that is empty.
_VALUE_ATTRS = (
    "office:value",
    "office:string-value",
    "office:date-value",
    "office:time-value",
    "office:boolean-value",
    "table:formula",
)
_CELLS = frozenset({"table:table-cell", "table:covered-table-cell"})


class _Refused(Exception):
    """A limit passed inside an expat callback, carried out of the parser."""

    def __init__(self, error: SheetError) -> None:
        super().__init__(str(error))
        self.error = error


def _fail(path: Path, problem: str, hint: str) -> SheetError:
    return SheetError(f"{path}: {problem}", hint)


def check_ods_safe(path: Path, limits: XlsxLimits = XlsxLimits()) -> None:
    """Refuse a file that is not a zip, would expand past ``limits``, or holds a table whose
    non-empty extent (repeats counted) or repeated text is past them."""
    try:
        with path.open("rb") as handle:
            magic = handle.read(8)
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc.strerror})", "check its permissions") from None
    if not magic.startswith(ZIP_MAGICS):
        found = sniff(path)
        what = f"is {found.name}, not" if found is not None else "is not"
        advice = found.advice if found is not None else _HINT_RESAVE
        raise _fail(path, f"{what} an OpenDocument spreadsheet (not a zip archive)", advice)
    try:
        with zipfile.ZipFile(path) as archive:
            check_entries(path, archive.infolist(), limits)
            try:
                archive.getinfo(CONTENT)
            except KeyError:
                raise _fail(
                    path, f"is not an OpenDocument spreadsheet (no {CONTENT})", _HINT_RESAVE
                ) from None
            with archive.open(CONTENT) as stream:
                _scan_content(path, stream, limits)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, ValueError) as exc:
        raise _fail(path, f"is truncated or damaged ({_one_line(exc)})", _HINT_RESAVE) from None
    except NotImplementedError as exc:
        raise _fail(path, f"uses a zip format csvsync cannot read ({exc})", _HINT_RESAVE) from None
    except OSError as exc:
        raise _fail(path, f"cannot be read ({_one_line(exc)})", _HINT_RESAVE) from None


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


@dataclass
class _Table:
    """One table's counters as the scan goes: positions are 0-based, the extent 1-based."""

    name: str
    row: int = 0  # rows passed, repeats counted
    rows: int = 0  # extent: up to the last row holding a value
    columns: int = 0
    text: int = 0  # characters calamine will copy, repeats counted
    row_repeats: int = 1
    col: int = 0  # columns passed in the current row
    row_last: int = 0  # the current row's last column holding a value
    row_text: int = 0
    cell: dict[str, int] = field(default_factory=dict)  # the open cell: repeats, characters


def _repeats(path: Path, attrs: dict[str, str], name: str) -> int:
    raw = attrs.get(name)
    if raw is None:
        return 1
    try:
        number = int(raw.strip())
    except ValueError:
        raise _Refused(_fail(path, f"is damaged ({name}={raw[:20]!r})", _HINT_RESAVE)) from None
    return max(number, 0)


def _scan_content(path: Path, stream: Any, limits: XlsxLimits) -> None:
    tables: list[_Table] = []
    depth = {"cell": 0}  # elements open inside the current cell

    def check(table: _Table, rows: int, columns: int) -> None:
        try:
            check_extent(path, table.name, rows, columns, limits)
            # calamine builds every table: together they are bounded as one sheet is.
            done = sum(t.rows * t.columns for t in tables[:-1])
            check_total(path, done + rows * max(columns, table.columns), limits)
        except SheetError as exc:
            raise _Refused(exc) from None

    def start(name: str, attrs: dict[str, str]) -> None:
        table = tables[-1] if tables else None
        if table is not None and depth["cell"]:  # a cell's content: calamine reads no table in it
            depth["cell"] += 1
            if name == "text:s":
                table.cell["chars"] += _repeats(path, attrs, "text:c")
        elif name == "table:table":
            tables.append(_Table(attrs.get("table:name", f"Sheet{len(tables) + 1}")))
        elif table is None:
            return
        elif name == "table:table-row":
            table.row_repeats = _repeats(path, attrs, "table:number-rows-repeated")
            table.col = table.row_last = table.row_text = 0
        elif name in _CELLS:
            depth["cell"] = 1
            valued = attrs.get("office:value-type") == "string" or any(
                key in attrs for key in _VALUE_ATTRS
            )
            chars = sum(len(attrs.get(key, "")) for key in _VALUE_ATTRS)
            repeats = _repeats(path, attrs, "table:number-columns-repeated")
            table.cell = {"repeats": repeats, "chars": chars, "valued": int(valued)}

    def text(data: str) -> None:
        if depth["cell"] and tables:
            tables[-1].cell["chars"] += len(data)

    def end(name: str) -> None:
        if not tables:
            return
        table = tables[-1]
        if depth["cell"]:
            depth["cell"] -= 1
            if depth["cell"]:
                return
            cell, table.cell = table.cell, {}
            repeats = cell["repeats"]
            if cell["valued"] and repeats:
                table.row_last = table.col + repeats
                table.row_text += cell["chars"] * repeats
                if table.row_last > limits.max_columns:
                    check(table, table.row + 1, table.row_last)
            table.col += repeats
        elif name == "table:table-row":
            if table.row_last:
                table.rows = table.row + table.row_repeats
                table.columns = max(table.columns, table.row_last)
                table.text += table.row_text * table.row_repeats
                check(table, table.rows, table.columns)
                if table.text > limits.max_total_uncompressed:
                    raise _Refused(
                        _fail(
                            path,
                            f"sheet {table.name!r} repeats its cells into more than "
                            f"{limits.max_total_uncompressed:,} characters of text "
                            "(possible bomb)",
                            "remove the repeated cells or split the sheet",
                        )
                    )
            table.row += table.row_repeats

    parser = guarded_parser(start, end, text)
    try:
        while chunk := stream.read(_CHUNK):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _Refused as exc:
        raise exc.error from None
    except DtdFound:
        raise _fail(path, f"{CONTENT} contains a DTD", _HINT_RESAVE) from None
    except expat.ExpatError as exc:
        raise _fail(path, f"is damaged ({CONTENT}: {_one_line(exc)})", _HINT_RESAVE) from None

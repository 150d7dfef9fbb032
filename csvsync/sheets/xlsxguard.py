"""Safety checks on an XLSX file's zip container and worksheet XML, run before calamine opens it.

This module owns everything ``read.py`` learns about an XLSX file from its raw bytes:

* ``check_xlsx_safe``: the file is a zip (not OLE2, i.e. password-protected or legacy ``.xls``),
  not truncated, holds a workbook, and is no decompression bomb (entry count, total declared
  uncompressed size, per-entry compression ratio).
* ``scan_sheet``: the worksheet's XML, scanned with byte searches (no per-cell Python), for the
  cell extent calamine will allocate (calamine builds a dense ``rows x columns`` grid, and a sheet
  with one cell in ``A1`` and one in ``XFD1048576`` aborts the whole process with an out-of-memory
  error, not an exception) and for Excel error cells (``t="e"``), which calamine reads as empty.

Every failure is a one-line ``SheetError`` naming the file.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.parsers import expat

from defusedxml import ElementTree as SafeET

from csvsync.errors import SheetError
from csvsync.options import XlsxLimits

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a normal zip; an empty zip

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"

_DIMENSION = re.compile(rb'<dimension\s+ref="([^"]*)"')
_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")
_ROW_R = re.compile(rb'<row r="(\d+)"')
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)")  # one pass over the sheet, not two
# A cell or row whose first attribute is not a well-formed ``r`` (a cell reference, a row number).
_CELL_WITHOUT_R = re.compile(rb'<c(?! r="[A-Z]{1,3}\d+")[\s/>]')
_ROW_WITHOUT_R = re.compile(rb'<row(?! r="\d+")[\s/>]')
_MULTI_LETTER_COL = re.compile(rb'<c r="([A-Z]{2,3})\d')
_ERROR_CELL = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"[^>]*?\st="e"[^>]*?(/?)>')
_CELL_VALUE = re.compile(rb"<v>([^<]*)</v>")


@dataclass(frozen=True)
class SheetScan:
    """What the raw worksheet XML says: its extent and its Excel error cells."""

    rows: int  # the highest row number holding a cell (1-based)
    columns: int  # the highest column holding a cell (1-based); may be rounded up to 26 (Z)
    errors: tuple[tuple[int, int, str], ...]  # (row, column, error text such as "#REF!"), 1-based


def _fail(path: Path, problem: str, hint: str) -> SheetError:
    return SheetError(f"{path}: {problem}", hint)


def column_letters(number: int) -> str:
    """1 -> A, 27 -> AA: how spreadsheets name a column position."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _column_number(letters: str) -> int:
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - ord("A") + 1
    return number


def check_xlsx_safe(path: Path, limits: XlsxLimits = XlsxLimits()) -> None:
    """Refuse files that are not a workbook zip, or that would expand past ``limits``.

    Uses the sizes the zip's central directory declares; ``scan_sheet`` later bounds the
    worksheet by what it really holds.
    """
    try:
        with path.open("rb") as handle:
            magic = handle.read(8)
    except OSError as exc:
        raise _fail(
            path, f"cannot be read ({exc.strerror})", "check the path and permissions"
        ) from None
    if magic.startswith(OLE2_MAGIC):
        raise _fail(
            path,
            "is a password-protected or legacy Excel file, not an XLSX workbook",
            "remove the password / save it as .xlsx",
        )
    if not magic.startswith(ZIP_MAGICS):
        raise _fail(
            path, "is not an XLSX workbook (not a zip archive)", "save it from Excel as .xlsx"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            _check_entries(path, archive.infolist(), limits)
            if "xl/workbook.xml" not in archive.NameToInfo:
                raise _fail(
                    path,
                    "is a zip archive but not an Excel workbook (no xl/workbook.xml)",
                    "save it from Excel as .xlsx",
                )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise _fail(
            path, f"is truncated or damaged ({exc})", "save it again from Excel as .xlsx"
        ) from None


def _check_entries(path: Path, entries: list[zipfile.ZipInfo], limits: XlsxLimits) -> None:
    if len(entries) > limits.max_entries:
        raise _fail(
            path,
            f"holds {len(entries):,} zip entries, more than the limit of {limits.max_entries:,}",
            "this does not look like a normal workbook; save it again from Excel",
        )
    total = sum(entry.file_size for entry in entries)
    if total > limits.max_total_uncompressed:
        raise _fail(
            path,
            f"would expand to {total:,} bytes, more than the limit of "
            f"{limits.max_total_uncompressed:,} bytes (possible zip bomb)",
            "split the workbook or remove unused sheets",
        )
    for entry in entries:
        if entry.file_size <= limits.ratio_min_size:
            continue
        ratio = entry.file_size / max(entry.compress_size, 1)
        if ratio > limits.max_ratio:
            raise _fail(
                path,
                f"entry {entry.filename!r} has a compression ratio of {ratio:,.0f}:1, more than "
                f"the limit of {limits.max_ratio:,.0f}:1 (possible zip bomb)",
                "save the workbook again from Excel",
            )


def worksheet_part(archive: zipfile.ZipFile, sheet_name: str) -> str:
    """The zip entry name of the worksheet called ``sheet_name`` (via workbook.xml and its rels).

    Raises KeyError when the workbook does not list it; the caller has already checked the name
    against calamine's list, so that only happens for a damaged workbook.
    """
    workbook = SafeET.fromstring(archive.read("xl/workbook.xml"))
    rel_id = None
    for sheet in workbook.iter(f"{_NS_MAIN}sheet"):
        if sheet.get("name") == sheet_name:
            rel_id = sheet.get(f"{_NS_REL}id")
            break
    rels = SafeET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    for rel in rels.iter(f"{_NS_PKG_REL}Relationship"):
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            # Targets are relative to xl/ unless absolute within the package.
            if target.startswith("/"):
                return target.lstrip("/")
            return posixpath.normpath(posixpath.join("xl", target))
    raise KeyError(sheet_name)


def scan_sheet(path: Path, xml: bytes, sheet_name: str, limits: XlsxLimits) -> SheetScan:
    """Bound the sheet's extent and find its error cells, refusing sheets past ``limits``."""
    if _DTD.search(xml):
        # No valid worksheet has a DTD; entity definitions are how XML bombs work.
        raise _fail(path, f"sheet {sheet_name!r} contains a DTD", "save it again from Excel")
    _check_dimension(path, xml, sheet_name, limits)
    scan = _fast_scan(xml, limits) or _parsed_scan(path, xml, sheet_name)
    _check_extent(path, sheet_name, scan.rows, scan.columns, limits)
    return scan


def _check_dimension(path: Path, xml: bytes, sheet_name: str, limits: XlsxLimits) -> None:
    # The dimension element is near the top; it is a claim, not a bound, so a lie in it is
    # caught by the extent check below, but an honest huge one fails fast here.
    match = _DIMENSION.search(xml, 0, 65_536)
    if not match:
        return
    last = match.group(1).decode("ascii", "replace").split(":")[-1]
    ref = _REF.match(last)
    if ref:
        _check_extent(
            path, sheet_name, int(ref.group(2)), _column_number(ref.group(1)), limits, "declares"
        )


def _fast_scan(xml: bytes, limits: XlsxLimits) -> SheetScan | None:
    """Extent and error cells by byte searches, or None when the XML is not in the plain form.

    The plain form is what Excel, LibreOffice, openpyxl and xlsxwriter write: unprefixed
    ``<row r="N"`` and ``<c r="A1"`` elements, every one with its ``r`` first. Anything else
    (prefixed namespaces, rows or cells without ``r``) goes to the slower ``_parsed_scan``.
    """
    start, end = xml.find(b"<sheetData"), xml.rfind(b"</sheetData>")
    if start < 0:
        return None if b":sheetData" in xml else SheetScan(rows=0, columns=0, errors=())
    end = len(xml) if end < 0 else end
    # One regex pass each (about twice the speed of one bytes.count on a 100 MB sheet, and it
    # replaces five): a cell or row element whose first attribute is not a well-formed ``r``.
    if _CELL_WITHOUT_R.search(xml, start, end) or _ROW_WITHOUT_R.search(xml, start, end):
        return None
    row_numbers = _ROW_R.findall(xml, start, end)
    rows = max((int(number) for number in row_numbers), default=0)
    errors = _error_cells(xml) if xml.find(b't="e"', start, end) >= 0 else ()
    return SheetScan(rows=rows, columns=_max_column(xml, start, end, rows, limits), errors=errors)


def _max_column(xml: bytes, start: int, end: int, rows: int, limits: XlsxLimits) -> int:
    # Most sheets have no column past Z, so only the rare multi-letter refs are collected.
    wide = {_column_number(m.decode("ascii")) for m in _MULTI_LETTER_COL.findall(xml, start, end)}
    if wide:
        return max(wide)
    if rows * 26 <= limits.max_cells:
        return 26 if rows else 0  # an upper bound, and within every limit: no need to narrow
    present = (n for n in range(26, 0, -1) if xml.find(b'<c r="' + column_letters(n).encode()) >= 0)
    return next(present, 0)


def _parsed_scan(path: Path, xml: bytes, sheet_name: str) -> SheetScan:
    """Walk the XML with expat, numbering rows and cells the way calamine does when ``r`` is
    missing (one more than the previous), and collect error cells on the way."""
    pos = {"row": 0, "col": 0, "max_row": 0, "max_col": 0}
    errors: list[tuple[int, int, str]] = []
    pending: list[str] = []  # text of the current error cell's <v>, while inside one
    in_error = [False, False]  # inside an error cell; inside its <v>

    def start(name: str, attrs: dict[str, str]) -> None:
        local = name.rsplit(":", 1)[-1]
        if local == "row":
            pos["row"] = int(attrs.get("r") or pos["row"] + 1)
            pos["col"] = 0
        elif local == "c":
            ref = _REF.match(attrs.get("r", ""))
            if ref:
                pos["row"], pos["col"] = int(ref.group(2)), _column_number(ref.group(1))
            else:
                pos["col"] += 1
            pos["max_row"] = max(pos["max_row"], pos["row"])
            pos["max_col"] = max(pos["max_col"], pos["col"])
            in_error[0] = attrs.get("t") == "e"
            pending.clear()
        elif local == "v":
            in_error[1] = in_error[0]

    def end(name: str) -> None:
        local = name.rsplit(":", 1)[-1]
        if local == "v":
            in_error[1] = False
        elif local == "c" and in_error[0]:
            errors.append((pos["row"], pos["col"], "".join(pending) or "#ERROR"))
            in_error[0] = False

    def text(data: str) -> None:
        if in_error[1]:
            pending.append(data)

    parser: Any = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(xml, True)
    except (expat.ExpatError, ValueError) as exc:
        raise _fail(
            path, f"sheet {sheet_name!r} is damaged ({exc})", "save it again from Excel"
        ) from None
    return SheetScan(rows=pos["max_row"], columns=pos["max_col"], errors=tuple(errors))


def _check_extent(
    path: Path,
    sheet_name: str,
    rows: int,
    columns: int,
    limits: XlsxLimits,
    verb: str = "has",
) -> None:
    where = f"sheet {sheet_name!r} {verb}"
    hint = "remove unused rows and columns or split the sheet"
    if rows > limits.max_rows:
        raise _fail(
            path, f"{where} {rows:,} rows, more than the limit of {limits.max_rows:,}", hint
        )
    if columns > limits.max_columns:
        raise _fail(
            path,
            f"{where} {columns:,} columns, more than the limit of {limits.max_columns:,}",
            hint,
        )
    if rows * columns > limits.max_cells:
        raise _fail(
            path,
            f"{where} cells up to row {rows:,} and column {column_letters(columns)}: "
            f"{rows * columns:,} cells, more than the limit of {limits.max_cells:,}",
            hint,
        )


def _error_cells(xml: bytes) -> tuple[tuple[int, int, str], ...]:
    found = []
    for match in _ERROR_CELL.finditer(xml):
        text = "#ERROR"
        if not match.group(3):  # not self-closing: the cached error text is in its <v>
            end = xml.find(b"</c>", match.end())
            value = _CELL_VALUE.search(xml, match.end(), end if end >= 0 else len(xml))
            if value:
                text = value.group(1).decode("utf-8", "replace")
        found.append((int(match.group(2)), _column_number(match.group(1).decode()), text))
    return tuple(found)

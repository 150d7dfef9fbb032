"""Safety checks on an XLSX file, run before calamine reads it: no file may make the reader
allocate more than ``XlsxLimits`` allows.

python-calamine is Rust: when an allocation fails it aborts the whole process (SIGABRT, exit 134),
with no exception to catch. So every number that sizes one of its allocations is bounded here
first, read from the raw bytes the way calamine reads them (calamine 0.36/0.37 ``xlsx``):

* the package: which entry calamine reads for a sheet (``xlsxparts.Package`` finds it as calamine
  does, so the part scanned is the part read), and no two entries whose names fold to one;
* the shared strings table: calamine reserves room for the ``uniqueCount`` that ``<sst>``
  declares (``check_xlsx_safe``, through ``Package``);
* the sheet: calamine builds a dense grid from A1 to the furthest non-empty cell, each cell placed
  by its ``r`` (letters and digits, any case), else one column right of the previous cell, in the
  row its ``<row r>`` named or one below the previous row; element names match by local name, so
  any namespace prefix (bound or not) counts (``scan_sheet``).

This module also owns the container checks (zip, not OLE2, not truncated, no decompression bomb, no
two entries one name) and finding Excel error cells (``t="e"``), which calamine reads as empty.
Every failure is a one-line ``SheetError`` naming the file.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn
from xml.parsers import expat

from csvsync.errors import SheetError
from csvsync.options import XlsxLimits
from csvsync.sheets.filetype import XLS, sniff
from csvsync.sheets.xlsxparts import Damaged, Package, ascii_lower

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a normal zip; an empty zip

_HINT_RESAVE = "save it again from Excel as .xlsx"
_HINT_SPLIT = "remove unused rows and columns or split the sheet"


_SHEET_DATA = re.compile(rb"<([^\s<>/!?:]*:)?sheetData[\s/>]")
_DIMENSION = re.compile(rb'<(?:[^\s<>/!?:]*:)?dimension\s+ref="([^"]*)"')
_REF = re.compile(r"([A-Za-z]*)([0-9]+)")  # calamine's cell reference (fullmatch)
_PLAIN_REF = re.compile(rb'([A-Z]{1,3})([0-9]+)"')
_ROW_NUMBER = re.compile(rb'([0-9]+)"')
_CELL_VALUE = re.compile(rb"<v>([^<]*)</v>")
# calamine turns a number with a date or duration style into a chrono TimeDelta of milliseconds,
# which panics below about -1.07e11 days (a Rust panic: a traceback and a Rust backtrace). Only a
# numeric cell with a style can be one; the style is not resolved, so any such cell that far
# below zero is refused (no real date, duration or amount is).
_DATE_FLOOR = -1e11
_FAR_NEGATIVE = rb"-(?:[0-9]{11,}|[0-9]*\.?[0-9]*[eE]\+?[0-9]{2,}|[iI][nN][fF])"
_NUMBER = re.compile(
    rb"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf(?:inity)?|nan)", re.IGNORECASE
)  # what calamine's fast_float reads as a number: no spaces, no underscores


class DtdFound(Exception):
    """A DTD in a worksheet: refused before expat reads an entity declaration."""


def guarded_parser(
    start: Callable[..., None], end: Callable[..., None], text: Callable[[str], None]
) -> Any:
    """An expat parser with these handlers that raises ``DtdFound`` at a DTD or an entity
    declaration (no entity expansion bomb gets to be read), for every XML part csvsync scans."""

    def refuse(*_: object) -> None:
        raise DtdFound()

    parser: Any = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    return parser


@dataclass(frozen=True)
class SheetScan:
    """What the raw worksheet XML says: its extent and its Excel error cells."""

    rows: int  # the highest row number holding a cell (1-based), or named by a <row r>
    columns: int  # the highest column holding a cell (1-based)
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


def _column_number(letters: str | bytes) -> int:
    number = 0
    for char in letters.upper() if isinstance(letters, str) else letters.upper().decode():
        number = number * 26 + ord(char) - ord("A") + 1
    return number


# --- the container ---------------------------------------------------------------------------


def check_xlsx_safe(path: Path, limits: XlsxLimits = XlsxLimits()) -> None:
    """Refuse files that are not a workbook zip, that would expand past ``limits``, or whose
    shared strings table declares more strings than ``limits`` allow.

    Uses the sizes the zip's central directory declares (reads are bounded by them, and a
    stream longer than declared fails its CRC); ``scan_sheet`` later bounds the worksheet by
    what it really holds.
    """
    try:
        with path.open("rb") as handle:
            magic = handle.read(8)
    except OSError as exc:
        raise _fail(
            path, f"cannot be read ({exc.strerror})", "check the path and permissions"
        ) from None
    if magic.startswith(OLE2_MAGIC):
        if sniff(path) is XLS:
            raise _fail(path, f"is {XLS.name}, not an XLSX workbook", XLS.advice)
        raise _fail(
            path,
            "is a password-protected or legacy Excel file, not an XLSX workbook",
            "remove the password / save it as .xlsx",
        )
    if not magic.startswith(ZIP_MAGICS):
        found = sniff(path)  # CSV text named .xlsx, a PDF, an image...
        if found is not None:
            raise _fail(
                path, f"is {found.name}, not an XLSX workbook (not a zip archive)", found.advice
            )
        raise _fail(
            path, "is not an XLSX workbook (not a zip archive)", "save it from Excel as .xlsx"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            check_entries(path, archive.infolist(), limits)
            package = Package(path, archive)
            package.check_shared_strings(limits)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise _fail(path, f"is truncated or damaged ({exc})", _HINT_RESAVE) from None
    except NotImplementedError as exc:  # a zip version or method Python cannot read
        raise _fail(path, f"uses a zip format csvsync cannot read ({exc})", _HINT_RESAVE) from None


def check_entries(path: Path, entries: list[zipfile.ZipInfo], limits: XlsxLimits) -> None:
    """Refuse a zip (an XLSX or an ODS) of too many entries, a bomb, or two entries one name."""
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
    seen: dict[str, str] = {}
    for entry in entries:
        # calamine finds entries ignoring ASCII case and with \ read as /: two entries that
        # fold to one name would let it read one while this guard scans the other.
        folded = ascii_lower(entry.filename.replace("\\", "/"))
        if folded in seen:
            raise _fail(
                path,
                f"holds two entries named {seen[folded]!r} and {entry.filename!r}",
                _HINT_RESAVE,
            )
        seen[folded] = entry.filename
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


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


# --- the worksheet ---------------------------------------------------------------------------


def scan_sheet(path: Path, xml: bytes, sheet_name: str, limits: XlsxLimits) -> SheetScan:
    """Bound the sheet's extent and find its error cells, refusing sheets past ``limits``.

    A sheet with a DTD is refused (no valid worksheet has one; entity definitions are how XML
    bombs work): the fast scan sends it to the parsed one, which stops at its start.
    """
    _check_dimension(path, xml, sheet_name, limits)
    scan = _fast_scan(path, xml, sheet_name, limits)
    if scan is None:
        scan = _parsed_scan(path, xml, sheet_name, limits)
    check_extent(path, sheet_name, scan.rows, scan.columns, limits)
    return scan


def _check_dimension(path: Path, xml: bytes, sheet_name: str, limits: XlsxLimits) -> None:
    # The dimension element is near the top; it is a claim, not a bound (calamine sizes nothing
    # by it past 100,000 cells), so a lie in it is caught by the extent check, but an honest
    # huge one fails fast here.
    match = _DIMENSION.search(xml, 0, 65_536)
    if not match:
        return
    last = match.group(1).decode("ascii", "replace").split(":")[-1]
    ref = _REF.fullmatch(last)
    if ref and ref.group(1):
        check_extent(
            path, sheet_name, int(ref.group(2)), _column_number(ref.group(1)), limits, "declares"
        )


@lru_cache(maxsize=8)
def _plain_forms(prefix: bytes) -> re.Pattern[bytes]:
    """Any start tag of a row or cell that is not in the plain form, for one element prefix.

    The plain form is what Excel, LibreOffice, openpyxl and xlsxwriter write (and, with an
    ``x:`` prefix, .NET's Open XML SDK): ``<c r="B12"`` and ``<row r="12"`` with ``r`` first,
    followed by ``key="value"`` attributes separated by one space, none of them another ``r``.
    A cell in the plain form is placed by its ``r`` alone, so the extent is the largest ``r``.
    Matched too: a row or cell element with any other prefix (calamine matches local names).
    """
    p = re.escape(prefix)
    # Possessive quantifiers (*+, ++): nothing to backtrack into, about twice as fast.
    attrs = rb'(?: (?!r=)[^\s="<>/]++="[^"]*+")*+\s*+/?>'
    other = rb"[^\s<>/!?:]*+:(?:c|row)[\s/>]"  # a prefixed row or cell
    if prefix:
        other = rb"(?:c|row)[\s/>]|(?!" + p + rb")" + other  # no prefix; another prefix
    return re.compile(
        rb"<(?:!(?:DOCTYPE|ENTITY)"
        rb"|" + p + rb'c(?! r="[A-Z]{1,3}+[0-9]++"' + attrs + rb")[\s/>]"
        rb"|" + p + rb'row(?! r="[0-9]++"' + attrs + rb")[\s/>]"
        rb"|" + other + rb")"
    )


def _gt_number(number: int) -> bytes:
    """A regex for decimal numbers (leading zeros allowed) greater than ``number``."""
    digits = str(number)
    alternatives = [b"[1-9][0-9]{%d,}" % len(digits)]
    for i, digit in enumerate(digits):
        if digit != "9":
            rest = len(digits) - i - 1
            alternatives.append(
                digits[:i].encode() + b"[%d-9]" % (int(digit) + 1) + (b"[0-9]{%d}" % rest)
            )
    return b"0*(?:" + b"|".join(alternatives) + b')"'


def _gt_letters(letters: str) -> bytes | None:
    """A regex for column letters (one to three, upper case) after ``letters``."""
    alternatives = [b"[A-Z]{%d,3}" % (len(letters) + 1)] if len(letters) < 3 else []
    for i, char in enumerate(letters):
        if char != "Z":
            rest = len(letters) - i - 1
            alternatives.append(
                letters[:i].encode() + b"[%c-Z]" % (ord(char) + 1) + (b"[A-Z]{%d}" % rest)
            )
    return b"(?:" + b"|".join(alternatives) + b")" if alternatives else None


def _beyond(prefix: bytes, rows: int, letters: str) -> re.Pattern[bytes]:
    """A plain row or cell tag past row ``rows`` or column ``letters``; or a value far below
    zero (see ``_DATE_FLOOR``)."""
    p = re.escape(prefix)
    number = _gt_number(rows)
    forms = [p + b'row r="' + number, p + b'c r="[A-Z]{1,3}' + number, p + b"v>" + _FAR_NEGATIVE]
    wider = _gt_letters(letters)
    if wider is not None:
        forms.append(p + b'c r="' + wider + b"[0-9]")
    return re.compile(b"<(?:" + b"|".join(forms) + b")")


def _fast_scan(path: Path, xml: bytes, sheet_name: str, limits: XlsxLimits) -> SheetScan | None:
    """Extent and error cells by byte searches, or None when the XML is not in the plain form.

    Three passes at C speed, none per cell in Python: one for anything not in the plain form
    (``_plain_forms``), one for a row or cell past the largest row and column seen at the
    file's end (``_beyond``; it is rebuilt and resumed in the rare file whose largest cell is
    elsewhere), one for error cells.
    """
    head = _SHEET_DATA.search(xml)
    prefix = (head.group(1) or b"") if head else b""
    if _plain_forms(prefix).search(xml):
        return None
    cell, row = b"<" + prefix + b'c r="', b"<" + prefix + b'row r="'
    rows, letters = 0, ""
    last_cell = xml.rfind(cell)
    if last_cell >= 0:
        rows, letters = _plain_ref(xml, last_cell + len(cell))
    last_row = xml.rfind(row)
    if last_row >= 0:
        rows = max(rows, _plain_row(xml, last_row + len(row)))
    first_end = xml.find(b"</" + prefix + b"row>")
    header_cell = xml.rfind(cell, 0, first_end) if first_end >= 0 else -1
    if header_cell >= 0:
        letters = max(letters, _plain_ref(xml, header_cell + len(cell))[1], key=_column_number)
    value = b"<" + prefix + b"v>"
    pos, rounds = 0, 0
    pattern = _beyond(prefix, rows, letters)
    while (match := pattern.search(xml, pos)) is not None:
        tag, pos = match.group(0), match.end()
        if tag.startswith(value):
            _check_far_below_zero(path, sheet_name, xml, match.start(), prefix)
            continue
        if tag.startswith(row):
            rows = max(rows, _plain_row(xml, match.start() + len(row)))
        else:
            r, c = _plain_ref(xml, match.start() + len(cell))
            rows, letters = max(rows, r), max(letters, c, key=_column_number)
        check_extent(path, sheet_name, rows, _column_number(letters), limits)
        rounds += 1
        if rounds > 64:  # cells in no useful order: read every reference once
            far = re.compile(re.escape(value) + _FAR_NEGATIVE)
            for found in far.finditer(xml, pos):
                _check_far_below_zero(path, sheet_name, xml, found.start(), prefix)
            return _exact_plain_scan(xml, prefix)
        pattern = _beyond(prefix, rows, letters)
    return SheetScan(rows=rows, columns=_column_number(letters), errors=_errors(xml, prefix))


def _check_far_below_zero(path: Path, sheet_name: str, xml: bytes, at: int, prefix: bytes) -> None:
    """Refuse the value starting at ``at`` (a plain ``<v>``) if it is a number below
    ``_DATE_FLOOR`` in a cell with a style and a numeric type."""
    start = at + len(prefix) + 3
    text = xml[start : xml.find(b"<", start)]
    if _NUMBER.fullmatch(text) is None or float(text) > _DATE_FLOOR:
        return
    opening = xml.rfind(b"<" + prefix + b'c r="', 0, at)
    tag = xml[opening : xml.find(b">", opening) + 1]
    numeric = b' t="' not in tag or b' t="n"' in tag
    if b' s="' in tag and numeric:
        ref = _PLAIN_REF.match(tag, len(prefix) + 6)
        where = ref.group(1).decode() + ref.group(2).decode() if ref else "?"
        _refuse_far_below_zero(path, sheet_name, where, text.decode("ascii", "replace"))


def _refuse_far_below_zero(path: Path, sheet_name: str, where: str, text: str) -> NoReturn:
    raise _fail(
        path,
        f"sheet {sheet_name!r}, cell {where}: {text[:30]} is below -100,000,000,000, which the "
        "reader cannot turn into a date or duration",
        "fix that cell",
    )


def _plain_ref(xml: bytes, at: int) -> tuple[int, str]:
    match = _PLAIN_REF.match(xml, at)
    assert match is not None  # the plain form was checked
    return int(match.group(2)), match.group(1).decode()


def _plain_row(xml: bytes, at: int) -> int:
    match = _ROW_NUMBER.match(xml, at)
    assert match is not None
    return int(match.group(1))


def _exact_plain_scan(xml: bytes, prefix: bytes) -> SheetScan:
    p = re.escape(prefix)
    refs = re.findall(b"<" + p + rb'c r="([A-Z]{1,3})([0-9]+)"', xml)
    numbers = re.findall(b"<" + p + rb'row r="([0-9]+)"', xml)
    rows = max((int(n) for n in numbers), default=0)
    rows = max(rows, max((int(n) for _, n in refs), default=0))
    columns = max((_column_number(c) for c in {c for c, _ in refs}), default=0)
    return SheetScan(rows=rows, columns=columns, errors=_errors(xml, prefix))


def _errors(xml: bytes, prefix: bytes) -> tuple[tuple[int, int, str], ...]:
    if xml.find(b't="e"') < 0:
        return ()
    p = re.escape(prefix)
    cell = re.compile(b"<" + p + rb'c r="([A-Z]{1,3})([0-9]+)"[^>]*?\st="e"[^>]*?(/?)>')
    value = re.compile(b"<" + p + rb"v>([^<]*)</" + p + b"v>") if prefix else _CELL_VALUE
    found = []
    for match in cell.finditer(xml):
        text = "#ERROR"
        if not match.group(3):  # not self-closing: the cached error text is in its <v>
            end = xml.find(b"</" + prefix + b"c>", match.end())
            cached = value.search(xml, match.end(), end if end >= 0 else len(xml))
            if cached:
                text = cached.group(1).decode("utf-8", "replace")
        found.append((int(match.group(2)), _column_number(match.group(1)), text))
    return tuple(found)


def _parsed_scan(path: Path, xml: bytes, sheet_name: str, limits: XlsxLimits) -> SheetScan:
    """Walk the XML with expat and place every cell as calamine does (see the module doc).

    Only the first ``sheetData`` counts, as for calamine; a cell's content (``<v>``, ``<is>``,
    ``<f>``) is opaque, so a row or cell element inside a cell is not a row or a cell.
    Positions are 0-based here, as in calamine; the extent is 1-based.
    """
    at = {"row": 0, "col": 0, "rows": 0, "cols": 0, "depth": 0}  # depth inside a cell
    state = {"in": False, "done": False, "error": False, "dated": False, "in_v": False}
    errors: list[tuple[int, int, str]] = []
    pending: list[str] = []  # text of the current error cell's <v>
    place = (0, 0)

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal place
        if state["done"]:
            return
        local = name.split(":", 1)[-1]
        if not state["in"]:
            state["in"] = local == "sheetData"
            return
        if at["depth"]:
            at["depth"] += 1
            wanted = state["error"] or state["dated"]
            state["in_v"] = wanted and at["depth"] == 2 and local == "v"
            return
        if local == "row":
            if "r" in attrs:
                at["row"] = _row_number(attrs["r"]) - 1
        elif local == "c":
            place = _cell_position(attrs["r"]) if "r" in attrs else (at["row"], at["col"])
            at["col"] = place[1] + 1
            at["rows"] = max(at["rows"], place[0] + 1)
            at["cols"] = max(at["cols"], place[1] + 1)
            if at["rows"] > limits.max_rows or at["cols"] > limits.max_columns:
                check_extent(path, sheet_name, at["rows"], at["cols"], limits)
            at["depth"] = 1
            state["error"] = attrs.get("t") == "e"
            state["dated"] = "s" in attrs and attrs.get("t", "n") == "n"  # see _DATE_FLOOR
            pending.clear()

    def end(name: str) -> None:
        if state["done"] or not state["in"]:
            return
        local = name.split(":", 1)[-1]
        if at["depth"]:
            at["depth"] -= 1
            if state["in_v"] and state["dated"]:
                text = "".join(pending).encode("utf-8", "replace")
                if _NUMBER.fullmatch(text) and float(text) <= _DATE_FLOOR:
                    where = f"{column_letters(place[1] + 1)}{place[0] + 1}"
                    _refuse_far_below_zero(path, sheet_name, where, text.decode())
            state["in_v"] = False
            if at["depth"] == 0 and state["error"]:
                errors.append((place[0] + 1, place[1] + 1, "".join(pending) or "#ERROR"))
                state["error"] = False
            return
        if local == "row":
            at["row"] += 1
            at["col"] = 0
        elif local == "sheetData":
            state["done"] = True

    def text(data: str) -> None:
        if state["in_v"]:
            pending.append(data)

    parser = guarded_parser(start, end, text)
    try:
        parser.Parse(xml, True)
    except DtdFound:
        problem = f"sheet {sheet_name!r} contains a DTD"
        raise _fail(path, problem, "save it again from Excel") from None
    except (expat.ExpatError, ValueError, Damaged) as exc:
        raise _fail(
            path, f"sheet {sheet_name!r} is damaged ({_one_line(exc)})", "save it again from Excel"
        ) from None
    return SheetScan(rows=at["rows"], columns=at["cols"], errors=tuple(errors))


def _cell_position(ref: str) -> tuple[int, int]:
    """calamine's ``get_row_column``: 0-based (row, column); anything else is an error."""
    match = _REF.fullmatch(ref)
    if match is None or not match.group(1) or int(match.group(2)) == 0:
        raise Damaged(f"cell reference {ref[:20]!r}")
    return int(match.group(2)) - 1, _column_number(match.group(1)) - 1


def _row_number(ref: str) -> int:
    """calamine's ``get_row``: letters are allowed and ignored; 1-based."""
    match = _REF.fullmatch(ref)
    if match is None or int(match.group(2)) == 0:
        raise Damaged(f"row number {ref[:20]!r}")
    return int(match.group(2))


def check_extent(
    path: Path,
    sheet_name: str,
    rows: int,
    columns: int,
    limits: XlsxLimits,
    verb: str = "has",
) -> None:
    """Refuse a sheet past ``limits`` in rows, columns or its rows x columns rectangle."""
    where = f"sheet {sheet_name!r} {verb}"
    if rows > limits.max_rows:
        raise _fail(
            path, f"{where} {rows:,} rows, more than the limit of {limits.max_rows:,}", _HINT_SPLIT
        )
    if columns > limits.max_columns:
        raise _fail(
            path,
            f"{where} {columns:,} columns, more than the limit of {limits.max_columns:,}",
            _HINT_SPLIT,
        )
    if rows * columns > limits.max_cells:
        raise _fail(
            path,
            f"{where} cells up to row {rows:,} and column {column_letters(columns)}: "
            f"{rows * columns:,} cells, more than the limit of {limits.max_cells:,}",
            _HINT_SPLIT,
        )


def check_total(path: Path, cells: int, limits: XlsxLimits) -> None:
    """Refuse a workbook whose sheets, all built at once (ODS, XLS), pass ``max_cells`` together."""
    if cells > limits.max_cells:
        raise _fail(
            path,
            f"has {cells:,} cells in all its sheets together, more than the limit of "
            f"{limits.max_cells:,}",
            _HINT_SPLIT,
        )

"""Reading a CSV, XLSX, ODS or XLS sheet into a DataFrame, with the row numbers a user sees in
Excel.

This module owns the first stage of the pipeline: a file path in, a ``Sheet`` out, or one
``SheetError`` line that names the file, the problem and what to do. It never guesses types:

* CSV cells are text (``""`` when empty). UTF-8 with or without BOM unless ``encoding`` is
  given; the delimiter is sniffed among ``, ; TAB |`` unless given (``.tsv`` means TAB). A cell
  written as ``'=...``, ``'+...``, ``'-...`` or ``'@...`` (csvsync's own formula-safe export
  escape; also ``''=...`` for a value that itself starts with ``'=``) is read without its first
  apostrophe.
* XLSX cells keep the type Excel stored, as calamine and pandas give it: ``str``; ``int`` for
  integral numbers and ``float`` otherwise (Excel stores every number as a double, and pandas
  turns integral ones into ``int``); ``datetime.datetime`` for date and date-time cells (a
  date-only cell is midnight); ``datetime.time`` for time-only cells; ``datetime.timedelta``
  for durations; ``bool``. Formula cells hold their cached value (``""`` if the file has none,
  as with files written by openpyxl). Empty cells are ``""``. Excel error cells (``#REF!``,
  ``#N/A``, ...) hold their error text and are flagged in ``Sheet.error_cells``: calamine reads
  them as empty, so ``xlsxguard`` finds them in the worksheet XML.
* ODS (LibreOffice) and legacy XLS cells go through the same calamine and pandas path as XLSX,
  so they come out with the same types (an ODS boolean is a ``bool``, a date a
  ``datetime.datetime``). Each is first checked by its own guard (``odsguard``, ``xlsguard``),
  since calamine builds every sheet of these files when it opens them. Their error cells are
  not flagged: calamine reads an ODS error as its cached number and an XLS one as the error.

A cell the reader refuses makes its row invalid, never the file: one longer than
``SheetOptions.max_cell_chars`` (1,000,000 characters), or one holding a C0 control character other
than tab, line feed and carriage return (a NUL, an escape, ...: Webflow documents nothing about
them, but XML 1.0 forbids them, HTML parsers reject or replace them, and a NUL cuts a string
short in many programs). ``Sheet.cell_problems`` holds their messages; ``pipeline/drafts.py``
turns them into the row's error, and the converters never see such a cell. A file whose bytes
show another format (an XLSX workbook named ``.csv``, a PDF, ...) is refused with what it is.

The header is the first row; header names are stripped. The frame's index is the source row
number (header = 1, first data row = 2). Fully empty data rows are dropped, keeping the others'
numbers; a column with neither a header nor any data (a stray trailing delimiter, a formatted
but empty column) is dropped too. In a CSV, a row number counts records, not physical lines:
a quoted cell spanning three lines is still one row, as in a spreadsheet application.
"""

from __future__ import annotations

import _csv
import codecs
import csv
import io
import re
import sys
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TextIO

import numpy as np
import pandas as pd
from python_calamine import CalamineError

from csvsync.errors import SheetError
from csvsync.options import SheetOptions, XlsxLimits
from csvsync.sheets.filetype import TEXT, sniff
from csvsync.sheets.odsguard import check_ods_safe
from csvsync.sheets.xlsguard import check_xls_safe
from csvsync.sheets.xlsxguard import SheetScan, check_xlsx_safe, column_letters, scan_sheet
from csvsync.sheets.xlsxparts import Package, damaged_part

__all__ = [
    "Sheet",
    "SheetOptions",
    "XlsxLimits",
    "check_xlsx_safe",
    "read_sheet",
]

CSV_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})
ODS_SUFFIXES = frozenset({".ods"})
XLS_SUFFIXES = frozenset({".xls"})
SUFFIXES_HINT = "use .csv, .tsv, .txt, .xlsx, .xlsm, .ods or .xls"
SNIFF_DELIMITERS = ",;\t|"
_SNIFF_CHARS = 65_536
_SNIFF_LINES = 50
# No field limit in the csv module: a cell too long is a row error (max_cell_chars), not a file
# that cannot be read. 2**31 - 1 is the largest a C long holds everywhere.
_CSV_FIELD_LIMIT = 2**31 - 1
# C0 control characters but tab, line feed and carriage return.
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r")
_NOT_CONTROL = bytes(sorted(set(range(256)) - set(_CONTROL_BYTES)))
_CONTROL = re.compile("[" + re.escape(_CONTROL_BYTES.decode("ascii")) + "]")
_C0_NAMES = [
    "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT", "FF", "CR",
    "SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC",
    "FS", "GS", "RS", "US",
]  # fmt: skip
# One apostrophe comes off a cell whose apostrophes lead to a formula character, so a value that
# itself starts with "'=" survives an export and a read ("''=x" -> "'=x").
_FORMULA_ESCAPE = r"'+[=+\-@]"
_RESAVE = "save it again from Excel as .xlsx"
_UTF8_HINT = (
    "if it was saved as Latin-1 or Windows-1252 pass --encoding latin-1 (or cp1252); "
    "for UTF-16 pass --encoding utf-16"
)


@dataclass(frozen=True, eq=False)
class Sheet:
    """A sheet as read: header names as columns, source row numbers as the index."""

    path: Path
    kind: str  # "csv" | "xlsx" | "ods" | "xls"
    frame: pd.DataFrame
    error_cells: pd.DataFrame | None  # bool mask like ``frame``; None when no error cells
    # Why the reader refuses a cell (too long, a control character), like ``frame`` (None where
    # the cell is fine); None when no cell is refused. The cell keeps its value in ``frame``.
    cell_problems: pd.DataFrame | None = None


def read_sheet(path: Path | str, options: SheetOptions = SheetOptions()) -> Sheet:
    """Read ``path`` as CSV, XLSX, ODS or XLS (by its extension); raise ``SheetError`` if it
    cannot."""
    path = Path(path)
    kind = _kind(path)
    errors: np.ndarray | None = None
    clues = _Clues()
    if kind == "csv":
        grid, clues = _read_csv(path, options)
    else:
        grid, errors = _read_workbook(path, kind, options)
    frame, error_cells = _table(path, grid, errors)
    if kind == "csv":
        frame = _unescape_formulas(frame)
    problems = _cell_problems(frame, options.max_cell_chars, clues)
    return Sheet(path=path, kind=kind, frame=frame, error_cells=error_cells, cell_problems=problems)


def _fail(path: Path, problem: str, hint: str | None = None) -> SheetError:
    return SheetError(f"{path}: {problem}", hint)


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _kind(path: Path) -> str:
    if not path.exists():
        raise _fail(path, "file not found", "check the path")
    if path.is_dir():
        raise _fail(path, "is a directory, not a sheet file", "name a .csv, .xlsx or .ods file")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in XLSX_SUFFIXES:
        return "xlsx"
    found = sniff(path)
    kind = "ods" if suffix in ODS_SUFFIXES else "xls" if suffix in XLS_SUFFIXES else None
    if found is not None and found.code != suffix[1:] and (found is not TEXT or kind is not None):
        # An XLSX workbook named .xls, a PDF named .ods, CSV text from a web export named .xls:
        # say what it is.
        named = f", not a {suffix} file" if suffix else " without an extension"
        raise _fail(path, f"is {found.name}{named}", found.advice)
    if kind is not None:
        return kind
    raise _fail(path, f"unknown sheet file type {suffix or '(no extension)'!r}", SUFFIXES_HINT)


# --- CSV -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Clues:
    """What reading a file learned about refused cells; None: unknown, look at every cell."""

    controls: bool | None = None  # the file holds a C0 control character somewhere
    long: bool | None = None  # some record is longer than max_cell_chars


def _read_csv(path: Path, options: SheetOptions) -> tuple[pd.DataFrame, _Clues]:
    """The positional grid of a CSV file (row 0 = header), every cell a ``str``.

    Two passes over the file, neither of which holds its text: ``_scan_csv`` streams it through
    the checks (decoding, strict quoting, the row and column limits, field counts) and keeps
    only counts and the header; pandas' C reader then builds the grid. Decoding the whole file
    and parsing it into Python lists first, as ``_read_csv_in_memory`` does, peaks at ~8x the
    file size; this peaks at ~3x. The in-memory reader remains the reference: it is used
    whenever pandas cannot be trusted to read the file as ``csv.reader`` does (NUL characters,
    an odd delimiter, any disagreement in shape or header). Its errors come in the same order,
    but for the row limit, which the scan applies as soon as it is passed. A third pass over the
    bytes looks for control characters (``_has_control_bytes``).
    """
    head = _head_bytes(path)
    found = sniff(path)
    if found is not None and found is not TEXT:
        raise _fail(path, f"is {found.name}, not CSV text", found.advice)
    codec, skip = _codec(path, head, options.encoding)
    codec = _stream_codec(codec, head)
    delimiter = options.delimiter or _sniff(path, _head_text(path, codec, skip, options.encoding))
    if len(delimiter) != 1:
        # A file that cannot be decoded is reported first, as when the file was read whole.
        _check_decodes(path, codec, skip, options.encoding)
        raise _fail(path, f"delimiter {delimiter!r} is not one character", "pass e.g. ';'")
    if delimiter in _NOT_DELIMITERS:
        # The quote character or a line break cannot separate cells (Python 3.13's csv refuses
        # them outright; earlier versions read nonsense).
        _check_decodes(path, codec, skip, options.encoding)
        raise _fail(path, f"delimiter {delimiter!r} cannot separate cells", "pass e.g. ';' or ','")
    scan = _scan_csv(path, codec, skip, delimiter, options)
    if scan.pandas_safe:
        grid = _pandas_grid(path, codec, skip, delimiter)
        if grid is not None and scan.agrees_with(grid):
            # In UTF-8 and single-byte codecs a control character is its own byte: one pass over
            # the bytes at C speed spares looking at every cell (there is none, nearly always).
            controls = _has_control_bytes(path, skip) if _byte_transparent(codec) else None
            return grid, _Clues(controls=controls, long=scan.long)
    return _read_csv_in_memory(path, options.encoding, delimiter, options.limits), _Clues()


def _read_csv_in_memory(
    path: Path, encoding: str | None, delimiter: str, limits: XlsxLimits = XlsxLimits()
) -> pd.DataFrame:
    """The reference reader: the whole text, ``csv.reader`` records, a frame built from them."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc.strerror})", "check its permissions") from None
    text = _decode(path, raw, encoding)
    del raw
    records = _parse_csv(path, text, delimiter)
    if not records or not records[0]:
        raise _fail(path, "has no header row (the file or its first line is empty)")
    _check_length(path, len(records), limits.max_rows)
    _check_width(path, len(records[0]), limits.max_columns)
    _check_field_counts(path, text, delimiter, records)
    del text
    width = len(records[0])
    blank = [""] * width
    # csv gives [] for a blank line; it is an empty row that keeps its place in the numbering.
    return pd.DataFrame([record or blank for record in records], dtype=object)


@dataclass
class _CsvScan:
    """What the streaming pass learned: enough to cross-check pandas' grid, no cells."""

    header: list[str]
    records: int  # blank ones included: they keep their place in the numbering
    nul: bool  # a NUL character: pandas' C reader ends a cell there, csv.reader does not
    odd_delimiter: bool
    long: bool = False  # a record longer than max_cell_chars: some cell may be too long

    @property
    def pandas_safe(self) -> bool:
        return not (self.nul or self.odd_delimiter)

    def agrees_with(self, grid: pd.DataFrame) -> bool:
        if grid.shape != (self.records, len(self.header)):
            return False
        return [str(v) for v in grid.iloc[0]] == self.header


class _Lines:
    """Physical lines of a text stream, counted; one line can be handed back for re-reading.

    ``csv.reader`` pulls from this too, so ``count`` is the physical line number reached, as
    ``reader.line_num`` was when a single reader read the whole file.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._again: str | None = None
        self.count = 0
        self.chars = 0  # characters handed out, a line handed back and again counted once
        self.nul = False

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self._again is not None:
            line, self._again = self._again, None
            return line
        line = next(self._stream)
        if self.count == 0:
            line = line.removeprefix("\ufeff")
        self.count += 1
        self.chars += len(line)
        self.nul = self.nul or "\x00" in line
        return line

    def again(self, line: str) -> None:
        self._again = line


def _scan_csv(path: Path, codec: str, skip: int, delimiter: str, options: SheetOptions) -> _CsvScan:
    """Stream the file through every check ``_read_csv_in_memory`` makes, keeping no rows.

    Errors come in the order the in-memory reader raises them: decoding, then quoting, then a
    missing header, then field counts.
    """
    try:
        with _open_text(path, codec, skip) as stream:
            return _scan_records(path, _Lines(stream), delimiter, options)
    except UnicodeError:
        _raise_decode_error(path, options.encoding)
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc.strerror})", "check its permissions") from None


def _check_decodes(path: Path, codec: str, skip: int, encoding: str | None) -> None:
    try:
        with _open_text(path, codec, skip) as stream:
            for _ in stream:
                pass
    except UnicodeError:
        _raise_decode_error(path, encoding)
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc.strerror})", "check its permissions") from None


def _scan_records(path: Path, lines: _Lines, delimiter: str, options: SheetOptions) -> _CsvScan:
    reader = _reader(lines, delimiter)
    # A line without a quote character is a whole record whose fields are its delimiters + 1:
    # counted at C speed instead of being split into strings. Lines with a quote (and the
    # lines a quoted cell spans) go through csv.reader, which also enforces strict quoting.
    odd = delimiter in '"\r\n'
    header: list[str] | None = None
    records = 0
    count_problem: str | None = None
    longest = 0  # characters of the longest record: no cell is longer
    max_chars, limits = options.max_cell_chars, options.limits
    for line in lines:
        before = lines.chars - len(line)
        if odd or '"' in line:
            lines.again(line)
            try:
                record = next(reader)
            except csv.Error as exc:
                raise _fail(
                    path,
                    f"is not valid CSV at line {max(lines.count, 1)}: {_one_line(exc)}",
                    "check the quoting on that line",
                ) from None
            fields = len(record)
            longest = max(longest, lines.chars - before)
        else:
            longest = max(longest, len(line))
            body = line.rstrip("\r\n")  # a line holds at most one terminator (newline="")
            fields = body.count(delimiter) + 1 if body else 0
            # Only the header's cells are kept; csv.reader gives [] for a blank line.
            record = body.split(delimiter) if header is None and body else []
        if header is None:
            header = record
        elif fields and fields != len(header) and count_problem is None:
            row = records + 1
            where = f"row {row}" + (f" (line {lines.count})" if lines.count != row else "")
            count_problem = (
                f"{where} has {fields} fields but the header has {len(header)} "
                f"(mixed delimiters? reading with {delimiter!r})"
            )
        records += 1
        if records > limits.max_rows:
            # At once, not after the file: 100 MB of blank lines would take a minute to count.
            _check_length(path, records, limits.max_rows)
    if not header:
        raise _fail(path, "has no header row (the file or its first line is empty)")
    _check_width(path, len(header), limits.max_columns)
    if count_problem is not None:
        raise _fail(path, count_problem, "fix that row, or pass --delimiter")
    return _CsvScan(header, records, nul=lines.nul, odd_delimiter=odd, long=longest > max_chars)


def _pandas_grid(path: Path, codec: str, skip: int, delimiter: str) -> pd.DataFrame | None:
    """pandas' C reader over the (already checked) file; None if it refuses it."""
    options: dict[str, Any] = {
        "sep": delimiter,
        "header": None,
        "dtype": object,  # cells stay the parsed str objects: no inference, no NaN
        "keep_default_na": False,
        "na_filter": False,
        "skip_blank_lines": False,  # a blank line is a record: it keeps its row number
        "quoting": csv.QUOTE_MINIMAL,
        "quotechar": '"',
        "doublequote": True,
        "escapechar": None,
        "engine": "c",
    }
    try:
        if codec == "utf-8":
            # Bytes straight to the C reader (no decode and re-encode), past our BOM.
            with path.open("rb") as binary:
                binary.seek(skip)
                return pd.read_csv(binary, encoding="utf-8", **options)
        with path.open(encoding=codec, newline="") as text:
            return pd.read_csv(text, **options)
    except (ValueError, OSError):  # ParserError, EmptyDataError and UnicodeError included
        return None


def _stream_codec(codec: str, head: bytes) -> str:
    """The codec for incremental decoding that reads as ``bytes.decode(codec)`` does.

    Without a BOM, ``bytes.decode("utf-16")`` assumes the machine's byte order, but the
    incremental decoder refuses the stream; name the byte order it would have assumed.
    """
    boms = {"utf-16": (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE),
            "utf-32": (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)}  # fmt: skip
    if codec in boms and not head.startswith(boms[codec]):
        return f"{codec}-{'le' if sys.byteorder == 'little' else 'be'}"
    return codec


def _head_bytes(path: Path) -> bytes:
    try:
        with path.open("rb") as binary:
            return binary.read(4096)
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc.strerror})", "check its permissions") from None


def _head_text(path: Path, codec: str, skip: int, encoding: str | None) -> str:
    """The first characters of the decoded text, enough to sniff the delimiter."""
    try:
        with _open_text(path, codec, skip) as stream:
            head = stream.read(_SNIFF_CHARS + 1)
    except UnicodeError:
        _raise_decode_error(path, encoding)
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc.strerror})", "check its permissions") from None
    return head.removeprefix("\ufeff")[:_SNIFF_CHARS]


def _open_text(path: Path, codec: str, skip: int) -> TextIO:
    binary = path.open("rb")
    try:
        binary.seek(skip)
        # newline="": line ends stay as written, so csv.reader sees \r\n inside quoted cells.
        return io.TextIOWrapper(binary, encoding=codec, errors="strict", newline="")
    except BaseException:
        binary.close()
        raise


def _raise_decode_error(path: Path, encoding: str | None) -> NoReturn:
    """Name the undecodable byte by its place in the file: the whole-file decode knows it."""
    raw = path.read_bytes()
    _decode(path, raw, encoding)
    # The incremental decoder failed where the whole-file one did not: still refuse the file.
    codec = _codec(path, raw[:4096], encoding)[0]
    raise _fail(path, f"is not valid {codec}", _UTF8_HINT if encoding is None else None)


def csv_records(path: Path, options: SheetOptions = SheetOptions()) -> tuple[list[list[str]], str]:
    """A CSV file's raw records and delimiter, decoded and split exactly as ``read_sheet`` does
    (``--write-back`` rewrites one column of them)."""
    raw = path.read_bytes()
    text = _decode(path, raw, options.encoding)
    delimiter = options.delimiter or _sniff(path, text)
    return _parse_csv(path, text, delimiter), delimiter


_ENCODING_HINT = "use e.g. utf-8, latin-1, cp1252, utf-16"


def _codec(path: Path, head: bytes, encoding: str | None) -> tuple[str, int]:
    """The codec to read with and the length of a UTF-8 BOM to skip; ``head`` starts the file."""
    wide = _wide_encoding(head)
    if encoding is None:
        if wide:
            raise _fail(path, f"looks like {wide}, not UTF-8", f"pass --encoding {wide.lower()}")
        codec = "utf-8"
    else:
        try:
            info = codecs.lookup(encoding)
        except LookupError:
            raise _fail(
                path, f"unknown encoding {encoding!r} given to --encoding", _ENCODING_HINT
            ) from None
        # rot13, hex, base64, zlib...: codecs.lookup knows them, but they turn bytes into bytes
        # or str into str, not bytes into text.
        if not getattr(info, "_is_text_encoding", True):
            raise _fail(
                path,
                f"encoding {encoding!r} given to --encoding is not a text encoding",
                _ENCODING_HINT,
            )
        codec = info.name
        if wide and not codec.startswith(("utf-16", "utf-32", "utf_16", "utf_32")):
            raise _fail(path, f"looks like {wide}, not {codec}", f"pass --encoding {wide.lower()}")
    # Strip a UTF-8 BOM ourselves, so error offsets stay offsets into the file.
    skip = len(codecs.BOM_UTF8) if codec == "utf-8" and head.startswith(codecs.BOM_UTF8) else 0
    return codec, skip


def _wide_encoding(head: bytes) -> str | None:
    """The wide Unicode encoding the file's first bytes show, "UTF-16" or "UTF-32": a BOM, or
    the NUL pattern of such text (ASCII in UTF-16 puts a NUL byte at every other place). None
    for anything else, a stray NUL in UTF-8 text included."""
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "UTF-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "UTF-16"
    sample = head[:4096]
    if len(sample) < 4 or sample.count(0) * 4 < len(sample):
        return None
    # The share of NUL bytes at each place modulo 4, and modulo 2.
    quads = [sample[i::4].count(0) / len(sample[i::4]) for i in range(4)]
    if (min(quads[1:]) > 0.6 and quads[0] < 0.2) or (min(quads[:3]) > 0.6 and quads[3] < 0.2):
        return "UTF-32"
    even = sample[0::2].count(0) / len(sample[0::2])
    odd = sample[1::2].count(0) / len(sample[1::2])
    if (odd > 0.4 and even < 0.1) or (even > 0.4 and odd < 0.1):
        return "UTF-16"
    return None


def _decode(path: Path, raw: bytes, encoding: str | None) -> str:
    codec, skip = _codec(path, raw[:4096], encoding)
    hint = _UTF8_HINT if encoding is None else "check the --encoding value"
    try:
        text = raw[skip:].decode(codec)
    except UnicodeDecodeError as exc:
        raise _fail(path, _decode_problem(raw, skip + exc.start, codec), hint) from None
    except UnicodeError as exc:  # idna, punycode, undefined, ...: no position to show
        raise _fail(path, f"is not valid {codec} ({_one_line(exc)})", hint) from None
    return text.removeprefix("\ufeff")


def _byte_transparent(codec: str) -> bool:
    """Whether every control character of the text is its own byte in the file, and no other
    byte is one: UTF-8 and the single-byte codecs (latin-1, cp1252, ...)."""
    if codec == "utf-8":
        return True
    try:
        return len(bytes(range(256)).decode(codec, "replace")) == 256 and bytes(
            _CONTROL_BYTES
        ).decode(codec) == _CONTROL_BYTES.decode("ascii")
    except (UnicodeError, LookupError):
        return False


def _has_control_bytes(path: Path, skip: int) -> bool:
    """Whether the file holds a control byte (see ``_CONTROL_BYTES``): bytes.translate deletes
    every other byte, about 1 ns a byte."""
    try:
        with path.open("rb") as binary:
            binary.seek(skip)
            while chunk := binary.read(1 << 22):
                if chunk.translate(None, _NOT_CONTROL):
                    return True
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc.strerror})", "check its permissions") from None
    return False


def _decode_problem(raw: bytes, offset: int, codec: str) -> str:
    line = raw.count(b"\n", 0, offset) + 1
    column = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
    return (
        f"is not valid {codec}: byte 0x{raw[offset]:02X} at line {line}, column {column} "
        f"(byte offset {offset}) cannot be decoded"
    )


def _sniff(path: Path, text: str) -> str:
    if path.suffix.lower() == ".tsv":
        return "\t"
    sample = "\n".join(text[:_SNIFF_CHARS].splitlines()[:_SNIFF_LINES])
    header = sample.split("\n", 1)[0]
    try:
        sniffed: str | None = csv.Sniffer().sniff(sample, delimiters=SNIFF_DELIMITERS).delimiter
    except csv.Error:
        sniffed = None
    if sniffed and sniffed in header:
        return sniffed
    # The sniffer gives up on one-row files and on rows with ragged counts: fall back to the
    # candidate most frequent in the header line (a one-column file has none: any will do).
    return max(SNIFF_DELIMITERS, key=header.count) if header else ","


_NOT_DELIMITERS = frozenset('"\r\n')


def _reader(source: str | Iterable[str], delimiter: str) -> _csv.Reader:
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)
    lines = io.StringIO(source, newline="") if isinstance(source, str) else source
    # strict: an unbalanced quote is an error, not a cell that silently swallows the file's rest.
    return csv.reader(lines, delimiter=delimiter, strict=True)


def _parse_csv(path: Path, text: str, delimiter: str) -> list[list[str]]:
    reader = _reader(text, delimiter)
    try:
        return list(reader)
    except csv.Error as exc:
        raise _fail(
            path,
            f"is not valid CSV at line {max(reader.line_num, 1)}: {_one_line(exc)}",
            "check the quoting on that line",
        ) from None


def _check_length(path: Path, rows: int, max_rows: int) -> None:
    # Blank lines count: they keep their place in the numbering. The streaming scan stops at
    # the first row past the limit, so it cannot say how many there are.
    if rows > max_rows:
        raise _fail(path, f"has more than {max_rows:,} rows, the limit", "split the sheet")


def _check_width(path: Path, columns: int, max_columns: int) -> None:
    # A 10 MB header of a million columns took minutes and gigabytes to frame: the XLSX
    # column limit holds for CSV too.
    if columns > max_columns:
        raise _fail(
            path,
            f"has {columns:,} columns, more than the limit of {max_columns:,}",
            "remove unused columns or split the sheet",
        )


def _check_field_counts(path: Path, text: str, delimiter: str, records: list[list[str]]) -> None:
    width = len(records[0])
    bad = next(
        (i for i, record in enumerate(records) if record and len(record) != width),
        None,
    )
    if bad is None:
        return
    # Only on failure: re-read up to the bad record to learn its physical line number.
    reader = _reader(text, delimiter)
    for _ in range(bad + 1):
        next(reader)
    line = reader.line_num
    where = f"row {bad + 1}" + (f" (line {line})" if line != bad + 1 else "")
    raise _fail(
        path,
        f"{where} has {len(records[bad])} fields but the header has {width} "
        f"(mixed delimiters? reading with {delimiter!r})",
        "fix that row, or pass --delimiter",
    )


def _unescape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    for name in frame.columns:
        column = frame[name]
        mask = column.str.match(_FORMULA_ESCAPE).fillna(False).astype(bool)
        if mask.any():
            frame.loc[mask, name] = column[mask].str.slice(1)
    return frame


# --- XLSX, ODS, XLS ------------------------------------------------------------------------

# What each workbook kind is called in an error, and how to save it again.
_WORKBOOKS = {
    "xlsx": ("XLSX", _RESAVE),
    "ods": ("ODS", "save it again from LibreOffice as .ods"),
    "xls": ("XLS", "save it again from Excel or LibreOffice, as .xlsx if you can"),
}


def _read_workbook(
    path: Path, kind: str, options: SheetOptions
) -> tuple[pd.DataFrame, np.ndarray | None]:
    # Each guard runs before calamine opens the file: an XLSX's container and shared strings
    # table (opening reads that table), then its sheet before calamine builds the grid; an ODS
    # or XLS whole, since opening one builds every sheet.
    label, resave = _WORKBOOKS[kind]
    if kind == "xlsx":
        check_xlsx_safe(path, options.limits)
    elif kind == "ods":
        check_ods_safe(path, options.limits)
    else:
        check_xls_safe(path, options.limits)
    scan: SheetScan | None = None
    try:
        with pd.ExcelFile(path, engine="calamine") as book:
            name = _pick_sheet(path, [str(n) for n in book.sheet_names], options.sheet_name)
            if kind == "xlsx":
                scan = _scan(path, name, options.limits)
            grid = pd.read_excel(book, sheet_name=name, header=None, dtype=object, na_filter=False)
    except SheetError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise _fail(path, f"is damaged ({_one_line(exc)})", resave) from None
    except (CalamineError, OSError, ValueError, KeyError, OverflowError) as exc:
        # calamine says "Cannot detect file format" for a corrupt part: name the part if so.
        # OverflowError: a duration too long for Python's timedelta.
        if kind == "xlsx":
            damaged_part(path)
        raise _fail(
            path, f"cannot be read as {label} ({type(exc).__name__}: {_one_line(exc)})", resave
        ) from None
    except BaseException as exc:
        # A Rust panic inside python-calamine reaches Python as pyo3's PanicException, which
        # derives from BaseException. The ones known to happen are prevented by the guards.
        if type(exc).__name__ != "PanicException":
            raise
        raise _fail(
            path, f"cannot be read as {label} (the reader failed: {_one_line(exc)})", resave
        ) from None
    if scan is None:
        return grid, None
    return _overlay_errors(grid, scan)


def _pick_sheet(path: Path, names: list[str], wanted: str | None) -> str:
    if not names:
        raise _fail(path, "has no worksheets", "save it again from Excel")
    if wanted is None:
        return names[0]
    if wanted in names:
        return wanted
    # Excel treats sheet names case-insensitively.
    folded = [n for n in names if n.casefold() == wanted.casefold()]
    if len(folded) == 1:
        return folded[0]
    listed = ", ".join(repr(n) for n in names)
    raise _fail(path, f"has no sheet named {wanted!r}; its sheets are {listed}", "fix `sheet:`")


def _scan(path: Path, name: str, limits: XlsxLimits) -> SheetScan:
    # The part calamine will read for this sheet, found as calamine finds it.
    with zipfile.ZipFile(path) as archive:
        xml = Package(path, archive).sheet_xml(name)
    return scan_sheet(path, xml, name, limits)


def _overlay_errors(grid: pd.DataFrame, scan: SheetScan) -> tuple[pd.DataFrame, np.ndarray | None]:
    """Put each error cell's text where calamine left ``""`` and mark it in a bool mask."""
    rows, cols = grid.shape
    hits = [(r - 1, c - 1, text) for r, c, text in scan.errors if r <= rows and c <= cols]
    if not hits:
        return grid, None
    mask = np.zeros((rows, cols), dtype=bool)
    by_column: dict[int, list[tuple[int, str]]] = {}
    for r, c, text in hits:
        mask[r, c] = True
        by_column.setdefault(c, []).append((r, text))
    # One assignment a column, not one per cell (a VLOOKUP column can be all #N/A).
    for c, cells in by_column.items():
        values = grid[grid.columns[c]].to_numpy(dtype=object, copy=True)
        positions, texts = zip(*cells, strict=True)
        values[list(positions)] = list(texts)
        grid[grid.columns[c]] = pd.Series(values, index=grid.index, dtype=object)
    return grid, mask


# --- both ----------------------------------------------------------------------------------


def _table(
    path: Path, grid: pd.DataFrame, errors: np.ndarray | None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Positional grid (row 0 = header) -> frame with header names and source row numbers."""
    if grid.empty or len(grid.columns) == 0:
        raise _fail(path, "has no header row (the file is empty)")
    body = grid.iloc[1:]
    empty = (body == "").to_numpy()  # True where a data cell is empty
    names = [_header_text(value) for value in grid.iloc[0]]
    if not any(names):
        raise _fail(path, "has no header row (its first row is empty)")
    keep = _checked_columns(path, names, empty)
    cols = np.asarray(keep, dtype=np.intp)
    rows = np.flatnonzero(~empty[:, cols].all(axis=1))  # fully empty rows go, numbers stay
    index = pd.Index(rows + 2, name="row")
    columns = [names[j] for j in keep]
    frame = body.take(rows).take(cols, axis=1).set_axis(index, axis=0).set_axis(columns, axis=1)
    if errors is None:
        return frame, None
    mask = errors[1:][rows][:, cols]
    if not mask.any():
        return frame, None
    return frame, pd.DataFrame(mask, index=index, columns=columns)


def _cell_problems(frame: pd.DataFrame, max_chars: int, clues: _Clues) -> pd.DataFrame | None:
    """Messages for the cells the reader refuses (see the module doc), or None.

    A column is looked at as one joined string, at C speed: its length bounds its cells', and
    bytes.translate finds a control character in it. Only a column known to hold a refused
    cell (nearly never) is looked at cell by cell.
    """
    if clues.controls is False and clues.long is False:
        return None
    grid: np.ndarray | None = None
    for j in range(frame.shape[1]):
        column = frame.iloc[:, j].to_numpy(dtype=object)
        messages: dict[int, str] = {}
        # In slices of a few megabytes, not one string of the whole column (100 MB of
        # descriptions): the same memory serves every slice instead of fresh pages each time.
        for start in range(0, len(column), _SLICE):
            found = _slice_problems(column[start : start + _SLICE], max_chars, clues)
            messages.update((start + at, message) for at, message in found.items())
        if messages:
            if grid is None:
                grid = np.full(frame.shape, None, dtype=object)
            for i, message in messages.items():
                grid[i, j] = message
    if grid is None:
        return None
    # dtype=object: pandas 3 would infer a string column and turn None into NaN.
    return pd.DataFrame(grid, index=frame.index, columns=frame.columns, dtype=object)


_SLICE = 4096  # cells per slice of a column in ``_cell_problems``


def _slice_problems(values: np.ndarray, max_chars: int, clues: _Clues) -> dict[int, str]:
    """``_cell_problems`` for a slice of a column: position in the slice -> message."""
    joined = _joined(values) if clues.controls is not False or clues.long is None else None
    messages: dict[int, str] = {}
    if clues.long is not False and (joined is None or len(joined) > max_chars):
        lengths = _lengths(values)
        for at in np.flatnonzero(lengths > max_chars).tolist():
            messages[at] = (
                f"the cell is {lengths[at]:,} characters long; the limit is {max_chars:,}"
            )
    if joined is not None and _has_control(joined):
        for i, value in enumerate(values):
            found = _CONTROL.search(value) if isinstance(value, str) else None
            if found is not None and i not in messages:
                code = ord(found.group())
                messages[i] = (
                    f"holds the control character U+{code:04X} ({_C0_NAMES[code]}) at "
                    f"character {found.start() + 1:,}, which csvsync does not send: remove it"
                )
    return messages


def _joined(values: np.ndarray) -> str:
    try:
        return "".join(values)
    except TypeError:  # XLSX numbers, dates and booleans among the texts
        return "".join(map(str, values))


def _lengths(values: np.ndarray) -> np.ndarray:
    try:
        return np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    except TypeError:
        return np.fromiter(
            (len(v) if isinstance(v, str) else 0 for v in values), dtype=np.int64, count=len(values)
        )


def _has_control(text: str) -> bool:
    return bool(text.encode("utf-8", "surrogatepass").translate(None, _NOT_CONTROL))


def _header_text(value: object) -> str:
    return value.strip() if isinstance(value, str) else str(value).strip()


def _checked_columns(path: Path, names: list[str], empty: np.ndarray) -> list[int]:
    """Positions of the columns to keep; blank or duplicate header names are errors."""
    keep = []
    for j, name in enumerate(names):
        if name:
            keep.append(j)
        elif not empty[:, j].all():
            raise _fail(
                path,
                f"column {column_letters(j + 1)} (position {j + 1}) has data but no header",
                "name it in the first row, or delete the column",
            )
    counts = Counter(names[j] for j in keep)
    dupes = [name for name, count in counts.items() if count > 1]
    if dupes:
        listed = "; ".join(
            f"{name!r} in columns "
            + ", ".join(column_letters(j + 1) for j in keep if names[j] == name)
            for name in dupes
        )
        raise _fail(path, f"has duplicate column names: {listed}", "rename or delete the copies")
    return keep

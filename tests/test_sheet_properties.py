"""Property tests of the sheet readers (issue 12): whatever the bytes, a Sheet or a CsvsyncError.

* any bytes under a sheet's name, and bytes behind a zip, OLE2 or BOM prefix;
* random CSV text (delimiters, quotes, line ends, control characters, encodings);
* small workbooks written by xlsxwriter and openpyxl, then mutated in their XML or their zip;
* a differential test of the XLSX guard: for worksheets written in every form a cell can be
  named (r or none, any case, any prefix, quotes, nested cells, comments, a second
  sheetData...), either the guard refuses the sheet or its extent covers what calamine reads;
* every codec name Python knows, given as ``--encoding``.

Example counts are modest (the file runs in a few seconds); coordinates stay small, so calamine
runs in this process without risk.
"""

from __future__ import annotations

import codecs
import encodings.aliases
import random
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineError, CalamineWorkbook
from rawxlsx import MAIN, workbook

from csvsync.errors import CsvsyncError, SheetError
from csvsync.options import XlsxLimits
from csvsync.sheets import read as sheet_module
from csvsync.sheets.read import Sheet, SheetOptions, read_sheet
from csvsync.sheets.xlsxguard import _fast_scan, _parsed_scan, scan_sheet

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read(data: bytes, name: str, options: SheetOptions | None = None) -> Sheet | None:
    """read_sheet on ``data`` saved as ``name``: a Sheet, or None for a CsvsyncError."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            return read_sheet(path, options or SheetOptions())
        except CsvsyncError as exc:
            assert "\n" not in str(exc)
            return None


def _check_problems(sheet: Sheet | None) -> None:
    """Every cell with a control character, and only those, has a message (the shortcuts that
    skip looking at cells must never skip one)."""
    if sheet is None:
        return
    problems = sheet.cell_problems
    for column in sheet.frame.columns:
        for row, value in sheet.frame[column].items():
            text = value if isinstance(value, str) else ""
            refused = problems is not None and isinstance(problems.loc[row, column], str)
            wanted = bool(sheet_module._CONTROL.search(text)) or len(text) > 1_000_000
            assert refused == wanted, (row, column, value)


# --- any bytes ---------------------------------------------------------------------------

PREFIXES = [
    b"",
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    codecs.BOM_UTF8,
    codecs.BOM_UTF16_LE,
    codecs.BOM_UTF32_BE,
    b"%PDF-",
    b"a,b\n",
]
NAMES = ["s.csv", "s.tsv", "s.txt", "s.xlsx", "s.xlsm", "s.xls", "s.ods", "s"]


@SETTINGS
@given(st.sampled_from(PREFIXES), st.binary(max_size=600), st.sampled_from(NAMES))
def test_any_bytes_give_a_sheet_or_an_error(prefix: bytes, data: bytes, name: str) -> None:
    _check_problems(_read(prefix + data, name))


# --- CSV text ----------------------------------------------------------------------------

CELL_CHARS = st.sampled_from([*"ab é€\",;\t|\n\r'=-+@", "\x00", "\x01", "\x1b", "\x7f", "\ufeff"])
CSV_ENCODINGS = [None, "utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16", "utf-32", "shift_jis"]


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, SheetOptions]:
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    width = draw(st.integers(1, 4))
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        cells = []
        for _ in range(width if draw(st.booleans()) else draw(st.integers(1, 5))):
            text = "".join(draw(st.lists(CELL_CHARS, max_size=6)))
            quoted = draw(st.booleans())
            cells.append('"' + text.replace('"', '""') + '"' if quoted else text)
        lines.append(delimiter.join(cells) + draw(st.sampled_from(["\n", "\r\n", "\r", ""])))
    text = "".join(lines)
    encoding = draw(st.sampled_from(CSV_ENCODINGS))
    data = text.encode(encoding or "utf-8", errors="replace")
    given = draw(st.sampled_from([None, delimiter, ";", "ab", "\x00", '"']))
    return data, SheetOptions(encoding=encoding, delimiter=given)


@SETTINGS
@given(csv_files())
def test_random_csv_gives_a_sheet_or_an_error(case: tuple[bytes, SheetOptions]) -> None:
    data, options = case
    _check_problems(_read(data, "s.csv", options))


@SETTINGS
@given(st.lists(st.text(max_size=8), min_size=1, max_size=5), st.integers(0, 4))
def test_a_stray_nul_in_utf8_text_is_a_cell_problem(cells: list[str], at: int) -> None:
    cells = [c.replace('"', "").replace(",", "").replace("\n", "").replace("\r", "") for c in cells]
    assume(all(c.strip() for c in cells))
    assume(all(not "\ud800" <= ch <= "\udfff" for ch in "".join(cells)))  # not UTF-8
    cells[at % len(cells)] += "\x00"
    header = ",".join(f"c{n}" for n in range(len(cells)))
    data = (header + "\n" + ",".join(cells) + "\n").encode("utf-8")
    sheet = _read(data, "s.csv")
    assert sheet is not None
    assert sheet.cell_problems is not None
    _check_problems(sheet)


# --- workbooks from real writers, mutated ------------------------------------------------

VALUES = st.one_of(
    st.text(max_size=12),
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.none(),
)


Writer = Callable[[Path, list[list[object]]], None]


def _xlsxwriter_book(path: Path, rows: list[list[object]]) -> None:
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    sheet = book.add_worksheet("Data")
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            if value is not None:
                sheet.write(r, c, value)
    book.close()


def _openpyxl_book(path: Path, rows: list[list[object]]) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Data"
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values, start=1):
            if isinstance(value, str):
                value = "".join(ch for ch in value if ch >= " " or ch in "\t\n")  # openpyxl refuses
            sheet.cell(row=r, column=c, value=value)
    book.save(path)


XML_MUTATIONS: list[tuple[bytes, bytes]] = [
    (b'<c r="', b'<x:c r="'),
    (b"<c ", b"<c\t"),
    (b'r="', b"r='"),
    (b'<row r="', b'<row x="'),
    (b' r="A', b' r="a'),
    (b' r="B', b' r="ZZZZ'),
    (b"</row>", b"</row><row>"),
    (b"<v>", b"<v>&#1;"),
    (b"<sheetData>", b'<sheetData><!-- <c r="XFD1"/> -->'),
    (b"<sheetData>", b'<x:sheetData xmlns:x="' + MAIN.encode() + b'"></x:sheetData><sheetData>'),
    (b"</c>", b"</c><c><v>1</v></c>"),
    (b'<c r="', b'<c r="A1" r="'),
    (b"<t>", b"<t>_x0000_"),
    (b"<t", b"<![CDATA[<c r='XFD1'>]]><t"),
    (b'"', b""),
    (b">", b""),
]


def _mutate(path: Path, rng: random.Random) -> None:
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    name = "xl/worksheets/sheet1.xml"
    xml = parts[name]
    for _ in range(rng.randint(1, 3)):
        old, new = rng.choice(XML_MUTATIONS)
        count = xml.count(old)
        if count:
            at = -1
            for _ in range(rng.randint(1, count)):
                at = xml.find(old, at + 1)
            xml = xml[:at] + new + xml[at + len(old) :]
    parts[name] = xml
    if rng.random() < 0.2:  # sometimes a part of the package instead
        other = rng.choice(sorted(parts))
        body = bytearray(parts[other])
        if body:
            body[rng.randrange(len(body))] = rng.randrange(256)
        parts[other] = bytes(body)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for part, body in parts.items():
            archive.writestr(part, body)
    if rng.random() < 0.2:  # or the zip's own bytes
        data = bytearray(path.read_bytes())
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        path.write_bytes(bytes(data))


@SETTINGS
@given(
    st.lists(st.lists(VALUES, min_size=1, max_size=5), min_size=1, max_size=6),
    st.sampled_from([_xlsxwriter_book, _openpyxl_book]),
    st.integers(0, 2**32),
    st.booleans(),
)
def test_mutated_workbooks_give_a_sheet_or_an_error(
    rows: list[list[object]],
    write: Callable[[Path, list[list[object]]], None],
    seed: int,
    mutate: bool,
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.xlsx"
        write(path, rows)
        if mutate:
            _mutate(path, random.Random(seed))
        try:
            _check_problems(read_sheet(path))
        except CsvsyncError as exc:
            assert "\n" not in str(exc)


# --- the guard against calamine ----------------------------------------------------------

PREFIX = st.sampled_from(["", "", "", "x", "y", ""])
SPACE = st.sampled_from([" ", " ", "\t", "\n", "  "])


@st.composite
def refs(draw: st.DrawFn) -> str:
    letters = draw(st.text("ABCDEabcde", min_size=1, max_size=2))
    return letters + str(draw(st.integers(1, 40)))


@st.composite
def cells(draw: st.DrawFn, prefix: str) -> str:
    p = f"{prefix}:" if prefix else ""
    attrs = ""
    if draw(st.booleans()):
        quote = draw(st.sampled_from(['"', '"', "'"]))
        attrs += f"{draw(SPACE)}r={quote}{draw(refs())}{quote}"
    if draw(st.booleans()):
        attrs = f'{draw(SPACE)}s="0"' + attrs if draw(st.booleans()) else attrs + ' s="0"'
    kind = draw(st.sampled_from(["v", "is", "empty", "nested"]))
    if kind == "v":
        return f"<{p}c{attrs}><{p}v>{draw(st.integers(0, 9))}</{p}v></{p}c>"
    if kind == "is":
        return f'<{p}c{attrs} t="inlineStr"><{p}is><{p}t>x</{p}t></{p}is></{p}c>'
    if kind == "nested":  # a cell-like element inside a value: not a cell for calamine
        return f"<{p}c{attrs}><{p}v>1<{p}c r='ZZ9'/></{p}v></{p}c>"
    return f"<{p}c{attrs}/>"


@st.composite
def rows_xml(draw: st.DrawFn) -> str:
    prefix = draw(PREFIX)
    p = f"{prefix}:" if prefix else ""
    body = "".join(draw(st.lists(cells(prefix), max_size=4)))
    number = f' r="{draw(st.integers(1, 40))}"' if draw(st.booleans()) else ""
    kind = draw(st.sampled_from(["row", "row", "row", "bare", "comment"]))
    if kind == "bare":  # cells straight in sheetData
        return body
    if kind == "comment":
        return f"<!-- <{p}row r='99'>{body}</{p}row> -->"
    return f"<{p}row{number}>{body}</{p}row>"


@st.composite
def sheets_xml(draw: st.DrawFn) -> str:
    data = "".join(draw(st.lists(rows_xml(), min_size=1, max_size=6)))
    extra = draw(st.sampled_from(["", "", f'<x:sheetData xmlns:x="{MAIN}"/>', "<sheetData/>"]))
    root_prefix = draw(st.sampled_from(["", "", "x"]))
    rp = f"{root_prefix}:" if root_prefix else ""
    declare = f' xmlns="{MAIN}" xmlns:x="{MAIN}" xmlns:y="urn:other"'
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><{rp}worksheet{declare}>'
        f"<{rp}sheetData>{data}</{rp}sheetData>{extra}</{rp}worksheet>"
    )


def _calamine_extent(path: Path) -> tuple[int, int] | None:
    try:
        grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Data")
        rows = grid.to_python(skip_empty_area=False)
    except (CalamineError, ValueError):
        return None
    return len(rows), max((len(r) for r in rows), default=0)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sheets_xml())
def test_the_guard_covers_what_calamine_reads(xml: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = workbook(Path(folder) / "s.xlsx", xml)
        data = xml.encode()
        try:
            scan = scan_sheet(path, data, "Data", XlsxLimits())
        except SheetError:
            return
        extent = _calamine_extent(path)
        if extent is None:
            return
        rows, columns = extent
        assert rows <= scan.rows and columns <= scan.columns, (extent, scan, xml)
        fast = _fast_scan(path, data, "Data", XlsxLimits())
        if fast is not None:  # the plain form: the byte scan is exact where expat is
            parsed = _parsed_scan(path, data, "Data", XlsxLimits())
            assert fast.rows >= parsed.rows and fast.columns >= parsed.columns


def test_files_from_the_usual_writers_take_the_fast_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("the slow scan ran")

    monkeypatch.setattr("csvsync.sheets.xlsxguard._parsed_scan", refuse)
    rows: list[list[object]] = [["a", "b", "c"], [1, "x", True], ["#", 2.5, None]] * 20
    for write in (_xlsxwriter_book, _openpyxl_book):
        path = tmp_path / f"{write.__name__}.xlsx"
        write(path, rows)
        assert read_sheet(path).frame.shape == (59, 3)


# --- every codec name --------------------------------------------------------------------

ALL_CODECS = sorted(set(encodings.aliases.aliases) | set(encodings.aliases.aliases.values()))


def test_every_codec_name_as_encoding_gives_a_sheet_or_one_line(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes("Name,Price\nCafé,1\n".encode())
    outcomes = {"sheet": 0, "error": 0}
    for name in [*ALL_CODECS, "rot13", "hex", "base64", "zlib", "undefined", "klingon"]:
        try:
            read_sheet(path, SheetOptions(encoding=name))
            outcomes["sheet"] += 1
        except SheetError as exc:
            assert "\n" not in str(exc), name
            outcomes["error"] += 1
    assert outcomes["sheet"] > 50 and outcomes["error"] > 10


# --- ODS and XLS saved by LibreOffice, mutated -------------------------------------------

ODS_MUTATIONS: list[tuple[bytes, bytes]] = [
    (b"<table:table-row", b'<table:table-row table:number-rows-repeated="1048576"'),
    (b"<table:table-row", b'<table:table-row table:number-rows-repeated="99999999999"'),
    (b"<table:table-cell", b'<table:table-cell table:number-columns-repeated="16384"'),
    (b"<table:table-cell", b'<table:table-cell table:number-columns-repeated="-1"'),
    (b'number-columns-repeated="', b'number-columns-repeated="9'),
    (b'number-rows-repeated="', b'number-rows-repeated="x'),
    (b"<text:p>", b'<text:p><text:s text:c="99999999"/>'),
    (b"</table:table-row>", b""),
    (b"</table:table>", b"</table:table><table:table table:name='Copy'>"),
    (b"<table:table ", b"<table:table table:name='B' "),
    (b'office:value-type="float"', b'office:value-type="boolean" office:boolean-value="x"'),
    (b'office:value-type="float"', b'office:value-type="date" office:date-value="9999999-99"'),
    (b"<", b""),
]


def _mutate_ods(path: Path, rng: random.Random) -> None:
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    xml = parts["content.xml"]
    for _ in range(rng.randint(1, 3)):
        old, new = rng.choice(ODS_MUTATIONS)
        count = xml.count(old)
        if count:
            at = -1
            for _ in range(rng.randint(1, min(count, 50))):
                at = xml.find(old, at + 1)
            xml = xml[:at] + new + xml[at + len(old) :]
    parts["content.xml"] = xml
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for part, body in parts.items():
            archive.writestr(part, body)


def _flip_bytes(path: Path, rng: random.Random) -> None:
    data = bytearray(path.read_bytes())
    for _ in range(rng.randint(1, 8)):
        at = rng.randrange(len(data))
        data[at] = rng.choice([0, 0xFF, rng.randrange(256)])
    if rng.random() < 0.3:
        data = data[: rng.randrange(len(data))]
    path.write_bytes(bytes(data))


FIXTURES = Path(__file__).parent / "fixtures"


@SETTINGS
@given(
    st.sampled_from(["typed.ods", "sheets.ods", "typed.xls", "sheets.xls"]),
    st.integers(0, 2**32),
    st.sampled_from([None, "Products", "nope"]),
)
def test_mutated_libreoffice_files_give_a_sheet_or_an_error(
    name: str, seed: int, sheet: str | None
) -> None:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes((FIXTURES / name).read_bytes())
        if name.endswith(".ods") and rng.random() < 0.7:
            _mutate_ods(path, rng)
        else:
            _flip_bytes(path, rng)
        try:
            _check_problems(read_sheet(path, SheetOptions(sheet_name=sheet)))
        except CsvsyncError as exc:
            assert "\n" not in str(exc)

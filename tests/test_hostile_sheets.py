"""Hostile and broken sheets (issue 12, the sheets class): one clear line, the right exit code.

Three tables:

* ``KILLERS``: XLSX files that made python-calamine abort the process (SIGABRT, a 512 GiB
  allocation) or could, one for every way a sheet can name a cell. All are read in one child
  process in the fast tier (never a signal, always a SheetError); each runs as
  ``python -m csvsync plan`` through the corpus harness in the slow tier.
* ``CASES``: files that cannot be read at all (exit 2, one ``Error:`` line, nothing sent).
* ``ROW_CASES``: a bad cell is a row error: that row is ``invalid`` with a message naming the
  column and the character or length, the run exits 1, the other rows go.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlsxwriter
from hostile import Case, assert_no_token, check
from rawods import FIXTURES, content, ods, patched_xls, table
from rawods import HEADER as ODS_HEADER
from rawods import cell as ods_cell
from rawods import row as ods_row
from rawxlsx import HEADER, MAIN, ROOT_RELS, WORKBOOK_RELS, cell, row, workbook, worksheet
from support import Workspace, make_workspace, read_rows

from csvsync.ops.demo import DEMO_TOKEN
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import LOCALE_EN

# --- the inputs that killed the reader -----------------------------------------------------

X = "XFD1048576"  # the last cell of a sheet: A1..X is 17,179,869,184 cells
FULL = "cells up to row 1,048,576 and column XFD"
Build = Callable[[Path], Path]


def _sheet(data: str, **kw: str) -> Build:
    return lambda folder: workbook(folder / "hostile.xlsx", worksheet(HEADER + data, **kw))


def _prefixed(prefix: str, declare: str = "") -> Build:
    def build(folder: Path) -> Path:
        head = row(1, cell("A1", "Item ID", prefix), cell("B1", "Name", prefix), prefix=prefix)
        data = head + row(2, cell(X, "x", prefix), prefix=prefix)
        return workbook(folder / "hostile.xlsx", worksheet(data, prefix=prefix, ns=declare or MAIN))

    return build


def _shared_strings(folder: Path) -> Path:
    sst = f'<sst xmlns="{MAIN}" count="1" uniqueCount="999999999999"><si><t>a</t></si></sst>'
    sheet = worksheet(HEADER + '<row r="2"><c r="A2" t="s"><v>0</v></c></row>')
    return workbook(folder / "hostile.xlsx", sheet, parts={"xl/sharedStrings.xml": sst})


def _twin_entries(folder: Path) -> Path:
    # calamine finds entries ignoring case: it would read the hostile twin.
    hostile = {"xl/worksheets/SHEET1.xml": worksheet(HEADER + row(3, cell(X, "x")))}
    return workbook(folder / "hostile.xlsx", worksheet(HEADER), parts=hostile)


def _other_folder(folder: Path) -> Path:
    # _rels/.rels names foo/ as the workbook's folder: calamine reads foo/worksheets/sheet1.xml.
    rels = ROOT_RELS.replace("xl/workbook.xml", "foo/workbook.xml")
    hostile = worksheet(HEADER + row(3, cell(X, "x")))
    decoy = {"xl/workbook.xml": "<x/>", "xl/worksheets/sheet1.xml": worksheet(HEADER)}
    return workbook(
        folder / "hostile.xlsx",
        hostile,
        root_rels=rels,
        folder="foo/",
        sheet_part="foo/worksheets/sheet1.xml",
        parts=decoy,
    )


def _target_case(folder: Path) -> Path:
    rels = WORKBOOK_RELS.replace("worksheets/sheet1.xml", "Worksheets/Sheet1.XML")
    sheet = worksheet(HEADER + row(3, cell(X, "x")))
    return workbook(folder / "hostile.xlsx", sheet, workbook_rels=rels)


def _absolute_target(folder: Path) -> Path:
    rels = WORKBOOK_RELS.replace('Target="worksheets/sheet1.xml"', 'Target="/data/s.xml"')
    sheet = worksheet(HEADER + row(3, cell(X, "x")))
    return workbook(folder / "hostile.xlsx", sheet, workbook_rels=rels, sheet_part="data/s.xml")


def _backslashes(folder: Path) -> Path:
    sheet = worksheet(HEADER + row(3, cell(X, "x")))
    return workbook(folder / "hostile.xlsx", sheet, sheet_part="xl\\worksheets\\sheet1.xml")


def _utf16(folder: Path) -> Path:
    text = worksheet(HEADER + row(3, cell(X, "x"))).replace('"UTF-8"', '"UTF-16"')
    return workbook(folder / "hostile.xlsx", text.encode("utf-16"))


def _first_sheet_data(folder: Path) -> Path:
    # calamine reads the first sheetData, prefixed or not; the second is a decoy.
    first = f'<x:sheetData xmlns:x="{MAIN}">{HEADER}{row(3, cell(X, "x"))}</x:sheetData>'
    text = worksheet("").replace("<sheetData></sheetData>", first + "<sheetData/>")
    return workbook(folder / "hostile.xlsx", text)


_STYLES = (
    f'<styleSheet xmlns="{MAIN}"><numFmts count="1">'
    '<numFmt numFmtId="165" formatCode="[h]:mm:ss"/></numFmts>'
    '<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="165"/></cellXfs>'
    "</styleSheet>"
)


def _styled(value: str, style: int) -> Build:
    # calamine turns a date- or duration-styled number into chrono milliseconds: far below zero
    # that is a Rust panic (a traceback and a Rust backtrace on stderr).
    def build(folder: Path) -> Path:
        sheet = worksheet(HEADER + row(2, f'<c r="A2" s="{style}"><v>{value}</v></c>'))
        return workbook(folder / "hostile.xlsx", sheet, parts={"xl/styles.xml": _STYLES})

    return build


FAR = "is below -100,000,000,000"
_OTHER_NS = '<row r="2" xmlns:y="urn:other"><y:c r="XFD1048576" t="inlineStr"><y:is><y:t>x</y:t></y:is></y:c></row>'  # noqa: E501
_X_IN_ROW = f'<row r="2" xmlns:x="{MAIN}">{cell(X, "x", "x")}</row>'

KILLERS: dict[str, tuple[Build, str]] = {
    "ref-XFD1048576-inside-row-3": (_sheet(row(3, cell(X, "x"))), FULL),
    "ref-row-beyond-its-row": (_sheet(row(3, cell("B1048576", "x"), cell("XFD3", "y"))), FULL),
    "prefix-x-everywhere": (_prefixed("x"), FULL),
    "prefixed-cell-in-plain-sheetData": (_sheet(_X_IN_ROW), FULL),
    "prefix-of-another-namespace": (_sheet(_OTHER_NS), FULL),
    "prefix-never-declared": (_sheet(_OTHER_NS.replace(' xmlns:y="urn:other"', "")), FULL),
    "empty-prefix": (_sheet(_X_IN_ROW.replace("<x:", "<:").replace("</x:", "</:")), FULL),
    "lower-case-ref": (_sheet(row(2, cell("xfd1048576", "x"))), FULL),
    "four-letter-column": (_sheet(row(2, cell("AAAA2", "x"))), "18,279 columns"),
    "second-r-attribute": (
        _sheet('<row r="2"><c r="A2" r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'),
        "is damaged (duplicate attribute",
    ),
    "r-again-after-s": (
        _sheet('<row r="2"><c r="A2" s="0" r="XFD1048576"><v>1</v></c></row>'),
        "is damaged (duplicate attribute",
    ),
    "single-quoted-r": (_sheet("<row r='2'><c r='XFD1048576'><v>1</v></c></row>"), FULL),
    "cells-without-r-past-XFD": (
        _sheet(row(2, '<c r="XFD2"><v>1</v></c><c><v>2</v></c>')),
        "16,385 columns",
    ),
    "rows-without-r-past-the-last": (
        _sheet(row(1048576, cell("A1048576", "x")) + "<row><c><v>1</v></c></row>"),
        "1,048,577 rows",
    ),
    "row-number-beyond-the-last": (_sheet(row(1048577, cell(None, "x"))), "1,048,577 rows"),
    "cell-ref-row-beyond-the-last": (_sheet(row(2, cell("A1048577", "x"))), "1,048,577 rows"),
    "dimension-declares-XFD1048576": (
        _sheet("", top='<dimension ref="A1:XFD1048576"/>'),
        "declares cells up to row 1,048,576",
    ),
    "first-of-two-sheetData": (_first_sheet_data, FULL),
    "shared-strings-count-lie": (_shared_strings, "declares 999,999,999,999 shared strings"),
    "case-folded-twin-entry": (_twin_entries, "holds two entries named"),
    "workbook-in-another-folder": (_other_folder, FULL),
    "rels-target-in-another-case": (_target_case, FULL),
    "absolute-rels-target": (_absolute_target, FULL),
    "backslashes-in-entry-name": (_backslashes, FULL),
    "dtd-in-sheet": (
        _sheet(row(2, cell("A2", "&a;")), doctype='<!DOCTYPE worksheet [<!ENTITY a "aaaa">]>'),
        "contains a DTD",
    ),
    "date-far-below-zero": (_styled("-1e308", 1), FAR),
    "duration-far-below-zero": (_styled("-1e20", 2), FAR),
    "date-minus-infinity": (_styled("-INF", 1), FAR),
    # calamine reads nothing from a UTF-16 worksheet; the guard must not count on its bytes.
    "utf-16-worksheet": (_utf16, "has no header row"),
}

_READ_ALL = """
import sys
from pathlib import Path
from csvsync.errors import SheetError
from csvsync.sheets.read import read_sheet
for name in sys.argv[1:]:
    try:
        read_sheet(Path(name))
        print("read", name)
    except SheetError as exc:
        print("refused", name, str(exc).replace("\\n", " "))
"""


def test_no_hostile_workbook_kills_the_reader(tmp_path: Path) -> None:
    # One child for all of them: a regression aborts the child, not the test run.
    paths = []
    for name, (build, _) in KILLERS.items():
        folder = tmp_path / name
        folder.mkdir()
        paths.append(str(build(folder)))
    proc = subprocess.run(
        [sys.executable, "-c", _READ_ALL, *paths],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}:\n{proc.stderr[-3000:]}"
    lines = proc.stdout.splitlines()
    assert len(lines) == len(KILLERS)
    for (name, (_, says)), line in zip(KILLERS.items(), lines, strict=True):
        assert line.startswith("refused "), f"{name}: {line}"
        assert says in line, f"{name}: {says!r} not in {line!r}"


# --- the corpus: files that cannot be read at all ------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000)) as sb:
        yield sb


@pytest.fixture
def ws(sandbox: Sandbox, tmp_path: Path) -> Workspace:
    sandbox.clear_log()
    return make_workspace(sandbox, tmp_path)


def _place(build: Build) -> Callable[[Workspace], dict[str, str]]:
    return lambda ws: {"sheet": str(build(ws.dir))}


PLAN = ("plan", "{sheet}", "-m", "{mapping}")
PLAN_DATA = (*PLAN, "--sheet", "Data")  # the mapping names sheet Products; rawxlsx writes Data
_FAST_KILLERS = {"ref-XFD1048576-inside-row-3"}  # the one-child test above runs them all
KILLER_CASES = [
    pytest.param(
        Case(f"killer-{name}", PLAN_DATA, _place(build), 2, says, subprocess=True),
        marks=() if name in _FAST_KILLERS else pytest.mark.slow,
        id=name,
    )
    for name, (build, says) in KILLERS.items()
]


@pytest.mark.parametrize("case", KILLER_CASES)
def test_killer_in_a_real_process(ws: Workspace, case: Case) -> None:
    check(ws, case)


def _bytes(name: str, data: bytes) -> Build:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return build


def _good_xlsx(folder: Path, name: str = "good.xlsx") -> Path:
    # xlsxwriter keeps its texts in a shared strings table (openpyxl writes them inline).
    path = folder / name
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Products")
    sheet.write_row(0, 0, ["Item ID", "Name"])
    for n in range(1, 3001):
        sheet.write_row(n, 0, [f"id{n}", f"name {n} " * 5])
    book.close()
    return path


def _renamed(name: str) -> Build:
    def build(folder: Path) -> Path:
        return _good_xlsx(folder).rename(folder / name)

    return build


def _corrupt(entry: str) -> Build:
    from rawxlsx import corrupt_deflate

    def build(folder: Path) -> Path:
        path = _good_xlsx(folder)
        corrupt_deflate(path, entry)
        return path

    return build


def _size_lie(folder: Path) -> Path:
    from rawxlsx import declare_size

    path = _good_xlsx(folder)
    declare_size(path, "xl/worksheets/sheet1.xml", 2000)
    return path


def _zip(name: str, entries: dict[str, str]) -> Build:
    def build(folder: Path) -> Path:
        path = folder / name
        with zipfile.ZipFile(path, "w") as archive:
            for entry, body in entries.items():
                archive.writestr(entry, body)
        return path

    return build


def _fixture(source: str, name: str, keep: float = 1.0) -> Build:
    """A LibreOffice-made fixture under another name, or cut to a share of its bytes."""

    def build(folder: Path) -> Path:
        data = (FIXTURES / source).read_bytes()
        path = folder / name
        path.write_bytes(data[: int(len(data) * keep)])
        return path

    return build


def _raw_ods(*rows: str, tables: int = 0) -> Build:
    others = [
        table(f"T{n}", ods_row(ods_cell("x", repeat=1000), repeat=1000)) for n in range(tables)
    ]
    return lambda folder: ods(
        folder / "s.ods", content(table("Products", ODS_HEADER, *rows), *others)
    )


def _xls_dimensions(folder: Path) -> Path:
    old = b"\x00\x02\x0e\x00" + struct.pack("<IIHH", 0, 3, 0, 7)
    return patched_xls(
        folder / "s.xls", (old, old[:4] + struct.pack("<IIHH", 0, 2**32 - 1, 0, 255))
    )


ODS_XLS_CASES = [
    Case("ods-truncated", PLAN, _place(_fixture("demo-export.ods", "s.ods", 0.5)), 2, "s.ods"),
    Case("xls-truncated", PLAN, _place(_fixture("demo-export.xls", "s.xls", 0.5)), 2, "s.xls"),
    Case("xls-named-ods", PLAN, _place(_fixture("typed.xls", "s.ods")), 2, "rename it to .xls"),
    Case("ods-named-xls", PLAN, _place(_fixture("typed.ods", "s.xls")), 2, "rename it to .ods"),
    Case("csv-named-ods", PLAN, _place(_bytes("s.ods", b"Item ID,Name\nx,y\n")), 2, ".csv"),
    Case(
        "ods-a-million-repeated-rows",
        PLAN,
        _place(_raw_ods(ods_row(ods_cell("x", repeat=16384), repeat=1_000_000))),
        2,
        "cells up to row 1,000,001 and column XFD",
    ),
    Case(
        "ods-many-sheets-together",
        PLAN,
        _place(_raw_ods(ods_row(ods_cell("x")), tables=11)),
        2,
        "in all its sheets together",
    ),
    Case(
        "xls-declared-dimensions", PLAN, _place(_xls_dimensions), 2, "declares 4,294,967,295 rows"
    ),
]

_ODS = {"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<x/>"}
_CSV = "Item ID,Name\nx,y\n"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
_PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def _results_with_entities(folder: Path) -> Path:
    path = folder / "results.xlsx"
    wb = openpyxl.Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet.title = "Summary"
    sheet.append(["Run ID", "20260101T000000Z-abcdef"])
    wb.save(path)
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    parts["xl/worksheets/sheet1.xml"] = bomb + parts["xl/worksheets/sheet1.xml"]
    with zipfile.ZipFile(path, "w") as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
    return path


def _wide_csv(folder: Path) -> Path:
    path = folder / "sheet.csv"
    path.write_text(",".join(f"c{n}" for n in range(10**6)) + "\n", encoding="utf-8")
    return path


def _csv_bytes(data: bytes) -> Build:
    return _bytes("sheet.csv", data)


CASES = [
    Case(
        "corrupt-deflate-in-the-sheet",
        PLAN,
        _place(_corrupt("xl/worksheets/sheet1.xml")),
        2,
        "is damaged: xl/worksheets/sheet1.xml cannot be decompressed",
    ),
    Case(
        "corrupt-deflate-in-shared-strings",
        PLAN,
        _place(_corrupt("xl/sharedStrings.xml")),
        2,
        "is damaged: xl/sharedStrings.xml cannot be decompressed",
    ),
    Case("declared-size-lie", PLAN, _place(_size_lie), 2, "Bad CRC-32"),
    Case(
        "duration-too-long-for-python",
        PLAN_DATA,
        _place(_styled("1e300", 2)),
        2,
        "cannot be read as XLSX (OverflowError",
    ),
    Case(
        "xlsx-named-csv",
        PLAN,
        _place(_renamed("sheet.csv")),
        2,
        "is an XLSX workbook, not CSV text (rename it to .xlsx)",
    ),
    Case(
        "csv-named-xlsx",
        PLAN,
        _place(_bytes("sheet.xlsx", _CSV.encode())),
        2,
        "is text (CSV?), not an XLSX workbook",
    ),
    Case("xlsx-named-xls", PLAN, _place(_renamed("sheet.xls")), 2, "rename it to .xlsx"),
    Case("csv-named-xls", PLAN, _place(_bytes("s.xls", _CSV.encode())), 2, "rename it to .csv"),
    Case(
        "pdf-named-csv",
        PLAN,
        _place(_bytes("sheet.csv", b"%PDF-1.7\n%\xe2\xe3")),
        2,
        "is a PDF document, not CSV text",
    ),
    Case("png-named-xlsx", PLAN, _place(_bytes("s.xlsx", _PNG)), 2, "is a PNG image"),
    Case("ods-named-csv", PLAN, _place(_zip("s.csv", _ODS)), 2, "is an OpenDocument spreadsheet"),
    Case("ods-named-xlsx", PLAN, _place(_zip("s.xlsx", _ODS)), 2, "is an OpenDocument file"),
    Case("ods-without-manifest", PLAN, _place(_zip("s.ods", _ODS)), 2, "cannot be read as ODS"),
    Case("zip-named-csv", PLAN, _place(_zip("s.csv", {"a.txt": "x"})), 2, "is a zip archive"),
    Case("ole2-named-csv", PLAN, _place(_bytes("s.csv", _OLE2)), 2, "is an OLE2 compound file"),
    Case("xls-named-csv", PLAN, _place(_fixture("typed.xls", "s.csv")), 2, "legacy Excel .xls"),
    *ODS_XLS_CASES,
    Case(
        "html-named-xls",
        PLAN,
        _place(_bytes("s.xls", b"<html><table><tr><td>x</td></tr></table></html>")),
        2,
        "is an HTML page",
    ),
    *[
        Case(
            f"encoding-{name}",
            (*PLAN, "--encoding", name),
            _place(_csv_bytes(_CSV.encode())),
            2,
            f"encoding {name!r} given to --encoding is not a text encoding",
        )
        for name in ("rot13", "hex", "base64", "zlib", "bz2", "uu")
    ],
    Case(
        "encoding-unknown",
        (*PLAN, "--encoding", "klingon"),
        _place(_csv_bytes(_CSV.encode())),
        2,
        "unknown encoding 'klingon' given to --encoding",
    ),
    Case(
        "csv-of-a-million-columns",  # 10 MB that took minutes and 4 GB to frame
        PLAN,
        _place(_wide_csv),
        2,
        "has 1,000,000 columns, more than the limit of 16,384",
    ),
    Case(
        "csv-of-two-million-blank-lines",  # 2 MB that took ~5 s and 100s of MB to count
        PLAN,
        _place(_csv_bytes(b"Item ID,Name\n" + b"\n" * 2_000_000)),
        2,
        "has more than 1,048,576 rows, the limit",
    ),
    Case(
        "utf-16-without-bom",
        PLAN,
        _place(_csv_bytes(_CSV.encode("utf-16-le"))),
        2,
        "looks like UTF-16, not UTF-8 (pass --encoding utf-16)",
    ),
    Case(
        "utf-16-read-as-utf-8",
        (*PLAN, "--encoding", "utf-8"),
        _place(_csv_bytes(_CSV.encode("utf-16"))),
        2,
        "looks like UTF-16, not utf-8",
    ),
    Case(
        "utf-32",
        PLAN,
        _place(_csv_bytes(_CSV.encode("utf-32"))),
        2,
        "looks like UTF-32",
    ),
    Case(
        "revert-results-with-entities",
        ("revert", "{sheet}", "-m", "{mapping}"),
        _place(_results_with_entities),
        2,
        "it contains a DTD or entity declarations",
    ),
    Case(
        "revert-text-named-xlsx",
        ("revert", "{sheet}", "-m", "{mapping}"),
        _place(_bytes("results.xlsx", _CSV.encode())),
        2,
        "cannot read results workbook",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_unreadable_file(ws: Workspace, case: Case) -> None:
    check(ws, case)


# --- row errors: the bad row is invalid, the run exits 1, the other rows go -----------------

GOOD_ROW = 3  # every case also changes row 3's Summary: it must still be planned


@dataclass(frozen=True)
class RowCase:
    id: str
    edit: Callable[[pd.DataFrame], None]  # makes the bad cells (in place)
    invalid: dict[tuple[int, str], str]  # (row, locale) -> a piece of its message
    name: str = "sheet.csv"
    args: tuple[str, ...] = ()
    encoding: str = "utf-8"
    patch: Callable[[Path], None] | None = None  # changes the written file's bytes
    not_invalid: tuple[int, ...] = ()
    slow: bool = False

    def __str__(self) -> str:
        return self.id


def _set(column: str, value: str, index: int = 0) -> Callable[[pd.DataFrame], None]:
    def edit(frame: pd.DataFrame) -> None:
        frame.loc[index, column] = value

    return edit


def _append(column: str, tail: str, index: int = 0) -> Callable[[pd.DataFrame], None]:
    def edit(frame: pd.DataFrame) -> None:
        frame.loc[index, column] = str(frame.loc[index, column]) + tail

    return edit


def _in_xml(old: str, new: str) -> Callable[[Path], None]:
    """Rewrite the written workbook's sheet XML (xlsxwriter writes _x000B_ for a control)."""

    def patch(path: Path) -> None:
        with zipfile.ZipFile(path) as archive:
            parts = {name: archive.read(name) for name in archive.namelist()}
        name = "xl/worksheets/sheet1.xml"
        for key in ("xl/sharedStrings.xml", name):
            if key in parts and old.encode() in parts[key]:
                parts[key] = parts[key].replace(old.encode(), new.encode())
                break
        else:
            raise AssertionError(f"{old!r} not in the workbook")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for part, body in parts.items():
                archive.writestr(part, body)

    return patch


EN, ALL = "en", ("en", "fr-FR", "de-DE")
NUL = "holds the control character U+0000 (NUL)"
LONG_50MB = "the cell is 50,000,000 characters long; the limit is 1,000,000"

ROW_CASES = [
    RowCase(
        "nul-in-a-utf-8-csv", _set("Summary", "before\x00after"), {(2, EN): NUL + " at character 7"}
    ),
    RowCase(
        "nul-with-encoding-utf-8",
        _set("Summary", "\x00"),
        {(2, EN): NUL},
        args=("--encoding", "utf-8"),
        slow=True,
    ),
    RowCase(
        "nul-in-latin-1-text",
        _set("Summary", "caf\xe9\x00"),
        {(2, EN): NUL},
        args=("--encoding", "latin-1"),
        encoding="latin-1",
    ),
    RowCase(
        "nul-in-utf-16-text",
        _set("Summary", "\x00x"),
        {(2, EN): NUL},
        args=("--encoding", "utf-16"),
        encoding="utf-16",
        slow=True,
    ),
    RowCase(
        "escape-in-a-name",
        _set("Name [fr]", "\x1b[31mrouge", 4),
        {(6, "fr-FR"): "U+001B (ESC) at character 1"},
    ),
    RowCase(
        "nul-in-the-key-column",
        _append("Item ID", "\x00", 2),
        {(4, loc): "column 'Item ID': " + NUL for loc in ALL},
    ),
    RowCase(
        "vertical-tab-in-xlsx",
        _set("Description", "a\x0bb"),
        {(2, EN): "U+000B (VT) at character 2"},
        name="sheet.xlsx",
    ),
    RowCase(
        "raw-control-byte-in-xlsx",
        _set("Description", "aCTRLb"),
        {(2, EN): "U+0001 (SOH)"},
        name="sheet.xlsx",
        patch=_in_xml("CTRL", "\x01"),
        slow=True,
    ),
    RowCase(
        "character-reference-in-xlsx",
        _set("Description", "aCTRLb"),
        {(2, EN): "U+001F (US)"},
        name="sheet.xlsx",
        patch=_in_xml("CTRL", "&#31;"),
        slow=True,
    ),
    RowCase(
        "cell-of-50-MB",
        _set("Description", "y" * 50_000_000),
        {(2, EN): LONG_50MB},
        slow=True,
    ),
    RowCase(
        "long-quoted-cell-over-many-lines",
        _set("Description [de]", "a line, quoted\n" * 80_000, 7),
        {(9, "de-DE"): "the cell is 1,200,000 characters long"},
    ),
    RowCase(
        "long-cell-in-xlsx",
        _set("Summary [fr]", "LONGCELL", 10),
        {(12, "fr-FR"): "the cell is 1,500,000 characters long"},
        name="sheet.xlsx",
        patch=_in_xml("LONGCELL", "z" * 1_500_000),
        slow=True,
    ),
    RowCase(
        "long-key-cell",
        _set("Item ID", "6" * 2_000_000, 5),
        {(7, loc): "column 'Item ID': the cell is 2,000,000 characters long" for loc in ALL},
    ),
    RowCase(
        "tab-newline-and-carriage-return-are-text",
        _set("Summary", "a\tb\nc\rd"),
        {},
        not_invalid=(2,),
    ),
]


def _write(ws: Workspace, case: RowCase) -> Path:
    frame = ws.frame.copy().astype(object)
    frame.loc[GOOD_ROW - 2, "Summary"] = "a good change"
    case.edit(frame)
    path = ws.dir / case.name
    if case.name.endswith(".csv"):
        frame.to_csv(path, index=False, encoding=case.encoding)
    else:
        ws.write_sheet(frame, case.name)
    if case.patch is not None:
        case.patch(path)
    return path


@pytest.mark.parametrize(
    "case", [pytest.param(c, marks=pytest.mark.slow if c.slow else (), id=c.id) for c in ROW_CASES]
)
def test_bad_cell_is_a_row_error(ws: Workspace, case: RowCase) -> None:
    sheet = _write(ws, case)
    results = ws.dir / "results.xlsx"
    res = ws.run(
        "plan", str(sheet), "-m", str(ws.mapping), "--json", "--results", str(results), *case.args
    )
    assert "Traceback" not in res.output, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    expected_exit = 1 if case.invalid else 0
    assert res.exit_code == expected_exit, res.output[-2000:]
    summary = json.loads(res.stdout)
    assert summary["counts"].get("invalid", 0) == len(case.invalid)
    assert summary["counts"].get("would update", 0) >= 1  # the good row still goes
    rows = read_rows(results)
    invalid = rows[rows["Outcome"] == "invalid"]
    got = {
        (int(r), str(loc)): str(msg)
        for r, loc, msg in invalid[["Row", "Locale", "Message"]].to_numpy()
    }
    assert set(got) == set(case.invalid), got
    for key, piece in case.invalid.items():
        assert piece in got[key], (key, got[key])
        assert "\x00" not in got[key] and len(got[key]) < 300
    good = rows[(rows["Row"] == GOOD_ROW) & (rows["Locale"] == EN)].iloc[0]
    assert good["Outcome"] == "would update", good.to_dict()
    for number in case.not_invalid:
        assert (rows[rows["Row"] == number]["Outcome"] != "invalid").all()
    assert ws.writes() == []  # a plan sends nothing
    assert_no_token(ws.dir, res.output)


def test_sync_sends_the_good_rows_and_never_the_refused_cell(tmp_path: Path) -> None:
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000)) as sb:
        ws = make_workspace(sb, tmp_path)
        frame = ws.frame.copy().astype(object)
        bad_id, good_id = frame.loc[0, "Item ID"], frame.loc[1, "Item ID"]
        before = ws.live(bad_id, LOCALE_EN)["summary"]
        frame.loc[0, "Summary"] = "nul\x00inside"
        frame.loc[1, "Summary"] = "a good change"
        sheet = ws.write_sheet(frame, "sheet.csv")
        res = ws.run(
            "sync", str(sheet), "-m", str(ws.mapping), "--results", str(tmp_path / "r.xlsx")
        )
        assert res.exit_code == 1, res.output
        assert "Traceback" not in res.output
        assert ws.live(good_id, LOCALE_EN)["summary"] == "a good change"
        assert ws.live(bad_id, LOCALE_EN)["summary"] == before
        assert [w["items"] for w in ws.writes()] == [1]  # one PATCH, the good variant only
        rows = read_rows(tmp_path / "r.xlsx")
        bad = rows[(rows["Row"] == 2) & (rows["Locale"] == EN)].iloc[0]
        assert bad["Outcome"] == "invalid" and NUL in bad["Message"]


def test_a_refused_cell_in_a_column_the_mapping_does_not_use_is_ignored(ws: Workspace) -> None:
    frame = ws.frame.copy().astype(object)
    frame["Notes"] = ""
    frame.loc[0, "Notes"] = "\x00"
    frame.loc[1, "Summary"] = "a good change"
    sheet = ws.write_sheet(frame, "sheet.csv")
    res = ws.run("plan", str(sheet), "-m", str(ws.mapping), "--json")
    assert res.exit_code == 0, res.output
    assert "invalid" not in json.loads(res.stdout)["counts"]


@pytest.mark.parametrize(
    "cell_xml",
    [
        '<c r="A2"><v>-1e308</v></c>',  # no style: never a date for calamine
        '<c r="A2" s="1" t="str"><v>-1e308</v></c>',  # a text
        '<c r="A2" s="1"><v>-99999</v></c>',  # a date, odd but readable
        '<c r="A2" s="1"><v> -1e308</v></c>',  # not a number calamine reads
    ],
)
def test_numbers_far_below_zero_are_refused_only_where_they_could_be_dates(
    tmp_path: Path, cell_xml: str
) -> None:
    from csvsync.sheets.read import read_sheet

    sheet = worksheet(HEADER + row(2, cell_xml))
    path = workbook(tmp_path / "s.xlsx", sheet, parts={"xl/styles.xml": _STYLES})
    assert len(read_sheet(path).frame) == 1


def test_a_rust_panic_in_the_reader_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from csvsync.errors import SheetError
    from csvsync.sheets.read import read_sheet

    class PanicException(BaseException):  # what pyo3 raises for a Rust panic
        pass

    def panic(*args: object, **kwargs: object) -> None:
        raise PanicException("index out of bounds")

    monkeypatch.setattr(pd, "read_excel", panic)
    with pytest.raises(SheetError, match="the reader failed: index out of bounds"):
        read_sheet(_good_xlsx(tmp_path))
    monkeypatch.setattr(pd, "read_excel", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        read_sheet(_good_xlsx(tmp_path))


# The hostile-input corpus: the whole suite (CI) runs it; the fast tier leaves it out.
pytestmark = pytest.mark.slow

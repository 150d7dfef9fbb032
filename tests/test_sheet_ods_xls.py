"""ODS and XLS sheets: LibreOffice's files read with typed cells, a chosen sheet, and a plan of
the demo's export that finds no change; the guards that bound what the reader would expand.

The fixtures in ``tests/fixtures`` were saved by LibreOffice 7.4 (``soffice --headless
--convert-to ods|xls``): ``demo-export.*`` from ``csvsync export`` of a fresh demo sandbox,
``typed.*`` from a CSV LibreOffice typed itself (dates, numbers, booleans), ``sheets.*`` from a
two-sheet workbook (``Notes``, then ``Products``).
"""

from __future__ import annotations

import datetime as dt
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rawods import FIXTURES, HEADER, TRAILING, cell, content, ods, patched_xls, row, table
from support import Workspace, make_workspace

from csvsync.errors import SheetError
from csvsync.ops.demo import DEMO_TOKEN
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sheets.read import SheetOptions, read_sheet

FORMATS = ["ods", "xls"]


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000)) as sb:
        yield make_workspace(sb, tmp_path)


def _error(path: Path, options: SheetOptions | None = None) -> str:
    with pytest.raises(SheetError) as info:
        read_sheet(path, options or SheetOptions())
    text = str(info.value)
    assert "\n" not in text and path.name in text
    return text


@pytest.mark.parametrize("suffix", FORMATS)
def test_the_demo_export_saved_by_libreoffice_plans_no_change(ws: Workspace, suffix: str) -> None:
    sheet = FIXTURES / f"demo-export.{suffix}"
    res = ws.run("plan", sheet, "-m", ws.mapping, "--results", ws.dir / "plan.xlsx")
    assert res.exit_code == 0, res.output
    assert "Rows x locales: 900 unchanged" in res.output, res.output
    assert "A sync would send 0 write request(s)" in res.output
    assert ws.writes() == []


@pytest.mark.parametrize("suffix", FORMATS)
def test_cells_keep_their_types(suffix: str) -> None:
    sheet = read_sheet(FIXTURES / f"typed.{suffix}")
    assert sheet.kind == suffix
    first, second = (dict(sheet.frame.loc[n]) for n in (2, 3))
    assert first == {
        "Name": "alpha",
        "Launch date": dt.datetime(2024, 5, 1),
        "Launched at": dt.datetime(2024, 5, 1, 13, 45, 10),
        "Price": 19.99,
        "Stock": 42,
        "Featured": True,
        "Note": "text",
    }
    assert type(first["Stock"]) is int and type(first["Featured"]) is bool
    assert second["Featured"] is False and second["Price"] == -4.5 and second["Note"] == ""


@pytest.mark.parametrize("suffix", FORMATS)
def test_the_sheet_option_picks_a_sheet(ws: Workspace, suffix: str) -> None:
    path = FIXTURES / f"sheets.{suffix}"
    assert list(read_sheet(path).frame.columns) == ["Note"]
    chosen = read_sheet(path, SheetOptions(sheet_name="products")).frame
    assert chosen.to_dict() == {"Name": {2: "gamma"}, "Price": {2: 3}}
    assert "its sheets are 'Notes', 'Products'" in _error(path, SheetOptions(sheet_name="Nope"))
    res = ws.run("plan", path, "-m", ws.mapping, "--sheet", "Nope")
    assert res.exit_code == 2 and "has no sheet named 'Nope'" in res.output


# --- ODS: repeated rows and columns ----------------------------------------------------------


def test_trailing_empty_repeats_are_read_not_refused(tmp_path: Path) -> None:
    data = row(cell("a1"), cell("b1"), cell(repeat=16382))
    path = ods(tmp_path / "s.ods", content(table("Data", HEADER, data, TRAILING)))
    assert read_sheet(path).frame.to_dict() == {"Item ID": {2: "a1"}, "Name": {2: "b1"}}


_PEAK = """
import resource, sys
from pathlib import Path
from csvsync.sheets.read import read_sheet
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sheet = read_sheet(Path(sys.argv[1]))
print(sheet.frame.shape[0], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def test_a_million_trailing_rows_of_16384_columns_cost_no_memory(tmp_path: Path) -> None:
    # 17 billion declared cells: expanded, the reader would abort the process.
    path = ods(tmp_path / "s.ods", content(table("Data", HEADER, row(cell("x")), TRAILING)))
    proc = subprocess.run(
        [sys.executable, "-c", _PEAK, str(path)], capture_output=True, text=True, check=True
    )
    rows, grown_kib = map(int, proc.stdout.split())
    assert rows == 1
    assert grown_kib < 64 * 1024, f"peak RSS grew by {grown_kib:,} KiB"


@pytest.mark.parametrize(
    ("rows", "says"),
    [
        # One small element declaring a million non-empty rows of 16,384 cells.
        (
            row(cell("x", repeat=16384), repeat=1_000_000),
            "cells up to row 1,000,001 and column XFD",
        ),
        (row(cell("x"), repeat=1_048_576), "has 1,048,577 rows, more than the limit"),
        (row(cell("x"), cell("y", repeat=20_000)), "has 20,001 columns, more than the limit"),
        # Empty rows between two values are built too.
        (
            row(cell("x", repeat=100)) + row(cell(), repeat=200_000) + row(cell("y")),
            "cells up to row 200,003 and column CV",
        ),
        (row(cell("y" * 100_000, repeat=16_000)), "characters of text (possible bomb)"),
        (row(cell('<text:s text:c="2000000000"/>')), "characters of text (possible bomb)"),
        (row(cell("x", repeat="lots")), "is damaged (table:number-columns-repeated='lots')"),  # type: ignore[arg-type]
    ],
)
def test_declared_repeats_past_the_limits_are_refused(tmp_path: Path, rows: str, says: str) -> None:
    path = ods(tmp_path / "s.ods", content(table("Data", HEADER, rows)))
    assert says in _error(path)


def test_every_table_is_checked_not_only_the_one_read(tmp_path: Path) -> None:
    bomb = table("Other", row(cell("x", repeat=16384), repeat=1000))
    path = ods(tmp_path / "s.ods", content(table("Data", HEADER, row(cell("x"))), bomb))
    assert "sheet 'Other' has cells up to row 1,000" in _error(path)


def test_ods_limits_are_the_xlsx_limits(tmp_path: Path) -> None:
    path = ods(tmp_path / "s.ods", content(table("Data", HEADER, row(cell("x"), repeat=50))))
    assert len(read_sheet(path).frame) == 50
    limits = SheetOptions().limits.__class__(max_rows=20)
    assert "has 51 rows, more than the limit of 20" in _error(path, SheetOptions(limits=limits))


def test_a_dtd_in_content_is_refused(tmp_path: Path) -> None:
    head = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>'
    path = ods(tmp_path / "s.ods", content(table("Data", HEADER), head=head))
    assert "content.xml contains a DTD" in _error(path)


# --- XLS: the compound file and the records ------------------------------------------------

# typed.xls's DIMENSIONS record (rows 0..3, columns 0..7) and its first header cell (A1).
_DIMENSIONS = b"\x00\x02\x0e\x00" + struct.pack("<IIHH", 0, 3, 0, 7)


def _dimensions(last_row: int, last_col: int) -> tuple[bytes, bytes]:
    return _DIMENSIONS, _DIMENSIONS[:4] + struct.pack("<IIHH", 0, last_row, 0, last_col)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (_dimensions(0xFFFFFFF0, 255), "declares 4,294,967,280 rows"),
        (_dimensions(1_000_000, 255), "declares cells up to row 1,000,000 and column IU"),
    ],
)
def test_xls_declared_dimensions_are_bounded(
    tmp_path: Path, change: tuple[bytes, bytes], says: str
) -> None:
    assert says in _error(patched_xls(tmp_path / "s.xls", change))


def test_xls_cell_past_the_columns_is_refused(tmp_path: Path) -> None:
    data = (FIXTURES / "typed.xls").read_bytes()
    at = data.find(b"\xfd\x00\x0a\x00\x00\x00\x00\x00")  # LabelSst at A1
    assert at > 0
    old = data[at : at + 8]
    path = patched_xls(tmp_path / "s.xls", (old, old[:4] + b"\x00\x00\xff\xff"))
    assert "has 65,536 columns, more than the limit of 16,384" in _error(path)


def test_xls_header_fields_and_chains_are_checked(tmp_path: Path) -> None:
    data = bytearray((FIXTURES / "typed.xls").read_bytes())
    data[44:48] = struct.pack("<I", 0xFFFFFFF)  # FAT sectors: calamine reserves room first
    (tmp_path / "fat.xls").write_bytes(bytes(data))
    assert "the header declares 268,435,455 sectors" in _error(tmp_path / "fat.xls")
    data = bytearray((FIXTURES / "typed.xls").read_bytes())
    directory = struct.unpack_from("<I", data, 48)[0]
    fat_sector = struct.unpack_from("<I", data, 76)[0]
    # The directory chain points back at itself: calamine would read it forever.
    struct.pack_into("<I", data, 512 + fat_sector * 512 + directory * 4, directory)
    (tmp_path / "loop.xls").write_bytes(bytes(data))
    assert "the directory chain loops" in _error(tmp_path / "loop.xls")


def test_xls_too_big_is_refused_before_reading(tmp_path: Path) -> None:
    limits = SheetOptions().limits.__class__(max_total_uncompressed=4096)
    text = _error(FIXTURES / "typed.xls", SheetOptions(limits=limits))
    assert "6,144 bytes, more than the limit of 4,096 bytes" in text


# --- wrong content under the name ----------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "name", "says"),
    [
        (
            "typed.xls",
            "s.ods",
            "is a legacy Excel .xls workbook, not a .ods file (rename it to .xls)",
        ),
        (
            "typed.ods",
            "s.xls",
            "is an OpenDocument spreadsheet (.ods), not a .xls file (rename it to .ods)",
        ),
        (
            "typed.xls",
            "s.xlsx",
            "is a legacy Excel .xls workbook, not an XLSX workbook (rename it to .xls)",
        ),
        (
            "typed.ods",
            "s.csv",
            "is an OpenDocument spreadsheet (.ods), not CSV text (rename it to .ods)",
        ),
        ("typed.xls", "s.csv", "is a legacy Excel .xls workbook, not CSV text (rename it to .xls)"),
    ],
)
def test_a_mislabelled_file_says_what_it_is(
    tmp_path: Path, source: str, name: str, says: str
) -> None:
    path = tmp_path / name
    path.write_bytes((FIXTURES / source).read_bytes())
    assert says in _error(path)


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.99])
def test_a_truncated_file_is_one_line(tmp_path: Path, suffix: str, keep: float) -> None:
    data = (FIXTURES / f"demo-export.{suffix}").read_bytes()
    path = tmp_path / f"cut.{suffix}"
    path.write_bytes(data[: int(len(data) * keep)])
    _error(path)


def test_write_back_refuses_ods_and_xls_in_one_line(tmp_path: Path) -> None:
    from csvsync.sheets.writeback import write_back

    with pytest.raises(SheetError, match=r"--write-back copies \.csv and \.xlsx sheets only"):
        write_back(FIXTURES / "typed.ods", SheetOptions(), "Name", {2: "x"})


@pytest.mark.parametrize("suffix", ["ods", "xls"])
def test_write_back_of_an_ods_or_xls_is_refused_before_anything_is_sent(
    ws: Workspace, suffix: str, tmp_path: Path
) -> None:
    sheet = tmp_path / f"products.{suffix}"
    sheet.write_bytes((FIXTURES / f"demo-export.{suffix}").read_bytes())
    ws.sb.clear_log()
    res = ws.run("sync", sheet, "-m", ws.mapping, "--write-back")
    assert res.exit_code == 2, res.output
    assert "--write-back copies .csv and .xlsx sheets only" in res.stderr
    assert ws.sb.log() == [] and "Traceback" not in res.output

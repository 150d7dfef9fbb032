"""The results workbook: layout, data-only cells, Excel limits, file naming and atomic writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from csvsync.errors import ConfigError, SheetError
from csvsync.sheets import results
from csvsync.sheets.results import (
    CHANGES_COLUMNS,
    ROWS_COLUMNS,
    RunSummary,
    default_results_path,
    read_run_id,
    write_results,
)

STARTED = datetime(2026, 11, 27, 10, 15, 0, tzinfo=UTC)


def make_summary(**overrides: Any) -> RunSummary:
    values: dict[str, Any] = {
        "run_id": "run-20261127-abc123",
        "command": "sync",
        "sheet": "sample_data/products.csv",
        "mapping": "mappings/products.yaml",
        "collection": "Products (64f0c0ffee0000000000bbbb)",
        "api_base": "http://127.0.0.1:8000/v2",
        "started": STARTED,
        "finished": STARTED + timedelta(minutes=2, seconds=5),
        "counts": {"updated": 2, "failed": 1, "unchanged": 1},
        "requests": 12,
        "write_requests": 3,
        "retries": 1,
        "rate_limit_waits": 0,
        "exit_code": 1,
        "notes": ("Missing columns left alone: Name [de]",),
    }
    values.update(overrides)
    return RunSummary(**values)


def rows_frame(lines: list[list[Any]] | None = None) -> pd.DataFrame:
    if lines is None:
        lines = [
            [2, "64f0000000000000000000a1", "Chair", "en", "updated", ["name", "price"], ""],
            [2, "64f0000000000000000000a1", "Chaise", "fr", "failed", [], "price: not a number"],
            [3, "64f0000000000000000000a2", "Table", "en", "unchanged", None, None],
            [4, None, "Lamp", "en", "updated", ["name"], ""],
        ]
    return pd.DataFrame(lines, columns=ROWS_COLUMNS)


def changes_frame(lines: list[list[Any]] | None = None) -> pd.DataFrame:
    if lines is None:
        lines = [
            [2, "64f0000000000000000000a1", "Chair", "en", "name", "Chiar", "Chair", "updated"],
            [2, "64f0000000000000000000a1", "Chair", "en", "price", 10.5, 12, "updated"],
            [4, None, "Lamp", "en", "name", None, "Lamp", "updated"],
        ]
    return pd.DataFrame(lines, columns=CHANGES_COLUMNS)


def write(tmp_path: Path, rows: pd.DataFrame | None = None, **kw: Any) -> Path:
    path = tmp_path / "results.xlsx"
    changes = kw.pop("changes", None)
    return write_results(
        path,
        make_summary(**kw),
        rows_frame() if rows is None else rows,
        changes_frame() if changes is None else changes,
    )


def summary_pairs(path: Path) -> dict[str, Any]:
    ws = openpyxl.load_workbook(path)["Summary"]
    return {r[0]: r[1] for r in ws.iter_rows(min_col=1, max_col=2, values_only=True) if r[0]}


def sheet_values(path: Path, name: str) -> list[tuple[Any, ...]]:
    return list(openpyxl.load_workbook(path)[name].iter_rows(values_only=True))


# ---------------------------------------------------------------------------------------------
# Layout


def test_three_sheets_with_human_headers(tmp_path: Path) -> None:
    path = write(tmp_path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Summary", "Rows", "Changes"]
    assert sheet_values(path, "Rows")[0] == (
        "Row",
        "Item ID",
        "Item",
        "Locale",
        "Outcome",
        "Changed fields",
        "Message",
    )
    assert sheet_values(path, "Changes")[0] == (
        "Row",
        "Item ID",
        "Item",
        "Locale",
        "Field",
        "Old value",
        "New value",
        "Outcome",
    )


def test_summary_carries_run_facts_and_counts(tmp_path: Path) -> None:
    pairs = summary_pairs(write(tmp_path))
    assert pairs["Run ID"] == "run-20261127-abc123"
    assert pairs["Command"] == "sync"
    assert pairs["Collection"] == "Products (64f0c0ffee0000000000bbbb)"
    assert pairs["Started"] == "2026-11-27 10:15:00 UTC"
    assert pairs["Duration"] == "2 min 05 s"
    assert pairs["Requests sent"] == 12
    assert pairs["Write requests"] == 3
    assert pairs["Exit code"].startswith("1: ")
    assert pairs["updated"] == 2 and pairs["failed"] == 1 and pairs["unchanged"] == 1
    assert pairs["Total"] == 4
    assert pairs["Notes"] == "Missing columns left alone: Name [de]"


def test_summary_labels_are_bold(tmp_path: Path) -> None:
    ws = openpyxl.load_workbook(write(tmp_path))["Summary"]
    label = next(c for c in ws["A"] if c.value == "Run ID")
    assert label.font.b


def test_rows_keep_types_and_render_lists_as_json(tmp_path: Path) -> None:
    rows = rows_frame(
        [
            [7, "id1", "A", "en", "updated", ["name", "price"], {"code": "x", "n": 1}],
            [8, "id2", True, "en", "updated", 2**60, float("nan")],
            [9, "id3", 1.25, "en", "updated", "", None],
        ]
    )
    lines = sheet_values(write(tmp_path, rows), "Rows")[1:]
    assert lines[0] == (7, "id1", "A", "en", "updated", '["name","price"]', '{"code":"x","n":1}')
    # A bool stays a bool; an int Excel cannot hold exactly stays its digits; NaN is blank.
    assert lines[1] == (8, "id2", True, "en", "updated", str(2**60), None)
    assert lines[2] == (9, "id3", 1.25, "en", "updated", None, None)


def test_changes_show_old_and_new_side_by_side(tmp_path: Path) -> None:
    lines = sheet_values(write(tmp_path), "Changes")[1:]
    assert lines[1][4:] == ("price", 10.5, 12, "updated")
    assert lines[2][5:7] == (None, "Lamp")


@pytest.mark.parametrize("name", ["Rows", "Changes"])
def test_header_frozen_and_autofilter(tmp_path: Path, name: str) -> None:
    ws = openpyxl.load_workbook(write(tmp_path))[name]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == ("A1:G5" if name == "Rows" else "A1:H4")
    assert ws.column_dimensions["B"].width >= len("64f0000000000000000000a1")
    assert ws["A1"].font.b


def _fill(cell: Any) -> str | None:
    fill = cell.fill
    return fill.fgColor.rgb if fill is not None and fill.fill_type == "solid" else None


def test_outcome_colours(tmp_path: Path) -> None:
    rows = rows_frame(
        [
            [2, "a", "A", "en", "updated", [], ""],
            [3, "b", "B", "en", "failed", [], ""],
            [4, "c", "C", "en", "unchanged", [], ""],
            [5, "d", "D", "en", "something new", [], ""],
            [6, "e", "E", "en", "Would_Update", [], ""],
        ]
    )
    ws = openpyxl.load_workbook(write(tmp_path, rows))["Rows"]
    updated, failed = _fill(ws["C2"]), _fill(ws["C3"])
    assert updated and failed and updated != failed
    assert _fill(ws["A2"]) == updated  # the whole line, not only the outcome cell
    assert _fill(ws["C4"]) is None
    assert _fill(ws["C5"]) is None
    assert _fill(ws["C6"]) not in (None, updated, failed)
    assert ws["E3"].font.b


# ---------------------------------------------------------------------------------------------
# Data, never formulas; Excel's limits


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@x", '=HYPERLINK("http://x")', "1e5"])
def test_formula_like_text_stays_text(tmp_path: Path, text: str) -> None:
    rows = rows_frame([[2, "a", text, "en", "updated", [text], text]])
    changes = changes_frame([[2, "a", text, "en", "name", text, text, "updated"]])
    path = write(tmp_path, rows, changes=changes, sheet=text)
    wb = openpyxl.load_workbook(path)
    for cell in (wb["Rows"]["C2"], wb["Rows"]["G2"], wb["Changes"]["F2"], wb["Changes"]["G2"]):
        assert cell.data_type == "s"
        assert cell.value == text
    assert summary_pairs(path)["Sheet"] == text


def test_long_value_is_cut_with_marker(tmp_path: Path) -> None:
    rows = rows_frame([[2, "a", "x" * 40_000, "en", "failed", [], "ok"]])
    value = sheet_values(write(tmp_path, rows), "Rows")[1][2]
    assert len(value) <= 32_767
    assert value.endswith("… [cut: 40000 characters in all]")
    assert value.startswith("x" * 30_000)


def test_cut_counts_utf16_units() -> None:
    # Excel counts UTF-16 units: 20,000 emoji are 40,000 of them.
    cut = results._fit("😀" * 20_000)
    assert len(cut.encode("utf-16-le")) // 2 <= 32_767
    assert cut.endswith("[cut: 20000 characters in all]")
    assert results._fit("ok" * 100) == "ok" * 100


def test_rows_continue_on_a_second_sheet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(results, "MAX_SHEET_ROWS", 10)
    rows = rows_frame([[i, f"id{i}", f"I{i}", "en", "updated", [], ""] for i in range(25)])
    changes = changes_frame([[i, "a", "A", "en", "name", "o", "n", "updated"] for i in range(12)])
    path = write(tmp_path, rows, changes=changes)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Summary", "Rows", "Rows (2)", "Rows (3)", "Changes", "Changes (2)"]
    numbers = []
    for name in ["Rows", "Rows (2)", "Rows (3)"]:
        ws = wb[name]
        assert ws.max_row <= 10
        assert ws["A1"].value == "Row" and ws.freeze_panes == "A2"
        numbers += [r[0] for r in ws.iter_rows(min_row=2, values_only=True)]
    assert numbers == list(range(25))
    assert wb["Changes (2)"].max_row == 1 + 12 - 9


def test_empty_tables_keep_their_headers(tmp_path: Path) -> None:
    path = write(tmp_path, rows_frame([]), changes=changes_frame([]))
    assert sheet_values(path, "Rows") == [tuple(results.ROWS_HEADERS)]
    assert sheet_values(path, "Changes") == [tuple(results.CHANGES_HEADERS)]


def test_missing_column_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="outcome"):
        write(tmp_path, rows_frame().drop(columns=["outcome"]))


# ---------------------------------------------------------------------------------------------
# Run id


def test_read_run_id(tmp_path: Path) -> None:
    assert read_run_id(write(tmp_path)) == "run-20261127-abc123"


def test_read_run_id_falls_back_to_document_property(tmp_path: Path) -> None:
    path = write(tmp_path)
    wb = openpyxl.load_workbook(path)
    del wb["Summary"]
    wb.save(path)
    assert read_run_id(path) == "run-20261127-abc123"


def test_read_run_id_refuses_other_files(tmp_path: Path) -> None:
    other = tmp_path / "other.xlsx"
    openpyxl.Workbook().save(other)
    with pytest.raises(SheetError, match="no run id"):
        read_run_id(other)
    text = tmp_path / "notes.xlsx"
    text.write_text("not a workbook")
    with pytest.raises(SheetError, match="cannot read"):
        read_run_id(text)


# ---------------------------------------------------------------------------------------------
# File names and atomic writes


def test_default_path_next_to_sheet_and_never_reused(tmp_path: Path) -> None:
    sheet = tmp_path / "products.csv"
    first = default_results_path(sheet, "sync", STARTED)
    assert first == tmp_path / "products.sync-20261127T101500Z.xlsx"
    assert ":" not in first.name
    first.touch()
    second = default_results_path(sheet, "sync", STARTED)
    assert second.name == "products.sync-20261127T101500Z-2.xlsx"
    second.touch()
    assert default_results_path(sheet, "sync", STARTED).name.endswith("-3.xlsx")
    assert (
        default_results_path(sheet, "plan", STARTED).name == "products.plan-20261127T101500Z.xlsx"
    )


def test_default_path_uses_utc() -> None:
    from zoneinfo import ZoneInfo

    berlin = STARTED.astimezone(ZoneInfo("Europe/Berlin"))
    assert default_results_path(Path("p.xlsx"), "plan", berlin).name.endswith("T101500Z.xlsx")
    with pytest.raises(ValueError):
        default_results_path(Path("p.xlsx"), "plan", datetime(2026, 1, 1))


def test_existing_file_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "results.xlsx"
    path.write_bytes(b"old contents")
    assert write_results(path, make_summary(), rows_frame(), changes_frame()) == path
    assert read_run_id(path) == "run-20261127-abc123"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.xlsx"]


class Explodes:
    """A cell value whose rendering fails, i.e. a failure in the middle of the Rows sheet."""

    def __str__(self) -> str:
        raise RuntimeError("boom")


def test_failure_midway_leaves_old_file_and_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "results.xlsx"
    write_results(path, make_summary(run_id="old-run"), rows_frame(), changes_frame())
    before = path.read_bytes()
    lines = [[i, "a", "A", "en", "updated", [], "fine"] for i in range(3000)]
    lines[2500][6] = Explodes()
    with pytest.raises(RuntimeError, match="boom"):
        write_results(path, make_summary(), rows_frame(lines), changes_frame())
    assert path.read_bytes() == before
    assert read_run_id(path) == "old-run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.xlsx"]


def test_failure_at_replace_leaves_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(src: Any, dst: Any) -> None:
        raise PermissionError("replace refused")

    monkeypatch.setattr(results.os, "replace", refuse)
    with pytest.raises(ConfigError, match="replace refused"):
        write(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot write the results workbook"):
        write_results(tmp_path / "nope" / "r.xlsx", make_summary(), rows_frame(), changes_frame())

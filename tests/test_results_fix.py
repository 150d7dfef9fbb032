"""What a real load needs from the results workbook: the problems first, the failed rows in the
sheet's own columns to correct and upload again, print settings a person can read on paper, no
``NaN`` for an empty old value, and ``sync --show all``. Through the CLI, against the sandbox."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from support import Workspace, make_workspace

from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import LOCALE_EN


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with Sandbox(SandboxOptions(seed="demo", token="sandbox-token")) as sb:
        yield make_workspace(sb, tmp_path)


def values(path: Path, name: str) -> list[tuple[Any, ...]]:
    return list(openpyxl.load_workbook(path)[name].iter_rows(values_only=True))


def bad_sheet(ws: Workspace) -> tuple[pd.DataFrame, Path]:
    """Two bad cells (a price, an option) and a new item with a bad price among good edits."""
    f = ws.frame.copy().astype(object)
    f.loc[0, "Price"] = "12,5x"
    f.loc[2, "Category"] = "Outdoors"
    f.loc[3, "Summary"] = "fine change"
    new = f.iloc[[10]].copy()
    new["Item ID"] = ""
    new["Name"], new["Name [fr]"], new["Name [de]"] = "Brand New Lamp", "Lampe", "Lampe"
    new["Slug"], new["Slug [fr]"], new["Slug [de]"] = "brand-new-lamp", "lampe-n", "lampe-n-de"
    new["Price"] = "abc"
    f = pd.concat([f, new], ignore_index=True)
    return f, ws.write_sheet(f)


def test_problems_sheet_first_with_the_cell_the_reason_and_the_fix(ws: Workspace) -> None:
    _, sheet = bad_sheet(ws)
    out = ws.dir / "r.xlsx"
    res = ws.run("sync", sheet, "-m", ws.mapping, "--results", out)
    assert res.exit_code == 1, res.output
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Problems", "Summary", "Rows", "Changes", "Rows to fix"]
    lines = values(out, "Problems")
    assert lines[0] == (
        "Row", "Item", "Locale", "Outcome", "Field", "Value", "Reason", "How to fix"
    )  # fmt: skip
    by_row = {line[0]: line for line in lines[1:]}
    assert sorted(by_row) == [2, 4, 302]  # one line per problem, not one per locale
    price = by_row[2]
    assert price[1] == "Smart Chair 001" and price[3] == "invalid"
    assert price[4:6] == ("Price", "12,5x")
    assert "not a number" in price[6] and "column 'Price'" not in price[6]
    assert "Rows to fix" in price[7]
    assert by_row[4][4:6] == ("Category", "Outdoors") and "Outdoor'" in by_row[4][6]
    # A new item has no id and no live name: it is named by its Name cell.
    assert by_row[302][1] == "Brand New Lamp" and by_row[302][4:6] == ("Price", "abc")


def test_rows_to_fix_corrected_and_uploaded_as_csv_sync_only_those_rows(ws: Workspace) -> None:
    f, sheet = bad_sheet(ws)
    out = ws.dir / "r.xlsx"
    ws.run("sync", sheet, "-m", ws.mapping, "--results", out)
    lines = values(out, "Rows to fix")
    assert list(lines[0]) == list(f.columns)  # the sheet's own header, in its order
    assert [line[0] for line in lines[1:]] == [f.loc[0, "Item ID"], f.loc[2, "Item ID"], None]
    header = list(lines[0])
    fixed = [["" if v is None else v for v in line] for line in lines[1:]]
    price, category = header.index("Price"), header.index("Category")
    fixed[0][price], fixed[1][category], fixed[2][price] = "12.5", "Outdoor", "20"
    upload = ws.dir / "to-fix.csv"
    with upload.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *fixed])
    again = ws.run("sync", upload, "-m", ws.mapping, "--json")
    assert again.exit_code == 0, again.output
    counts = json.loads(again.stdout.splitlines()[-1])["counts"]
    # Only the three rows (x three locales) are read; each lands.
    assert sum(counts.values()) == 9
    assert set(counts) <= {"updated", "created", "unchanged"}
    assert counts.get("created") == 3
    assert ws.live(f.loc[0, "Item ID"], LOCALE_EN)["price"] == 12.5


def test_no_problems_no_problems_sheet(ws: Workspace) -> None:
    f = ws.frame.copy()
    f.loc[0, "Summary"] = "only a fine change"
    out = ws.dir / "r.xlsx"
    res = ws.run("sync", ws.write_sheet(f), "-m", ws.mapping, "--results", out)
    assert res.exit_code == 0, res.output
    assert openpyxl.load_workbook(out).sheetnames == ["Summary", "Rows", "Changes"]


def test_every_sheet_prints_landscape_fit_to_width_with_its_header(ws: Workspace) -> None:
    _, sheet = bad_sheet(ws)
    out = ws.dir / "r.xlsx"
    ws.run("plan", sheet, "-m", ws.mapping, "--results", out)
    wb = openpyxl.load_workbook(out)
    assert len(wb.sheetnames) == 5
    for ws_ in wb.worksheets:
        assert ws_.page_setup.orientation == "landscape", ws_.title
        assert ws_.sheet_properties.pageSetUpPr.fitToPage, ws_.title
        assert ws_.page_setup.fitToWidth in (None, 1), ws_.title  # 1 is the default
        assert ws_.print_title_rows == "$1:$1", ws_.title
    assert wb["Summary"].page_setup.fitToHeight in (None, 1)  # one page
    for name in ("Problems", "Rows to fix", "Rows", "Changes"):
        assert wb[name].page_setup.fitToHeight == 0, name  # as many pages down as it takes


def test_an_empty_old_value_is_blank_not_nan(ws: Workspace) -> None:
    f = ws.frame.copy()
    assert f.loc[0, "Brochure"] == "" and f.loc[1, "Video"] == ""
    f.loc[0, "Brochure"] = "https://files.example.com/new.pdf"
    f.loc[1, "Video"] = "https://vimeo.com/123456"
    f.loc[2, "Summary [fr]"] = "nouveau"  # an old value that is text, among the empty ones
    sheet = ws.write_sheet(f)
    out = ws.dir / "p.xlsx"
    res = ws.run("plan", sheet, "-m", ws.mapping, "--results", out)
    assert res.exit_code == 0, res.output
    brochure = next(line for line in res.output.splitlines() if " brochure " in line)
    assert "nan" not in brochure.lower() and "(empty)" in brochure
    assert "nan" not in res.output.lower()
    changes = {line[4]: line for line in values(out, "Changes")[1:]}
    assert changes["brochure"][5] is None and changes["video"][5] is None
    assert changes["summary"][5].startswith("Chaise")


def test_sync_show_all_lists_every_field_change(ws: Workspace) -> None:
    f = ws.frame.copy()
    f.loc[:29, "Summary"] = f.loc[:29, "Summary"] + " v2"
    sheet = ws.write_sheet(f)
    some = ws.run("plan", sheet, "-m", ws.mapping)
    assert "(--show all" in some.output
    res = ws.run("sync", sheet, "-m", ws.mapping, "--show", "all")
    assert res.exit_code == 0, res.output
    assert "Field changes (30):" in res.output
    assert "(--show all" not in res.output
    assert sum(" summary " in line for line in res.output.splitlines()) == 30

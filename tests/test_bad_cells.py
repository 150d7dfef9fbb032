"""Bad cells make their rows invalid while the other rows sync (exit 1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from support import Workspace, make_workspace, read_rows

from csvsync.ops.demo import DEMO_TOKEN
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import LOCALE_EN


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000)) as sb:
        yield make_workspace(sb, tmp_path)


@pytest.mark.slow
def test_excel_errors_huge_values_and_mangled_ids(ws: Workspace) -> None:
    f = ws.frame.copy().astype(object)
    f.loc[5, "Summary"] = "a good change"
    path = ws.write_sheet(f, "bad.xlsx")
    wb = openpyxl.load_workbook(path)
    sheet = wb.active
    header = [c.value for c in sheet[1]]
    price = sheet.cell(row=2, column=header.index("Price") + 1)
    price.value = "#REF!"
    price.data_type = "e"
    sheet.cell(row=3, column=header.index("Summary") + 1).value = "x" * 30_000
    sheet.cell(row=4, column=header.index("Item ID") + 1).value = 6.4e23
    sheet.cell(row=5, column=header.index("Item ID") + 1).value = "64F0C0FFEE0000000B0004"
    wb.save(path)
    big = ws.dir / "big.csv"
    g = ws.frame.copy()
    g.loc[0, "Description"] = "y" * 1_000_001
    g.loc[1, "Summary"] = "another good change"
    g.to_csv(big, index=False)
    res = ws.run("sync", path, "-m", ws.mapping, "--results", ws.dir / "r.xlsx")
    assert res.exit_code == 1, res.output
    rows = read_rows(ws.dir / "r.xlsx")
    by_row = {r: rows[(rows["Row"] == r) & (rows["Locale"] == "en")].iloc[0] for r in (2, 4, 5)}
    assert by_row[2]["Outcome"] == "invalid" and "#REF!" in by_row[2]["Message"]
    assert by_row[4]["Outcome"] == "invalid" and "Excel" in by_row[4]["Message"]
    assert by_row[5]["Outcome"] == "invalid" and "24 hexadecimal" in by_row[5]["Message"]
    assert ws.live(f.loc[5, "Item ID"], LOCALE_EN)["summary"] == "a good change"
    res = ws.run("sync", big, "-m", ws.mapping, "--results", ws.dir / "r2.xlsx")
    assert res.exit_code == 1, res.output
    rows = read_rows(ws.dir / "r2.xlsx")
    row2 = rows[(rows["Row"] == 2) & (rows["Locale"] == "en")].iloc[0]
    assert row2["Outcome"] == "invalid" and "1000001" in row2["Message"].replace(",", "")
    assert ws.live(g.loc[1, "Item ID"], LOCALE_EN)["summary"] == "another good change"

"""Preflight: one sheet with one of each problem; each row reported, the others sync."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from support import Workspace, make_workspace, read_rows

from csvsync.ops.demo import DEMO_TOKEN
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import LOCALE_EN, LOCALE_FR


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000)) as sb:
        yield make_workspace(sb, tmp_path)


@pytest.mark.slow
def test_one_of_each_preflight_error(ws: Workspace) -> None:
    f = ws.frame.copy().astype(object)
    problems = {
        2: ("Slug", "Not A Slug", "is not valid"),
        3: ("Slug [fr]", f.loc[4, "Slug [fr]"], "already used by item"),  # row 6 keeps its own
        11: ("Slug [de]", "zwei-gleiche", "is also set by row 10"),  # both move to one slug
        5: ("Slug", f.loc[20, "Slug"], "already used by item"),  # an item not in the sheet
        6: ("Stock", "-5", ""),
        7: ("Category", "Kitchn", "did you mean 'Kitchen'"),
        8: ("Author", "nobody-here", "nobody-here"),
        9: ("Price", "12,5,0", "12,5,0"),
    }
    for row, (col, value, _) in problems.items():
        f.loc[row - 2, col] = value
    f.loc[8, "Slug [de]"] = "zwei-gleiche"  # row 10 asks for the same new slug as row 11
    f.loc[3, "Summary [fr]"] = "row 5 keeps its slug, changes its summary"
    f = f.drop(index=20)  # that item is not in the sheet: its live slug stays taken
    dup = f.loc[[10]].copy()
    dup["Summary"] = "second copy of row 12"
    f = pd.concat([f, dup], ignore_index=True)  # the same item twice, in the last row
    dup_row_number = len(f) + 1
    f.loc[11, "Summary"] = "a good change"
    sheet = ws.write_sheet(f)
    ws.sb.clear_log()
    res = ws.run("sync", sheet, "-m", ws.mapping, "--results", ws.dir / "r.xlsx")
    assert res.exit_code == 1, res.output
    rows = read_rows(ws.dir / "r.xlsx")
    for row, (col, _, needle) in problems.items():
        hits = rows[(rows["Row"] == row) & (rows["Outcome"] == "invalid")]
        assert len(hits) >= 1, (row, rows[rows["Row"] == row])
        message = " ".join(hits["Message"])
        assert f"'{col}'" in message and needle in message, (row, message)
    slug_taken = rows[(rows["Row"] == 5) & (rows["Outcome"] == "invalid")].iloc[0]["Message"]
    assert "English" in slug_taken or "en" in slug_taken
    # The same item twice with different English summaries: neither row's is applied.
    for row in (12, dup_row_number):
        en = rows[(rows["Row"] == row) & (rows["Locale"] == "en")].iloc[0]
        assert en["Outcome"] == "invalid", en
        assert f"rows 12, {dup_row_number} all set item" in en["Message"]
        assert "different values (summary)" in en["Message"]
    assert ws.live(f.loc[10, "Item ID"], LOCALE_EN)["summary"] == ws.frame.loc[10, "Summary"]
    # In French the two rows agree: the first is applied, the second is a duplicate.
    fr_dup = rows[(rows["Row"] == dup_row_number) & (rows["Locale"] == "fr-FR")].iloc[0]
    assert fr_dup["Outcome"] == "invalid" and "duplicate: row 12" in fr_dup["Message"]
    assert ws.live(f.loc[11, "Item ID"], LOCALE_EN)["summary"] == "a good change"
    assert ws.live(f.loc[3, "Item ID"], LOCALE_FR)["summary"].startswith("row 5 keeps")
    # Zero requests carried an invalid value: every write landed (no 400 from Webflow).
    writes = ws.writes()
    assert writes and all(e["status"] == 200 for e in writes)


def test_required_field_cannot_be_cleared(ws: Workspace) -> None:
    text = ws.mapping.read_text().replace(
        "  name: {column: Name, localized: true}",
        "  name: {column: Name, localized: true, empty: clear}",
    )
    m = ws.dir / "clear-name.yaml"
    m.write_text(text)
    f = ws.frame.copy()
    f.loc[0, "Name [de]"] = ""
    res = ws.run("sync", ws.write_sheet(f), "-m", m, "--results", ws.dir / "r.xlsx")
    assert res.exit_code == 1
    rows = read_rows(ws.dir / "r.xlsx")
    bad = rows[rows["Outcome"] == "invalid"].iloc[0]
    assert bad["Row"] == 2 and "required" in bad["Message"] and "Name [de]" in bad["Message"]
    assert ws.writes() == []

"""What a person reads: the plan preview and Webflow's refusals in plain words."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support import Workspace, make_workspace, read_rows

from csvsync.ops.demo import DEMO_TOKEN
from csvsync.sandbox import Sandbox, SandboxOptions


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000)) as sb:
        yield make_workspace(sb, tmp_path)


@pytest.mark.slow
def test_plan_shows_counts_and_field_changes_capped(ws: Workspace) -> None:
    f = ws.frame.copy()
    f["Summary [fr]"] = f["Summary [fr]"] + " (nouveau)"
    f.loc[0, "Price"] = 1.25
    sheet = ws.write_sheet(f)
    res = ws.run("plan", sheet, "-m", ws.mapping)
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "Rows x locales: 598 unchanged, 302 would update" in out  # 300 fr + en and de price
    first = ws.frame.loc[0]
    line = next(x for x in out.splitlines() if " price " in x)
    assert "372.07" in line and "1.25" in line and "->" in line
    assert "… and 283 more (--show all" in out  # 303 field changes, 20 shown
    full = ws.run("plan", sheet, "-m", ws.mapping, "--show", "all").stdout
    assert "more (--show all" not in full
    assert sum(1 for x in full.splitlines() if "would update" in x and "summary" in x) == 300
    assert str(first["Name [fr]"])[:20] in full


def test_webflow_refusal_in_plain_words(ws: Workspace) -> None:
    f = ws.frame.copy()
    f.loc[0, "Slug"] = "a-new-slug"
    item = f.loc[0, "Item ID"]
    ws.sb.set_faults(
        reject=[
            {
                "item_id": item,
                "field": "slug",
                "description": "Unique value is already in database: 'a-new-slug'",
            }
        ]
    )
    res = ws.run("sync", ws.write_sheet(f), "-m", ws.mapping, "--results", ws.dir / "r.xlsx")
    assert res.exit_code == 1
    rows = read_rows(ws.dir / "r.xlsx")
    msg = rows[rows["Outcome"] == "failed"].iloc[0]["Message"]
    # No item csvsync knows has that slug: perhaps a deleted one, held until a site publish.
    assert msg.startswith("slug 'a-new-slug' is taken (perhaps by a deleted item"), msg
    assert "Webflow 400 validation_error" in msg

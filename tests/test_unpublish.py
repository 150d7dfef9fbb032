"""--unpublish-missing: exactly the items no row names, never a mass unpublish by accident."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import BULK_COLLECTION_ID, Workspace, seed_bulk

from csvsync.ops.demo import DEMO_TOKEN
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import LOCALES
from csvsync.webflow import ClientOptions, WebflowClient


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000)) as sb:
        mapping, frame = seed_bulk(sb, 100, tmp_path)
        yield Workspace(sb, tmp_path, mapping, frame)


def live_ids(ws: Workspace) -> set[str]:
    with WebflowClient(ClientOptions(api_base=ws.sb.base_url, token=DEMO_TOKEN)) as c:
        return {
            i["id"]
            for i in c.iter_items_live(BULK_COLLECTION_ID, cms_locale_ids=list(LOCALES.values()))
        }


def test_three_missing_items_are_unpublished_in_every_locale(ws: Workspace) -> None:
    frame = ws.frame.drop(index=[5, 50, 95]).copy()
    frame.loc[10, "Summary"] = "bad value"  # invalid rows still name their item:
    frame.loc[10, "Summary [fr]"] = "x" * 1_000_001  # its variant is invalid, not missing
    sheet = ws.write_sheet(frame, "bulk.csv")
    plan = ws.run("plan", sheet, "-m", ws.mapping, "--unpublish-missing")
    assert "3 would unpublish" in plan.stdout, plan.output
    out = plan.stdout
    assert out.index("Items no row names (3)") < out.index("row 11 [fr-FR] invalid")  # first
    for i in (5, 50, 95):
        assert ws.frame.loc[i, "Item ID"] in out
    res = ws.run("sync", sheet, "-m", ws.mapping, "--unpublish-missing", "--json")
    out = json.loads(res.stdout)
    assert out["counts"]["unpublished"] == 3, out
    gone = {ws.frame.loc[i, "Item ID"] for i in (5, 50, 95)}
    assert live_ids(ws) == set(ws.frame["Item ID"]) - gone
    again = json.loads(
        ws.run("sync", sheet, "-m", ws.mapping, "--unpublish-missing", "--json").stdout
    )
    assert "unpublished" not in again["counts"] and again["write_requests"] == 0


def test_a_mass_unpublish_is_refused_without_yes(ws: Workspace) -> None:
    sheet = ws.write_sheet(ws.frame.head(50), "half.csv")
    res = ws.run("sync", sheet, "-m", ws.mapping, "--unpublish-missing")
    assert res.exit_code == 2
    assert "would unpublish 50 of 100" in res.stderr and "--yes" in res.stderr
    assert ws.writes() == [] and len(live_ids(ws)) == 100
    plan = ws.run("plan", sheet, "-m", ws.mapping, "--unpublish-missing")
    assert "A sync would refuse this" in plan.stdout
    res = ws.run("sync", sheet, "-m", ws.mapping, "--unpublish-missing", "--yes")
    assert res.exit_code == 0, res.output
    assert live_ids(ws) == set(ws.frame["Item ID"].head(50))


def test_yes_never_unpublishes_from_an_empty_sheet_nor_more_than_half(ws: Workspace) -> None:
    empty = ws.write_sheet(ws.frame.head(0), "empty.csv")
    res = ws.run("sync", empty, "-m", ws.mapping, "--unpublish-missing", "--yes",
                 "--max-unpublish", "1")  # fmt: skip
    assert res.exit_code == 2 and "the sheet has no data rows" in res.stderr
    assert ws.writes() == [] and len(live_ids(ws)) == 100
    forty = ws.write_sheet(ws.frame.head(40), "forty.csv")  # 60 of 100 to go
    res = ws.run("sync", forty, "-m", ws.mapping, "--unpublish-missing", "--yes")
    assert res.exit_code == 2 and "more than half the collection" in res.stderr
    assert "--max-unpublish 0.6" in res.stderr and ws.writes() == []
    res = ws.run("sync", forty, "-m", ws.mapping, "--unpublish-missing", "--yes",
                 "--max-unpublish", "0.6")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert len(live_ids(ws)) == 40

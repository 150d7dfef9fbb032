"""--target staged|both: the Designer's version, publishing, and the two kept equal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import Workspace, make_workspace, read_rows

from csvsync.ops.demo import DEMO_TOKEN
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import DEMO_COLLECTION_ID, LOCALE_EN, LOCALE_FR
from csvsync.webflow import ClientOptions, WebflowClient


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000)) as sb:
        yield make_workspace(sb, tmp_path)


def staged(ws: Workspace, item: str, locale: str) -> dict:
    with WebflowClient(ClientOptions(api_base=ws.sb.base_url, token=DEMO_TOKEN)) as c:
        items = c.iter_items(DEMO_COLLECTION_ID, cms_locale_ids=[locale])
        return next(i for i in items if i["id"] == item)["fieldData"]


@pytest.mark.slow
def test_live_leaves_staged_alone_and_both_keeps_them_equal(ws: Workspace) -> None:
    f = ws.frame.copy()
    f.loc[0, "Summary"] = "live only"
    item = f.loc[0, "Item ID"]
    ws.run("sync", ws.write_sheet(f), "-m", ws.mapping)
    assert ws.live(item, LOCALE_EN)["summary"] == "live only"
    assert staged(ws, item, LOCALE_EN)["summary"] == ws.frame.loc[0, "Summary"]
    f.loc[1, "Summary [fr]"] = "les deux"
    other = f.loc[1, "Item ID"]
    res = ws.run("sync", ws.write_sheet(f), "-m", ws.mapping, "--target", "both", "--json")
    # Row 1's change, and row 0's staged side, which the live-only run had left behind.
    assert json.loads(res.stdout)["counts"]["updated"] == 2
    assert staged(ws, item, LOCALE_EN)["summary"] == "live only"
    assert (
        ws.live(other, LOCALE_FR)["summary"]
        == staged(ws, other, LOCALE_FR)["summary"]
        == ("les deux")
    )


@pytest.mark.slow
def test_staged_with_publish_reports_the_unpublishable_item_and_publishes_the_rest(
    ws: Workspace,
) -> None:
    f = ws.frame.copy()
    for i in range(5):
        f.loc[i, "Summary"] = f"staged {i}"
    bad = f.loc[2, "Item ID"]
    ws.sb.set_faults(
        reject=[{"item_id": bad, "on": "publish", "description": "the item is locked"}]
    )
    res = ws.run(
        "sync", ws.write_sheet(f), "-m", ws.mapping, "--target", "staged", "--publish", "--json"
    )
    out = json.loads(res.stdout)
    assert res.exit_code == 1, res.output
    assert out["counts"]["updated"] == 4 and out["counts"]["failed"] == 1
    for i in range(5):
        item = f.loc[i, "Item ID"]
        assert staged(ws, item, LOCALE_EN)["summary"] == f"staged {i}"
        expected = ws.frame.loc[i, "Summary"] if item == bad else f"staged {i}"
        assert ws.live(item, LOCALE_EN)["summary"] == expected
    ws.sb.set_faults(reject=[])
    again = json.loads(
        ws.run("sync", ws.write_sheet(f), "-m", ws.mapping, "--target", "staged", "--json").stdout
    )
    # Staged already holds the sheet's values: the one request publishes what was refused.
    assert again["write_requests"] == 1 and again["counts"]["published"] == 1
    assert ws.live(bad, LOCALE_EN)["summary"] == "staged 2"


def test_never_published_item_points_to_staged_publish(ws: Workspace) -> None:
    with WebflowClient(ClientOptions(api_base=ws.sb.base_url, token=DEMO_TOKEN)) as c:
        draft = c.create_items(DEMO_COLLECTION_ID, [{"fieldData": {"name": "D", "slug": "d"}}])
    f = ws.frame.head(1).copy()
    f.loc[0, "Item ID"] = draft[0]["id"]
    res = ws.run("sync", ws.write_sheet(f), "-m", ws.mapping)
    assert res.exit_code == 1
    assert "not found" in res.stdout and "--target staged --publish" in res.stdout


def designer_edit(ws: Workspace, item: str, field_data: dict) -> None:
    with WebflowClient(ClientOptions(api_base=ws.sb.base_url, token=DEMO_TOKEN)) as c:
        c.update_items(DEMO_COLLECTION_ID, [{"id": item, "fieldData": field_data}])


def sync_json(ws: Workspace, sheet: Path, *args: str) -> dict:
    res = ws.run("sync", sheet, "-m", ws.mapping, "--json", *args)
    out: dict = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["exit_code"] == res.exit_code
    return out


@pytest.mark.parametrize("target", ["both", "staged"])
def test_an_edit_in_the_designer_is_a_conflict_not_overwritten(ws: Workspace, target: str) -> None:
    sheet = ws.write_sheet()
    out = sync_json(ws, sheet, "--target", target)
    assert out["counts"] == {"unchanged": 900}
    item = ws.frame.loc[0, "Item ID"]
    designer_edit(ws, item, {"summary": "Written in the Designer"})
    f = ws.frame.copy()
    f.loc[0, "Summary"] = "Written in the sheet"
    edited = ws.write_sheet(f, "edited.csv")
    ws.sb.clear_log()
    res = ws.run("sync", edited, "-m", ws.mapping, "--target", target,
                 "--results", ws.dir / "r.xlsx")  # fmt: skip
    assert res.exit_code == 1, res.output
    assert ws.writes() == []
    rows = read_rows(ws.dir / "r.xlsx")
    row = rows[rows["Outcome"] == "conflict"].iloc[0]
    assert "Written in the Designer" in row["Message"] and "Written in the sheet" in row["Message"]
    if target == "both":
        assert "in the Designer (staged)" in row["Message"]
    assert staged(ws, item, LOCALE_EN)["summary"] == "Written in the Designer"
    # The sheet unchanged: the Designer's edit is listed, not written, and the run is clean.
    out = sync_json(ws, sheet, "--target", target)
    assert out["exit_code"] == 0 and out["counts"] == {"changed in Webflow": 1, "unchanged": 899}
    assert out["write_requests"] == 0
    out = sync_json(ws, edited, "--target", target, "--on-conflict", "overwrite")
    assert out["counts"] == {"updated": 1, "unchanged": 899}
    assert staged(ws, item, LOCALE_EN)["summary"] == "Written in the sheet"
    if target == "both":
        assert ws.live(item, LOCALE_EN)["summary"] == "Written in the sheet"
    again = sync_json(ws, edited, "--target", target)  # each side's answer is its base now
    assert again["counts"] == {"unchanged": 900} and again["write_requests"] == 0


def test_both_after_live_only_runs_brings_staged_up_to_date(ws: Workspace) -> None:
    # A live-only run leaves staged behind; that is csvsync's doing, not a Designer edit.
    f = ws.frame.copy()
    f.loc[0, "Summary"] = "live first"
    sheet = ws.write_sheet(f)
    sync_json(ws, sheet)
    out = sync_json(ws, sheet, "--target", "both")
    item = f.loc[0, "Item ID"]
    assert out["counts"] == {"updated": 1, "unchanged": 899}
    assert staged(ws, item, LOCALE_EN)["summary"] == "live first"

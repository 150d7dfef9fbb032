"""An item's publish state across runs: unpublished in Webflow, unpublished by csvsync and back,
and staged writes that are not published yet."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import BULK_COLLECTION_ID, Workspace, read_rows, seed_bulk

from csvsync.ops.demo import DEMO_TOKEN
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import LOCALES
from csvsync.webflow import ClientOptions, WebflowClient

EN = LOCALES["en"]


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000)) as sb:
        mapping, frame = seed_bulk(sb, 20, tmp_path)
        yield Workspace(sb, tmp_path, mapping, frame)


def client(ws: Workspace) -> WebflowClient:
    return WebflowClient(ClientOptions(api_base=ws.sb.base_url, token=DEMO_TOKEN))


def live(ws: Workspace) -> dict[tuple[str, str], dict[str, Any]]:
    with client(ws) as c:
        items = c.iter_items_live(BULK_COLLECTION_ID, cms_locale_ids=list(LOCALES.values()))
        return {(i["id"], i["cmsLocaleId"]): i["fieldData"] for i in items}


def staged(ws: Workspace) -> dict[tuple[str, str], dict[str, Any]]:
    with client(ws) as c:
        items = c.iter_items(BULK_COLLECTION_ID, cms_locale_ids=list(LOCALES.values()))
        return {(i["id"], i["cmsLocaleId"]): i["fieldData"] for i in items}


def run_json(ws: Workspace, *args: object) -> dict[str, Any]:
    res = ws.run(*[str(a) for a in args], "--json")
    assert res.stdout.strip(), res.output
    out: dict[str, Any] = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["exit_code"] == res.exit_code
    return out


def patches(ws: Workspace) -> list[dict[str, Any]]:
    return [e for e in ws.sb.log() if e["method"] == "PATCH"]


# -- unpublished (or archived) in Webflow ----------------------------------------------------


@pytest.mark.parametrize("how", ["unpublished", "archived"])
def test_an_item_taken_offline_in_webflow_is_not_live_once_then_left_alone(
    ws: Workspace, how: str
) -> None:
    sheet = ws.write_sheet(ws.frame, "bulk.csv")
    run_json(ws, "sync", sheet, "-m", ws.mapping)  # the cache knows every item live
    item = ws.frame.loc[3, "Item ID"]
    with client(ws) as c:
        if how == "unpublished":
            c.delete_items_live(BULK_COLLECTION_ID, [{"id": item, "cmsLocaleIds": [EN]}])
        else:
            c.update_items_live(BULK_COLLECTION_ID, [{"id": item, "isArchived": True}])
    f = ws.frame.copy()
    f["Summary"] = f["Summary"] + " v2"
    sheet = ws.write_sheet(f, "bulk.csv")
    res = ws.run("sync", sheet, "-m", ws.mapping, "--results", ws.dir / "r.xlsx")
    assert res.exit_code == 0, res.output  # an editor's choice, not a failure of the run
    rows = read_rows(ws.dir / "r.xlsx")
    mine = rows[(rows["Item ID"] == item) & (rows["Locale"] == "en")].iloc[0]
    assert mine["Outcome"] == "not live"
    assert "publish the item in Webflow" in mine["Message"]
    assert (rows["Outcome"] == "updated").sum() == 19
    ws.sb.clear_log()
    for _ in range(2):  # later runs send nothing for it, and still say why
        out = run_json(ws, "sync", sheet, "-m", ws.mapping)
        assert out["counts"] == {"unchanged": 59, "not live": 1}
        assert out["write_requests"] == 0
    if how == "unpublished":  # published again in Webflow: the next run updates it
        with client(ws) as c:
            c.publish_items(BULK_COLLECTION_ID, [{"id": item, "cmsLocaleIds": [EN]}])
        out = run_json(ws, "sync", sheet, "-m", ws.mapping)
        assert out["counts"] == {"unchanged": 59, "updated": 1}
        assert live(ws)[(item, EN)]["summary"] == f.loc[3, "Summary"]


# -- unpublished by csvsync, and the row comes back ------------------------------------------


def test_an_item_csvsync_unpublished_is_published_again_when_its_row_is_back(
    ws: Workspace,
) -> None:
    gone = [ws.frame.loc[i, "Item ID"] for i in (2, 7)]
    part = ws.write_sheet(ws.frame.drop(index=[2, 7]), "part.csv")
    out = run_json(ws, "sync", part, "-m", ws.mapping, "--unpublish-missing")
    assert out["counts"]["unpublished"] == 2
    assert not any((i, EN) in live(ws) for i in gone)
    f = ws.frame.copy()
    f.loc[2, "Summary [fr]"] = "De retour"
    full = ws.write_sheet(f, "full.csv")
    plan = run_json(ws, "plan", full, "-m", ws.mapping)
    assert plan["counts"] == {"unchanged": 54, "would publish": 6}
    out = run_json(ws, "sync", full, "-m", ws.mapping)
    assert out["counts"] == {"unchanged": 54, "published": 6}
    now = live(ws)
    for i in gone:
        for loc in LOCALES.values():
            assert (i, loc) in now
    assert now[(gone[0], LOCALES["fr-FR"])]["summary"] == "De retour"
    out = run_json(ws, "sync", full, "-m", ws.mapping)
    assert out["counts"] == {"unchanged": 60} and out["write_requests"] == 0
    # The republish is a run of its own: its revert takes the items offline again.
    rev = run_json(ws, "revert", "last", "-m", ws.mapping)
    assert rev["exit_code"] == 0
    assert not any((i, EN) in live(ws) for i in gone)


# -- written staged, not published yet -------------------------------------------------------


def test_a_refused_publish_is_retried_by_the_next_run_until_live_matches(ws: Workspace) -> None:
    f = ws.frame.copy()
    f["Summary"] = f["Summary"] + " staged"
    sheet = ws.write_sheet(f, "bulk.csv")
    bad = f.loc[4, "Item ID"]
    ws.sb.set_faults(reject=[{"item_id": bad, "on": "publish", "description": "locked"}])
    out = run_json(ws, "sync", sheet, "-m", ws.mapping, "--target", "staged", "--publish")
    assert out["exit_code"] == 1 and out["counts"] == {"updated": 19, "failed": 1, "unchanged": 40}
    # Still refused: the next run (no --publish needed) tries again and says so again.
    out = run_json(ws, "sync", sheet, "-m", ws.mapping, "--target", "staged")
    assert out["exit_code"] == 1 and out["counts"] == {"failed": 1, "unchanged": 59}
    assert out["write_requests"] == 1  # the publish alone: staged already holds the sheet
    assert live(ws)[(bad, EN)]["summary"] == ws.frame.loc[4, "Summary"]
    ws.sb.set_faults(reject=[])
    out = run_json(ws, "sync", sheet, "-m", ws.mapping, "--target", "staged")
    assert out["exit_code"] == 0 and out["counts"] == {"published": 1, "unchanged": 59}
    assert live(ws)[(bad, EN)]["summary"] == f.loc[4, "Summary"]
    out = run_json(ws, "sync", sheet, "-m", ws.mapping, "--target", "staged")
    assert out["counts"] == {"unchanged": 60} and out["write_requests"] == 0


def test_a_later_publish_publishes_what_an_earlier_staged_run_left(ws: Workspace) -> None:
    f = ws.frame.copy()
    f.loc[0, "Summary"] = "first staged"
    run_json(ws, "sync", ws.write_sheet(f, "a.csv"), "-m", ws.mapping, "--target", "staged")
    f.loc[1, "Summary [fr]"] = "deuxième"
    out = run_json(ws, "sync", ws.write_sheet(f, "b.csv"), "-m", ws.mapping, "--target", "staged")
    assert out["counts"] == {"updated": 1, "unchanged": 59}
    assert live(ws)[(f.loc[0, "Item ID"], EN)]["summary"] == ws.frame.loc[0, "Summary"]
    out = run_json(
        ws, "sync", ws.write_sheet(f, "b.csv"), "-m", ws.mapping, "--target", "staged", "--publish"
    )
    assert out["counts"] == {"published": 2, "unchanged": 58}
    now = live(ws)
    assert now[(f.loc[0, "Item ID"], EN)]["summary"] == "first staged"
    assert now[(f.loc[1, "Item ID"], LOCALES["fr-FR"])]["summary"] == "deuxième"
    assert staged(ws)[(f.loc[0, "Item ID"], EN)]["summary"] == "first staged"

"""--target staged|both: the Designer's version, publishing, and the two kept equal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import Workspace, make_workspace

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
    assert json.loads(res.stdout)["counts"]["updated"] == 1
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

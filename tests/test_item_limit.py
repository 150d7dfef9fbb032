"""The site plan's item limit: the sandbox refuses creates past it, csvsync stops creating at the
first refusal, and ``--item-limit`` refuses before anything is sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests
from support import Workspace, make_workspace, read_rows

from csvsync.cli import cli
from csvsync.ops.demo import DEMO_TOKEN
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import (
    DEMO_AUTHORS_COLLECTION_ID,
    DEMO_COLLECTION_ID,
    DEMO_SITE_ID,
    LOCALE_EN,
)

SEEDED = 312  # 300 products and 12 authors: the limit counts the whole site


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000)) as sb:
        yield make_workspace(sb, tmp_path)


def _post(sb: Sandbox, path: str, body: Any) -> requests.Response:
    auth = {"Authorization": f"Bearer {DEMO_TOKEN}"}
    return requests.post(sb.base_url + path, json=body, headers=auth, timeout=10)


def _sheet(ws: Workspace, updated: int, new: int) -> Path:
    """``updated`` rows with a new summary and ``new`` rows without an id (new items)."""
    old = ws.frame.head(updated).copy()
    old["Summary"] = old["Summary"] + " (updated)"
    rows = ws.frame.iloc[updated : updated + new].copy()
    rows["Item ID"] = ""
    for i in range(new):
        for suffix, word in (("", "New"), (" [fr]", "Nouveau"), (" [de]", "Neu")):
            rows.iloc[i, rows.columns.get_loc("Name" + suffix)] = f"{word} {i}"
            rows.iloc[i, rows.columns.get_loc("Slug" + suffix)] = f"{word.lower()}-{i}"
    return ws.write_sheet(pd.concat([old, rows], ignore_index=True))


def test_the_sandbox_refuses_a_create_past_the_sites_item_limit(ws: Workspace) -> None:
    sb = ws.sb
    plan = requests.post(sb.control_url + "/plan", json={"item_limit": SEEDED + 2}, timeout=10)
    assert plan.json() == {"item_limit": SEEDED + 2}
    assert sb.store.site_item_count(DEMO_SITE_ID) == SEEDED
    # Authors count against the same limit as products: it is the site's.
    one = _post(sb, f"/collections/{DEMO_AUTHORS_COLLECTION_ID}/items/live",
                {"items": [{"fieldData": {"name": "Grace", "slug": "grace"}}]})  # fmt: skip
    assert one.status_code == 202, one.text
    two = [{"fieldData": {"name": f"P {n}", "slug": f"p-{n}"}} for n in range(2)]
    refused = _post(sb, f"/collections/{DEMO_COLLECTION_ID}/items/live", {"items": two})
    assert refused.status_code == 409
    assert refused.json() == {
        "message": f"Conflict: Item limit reached: the site's plan allows {SEEDED + 2} CMS items",
        "code": "conflict",
        "externalReference": None,
        "details": [],
    }
    assert sb.store.site_item_count(DEMO_SITE_ID) == SEEDED + 1  # refused whole, not in part
    bulk = {"cmsLocaleIds": [LOCALE_EN], "fieldData": [t["fieldData"] for t in two]}
    assert _post(sb, f"/collections/{DEMO_COLLECTION_ID}/items/bulk", bulk).status_code == 409
    assert _post(sb, f"/collections/{DEMO_COLLECTION_ID}/items", {"items": two[:1]}).ok
    assert requests.get(sb.control_url + "/plan", timeout=10).json()["item_limit"] == SEEDED + 2
    bad = requests.post(sb.control_url + "/plan", json={"item_limit": -1}, timeout=10)
    assert bad.status_code == 400
    sb.set_item_limit(None)
    more = [{"fieldData": {"name": f"Q {n}", "slug": f"q-{n}"}} for n in range(2)]
    assert _post(sb, f"/collections/{DEMO_COLLECTION_ID}/items/live", {"items": more}).ok


def test_sync_stops_creating_at_the_first_limit_refusal_and_updates_still_go(
    ws: Workspace,
) -> None:
    ws.sb.set_item_limit(SEEDED + 1)  # room for one; the three new rows come in one request
    sheet = _sheet(ws, updated=2, new=3)
    res = ws.run("sync", sheet, "-m", ws.mapping, "--json", "--results", ws.dir / "r.xlsx")
    assert res.exit_code == 1, res.output
    out = json.loads(res.stdout)
    assert out["counts"] == {"updated": 2, "unchanged": 4, "not sent": 9}, out
    assert out["created"] == {}
    creates = [e for e in ws.writes() if e["method"] == "POST" and "/items" in e["path"]]
    assert len(creates) == 1, creates  # not retried item by item
    rows = read_rows(ws.dir / "r.xlsx")
    reasons = set(rows[rows["Outcome"] == "not sent"]["Message"])
    assert reasons == {
        f"Webflow refused: the site's plan allows {SEEDED + 1} items (item limit reached); "
        "nothing more was created: upgrade the plan or remove items"
    }
    assert ws.sb.store.site_item_count(DEMO_SITE_ID) == SEEDED
    assert ws.live(ws.frame.loc[0, "Item ID"], LOCALE_EN)["summary"].endswith("(updated)")


def test_item_limit_option_refuses_before_sending_and_plan_notes_it(ws: Workspace) -> None:
    sheet = _sheet(ws, updated=1, new=3)
    ws.sb.clear_log()
    res = ws.run("sync", sheet, "-m", ws.mapping, "--item-limit", str(SEEDED + 2))
    assert res.exit_code == 2, res.output
    assert (
        f"--item-limit {SEEDED + 2}: this run would create 3 item(s) and the site has {SEEDED}, "
        "1 past the plan's limit" in res.output
    )
    assert ws.writes() == []  # not even the update
    counts = [e for e in ws.sb.log() if e["query"] == "offset=0&limit=1"]
    assert sorted(e["path"] for e in counts) == sorted(
        f"/v2/collections/{c}/items" for c in (DEMO_COLLECTION_ID, DEMO_AUTHORS_COLLECTION_ID)
    )
    plan = ws.run("plan", sheet, "-m", ws.mapping, "--item-limit", str(SEEDED + 2))
    assert plan.exit_code == 0, plan.output
    assert "A sync would refuse this: --item-limit" in " ".join(plan.output.split())
    ok = ws.run("sync", sheet, "-m", ws.mapping, "--item-limit", str(SEEDED + 3), "--json")
    assert ok.exit_code == 0, ok.output
    assert len(json.loads(ok.stdout)["created"]) == 3


def test_sandbox_command_takes_item_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    import csvsync.sandbox

    seen: dict[str, Any] = {}

    def serve_once(opts: SandboxOptions, on_ready: Any, stop: Any = None) -> None:
        with Sandbox(opts) as sb:
            on_ready(sb.base_url)
            seen["plan"] = requests.get(sb.control_url + "/plan", timeout=10).json()

    monkeypatch.setattr(csvsync.sandbox, "run_forever", serve_once)
    from click.testing import CliRunner

    res = CliRunner().invoke(cli, ["sandbox", "--port", "0", "--item-limit", "2000"])
    assert res.exit_code == 0, res.output
    assert seen["plan"] == {"item_limit": 2000}

"""``plan --save-plan`` / ``sync --plan``: the sync applies exactly the plan that was reviewed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import Workspace, make_workspace

from csvsync.ops.demo import DEMO_TOKEN
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import DEMO_COLLECTION_ID, LOCALE_EN
from csvsync.webflow import ClientOptions, WebflowClient


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000)) as sb:
        yield make_workspace(sb, tmp_path)


def edit_live(ws: Workspace, item: str, field_data: dict) -> None:
    with WebflowClient(ClientOptions(api_base=ws.sb.base_url, token=DEMO_TOKEN)) as c:
        c.update_items_live(DEMO_COLLECTION_ID, [{"id": item, "fieldData": field_data}])


def saved(ws: Workspace, *extra: str) -> tuple[Path, dict]:
    f = ws.frame.copy()
    for i in range(3):
        f.loc[i, "Summary"] = f"reviewed {i}"
    sheet = ws.write_sheet(f)
    path = ws.dir / "plan.json"
    res = ws.run("plan", sheet, "-m", ws.mapping, "--save-plan", path, "--json", *extra)
    assert res.exit_code == 0, res.output
    return path, json.loads(res.stdout)


def test_a_saved_plan_is_applied_exactly(ws: Workspace) -> None:
    path, plan = saved(ws, "--batch-size", "2")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == "csvsync-plan/1" and len(doc["fingerprint"]["cells"]) == 3
    assert doc["options"]["batch_size"] == 2  # the sync runs with the options reviewed
    assert DEMO_TOKEN not in path.read_text(encoding="utf-8")
    ws.sb.clear_log()
    res = ws.run("sync", "-m", ws.mapping, "--plan", path, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["counts"]["updated"] == 3
    assert out["write_requests"] == plan["would_send_total"] == 2
    assert ws.live(ws.frame.loc[2, "Item ID"], LOCALE_EN)["summary"] == "reviewed 2"


def test_a_planned_cell_edited_in_webflow_refuses_the_plan(ws: Workspace) -> None:
    path, _ = saved(ws)
    edit_live(ws, ws.frame.loc[1, "Item ID"], {"summary": "an editor's fix"})
    ws.sb.clear_log()
    res = ws.run("sync", "-m", ws.mapping, "--plan", path, "--json")
    assert res.exit_code == 2, res.output
    error = json.loads(res.stdout)["error"]
    assert "no longer holds, nothing was sent" in error["message"]
    assert "summary of item " + ws.frame.loc[1, "Item ID"] in error["message"]
    assert ws.writes() == []
    assert ws.live(ws.frame.loc[1, "Item ID"], LOCALE_EN)["summary"] == "an editor's fix"


def test_an_edit_elsewhere_in_the_collection_does_not_block_it(ws: Workspace) -> None:
    path, _ = saved(ws)
    edit_live(ws, ws.frame.loc[50, "Item ID"], {"summary": "a cron job's change"})
    res = ws.run("sync", "-m", ws.mapping, "--plan", path, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["counts"]["updated"] == 3 and out["counts"]["changed in Webflow"] == 1


def test_a_changed_sheet_refuses_the_plan_before_any_request(ws: Workspace) -> None:
    path, _ = saved(ws)
    sheet = ws.dir / "products.csv"
    sheet.write_text(sheet.read_text(encoding="utf-8").replace("reviewed 0", "edited"), "utf-8")
    ws.sb.clear_log()
    res = ws.run("sync", "-m", ws.mapping, "--plan", path)
    assert res.exit_code == 2 and "the sheet changed since plan" in res.stderr
    assert ws.sb.log() == []
    res = ws.run("sync", sheet, "-m", ws.mapping, "--plan", path)
    assert res.exit_code == 2 and "sync --plan takes no SHEET" in res.stderr
    res = ws.run("sync", "-m", ws.mapping)
    assert res.exit_code == 2 and "sync needs a SHEET" in res.stderr


def test_a_plan_file_that_cannot_be_written_is_one_line_before_any_request(ws: Workspace) -> None:
    ws.sb.clear_log()
    res = ws.run("plan", ws.write_sheet(), "-m", ws.mapping, "--save-plan",
                 ws.dir / "missing" / "plan.json")  # fmt: skip
    assert res.exit_code == 2 and res.stderr.count("\n") == 1
    assert "cannot write the plan file" in res.stderr and "does not exist" in res.stderr
    assert ws.sb.log() == [] and not (ws.dir / "missing").exists()

"""Unattended runs: lock, machine-readable output, drift, faults, budgets and the token."""

from __future__ import annotations

import json
import os
import sqlite3
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from click.testing import Result
from support import BULK_COLLECTION_ID, Workspace, make_workspace, read_rows, seed_bulk

from csvsync.ops import lock as run_lock
from csvsync.ops.demo import DEMO_TOKEN
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import DEMO_COLLECTION_ID, LOCALE_EN, LOCALES
from csvsync.state.cache import State
from csvsync.webflow import ClientOptions, WebflowClient


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000)) as sb:
        yield make_workspace(sb, tmp_path)


def run_json(ws: Workspace, *args: object) -> dict:
    res = ws.run(*[str(a) for a in args], "--json")
    assert res.stdout.strip(), res.output
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["exit_code"] == res.exit_code
    return out


def edit_live(ws: Workspace, item: str, field_data: dict) -> None:
    with WebflowClient(ClientOptions(api_base=ws.sb.base_url, token=DEMO_TOKEN)) as c:
        c.update_items_live(DEMO_COLLECTION_ID, [{"id": item, "fieldData": field_data}])


# -- cron ----------------------------------------------------------------------------------------


def test_a_second_run_exits_3_while_the_lock_is_held(ws: Workspace) -> None:
    sheet = ws.write_sheet()
    lock = run_lock.acquire(ws.sb.base_url, DEMO_COLLECTION_ID)
    try:
        for command in (["sync", sheet], ["plan", sheet], ["pull"]):
            res = ws.run(*command, "-m", ws.mapping)
            assert res.exit_code == 3, res.output
            assert "another csvsync run holds the lock" in res.stderr
    finally:
        lock.release()
    assert ws.run("sync", sheet, "-m", ws.mapping).exit_code == 0


@pytest.mark.slow
def test_quiet_prints_nothing_on_success_and_json_is_one_object(ws: Workspace) -> None:
    sheet = ws.write_sheet()
    res = ws.run("sync", sheet, "-m", ws.mapping, "--quiet")
    assert res.exit_code == 0 and res.output == ""
    out = run_json(ws, "sync", sheet, "-m", ws.mapping)
    assert set(out) >= {
        "run_id",
        "counts",
        "requests",
        "write_requests",
        "duration",
        "results",
        "exit_code",
    }
    assert out["results"] is None  # a run that changed nothing leaves no workbook


@pytest.mark.slow
def test_pull_reports_progress_against_the_total_unless_quiet(ws: Workspace) -> None:
    res = ws.run("pull", "-m", ws.mapping)
    assert res.exit_code == 0, res.output
    assert res.stdout == "Pulled 900 item-variants.\n"
    # Not a terminal: the first count, then the end, each against the server's total.
    assert res.stderr.splitlines() == ["Reading live items: 500/900", "Reading live items: 900/900"]
    quiet = ws.run("pull", "-m", ws.mapping, "--refresh", "--quiet")
    assert quiet.exit_code == 0 and quiet.output == ""


@pytest.mark.slow
def test_log_file_has_a_json_line_per_batch(ws: Workspace) -> None:
    f = ws.frame.copy()
    f["Summary"] = f["Summary"] + " (log)"
    log = ws.dir / "logs" / "sync.jsonl"
    res = ws.run(
        "sync",
        ws.write_sheet(f),
        "-m",
        ws.mapping,
        "--log-file",
        log,
        "--log-format",
        "json",
        "--batch-size",
        "50",
    )
    assert res.exit_code == 0, res.output
    events = [json.loads(line) for line in log.read_text().splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("batch") == 6
    batches = [e for e in events if e["event"] == "batch"]
    assert sum(e["outcomes"]["updated"] for e in batches) == 300
    assert all("time" in e for e in events)


# -- drift ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_changed_in_webflow_is_listed_not_written(ws: Workspace) -> None:
    sheet = ws.write_sheet()
    run_json(ws, "sync", sheet, "-m", ws.mapping)
    item = ws.frame.loc[0, "Item ID"]
    edit_live(ws, item, {"summary": "Fixed by an editor"})
    ws.sb.clear_log()
    for _ in range(2):  # the base stays: listed again until the sheet catches up
        out = run_json(ws, "sync", sheet, "-m", ws.mapping)
        assert out["exit_code"] == 0
        assert out["counts"]["changed in Webflow"] == 1
        assert out["write_requests"] == 0
    assert ws.live(item, LOCALE_EN)["summary"] == "Fixed by an editor"
    f = ws.frame.copy()
    f.loc[0, "Summary"] = "Fixed by an editor"  # the sheet catches up: unchanged, base moves
    out = run_json(ws, "sync", ws.write_sheet(f), "-m", ws.mapping)
    assert out["counts"] == {"unchanged": 900} and out["write_requests"] == 0


@pytest.mark.slow
def test_conflict_is_reported_with_base_live_and_sheet(ws: Workspace) -> None:
    sheet = ws.write_sheet()
    run_json(ws, "sync", sheet, "-m", ws.mapping)
    item = ws.frame.loc[0, "Item ID"]
    base = ws.frame.loc[0, "Summary"]
    edit_live(ws, item, {"summary": "Editor's text"})
    f = ws.frame.copy()
    f.loc[0, "Summary"] = "Sheet's text"
    sheet = ws.write_sheet(f)
    res = ws.run("sync", sheet, "-m", ws.mapping, "--results", ws.dir / "r.xlsx")
    assert res.exit_code == 1, res.output
    rows = read_rows(ws.dir / "r.xlsx")
    row = rows[rows["Outcome"] == "conflict"].iloc[0]
    assert "Editor's text" in row["Message"] and "Sheet's text" in row["Message"]
    assert base[:20] in row["Message"]
    assert ws.live(item, LOCALE_EN)["summary"] == "Editor's text"
    out = run_json(ws, "sync", sheet, "-m", ws.mapping, "--on-conflict", "overwrite")
    assert out["counts"]["updated"] == 1
    assert ws.live(item, LOCALE_EN)["summary"] == "Sheet's text"


def test_keep_live_keeps_the_editors_value_on_every_later_run(ws: Workspace) -> None:
    sheet = ws.write_sheet()
    run_json(ws, "sync", sheet, "-m", ws.mapping)
    item = ws.frame.loc[0, "Item ID"]
    edit_live(ws, item, {"summary": "Editor's text"})
    out = run_json(ws, "sync", sheet, "-m", ws.mapping, "--on-conflict", "keep-live")
    assert out["counts"] == {"unchanged": 900}
    ws.sb.clear_log()
    # Two later runs (with the default rule) of the same, stale sheet: the editor's fix stays.
    for _ in range(2):
        out = run_json(ws, "sync", sheet, "-m", ws.mapping)
        assert out["counts"] == {"unchanged": 900} and out["write_requests"] == 0
    assert ws.live(item, LOCALE_EN)["summary"] == "Editor's text"
    # A sheet edited since is a change again, and that decision is not held any more.
    f = ws.frame.copy()
    f.loc[0, "Summary"] = "A new text"
    out = run_json(ws, "sync", ws.write_sheet(f, "edited.csv"), "-m", ws.mapping)
    assert out["counts"]["updated"] == 1
    assert ws.live(item, LOCALE_EN)["summary"] == "A new text"
    out = run_json(ws, "sync", sheet, "-m", ws.mapping)  # back to the old sheet: a change
    assert out["counts"]["updated"] == 1
    assert ws.live(item, LOCALE_EN)["summary"] == ws.frame.loc[0, "Summary"]


def test_keep_live_of_a_conflict_holds_the_sheets_value_too(ws: Workspace) -> None:
    sheet = ws.write_sheet()
    run_json(ws, "sync", sheet, "-m", ws.mapping)
    item = ws.frame.loc[0, "Item ID"]
    edit_live(ws, item, {"summary": "Editor's text"})
    f = ws.frame.copy()
    f.loc[0, "Summary"] = "Sheet's text"
    conflicting = ws.write_sheet(f, "conflicting.csv")
    out = run_json(ws, "sync", conflicting, "-m", ws.mapping, "--on-conflict", "keep-live")
    assert out["counts"] == {"unchanged": 900}
    out = run_json(ws, "sync", conflicting, "-m", ws.mapping)
    assert out["counts"] == {"unchanged": 900} and out["write_requests"] == 0
    edit_live(ws, item, {"summary": "Editor's second text"})  # the editor again: drift
    out = run_json(ws, "sync", conflicting, "-m", ws.mapping)
    assert out["counts"]["changed in Webflow"] == 1 and out["write_requests"] == 0


@pytest.mark.slow
def test_a_date_the_sheet_and_an_editor_both_set_is_not_a_conflict(ws: Workspace) -> None:
    # "Launch date" is a date-only column: the editor's time of day must not make it differ.
    run_json(ws, "sync", ws.write_sheet(), "-m", ws.mapping)
    item = ws.frame.loc[0, "Item ID"]
    day = (pd.Timestamp(ws.frame.loc[0, "Launch date"]) + pd.Timedelta(days=3)).strftime("%Y-%m-%d")
    with WebflowClient(ClientOptions(api_base=ws.sb.base_url, token=DEMO_TOKEN)) as c:
        c.update_items_live(  # a date is one value for the item: the editor's, in every locale
            DEMO_COLLECTION_ID,
            [{"id": item, "cmsLocaleId": loc, "fieldData": {"launch-date": f"{day}T15:30:00.000Z"}}
             for loc in LOCALES.values()],
        )  # fmt: skip
    f = ws.frame.copy()
    f.loc[0, "Launch date"] = day
    out = run_json(ws, "sync", ws.write_sheet(f), "-m", ws.mapping)
    assert out["counts"] == {"unchanged": 900} and out["write_requests"] == 0
    assert ws.live(item, LOCALE_EN)["launch-date"] == f"{day}T15:30:00.000Z"


def test_a_value_that_landed_unconfirmed_counts_as_unchanged(ws: Workspace) -> None:
    sheet = ws.write_sheet()
    run_json(ws, "sync", sheet, "-m", ws.mapping)
    item = ws.frame.loc[0, "Item ID"]
    edit_live(ws, item, {"summary": "Already there"})  # as if our answer had been lost
    f = ws.frame.copy()
    f.loc[0, "Summary"] = "Already there"
    out = run_json(ws, "sync", ws.write_sheet(f), "-m", ws.mapping)
    assert out["counts"] == {"unchanged": 900} and out["write_requests"] == 0


@pytest.mark.slow
def test_a_killed_run_hides_no_landed_batch_from_the_next_refresh(ws: Workspace) -> None:
    # Batches land concurrently, so Webflow can stamp a later batch before an earlier one. A
    # run killed after recording the later batch but not the earlier one leaves the cache's
    # newest stamp past the unrecorded batch: the next refresh must still read that batch.
    sheet = ws.write_sheet()
    run_json(ws, "sync", sheet, "-m", ws.mapping)
    db_path = ws.mapping.parent / ".csvsync" / "state.db"
    state = State(db_path)
    try:
        scope = state.scope(ws.sb.base_url, DEMO_COLLECTION_ID)
        state.start_run("killed", scope, "sync", str(sheet), str(ws.mapping), "2026-01-01")
    finally:
        state.close()
    landed, recorded = ws.frame.loc[0, "Item ID"], ws.frame.loc[1, "Item ID"]
    edit_live(ws, landed, {"summary": "Landed, not recorded"})
    with sqlite3.connect(db_path) as db:  # the later batch, recorded with a newer stamp
        db.execute(
            "UPDATE variants SET last_updated='2099-01-01T00:00:00.000Z' WHERE item_id=?",
            (recorded,),
        )
    f = ws.frame.copy()
    f.loc[0, "Summary"] = "Landed, not recorded"
    out = run_json(ws, "plan", ws.write_sheet(f), "-m", ws.mapping)
    assert out["counts"] == {"unchanged": 900}
    # Caught up: the next refresh starts from the newest stamp again.
    ws.sb.clear_log()
    run_json(ws, "plan", ws.write_sheet(f), "-m", ws.mapping)
    reads = [e for e in ws.sb.log() if e["path"].endswith(f"{DEMO_COLLECTION_ID}/items/live")]
    assert reads and all("2099" in str(e.get("query", "")) for e in reads), reads


# -- faults --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_5000_variants_sync_through_faults(tmp_path: Path) -> None:
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000)) as sb:
        mapping, frame = seed_bulk(sb, 1667, tmp_path)
        ws = Workspace(sb, tmp_path, mapping, frame)
        for col in ("Summary", "Summary [fr]", "Summary [de]"):
            frame[col] = frame[col] + " v2"
        sheet = ws.write_sheet(frame, "bulk.csv")
        assert ws.run("pull", "-m", mapping).exit_code == 0
        sb.clear_log()
        sb.set_faults(
            error_rate=0.10,
            drop_rate=0.05,
            spike_rate=0.05,
            spike_latency=0.6,
            burst_429=3,
            retry_after=1,
            seed=7,
        )
        res = ws.run(
            "sync", sheet, "-m", mapping, "--json", "--timeout", "0.4", "--max-retry-time", "60"
        )
        sb.reset_faults()
        out = json.loads(res.stdout.strip().splitlines()[-1])
        assert res.exit_code == 0, res.output
        assert out["counts"] == {"updated": 5001}
        assert out["requests"] > out["write_requests"] >= 51
        log = sb.log()
        first_429 = next(e for e in log if e["status"] == 429)
        started_early = [e for e in log if first_429["time"] < e["time"] < first_429["time"] + 0.9]
        assert len(started_early) <= 3  # only requests already in flight; no early retry
        again = ws.run("sync", sheet, "-m", mapping, "--json")
        assert json.loads(again.stdout)["write_requests"] == 0
        with WebflowClient(ClientOptions(api_base=sb.base_url, token=DEMO_TOKEN)) as c:
            live = list(
                c.iter_items_live(BULK_COLLECTION_ID, cms_locale_ids=list(_locales().values()))
            )
        assert len(live) == 5001 and all(i["fieldData"]["summary"].endswith(" v2") for i in live)


def _locales() -> dict[str, str]:
    from csvsync.sandbox.seed import LOCALES

    return LOCALES


@pytest.mark.slow
def test_api_down_past_the_budget_stops_with_exit_4(ws: Workspace) -> None:
    f = ws.frame.copy()
    f["Summary"] = f["Summary"] + " x"
    sheet = ws.write_sheet(f)
    assert ws.run("pull", "-m", ws.mapping).exit_code == 0
    ws.sb.set_faults(error_rate=1.0, methods=["PATCH"])
    res = ws.run(
        "sync", sheet, "-m", ws.mapping, "--max-retry-time", "1", "--results", ws.dir / "r.xlsx"
    )
    ws.sb.reset_faults()
    assert res.exit_code == 4, res.output
    assert "--max-retry-time" in res.output or "unavailable" in res.output
    rows = pd.read_excel(ws.dir / "r.xlsx", sheet_name="Rows", engine="openpyxl")
    assert (rows["Outcome"] == "not sent").sum() == 300
    out = run_json(ws, "sync", sheet, "-m", ws.mapping)
    assert out["counts"]["updated"] == 300


@pytest.mark.slow
def test_a_stopped_run_also_keeps_the_refresh_reading_from_before_it(ws: Workspace) -> None:
    # Every PATCH lands but its answer is lost, until the retry budget stops the run: nothing
    # is recorded. Even with a newer stamp in the cache afterwards, the next refresh must read
    # what landed, so the next plan has nothing left to send.
    f = ws.frame.copy()
    f["Summary"] = f["Summary"] + " x"
    sheet = ws.write_sheet(f)
    assert ws.run("pull", "-m", ws.mapping).exit_code == 0
    ws.sb.set_faults(drop_rate=1.0, drop_after_apply=True, methods=["PATCH"])
    res = ws.run("sync", sheet, "-m", ws.mapping, "--max-retry-time", "1")
    ws.sb.reset_faults()
    assert res.exit_code == 4, res.output
    with sqlite3.connect(ws.mapping.parent / ".csvsync" / "state.db") as db:
        db.execute(
            "UPDATE variants SET last_updated='2099-01-01T00:00:00.000Z' WHERE item_id=?",
            (ws.frame.loc[1, "Item ID"],),
        )
    out = run_json(ws, "plan", sheet, "-m", ws.mapping)
    assert out["counts"] == {"unchanged": 900}


# -- the token -----------------------------------------------------------------------------------


def test_the_token_is_nowhere_after_a_failed_run(tmp_path: Path) -> None:
    token = "tok-VERY-SECRET-4f1c2b"
    with Sandbox(SandboxOptions(seed="demo", token=token, rate_limit=100_000)) as sb:
        ws = make_workspace_with_token(sb, tmp_path, token)
        f = ws.frame.copy()
        f.loc[0:4, "Summary"] = "bad"
        sheet = ws.write_sheet(f)
        sb.set_faults(reject=[{"field": "summary"}])
        log = tmp_path / "run.log"
        res = ws.run(
            "sync",
            sheet,
            "-m",
            ws.mapping,
            "--log-file",
            log,
            "--results",
            tmp_path / "r.xlsx",
            env={"WEBFLOW_API_TOKEN": token},
        )
        assert res.exit_code == 1, res.output
        texts = [res.output, log.read_text()]
        with zipfile.ZipFile(tmp_path / "r.xlsx") as z:
            texts += [z.read(n).decode("utf-8", "replace") for n in z.namelist()]
        blobs = [p.read_bytes() for p in (tmp_path / ".csvsync").rglob("*") if p.is_file()]
        assert all(token not in t for t in texts)
        assert all(token.encode() not in b for b in blobs)


def make_workspace_with_token(sb: Sandbox, tmp_path: Path, token: str) -> Workspace:
    """A workspace whose sandbox wants ``token`` (the demo helpers read DEMO_TOKEN)."""
    import support

    from csvsync.ops import demo

    saved = demo.DEMO_TOKEN, support.DEMO_TOKEN
    demo.DEMO_TOKEN = support.DEMO_TOKEN = token
    try:
        return make_workspace(sb, tmp_path)
    finally:
        demo.DEMO_TOKEN, support.DEMO_TOKEN = saved


# -- monitoring: one JSON object and one end line on every exit ----------------------------------


def only_json(res: Result) -> dict:
    lines = res.stdout.strip().splitlines()
    assert len(lines) == 1, res.output
    out: dict = json.loads(lines[0])
    assert out["exit_code"] == res.exit_code
    return out


def test_json_and_the_log_end_line_on_every_exit(ws: Workspace) -> None:
    sheet = ws.write_sheet()
    log = ws.dir / "run.jsonl"
    logged = ("--log-file", log, "--log-format", "json")
    # 0 and 1: the run's summary
    assert only_json(ws.run("sync", sheet, "-m", ws.mapping, "--json", *logged))["counts"]
    bad = ws.frame.astype({"Price": object})
    bad.loc[0, "Price"] = "lots"
    out = only_json(ws.run("sync", ws.write_sheet(bad, "bad.csv"), "-m", ws.mapping, "--json"))
    assert out["exit_code"] == 1 and out["counts"]["invalid"] == 3  # Price: every locale
    # 2: the run cannot start (a sheet that is not there)
    res = ws.run("sync", ws.dir / "nowhere.csv", "-m", ws.mapping, "--json", *logged)
    out = only_json(res)
    assert out["exit_code"] == 2 and out["command"] == "sync"
    assert out["error"]["code"] == "sheet" and "nowhere.csv" in out["error"]["message"]
    assert set(out["error"]) == {"exit_code", "code", "message", "hint"}
    # 3: another run holds the lock
    lock = run_lock.acquire(ws.sb.base_url, DEMO_COLLECTION_ID)
    try:
        for command in (["sync", sheet], ["plan", sheet], ["pull"], ["revert", "last"]):
            out = only_json(ws.run(*command, "-m", ws.mapping, "--json", *logged))
            assert out["exit_code"] == 3 and out["error"]["code"] == "locked", command
    finally:
        lock.release()
    # pull takes --json and --log-file too
    out = only_json(ws.run("pull", "-m", ws.mapping, "--json", *logged))
    assert set(out) == {"command", "pulled", "exit_code"} and out["exit_code"] == 0
    events = [json.loads(line) for line in log.read_text().splitlines()]
    ends = [(e["command"], e["exit_code"], (e.get("error") or {}).get("code")) for e in events
            if e["event"] == "end"]  # fmt: skip
    assert ends == [
        ("sync", 0, None),
        ("sync", 2, "sheet"),
        ("sync", 3, "locked"),
        ("plan", 3, "locked"),
        ("pull", 3, "locked"),
        ("revert", 3, "locked"),
        ("pull", 0, None),
    ]
    assert all(DEMO_TOKEN not in line for line in log.read_text().splitlines())


def status_json(ws: Workspace) -> dict:
    res = ws.run("status", "-m", ws.mapping, "--json")
    out = only_json(res)
    return out


def test_status_says_how_the_runs_stand_and_exits_1_on_problems(ws: Workspace) -> None:
    out = status_json(ws)
    assert out["exit_code"] == 0 and out["last_run"] is None and out["lock"] is None
    sheet = ws.write_sheet()
    synced = run_json(ws, "sync", sheet, "-m", ws.mapping)
    out = status_json(ws)
    assert out["exit_code"] == 0 and out["last_run"]["run_id"] == synced["run_id"]
    assert "Clean." in ws.run("status", "-m", ws.mapping).stdout
    held = run_lock.acquire(ws.sb.base_url, DEMO_COLLECTION_ID)
    try:
        assert status_json(ws)["lock"]["pid"] == os.getpid()
        assert "A run holds the lock now" in ws.run("status", "-m", ws.mapping).stdout
    finally:
        held.release()
    # A conflict left open: exit 1, and the counts say what is open.
    edit_live(ws, ws.frame.loc[0, "Item ID"], {"summary": "Editor's text"})
    f = ws.frame.copy()
    f.loc[0, "Summary"] = "Sheet's text"
    run_json(ws, "sync", ws.write_sheet(f, "conflict.csv"), "-m", ws.mapping)
    out = status_json(ws)
    assert out["exit_code"] == 1 and out["open_conflicts"] == {"conflict": 1}
    assert "left 1 conflict" in out["problems"][0]
    # A publish Webflow refused stays a problem until it goes live.
    f.loc[0, "Summary"] = "Editor's text"
    f.loc[1, "Summary"] = "staged"
    bad = f.loc[1, "Item ID"]
    ws.sb.set_faults(reject=[{"item_id": bad, "on": "publish", "description": "locked"}])
    staged = ws.write_sheet(f, "staged.csv")
    run_json(ws, "sync", staged, "-m", ws.mapping, "--target", "staged", "--publish")
    out = status_json(ws)
    assert out["exit_code"] == 1 and out["unpublished"][0]["item_id"] == bad
    assert "publish refused" in out["problems"][-1]
    ws.sb.set_faults(reject=[])
    run_json(ws, "sync", staged, "-m", ws.mapping, "--target", "staged")
    out = status_json(ws)
    assert out["unpublished"] == [] and out["exit_code"] == 0, out
    db = sqlite3.connect(ws.dir / ".csvsync" / "state.db")
    with db:  # as if the last run had been killed
        db.execute("UPDATE runs SET finished=NULL WHERE run_id=?", (out["last_run"]["run_id"],))
    db.close()
    out = status_json(ws)
    assert out["exit_code"] == 1 and "killed part-way" in out["problems"][0]


# -- nothing fills a disk ------------------------------------------------------------------------


def test_a_no_op_run_writes_no_workbook_and_keep_results_keeps_the_newest(ws: Workspace) -> None:
    sheet = ws.write_sheet()
    out = run_json(ws, "sync", sheet, "-m", ws.mapping)
    assert out["results"] is None and list(ws.dir.glob("products.*.xlsx")) == []
    assert run_json(ws, "sync", sheet, "-m", ws.mapping, "--results", ws.dir / "asked.xlsx")[
        "results"
    ]  # named: always written
    f = ws.frame.copy()
    paths = []
    for n in range(4):
        f.loc[0, "Summary"] = f"change {n}"
        out = run_json(ws, "sync", ws.write_sheet(f), "-m", ws.mapping, "--keep-results", "2")
        paths.append(Path(out["results"]))
    left = sorted(ws.dir.glob("products.*.xlsx"))
    assert left == sorted(paths[-2:])  # the newest two of this sheet's default-named workbooks
    assert (ws.dir / "asked.xlsx").exists()


def test_prune_drops_old_runs_and_says_which_can_no_longer_be_reverted(ws: Workspace) -> None:
    f = ws.frame.copy()
    ids = []
    for n in range(3):
        f.loc[0, "Summary"] = f"change {n}"
        ids.append(run_json(ws, "sync", ws.write_sheet(f), "-m", ws.mapping)["run_id"])
    res = ws.run("prune", "-m", ws.mapping, "--keep-runs", "1")
    assert res.exit_code == 0, res.output
    assert "can no longer be reverted" in res.stdout
    assert ids[0] in res.stdout and ids[1] in res.stdout and ids[2] not in res.stdout
    runs = json.loads(ws.run("revert", "--list", "-m", ws.mapping, "--json").stdout)
    assert [r["run_id"] for r in runs] == [ids[2]]
    res = ws.run("revert", ids[0], "-m", ws.mapping)
    assert res.exit_code == 2 and "unknown run id" in res.stderr
    db = sqlite3.connect(ws.dir / ".csvsync" / "state.db")
    left = db.execute("SELECT DISTINCT run_id FROM journal").fetchall()
    db.close()
    assert left == [(ids[2],)]
    out = json.loads(ws.run("prune", "-m", ws.mapping, "--keep-runs", "5", "--json").stdout)
    assert out == {"dropped": [], "exit_code": 0}


def test_every_run_keeps_the_newest_runs_by_itself(ws: Workspace) -> None:
    from csvsync.ops import sync as lib
    from csvsync.options import RunOptions

    sheet = ws.write_sheet()
    for _ in range(4):
        lib.sync(RunOptions(mapping=ws.mapping, sheet=sheet, api_base=ws.sb.base_url,
                            token=DEMO_TOKEN, keep_runs=2))  # fmt: skip
    runs = json.loads(ws.run("revert", "--list", "-m", ws.mapping, "--json").stdout)
    assert len(runs) == 2

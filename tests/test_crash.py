"""Crash safety for real: a subprocess sync killed at several points, then run again.

The sandbox runs in this process with a per-request latency, so the child is mid-push long
enough to be killed where we want. After the re-run every variant is live with the sheet's
value, the cache agrees with the sandbox, and nothing that landed is sent twice.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from support import BULK_COLLECTION_ID, seed_bulk

from csvsync.cli import cli
from csvsync.ops.demo import DEMO_TOKEN
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import LOCALES
from csvsync.webflow import ClientOptions, WebflowClient

pytestmark = pytest.mark.slow  # subprocess syncs killed mid-push, then run again

ITEMS = 400  # x 3 locales = 1,200 variants = 24 batches of 50
BATCH = 50
PATCHES = f"/v2/collections/{BULK_COLLECTION_ID}/items/live"


@pytest.fixture
def bulk(tmp_path: Path) -> Iterator[tuple[Sandbox, Path, Path]]:
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000)) as sb:
        mapping, frame = seed_bulk(sb, ITEMS, tmp_path)
        for col in ("Summary", "Summary [fr]", "Summary [de]"):
            frame[col] = frame[col] + " v2"
        sheet = tmp_path / "bulk.csv"
        frame.to_csv(sheet, index=False)
        yield sb, mapping, sheet


def start_sync(sb: Sandbox, mapping: Path, sheet: Path, results: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "CSVSYNC_API_BASE": sb.base_url, "WEBFLOW_API_TOKEN": DEMO_TOKEN}
    cmd = [
        sys.executable,
        "-m",
        "csvsync",
        "sync",
        str(sheet),
        "-m",
        str(mapping),
        "--batch-size",
        str(BATCH),
        "--results",
        str(results),
        "--json",
    ]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def patches(sb: Sandbox) -> list[dict]:
    return [e for e in sb.log() if e["method"] == "PATCH" and e["path"] == PATCHES]


def wait_for(cond: Callable[[], bool], proc: subprocess.Popen[str], limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while not cond():
        assert proc.poll() is None, "the sync ended before the kill point"
        assert time.monotonic() < deadline, "kill point not reached"
        time.sleep(0.005)


def kill_when(proc: subprocess.Popen[str], sb: Sandbox, cond: Callable[[], bool]) -> None:
    """SIGKILL the child once ``cond`` holds, then let the sandbox finish answering the
    requests the dead client had sent (each connection closes once its request is handled)."""
    try:
        wait_for(cond, proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    sb.wait_idle(timeout=10, connections=True)


def landed(sb: Sandbox) -> int:
    return sum(e["items"] for e in patches(sb) if e["status"] == 200)


def live_summaries(sb: Sandbox) -> dict[tuple[str, str], str]:
    with WebflowClient(ClientOptions(api_base=sb.base_url, token=DEMO_TOKEN)) as c:
        items = c.iter_items_live(BULK_COLLECTION_ID, cms_locale_ids=list(LOCALES.values()))
        return {(i["id"], i["cmsLocaleId"]): i["fieldData"]["summary"] for i in items}


def cached_summaries(mapping: Path) -> dict[tuple[str, str], str]:
    with sqlite3.connect(mapping.parent / ".csvsync" / "state.db") as db:
        rows = db.execute(
            "SELECT c.item_id, c.locale_id, c.live_key FROM cells c JOIN scopes s "
            "ON c.scope = s.id WHERE s.collection_id = ? AND c.field = 'summary'",
            (BULK_COLLECTION_ID,),
        ).fetchall()
    return {(i, loc): v for i, loc, v in rows}


def check_rerun(sb: Sandbox, mapping: Path, sheet: Path, tmp_path: Path) -> None:
    first = landed(sb)
    sb.clear_log()
    sb.set_faults(latency=0.0)
    proc = start_sync(sb, mapping, sheet, tmp_path / "again.xlsx")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, out + err
    # Nothing that landed in the first run is sent again, confirmed or not.
    assert landed(sb) == ITEMS * 3 - first
    live = live_summaries(sb)
    assert len(live) == ITEMS * 3 and all(v.endswith(" v2") for v in live.values())
    assert cached_summaries(mapping) == live


@pytest.mark.parametrize("point", ["before the first batch", "mid-run", "after the last batch"])
def test_sigkill_then_rerun_finishes_the_job(
    bulk: tuple[Sandbox, Path, Path], tmp_path: Path, point: str
) -> None:
    sb, mapping, sheet = bulk
    sb.set_faults(latency=0.05)
    proc = start_sync(sb, mapping, sheet, tmp_path / "first.xlsx")
    points: dict[str, Callable[[], bool]] = {
        "before the first batch": lambda: any(e["path"] == PATCHES for e in sb.log()),
        "mid-run": lambda: len(patches(sb)) >= 10,
        "after the last batch": lambda: sum(1 for e in patches(sb) if e["status"]) >= 24,
    }
    kill_when(proc, sb, points[point])
    if point == "mid-run":
        assert 0 < landed(sb) < ITEMS * 3
    check_rerun(sb, mapping, sheet, tmp_path)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_and_sigint_stop_after_the_batches_in_flight(
    bulk: tuple[Sandbox, Path, Path], tmp_path: Path, sig: int, code: int
) -> None:
    sb, mapping, sheet = bulk
    sb.set_faults(latency=0.1)
    results = tmp_path / "stopped.xlsx"
    proc = start_sync(sb, mapping, sheet, results)
    try:
        wait_for(lambda: len(patches(sb)) >= 6, proc)
        # Mid-wave: four batches on the wire for another ~60 ms, four more queued behind them.
        time.sleep(0.04)
        signalled = time.time()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, out + err
    assert "Traceback" not in err
    summary = json.loads(out)  # --json: one object, on this exit too
    assert summary["exit_code"] == code and summary["stopped"]
    # No batch starts after the signal: every PATCH reached the sandbox before it (a few
    # milliseconds of grace for a request already on the wire).
    late = [e["time"] - signalled for e in patches(sb) if e["time"] > signalled + 0.02]
    assert late == [], f"batches started after the signal, at +{late} s"
    rows = pd.read_excel(results, sheet_name="Rows", engine="openpyxl")
    outcomes = rows["Outcome"].value_counts().to_dict()
    assert outcomes.get("updated", 0) == landed(sb)  # what was in flight finished and was recorded
    assert outcomes.get("not sent", 0) == ITEMS * 3 - landed(sb) > 0
    check_rerun(sb, mapping, sheet, tmp_path)


def test_after_a_kill_chain_reverting_every_run_leaves_no_variant_changed(
    bulk: tuple[Sandbox, Path, Path], tmp_path: Path
) -> None:
    sb, mapping, sheet = bulk
    before = live_summaries(sb)
    for n, after in enumerate((6, 14), 1):  # two runs killed mid-push, each with answers lost
        sb.set_faults(latency=0.05)
        proc = start_sync(sb, mapping, sheet, tmp_path / f"killed-{n}.xlsx")
        kill_when(proc, sb, lambda after=after: len(patches(sb)) >= after)
    sb.set_faults(latency=0.0)
    proc = start_sync(sb, mapping, sheet, tmp_path / "last.xlsx")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, out + err
    env = {"CSVSYNC_API_BASE": sb.base_url, "WEBFLOW_API_TOKEN": DEMO_TOKEN}
    runner = CliRunner()
    listed = runner.invoke(cli, ["revert", "--list", "-m", str(mapping), "--json"], env=env)
    runs = json.loads(listed.stdout)
    assert [r["command"] for r in runs] == ["sync"] * 3
    assert all(r["changed"] > 0 for r in runs)  # each run landed something, and says so
    for run in runs:  # newest first
        res = runner.invoke(cli, ["revert", run["run_id"], "-m", str(mapping), "--json"], env=env)
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout)["unconfirmed"] == 0
    assert live_summaries(sb) == before

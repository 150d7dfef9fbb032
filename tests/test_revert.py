"""``csvsync revert``: undo a run from the state's journal, against a demo sandbox.

Decision tested here: a field whose live value already equals the run's old value is
``already reverted`` (nothing sent, exit 0), so reverting the same run twice is harmless; only a
field that is neither the run's value nor the old one is ``changed since`` (left alone, exit 1).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from support import Workspace, make_workspace

from csvsync.ops import lock as run_lock
from csvsync.ops.demo import DEMO_TOKEN
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import DEMO_COLLECTION_ID, LOCALE_DE, LOCALE_EN, LOCALE_FR
from csvsync.webflow import ClientOptions, WebflowClient

LOCALES = (LOCALE_EN, LOCALE_FR, LOCALE_DE)


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000)) as sb:
        yield make_workspace(sb, tmp_path)


def client(ws: Workspace) -> WebflowClient:
    return WebflowClient(ClientOptions(api_base=ws.sb.base_url, token=DEMO_TOKEN))


def live_all(ws: Workspace) -> dict[tuple[str, str], dict[str, Any]]:
    """(item, locale) -> fieldData of every live variant."""
    with client(ws) as c:
        items = c.iter_items_live(DEMO_COLLECTION_ID, cms_locale_ids=list(LOCALES))
        return {(it["id"], it["cmsLocaleId"]): it["fieldData"] for it in items}


def run_json(ws: Workspace, *args: object) -> dict[str, Any]:
    res = ws.run(*[str(a) for a in args], "--json")
    assert res.stdout.strip(), res.output
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["exit_code"] == res.exit_code
    return out


def list_json(ws: Workspace) -> list[dict[str, Any]]:
    res = ws.run("revert", "--list", "-m", ws.mapping, "--json")
    assert res.exit_code == 0, res.output
    runs: list[dict[str, Any]] = json.loads(res.stdout)
    return runs


def edited(ws: Workspace) -> pd.DataFrame:
    """Changes in all three locales and several field types, on the first six items."""
    f = ws.frame.copy()
    for n in range(6):
        f.loc[n, "Summary"] = f"Summary {n} (bad load)"
        f.loc[n, "Summary [fr]"] = f"Résumé {n} (mauvais)"
        f.loc[n, "Name [de]"] = f"Name {n} (falsch)"
    f.loc[0, "Price"] = 1.5
    f.loc[1, "Category"] = "Office" if f.loc[1, "Category"] != "Office" else "Kitchen"
    f.loc[2, "Featured"] = "No" if f.loc[2, "Featured"] == "Yes" else "Yes"
    f.loc[3, "Image"] = "https://images.example.com/replaced/003.jpg"
    f.loc[4, "Author"] = "ada-lovelace" if f.loc[4, "Author"] != "ada-lovelace" else "grace-hopper"
    return f


CHANGED_FIELDS = (
    6 * 3 + 5 * 3
)  # summary en, summary fr, name de per item + five non-text fields, each in three locales


def sync_edits(ws: Workspace, **kw: Any) -> dict[str, Any]:
    out = run_json(ws, "sync", ws.write_sheet(edited(ws)), "-m", ws.mapping,
                   "--results", ws.dir / "sync.xlsx", *kw.get("extra", ()))  # fmt: skip
    assert out["exit_code"] == 0 and out["counts"]["updated"] == 6 * 3
    return out


@pytest.mark.slow
def test_sync_then_revert_last_restores_every_changed_field(ws: Workspace) -> None:
    before = live_all(ws)
    synced = sync_edits(ws)
    assert live_all(ws) != before
    ws.sb.clear_log()
    res = ws.run("revert", "last", "-m", ws.mapping)
    assert res.exit_code == 0, res.output
    # The plan comes first, then the outcome.
    assert f"Revert of run {synced['run_id']}" in res.stdout
    assert res.stdout.index("would revert") < res.stdout.index("(revert):")
    after = live_all(ws)
    # Every field of every variant is back, images, options and references included.
    assert after == before
    writes = ws.writes()
    assert writes and all(w["method"] == "PATCH" for w in writes)
    assert sum(w["items"] for w in writes) == 6 * 3  # one variant each, in one batch
    # The cache now holds the restored values as base: a plan of the bad sheet would send again.
    out = run_json(ws, "plan", ws.write_sheet(edited(ws)), "-m", ws.mapping)
    assert out["counts"]["would update"] == 6 * 3


def test_revert_json_counts_and_workbook(ws: Workspace) -> None:
    synced = sync_edits(ws)
    out = run_json(ws, "revert", synced["run_id"], "-m", ws.mapping,
                   "--results", ws.dir / "revert.xlsx")  # fmt: skip
    assert out["exit_code"] == 0
    assert out["reverted_run"] == synced["run_id"] and out["run_id"] != synced["run_id"]
    assert out["counts"] == {"reverted": CHANGED_FIELDS}
    assert out["write_requests"] == 1 and out["changed_since"] == []
    changes = pd.read_excel(ws.dir / "revert.xlsx", sheet_name="Changes", engine="openpyxl")
    assert len(changes) == CHANGED_FIELDS and set(changes["Outcome"]) == {"reverted"}
    summary = changes[(changes["Field"] == "summary") & (changes["Locale"] == "en")].iloc[0]
    assert summary["Old value"].endswith("(bad load)")
    assert summary["New value"] == ws.frame.loc[0, "Summary"]
    category = changes[changes["Field"] == "category"].iloc[0]
    assert category["New value"] == ws.frame.loc[1, "Category"]  # shown by name, as in the sheet
    from csvsync.sheets.results import read_run_id

    assert read_run_id(ws.dir / "revert.xlsx") == out["run_id"]


@pytest.mark.slow
def test_second_revert_is_harmless_and_a_revert_can_be_reverted(ws: Workspace) -> None:
    before = live_all(ws)
    synced = sync_edits(ws)
    after_sync = live_all(ws)
    first = run_json(ws, "revert", synced["run_id"], "-m", ws.mapping)
    assert first["counts"] == {"reverted": CHANGED_FIELDS}
    ws.sb.clear_log()
    again = run_json(ws, "revert", synced["run_id"], "-m", ws.mapping)
    assert again["exit_code"] == 0
    assert again["counts"] == {"already reverted": CHANGED_FIELDS}
    assert again["write_requests"] == 0 and ws.writes() == []
    assert live_all(ws) == before
    # The revert was journaled as a run of its own: reverting it puts the sync's values back.
    undo = run_json(ws, "revert", first["run_id"], "-m", ws.mapping)
    assert undo["counts"] == {"reverted": CHANGED_FIELDS}
    assert live_all(ws) == after_sync


@pytest.mark.slow
def test_a_field_edited_in_between_is_reported_not_overwritten(ws: Workspace) -> None:
    before = live_all(ws)
    synced = sync_edits(ws)
    item = ws.frame.loc[0, "Item ID"]
    with client(ws) as c:
        c.update_items_live(
            DEMO_COLLECTION_ID,
            [{"id": item, "cmsLocaleId": LOCALE_FR, "fieldData": {"summary": "Editor's fix"}}],
        )
    res = ws.run("revert", "last", "-m", ws.mapping)
    assert res.exit_code == 1, res.output
    assert "changed since" in res.stdout and "Editor's fix" in res.stdout
    after = live_all(ws)
    assert after[(item, LOCALE_FR)]["summary"] == "Editor's fix"
    # Everything else is back.
    after[(item, LOCALE_FR)]["summary"] = before[(item, LOCALE_FR)]["summary"]
    assert after == before
    out = run_json(ws, "revert", synced["run_id"], "-m", ws.mapping)
    assert out["exit_code"] == 1
    assert out["counts"] == {"already reverted": CHANGED_FIELDS - 1, "changed since": 1}
    [skipped] = out["changed_since"]
    assert skipped == {"item_id": item, "locale": "fr-FR", "field": "summary",
                       "live": "Editor's fix", "run_value": "Résumé 0 (mauvais)"}  # fmt: skip


@pytest.mark.slow
def test_revert_takes_the_results_workbook(ws: Workspace) -> None:
    before = live_all(ws)
    synced = sync_edits(ws)
    out = run_json(ws, "revert", ws.dir / "sync.xlsx", "-m", ws.mapping)
    assert out["reverted_run"] == synced["run_id"]
    assert out["counts"] == {"reverted": CHANGED_FIELDS}
    assert live_all(ws) == before
    # Default workbook name: next to the run's sheet.
    assert Path(out["results"]).parent == ws.dir
    assert Path(out["results"]).name.startswith("products.revert-")


@pytest.mark.slow
def test_dry_run_prints_the_plan_and_writes_nothing(ws: Workspace) -> None:
    synced = sync_edits(ws)
    after_sync = live_all(ws)
    ws.sb.clear_log()
    res = ws.run("revert", "last", "-m", ws.mapping, "--dry-run", "--show", "all")
    assert res.exit_code == 0, res.output
    assert res.stdout.count("would revert") >= CHANGED_FIELDS
    assert "Dry run: nothing was written." in res.stdout
    assert ws.writes() == [] and live_all(ws) == after_sync
    out = list_json(ws)
    assert [r["run_id"] for r in out] == [synced["run_id"]]  # no revert run recorded


def test_list_shows_the_runs_newest_first(ws: Workspace) -> None:
    synced = sync_edits(ws)
    reverted = run_json(ws, "revert", "last", "-m", ws.mapping)
    res = ws.run("revert", "--list", "-m", ws.mapping)
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0].split()[:3] == ["Run", "ID", "Command"]
    assert reverted["run_id"] in lines[1] and f"revert of {synced['run_id']}" in lines[1]
    assert synced["run_id"] in lines[2] and "sync" in lines[2] and "products.csv" in lines[2]
    assert f"{CHANGED_FIELDS} reverted" in lines[1] and "18 updated" in lines[2]
    runs = list_json(ws)
    assert [r["run_id"] for r in runs] == [reverted["run_id"], synced["run_id"]]
    assert runs[0]["command"] == "revert" and runs[0]["reverts"] == synced["run_id"]
    assert runs[1]["counts"]["updated"] == 18 and runs[1]["finished"]


@pytest.mark.slow
def test_a_killed_run_reverts_what_landed_even_unanswered(ws: Workspace) -> None:
    before = live_all(ws)
    synced = sync_edits(ws, extra=("--batch-size", "6"))  # 18 variants: batches 1, 2, 3
    # Simulate a kill: no finish time, batch 2's answer never recorded (but it landed), and
    # batch 3 never sent (its cells put back in Webflow as they were).
    db = sqlite3.connect(ws.dir / ".csvsync" / "state.db")
    with db:
        db.execute("UPDATE runs SET finished=NULL, counts=NULL WHERE run_id=?",
                   (synced["run_id"],))  # fmt: skip
        landed = db.execute(
            "SELECT COUNT(*) FROM journal WHERE run_id=? AND batch=2", (synced["run_id"],)
        ).fetchone()[0]
        unsent = db.execute(
            "SELECT item_id, locale_id, field FROM journal WHERE run_id=? AND batch=3",
            (synced["run_id"],),
        ).fetchall()
        db.execute("UPDATE journal SET status='pending' WHERE run_id=? AND batch>=2",
                   (synced["run_id"],))  # fmt: skip
    db.close()
    assert landed and unsent
    with WebflowClient(ClientOptions(api_base=ws.sb.base_url, token=DEMO_TOKEN)) as c:
        variants: dict[tuple[str, str], dict[str, Any]] = {}
        for item, loc, field in unsent:
            variants.setdefault((item, loc), {})[field] = before[(item, loc)][field]
        c.update_items_live(
            DEMO_COLLECTION_ID,
            [{"id": i, "cmsLocaleId": loc, "fieldData": fd} for (i, loc), fd in variants.items()],
        )
    res = ws.run("revert", "--list", "-m", ws.mapping)
    assert "(killed)" in res.stdout
    out = run_json(ws, "revert", "last", "-m", ws.mapping)
    assert out["reverted_run"] == synced["run_id"] and out["exit_code"] == 0
    assert out["unconfirmed"] == 0  # the refresh settled them: batch 2 landed, batch 3 did not
    assert out["counts"] == {"reverted": CHANGED_FIELDS - len(unsent)}
    assert live_all(ws) == before


def test_unknown_run_id_exits_2_with_one_line(ws: Workspace) -> None:
    res = ws.run("revert", "20240101T000000Z-abcdef", "-m", ws.mapping)
    assert res.exit_code == 2
    assert res.stderr.count("\n") == 1 and "unknown run id '20240101T000000Z-abcdef'" in res.stderr
    res = ws.run("revert", "last", "-m", ws.mapping)
    assert res.exit_code == 2 and "no sync run" in res.stderr
    res = ws.run("revert", ws.dir / "missing.xlsx", "-m", ws.mapping)
    assert res.exit_code == 2 and "missing.xlsx" in res.stderr
    res = ws.run("revert", "-m", ws.mapping)
    assert res.exit_code == 2 and "revert needs a run id" in res.stderr
    assert ws.writes() == []


def test_revert_exits_3_while_the_lock_is_held(ws: Workspace) -> None:
    synced = sync_edits(ws)
    lock = run_lock.acquire(ws.sb.base_url, DEMO_COLLECTION_ID)
    try:
        res = ws.run("revert", synced["run_id"], "-m", ws.mapping)
        assert res.exit_code == 3, res.output
        assert "another csvsync run holds the lock" in res.stderr
        # --list only reads the state: it works while a run holds the lock.
        assert ws.run("revert", "--list", "-m", ws.mapping).exit_code == 0
    finally:
        lock.release()
    assert ws.run("revert", synced["run_id"], "-m", ws.mapping).exit_code == 0


@pytest.mark.slow
def test_creates_are_unpublished_and_unpublishes_published_again(ws: Workspace) -> None:
    """Journal rows written directly: this sync does not journal creates/unpublishes yet.

    A ``__created__`` row is reverted by unpublishing that variant, an ``__unpublished__`` row
    by publishing it again; the revert journals the opposite, so reverting it goes back.
    """
    assert ws.run("pull", "-m", ws.mapping).exit_code == 0  # the state and its scope
    created, unpublished = ws.frame.loc[7, "Item ID"], ws.frame.loc[8, "Item ID"]
    with client(ws) as c:
        c.delete_items_live(DEMO_COLLECTION_ID, [{"id": unpublished, "cmsLocaleIds": [LOCALE_DE]}])
    db = sqlite3.connect(ws.dir / ".csvsync" / "state.db")
    with db:
        scope = db.execute("SELECT id FROM scopes").fetchone()[0]
        db.execute(
            "INSERT INTO runs(run_id, scope, command, sheet, mapping, started, finished, counts) "
            "VALUES('20240101T000000Z-c0ffee', ?, 'sync', ?, ?, "
            "'2024-01-01T00:00:00+00:00', '2024-01-01T00:00:01+00:00', '{}')",
            (scope, str(ws.dir / "products.csv"), str(ws.mapping)),
        )
        db.executemany(
            "INSERT INTO journal VALUES('20240101T000000Z-c0ffee', 0, ?, ?, ?, 'null', 'null', "
            "'confirmed')",
            [(created, LOCALE_FR, "__created__"), (created, LOCALE_FR, "summary"),
             (unpublished, LOCALE_DE, "__unpublished__")],
        )  # fmt: skip
    db.close()
    out = run_json(ws, "revert", "last", "-m", ws.mapping)
    assert out["exit_code"] == 0, out
    assert out["counts"] == {"reverted": 2}  # the summary row is folded into the unpublish
    live = live_all(ws)
    assert (created, LOCALE_FR) not in live and (created, LOCALE_EN) in live
    assert (unpublished, LOCALE_DE) in live
    assert [w["method"] for w in ws.writes()][-2:] == ["DELETE", "POST"]
    back = run_json(ws, "revert", out["run_id"], "-m", ws.mapping)
    assert back["counts"] == {"reverted": 2}
    live = live_all(ws)
    assert (created, LOCALE_FR) in live and (unpublished, LOCALE_DE) not in live


def test_revert_last_skips_the_runs_that_changed_nothing(ws: Workspace) -> None:
    """Issue 13, item 6: a cron job's no-op runs are not what `revert last` means."""
    synced = sync_edits(ws)
    sheet = ws.write_sheet(edited(ws))
    noop = [run_json(ws, "sync", sheet, "-m", ws.mapping) for _ in range(2)]
    assert all(n["write_requests"] == 0 for n in noop)
    runs = run_list(ws)
    assert [r["run_id"] for r in runs] == [noop[1]["run_id"], noop[0]["run_id"], synced["run_id"]]
    assert [r["changed"] for r in runs][:2] == [0, 0] and runs[2]["changed"] > 0  # fields
    text = ws.run("revert", "--list", "-m", ws.mapping).stdout
    assert text.count("(no change: `revert last` skips it)") == 2
    newest = json.loads(
        ws.run("revert", "--list", "-m", ws.mapping, "--limit", "1", "--json").stdout
    )
    assert [r["run_id"] for r in newest] == [noop[1]["run_id"]]
    out = run_json(ws, "revert", "last", "-m", ws.mapping, "--dry-run")
    assert out["reverted_run"] == synced["run_id"]
    assert out["counts"] == {"would revert": runs[2]["changed"]}


def run_list(ws: Workspace, *extra: str) -> list[dict[str, Any]]:
    res = ws.run("revert", "--list", "-m", ws.mapping, "--json", *extra)
    assert res.exit_code == 0, res.output
    runs: list[dict[str, Any]] = json.loads(res.stdout)
    return runs


def staged_all(ws: Workspace) -> dict[tuple[str, str], dict[str, Any]]:
    with client(ws) as c:
        items = c.iter_items(DEMO_COLLECTION_ID, cms_locale_ids=list(LOCALES))
        return {(i["id"], i["cmsLocaleId"]): i["fieldData"] for i in items}


@pytest.mark.parametrize("target", ["staged", "staged+publish", "both"])
def test_a_staged_or_both_run_is_listed_and_reverted_on_every_side_it_wrote(
    ws: Workspace, target: str
) -> None:
    live_before, staged_before = live_all(ws), staged_all(ws)
    args = (
        ["--target", "staged", "--publish"] if target == "staged+publish" else ["--target", target]
    )
    synced = sync_edits(ws, extra=tuple(args))
    assert synced["exit_code"] == 0 and synced["counts"]["updated"] == 18
    assert staged_all(ws) != staged_before
    assert (live_all(ws) != live_before) == (target != "staged")
    runs = run_list(ws)
    assert runs[0]["run_id"] == synced["run_id"] and runs[0]["target"] == target
    listed = ws.run("revert", "--list", "-m", ws.mapping)
    assert f"sync ({target})" in listed.stdout
    out = run_json(ws, "revert", "last", "-m", ws.mapping)
    assert out["reverted_run"] == synced["run_id"] and out["exit_code"] == 0, out
    assert out["counts"] == {"reverted": CHANGED_FIELDS}
    assert staged_all(ws) == staged_before  # a site publish would not bring the load back
    assert live_all(ws) == live_before

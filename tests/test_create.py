"""New rows become items, live in every locale, never twice."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from support import Workspace, make_workspace, read_rows

from csvsync.ops.demo import DEMO_TOKEN
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import DEMO_COLLECTION_ID, LOCALE_DE, LOCALE_EN, LOCALE_FR
from csvsync.webflow import ClientOptions, WebflowClient


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000)) as sb:
        yield make_workspace(sb, tmp_path)


def new_rows(ws: Workspace, n: int) -> pd.DataFrame:
    rows = ws.frame.head(n).copy()
    rows["Item ID"] = ""
    for i in range(n):
        for suffix, word in (("", "New"), (" [fr]", "Nouveau"), (" [de]", "Neu")):
            rows.iloc[i, rows.columns.get_loc("Name" + suffix)] = f"{word} {i}"
            rows.iloc[i, rows.columns.get_loc("Slug" + suffix)] = f"{word.lower()}-{i}"
    return rows


def by_slug(ws: Workspace, slug: str, locale: str) -> list[dict]:
    with WebflowClient(ClientOptions(api_base=ws.sb.base_url, token=DEMO_TOKEN)) as c:
        return list(c.iter_items(DEMO_COLLECTION_ID, slug=slug, cms_locale_ids=[locale]))


@pytest.mark.slow
def test_40_updates_and_10_creates_in_three_locales(ws: Workspace) -> None:
    old = ws.frame.head(40).copy()
    old["Summary"] = old["Summary"] + " (updated)"
    sheet = ws.write_sheet(pd.concat([old, new_rows(ws, 10)], ignore_index=True))
    plan = ws.run("plan", sheet, "-m", ws.mapping)
    assert "30 would create" in plan.stdout and "40 would update" in plan.stdout, plan.output
    res = ws.run("sync", sheet, "-m", ws.mapping, "--json", "--write-back")
    out = json.loads(res.stdout)
    assert res.exit_code == 0, res.output
    assert out["counts"] == {"updated": 40, "unchanged": 80, "created": 30}
    assert len(out["created"]) == 10
    item = out["created"]["42"]
    with WebflowClient(ClientOptions(api_base=ws.sb.base_url, token=DEMO_TOKEN)) as c:
        live = {
            v["cmsLocaleId"]: v["fieldData"]
            for v in c.iter_items_live(
                DEMO_COLLECTION_ID, cms_locale_ids=[LOCALE_EN, LOCALE_FR, LOCALE_DE]
            )
            if v["id"] == item
        }
    assert live[LOCALE_EN]["name"] == "New 0" and live[LOCALE_FR]["name"] == "Nouveau 0"
    assert (
        live[LOCALE_DE]["slug"] == "neu-0" and live[LOCALE_EN]["price"] == ws.frame.loc[0, "Price"]
    )
    ws.sb.clear_log()
    again = json.loads(ws.run("sync", sheet, "-m", ws.mapping, "--json").stdout)
    assert again["write_requests"] == 0 and again["counts"] == {"unchanged": 150}
    copy = sheet.with_name("products.with-ids.csv")
    ids = pd.read_csv(copy, dtype=str, keep_default_na=False)["Item ID"]
    assert list(ids[40:]) == [out["created"][str(r)] for r in range(42, 52)]
    assert sheet.read_text().count(",,") >= 0 and "" in list(
        pd.read_csv(sheet, dtype=str, keep_default_na=False)["Item ID"]
    )  # original untouched
    assert (
        json.loads(ws.run("sync", copy, "-m", ws.mapping, "--json").stdout)["write_requests"] == 0
    )


def test_a_new_row_whose_slug_exists_updates_that_item(ws: Workspace) -> None:
    row = ws.frame.head(1).copy()
    existing = row.loc[0, "Item ID"]
    row["Item ID"] = ""
    row["Summary"] = "matched by slug"
    res = ws.run("sync", ws.write_sheet(row), "-m", ws.mapping, "--json")
    out = json.loads(res.stdout)
    assert out["counts"] == {"updated": 1, "unchanged": 2} and out["created"] == {}
    assert ws.live(existing, LOCALE_EN)["summary"] == "matched by slug"


def test_a_draft_with_the_slug_is_updated_and_published_not_duplicated(ws: Workspace) -> None:
    with WebflowClient(ClientOptions(api_base=ws.sb.base_url, token=DEMO_TOKEN)) as c:
        draft = c.create_items(
            DEMO_COLLECTION_ID, [{"fieldData": {"name": "Draft", "slug": "new-0"}}]
        )[0]
    sheet = ws.write_sheet(new_rows(ws, 1))
    out = json.loads(ws.run("sync", sheet, "-m", ws.mapping, "--json").stdout)
    assert out["counts"]["updated"] == 3, out
    assert len(by_slug(ws, "new-0", LOCALE_EN)) == 1
    assert ws.live(draft["id"], LOCALE_EN)["name"] == "New 0"


def test_a_new_item_needs_name_and_slug(ws: Workspace) -> None:
    rows = new_rows(ws, 1)
    rows["Slug"] = ""
    res = ws.run("sync", ws.write_sheet(rows), "-m", ws.mapping, "--results", ws.dir / "r.xlsx")
    assert res.exit_code == 1
    got = read_rows(ws.dir / "r.xlsx")
    assert set(got["Outcome"]) == {"invalid"}
    assert (
        "needs a value in the primary locale for Slug (column 'Slug' is empty)"
        in (got.iloc[0]["Message"])
    )
    assert "Name" not in got.iloc[0]["Message"].split("for ")[1]  # the name is there
    assert ws.writes() == []


def test_a_new_item_with_an_invalid_primary_sends_no_translation(ws: Workspace) -> None:
    rows = new_rows(ws, 2)
    rows.iloc[0, rows.columns.get_loc("Summary")] = "x" * 300  # over the field's 256
    rows.iloc[0, rows.columns.get_loc("Summary [fr]")] = "Traduit"
    res = ws.run("sync", ws.write_sheet(rows), "-m", ws.mapping, "--results", ws.dir / "r.xlsx")
    assert res.exit_code == 1, res.output
    got = read_rows(ws.dir / "r.xlsx")
    bad = got[got["Row"] == 2]
    assert set(bad["Outcome"]) == {"invalid"} and len(bad) == 3
    fr = bad[bad["Locale"] == "fr-FR"].iloc[0]["Message"]
    assert fr.startswith("not created: its en variant (row 2) is invalid: column 'Summary'"), fr
    assert "needs a" not in fr
    assert len(by_slug(ws, "new-1", LOCALE_EN)) == 1 and by_slug(ws, "new-0", LOCALE_EN) == []


def test_a_new_item_missing_a_required_field_is_refused_before_sending(ws: Workspace) -> None:
    ws.sb.store.create_field(
        DEMO_COLLECTION_ID, {"type": "PlainText", "displayName": "SKU", "isRequired": True}
    )
    ws.sb.store.create_field(
        DEMO_COLLECTION_ID, {"type": "PlainText", "displayName": "Barcode", "isRequired": True}
    )
    mapping = ws.dir / "sku.yaml"
    mapping.write_text(ws.mapping.read_text() + "  sku: SKU\n", encoding="utf-8")
    rows = new_rows(ws, 1)
    rows["SKU"] = ""
    ws.sb.clear_log()
    res = ws.run("sync", ws.write_sheet(rows), "-m", mapping, "--refresh",
                 "--results", ws.dir / "r.xlsx")  # fmt: skip
    assert res.exit_code == 1, res.output
    got = read_rows(ws.dir / "r.xlsx")
    assert set(got["Outcome"]) == {"invalid"}
    message = got.iloc[0]["Message"]
    assert "SKU (column 'SKU' is empty)" in message, message
    assert "Barcode (the mapping has no column for it)" in message
    assert ws.writes() == []


@pytest.mark.slow  # a subprocess sync, killed, then run again
def test_killed_between_create_and_write_back_makes_no_duplicate(ws: Workspace) -> None:
    sheet = ws.write_sheet(new_rows(ws, 5))
    ws.sb.set_faults(latency=0.3)  # the publish that follows the create is slow
    env = {**os.environ, "CSVSYNC_API_BASE": ws.sb.base_url, "WEBFLOW_API_TOKEN": DEMO_TOKEN}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "csvsync",
            "sync",
            str(sheet),
            "-m",
            str(ws.mapping),
            "--write-back",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not any(e["path"].endswith("/items/bulk") and e["status"] for e in ws.sb.log()):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    ws.sb.reset_faults()
    res = ws.run("sync", sheet, "-m", ws.mapping, "--json")
    assert res.exit_code == 0, res.output
    for i in range(5):
        assert len(by_slug(ws, f"new-{i}", LOCALE_EN)) == 1
        assert by_slug(ws, f"nouveau-{i}", LOCALE_FR)[0]["fieldData"]["name"] == f"Nouveau {i}"


def test_long_layout_new_item_rows_are_grouped_by_primary_slug(ws: Workspace) -> None:
    mapping = ws.dir / "long.yaml"
    mapping.write_text(
        "site: 64f0c0ffee0000000000aaaa\ncollection: 64f0c0ffee0000000000bbbb\n"
        "key: {column: Item ID}\nlayout: long\nlocale_column: Locale\nlocales: [en, fr, de]\n"
        "fields:\n  name: {column: Name, localized: true}\n"
        "  slug: {column: Slug, localized: true}\n  price: Price\n",
        encoding="utf-8",
    )
    rows = [
        ("", "en", "Long One", "long-one", "10"),
        ("long-one", "fr", "Long Un", "long-un", ""),
        ("long-one", "de", "Lang Eins", "lang-eins", ""),
        ("", "en", "Long Two", "long-two", "20"),
        ("long-two", "de", "Lang Zwei", "lang-zwei", ""),
        ("", "de", "Verloren", "verloren", ""),  # a translation with no item to belong to
    ]
    sheet = ws.dir / "long.csv"
    pd.DataFrame(rows, columns=["Item ID", "Locale", "Name", "Slug", "Price"]).to_csv(
        sheet, index=False
    )
    res = ws.run(
        "sync", sheet, "-m", mapping, "--json", "--write-back", "--results", ws.dir / "r.xlsx"
    )
    out = json.loads(res.stdout)
    assert res.exit_code == 1, res.output  # the lone translation row is invalid
    assert out["counts"]["created"] == 5 and out["counts"]["invalid"] == 1
    one = by_slug(ws, "long-one", LOCALE_EN)
    assert len(one) == 1
    item = one[0]["id"]
    assert out["created"]["2"] == out["created"]["3"] == out["created"]["4"] == item
    assert by_slug(ws, "long-un", LOCALE_FR)[0]["id"] == item
    assert by_slug(ws, "lang-eins", LOCALE_DE)[0]["fieldData"]["name"] == "Lang Eins"
    lone = read_rows(ws.dir / "r.xlsx")
    assert "slug in the 'Item ID' column" in lone[lone["Outcome"] == "invalid"].iloc[0]["Message"]
    again = json.loads(ws.run("sync", sheet, "-m", mapping, "--json").stdout)
    assert again["write_requests"] == 0 and "created" not in again["counts"]


def test_the_first_import_into_an_empty_collection_creates_every_row(tmp_path: Path) -> None:
    # Nothing is cached yet: the slug checks and the diff must work on an empty cache.
    from csvsync.sandbox.seed import DEMO_SITE_ID

    empty = "64f0c0ffee0000000000e0e0"
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000)) as sb:
        sb.store.create_collection(
            DEMO_SITE_ID,
            {"displayName": "Notes", "singularName": "Note",
             "fields": [{"type": "PlainText", "displayName": "Summary"}]},
            collection_id=empty,
        )  # fmt: skip
        ws = make_workspace(sb, tmp_path)
        ws.mapping.write_text(
            f"site: {DEMO_SITE_ID}\ncollection: {empty}\nkey: {{column: Item ID}}\n"
            "locales: {en: '{column}'}\nfields:\n  name: Name\n  slug: Slug\n  summary: Summary\n",
            encoding="utf-8",
        )
        frame = pd.DataFrame(
            {"Item ID": ["", ""], "Name": ["A", "B"], "Slug": ["a", "b"], "Summary": ["x", "y"]}
        )
        sheet = ws.write_sheet(frame, "notes.csv")
        plan = ws.run("plan", sheet, "-m", ws.mapping, "--json")
        assert plan.exit_code == 0, plan.output
        assert json.loads(plan.stdout.splitlines()[-1])["counts"] == {"would create": 2}
        res = ws.run("sync", sheet, "-m", ws.mapping, "--json")
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout.splitlines()[-1])["counts"] == {"created": 2}


def requests_of(ws: Workspace) -> tuple[list[dict], list[dict]]:
    """(staged-list reads, write requests) in the sandbox log since it was cleared."""
    log = ws.sb.log()
    reads = [e for e in log if e["method"] == "GET" and e["path"].endswith("/items")]
    return reads, [e for e in log if e["method"] in ("POST", "PATCH", "DELETE")]


def test_200_new_rows_cost_no_read_per_row_and_bulk_writes(ws: Workspace) -> None:
    sheet = ws.write_sheet(new_rows(ws, 200))
    ws.run("pull", "-m", ws.mapping)
    ws.sb.clear_log()
    out = json.loads(ws.run("sync", sheet, "-m", ws.mapping, "--json").stdout)
    assert out["counts"] == {"created": 600}, out
    reads, writes = requests_of(ws)
    assert len(reads) <= 2  # at most one read per 100 new rows (here none: no slug was taken)
    # 2 bulk creates, 400 translations in 4 PATCHes, 2 publishes
    assert len(writes) == 8, [(e["method"], e["path"]) for e in writes]


@pytest.mark.parametrize("killed", [True, False])
def test_finishing_drafts_a_killed_create_left_costs_a_fresh_create(
    ws: Workspace, killed: bool
) -> None:
    rows = new_rows(ws, 100)
    sheet = ws.write_sheet(rows)
    run = json.loads(ws.run("sync", ws.write_sheet(name="first.csv"), "-m", ws.mapping,
                            "--json").stdout)  # fmt: skip
    with WebflowClient(ClientOptions(api_base=ws.sb.base_url, token=DEMO_TOKEN)) as c:
        # What a create killed after its bulk POST leaves: drafts with the primary values only.
        c.create_items_bulk(
            DEMO_COLLECTION_ID,
            [LOCALE_EN, LOCALE_FR, LOCALE_DE],
            [{"name": f"New {i}", "slug": f"new-{i}"} for i in range(100)],
            is_draft=True,
        )
    if killed:
        db = sqlite3.connect(ws.dir / ".csvsync" / "state.db")
        with db:
            db.execute("UPDATE runs SET finished=NULL WHERE run_id=?", (run["run_id"],))
        db.close()
    ws.sb.clear_log()
    out = json.loads(ws.run("sync", sheet, "-m", ws.mapping, "--json").stdout)
    assert out["exit_code"] == 0 and out["counts"] == {"updated": 300}, out
    reads, writes = requests_of(ws)
    # A fresh create of 100 items in 3 locales: 1 bulk POST, 2 PATCHes, 1 publish. Without a
    # killed run to warn it, csvsync first tries the create, which Webflow refuses (1 more).
    assert len(writes) == (3 + 1 if killed else 1 + 3 + 1), [
        (e["method"], e["path"]) for e in writes
    ]
    assert len(reads) <= 4  # one listing of the staged items (400 items, 100 a page)
    for i in (0, 99):
        assert by_slug(ws, f"nouveau-{i}", LOCALE_FR)[0]["fieldData"]["name"] == f"Nouveau {i}"
        assert not by_slug(ws, f"new-{i}", LOCALE_EN)[0]["isDraft"]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("create", {"creates": 2, "publishes": 1}),
        ("both", {"fields": 1, "staged fields": 1}),
        ("staged publish", {"fields": 1, "publishes": 1}),
        ("unpublish", {"fields": 1, "unpublishes": 1}),
    ],
)
def test_plan_counts_every_write_request_the_sync_sends(
    ws: Workspace, case: str, expected: dict[str, int]
) -> None:
    f = ws.frame.copy()
    f.loc[0, "Summary"] = "changed"
    extra: list[str] = []
    if case == "create":
        f = new_rows(ws, 10)
    elif case == "both":
        extra = ["--target", "both"]
    elif case == "staged publish":
        extra = ["--target", "staged", "--publish"]
    else:
        f = f.drop(index=[5, 6])
        extra = ["--unpublish-missing"]
    sheet = ws.write_sheet(f)
    ws.run("pull", "-m", ws.mapping)
    plan = ws.run("plan", sheet, "-m", ws.mapping, *extra, "--json")
    out = json.loads(plan.stdout)
    assert out["would_send"] == expected, out
    total = sum(expected.values())
    text = ws.run("plan", sheet, "-m", ws.mapping, *extra).stdout
    assert f"A sync would send {total} write request(s)" in text
    done = json.loads(ws.run("sync", sheet, "-m", ws.mapping, *extra, "--json").stdout)
    assert done["write_requests"] == total, done

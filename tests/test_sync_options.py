"""Mapping options end to end: key by slug, empty cells, all_locales, pull, dates, stops."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import Workspace, make_workspace

from csvsync.ops.demo import DEMO_TOKEN
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import DEMO_COLLECTION_ID, LOCALE_DE, LOCALE_EN, LOCALE_FR
from csvsync.webflow import ClientOptions, WebflowClient

ITEMS_LIVE = f"/v2/collections/{DEMO_COLLECTION_ID}/items/live"


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000)) as sb:
        yield make_workspace(sb, tmp_path)


def client(ws: Workspace) -> WebflowClient:
    return WebflowClient(ClientOptions(api_base=ws.sb.base_url, token=DEMO_TOKEN))


def mapping(ws: Workspace, body: str) -> Path:
    path = ws.dir / "custom.yaml"
    path.write_text(
        f"site: 64f0c0ffee0000000000aaaa\ncollection: {DEMO_COLLECTION_ID}\n" + body,
        encoding="utf-8",
    )
    return path


def run_json(ws: Workspace, *args: object) -> dict:
    res = ws.run(*[str(a) for a in args], "--json")
    assert res.exit_code in (0, 1), res.output
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_key_by_slug_matches_primary_locale_values(ws: Workspace) -> None:
    m = mapping(
        ws,
        "key: {field: slug}\nlocales: {en: '{column}', fr: '{column} [fr]'}\n"
        "fields:\n  slug: Slug\n  summary: {column: Summary, localized: true}\n",
    )
    f = ws.frame[["Slug", "Summary", "Summary [fr]"]].head(5).copy()
    f.loc[0, "Summary [fr]"] = "Par slug"
    f.loc[1, "Slug"] = "no-such-slug"
    sheet = ws.dir / "byslug.csv"
    f.to_csv(sheet, index=False)
    out = run_json(ws, "sync", sheet, "-m", m)
    assert out["counts"]["updated"] == 1
    # An unknown slug is not found: a typo must not create an item.
    assert out["counts"]["not found"] == 2 and "invalid" not in out["counts"]
    assert ws.live(ws.frame.loc[0, "Item ID"], LOCALE_FR)["summary"] == "Par slug"
    # Asked for (--create or create: true), it is a new item; without a name it cannot be.
    out = run_json(ws, "plan", sheet, "-m", m, "--create")
    assert out["counts"]["invalid"] == 2 and "not found" not in out["counts"]


def test_a_slug_typo_is_not_found_with_the_nearest_slug(ws: Workspace) -> None:
    m = mapping(
        ws,
        "key: {field: slug}\nlocales: {en: '{column}', fr: '{column} [fr]'}\n"
        "fields:\n  name: Name\n  slug: Slug\n  summary: {column: Summary, localized: true}\n",
    )
    f = ws.frame[["Name", "Slug", "Summary", "Summary [fr]"]].head(3).copy()
    typo = f.loc[1, "Slug"][:-1] + "x"
    f.loc[1, "Slug"] = typo
    sheet = ws.dir / "typo.csv"
    f.to_csv(sheet, index=False)
    res = ws.run("plan", sheet, "-m", m)
    assert res.exit_code == 1, res.output
    assert f"no item has slug '{typo}' (did you mean '{ws.frame.loc[1, 'Slug']}'?)" in res.output
    assert "would create" not in res.output
    created = m.read_text().replace("key: {field: slug}", "key: {field: slug, create: true}")
    m.write_text(created)
    out = run_json(ws, "plan", sheet, "-m", m)
    assert out["counts"]["would create"] == 2  # the row, in en and fr


@pytest.mark.slow
def test_empty_cells_skip_by_default_and_clear_when_asked(ws: Workspace) -> None:
    f = ws.frame.copy()
    f.loc[0, "Summary [fr]"] = ""
    f.loc[0, "Website"] = ""
    sheet = ws.write_sheet(f)
    out = run_json(ws, "sync", sheet, "-m", ws.mapping)
    assert out["write_requests"] == 0  # a missing translation never wipes live text
    text = ws.mapping.read_text().replace(
        "  website: Website", "  website: {column: Website, empty: clear}"
    )
    m = ws.dir / "clear.yaml"
    m.write_text(text)
    out = run_json(ws, "sync", sheet, "-m", m)
    assert out["counts"]["updated"] == 3  # a Link is one value for the item: every locale
    item = ws.frame.loc[0, "Item ID"]
    assert not ws.live(item, LOCALE_EN).get("website")
    assert not ws.live(item, LOCALE_DE).get("website")
    assert ws.live(item, LOCALE_FR)["summary"] == ws.frame.loc[0, "Summary [fr]"]
    again = run_json(ws, "sync", sheet, "-m", m)
    assert again["write_requests"] == 0


def test_all_locales_writes_one_column_to_every_locale(ws: Workspace) -> None:
    m = mapping(
        ws,
        "key: {column: Item ID}\n"
        "locales: {en: '{column}', fr: '{column} [fr]', de: '{column} [de]'}\n"
        "fields:\n  summary: {column: Summary, all_locales: true}\n",
    )
    f = ws.frame[["Item ID", "Summary"]].head(2).copy()
    f.loc[0, "Summary"] = "Same everywhere"
    f.loc[1, "Summary"] = ""
    sheet = ws.dir / "all.csv"
    f.to_csv(sheet, index=False)
    out = run_json(ws, "sync", sheet, "-m", m)
    assert out["counts"]["updated"] == 3
    item = f.loc[0, "Item ID"]
    for loc in (LOCALE_EN, LOCALE_FR, LOCALE_DE):
        assert ws.live(item, loc)["summary"] == "Same everywhere"


def test_a_non_text_field_goes_to_every_locale_unless_primary_only(ws: Workspace) -> None:
    f = ws.frame.copy()
    f.loc[0, "Price"] = 9.5
    f.loc[1, "Phone"] = "+1 555 0000"
    sheet = ws.write_sheet(f)
    plan = ws.run("plan", sheet, "-m", ws.mapping)
    assert "written to every locale alike" in plan.output and "Price" in plan.output
    out = run_json(ws, "sync", sheet, "-m", ws.mapping)
    assert out["counts"]["updated"] == 6  # two items, three locales each
    for loc in (LOCALE_EN, LOCALE_FR, LOCALE_DE):  # every locale's page shows the new price
        assert ws.live(f.loc[0, "Item ID"], loc)["price"] == 9.5
    assert not run_json(ws, "plan", sheet, "-m", ws.mapping)["would_send"].get("fields")
    text = ws.mapping.read_text().replace(
        "  phone: Phone", "  phone: {column: Phone, primary_only: true}"
    )
    m = ws.dir / "primary.yaml"
    m.write_text(text)
    f.loc[1, "Phone"] = "+1 555 1111"
    out = run_json(ws, "sync", ws.write_sheet(f), "-m", m)
    assert out["counts"]["updated"] == 1
    assert ws.live(f.loc[1, "Item ID"], LOCALE_EN)["phone"] == "+1 555 1111"
    assert ws.live(f.loc[1, "Item ID"], LOCALE_FR)["phone"] == "+1 555 0000"


def test_warm_cache_asks_for_updates_only_once(ws: Workspace) -> None:
    sheet = ws.write_sheet()
    res = ws.run("pull", "-m", ws.mapping)
    assert res.exit_code == 0 and "Pulled 900 item-variants" in res.output
    ws.sb.clear_log()
    out = run_json(ws, "plan", sheet, "-m", ws.mapping)
    assert out["write_requests"] == 0
    reads = [e for e in ws.sb.log() if e["path"] == ITEMS_LIVE]
    assert len(reads) == 1
    assert "lastUpdated%5Bgte%5D" in reads[0]["query"]
    assert not any(e["path"].endswith(DEMO_COLLECTION_ID) for e in ws.sb.log())  # schema cached


@pytest.mark.slow
def test_refresh_reloads_schema_and_all_items(ws: Workspace) -> None:
    sheet = ws.write_sheet()
    run_json(ws, "plan", sheet, "-m", ws.mapping)
    ws.sb.clear_log()
    run_json(ws, "plan", sheet, "-m", ws.mapping, "--refresh")
    paths = [e["path"] for e in ws.sb.log()]
    assert f"/v2/collections/{DEMO_COLLECTION_ID}" in paths
    assert paths.count(ITEMS_LIVE) == 9  # 900 variants, 100 a page


@pytest.mark.slow
def test_a_date_only_cell_keeps_live_on_its_date_and_is_midnight_on_a_new_one(
    ws: Workspace,
) -> None:
    item = ws.frame.loc[0, "Item ID"]
    with client(ws) as c:
        c.update_items_live(
            DEMO_COLLECTION_ID,
            [{"id": item, "cmsLocaleId": loc,
              "fieldData": {"launch-date": "2023-05-12T15:45:00.000Z"}}
             for loc in (LOCALE_EN, LOCALE_FR, LOCALE_DE)],
        )  # fmt: skip
    f = ws.frame.copy()
    f.loc[0, "Launch date"] = "2023-05-12"
    sheet = ws.write_sheet(f)
    out = run_json(ws, "sync", sheet, "-m", ws.mapping)
    assert out["write_requests"] == 0  # live's date: its time of day is not wiped
    f.loc[0, "Launch date"] = "2024-02-01"
    out = run_json(ws, "sync", ws.write_sheet(f), "-m", ws.mapping)
    assert out["counts"]["updated"] == 3
    assert ws.live(item, LOCALE_EN)["launch-date"] == "2024-02-01T00:00:00.000Z"  # midnight
    # In the field's zone: Berlin's midnight is 23:00Z the day before in winter, 22:00Z in summer.
    text = ws.mapping.read_text().replace(
        'launch-date: {column: Launch date, date_format: "%Y-%m-%d"}',
        'launch-date: {column: Launch date, date_format: "%Y-%m-%d", timezone: Europe/Berlin}',
    )
    berlin = ws.dir / "berlin.yaml"
    berlin.write_text(text)
    f.loc[0, "Launch date"] = "2024-02-02"
    f.loc[1, "Launch date"] = "2024-07-01"
    run_json(ws, "sync", ws.write_sheet(f), "-m", berlin)
    assert ws.live(item, LOCALE_FR)["launch-date"] == "2024-02-01T23:00:00.000Z"
    assert ws.live(f.loc[1, "Item ID"], LOCALE_DE)["launch-date"] == "2024-06-30T22:00:00.000Z"


def test_an_error_that_hits_every_row_stops_with_exit_4(ws: Workspace) -> None:
    f = ws.frame.copy()
    f["Summary"] = f["Summary"] + " x"
    sheet = ws.write_sheet(f)
    ws.sb.set_faults(
        reject=[{"field": "summary", "description": "Field not described in schema: undefined"}]
    )
    res = ws.run("sync", sheet, "-m", ws.mapping, "--results", ws.dir / "r.xlsx")
    assert res.exit_code == 4, res.output
    assert "fields changed" in res.output
    writes = [e for e in ws.sb.log() if e["method"] == "PATCH"]
    assert len(writes) <= 4  # no splitting: at most the batches in flight
    assert (ws.dir / "r.xlsx").exists()


def test_plan_sends_no_write_request_and_counts_requests(ws: Workspace) -> None:
    f = ws.frame.copy()
    f["Summary"] = f["Summary"] + " x"
    res = ws.run("plan", ws.write_sheet(f), "-m", ws.mapping)
    assert res.exit_code == 0
    assert "A sync would send 3 write request(s)" in res.output
    assert "300 would update" in res.output
    assert ws.writes() == []


def test_plain_text_lines_in_a_rich_text_cell_become_paragraphs(ws: Workspace) -> None:
    f = ws.frame.copy()
    f.loc[0, "Description"] = "Line one\nLine two & 3 < 4\n\n  Line three  "
    f.loc[1, "Description"] = "<p>HTML stays\nas written</p>"
    sheet = ws.write_sheet(f)
    out = run_json(ws, "sync", sheet, "-m", ws.mapping)
    assert out["counts"]["updated"] == 2
    assert ws.live(f.loc[0, "Item ID"], LOCALE_EN)["description"] == (
        "<p>Line one</p><p>Line two &amp; 3 &lt; 4</p><p>Line three</p>"
    )
    assert ws.live(f.loc[1, "Item ID"], LOCALE_EN)["description"] == "<p>HTML stays\nas written</p>"
    assert run_json(ws, "sync", sheet, "-m", ws.mapping)["write_requests"] == 0


def test_libreoffice_csv_date_times_are_read(ws: Workspace) -> None:
    text = ws.mapping.read_text().replace(
        'launch-date: {column: Launch date, date_format: "%Y-%m-%d"}', "launch-date: Launch date"
    )
    m = ws.dir / "iso.yaml"
    m.write_text(text)
    f = ws.frame.copy()
    f.loc[0, "Launch date"] = "2024-03-31 2:30:00"  # as LibreOffice saves a date-time to CSV
    res = ws.run("sync", ws.write_sheet(f), "-m", m)
    assert res.exit_code == 0, res.output
    assert ws.live(f.loc[0, "Item ID"], LOCALE_EN)["launch-date"] == "2024-03-31T02:30:00.000Z"

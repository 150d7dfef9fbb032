"""``csvsync sites`` and ``init`` without ``--site``: what the token can see, over the sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from support import Workspace, make_workspace

from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import DEMO_AUTHORS_COLLECTION_ID, DEMO_COLLECTION_ID, DEMO_SITE_ID

OTHER_SITE_ID = "64f0c0ffee0000000000a0a0"
NOTES_COLLECTION_ID = "64f0c0ffee0000000000c0c0"


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    opts = SandboxOptions(seed="demo", token="sandbox-token", rate_limit=100_000)
    with Sandbox(opts) as sb:
        yield make_workspace(sb, tmp_path)


def add_site(ws: Workspace) -> None:
    """A second site, named to sort first, with one empty collection."""
    store = ws.sb.store
    store.create_site("Archive", [{"tag": "en"}], site_id=OTHER_SITE_ID, short_name="archive")
    store.create_collection(
        OTHER_SITE_ID,
        {"displayName": "Notes", "singularName": "Note", "fields": []},
        collection_id=NOTES_COLLECTION_ID,
    )


def test_sites_lists_every_site_with_its_collections_and_live_counts(ws: Workspace) -> None:
    add_site(ws)
    ws.sb.clear_log()
    res = ws.run("sites")
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0] == f"Site {OTHER_SITE_ID}  Archive (archive)"
    demo = lines.index(f"Site {DEMO_SITE_ID}  Demo Store (demo-store)")
    header, authors, products = lines[demo + 1 : demo + 4]
    assert header.split() == ["collection", "name", "slug", "live", "items"]
    assert authors.split() == [DEMO_AUTHORS_COLLECTION_ID, "Authors", "authors", "12"]
    assert products.split() == [DEMO_COLLECTION_ID, "Products", "products", "300"]
    assert f"{NOTES_COLLECTION_ID}  Notes" in res.stdout
    # Counts line up under their heading, ids start in one column for every site.
    assert len({len(line) for line in (header, authors, products)}) == 1
    assert res.stderr == ""
    # One read per collection (a page of one item), on top of the sites and collections.
    reads = [(e["method"], e["path"], parse_qs(e["query"])) for e in ws.sb.log()]
    items = [r for r in reads if r[1].endswith("/items/live")]
    assert sorted(r[1].split("/")[-3] for r in items) == sorted(
        [DEMO_COLLECTION_ID, DEMO_AUTHORS_COLLECTION_ID, NOTES_COLLECTION_ID]
    )
    assert all(r[2]["limit"] == ["1"] for r in items)
    assert len(reads) == 1 + 2 + 3 and {r[0] for r in reads} == {"GET"}
    assert ws.writes() == []


def test_sites_json_is_one_object_on_stdout(ws: Workspace) -> None:
    res = ws.run("sites", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["command"] == "sites" and out["exit_code"] == 0
    (site,) = out["sites"]
    assert (site["id"], site["name"], site["short_name"]) == (
        DEMO_SITE_ID,
        "Demo Store",
        "demo-store",
    )
    assert site["collections"] == [
        {"id": DEMO_AUTHORS_COLLECTION_ID, "name": "Authors", "slug": "authors", "live_items": 12},
        {"id": DEMO_COLLECTION_ID, "name": "Products", "slug": "products", "live_items": 300},
    ]


def test_sites_json_reports_a_refused_token_as_its_error_object(ws: Workspace) -> None:
    secret = "tok-SECRET-sites-0123456789"
    res = ws.run("sites", "--json", env={"WEBFLOW_API_TOKEN": secret})
    assert res.exit_code == 2
    out = json.loads(res.stdout)
    assert out["command"] == "sites" and out["error"]["code"] == "auth"
    assert res.stderr.startswith("Error: ") and "Traceback" not in res.output
    assert secret not in res.output


def test_init_without_site_lists_the_sites_and_says_to_pass_site(ws: Workspace) -> None:
    ws.sb.clear_log()
    res = ws.run("init")
    assert res.exit_code == 0, res.output
    assert f"Site {DEMO_SITE_ID}  Demo Store" in res.stdout
    assert f"{DEMO_COLLECTION_ID}  Products" in res.stdout
    assert "live items" not in res.stdout  # no counts: init reads no items
    assert res.stdout.splitlines()[-1] == (
        "Pass --site (and --collection) to write a mapping: "
        f"csvsync init --site {DEMO_SITE_ID} --collection <collection id>"
    )
    assert not any(e["path"].endswith("/items/live") for e in ws.sb.log())
    assert not (ws.dir / "mappings").exists()
    add_site(ws)
    res = ws.run("init", "--collection", "products")
    assert res.exit_code == 0, res.output
    assert f"Site {OTHER_SITE_ID}  Archive" in res.stdout
    assert res.stdout.rstrip().endswith(
        "csvsync init --site <site id> --collection <collection id>"
    )
    assert not (ws.dir / "mappings").exists()


def test_names_from_webflow_cannot_drive_the_terminal(ws: Workspace) -> None:
    ws.sb.store.create_site(
        "Evil\x1b[2J\nSite", [{"tag": "en"}], site_id=OTHER_SITE_ID, short_name="evil"
    )
    res = ws.run("sites")
    assert res.exit_code == 0, res.output
    assert "\x1b" not in res.stdout
    assert f"Site {OTHER_SITE_ID}  Evil\ufffd[2J Site (evil)" in res.stdout
    assert "  no collections" in res.stdout

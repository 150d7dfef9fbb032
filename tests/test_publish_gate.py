"""csvsync against Webflow's publish-gated refusals, over HTTP through the CLI: the 409 after a
field change, a token without cms:write, and a deleted item's slug held until a site publish."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import requests
from support import Workspace, make_workspace

from csvsync.ops.demo import DEMO_TOKEN
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import DEMO_COLLECTION_ID, DEMO_SITE_ID, LOCALE_DE, LOCALE_EN, LOCALE_FR

PUBLISH_FIRST = (
    "Webflow refuses live writes until the site is published: the collection's fields changed "
    "since the last publish; publish the site in Webflow (or POST /sites/:id/publish), then run "
    "again"
)
READ_ONLY = (
    "the token can read but not write CMS items; create one with CMS write access (cms:write)"
)


def workspace(tmp_path: Path, **opts: object) -> Iterator[Workspace]:
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000,
                                **opts)) as sb:  # type: ignore[arg-type]  # fmt: skip
        yield make_workspace(sb, tmp_path)


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    yield from workspace(tmp_path)


def call(ws: Workspace, method: str, path: str, **kw: object) -> requests.Response:
    headers = {"Authorization": f"Bearer {DEMO_TOKEN}"}
    return requests.request(method, ws.sb.base_url + path, headers=headers, timeout=10, **kw)  # type: ignore[arg-type]


def publish_site(ws: Workspace) -> None:
    r = call(ws, "POST", f"/sites/{DEMO_SITE_ID}/publish", json={"publishToWebflowSubdomain": True})
    assert r.status_code == 202, r.text


def test_a_field_change_stops_the_sync_until_the_site_is_published(ws: Workspace) -> None:
    assert ws.run("pull", "-m", ws.mapping).exit_code == 0
    field = {"type": "PlainText", "displayName": "Subtitle"}
    assert call(ws, "POST", f"/collections/{DEMO_COLLECTION_ID}/fields", json=field).ok
    edited = ws.frame.copy()
    edited.loc[0, "Summary"] = "Changed after the field was added"
    sheet = ws.write_sheet(edited)
    ws.sb.clear_log()
    res = ws.run("sync", sheet, "-m", ws.mapping)
    assert res.exit_code == 4, res.output
    assert f"stopped: {PUBLISH_FIRST}" in res.output.splitlines(), res.output
    log = ws.sb.log()
    patches = [e for e in log if e["method"] == "PATCH"]
    assert [e["status"] for e in patches] == [409, 409]  # the batch, retried once
    rereads = [e for e in log if e["method"] == "GET" and
               e["path"] == f"/v2/collections/{DEMO_COLLECTION_ID}"]  # fmt: skip
    assert len(rereads) == 1
    publish_site(ws)
    # The schema re-read was kept: the new field maps without --refresh.
    ws.mapping.write_text(ws.mapping.read_text() + "  subtitle: Subtitle\n", encoding="utf-8")
    edited["Subtitle"] = ""
    edited.loc[0, "Subtitle"] = "Mapped at once"
    res = ws.run("sync", ws.write_sheet(edited), "-m", ws.mapping)
    assert res.exit_code == 0, res.output
    item = str(edited.loc[0, "Item ID"])
    live = ws.live(item, LOCALE_EN)
    assert live["subtitle"] == "Mapped at once"
    assert live["summary"] == "Changed after the field was added"


def test_a_read_only_token_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    for ws in workspace(tmp_path, scopes=("cms:read", "sites:read")):
        edited = ws.frame.copy()
        edited.loc[0, "Summary"] = "Not allowed"
        sheet = ws.write_sheet(edited)
        assert ws.run("plan", sheet, "-m", ws.mapping).exit_code == 0
        assert ws.run("pull", "-m", ws.mapping).exit_code == 0
        assert not [e for e in ws.sb.log() if e["path"].endswith("/token/introspect")]
        res = ws.run("sync", sheet, "-m", ws.mapping)
        assert res.exit_code == 2, res.output
        assert res.output.strip() == f"Error: {READ_ONLY}"
        assert ws.writes() == []


def test_a_writing_sync_reads_the_scopes_once(ws: Workspace) -> None:
    edited = ws.frame.copy()
    edited.loc[0, "Summary"] = "Allowed"
    ws.sb.clear_log()
    res = ws.run("sync", ws.write_sheet(edited), "-m", ws.mapping)
    assert res.exit_code == 0, res.output
    reads = [e for e in ws.sb.log() if e["path"].endswith("/token/introspect")]
    assert len(reads) == 1 and len(ws.writes()) == 1


def test_a_deleted_items_slug_is_explained(ws: Workspace) -> None:
    gone = ws.frame.iloc[0]
    for loc in (LOCALE_EN, LOCALE_FR, LOCALE_DE):
        r = call(ws, "DELETE", f"/collections/{DEMO_COLLECTION_ID}/items/{gone['Item ID']}",
                 params={"cmsLocaleId": loc})  # fmt: skip
        assert r.status_code == 204, r.text
    again = ws.frame.head(1).copy()
    again["Item ID"] = ""
    sheet = ws.write_sheet(pd.concat([ws.frame.iloc[1:], again], ignore_index=True))
    res = ws.run("sync", sheet, "-m", ws.mapping)
    assert res.exit_code == 1, res.output
    expected = (
        f"slug '{gone['Slug']}' is taken (perhaps by a deleted item, whose slug stays reserved "
        "until the site is published); publish the site in Webflow, or use another slug"
    )
    assert expected in " ".join(res.output.split()), res.output
    publish_site(ws)
    res = ws.run("sync", sheet, "-m", ws.mapping)
    assert res.exit_code == 0, res.output

"""``csvsync sync`` with images the sandbox really fetches, from a loopback image server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
import pytest
import requests
from imagehost import PHOTO, ImageHost
from support import Workspace, make_workspace, read_rows

from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import LOCALE_EN

PATCH_PATH = "/v2/collections/64f0c0ffee0000000000bbbb/items/live"


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with Sandbox(SandboxOptions(seed="demo", token="sandbox-token")) as sb:
        yield make_workspace(sb, tmp_path)


@pytest.fixture
def host() -> Iterator[ImageHost]:
    with ImageHost() as h:
        yield h


def sync(ws: Workspace, sheet: Path, *extra: Any) -> dict[str, Any]:
    res = ws.run("sync", sheet, "-m", ws.mapping, "--json", *extra)
    assert res.exception is None or isinstance(res.exception, SystemExit), res.output
    out: dict[str, Any] = json.loads(res.stdout.strip().splitlines()[-1])
    return out


def patches(ws: Workspace) -> int:
    return sum(1 for e in ws.sb.log() if e["method"] == "PATCH" and e["path"] == PATCH_PATH)


def hosted(ws: Workspace, url: str) -> bytes:
    return requests.get(ws.sb.origin + urlsplit(url).path, timeout=10).content


def en_row(path: Path, row: int) -> Any:
    rows = read_rows(path)
    return rows[(rows["Row"] == row) & (rows["Locale"] == "en")].iloc[0]


def test_a_fetched_image_lands_and_a_rerun_sends_nothing(ws: Workspace, host: ImageHost) -> None:
    f = ws.frame.copy()
    item = f.loc[0, "Item ID"]
    f.loc[0, "Image"] = host.url("/photo.png")
    f.loc[0, "Gallery"] = f"{host.url('/second.png')};{host.url('/photo.png')}"
    sheet = ws.write_sheet(f)
    first = sync(ws, sheet)
    assert first["exit_code"] == 0, first
    assert first["counts"]["updated"] == 3  # the three locales
    live = ws.live(item, LOCALE_EN)
    assert live["image"]["url"] != host.url("/photo.png")
    assert hosted(ws, live["image"]["url"]) == PHOTO
    assert [hosted(ws, g["url"]) == PHOTO for g in live["gallery"]] == [False, True]
    fetches = sum(host.hits.values())
    ws.sb.clear_log()
    second = sync(ws, sheet)
    assert second["write_requests"] == 0 and second["counts"] == {"unchanged": 900}
    assert patches(ws) == 0 and sum(host.hits.values()) == fetches


def test_a_missing_image_is_reported_per_row_and_sent_again(ws: Workspace, host: ImageHost) -> None:
    f = ws.frame.copy()
    item = f.loc[0, "Item ID"]
    before = ws.live(item, LOCALE_EN)["image"]
    missing = host.url("/missing.png")
    f.loc[0, "Image"] = missing
    f.loc[0, "Summary"] = "with a missing image"
    sheet = ws.write_sheet(f)
    results = ws.dir / "r.xlsx"
    res = ws.run("sync", sheet, "-m", ws.mapping, "--results", results)
    assert res.exit_code == 0, res.output
    row = en_row(results, 2)
    assert row["Outcome"] == "updated"
    assert row["Message"].startswith("Webflow skipped the file at image (")
    assert missing in row["Message"]
    live = ws.live(item, LOCALE_EN)
    assert live["summary"] == "with a missing image" and live["image"] == before

    # not recorded as written: the next run sends the image again (and reports it again)
    ws.sb.clear_log()
    res = ws.run("sync", sheet, "-m", ws.mapping, "--results", results)
    assert res.exit_code == 0, res.output
    assert patches(ws) == 1
    assert "Webflow skipped the file at image (" in en_row(results, 2)["Message"]
    # once the image is served it lands, and then nothing is sent
    host.serve("/missing.png", PHOTO)
    again = sync(ws, sheet)
    assert again["exit_code"] == 0 and again["write_requests"] == 1, again
    assert hosted(ws, ws.live(item, LOCALE_EN)["image"]["url"]) == PHOTO
    ws.sb.clear_log()
    assert sync(ws, sheet)["write_requests"] == 0 and patches(ws) == 0


def test_a_skipped_gallery_image_is_reported_on_its_row(ws: Workspace, host: ImageHost) -> None:
    f = ws.frame.copy()
    f.loc[1, "Gallery"] = f"{host.url('/photo.png')};{host.url('/huge.png')}"
    results = ws.dir / "r.xlsx"
    res = ws.run("sync", ws.write_sheet(f), "-m", ws.mapping, "--results", results)
    assert res.exit_code == 0, res.output
    row = en_row(results, 3)
    assert row["Outcome"] == "updated"
    assert row["Message"].startswith("Webflow skipped the file at gallery (")
    assert host.url("/huge.png") in row["Message"]
    [kept] = ws.live(f.loc[1, "Item ID"], LOCALE_EN)["gallery"]
    assert hosted(ws, kept["url"]) == PHOTO


def test_a_gallery_with_an_image_skipped_is_sent_again_not_a_conflict(
    ws: Workspace, host: ImageHost
) -> None:
    # Webflow keeps the images it could fetch, in order, and drops the others: the ones kept
    # are paired with the sheet's URLs by file name, so the next run sees live as csvsync
    # left it and sends the gallery again (it was a conflict before: pairing by position took
    # second.png's copy for missing.png).
    f = ws.frame.copy()
    item = f.loc[1, "Item ID"]
    urls = [host.url("/photo.png"), host.url("/missing.png"), host.url("/second.png")]
    f.loc[1, "Gallery"] = ";".join(urls)
    sheet = ws.write_sheet(f)
    first = sync(ws, sheet)
    assert first["exit_code"] == 0, first
    assert len(ws.live(item, LOCALE_EN)["gallery"]) == 2
    results = ws.dir / "r.xlsx"
    ws.sb.clear_log()
    res = ws.run("sync", sheet, "-m", ws.mapping, "--results", results)
    assert res.exit_code == 0, res.output
    row = en_row(results, 3)
    assert row["Outcome"] == "updated", row["Message"]
    assert row["Message"].startswith("Webflow skipped the file at gallery (")
    assert patches(ws) == 1
    host.serve("/missing.png", PHOTO)
    again = sync(ws, sheet)
    assert again["exit_code"] == 0 and again["write_requests"] == 1, again
    assert len(ws.live(item, LOCALE_EN)["gallery"]) == 3
    ws.sb.clear_log()
    assert sync(ws, sheet)["write_requests"] == 0 and patches(ws) == 0


def test_a_partly_kept_gallery_is_recorded_when_another_field_is_refused(
    ws: Workspace, host: ImageHost
) -> None:
    # Webflow refuses the variant's name (it is sent again without it) and skips one image of
    # its gallery: what Webflow kept of the gallery is still recorded, so the next run sends
    # the gallery again rather than calling it a conflict.
    f = ws.frame.copy()
    item = f.loc[1, "Item ID"]
    f.loc[1, "Gallery"] = ";".join([host.url("/photo.png"), host.url("/missing.png")])
    f.loc[1, "Name"] = "A name Webflow refuses"
    ws.sb.set_faults(reject=[{"item_id": item, "field": "name", "description": "Name is banned"}])
    sheet = ws.write_sheet(f)
    assert sync(ws, sheet)["exit_code"] == 1
    ws.sb.reset_faults()
    results = ws.dir / "r.xlsx"
    ws.run("sync", sheet, "-m", ws.mapping, "--results", results)
    changes = pd.read_excel(results, sheet_name="Changes", engine="openpyxl")
    mine = changes[(changes["Row"] == 3) & (changes["Locale"] == "en")]
    assert dict(zip(mine["Field"], mine["Outcome"], strict=True)) == {
        "name": "updated", "gallery": "updated"
    }, mine.to_dict("records")  # fmt: skip

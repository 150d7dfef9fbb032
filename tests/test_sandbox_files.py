"""Files over HTTP: the sandbox fetches loopback URLs, re-hosts them, skips or refuses the rest."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from imagehost import FOUR_MB, PHOTO, ImageHost, sized_png

from csvsync.sandbox import Sandbox
from csvsync.sandbox.seed import DEMO_COLLECTION_ID, product_id

ITEMS_LIVE = f"/collections/{DEMO_COLLECTION_ID}/items/live"
ITEM = product_id(4)


@pytest.fixture
def host() -> Iterator[ImageHost]:
    with ImageHost() as h:
        yield h


def patch(wf: Any, field_data: dict[str, Any], **params: str) -> requests.Response:
    body = {"items": [{"id": ITEM, "fieldData": field_data}]}
    return wf.patch(ITEMS_LIVE, params=params, json=body)


def hosted_bytes(sandbox: Sandbox, url: str) -> requests.Response:
    """GET a hosted file from the sandbox (its asset host is a name, not a server)."""
    return requests.get(sandbox.origin + urlsplit(url).path, timeout=10)


def live_field(wf: Any, slug: str) -> Any:
    items = wf.get(ITEMS_LIVE).json()["items"]
    return next(i for i in items if i["id"] == ITEM)["fieldData"].get(slug)


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/photo.png"


def test_a_loopback_image_is_fetched_and_rehosted(
    wf: Any, sandbox: Sandbox, host: ImageHost
) -> None:
    source = host.url("/photo.png")
    r = patch(wf, {"image": {"url": source, "alt": "A photo"}})
    assert r.status_code == 200, r.text
    image = r.json()["items"][0]["fieldData"]["image"]
    assert host.hits["/photo.png"] == 1
    assert re.fullmatch(r"[0-9a-f]{24}", image["fileId"])
    assert image["url"] != source
    assert image["url"] == f"{sandbox.asset_base}/assets/{image['fileId']}/photo.png"
    assert image["alt"] == "A photo"
    assert live_field(wf, "image") == image
    served = hosted_bytes(sandbox, image["url"])
    assert served.status_code == 200
    assert served.content == PHOTO and served.headers["Content-Type"] == "image/png"
    # the hosted copy outlives the source, and re-sending the read form fetches nothing
    host.fail("/photo.png")
    again = patch(wf, {"image": image}).json()["items"][0]["fieldData"]["image"]
    assert again == image and host.hits["/photo.png"] == 1
    assert hosted_bytes(sandbox, image["url"]).content == PHOTO


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/missing.png", "HTTP 404"),
        ("/huge.png", "larger than 4 MB"),
        ("/huge-unannounced.png", "larger than 4 MB"),
        ("/page.html", "not an image"),
        ("/elsewhere.png", "beyond loopback"),
        (None, "could not fetch"),
    ],
)
def test_a_file_it_cannot_take_is_skipped_or_refused(
    wf: Any, host: ImageHost, path: str | None, problem: str
) -> None:
    host.serve("/huge-unannounced.png", sized_png(FOUR_MB + 1), announce=False)
    host.redirect("/elsewhere.png", "http://192.0.2.1/photo.png")  # TEST-NET: never reached
    url = host.url(path) if path else closed_port_url()
    before = live_field(wf, "image")
    refused = patch(wf, {"image": {"url": url}, "summary": "refused"}, skipInvalidFiles="false")
    assert refused.status_code == 400, refused.text
    body = refused.json()
    assert body["code"] == "validation_error" and body["message"] == "Validation Error"
    [detail] = body["details"]
    assert detail["param"] == "image" and url in detail["description"]
    assert problem in detail["description"]
    assert live_field(wf, "summary") != "refused"  # the whole request failed
    skipped = patch(wf, {"image": {"url": url}, "summary": "written"})
    assert skipped.status_code == 200, skipped.text
    assert skipped.json()["items"][0]["fieldData"]["image"] == before
    assert live_field(wf, "summary") == "written" and live_field(wf, "image") == before


def test_four_mb_exactly_is_taken(wf: Any, sandbox: Sandbox, host: ImageHost) -> None:
    host.serve("/edge.png", sized_png(FOUR_MB), announce=False)
    r = patch(wf, {"image": {"url": host.url("/edge.png")}}, skipInvalidFiles="false")
    assert r.status_code == 200, r.text
    served = hosted_bytes(sandbox, r.json()["items"][0]["fieldData"]["image"]["url"])
    assert len(served.content) == FOUR_MB


def test_a_file_field_takes_any_content_and_a_loopback_redirect_is_followed(
    wf: Any, sandbox: Sandbox, host: ImageHost
) -> None:
    host.redirect("/moved.png", host.url("/photo.png"))
    r = patch(
        wf,
        {"brochure": {"url": host.url("/page.html")}, "image": {"url": host.url("/moved.png")}},
        skipInvalidFiles="false",
    )
    assert r.status_code == 200, r.text
    data = r.json()["items"][0]["fieldData"]
    page = hosted_bytes(sandbox, data["brochure"]["url"])
    assert page.content.startswith(b"<html>") and page.headers["Content-Type"] == "text/html"
    assert hosted_bytes(sandbox, data["image"]["url"]).content == PHOTO
    assert host.hits["/photo.png"] == 1


def test_multi_image_takes_bare_url_strings(wf: Any, sandbox: Sandbox, host: ImageHost) -> None:
    gallery = [
        host.url("/photo.png"),
        {"url": host.url("/second.png"), "alt": "Second"},
        host.url("/missing.png"),
        "https://img.example.com/synthetic.png",
    ]
    r = patch(wf, {"gallery": gallery})
    assert r.status_code == 200, r.text
    got = r.json()["items"][0]["fieldData"]["gallery"]
    assert [urlsplit(g["url"]).path.rsplit("/", 1)[1] for g in got] == [
        "photo.png",
        "second.png",
        "synthetic.png",
    ]  # the 404 skipped, the order kept
    assert [g.get("alt") for g in got] == [None, "Second", None]
    assert hosted_bytes(sandbox, got[0]["url"]).content == PHOTO
    assert hosted_bytes(sandbox, got[1]["url"]).content != PHOTO  # its own bytes
    refused = patch(wf, {"gallery": gallery}, skipInvalidFiles="false")
    assert refused.status_code == 400
    assert [d["param"] for d in refused.json()["details"]] == ["gallery"]

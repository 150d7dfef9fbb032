"""Every answer the sandbox gives to a representative workload follows Webflow's OpenAPI
description (``tests/webflow-openapi/v2.yml``): its operation's status and response schema.

The workload runs csvsync's CLI where it is natural (sites, pull, sync live and staged with a
publish and a create, export, revert) and plain HTTP for the rest, errors included. The only
departures allowed are the spec's defects, listed once in ``tests/openapi_defects.py``; every
route the sandbox serves must be exercised, so a new route is checked as soon as it exists.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests
from openapi_defects import check_all
from support import Workspace, make_workspace

from csvsync.ops.demo import DEMO_TOKEN
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import (
    DEMO_AUTHORS_COLLECTION_ID,
    DEMO_COLLECTION_ID,
    DEMO_SITE_ID,
    LOCALE_DE,
    LOCALE_EN,
    LOCALE_FR,
    product_id,
)
from csvsync.sandbox.server import _ROUTES

pytestmark = pytest.mark.slow

C = f"/collections/{DEMO_COLLECTION_ID}"
ALL = f"{LOCALE_EN},{LOCALE_FR},{LOCALE_DE}"


class Api:
    """Plain HTTP to the sandbox; every call's answer is recorded by the sandbox itself."""

    def __init__(self, sb: Sandbox, token: str = DEMO_TOKEN) -> None:
        self.base = sb.base_url
        self.s = requests.Session()
        self.s.headers["Authorization"] = f"Bearer {token}"

    def __call__(self, method: str, path: str, want: int, **kw: Any) -> Any:
        r = self.s.request(method, self.base + path, timeout=10, **kw)
        assert r.status_code == want, (method, path, r.status_code, r.text[:300])
        return r.json() if r.content else None


def _cli(ws: Workspace) -> None:
    def run(*args: Any) -> None:
        res = ws.run(*args)
        assert res.exit_code == 0, res.output

    run("sites")
    run("pull", "-m", ws.mapping)
    edited = ws.frame.copy()
    edited.loc[0:2, "Summary"] = edited.loc[0:2, "Summary"] + " (conformance)"
    new = ws.frame.head(1).copy()
    new["Item ID"] = ""
    for col, value in (("Name", "Conf"), ("Slug", "conf"), ("Name [fr]", "Conf fr"),
                       ("Slug [fr]", "conf-fr"), ("Name [de]", "Conf de"),
                       ("Slug [de]", "conf-de")):  # fmt: skip
        new[col] = value
    run("sync", ws.write_sheet(pd.concat([edited, new], ignore_index=True)), "-m", ws.mapping)
    staged = ws.frame.copy()
    staged.loc[3, "Summary"] = staged.loc[3, "Summary"] + " (staged)"
    run("sync", ws.write_sheet(staged, "staged.csv"), "-m", ws.mapping, "--target", "staged",
        "--publish")  # fmt: skip
    run("export", "-m", ws.mapping, ws.dir / "export.csv")
    run("revert", "last", "-m", ws.mapping)


def _reads(api: Api) -> None:
    api("GET", "/token/introspect", 200)
    api("GET", "/sites", 200)
    api("GET", f"/sites/{DEMO_SITE_ID}", 200)
    api("GET", f"/sites/{DEMO_SITE_ID}/collections", 200)
    api("GET", C, 200)
    api("GET", f"/collections/{DEMO_AUTHORS_COLLECTION_ID}", 200)
    for side in ("/items/live", "/items"):
        page = api("GET", C + side, 200, params={"cmsLocaleId": ALL, "limit": 100, "offset": 0})
        api("GET", C + side, 200, params={"cmsLocaleId": ALL, "limit": 100, "offset": 800})
        api("GET", C + side, 200, params={"sortBy": "name", "sortOrder": "desc", "limit": 5})
        api("GET", C + side, 200, params={"sortBy": "lastPublished", "limit": 5})
        stamp = page["items"][0]["lastUpdated"]
        api("GET", C + side, 200, params={"lastUpdated[gte]": stamp, "createdOn[lte]": stamp})
        api("GET", C + side, 200, params={"slug": page["items"][0]["fieldData"]["slug"]})
        api("GET", C + side, 200, params={"name": "no such name"})
    api("GET", f"{C}/items/{product_id(2)}", 200, params={"cmsLocaleId": LOCALE_FR})
    api("GET", f"{C}/items/{product_id(2)}/live", 200)


def _writes(api: Api, routes: set[str]) -> None:
    def fd(slug: str) -> dict[str, Any]:
        return {"name": slug.title(), "slug": slug, "price": 9.5, "featured": True}

    staged = api("POST", C + "/items", 202, json={"fieldData": fd("s-one")})
    api("POST", C + "/items", 202, json={"items": [{"fieldData": fd("s-two")}]})
    api("POST", C + "/items/live", 202, json={"isDraft": False, "fieldData": fd("l-one")})
    api("POST", C + "/items/live", 202, json={"items": [{"fieldData": fd("l-two")}]})
    bulk = api("POST", C + "/items/bulk", 202,
               json={"cmsLocaleIds": [LOCALE_EN, LOCALE_FR], "fieldData": fd("b-one")})  # fmt: skip
    api("POST", C + "/items/bulk", 202, json={"fieldData": [fd("b-two"), fd("b-three")]})
    one, two = product_id(10), product_id(11)
    api("PATCH", C + "/items/live", 200, json={"items": [
        {"id": one, "fieldData": {"stock": 4}},
        {"id": one, "cmsLocaleId": LOCALE_FR, "fieldData": {"name": "Dix"}}]})  # fmt: skip
    api("PATCH", C + "/items", 200, json={"items": [{"id": two, "fieldData": {"stock": 5}}]})
    api("PATCH", f"{C}/items/{one}/live", 200, json={"fieldData": {"stock": 6}})
    api("PATCH", f"{C}/items/{two}", 200, json={"cmsLocaleId": LOCALE_DE, "isDraft": False,
                                                 "fieldData": {"name": "Elf"}})  # fmt: skip
    api("POST", C + "/items/publish", 202, json={"itemIds": [staged["id"], two]})
    api(
        "POST",
        C + "/items/publish",
        202,
        json={"items": [{"id": bulk["items"][0]["id"], "cmsLocaleIds": [LOCALE_FR]}]},
    )
    api("POST", C + "/items/publish", 202, json={"itemIds": ["64f0c0ffee1fffffffffffff"]})
    api("DELETE", C + "/items/live", 204, json={"items": [{"id": product_id(12)}]})
    if "delete_items" in routes:  # routes others add are covered as soon as they exist
        api("DELETE", C + "/items", 204, json={"items": [{"id": product_id(13)}]})
    if "delete_item" in routes:
        api("DELETE", f"{C}/items/{product_id(14)}", 204)
    if "publish_site" in routes:
        api("POST", f"/sites/{DEMO_SITE_ID}/publish", 400, json={})
        api("POST", f"/sites/{DEMO_SITE_ID}/publish", 202, json={"publishToWebflowSubdomain": True})
        api("POST", f"/sites/{DEMO_SITE_ID}/publish", 429, json={"publishToWebflowSubdomain": True})
    made = api("POST", f"/sites/{DEMO_SITE_ID}/collections", 200, json={
        "displayName": "Notes", "singularName": "Note",
        "fields": [{"type": "PlainText", "displayName": "Body"}]})  # fmt: skip
    api(
        "POST",
        f"/collections/{made['id']}/fields",
        200,
        json={"type": "Number", "displayName": "Rank", "helpText": "1 is first"},
    )


def _errors(api: Api, sb: Sandbox) -> None:
    for params in ({"limit": 0}, {"limit": "+5"}, {"offset": -1}, {"sortBy": "price"},
                   {"sortOrder": "up"}, {"lastUpdated": "2024-01-01"},
                   {"lastUpdated[after]": "2024-01-01T00:00:00Z"},
                   {"createdOn[gte]": "yesterday"}, {"cmsLocaleId": "nope"}):  # fmt: skip
        api("GET", C + "/items/live", 400, params=params)
    api("POST", C + "/items", 400, json={"items": []})
    api("POST", C + "/items/bulk", 400, json={"cmsLocaleIds": [], "fieldData": {"name": "x"}})
    api("POST", C + "/items/bulk", 400, json={"cmsLocaleIds": [LOCALE_EN]})
    api("POST", C + "/items/live", 400, json={"fieldData": {"name": "No slug", "price": "x"}})
    api("PATCH", C + "/items/live", 400, json={"items": {"id": product_id(1)}})
    api("PATCH", C + "/items", 400, json={"items": [{"id": product_id(1), "fieldData": None}]})
    api("PATCH", C + "/items", 400, data=b'{"items": [', headers={"Content-Type": "x"})
    api("POST", C + "/items/publish", 400, json=[product_id(1)])
    api("GET", "/collections/64f0c0ffee0000000000dead", 404)
    api("GET", f"{C}/items/64f0c0ffee1fffffffffffff", 404)
    api(
        "PATCH",
        C + "/items/live",
        404,
        json={"items": [{"id": "64f0c0ffee1fffffffffffff", "fieldData": {"stock": 1}}]},
    )
    draft = api("POST", C + "/items", 202, json={"fieldData": {"name": "Draft", "slug": "draft"}})
    api(
        "PATCH",
        C + "/items/live",
        409,
        json={"items": [{"id": draft["id"], "fieldData": {"stock": 1}}]},
    )
    Api(sb, token="wrong")("GET", "/sites", 401)
    sb.set_faults(burst_429=1)
    api("GET", C + "/items/live", 429)
    sb.set_faults(error_rate=1.0)
    api("GET", "/sites", 500)
    sb.reset_faults()


def _route(method: str, path: str) -> str | None:
    for m, pattern, name in _ROUTES:
        if m == method and pattern.match(path):
            return name
    return None


def test_every_answer_of_a_workload_follows_the_spec(tmp_path: Path, webflow_openapi: Any) -> None:
    record: list[dict[str, Any]] = []
    opts = SandboxOptions(token=DEMO_TOKEN, rate_limit=100_000, record=record)
    routes = {name for _, _, name in _ROUTES}
    with Sandbox(opts) as sb:
        _cli(make_workspace(sb, tmp_path))
        api = Api(sb)
        _reads(api)
        _writes(api, routes)
        _errors(api, sb)
    if "scopes" in {f.name for f in dataclasses.fields(SandboxOptions)}:
        scoped = dataclasses.replace(opts, scopes=("cms:read",))
        with Sandbox(scoped) as sb:
            Api(sb)(
                "PATCH",
                C + "/items/live",
                403,
                json={"items": [{"id": product_id(1), "fieldData": {"stock": 1}}]},
            )
    failures = check_all(webflow_openapi, record)
    assert not failures, "\n".join(failures)
    exercised = {_route(e["method"], e["path"]) for e in record}
    assert routes <= exercised, f"routes no exchange reached: {sorted(routes - exercised)}"
    assert {200, 202, 204, 400, 401, 404, 409, 429, 500} <= {e["status"] for e in record}


def test_the_recorder_keeps_each_exchange_whole() -> None:
    record: list[dict[str, Any]] = []
    with Sandbox(SandboxOptions(record=record)) as sb:
        body = json.dumps({"items": [{"id": product_id(1), "fieldData": {"stock": 2}}]})
        Api(sb, "sandbox-token")(
            "PATCH",
            C + "/items/live?skipInvalidFiles=false",
            200,
            data=body,
            headers={"Content-Type": "application/json"},
        )
    (ex,) = record
    assert (ex["method"], ex["path"], ex["query"]) == (
        "PATCH",
        f"/v2{C}/items/live",
        "skipInvalidFiles=false",
    )
    assert ex["body"] == body.encode() and ex["status"] == 200
    assert re.fullmatch(r"\d+", ex["headers"]["X-RateLimit-Remaining"])
    assert ex["response"]["items"][0]["fieldData"]["stock"] == 2

"""Sandbox over HTTP: site publish (1 a minute), the 409 after a field change until then, token
scopes (403 missing_scopes), and deleted items' slugs held until the next site publish."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import DEMO_COLLECTION_ID, DEMO_SITE_ID, LOCALE_EN, product_id

COLL = f"/collections/{DEMO_COLLECTION_ID}"
PUBLISH = f"/sites/{DEMO_SITE_ID}/publish"
STRUCTURE = "Conflict: The collection structure changed since the last publish"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Api(requests.Session):
    def __init__(self, sb: Sandbox) -> None:
        super().__init__()
        self.base = sb.base_url
        self.headers["Authorization"] = f"Bearer {sb.opts.token}"

    def request(self, method: str | bytes, url: str | bytes, *a: Any, **kw: Any) -> Any:
        return super().request(method, self.base + str(url), *a, **kw)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api(clock: Clock) -> Iterator[Api]:
    with Sandbox(SandboxOptions(clock=clock)) as sb, Api(sb) as s:
        yield s


def error(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"message", "code", "externalReference", "details"}
    assert body["code"] == code and body["externalReference"] is None
    return dict(body)


def new_item(slug: str) -> dict[str, Any]:
    return {"fieldData": {"name": slug.title(), "slug": slug}}


def test_live_writes_refused_after_a_field_change_until_the_site_is_published(
    api: Api, clock: Clock
) -> None:
    patch = {"items": [{"id": product_id(1), "fieldData": {"name": "Renamed"}}]}
    assert api.patch(f"{COLL}/items/live", json=patch).status_code == 200
    field = {"type": "PlainText", "displayName": "Subtitle"}
    assert api.post(f"{COLL}/fields", json=field).status_code == 200
    for r in (
        api.patch(f"{COLL}/items/live", json=patch),
        api.patch(f"{COLL}/items/{product_id(1)}/live", json={"fieldData": {"name": "X"}}),
        api.post(f"{COLL}/items/live", json=new_item("brand-new")),
    ):
        assert error(r, 409, "conflict")["message"] == STRUCTURE
    # staged writes are not refused (inferred: every source reports the live PATCH only)
    assert api.patch(f"{COLL}/items", json=patch).status_code == 200
    assert error(api.post(PUBLISH, json={}), 400, "bad_request")
    r = api.post(PUBLISH, json={"publishToWebflowSubdomain": True, "customDomains": []})
    assert r.status_code == 202, r.text
    assert r.json() == {"customDomains": [], "publishToWebflowSubdomain": True,
                        "publishScope": "site"}  # fmt: skip
    r = api.patch(f"{COLL}/items/live", json={"items": [{"id": product_id(1),
                  "fieldData": {"subtitle": "Now mapped"}}]})  # fmt: skip
    assert r.status_code == 200, r.text
    # one successful publish a minute per site; the injected clock moves, nothing sleeps
    clock.now += 59.5
    r = api.post(PUBLISH, json={"publishToWebflowSubdomain": True})
    assert error(r, 429, "too_many_requests")["message"] == "Too Many Requests"
    assert r.headers["Retry-After"] == "1" and "X-RateLimit-Remaining" in r.headers
    clock.now += 1
    assert api.post(PUBLISH, json={"publishToWebflowSubdomain": True}).status_code == 202
    r = api.post("/sites/64f0c0ffee0000000000ffff/publish", json={"publishToWebflowSubdomain": 1})
    error(r, 400, "validation_error")
    r = api.post("/sites/64f0c0ffee0000000000ffff/publish", json={"customDomains": []})
    error(r, 404, "resource_not_found")


def test_a_token_without_a_scope_gets_403_missing_scopes() -> None:
    opts = SandboxOptions(scopes=("cms:read", "sites:read"))
    with Sandbox(opts) as sb, Api(sb) as api:
        auth = api.get("/token/introspect").json()["authorization"]
        assert auth["scope"] == "cms:read,sites:read"
        assert api.get(f"/sites/{DEMO_SITE_ID}").status_code == 200
        assert api.get(f"{COLL}/items/live").status_code == 200
        patch = {"items": [{"id": product_id(1), "fieldData": {"name": "Renamed"}}]}
        for r in (
            api.patch(f"{COLL}/items/live", json=patch),
            api.patch(f"{COLL}/items", json=patch),
            api.post(f"{COLL}/items/live", json=new_item("brand-new")),
            api.delete(f"{COLL}/items/{product_id(1)}"),
        ):
            body = error(r, 403, "missing_scopes")
            assert body["message"] == (
                "OAuthForbidden: You are missing the following scopes - cms:write"
            )
        body = error(api.post(PUBLISH, json={"publishToWebflowSubdomain": True}), 403,
                     "missing_scopes")  # fmt: skip
        assert body["message"].endswith("- sites:write")
        assert sb.store.variant(DEMO_COLLECTION_ID, product_id(1))["fieldData"]["name"] != "Renamed"
    with Sandbox(SandboxOptions(scopes=("sites:read",))) as sb, Api(sb) as api:
        assert error(api.get(f"{COLL}/items/live"), 403, "missing_scopes")["message"].endswith(
            "- cms:read"
        )
    with Sandbox(SandboxOptions()) as sb, Api(sb) as api:
        scope = api.get("/token/introspect").json()["authorization"]["scope"]
        assert set(scope.split(",")) >= {"cms:read", "cms:write", "sites:read", "sites:write"}


def test_a_deleted_items_slug_stays_taken_until_the_site_is_published(api: Api) -> None:
    slug = api.get(f"{COLL}/items/{product_id(1)}").json()["fieldData"]["slug"]
    other = api.get(f"{COLL}/items/{product_id(3)}").json()["fieldData"]["slug"]
    assert api.delete(f"{COLL}/items/{product_id(1)}").status_code == 204
    error(api.get(f"{COLL}/items/{product_id(1)}"), 404, "resource_not_found")
    error(api.get(f"{COLL}/items/{product_id(1)}/live"), 404, "resource_not_found")
    taken = [{"param": "slug", "description": f"Unique value is already in database: '{slug}'"}]
    for r in (
        api.post(f"{COLL}/items", json=new_item(slug)),
        api.post(f"{COLL}/items/live", json=new_item(slug)),
        api.patch(f"{COLL}/items/live",
                  json={"items": [{"id": product_id(2), "fieldData": {"slug": slug}}]}),
    ):  # fmt: skip
        body = error(r, 400, "validation_error")
        assert body["message"] == "Validation Error" and body["details"] == taken
    # the bulk delete holds slugs the same way
    assert api.delete(f"{COLL}/items", json={"items": [{"id": product_id(3),
                      "cmsLocaleIds": [LOCALE_EN]}]}).status_code == 204  # fmt: skip
    error(api.post(f"{COLL}/items", json=new_item(other)), 400, "validation_error")
    error(api.delete(f"{COLL}/items/{product_id(1)}"), 404, "resource_not_found")
    assert api.post(PUBLISH, json={"publishToWebflowSubdomain": True}).status_code == 202
    assert api.post(f"{COLL}/items/live", json=new_item(slug)).status_code == 202
    assert api.post(f"{COLL}/items", json=new_item(other)).status_code == 202

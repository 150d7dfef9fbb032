"""Sandbox write endpoints over HTTP: live/staged PATCH, create, bulk, publish, unpublish,
schema writes, value transforms and Webflow's error answers."""

from __future__ import annotations

from typing import Any

import pytest

from csvsync.sandbox.seed import (
    CATEGORY_OPTIONS,
    DEMO_AUTHORS_COLLECTION_ID,
    DEMO_COLLECTION_ID,
    DEMO_SITE_ID,
    LOCALE_DE,
    LOCALE_EN,
    LOCALE_FR,
    author_id,
    demo_products,
    product_id,
)

ITEMS_LIVE = f"/collections/{DEMO_COLLECTION_ID}/items/live"
ITEMS = f"/collections/{DEMO_COLLECTION_ID}/items"


def assert_error(r: Any, status: int, code: str, message: str | None = None) -> dict[str, Any]:
    """Webflow's error envelope (checked by hand: the spec types externalReference as a
    string and its details schema does not load, see conftest)."""
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"message", "code", "externalReference", "details"}
    assert body["code"] == code
    assert body["externalReference"] is None
    assert isinstance(body["details"], list)
    if message is not None:
        assert body["message"] == message
    return dict(body)


def params(body: dict[str, Any]) -> list[str]:
    return [d["param"] for d in body["details"]]


def test_live_patch_updates_live_only(wf: Any, spec_check: Any, sandbox: Any) -> None:
    r = wf.patch(
        ITEMS_LIVE,
        json={
            "items": [
                {"id": product_id(1), "fieldData": {"price": 9.5, "launch-date": "2025-03-04"}},
                {"id": product_id(1), "cmsLocaleId": LOCALE_FR, "fieldData": {"name": "Nouveau"}},
            ]
        },
    )
    assert r.status_code == 200
    # Known defect 2 (README): this operation's 200 schema lists the item-level required keys
    # at the top level, so each item is validated against the single live item schema instead.
    for item in r.json()["items"]:
        spec_check(r, as_path=f"/v2{ITEMS}/{item['id']}/live", body=item)
    en, fr = r.json()["items"]
    assert en["fieldData"]["price"] == 9.5
    assert en["fieldData"]["launch-date"] == "2025-03-04T00:00:00.000Z"
    assert en["lastUpdated"] == en["lastPublished"]
    assert fr["cmsLocaleId"] == LOCALE_FR and fr["fieldData"]["name"] == "Nouveau"
    staged = sandbox.store.variant(DEMO_COLLECTION_ID, product_id(1), live=False)
    assert staged["fieldData"]["price"] == demo_products()[0]["fieldData"][LOCALE_EN]["price"]
    live = wf.get(f"{ITEMS}/{product_id(1)}/live").json()
    assert live["fieldData"]["price"] == 9.5


def test_staged_patch_does_not_touch_live(wf: Any, spec_check: Any) -> None:
    r = wf.patch(ITEMS, json={"items": [{"id": product_id(2), "fieldData": {"stock": 1}}]})
    assert r.status_code == 200
    assert r.json()["items"][0]["fieldData"]["stock"] == 1
    assert wf.get(f"{ITEMS}/{product_id(2)}/live").json()["fieldData"]["stock"] != 1 or (
        demo_products()[1]["fieldData"][LOCALE_EN]["stock"] == 1
    )
    assert wf.get(f"{ITEMS}/{product_id(2)}").json()["fieldData"]["stock"] == 1


def test_single_item_live_patch(wf: Any, spec_check: Any) -> None:
    r = wf.patch(f"{ITEMS}/{product_id(3)}/live", json={"fieldData": {"featured": True}})
    assert r.status_code == 200
    spec_check(r)
    assert r.json()["fieldData"]["featured"] is True


def test_create_staged_publish_and_unpublish(wf: Any, spec_check: Any) -> None:
    r = wf.post(ITEMS, json={"fieldData": {"name": "New One", "slug": "new-one"}})
    assert r.status_code == 202
    created = r.json()
    assert created["isDraft"] is True and created["lastPublished"] is None
    spec_check(r)
    item_id = created["id"]
    assert len(item_id) == 24
    # never published: live PATCH is a 409 and the live list does not show it
    r = wf.patch(ITEMS_LIVE, json={"items": [{"id": item_id, "fieldData": {"stock": 2}}]})
    from csvsync.sandbox.apierrors import NEVER_PUBLISHED

    assert_error(r, 409, "conflict", NEVER_PUBLISHED)
    assert wf.get(ITEMS_LIVE, params={"slug": "new-one"}).json()["items"] == []
    assert wf.get(ITEMS, params={"slug": "new-one"}).json()["items"][0]["id"] == item_id
    r = wf.post(f"{ITEMS}/publish", json={"itemIds": [item_id, "64f0c0ffee00000000000bad"]})
    assert r.status_code == 202
    spec_check(r)
    assert r.json() == {
        "publishedItemIds": [item_id],
        "errors": ["Staging item ID 64f0c0ffee00000000000bad not found."],
    }
    live = wf.get(ITEMS_LIVE, params={"slug": "new-one"}).json()["items"]
    assert live[0]["id"] == item_id and live[0]["isDraft"] is False and live[0]["lastPublished"]
    r = wf.delete(ITEMS_LIVE, json={"items": [{"id": item_id}]})
    assert r.status_code == 204 and r.content == b""
    assert wf.get(ITEMS_LIVE, params={"slug": "new-one"}).json()["items"] == []
    staged = wf.get(f"{ITEMS}/{item_id}").json()
    assert staged["isDraft"] is True and staged["lastPublished"] is None


def test_create_live_single_and_many(wf: Any, spec_check: Any) -> None:
    r = wf.post(ITEMS_LIVE, json={"fieldData": {"name": "Live A", "slug": "live-a"}})
    assert r.status_code == 202
    spec_check(r)
    assert r.json()["isDraft"] is False and r.json()["cmsLocaleId"] == LOCALE_EN
    r = wf.post(
        ITEMS_LIVE,
        json={
            "items": [
                {"fieldData": {"name": "Live B", "slug": "live-b"}},
                {
                    "fieldData": {
                        "name": "Live C",
                        "slug": "live-c",
                        "category": CATEGORY_OPTIONS["Home"],
                    }
                },
            ]
        },
    )
    assert r.status_code == 202
    assert [i["fieldData"]["slug"] for i in r.json()["items"]] == ["live-b", "live-c"]
    assert wf.get(ITEMS_LIVE).json()["pagination"]["total"] == 303


def test_bulk_create_and_publish_locales(wf: Any, spec_check: Any) -> None:
    r = wf.post(
        f"{ITEMS}/bulk",
        json={
            "cmsLocaleIds": [LOCALE_EN, LOCALE_FR, LOCALE_DE],
            "isDraft": False,
            "fieldData": [
                {"name": "Bulk 1", "slug": "bulk-1"},
                {"name": "Bulk 2", "slug": "bulk-2"},
            ],
        },
    )
    assert r.status_code == 202, r.text
    spec_check(r)  # its 202 schema is one of the spec's defects (tests/openapi_defects.py)
    items = r.json()["items"]
    assert len(items) == 6
    ids = list(dict.fromkeys(i["id"] for i in items))
    assert len(ids) == 2
    assert {i["cmsLocaleId"] for i in items if i["id"] == ids[0]} == {
        LOCALE_EN,
        LOCALE_FR,
        LOCALE_DE,
    }
    r = wf.post(
        f"{ITEMS}/publish", json={"items": [{"id": ids[0], "cmsLocaleIds": [LOCALE_FR, LOCALE_DE]}]}
    )
    assert r.json() == {"publishedItemIds": [ids[0]], "errors": []}
    live = wf.get(
        ITEMS_LIVE, params={"cmsLocaleId": f"{LOCALE_EN},{LOCALE_FR},{LOCALE_DE}", "slug": "bulk-1"}
    ).json()["items"]
    assert {i["cmsLocaleId"] for i in live} == {LOCALE_FR, LOCALE_DE}


def test_bulk_create_without_cms_locale_ids_is_the_primary_locale(wf: Any, spec_check: Any) -> None:
    # "If the cmsLocaleIds parameter is not included in the request, an item will only be
    # created in the primary locale" (the spec's create-items operation).
    r = wf.post(f"{ITEMS}/bulk", json={"fieldData": {"name": "Primary", "slug": "primary"}})
    assert r.status_code == 202, r.text
    spec_check(r)
    assert [i["cmsLocaleId"] for i in r.json()["items"]] == [LOCALE_EN]


def test_create_collection_and_field(empty_sandbox: Any) -> None:
    from conftest import WebflowSession

    with WebflowSession(empty_sandbox.base_url, empty_sandbox.opts.token) as wf:
        r = wf.post(
            f"/sites/{DEMO_SITE_ID}/collections",
            json={
                "displayName": "Blog Posts",
                "singularName": "Blog Post",
                "fields": [
                    {"type": "RichText", "displayName": "Post Body", "isRequired": False},
                    {
                        "type": "Option",
                        "displayName": "Post Type",
                        "metadata": {"options": [{"name": "Feature"}, {"name": "News"}]},
                    },
                ],
            },
        )
        assert r.status_code == 200, r.text
        coll = r.json()
        fields = {f["slug"]: f for f in coll["fields"]}
        assert fields["name"]["isRequired"] and fields["slug"]["isRequired"]
        assert fields["post-body"]["type"] == "RichText"
        options = fields["post-type"]["validations"]["options"]
        assert [o["name"] for o in options] == ["Feature", "News"]
        assert all(len(o["id"]) == 24 for o in options)
        r = wf.post(
            f"/sites/{DEMO_SITE_ID}/collections",
            json={"displayName": "Tags", "singularName": "Tag"},
        )
        tags = r.json()["id"]
        r = wf.post(
            f"/collections/{coll['id']}/fields",
            json={
                "type": "Reference",
                "displayName": "Main Tag",
                "metadata": {"collectionId": tags},
            },
        )
        assert r.status_code == 200
        assert r.json()["slug"] == "main-tag"
        assert r.json()["validations"] == {"collectionId": tags}
        listed = wf.get(f"/sites/{DEMO_SITE_ID}/collections").json()["collections"]
        assert {c["id"] for c in listed} == {coll["id"], tags}


def test_value_transforms_and_files(wf: Any, sandbox: Any) -> None:
    url = "https://img.example.com/a/photo.png"
    body = {
        "items": [
            {
                "id": product_id(4),
                "fieldData": {
                    "image": {"url": url, "alt": "A"},
                    "gallery": [{"url": url}, {"url": "https://broken.invalid/x.png"}],
                    "launch-date": "2025-01-02T03:04:05+02:00",
                    "color": "rgba(1, 2, 3, 0.5)",
                    "related-authors": [author_id(1), author_id(2)],
                    "summary": None,
                },
            }
        ]
    }
    item = wf.patch(ITEMS_LIVE, json=body).json()["items"][0]["fieldData"]
    assert item["image"]["alt"] == "A"
    file_id = item["image"]["fileId"]
    assert item["image"]["url"] == f"{sandbox.asset_base}/assets/{file_id}/photo.png"
    assert [g["fileId"] for g in item["gallery"]] == [item["image"]["fileId"]]
    assert item["launch-date"] == "2025-01-02T01:04:05.000Z"
    assert "summary" not in item
    # re-sending the read form (or the same URL) keeps the same fileId
    again = wf.patch(
        ITEMS_LIVE,
        json={
            "items": [
                {
                    "id": product_id(4),
                    "fieldData": {"image": item["image"], "brochure": {"url": url}},
                }
            ]
        },
    ).json()["items"][0]["fieldData"]
    assert again["image"]["fileId"] == item["image"]["fileId"] == again["brochure"]["fileId"]
    # skipInvalidFiles=false fails the request instead of dropping the file
    r = wf.patch(
        ITEMS_LIVE,
        params={"skipInvalidFiles": "false"},
        json={
            "items": [
                {"id": product_id(4), "fieldData": {"image": {"url": "https://x.invalid/a.png"}}}
            ]
        },
    )
    assert params(assert_error(r, 400, "validation_error")) == ["image"]
    r = wf.patch(
        ITEMS_LIVE,
        json={
            "items": [
                {"id": product_id(4), "fieldData": {"image": {"url": "https://x.invalid/a.png"}}}
            ]
        },
    )
    assert r.json()["items"][0]["fieldData"]["image"]["fileId"] == item["image"]["fileId"]


@pytest.mark.parametrize(
    ("field_data", "param"),
    [
        ({"price": "12"}, "price"),
        ({"price": True}, "price"),
        ({"stock": 1.5}, "stock"),
        ({"stock": -1}, "stock"),
        ({"featured": "yes"}, "featured"),
        ({"launch-date": "tomorrow"}, "launch-date"),
        ({"color": "#12345"}, "color"),
        ({"contact-email": "not-an-email"}, "contact-email"),
        ({"website": 12}, "website"),  # any string is a link (docs/field-rules.md)
        ({"category": "Home"}, "category"),
        ({"author": product_id(1)}, "author"),
        ({"related-authors": [author_id(1), "64f0c0ffee00000000000bad"]}, "related-authors"),
        ({"legacy-asset": "x"}, "legacy-asset"),
        ({"created-by": "64f0c0ffee00000000005e01"}, "created-by"),
        ({"name": None}, "name"),
        ({"slug": "Not A Slug"}, "slug"),
        ({"nope": 1}, "nope"),
    ],
)
def test_validation_errors(wf: Any, field_data: dict[str, Any], param: str) -> None:
    r = wf.patch(ITEMS_LIVE, json={"items": [{"id": product_id(5), "fieldData": field_data}]})
    body = assert_error(r, 400, "validation_error", "Validation Error")
    assert params(body) == [param]
    if param == "nope":
        assert body["details"][0]["description"] == "Field not described in schema: undefined"


def test_slug_unique_per_locale(wf: Any) -> None:
    taken = demo_products()[0]["fieldData"][LOCALE_FR]["slug"]
    r = wf.patch(
        ITEMS_LIVE,
        json={
            "items": [{"id": product_id(2), "cmsLocaleId": LOCALE_FR, "fieldData": {"slug": taken}}]
        },
    )
    body = assert_error(r, 400, "validation_error")
    assert body["details"] == [
        {"param": "slug", "description": f"Unique value is already in database: '{taken}'"}
    ]
    # the same slug in another locale is fine
    r = wf.patch(
        ITEMS_LIVE,
        json={
            "items": [{"id": product_id(2), "cmsLocaleId": LOCALE_DE, "fieldData": {"slug": taken}}]
        },
    )
    assert r.status_code == 200
    r = wf.post(ITEMS, json={"fieldData": {"name": "Dup", "slug": taken}, "cmsLocaleId": LOCALE_FR})
    assert params(assert_error(r, 400, "validation_error")) == ["slug"]


def test_required_fields_on_create(wf: Any) -> None:
    r = wf.post(ITEMS, json={"fieldData": {"name": "No slug"}})
    assert params(assert_error(r, 400, "validation_error")) == ["slug"]


def test_batch_is_atomic(wf: Any, sandbox: Any) -> None:
    before = sandbox.store.variant(DEMO_COLLECTION_ID, product_id(6))
    r = wf.patch(
        ITEMS_LIVE,
        json={
            "items": [
                {"id": product_id(6), "fieldData": {"stock": 5}},
                {"id": product_id(7), "fieldData": {"stock": "five"}},
            ]
        },
    )
    assert_error(r, 400, "validation_error")
    assert sandbox.store.variant(DEMO_COLLECTION_ID, product_id(6)) == before


def test_locale_errors(wf: Any) -> None:
    r = wf.patch(
        ITEMS_LIVE,
        json={"items": [{"id": product_id(1), "cmsLocaleId": None, "fieldData": {"stock": 1}}]},
    )
    body = assert_error(
        r,
        400,
        "validation_error",
        'Validation Error: ["Value (cmsLocaleId)\'s type should be string"]',
    )
    assert body["details"] == []
    r = wf.patch(
        ITEMS_LIVE,
        json={
            "items": [
                {
                    "id": product_id(1),
                    "cmsLocaleId": "64f0c0ffee0000000000dead",
                    "fieldData": {"stock": 1},
                }
            ]
        },
    )
    assert_error(r, 400, "validation_error")
    r = wf.get(ITEMS_LIVE, params={"cmsLocaleId": "64f0c0ffee0000000000dead"})
    assert_error(r, 400, "validation_error")


def test_not_found_and_bad_requests(wf: Any) -> None:
    missing = "64f0c0ffee00000000000bad"
    assert_error(wf.get(f"/sites/{missing}"), 404, "resource_not_found")
    assert_error(wf.get(f"/collections/{missing}"), 404, "resource_not_found")
    assert_error(wf.get(f"/collections/{missing}/items/live"), 404, "resource_not_found")
    assert_error(wf.get(f"{ITEMS}/{missing}/live"), 404, "resource_not_found")
    r = wf.patch(
        ITEMS_LIVE,
        json={
            "items": [
                {"id": product_id(1), "fieldData": {"stock": 1}},
                {"id": missing, "fieldData": {}},
            ]
        },
    )
    assert_error(r, 404, "resource_not_found")
    r = wf.patch(ITEMS_LIVE, json={"items": [{"id": product_id(1)}] * 101})
    assert_error(r, 400, "bad_request")
    r = wf.patch(ITEMS_LIVE, data=b"{not json", headers={"Content-Type": "application/json"})
    assert_error(r, 400, "bad_request")


def test_auth(sandbox: Any) -> None:
    import requests

    r = requests.get(f"{sandbox.base_url}/sites", timeout=5)
    assert_error(r, 401, "not_authorized", "Request not authorized")
    assert "X-RateLimit-Limit" in r.headers
    r = requests.get(
        f"{sandbox.base_url}/sites", headers={"Authorization": "Bearer nope"}, timeout=5
    )
    assert_error(r, 401, "not_authorized")


def test_archived_variant_cannot_be_live_patched(wf: Any) -> None:
    r = wf.patch(ITEMS_LIVE, json={"items": [{"id": product_id(8), "isArchived": True}]})
    assert r.status_code == 200 and r.json()["items"][0]["isArchived"] is True
    r = wf.patch(ITEMS_LIVE, json={"items": [{"id": product_id(8), "fieldData": {"stock": 1}}]})
    assert_error(r, 409, "conflict")


def test_store_helpers(sandbox: Any) -> None:
    store = sandbox.store
    assert store.count(DEMO_AUTHORS_COLLECTION_ID) == 36
    site = store.create_site("Other", [{"tag": "en-US", "displayName": "English"}])
    coll = store.create_collection(site, {"displayName": "Notes", "singularName": "Note"})
    out = store.create_items(coll["id"], {"fieldData": {"name": "n", "slug": "n"}}, live=True)
    assert store.variant(coll["id"], out["id"])["fieldData"] == {"name": "n", "slug": "n"}

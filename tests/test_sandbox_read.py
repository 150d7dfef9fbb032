"""Sandbox read endpoints over HTTP: sites, locales, schema, item lists, pagination, filters."""

from __future__ import annotations

from typing import Any

from csvsync.sandbox.seed import (
    CATEGORY_OPTIONS,
    DEMO_AUTHORS_COLLECTION_ID,
    DEMO_COLLECTION_ID,
    DEMO_SITE_ID,
    LOCALE_DE,
    LOCALE_EN,
    LOCALE_FR,
    PRODUCT_COUNT,
    demo_products,
    product_id,
)

ITEMS_LIVE = f"/collections/{DEMO_COLLECTION_ID}/items/live"
ITEMS = f"/collections/{DEMO_COLLECTION_ID}/items"
ALL_LOCALES = f"{LOCALE_EN},{LOCALE_FR},{LOCALE_DE}"


def test_sites_and_locales(wf: Any, spec_check: Any) -> None:
    r = wf.get("/sites")
    assert r.status_code == 200
    spec_check(r)
    assert [s["id"] for s in r.json()["sites"]] == [DEMO_SITE_ID]
    r = wf.get(f"/sites/{DEMO_SITE_ID}")
    spec_check(r)
    locales = r.json()["locales"]
    assert locales["primary"]["cmsLocaleId"] == LOCALE_EN
    assert locales["primary"]["tag"] == "en"
    assert [(s["tag"], s["cmsLocaleId"]) for s in locales["secondary"]] == [
        ("fr-FR", LOCALE_FR),
        ("de-DE", LOCALE_DE),
    ]
    keys = {
        "id",
        "cmsLocaleId",
        "tag",
        "displayName",
        "enabled",
        "subdirectory",
        "redirect",
        "displayImageId",
    }
    assert keys <= set(locales["secondary"][0])


def test_token_introspect(wf: Any, spec_check: Any) -> None:
    r = wf.get("/token/introspect")
    assert r.status_code == 200
    spec_check(r)
    auth = r.json()["authorization"]
    assert auth["rateLimit"] == 120
    assert {"cms:read", "cms:write", "sites:read"} <= set(auth["scope"].split(","))
    assert DEMO_SITE_ID in auth["authorizedTo"]["siteIds"]


def test_collections_and_schema(wf: Any, spec_check: Any) -> None:
    r = wf.get(f"/sites/{DEMO_SITE_ID}/collections")
    spec_check(r)
    ids = {c["id"] for c in r.json()["collections"]}
    assert ids == {DEMO_COLLECTION_ID, DEMO_AUTHORS_COLLECTION_ID}
    r = wf.get(f"/collections/{DEMO_COLLECTION_ID}")
    assert r.status_code == 200
    # The User field is checked too: the spec's enum lacks it (tests/openapi_defects.py).
    spec_check(r)
    fields = {f["slug"]: f for f in r.json()["fields"]}
    types = {f["type"] for f in fields.values()}
    assert types == {
        "Color",
        "DateTime",
        "Email",
        "ExtFileRef",
        "File",
        "Image",
        "Link",
        "MultiImage",
        "MultiReference",
        "Number",
        "Option",
        "Phone",
        "PlainText",
        "Reference",
        "RichText",
        "Switch",
        "VideoLink",
        "User",
    }
    assert fields["name"]["isRequired"] and fields["slug"]["isRequired"]
    assert fields["created-by"]["isEditable"] is False
    assert fields["stock"]["validations"]["format"] == "integer"
    assert fields["stock"]["validations"]["allowNegative"] is False
    options = fields["category"]["validations"]["options"]
    assert {o["name"]: o["id"] for o in options} == CATEGORY_OPTIONS
    assert fields["author"]["validations"]["collectionId"] == DEMO_AUTHORS_COLLECTION_ID
    assert fields["related-authors"]["validations"]["collectionId"] == DEMO_AUTHORS_COLLECTION_ID
    for f in fields.values():
        assert {
            "id",
            "slug",
            "displayName",
            "type",
            "isRequired",
            "isEditable",
            "validations",
            "helpText",
        } <= set(f)


def test_live_list_defaults_to_primary_locale(wf: Any, spec_check: Any) -> None:
    r = wf.get(ITEMS_LIVE)
    assert r.status_code == 200
    spec_check(r)
    body = r.json()
    assert body["pagination"] == {"limit": 100, "offset": 0, "total": PRODUCT_COUNT}
    assert len(body["items"]) == 100
    assert {i["cmsLocaleId"] for i in body["items"]} == {LOCALE_EN}
    first = body["items"][0]
    assert first["id"] == product_id(1)
    assert first["isDraft"] is False and first["lastPublished"]


def test_pagination_across_pages_and_locales(wf: Any, spec_check: Any) -> None:
    seen: list[tuple[str, str]] = []
    offset = 0
    while True:
        r = wf.get(ITEMS_LIVE, params={"cmsLocaleId": ALL_LOCALES, "offset": offset, "limit": 70})
        assert r.status_code == 200
        page = r.json()
        assert page["pagination"]["total"] == 3 * PRODUCT_COUNT
        seen += [(i["id"], i["cmsLocaleId"]) for i in page["items"]]
        offset += len(page["items"])
        if offset >= page["pagination"]["total"] or not page["items"]:
            break
    spec_check(r)
    assert len(seen) == len(set(seen)) == 3 * PRODUCT_COUNT
    # every variant of an item shares its id and comes back with its own cmsLocaleId
    assert seen[:3] == [
        (product_id(1), LOCALE_EN),
        (product_id(1), LOCALE_FR),
        (product_id(1), LOCALE_DE),
    ]


def test_localized_values_match_demo_items(wf: Any) -> None:
    r = wf.get(ITEMS_LIVE, params={"cmsLocaleId": ALL_LOCALES, "limit": 3})
    seeded = demo_products()[0]["fieldData"]
    for item in r.json()["items"]:
        want = seeded[item["cmsLocaleId"]]
        got = item["fieldData"]
        assert got["name"] == want["name"] and got["slug"] == want["slug"]
        assert got["price"] == want["price"]
        assert got["created-by"]
    names = {i["fieldData"]["name"] for i in r.json()["items"]}
    assert len(names) == 3


def test_limit_offset_and_bad_limit(wf: Any) -> None:
    r = wf.get(ITEMS_LIVE, params={"limit": 5, "offset": 298})
    assert r.json()["pagination"] == {"limit": 5, "offset": 298, "total": PRODUCT_COUNT}
    assert [i["id"] for i in r.json()["items"]] == [product_id(299), product_id(300)]
    r = wf.get(ITEMS_LIVE, params={"limit": 101})
    assert r.status_code == 400
    assert r.json()["code"] == "validation_error"


def test_filters_and_sorting(wf: Any) -> None:
    product = demo_products()[4]["fieldData"]
    r = wf.get(ITEMS_LIVE, params={"slug": product[LOCALE_FR]["slug"], "cmsLocaleId": LOCALE_FR})
    assert [i["id"] for i in r.json()["items"]] == [product_id(5)]
    assert r.json()["pagination"]["total"] == 1
    r = wf.get(ITEMS_LIVE, params={"name": product[LOCALE_EN]["name"]})
    assert [i["id"] for i in r.json()["items"]] == [product_id(5)]
    r = wf.get(ITEMS_LIVE, params={"sortBy": "name", "sortOrder": "desc", "limit": 100})
    names = [i["fieldData"]["name"] for i in r.json()["items"]]
    assert names == sorted(names, reverse=True)
    r = wf.get(ITEMS_LIVE, params={"sortBy": "createdOn", "sortOrder": "desc", "limit": 1})
    assert r.json()["items"][0]["id"] == product_id(PRODUCT_COUNT)


def test_last_updated_filter(wf: Any) -> None:
    r = wf.patch(ITEMS_LIVE, json={"items": [{"id": product_id(7), "fieldData": {"stock": 3}}]})
    assert r.status_code == 200
    stamp = r.json()["items"][0]["lastUpdated"]
    r = wf.get(ITEMS_LIVE, params={"lastUpdated[gte]": stamp})
    assert [i["id"] for i in r.json()["items"]] == [product_id(7)]
    # The seed stamps ten products a minute from 12:00: 12:00 and 12:01 hold products 1-20.
    r = wf.get(ITEMS_LIVE, params={"lastUpdated[lte]": "2024-06-01T12:01:00.000Z"})
    assert r.json()["pagination"]["total"] == 20 - 1


def test_staged_list_and_single_items(wf: Any, spec_check: Any) -> None:
    r = wf.get(ITEMS, params={"cmsLocaleId": LOCALE_DE, "limit": 2})
    assert r.status_code == 200
    spec_check(r)
    assert {i["cmsLocaleId"] for i in r.json()["items"]} == {LOCALE_DE}
    r = wf.get(f"{ITEMS}/{product_id(2)}/live", params={"cmsLocaleId": LOCALE_FR})
    assert r.status_code == 200
    spec_check(r)
    assert r.json()["id"] == product_id(2) and r.json()["cmsLocaleId"] == LOCALE_FR
    r = wf.get(f"{ITEMS}/{product_id(2)}")
    assert r.status_code == 200
    spec_check(r)


def test_files_are_rehosted(wf: Any, sandbox: Any) -> None:
    r = wf.get(f"{ITEMS}/{product_id(1)}/live")
    image = r.json()["fieldData"]["image"]
    assert set(image) == {"fileId", "url", "alt"}
    assert image["url"].startswith(sandbox.asset_base + "/assets/" + image["fileId"] + "/")
    # The file is served by the sandbox itself under the same path (the CDN host is fixed).
    path = image["url"][len(sandbox.asset_base) :]
    asset = wf.get(sandbox.origin + path)
    assert asset.status_code == 200 and asset.content


def test_fields_without_help_text_say_so_with_an_empty_string(wf: Any) -> None:
    # The spec types helpText as a string (never null); the seed sets none.
    fields = wf.get(f"/collections/{DEMO_COLLECTION_ID}").json()["fields"]
    assert {f["helpText"] for f in fields} == {""}


def test_malformed_list_parameters_are_refused_not_ignored(wf: Any) -> None:
    # The spec's parameter schemas: offset and limit are integers, the date filters objects
    # (deepObject: lastUpdated[gte]=...), sortBy and sortOrder enums. An empty value is the
    # default (allowEmptyValue), anything else malformed is a 400 naming the parameter.
    for params, param in [
        ({"limit": "+5"}, "limit"),
        ({"limit": " 5"}, "limit"),
        ({"limit": "5_0"}, "limit"),
        ({"limit": "\u0665"}, "limit"),  # an Arabic-Indic five: int() would take it
        ({"offset": "1e2"}, "offset"),
        ({"lastUpdated": "2024-06-01T12:00:00.000Z"}, "lastUpdated"),
        ({"createdOn[after]": "2024-06-01T12:00:00.000Z"}, "createdOn[after]"),
        ({"lastPublished.since": "2024-06-01T12:00:00.000Z"}, "lastPublished.since"),
        ({"lastUpdated[gte]": "soon"}, "lastUpdated[gte]"),
        ({"sortBy": "price"}, "sortBy"),
    ]:
        for path in (ITEMS_LIVE, ITEMS):
            r = wf.get(path, params=params)
            assert r.status_code == 400, (params, r.text)
            assert r.json()["code"] == "validation_error"
            assert [d["param"] for d in r.json()["details"]] == [param]
    r = wf.get(ITEMS_LIVE, params={"limit": "", "offset": "", "sortBy": "", "cmsLocaleId": ""})
    assert r.status_code == 200 and r.json()["pagination"]["limit"] == 100

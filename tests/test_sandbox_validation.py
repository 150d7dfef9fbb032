"""Sandbox field validators, one type at a time, and the rules of ``docs/field-rules.md`` over
HTTP: where Webflow documents only a string (Link, Phone), the sandbox takes any string."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.apierrors import FieldError
from csvsync.sandbox.queries import parse_list_query
from csvsync.sandbox.ratelimit_window import RateWindow
from csvsync.sandbox.seed import DEMO_COLLECTION_ID, product_id
from csvsync.sandbox.validation import DROP, FieldDef, ValueContext, validate_value


def check(ftype: str, value: Any, ctx: ValueContext | None = None, **validations: Any) -> Any:
    f = FieldDef(id="f", slug="f", display_name="F", type=ftype, validations=validations or None)
    return validate_value(f, value, ctx or ValueContext())


@pytest.mark.parametrize(
    ("ftype", "value", "expected", "rules"),
    [
        ("PlainText", "hello", "hello", {}),
        ("RichText", "<p>x</p>", "<p>x</p>", {}),
        ("Number", 3, 3, {"format": "integer"}),
        ("Number", 3.0, 3, {"format": "integer"}),
        ("Number", 2.5, 2.5, {}),
        ("Switch", False, False, {}),
        ("DateTime", "2024-02-03", "2024-02-03T00:00:00.000Z", {}),
        ("DateTime", "2024-02-03T10:00:00.123456Z", "2024-02-03T10:00:00.123Z", {}),
        ("DateTime", "2024-02-03T10:00:00-05:00", "2024-02-03T15:00:00.000Z", {}),
        ("Color", "#abc", "#abc", {}),
        ("Color", "#aabbccdd", "#aabbccdd", {}),
        ("Color", "hsl(120, 50%, 50%)", "hsl(120, 50%, 50%)", {}),
        ("Color", "RebeccaPurple", "RebeccaPurple", {}),
        ("Color", "transparent", "transparent", {}),
        ("Email", "a@b.co", "a@b.co", {}),
        ("Color", "rgb(1 2 3 / 50%)", "rgb(1 2 3 / 50%)", {}),
        ("Color", "HSLA(1turn, +2%, .3e1%, 1)", "HSLA(1turn, +2%, .3e1%, 1)", {}),
        ("Email", "ann@mail.example.co.uk", "ann@mail.example.co.uk", {}),
        ("Phone", "+49 (30) 123-45", "+49 (30) 123-45", {}),
        ("Phone", "+1 555 0100 ext. 12", "+1 555 0100 ext. 12", {}),
        ("Phone", "call me", "call me", {}),
        ("Link", "https://example.com/x?y=1", "https://example.com/x?y=1", {}),
        ("Link", "mailto:x@example.com", "mailto:x@example.com", {}),
        ("Link", "tel:+1555", "tel:+1555", {}),
        ("Link", "example.com", "example.com", {}),
        ("Link", "/about", "/about", {}),
        ("VideoLink", "https://vimeo.com/1", "https://vimeo.com/1", {}),
        ("VideoLink", "HTTPS://youtu.be/x?t=1", "HTTPS://youtu.be/x?t=1", {}),
        ("PlainText", "x" * 300, "x" * 300, {}),
        ("Option", "o1", "o1", {"options": [{"name": "One", "id": "o1"}]}),
        ("PlainText", None, None, {}),
    ],
)
def test_accepted_values(ftype: str, value: Any, expected: Any, rules: dict[str, Any]) -> None:
    assert check(ftype, value, **rules) == expected


@pytest.mark.parametrize(
    ("ftype", "value", "rules"),
    [
        ("PlainText", 5, {}),
        ("PlainText", "toolong", {"maxLength": 3}),
        ("PlainText", "x", {"minLength": 2}),
        ("Number", True, {}),
        ("Number", "1", {}),
        ("Number", 1.5, {"format": "integer"}),
        ("Number", -1, {"allowNegative": False}),
        ("Number", 11, {"maxValue": 10}),
        ("Number", 0, {"minValue": 1}),
        ("Switch", 1, {}),
        ("DateTime", "31/12/2024", {}),
        ("Color", "blurple", {}),
        ("Color", "#12", {}),
        ("Email", "a@b", {}),
        ("Email", "a@b.co\n", {}),
        ("Phone", 5550100, {}),
        ("Phone", "+1 555 0100 ext. 12", {"maxLength": 10}),
        ("Link", {"url": "https://example.com"}, {}),
        ("Link", "https://example.com/long", {"maxLength": 10}),
        ("VideoLink", "youtube.com/watch?v=x", {}),
        ("VideoLink", "https://", {}),
        ("Option", "One", {"options": [{"name": "One", "id": "o1"}]}),
        ("Reference", "x", {"collectionId": "c"}),
        ("MultiReference", "x", {"collectionId": "c"}),
        ("Image", "https://example.com/a.png", {}),
        ("MultiImage", {"url": "https://example.com/a.png"}, {}),
        ("ExtFileRef", {"url": "https://example.com/a.png"}, {}),
        ("User", "u1", {}),
    ],
)
def test_refused_values(ftype: str, value: Any, rules: dict[str, Any]) -> None:
    with pytest.raises(FieldError) as err:
        check(ftype, value, **rules)
    assert err.value.param == "f"


def test_files_and_references_use_the_context() -> None:
    assets: dict[str, str] = {}

    def register(url: str) -> tuple[str, str]:
        assets["a" * 24] = "/assets/" + "a" * 24 + "/x.png"
        return "a" * 24, assets["a" * 24]

    ctx = ValueContext(
        reference_exists=lambda c, i: (c, i) == ("c", "i1"),
        register_asset=register,
        lookup_asset=assets.get,
    )
    assert check("Reference", "i1", ctx, collectionId="c") == "i1"
    assert check("MultiReference", ["i1"], ctx, collectionId="c") == ["i1"]
    image = check("Image", {"url": "https://example.com/x.png", "alt": "x"}, ctx)
    assert image == {"fileId": "a" * 24, "url": "/assets/" + "a" * 24 + "/x.png", "alt": "x"}
    assert check("File", {"fileId": "a" * 24}, ctx)["fileId"] == "a" * 24
    assert check("Image", {"url": "https://cdn.invalid/x.png"}, ctx) is DROP
    assert check("MultiImage", [{"url": "https://cdn.invalid/x.png"}], ctx) == []
    ctx.skip_invalid_files = False
    with pytest.raises(FieldError):
        check("Image", {"url": "https://cdn.invalid/x.png"}, ctx)


def test_required_field_cannot_be_cleared() -> None:
    f = FieldDef(id="n", slug="name", display_name="Name", type="PlainText", required=True)
    for value in (None, ""):
        with pytest.raises(FieldError):
            validate_value(f, value, ValueContext())


def test_list_query_parsing() -> None:
    q = parse_list_query(
        {
            "offset": "10",
            "limit": "5",
            "cmsLocaleId": "a,b",
            "lastUpdated[gte]": "2024-01-01",
            "sortBy": "slug",
            "sortOrder": "desc",
        }
    )
    assert (q.offset, q.limit, q.locales, q.sort_by, q.descending) == (
        10,
        5,
        ["a", "b"],
        "slug",
        True,
    )
    assert q.ranges == [("last_updated", ">=", "2024-01-01T00:00:00.000Z")]
    for bad in ({"limit": "101"}, {"limit": "x"}, {"offset": "-1"}, {"sortBy": "price"}):
        with pytest.raises(Exception, match="Validation Error"):
            parse_list_query(bad)


def test_rate_window_with_injected_clock() -> None:
    now = [0.0]
    window = RateWindow(2, 10.0, clock=lambda: now[0])
    assert [window.take("t").allowed for _ in range(3)] == [True, True, False]
    now[0] = 9.2
    assert window.take("t").retry_after == 1
    now[0] = 10.0
    decision = window.take("t")
    assert decision.allowed and decision.remaining == 1
    assert window.take("other").remaining == 1  # per token


# --- over HTTP --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live_items() -> Iterator[tuple[requests.Session, str]]:
    with Sandbox(SandboxOptions(seed="demo")) as sb, requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {sb.opts.token}"
        yield session, f"{sb.base_url}/collections/{DEMO_COLLECTION_ID}/items/live"


def patch(live: tuple[requests.Session, str], field_data: dict[str, Any]) -> requests.Response:
    session, url = live
    return session.patch(url, json={"items": [{"id": product_id(3), "fieldData": field_data}]})


@pytest.mark.parametrize(
    ("slug", "value"),
    [
        ("website", "mailto:x@example.com"),
        ("website", "tel:+1555"),
        ("website", "example.com/no-scheme"),
        ("phone", "+1 555 0100 ext. 12"),
        ("phone", "0800 FLOWERS"),
        ("phone", "☎ +44 20 7946 0000"),
        ("color", "rgb(10 20 30 / 0.5)"),
    ],
)
def test_undocumented_shapes_are_accepted_over_http(
    live_items: tuple[requests.Session, str], slug: str, value: str
) -> None:
    r = patch(live_items, {slug: value})
    assert r.status_code == 200, r.text
    assert r.json()["items"][0]["fieldData"][slug] == value


@pytest.mark.parametrize(
    ("slug", "value"),
    [
        ("contact-email", "ann@example"),  # "an email address" (Webflow's docs)
        ("color", "blurple"),  # not among the documented formats
        ("video", "vimeo.com/1"),  # "a URL string" for a hosted video
        ("summary", "x" * 257),  # the field's maxLength
        ("stock", -1),  # allowNegative: false
        ("category", "Home"),  # an option's name, not its id
        ("phone", 5550100),  # a string, as documented
        ("website", ["https://example.com"]),
    ],
)
def test_documented_rules_still_refuse_over_http(
    live_items: tuple[requests.Session, str], slug: str, value: Any
) -> None:
    r = patch(live_items, {slug: value})
    assert r.status_code == 400, r.text
    assert [d["param"] for d in r.json()["details"]] == [slug]

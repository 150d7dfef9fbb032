"""Sandbox field validators, one type at a time (no server)."""

from __future__ import annotations

from typing import Any

import pytest

from csvsync.sandbox.apierrors import FieldError
from csvsync.sandbox.queries import parse_list_query
from csvsync.sandbox.ratelimit_window import RateWindow
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
        ("Phone", "+49 (30) 123-45", "+49 (30) 123-45", {}),
        ("Link", "https://example.com/x?y=1", "https://example.com/x?y=1", {}),
        ("VideoLink", "https://vimeo.com/1", "https://vimeo.com/1", {}),
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
        ("Phone", "call me", {}),
        ("Link", "example.com", {}),
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

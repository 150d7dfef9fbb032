"""The preflight and the sandbox agree (docs/field-rules.md): every value csvsync's converter
accepts for a field, the sandbox accepts over HTTP.

The two keep separate implementations (the sandbox imports nothing from the product); this
property test is what keeps them in step. Cells are generated per field type, with the edge
shapes (mailto: and tel: links, phone extensions, unicode, long strings, odd URLs), converted
with ``convert_column`` against the demo collection's schema as the sandbox serves it, and the
accepted values are sent in live PATCHes of up to 100 variants of one item.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csvsync.convert.to_api import convert_column
from csvsync.models import FieldOptions, RefTarget, SchemaField
from csvsync.pipeline.preflight import SLUG_PATTERN
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import (
    DEMO_AUTHORS_COLLECTION_ID,
    DEMO_COLLECTION_ID,
    DEMO_SITE_ID,
    product_id,
)
from csvsync.webflow.schema import parse_schema

pytestmark = pytest.mark.slow

SETTINGS = settings(
    max_examples=int(os.environ.get("CSVSYNC_HYPOTHESIS_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ITEM = product_id(7)
BATCH = 100
BATCH_CHARS = 2_000_000  # well under the sandbox's 10 MiB body limit

# Fields added to the demo collection so that every validation the schema can carry is tried.
EXTRA_FIELDS = [
    {"slug": "rule-text", "type": "PlainText", "displayName": "Rule Text",
     "validations": {"minLength": 2, "maxLength": 40}},
    {"slug": "rule-integer", "type": "Number", "displayName": "Rule Integer",
     "validations": {"format": "integer", "allowNegative": False, "allowZero": False,
                     "minValue": 1, "maxValue": 1000}},
    {"slug": "rule-decimal", "type": "Number", "displayName": "Rule Decimal",
     "validations": {"format": "decimal", "precision": 2, "minValue": -1.5, "maxValue": 1e6}},
]  # fmt: skip


@dataclass
class Target:
    session: requests.Session
    url: str
    fields: dict[str, SchemaField]
    refs: dict[str, RefTarget]
    author_words: list[str]
    option_words: list[str]


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    opts = SandboxOptions(seed="demo", rate_limit=1_000_000)
    with Sandbox(opts) as sb, requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {sb.opts.token}"
        base = sb.base_url
        for spec in EXTRA_FIELDS:
            r = session.post(f"{base}/collections/{DEMO_COLLECTION_ID}/fields", json=spec)
            assert r.status_code == 200, r.text
        # New fields hold live writes back until the site is published, as in Webflow.
        r = session.post(
            f"{base}/sites/{DEMO_SITE_ID}/publish", json={"publishToWebflowSubdomain": True}
        )
        assert r.status_code == 202, r.text
        schema = session.get(f"{base}/collections/{DEMO_COLLECTION_ID}").json()
        fields = {f.slug: f for f in parse_schema(schema)}
        authors = session.get(
            f"{base}/collections/{DEMO_AUTHORS_COLLECTION_ID}/items/live", params={"limit": 100}
        ).json()["items"]
        names: dict[str, list[str]] = {}
        for a in authors:
            names.setdefault(a["fieldData"]["name"].strip().lower(), []).append(a["id"])
        ref = RefTarget(
            ids=frozenset(a["id"] for a in authors),
            by_slug={a["fieldData"]["slug"]: a["id"] for a in authors},
            by_name={n: ids[0] for n, ids in names.items() if len(ids) == 1},
        )
        words = [a["id"] for a in authors[:3]] + [a["fieldData"]["slug"] for a in authors[:3]]
        words += [a["fieldData"]["name"].upper() for a in authors[:2]]
        options = fields["category"].validations["options"]
        option_words = [o["id"] for o in options] + [f" {o['name'].lower()} " for o in options]
        yield Target(
            session,
            f"{base}/collections/{DEMO_COLLECTION_ID}/items/live",
            fields,
            {DEMO_AUTHORS_COLLECTION_ID: ref},
            words,
            option_words,
        )


# --- cells -------------------------------------------------------------------------------------

short = st.text(max_size=24)
printable = st.text(st.characters(codec="utf-8"), max_size=24)
long_texts = st.builds(
    lambda ch, n: ch * n, st.sampled_from(["x", "é", "😀", " ", "1"]), st.sampled_from([257, 5_000])
)
hosts = st.one_of(
    st.sampled_from(["example.com", "localhost:8080", "[::1]", "例え.jp", "a", "x.invalid"]),
    st.from_regex(r"[a-z0-9.-]{1,12}", fullmatch=True),
)
odd_urls = st.sampled_from(
    [
        "http://[::1",
        "http://]x",
        "https://:80",
        "http://a:b@c",
        "http://user@host@x",
        "https://example.com/a b",
        "HTTPS://EXAMPLE.COM",
        "//example.com/x",
        "javascript:alert(1)",
        "https://example.com/\u202egpj.exe",
        "https://exa\u200bmple.com",
        "http://%zz/",
        "https://",
        "http://a.b/" + "x" * 3000,
    ]
)
urls = st.one_of(
    st.builds(
        lambda s, h, p: f"{s}://{h}{p}",
        st.sampled_from(["http", "https", "HTTP", "ftp"]),
        hosts,
        st.one_of(st.just(""), st.builds(lambda t: "/" + t, printable)),
    ),
    odd_urls,
)
links = st.one_of(
    urls,
    st.builds(lambda t: f"mailto:{t}", st.sampled_from(["x@example.com", "a b@c", ""]) | printable),
    st.builds(lambda t: f"tel:{t}", st.sampled_from(["+1555", "+1 555 0100", ""]) | printable),
    st.sampled_from(["example.com", "/about", "#top", "sms:+1555", "mailto:x@example.com"]),
)
phones = st.one_of(
    st.sampled_from(
        ["+1 555 0100 ext. 12", "+1 (555) 010-9999 x12", "12", "0800 FLOWERS", "☎ 555", "+"]
    ),
    st.from_regex(r"\+?[0-9 ().\-]{1,20}(?: ?(?:ext\.?|x) ?[0-9]{1,5})?", fullmatch=True),
)
emails = st.one_of(
    st.builds(
        lambda local, domain, tld: f"{local}@{domain}.{tld}",
        st.text(min_size=1, max_size=12),
        st.text(min_size=1, max_size=12),
        st.text(min_size=1, max_size=6),
    ),
    st.sampled_from(["a@b", "a@b..co", "a@.b.co", "ann@example.com", "Ann@ÉXAMPLE.fr", "x@y.z "]),
    st.builds(lambda n: "a" * n + "@example.com", st.sampled_from([240, 242, 243, 250])),
)
css_numbers = st.from_regex(
    r"[-+]?(?:[0-9]{1,3}(?:\.[0-9]{0,2})?|\.[0-9]{1,2})(?:[eE][-+]?[0-9])?(?:%|deg|rad|grad|turn)?",
    fullmatch=True,
)
colors = st.one_of(
    st.from_regex(r"#[0-9a-fA-F]{3,8}", fullmatch=True),
    st.builds(
        lambda fn, nums, seps: (
            fn + "(" + "".join(s + n for s, n in zip(seps, nums, strict=False)) + ")"
        ),
        st.sampled_from(["rgb", "rgba", "hsl", "hsla", "RGB", "Hsla"]),
        st.lists(css_numbers, min_size=3, max_size=4),
        st.lists(
            st.sampled_from([" ", ", ", ",", " / ", "\u00a0", "  ,  "]), min_size=4, max_size=4
        ).map(lambda s: ["", *s[1:]]),
    ),
    st.sampled_from(["RebeccaPurple", "transparent", "TRANSPARENT", "blurple", "#12", "rgb(1,2)"]),
)
numbers = st.one_of(
    st.from_regex(r"[-+]?[0-9]{1,6}(?:[.,][0-9]{1,4})?(?:[eE][-+]?[0-9]{1,3})?", fullmatch=True),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["0", "-0", "1,234.5", "1e308", "1e-320", "2.5", "1000", "1001"]),
)
dates = st.one_of(
    st.builds(
        lambda y, md, t, z: f"{y}-{md}{t}{z if t else ''}",
        st.sampled_from(["0999", "1000", "2024", "9999"]),
        st.sampled_from(["01-01", "12-31", "02-29"]),
        st.sampled_from(["", "T00:00", " 23:59:59", "T10:30:00.123456"]),
        st.sampled_from(["", "Z", "+14:00", "-12:00"]),
    ),
)
switches = st.sampled_from(["yes", "No", "TRUE", "0", "1", "maybe", True, False, 1, 0])
files = st.one_of(urls, st.sampled_from(["photo.png", "https://images.example.com/a.jpg"]))
slugs = st.one_of(
    st.from_regex(r"[a-z0-9_-]{1,30}", fullmatch=True),
    st.builds(lambda n: "a" * n, st.sampled_from([255, 256, 257, 400])),
    st.sampled_from(["Blue Chair", "blue--chair", "-x", "x_", "é"]),
)

BY_TYPE: dict[str, st.SearchStrategy[Any]] = {
    "PlainText": st.one_of(short, long_texts),
    "RichText": st.one_of(short, st.just("<p>x</p>\n<p>y</p>"), long_texts),
    "Email": emails,
    "Phone": phones,
    "Link": links,
    "VideoLink": urls,
    "Color": colors,
    "Number": numbers,
    "DateTime": dates,
    "Switch": switches,
    "Image": files,
    "File": files,
    "MultiImage": st.lists(files, max_size=3).map(";".join),
}
# The demo collection's writable fields and the extra ones, one test each (the slug apart).
SLUGS = [
    "summary", "description", "image", "gallery", "video", "website", "contact-email", "phone",
    "price", "stock", "launch-date", "featured", "color", "category", "author",
    "related-authors", "brochure", "rule-text", "rule-integer", "rule-decimal",
]  # fmt: skip


def cells_for(t: Target, slug: str) -> st.SearchStrategy[Any]:
    ftype = t.fields[slug].type
    if ftype == "Option":
        return st.one_of(st.sampled_from(t.option_words), short)
    if ftype == "Reference":
        return st.one_of(st.sampled_from(t.author_words), short)
    if ftype == "MultiReference":
        return st.lists(st.sampled_from(t.author_words), max_size=3).map(";".join) | short
    # Any cell may be any text as well: the shapes above are where the rules differ.
    return st.one_of(BY_TYPE[ftype], short, printable)


# --- the check ---------------------------------------------------------------------------------


def accepted(t: Target, slug: str, column: list[Any]) -> list[Any]:
    """The API values csvsync would send for ``column``: the cells it neither refuses nor
    skips as empty."""
    out = convert_column(t.fields[slug], FieldOptions(), pd.Series(column, dtype=object), t.refs)
    keep = out.errors.isna() & ~out.empty
    return list(out.values[keep])


def refusals(t: Target, slug: str, values: list[Any]) -> list[tuple[Any, Any]]:
    """``(value, answer)`` for each value the sandbox refuses, batch by batch, one by one
    only in a batch that failed (the answer does not say which variant was wrong)."""
    found: list[tuple[Any, Any]] = []
    batch: list[Any] = []
    size = 0

    def send(vals: list[Any]) -> requests.Response:
        items = [{"id": ITEM, "fieldData": {slug: v}} for v in vals]
        return t.session.patch(t.url, json={"items": items})

    def flush() -> None:
        if not batch:
            return
        if send(batch).status_code != 200:
            for v in batch:
                r = send([v])
                if r.status_code != 200:
                    found.append((v, r.json()))
        batch.clear()

    for v in values:
        n = len(json.dumps(v))
        if len(batch) == BATCH or size + n > BATCH_CHARS:
            flush()
            size = 0
        batch.append(v)
        size += n
    flush()
    return found


@pytest.mark.parametrize("slug", SLUGS)
def test_the_sandbox_accepts_what_csvsync_accepts(target: Target, slug: str) -> None:
    @SETTINGS
    @given(column=st.lists(cells_for(target, slug), min_size=1, max_size=12))
    def check(column: list[Any]) -> None:
        values = accepted(target, slug, column)
        assert refusals(target, slug, values) == []

    check()


@SETTINGS
@given(texts=st.lists(slugs, min_size=1, max_size=12))
def test_the_sandbox_accepts_the_slugs_the_preflight_accepts(
    target: Target, texts: list[str]
) -> None:
    # A prefix no demo slug has keeps Webflow's uniqueness rule out of the comparison.
    mine = [f"rules-{s}" for s in texts if pd.Series([f"rules-{s}"]).str.fullmatch(SLUG_PATTERN)[0]]
    assert refusals(target, "slug", mine) == []


def test_the_shapes_of_the_issue_go_through_both() -> None:
    """mailto: and tel: links and phone extensions: converted by csvsync and taken by the
    sandbox (the issue's examples, without hypothesis)."""
    with Sandbox(SandboxOptions(seed="demo")) as sb, requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {sb.opts.token}"
        schema = session.get(f"{sb.base_url}/collections/{DEMO_COLLECTION_ID}").json()
        fields = {f.slug: f for f in parse_schema(schema)}
        t = Target(session, f"{sb.base_url}/collections/{DEMO_COLLECTION_ID}/items/live",
                   fields, {}, [], [])  # fmt: skip
        for slug, cell in [
            ("website", "mailto:x@example.com"),
            ("website", "tel:+1555"),
            ("phone", "+1 555 0100 ext. 12"),
        ]:
            assert accepted(t, slug, [cell]) == [cell]
            assert refusals(t, slug, [cell]) == []

"""``csvsync init``: a mapping scaffold from the live schema that ``plan`` accepts unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import Workspace, make_workspace

from csvsync.mapping.mapping import load_mapping, resolve
from csvsync.mapping.yamlload import load_yaml
from csvsync.ops.init import CollectionInfo, scaffold_text, write_mapping, yaml_text
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import DEMO_AUTHORS_COLLECTION_ID, DEMO_COLLECTION_ID, DEMO_SITE_ID
from csvsync.webflow.schema import parse_locales, parse_schema

EDITABLE = {
    "name", "slug", "summary", "description", "image", "gallery", "video", "website",
    "contact-email", "phone", "price", "stock", "launch-date", "featured", "color", "category",
    "author", "related-authors", "brochure",
}  # fmt: skip


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    opts = SandboxOptions(seed="demo", token="sandbox-token", rate_limit=100_000)
    with Sandbox(opts) as sb:
        yield make_workspace(sb, tmp_path)


def init(ws: Workspace, out: Path, *extra: str) -> Any:
    return ws.run(
        "init", "--site", DEMO_SITE_ID, "--collection", DEMO_COLLECTION_ID, "-o", out, *extra
    )


@pytest.mark.parametrize(("layout", "suffix"), [("wide", "xlsx"), ("long", "csv")])
@pytest.mark.slow
def test_init_mapping_covers_every_editable_field_and_round_trips(
    ws: Workspace, layout: str, suffix: str
) -> None:
    mapping = ws.dir / "mappings" / "products.yaml"
    res = init(ws, mapping, "--layout", layout)
    assert res.exit_code == 0, res.output
    loaded = load_mapping(mapping)
    assert {f.slug for f in loaded.fields} == EDITABLE
    assert loaded.layout == layout and loaded.key_column == "Item ID"
    text = mapping.read_text(encoding="utf-8")
    assert "legacy-asset (ExtFileRef)" in text and "created-by (User)" in text
    assert "# Option: Home | Office | Outdoor | Kitchen" in text
    assert "(cells hold the option's name) · one value for every locale" in text
    assert "# Reference -> Authors: cells hold the item's slug" in text
    fields = {f.slug: f for f in loaded.fields}
    assert fields["name"].localized and fields["description"].localized
    assert not fields["image"].localized and not fields["price"].localized
    if layout == "wide":
        assert loaded.locales == {
            "en": "{column}",
            "fr-FR": "{column} [fr]",
            "de-DE": "{column} [de]",
        }
    else:
        assert loaded.locale_column == "Locale"
    sheet = ws.dir / f"export.{suffix}"
    res = ws.run("export", "-m", mapping, sheet)
    assert res.exit_code == 0, res.output
    ws.sb.clear_log()
    res = ws.run("plan", sheet, "-m", mapping, "--results", ws.dir / "plan.xlsx")
    assert res.exit_code == 0, res.output
    assert "Rows x locales: 900 unchanged" in res.output
    assert ws.writes() == []


def test_init_without_collection_lists_the_sites_collections(ws: Workspace) -> None:
    res = ws.run("init", "--site", DEMO_SITE_ID)
    assert res.exit_code == 0, res.output
    assert f"{DEMO_COLLECTION_ID}  Products" in res.output
    assert f"{DEMO_AUTHORS_COLLECTION_ID}  Authors" in res.output
    assert not (ws.dir / "mappings").exists()


def test_init_refuses_to_overwrite_unless_forced(ws: Workspace) -> None:
    out = ws.dir / "m.yaml"
    out.write_text("# mine\n", encoding="utf-8")
    res = init(ws, out)
    assert res.exit_code == 2
    assert "already exists" in res.output and "--force" in res.output
    assert out.read_text(encoding="utf-8") == "# mine\n"
    assert init(ws, out, "--force").exit_code == 0
    assert load_mapping(out).collection == DEMO_COLLECTION_ID
    assert [p.name for p in ws.dir.iterdir() if p.name.endswith(".tmp")] == []


def test_init_names_a_collection_by_slug_and_refuses_unknown_ones(ws: Workspace) -> None:
    out = ws.dir / "authors.yaml"
    res = ws.run("init", "--site", DEMO_SITE_ID, "--collection", "authors", "-o", out)
    assert res.exit_code == 0, res.output
    assert load_mapping(out).collection == DEMO_AUTHORS_COLLECTION_ID
    res = ws.run("init", "--site", DEMO_SITE_ID, "--collection", "nope", "-o", ws.dir / "x.yaml")
    assert res.exit_code == 2 and "Products" in res.output
    res = ws.run("init", "--site", "64f0c0ffee0000000000ffff")
    assert res.exit_code == 2 and "not found" in res.output


TRICKY = ["no", "Yes", "NULL", "123", "2024-01-01", "Name: x", "#tag", "a, b", "{x}", "[x]",
          "trailing ", " leading", "- dash", "it's", 'say "hi"', "back\\slash", "line\nbreak",
          "del\x7f", "nel\x85", "tab\tx", "émoji 😀", "~", "*star", "&anchor", "!tag", "%pct",
          "@at", "`tick", "|pipe", ">gt", "?q", "x: y", "x #y"]  # fmt: skip


@pytest.mark.parametrize("value", TRICKY)
def test_yaml_text_reads_back_as_the_same_string(tmp_path: Path, value: str) -> None:
    path = tmp_path / "v.yaml"
    path.write_text(f"a: {yaml_text(value)}\nb: {{c: {yaml_text(value)}}}\n", encoding="utf-8")
    loaded = load_yaml(path)
    assert loaded["a"] == value and loaded["b"]["c"] == value


def test_scaffold_quotes_odd_names_and_keeps_columns_unique(tmp_path: Path) -> None:
    site = {
        "id": "000000000000000000000001",
        "displayName": "Site",
        "locales": {
            "primary": {"cmsLocaleId": "l1", "tag": "no", "displayName": "Norsk"},
            "secondary": [
                {"cmsLocaleId": "l2", "tag": "fr-FR", "displayName": "French"},
                {"cmsLocaleId": "l3", "tag": "fr-CA", "displayName": "Canadian French"},
            ],
        },
    }
    fields = [
        {"slug": "name", "type": "PlainText", "displayName": "Name: full"},
        {"slug": "yes", "type": "PlainText", "displayName": "Item ID"},
        {"slug": "n2", "type": "Number", "displayName": "Name: full"},
        {"slug": "123", "type": "Switch", "displayName": "#1, {odd}"},
        {"slug": "ro", "type": "PlainText", "displayName": "RO", "isEditable": False},
    ]
    coll = {"id": "000000000000000000000002", "displayName": "C", "fields": fields}
    text = scaffold_text(site, coll, [CollectionInfo(coll["id"], "C", "c")])
    path = tmp_path / "m.yaml"
    locales, schema = parse_locales(site), parse_schema(coll)
    write_mapping(path, text, locales, schema)
    mapping = load_mapping(path)
    resolved = resolve(mapping, locales, schema)
    columns = {f.slug: f.column for f in mapping.fields}
    assert columns == {
        "name": "Name: full",
        "yes": "Item ID (yes)",
        "n2": "Name: full (n2)",
        "123": "#1, {odd}",
    }
    assert mapping.site == site["id"]
    assert mapping.locales == {
        "no": "{column}",
        "fr-FR": "{column} [fr-FR]",
        "fr-CA": "{column} [fr-CA]",
    }
    names = [c for c, _ in resolved.required_columns()]
    assert len(names) == len(set(names))
    assert "ro (PlainText): field 'ro' is not editable" in text

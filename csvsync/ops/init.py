"""``csvsync init``: a complete, commented mapping written from a collection's live schema.

This module owns the scaffold: which fields go in (every field csvsync can write; the others
are listed in comments with the reason), how columns are named (the fields' display names, made
unique; secondary locales as ``{column} [<lang>]``), which options each type gets (text-like
fields ``localized: true`` on a multi-locale site, references ``by: slug``) and the format hint
comment per type. The text is checked before it is written: it must load with
``mapping.load_mapping`` and resolve against the same schema and locales, and it is written
atomically, never over an existing file unless asked.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csvsync.convert.to_api import TEXT_TYPES, check_mappable
from csvsync.errors import ConfigError, MappingError, NotFoundError
from csvsync.mapping.mapping import load_mapping, resolve
from csvsync.models import UNLOCALIZED, Locale, SchemaField
from csvsync.webflow.client import WebflowClient
from csvsync.webflow.schema import parse_locales, parse_schema

KEY_COLUMN = "Item ID"
LOCALE_COLUMN = "Locale"
_PLAIN = re.compile(r"[A-Za-z_](?:[A-Za-z0-9_ .()/&+'-]*[A-Za-z0-9_.()/&+'-])?")
# Words some YAML reader would take for a boolean or null: quoted even though ours would not.
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "nan", "inf"}
_NOT_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_MAX_OPTIONS_SHOWN = 8


@dataclass(frozen=True)
class CollectionInfo:
    """A collection of the site, for the listing ``init`` prints without ``--collection``."""

    id: str
    name: str
    slug: str


def yaml_text(value: str) -> str:
    """``value`` as a YAML scalar that every YAML reader reads back as that string."""
    if _PLAIN.fullmatch(value) and value.lower() not in _YAML_WORDS:
        return value
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif _NOT_PRINTABLE.match(ch) or ch in "\r\x85\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _comment(text: str) -> str:
    return " ".join(str(text).split())


def list_collections(client: WebflowClient, site_id: str) -> list[CollectionInfo]:
    """The site's collections, by name."""
    try:
        listed = client.list_collections(site_id)
    except NotFoundError:
        raise ConfigError(
            f"site {site_id} not found", "check --site (the site id, 24 hex characters)"
        ) from None
    found = [
        CollectionInfo(str(c.get("id")), str(c.get("displayName", "")), str(c.get("slug", "")))
        for c in listed
    ]
    return sorted(found, key=lambda c: (c.name.lower(), c.id))


def _site(client: WebflowClient, site_id: str) -> dict[str, Any]:
    try:
        return client.get_site(site_id)
    except NotFoundError:
        raise ConfigError(
            f"site {site_id} not found", "check --site (the site id, 24 hex characters)"
        ) from None


def pick_collection(collections: Sequence[CollectionInfo], wanted: str) -> CollectionInfo:
    """A collection by id, slug or name (case-insensitive)."""
    for c in collections:
        if wanted == c.id:
            return c
    folded = wanted.strip().casefold()
    matches = [c for c in collections if folded in (c.slug.casefold(), c.name.casefold())]
    if len(matches) == 1:
        return matches[0]
    listed = ", ".join(f"{c.name} ({c.id})" for c in collections) or "none"
    raise ConfigError(
        f"collection '{wanted}' is not a collection of this site", f"the site has: {listed}"
    )


def scaffold_text(
    site: dict[str, Any],
    collection: dict[str, Any],
    collections: Sequence[CollectionInfo],
    layout: str = "wide",
) -> str:
    """The mapping file's text for ``collection`` (a ``GET /collections/{id}`` answer)."""
    locales = parse_locales(site)
    schema = parse_schema(collection)
    names = {c.id: c.name for c in collections}
    lines = [
        f'# csvsync mapping for the collection "{_comment(collection.get("displayName", ""))}" '
        f'of the site "{_comment(site.get("displayName", ""))}".',
        "# Written by `csvsync init` from the live schema. Edit freely: field types always come",
        "# from the schema, never from this file. The format: docs/mapping.md.",
        f"site: {yaml_text(str(site.get('id', '')))}",
        f"collection: {yaml_text(str(collection.get('id', '')))}",
        "# sheet: Items                 # the XLSX sheet to read (default: the first sheet)",
        "key:",
        f"  column: {yaml_text(KEY_COLUMN)}  # the Webflow item id (`csvsync export` fills it)",
        "  # field: slug              # ... or match live items on a field's primary value",
        f"layout: {layout}",
        *_locale_lines(locales, layout),
        "empty: skip                   # an empty cell leaves the field alone; clear: empties it",
        "timezone: UTC                 # for dates and times written without an offset",
        "fields:                       # field slug -> column and options",
        *_field_lines(schema, locales, layout, names),
    ]
    return "\n".join(lines) + "\n"


def _locale_lines(locales: Sequence[Locale], layout: str) -> list[str]:
    if layout == "long":
        lines = [
            f"locale_column: {yaml_text(LOCALE_COLUMN)}  # the column naming each row's locale",
            "locales:                      # the locales the sheet may hold (primary first)",
        ]
        return lines + [f"  - {yaml_text(loc.tag)}  # {_describe(loc)}" for loc in locales]
    if [loc.cms_locale_id for loc in locales] == [UNLOCALIZED]:
        return ["# locales: none; the site has no localization, so each column is its one locale"]
    lines = ["locales:                      # locale tag -> column-name pattern"]
    for loc in locales:
        pattern = "{column}" if loc.primary else "{column} [" + _suffix(loc, locales) + "]"
        lines.append(f"  {yaml_text(loc.tag)}: {yaml_text(pattern)}  # {_describe(loc)}")
    return lines


def _describe(loc: Locale) -> str:
    return _comment(loc.display_name or loc.tag) + (" (primary)" if loc.primary else "")


def _suffix(loc: Locale, locales: Sequence[Locale]) -> str:
    lang = loc.tag.split("-")[0]
    same = [other for other in locales if other.tag.split("-")[0].lower() == lang.lower()]
    return lang if len(same) == 1 else loc.tag


def _field_lines(
    schema: Sequence[SchemaField], locales: Sequence[Locale], layout: str, names: dict[str, str]
) -> list[str]:
    taken = {KEY_COLUMN, LOCALE_COLUMN}
    lines: list[str] = []
    skipped: list[str] = []
    suffixes = [] if layout == "long" else [f" [{_suffix(loc, locales)}]" for loc in locales[1:]]
    for f in schema:
        reason = check_mappable(f, localized=False)
        if reason:
            skipped.append(f"  # {_comment(f.slug)} ({f.type}): {_comment(reason)}")
            continue
        localized = f.type in TEXT_TYPES and len(locales) > 1
        column = _column(f, taken, suffixes if localized else [])
        opts = [f"column: {yaml_text(column)}"]
        if localized:
            opts.append("localized: true")
        if f.type in ("Reference", "MultiReference"):
            opts.append("by: slug")
        if f.type in ("MultiReference", "MultiImage"):
            opts.append('separator: ";"')
        required = ", required" if f.required else ""
        target = str((f.validations or {}).get("collectionId") or "")
        if f.type in ("Reference", "MultiReference"):
            required = f" -> {_comment(names.get(target, target))}{required}"
        spread = (
            " · one value for every locale (primary_only: true: the primary only)"
            if len(locales) > 1 and f.type not in TEXT_TYPES
            else ""
        )
        lines.append(f"  # {f.type}{required}: {_hint(f)}{spread}")
        lines.append(f"  {yaml_text(f.slug)}: {{{', '.join(opts)}}}")
    if skipped:
        lines.append("  # Not mapped (csvsync cannot write these):")
        lines.extend(skipped)
    return lines


def _column(f: SchemaField, taken: set[str], suffixes: list[str]) -> str:
    """The field's display name as its column, or ``Name (slug)`` if a column already has it."""
    base = " ".join(f.display_name.split()) or f.slug
    for candidate in (base, f"{base} ({f.slug})", f.slug):
        wanted = {candidate, *(candidate + s for s in suffixes)}
        if not wanted & taken:
            taken.update(wanted)
            return candidate
    raise MappingError(f"cannot name a column for field '{f.slug}' uniquely")


def _hint(f: SchemaField) -> str:
    rules = f.validations or {}
    if f.type == "Option":
        opts = [_comment(o.get("name", "")) for o in rules.get("options") or []]
        more = " | …" if len(opts) > _MAX_OPTIONS_SHOWN else ""
        return " | ".join(opts[:_MAX_OPTIONS_SHOWN]) + more + " (cells hold the option's name)"
    if f.type in ("Reference", "MultiReference"):
        if f.type == "Reference":
            return "cells hold the item's slug"
        return "cells hold item slugs separated by ';'"
    if f.type == "Number":
        limits = [str(rules["format"])] if rules.get("format") else []
        if rules.get("allowNegative") is False:
            limits.append("no negatives")
        text = "a number, '.' as decimal mark (decimal: \",\" for 1.234,5)"
        return text + (f" ({', '.join(limits)})" if limits else "")
    if f.type == "PlainText" and isinstance(rules.get("maxLength"), int):
        return f"text, kept exactly (at most {rules['maxLength']} characters)"
    return _HINTS.get(f.type, "")


_HINTS = {
    "PlainText": "text, kept exactly",
    "RichText": "HTML, kept exactly",
    "Email": "name@example.com",
    "Phone": "any text, e.g. +1 555 0100 ext. 12 (sent as written)",
    "Link": "a URL, e.g. https://…, mailto:… or tel:… (sent as written)",
    "VideoLink": "a YouTube or Vimeo URL",
    "Color": "#RRGGBB, #RGB, rgb(), hsl() or a CSS color name",
    "Image": "an image URL (Webflow copies it); not localized: Webflow does not localize files",
    "File": "a file URL (Webflow copies it); not localized: Webflow does not localize files",
    "MultiImage": "image URLs separated by ';'; not localized: Webflow does not localize files",
    "Switch": "true/false, yes/no or 1/0 (true_values/false_values add words)",
    "DateTime": '2024-05-01 or 2024-05-01T10:30:00Z (date_format: "%d.%m.%Y" for others)',
}


def write_mapping(
    path: Path,
    text: str,
    locales: Sequence[Locale],
    schema: Sequence[SchemaField],
    force: bool = False,
) -> None:
    """Check ``text`` loads and resolves, then write it to ``path`` atomically."""
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists", "pass --force to replace it, or choose -o")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        resolve(load_mapping(tmp), locales, schema)
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}", "check the folder") from None
    finally:
        if tmp.exists():
            tmp.unlink()


def scaffold(
    client: WebflowClient,
    site_id: str,
    collection: str,
    out: Path | None,
    layout: str = "wide",
    force: bool = False,
) -> Path:
    """Write the mapping for ``collection`` (id, slug or name) of ``site_id``; returns its path."""
    if layout not in ("wide", "long"):
        raise ConfigError(f"layout must be wide or long, not '{layout}'")
    site = _site(client, site_id)
    collections = list_collections(client, site_id)
    info = pick_collection(collections, collection)
    coll = client.get_collection(info.id)
    path = out or Path("mappings") / f"{info.slug or info.id}.yaml"
    text = scaffold_text(site, coll, collections, layout)
    write_mapping(path, text, parse_locales(site), parse_schema(coll), force)
    return path

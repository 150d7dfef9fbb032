"""Webflow's site and collection JSON -> csvsync's ``Locale`` and ``SchemaField`` models."""

from __future__ import annotations

from typing import Any

from csvsync.errors import MappingError
from csvsync.models import UNLOCALIZED, Locale, SchemaField


def parse_locales(site: dict[str, Any]) -> list[Locale]:
    """Site JSON -> locales, primary first. A site without localization (no ``locales`` at
    all) has one locale, ``UNLOCALIZED``, whose id is never sent."""
    if site.get("locales") is None:
        return [Locale(UNLOCALIZED, UNLOCALIZED, "no localization", True)]
    locs = site.get("locales") or {}
    out: list[Locale] = []
    primary = locs.get("primary")
    if primary:
        out.append(
            Locale(
                primary["cmsLocaleId"],
                primary.get("tag", "en"),
                primary.get("displayName", ""),
                True,
            )
        )
    for sec in locs.get("secondary") or []:
        if sec.get("enabled", True):
            out.append(
                Locale(sec["cmsLocaleId"], sec.get("tag", ""), sec.get("displayName", ""), False)
            )
    if not out:
        raise MappingError(
            f"site {site.get('id')} reports no locales", "enable localization or check the site id"
        )
    return out


def parse_schema(collection: dict[str, Any]) -> list[SchemaField]:
    return [
        SchemaField(
            slug=f["slug"],
            type=f["type"],
            display_name=f.get("displayName", f["slug"]),
            required=bool(f.get("isRequired")),
            editable=f.get("isEditable", True) is not False,
            validations=f.get("validations") or {},
        )
        for f in collection.get("fields", [])
    ]

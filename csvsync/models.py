"""Frozen dataclasses passed between the pipeline's stages (schema, locales, field specs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Field types whose values are words a translator changes: each locale holds its own. Every
# other type (numbers, switches, dates, links, files, references...) is one value for the item
# that Webflow stores per locale variant, so a mapping writes it to every locale by default.
TEXT_TYPES = frozenset({"PlainText", "RichText"})

# Webflow's field types (API names); User is read-only, ExtFileRef undocumented.
FIELD_TYPES = (
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
)
FILE_TYPES = frozenset({"Image", "File", "MultiImage"})


@dataclass(frozen=True)
class Locale:
    """A site locale as the CMS sees it: ``cms_locale_id`` is what item calls use."""

    cms_locale_id: str
    tag: str
    display_name: str
    primary: bool


@dataclass(frozen=True)
class SchemaField:
    """One field of a collection schema (``GET /collections/{id}``)."""

    slug: str
    type: str
    display_name: str
    required: bool = False
    editable: bool = True
    validations: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FieldOptions:
    """Per-field format options from the mapping; they apply to text cells only."""

    decimal: str = "."
    true_values: tuple[str, ...] = ()
    false_values: tuple[str, ...] = ()
    date_format: str | None = None
    timezone: str = "UTC"
    separator: str = ";"
    by: str | None = None  # Reference lookups: "id", "slug" or "name"; None = any of them


@dataclass(frozen=True)
class RefTarget:
    """Lookup tables of a Reference/MultiReference target collection (primary locale)."""

    ids: frozenset[str]
    by_slug: dict[str, str]
    by_name: dict[str, str]  # lower-cased name -> id (only names that are unique)

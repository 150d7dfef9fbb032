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

# The one locale of a site without localization (its site JSON has no ``locales``, its items no
# ``cmsLocaleId``, js-webflow-api#223): it stands in for the id such a site lacks, so the cache
# and the diff keep one key per variant; ``webflow/`` never sends it.
UNLOCALIZED = "primary"


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


# An Image field's alt text, as a field of its own (``image@alt``): the diff compares it,
# the journal keeps it, a mapping names its column (``alt:``), like any text. Webflow stores
# it inside the image value (``{fileId, url, alt}``), per locale variant.
ALT_SUFFIX = "@alt"


def with_alt_fields(schema: list[SchemaField]) -> list[SchemaField]:
    """``schema`` and, after it, an alt-text field for each editable Image field."""
    alts = [
        SchemaField(f"{f.slug}{ALT_SUFFIX}", "PlainText", f"{f.display_name} (alt text)")
        for f in schema
        if f.type == "Image" and f.editable
    ]
    return schema + alts


def alt_of(slug: str) -> str | None:
    """The Image field an alt-text field belongs to, or None."""
    return slug[: -len(ALT_SUFFIX)] if slug.endswith(ALT_SUFFIX) else None


def field_value(field_data: dict[str, Any], slug: str) -> Any:
    """A field's value in an API item's ``fieldData``, alt-text fields included."""
    image = alt_of(slug)
    if image is None:
        return field_data.get(slug)
    value = field_data.get(image)
    return value.get("alt") if isinstance(value, dict) else None

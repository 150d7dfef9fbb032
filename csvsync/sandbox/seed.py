"""The demo seed: one site in three locales, an Authors and a Products collection.

What is there (all ids are 24 lowercase hex digits and never change):

- Site ``DEMO_SITE_ID`` "Demo Store", locales ``en`` (primary, ``LOCALE_EN``), ``fr-FR``
  (``LOCALE_FR``) and ``de-DE`` (``LOCALE_DE``).
  Seeded without localization (``localized=False``), it has no locales and the same items in
  English only, under one hidden locale (``Store.primary_locale``).
- Authors ``DEMO_AUTHORS_COLLECTION_ID``: fields name, slug, bio (PlainText). 12 items,
  ids ``author_id(1..12)`` = ``64f0c0ffee000000000c0001`` ...; published in all three locales,
  same name and slug everywhere, bio translated.
- Products ``DEMO_COLLECTION_ID``: every field type. Slugs and types: name, slug, summary
  (PlainText), description (RichText), image (Image), gallery (MultiImage), video (VideoLink),
  website (Link), contact-email (Email), phone (Phone), price (Number, decimal), stock (Number,
  integer, allowNegative false), launch-date (DateTime), featured (Switch), color (Color),
  category (Option: ``CATEGORY_OPTIONS``), author (Reference -> Authors), related-authors
  (MultiReference -> Authors), brochure (File), legacy-asset (ExtFileRef, never set),
  created-by (User, read-only, always ``DEMO_USER_ID``).
  300 items, ids ``product_id(1..300)`` = ``64f0c0ffee000000000b0001`` ...; all published in all
  three locales. name/slug/summary/description are translated (the French and German names use
  translated words, so their slugs differ); every other field has the same value in all locales.
  Values are pseudo-random but fixed (``random.Random(42)``); ``demo_products()`` returns them
  in write form (files as ``{url, alt}``), ``demo_authors()`` likewise.
  Timestamps: createdOn = 2024-01-01T00:00Z plus n minutes; authors' lastUpdated = lastPublished =
  ``SEED_TIME``; products' are ``SEED_TIME`` plus one minute per ten products.

Example, product 1 (``64f0c0ffee000000000b0001``): en name "Smart Chair 001", slug
"smart-chair-001"; fr "Chaise Intelligente 001" / "chaise-intelligente-001"; de "Smarte Stuhl 001"
/ "smarte-stuhl-001"; in every locale price 372.07, stock 250, launch-date
"2023-08-17T00:00:00.000Z", featured true, color "#347a3f", category Home
(``64f0c0ffee00000000000a01``), author ``64f0c0ffee000000000c000a``, image
``https://images.example.com/products/001.jpg`` (read back re-hosted as
``{fileId, url: <sandbox>/assets/<fileId>/001.jpg, alt}``).
"""

from __future__ import annotations

import random
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

from .store import NewItem, Store
from .validation import format_datetime

DEMO_SITE_ID = "64f0c0ffee0000000000aaaa"
DEMO_COLLECTION_ID = "64f0c0ffee0000000000bbbb"
DEMO_AUTHORS_COLLECTION_ID = "64f0c0ffee0000000000cccc"
LOCALE_EN = "64f0c0ffee00000000000e01"
LOCALE_FR = "64f0c0ffee00000000000f02"
LOCALE_DE = "64f0c0ffee00000000000d03"
LOCALES = {"en": LOCALE_EN, "fr-FR": LOCALE_FR, "de-DE": LOCALE_DE}
DEMO_USER_ID = "64f0c0ffee00000000005e01"
SEED_TIME = "2024-06-01T12:00:00.000Z"
PRODUCT_COUNT = 300
AUTHOR_COUNT = 12
CATEGORY_OPTIONS = {
    "Home": "64f0c0ffee00000000000a01",
    "Office": "64f0c0ffee00000000000a02",
    "Outdoor": "64f0c0ffee00000000000a03",
    "Kitchen": "64f0c0ffee00000000000a04",
}

_SITE_LOCALES = [
    {"tag": "en", "displayName": "English", "cmsLocaleId": LOCALE_EN,
     "id": "64f0c0ffee00000000001e01", "subdirectory": ""},
    {"tag": "fr-FR", "displayName": "French (France)", "cmsLocaleId": LOCALE_FR,
     "id": "64f0c0ffee00000000001f02", "subdirectory": "fr-fr"},
    {"tag": "de-DE", "displayName": "German (Germany)", "cmsLocaleId": LOCALE_DE,
     "id": "64f0c0ffee00000000001d03", "subdirectory": "de-de"},
]  # fmt: skip

# (en, fr, de); French puts the adjective after the noun
_ADJECTIVES = [
    ("Classic", "Classique", "Klassische"), ("Modern", "Moderne", "Moderne"),
    ("Compact", "Compacte", "Kompakte"), ("Deluxe", "Luxe", "Luxus"),
    ("Eco", "Écologique", "Öko"), ("Smart", "Intelligente", "Smarte"),
]  # fmt: skip
_NOUNS = [
    ("Lamp", "Lampe", "Lampe"), ("Chair", "Chaise", "Stuhl"), ("Table", "Table", "Tisch"),
    ("Kettle", "Bouilloire", "Wasserkocher"), ("Backpack", "Sac", "Rucksack"),
    ("Clock", "Horloge", "Uhr"), ("Speaker", "Enceinte", "Lautsprecher"),
    ("Mug", "Tasse", "Becher"),
]  # fmt: skip
_SUMMARY = ("{} for everyday use.", "{} pour tous les jours.", "{} für jeden Tag.")
_AUTHORS = [
    "Ada Lovelace", "Grace Hopper", "Alan Turing", "Katherine Johnson", "Edsger Dijkstra",
    "Barbara Liskov", "Donald Knuth", "Margaret Hamilton", "Tim Berners-Lee", "Radia Perlman",
    "Ken Thompson", "Frances Allen",
]  # fmt: skip
_BIO = ("Writes about {}.", "Écrit sur {}.", "Schreibt über {}.")
_TOPICS = ("design", "travel", "cooking", "technology")


def product_id(n: int) -> str:
    return f"64f0c0ffee{0xB0000 + n:014x}"


def author_id(n: int) -> str:
    return f"64f0c0ffee{0xC0000 + n:014x}"


def slugify(text: str) -> str:
    """ASCII slug: accents stripped, lowercase, runs of other characters to one hyphen."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    out = "".join(c if c.isalnum() else " " for c in ascii_text.lower())
    return "-".join(out.split())


def demo_authors() -> list[dict[str, Any]]:
    """``[{"id", "fieldData": {cmsLocaleId: {...}}}]`` for the 12 authors."""
    out = []
    for n, name in enumerate(_AUTHORS, start=1):
        topic = _TOPICS[n % len(_TOPICS)]
        bios = [b.format(topic) for b in _BIO]
        out.append(
            {
                "id": author_id(n),
                "fieldData": {
                    loc: {"name": name, "slug": slugify(name), "bio": bio}
                    for loc, bio in zip(LOCALES.values(), bios, strict=True)
                },
            }
        )
    return out


def demo_products() -> list[dict[str, Any]]:
    """``[{"id", "fieldData": {cmsLocaleId: {...}}}]`` for the 300 products (write form)."""
    rng = random.Random(42)
    authors = [author_id(n) for n in range(1, AUTHOR_COUNT + 1)]
    options = list(CATEGORY_OPTIONS.values())
    start = datetime(2023, 1, 1, tzinfo=UTC)
    out = []
    for n in range(1, PRODUCT_COUNT + 1):
        adj = rng.choice(_ADJECTIVES)
        noun = rng.choice(_NOUNS)
        names = (f"{adj[0]} {noun[0]} {n:03d}", f"{noun[1]} {adj[1]} {n:03d}",
                 f"{adj[2]} {noun[2]} {n:03d}")  # fmt: skip
        shared: dict[str, Any] = {
            "website": f"https://example.com/products/{slugify(names[0])}",
            "contact-email": f"sales+{n:03d}@example.com",
            "phone": f"+1 555 {rng.randrange(10000):04d}",
            "price": round(rng.uniform(5, 500), 2),
            "stock": rng.randrange(0, 1000),
            "launch-date": format_datetime(start + timedelta(days=rng.randrange(0, 900))),
            "featured": rng.random() < 0.2,
            "color": f"#{rng.randrange(0x1000000):06x}",
            "category": rng.choice(options),
            "author": rng.choice(authors),
            "related-authors": rng.sample(authors, rng.randrange(0, 4)),
        }
        if n % 5:
            shared["image"] = {
                "url": f"https://images.example.com/products/{n:03d}.jpg",
                "alt": names[0],
            }
        shared["gallery"] = [
            {"url": f"https://images.example.com/gallery/{n:03d}-{k}.jpg", "alt": None}
            for k in range(1, rng.randrange(0, 4) + 1)
        ]
        if n % 2:
            vid = "".join(rng.choice("abcdefghijkLMNOPQ0123456789_-") for _ in range(11))
            shared["video"] = f"https://www.youtube.com/watch?v={vid}"
        if n % 3 == 0:
            shared["brochure"] = {"url": f"https://files.example.com/brochures/{n:03d}.pdf"}
        field_data = {}
        for loc, name, summary in zip(LOCALES.values(), names, _SUMMARY, strict=True):
            text = summary.format(name)
            field_data[loc] = {
                "name": name,
                "slug": slugify(name),
                "summary": text,
                "description": f"<p>{text}</p>",
                **shared,
            }
        out.append({"id": product_id(n), "fieldData": field_data})
    return out


def _product_fields() -> list[dict[str, Any]]:
    def f(slug: str, ftype: str, name: str, **extra: Any) -> dict[str, Any]:
        return {"slug": slug, "type": ftype, "displayName": name, "isRequired": False, **extra}

    authors = {"collectionId": DEMO_AUTHORS_COLLECTION_ID}
    return [
        f("summary", "PlainText", "Summary", validations={"maxLength": 256}),
        f("description", "RichText", "Description"),
        f("image", "Image", "Image"),
        f("gallery", "MultiImage", "Gallery"),
        f("video", "VideoLink", "Video"),
        f("website", "Link", "Website"),
        f("contact-email", "Email", "Contact Email"),
        f("phone", "Phone", "Phone"),
        f("price", "Number", "Price", validations={"format": "decimal", "precision": 2}),
        f("stock", "Number", "Stock",
          validations={"format": "integer", "allowNegative": False, "allowZero": True}),
        f("launch-date", "DateTime", "Launch Date"),
        f("featured", "Switch", "Featured"),
        f("color", "Color", "Color"),
        f("category", "Option", "Category",
          metadata={"options": [{"name": k, "id": v} for k, v in CATEGORY_OPTIONS.items()]}),
        f("author", "Reference", "Author", metadata=authors),
        f("related-authors", "MultiReference", "Related Authors", metadata=authors),
        f("brochure", "File", "Brochure"),
        f("legacy-asset", "ExtFileRef", "Legacy Asset"),
        f("created-by", "User", "Created By", isEditable=False),
    ]  # fmt: skip


def _seed_time(minutes: int) -> str:
    start = datetime.fromisoformat(SEED_TIME.replace("Z", "+00:00"))
    return format_datetime(start + timedelta(minutes=minutes))


def _created(n: int) -> str:
    return format_datetime(datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=n))


def site_only(store: Store, localized: bool = True) -> None:
    """The ``empty`` seed: the demo site and its three locales, no collections (without
    localization: the site alone, its items in one locale)."""
    store.create_site(
        "Demo Store", _SITE_LOCALES, site_id=DEMO_SITE_ID, short_name="demo-store",
        localized=localized,
    )  # fmt: skip


def seed_demo(store: Store, localized: bool = True) -> None:
    """Fill an empty store with the demo site, collections and items (``localized=False``:
    the same items in English only, on a site without localization)."""
    site_only(store, localized)
    primary = store.primary_locale(DEMO_SITE_ID)

    def one(data: dict[str, Any]) -> dict[str, Any]:
        return data if localized else {primary: data[LOCALE_EN]}

    store.create_collection(
        DEMO_SITE_ID,
        {"displayName": "Authors", "singularName": "Author", "slug": "authors",
         "fields": [{"slug": "bio", "type": "PlainText", "displayName": "Bio"}]},
        collection_id=DEMO_AUTHORS_COLLECTION_ID,
    )  # fmt: skip
    store.create_collection(
        DEMO_SITE_ID,
        {"displayName": "Products", "singularName": "Product", "slug": "products",
         "fields": _product_fields()},
        collection_id=DEMO_COLLECTION_ID,
    )  # fmt: skip
    store.seed_items(
        DEMO_AUTHORS_COLLECTION_ID,
        [
            NewItem(
                field_data=one(a["fieldData"]),
                is_draft=False,
                item_id=a["id"],
                created_on=_created(n),
            )
            for n, a in enumerate(demo_authors(), start=1)
        ],
        live=True,
        when=SEED_TIME,
    )
    products = [
        NewItem(
            field_data=one(p["fieldData"]),
            is_draft=False,
            item_id=p["id"],
            created_on=_created(n),
            raw={"created-by": DEMO_USER_ID},
        )
        for n, p in enumerate(demo_products(), start=1)
    ]
    # Edited at different times, as real items are: ten products a minute from SEED_TIME on, so
    # a "changed since" query for the newest lastUpdated returns one page, not the collection.
    for chunk in range(0, len(products), 10):
        store.seed_items(
            DEMO_COLLECTION_ID,
            products[chunk : chunk + 10],
            live=True,
            when=_seed_time(chunk // 10),
        )

"""The benchmark's workload: a deterministic collection, its sandbox store, sheets and mapping.

Owns everything the benchmark generates and nothing it measures. ``Workload(items)`` describes a
collection of ``items`` items in five locales (``items * 5`` item-variants): three localized text
fields (``name``, ``tagline``, ``description`` of about 1,000 characters), a slug per locale, and
non-text ``price`` (Number), ``featured`` (Switch), ``launch-date`` (DateTime), ``category``
(Option) and ``author`` (Reference to a small Authors collection), one value per item held by
every locale (the mapping's default writes them to every locale). The same inputs always give
the same bytes, so figures from two runs describe the same work.

A sheet is the live collection plus *edits*: ``Edit(revision, variants)`` appends " (rev N)" to
the tagline of the listed item-variants, so each edited variant differs in exactly one field and
a sync of it writes exactly one variant.
"""

from __future__ import annotations

import csv
import random
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import xlsxwriter

from csvsync.sandbox.store import NewItem, Store

SITE_ID = "65be0c00000000000000aaaa"
COLLECTION_ID = "65be0c00000000000000bbbb"
AUTHORS_ID = "65be0c00000000000000cccc"
TOKEN = "bench-token"
# (mapping key, tag, column suffix, cmsLocaleId); the first is primary.
LOCALES = [
    ("en", "en", "", "65be0c000000000000000e01"),
    ("fr", "fr-FR", " [fr]", "65be0c000000000000000f02"),
    ("de", "de-DE", " [de]", "65be0c000000000000000d03"),
    ("es", "es-ES", " [es]", "65be0c000000000000000e04"),
    ("it", "it-IT", " [it]", "65be0c000000000000000a05"),
]
CATEGORIES = ["Home", "Office", "Outdoor", "Kitchen", "Garden", "Travel"]
AUTHOR_COUNT = 50
SEED_TIME = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
LOCALIZED = [("name", "Name"), ("slug", "Slug"), ("tagline", "Tagline"),
             ("description", "Description")]  # fmt: skip
SHARED = [("price", "Price"), ("featured", "Featured"), ("launch-date", "Launch date"),
          ("category", "Category"), ("author", "Author")]  # fmt: skip

_WORDS = [
    "amber",
    "basalt",
    "cedar",
    "delta",
    "ember",
    "fjord",
    "granite",
    "harbor",
    "indigo",
    "juniper",
    "kelp",
    "lagoon",
    "meadow",
    "nickel",
    "orchid",
    "pebble",
    "quartz",
    "river",
    "saffron",
    "tundra",
    "umber",
    "velvet",
    "willow",
    "xenon",
    "yarrow",
    "zephyr",
    "atlas",
    "beacon",
    "canyon",
    "dune",
    "estuary",
    "forest",
    "glacier",
    "horizon",
    "island",
    "jungle",
    "keystone",
    "lantern",
]


def item_id(n: int) -> str:
    return f"65be0c00{0xB000000 + n:016x}"


def author_id(n: int) -> str:
    return f"65be0c00{0xC000000 + n:016x}"


def option_id(n: int) -> str:
    return f"65be0c00{0xA000000 + n:016x}"


def _sentences() -> list[str]:
    rng = random.Random(5)
    out = []
    for _ in range(257):
        words = [rng.choice(_WORDS) for _ in range(rng.randrange(8, 16))]
        out.append(" ".join(words).capitalize() + ".")
    return out


_SENTENCES = _sentences()


def _none(v: int) -> bool:
    del v
    return False


@dataclass(frozen=True)
class Edit:
    """Append " (rev ``revision``)" to the tagline of each variant in ``variants``; variants it
    does not select take ``base``'s edit, if any (so one sheet can hold two revisions).

    A variant is numbered ``item * 5 + locale position`` (0-based item, primary locale 0).
    """

    revision: int
    variants: Callable[[int], bool] = field(default=_none)
    base: Edit | None = None

    def revision_of(self, v: int) -> int | None:
        if self.variants(v):
            return self.revision
        return self.base.revision_of(v) if self.base else None


def every(k: int, offset: int = 0) -> Callable[[int], bool]:
    """Every k-th variant (a spread-out share of 1/k)."""
    return lambda v: v % k == offset


def span(first: int, count: int) -> Callable[[int], bool]:
    """Variants ``first`` .. ``first + count - 1``."""
    return lambda v: first <= v < first + count


def everything(v: int) -> bool:
    del v
    return True


class Workload:
    """``items`` items in five locales; see the module docstring."""

    def __init__(self, items: int) -> None:
        self.items = items

    @property
    def variants(self) -> int:
        return self.items * len(LOCALES)

    # -- values ---------------------------------------------------------------------------------
    def localized(self, n: int, loc: int) -> dict[str, str]:
        """name, slug, tagline and description of item ``n`` in locale position ``loc``."""
        word = _WORDS[(n * 7 + loc) % len(_WORDS)]
        name = f"{word.capitalize()} {_WORDS[(n * 3) % len(_WORDS)]} {n:06d} {LOCALES[loc][0]}"
        parts = [f"Item {n} in {LOCALES[loc][1]}."]
        k = 0
        while sum(len(p) + 1 for p in parts) < 1000:
            parts.append(_SENTENCES[(n * 31 + loc * 17 + k * 7) % len(_SENTENCES)])
            k += 1
        return {
            "name": name,
            "slug": name.lower().replace(" ", "-"),
            "tagline": f"The {word} {n} for every day ({LOCALES[loc][0]})",
            "description": " ".join(parts),
        }

    def shared(self, n: int) -> dict[str, Any]:
        """The non-text fields of item ``n``, in API form (the same in every locale)."""
        return {
            "price": round(5 + (n * 37 % 99_500) / 100, 2),
            "featured": n % 5 == 0,
            "launch-date": (datetime(2023, 1, 1, tzinfo=UTC) + timedelta(days=n % 900)).strftime(
                "%Y-%m-%dT00:00:00.000Z"
            ),
            "category": option_id(n % len(CATEGORIES) + 1),
            "author": author_id(n % AUTHOR_COUNT + 1),
        }

    # -- the sandbox store ----------------------------------------------------------------------
    def build_store(self, path: Path) -> None:
        """Write a sandbox SQLite store holding the site, both collections and live items."""
        if path.exists():
            path.unlink()
        store = Store(path)
        try:
            store.create_site(
                "Bench Site",
                [{"tag": tag, "displayName": tag, "cmsLocaleId": cms,
                  "id": cms[:-4] + "1" + cms[-3:], "subdirectory": "" if i == 0 else tag.lower()}
                 for i, (_k, tag, _s, cms) in enumerate(LOCALES)],
                site_id=SITE_ID, short_name="bench-site",
            )  # fmt: skip
            store.create_collection(
                SITE_ID,
                {"displayName": "Authors", "singularName": "Author", "slug": "authors",
                 "fields": []},
                collection_id=AUTHORS_ID,
            )  # fmt: skip
            store.create_collection(
                SITE_ID,
                {"displayName": "Articles", "singularName": "Article", "slug": "articles",
                 "fields": _fields()},
                collection_id=COLLECTION_ID,
            )  # fmt: skip
            when = SEED_TIME.strftime("%Y-%m-%dT%H:%M:%S.000Z")
            store.seed_items(
                AUTHORS_ID,
                [NewItem(field_data={cms: {"name": f"Author {a}", "slug": f"author-{a}"}
                                     for *_x, cms in LOCALES},
                         is_draft=False, item_id=author_id(a))
                 for a in range(1, AUTHOR_COUNT + 1)],
                live=True, when=when,
            )  # fmt: skip
            # Items edited at different times, as real ones are: ten a minute (50 variants, so the
            # "changed since the newest" check of a warm cache returns one page).
            chunk = 10
            for start in range(0, self.items, chunk):
                stamp = (SEED_TIME + timedelta(minutes=start // chunk)).strftime(
                    "%Y-%m-%dT%H:%M:%S.000Z"
                )
                store.seed_items(
                    COLLECTION_ID,
                    [self._new_item(n) for n in range(start, min(start + chunk, self.items))],
                    live=True,
                    when=stamp,
                )
            # The sandbox only seeds an empty store when this is unset.
            store.set_meta("seed", "empty")
        finally:
            store.close()

    def _new_item(self, n: int) -> NewItem:
        shared = self.shared(n)
        data = {}
        for loc, (*_x, cms) in enumerate(LOCALES):
            data[cms] = {**self.localized(n, loc), **shared}
        return NewItem(field_data=data, is_draft=False, item_id=item_id(n))

    # -- sheets ---------------------------------------------------------------------------------
    def header(self) -> list[str]:
        cols = ["Item ID"]
        for slug, col in LOCALIZED:
            del slug
            cols += [col + suffix for _k, _t, suffix, _c in LOCALES]
        return cols + [col for _s, col in SHARED]

    def rows(self, edit: Edit, xlsx: bool) -> Iterator[list[Any]]:
        """Sheet rows: the live values, with ``edit`` applied; XLSX rows keep numbers as numbers
        and dates as dates, CSV rows are text."""
        for n in range(self.items):
            locs = [self.localized(n, i) for i in range(len(LOCALES))]
            for i, loc in enumerate(locs):
                rev = edit.revision_of(n * len(LOCALES) + i)
                if rev is not None:
                    loc["tagline"] += f" (rev {rev})"
            row: list[Any] = [item_id(n)]
            for slug, _col in LOCALIZED:
                row += [loc[slug] for loc in locs]
            s = self.shared(n)
            date = datetime.strptime(s["launch-date"][:10], "%Y-%m-%d")
            price = s["price"]
            row += [
                price if xlsx else f"{price:.2f}",
                "Yes" if s["featured"] else "No",
                date if xlsx else date.strftime("%Y-%m-%d"),
                CATEGORIES[n % len(CATEGORIES)],
                f"author-{n % AUTHOR_COUNT + 1}",
            ]
            yield row

    def write_csv(self, path: Path, edit: Edit) -> Path:
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(self.header())
            w.writerows(self.rows(edit, xlsx=False))
        return path

    def write_csv_with(
        self, path: Path, edit: Edit, rename: int | None = None, new_rows: int = 0,
        first_new: int = 0,
    ) -> Path:  # fmt: skip
        """``write_csv``, with item ``rename``'s primary name changed too, and ``new_rows``
        rows of new items (no id; names and slugs of their own, numbered from ``items +
        first_new``) after the live ones."""
        width = len(LOCALES)
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(self.header())
            for n, row in enumerate(self.rows(edit, xlsx=False)):
                if n == rename:
                    row[1] += " (renamed)"  # the primary locale's Name column
                w.writerow(row)
            for k in range(new_rows):
                n = self.items + first_new + k
                locs = [self.localized(n, i) for i in range(width)]
                row = [""]
                for slug, _col in LOCALIZED:
                    row += [loc[slug] for loc in locs]
                sh = self.shared(n)
                row += [f"{sh['price']:.2f}", "Yes" if sh["featured"] else "No",
                        sh["launch-date"][:10], CATEGORIES[n % len(CATEGORIES)],
                        f"author-{n % AUTHOR_COUNT + 1}"]  # fmt: skip
                w.writerow(row)
        return path

    def new_item_data(self, n: int) -> dict[str, Any]:
        """Item ``n``'s primary-locale fieldData, as a create sends it."""
        return {**self.localized(n, 0), **self.shared(n)}

    def write_xlsx(self, path: Path, edit: Edit) -> Path:
        # constant_memory streams rows to disk: the 100 MB of text never sits in memory twice.
        book = xlsxwriter.Workbook(
            str(path),
            {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
             "strings_to_urls": False},
        )  # fmt: skip
        ws = book.add_worksheet("Articles")
        date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
        for c, name in enumerate(self.header()):
            ws.write_string(0, c, name)
        for r, row in enumerate(self.rows(edit, xlsx=True), start=1):
            for c, v in enumerate(row):
                if isinstance(v, datetime):
                    ws.write_datetime(r, c, v, date_fmt)
                elif isinstance(v, float):
                    ws.write_number(r, c, v)
                else:
                    ws.write_string(r, c, v)
        book.close()
        return path

    def patch_bodies(self, edit: Edit, batch: int = 100) -> Iterator[list[dict[str, Any]]]:
        """PATCH bodies (``items`` lists of up to ``batch``) writing ``edit``'s taglines."""
        out: list[dict[str, Any]] = []
        for v in range(self.variants):
            if not edit.variants(v):
                continue
            n, loc = divmod(v, len(LOCALES))
            entry: dict[str, Any] = {
                "id": item_id(n),
                "fieldData": {"tagline": self.localized(n, loc)["tagline"]
                              + f" (rev {edit.revision})"},
            }  # fmt: skip
            if loc:
                entry["cmsLocaleId"] = LOCALES[loc][3]
            out.append(entry)
            if len(out) == batch:
                yield out
                out = []
        if out:
            yield out


def _fields() -> list[dict[str, Any]]:
    def f(slug: str, ftype: str, name: str, **extra: Any) -> dict[str, Any]:
        return {"slug": slug, "type": ftype, "displayName": name, "isRequired": False, **extra}

    return [
        f("tagline", "PlainText", "Tagline", validations={"maxLength": 256}),
        f("description", "PlainText", "Description"),
        f("price", "Number", "Price", validations={"format": "decimal", "precision": 2}),
        f("featured", "Switch", "Featured"),
        f("launch-date", "DateTime", "Launch date"),
        f("category", "Option", "Category",
          metadata={"options": [{"name": c, "id": option_id(i)}
                                for i, c in enumerate(CATEGORIES, start=1)]}),
        f("author", "Reference", "Author", metadata={"collectionId": AUTHORS_ID}),
    ]  # fmt: skip


def mapping_text() -> str:
    """The YAML mapping of the workload's sheets (wide layout, five locales)."""
    locales = "\n".join(f'  {key}: "{{column}}{suffix}"' for key, _t, suffix, _c in LOCALES)
    return f"""\
site: {SITE_ID}
collection: {COLLECTION_ID}
key: {{column: Item ID}}
layout: wide
locales:
{locales}
timezone: UTC
fields:
  name: {{column: Name, localized: true}}
  slug: {{column: Slug, localized: true}}
  tagline: {{column: Tagline, localized: true}}
  description: {{column: Description, localized: true}}
  price: Price
  featured: Featured
  launch-date: {{column: Launch date, date_format: "%Y-%m-%d"}}
  category: Category
  author: {{column: Author, by: slug}}
"""


def copy_store(template: Path, dest: Path) -> Path:
    """A fresh copy of a built store (a sandbox run changes its store)."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(dest) + suffix).unlink(missing_ok=True)
    shutil.copyfile(template, dest)
    return dest


def selected(edit: Edit, total: int) -> int:
    """How many of ``total`` variants ``edit`` itself selects (its base not counted)."""
    return sum(1 for v in range(total) if edit.variants(v))

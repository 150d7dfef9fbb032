"""``csvsync demo``: the sample sheet and mapping, and the end-to-end run against the sandbox.

The sample sheet is built from the sandbox's demo seed (every field type, three locales) with a
handful of deliberate edits, so a plan shows real field changes and a second sync sends nothing.
``write_samples`` produces the files committed under ``sample_data/`` and ``mappings/``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from csvsync.options import RunOptions

if TYPE_CHECKING:
    from csvsync.ops.sync import RunResult
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox import seed as demo_seed

DEMO_TOKEN = "sandbox-token"

DEMO_MAPPING = f"""\
# The demo mapping: the sandbox's "Products" collection, every field type, three locales.
site: {demo_seed.DEMO_SITE_ID}
collection: {demo_seed.DEMO_COLLECTION_ID}
sheet: Products
key:
  column: Item ID
layout: wide
locales:
  en: "{{column}}"
  fr: "{{column}} [fr]"
  de: "{{column}} [de]"
empty: skip
timezone: UTC
fields:
  name: {{column: Name, localized: true}}
  slug: {{column: Slug, localized: true}}
  summary: {{column: Summary, localized: true}}
  description: {{column: Description, localized: true}}
  price: Price
  stock: Stock
  launch-date: {{column: Launch date, date_format: "%Y-%m-%d"}}
  featured: {{column: Featured, true_values: [Ja, Oui], false_values: [Nein, Non]}}
  color: Color
  category: Category
  author: {{column: Author, by: slug}}
  related-authors: {{column: Related authors, separator: ";"}}
  website: Website
  contact-email: Email
  phone: Phone
  video: Video
  image: Image
  gallery: {{column: Gallery, separator: ";"}}
  brochure: Brochure
"""

LOCALE_SUFFIX = {
    demo_seed.LOCALE_EN: "",
    demo_seed.LOCALE_FR: " [fr]",
    demo_seed.LOCALE_DE: " [de]",
}
LOCALIZED = {"name": "Name", "slug": "Slug", "summary": "Summary", "description": "Description"}
SHARED = {
    "price": "Price",
    "stock": "Stock",
    "launch-date": "Launch date",
    "featured": "Featured",
    "color": "Color",
    "category": "Category",
    "author": "Author",
    "related-authors": "Related authors",
    "website": "Website",
    "contact-email": "Email",
    "phone": "Phone",
    "video": "Video",
    "image": "Image",
    "gallery": "Gallery",
    "brochure": "Brochure",
}


def _cell(slug: str, value: Any, author_slugs: dict[str, str], option_names: dict[str, str]) -> Any:
    if value is None:
        return ""
    if slug == "category":
        return option_names[value]
    if slug == "author":
        return author_slugs[value]
    if slug == "related-authors":
        return ";".join(author_slugs[v] for v in value)
    if slug == "featured":
        return "Yes" if value else "No"
    if slug == "launch-date":
        return str(value)[:10]
    if isinstance(value, dict):
        return value.get("url", "")
    if isinstance(value, list):
        return ";".join(v.get("url", "") for v in value)
    return value


def sample_frame(live_items: list[dict[str, Any]], edits: bool = True) -> pd.DataFrame:
    """The demo sheet as a frame: one row per product, from live items, with a few edits."""
    authors = {
        a["id"]: a["fieldData"][demo_seed.LOCALE_EN]["slug"] for a in demo_seed.demo_authors()
    }
    options = {v: k for k, v in demo_seed.CATEGORY_OPTIONS.items()}
    by_item: dict[str, dict[str, dict[str, Any]]] = {}
    for it in live_items:
        loc = it.get("cmsLocaleId") or demo_seed.LOCALE_EN
        by_item.setdefault(it["id"], {})[loc] = it.get("fieldData") or {}
    rows = []
    for item_id in sorted(by_item):
        variants = by_item[item_id]
        row: dict[str, Any] = {"Item ID": item_id}
        for loc, suffix in LOCALE_SUFFIX.items():
            for slug, col in LOCALIZED.items():
                row[col + suffix] = variants.get(loc, {}).get(slug, "")
        primary = variants.get(demo_seed.LOCALE_EN, {})
        for slug, col in SHARED.items():
            row[col] = _cell(slug, primary.get(slug), authors, options)
        rows.append(row)
    frame = pd.DataFrame(rows)
    if edits:
        _apply_edits(frame)
    return frame


def _apply_edits(frame: pd.DataFrame) -> None:
    """The demo's deliberate changes: prices, translations, a switch and an option."""
    for i in (0, 1, 2, 3, 4):
        frame.loc[i, "Price"] = round(float(frame.loc[i, "Price"]) + 1.5, 2)
    for i in (5, 6, 7):
        frame.loc[i, "Summary [fr]"] = str(frame.loc[i, "Summary [fr]"]) + " Livraison gratuite."
    for i in (8, 9):
        frame.loc[i, "Name [de]"] = str(frame.loc[i, "Name [de]"]) + " (Neu)"
    frame.loc[10, "Featured"] = "No" if frame.loc[10, "Featured"] == "Yes" else "Yes"
    frame.loc[11, "Category"] = "Outdoor" if frame.loc[11, "Category"] != "Outdoor" else "Home"


def write_samples(sample_dir: Path, mapping_path: Path, live_items: list[dict[str, Any]]) -> None:
    """Write ``products.xlsx``, ``products.csv`` and the demo mapping."""
    sample_dir.mkdir(parents=True, exist_ok=True)
    frame = sample_frame(live_items)
    frame.to_csv(sample_dir / "products.csv", index=False)
    with pd.ExcelWriter(
        sample_dir / "products.xlsx",
        engine="xlsxwriter",
        engine_kwargs={"options": {"strings_to_formulas": False, "strings_to_urls": False}},
    ) as writer:
        frame.to_excel(writer, sheet_name="Products", index=False)
    mapping_path.parent.mkdir(parents=True, exist_ok=True)
    mapping_path.write_text(DEMO_MAPPING, encoding="utf-8")


def live_demo_items(sb: Sandbox) -> list[dict[str, Any]]:
    from csvsync.webflow.client import ClientOptions, WebflowClient

    with WebflowClient(ClientOptions(api_base=sb.base_url, token=DEMO_TOKEN)) as client:
        return list(
            client.iter_items_live(
                demo_seed.DEMO_COLLECTION_ID, cms_locale_ids=list(demo_seed.LOCALES.values())
            )
        )


def run_demo(workdir: Path, echo: Callable[[str], None], render: Callable[[RunResult], str]) -> int:
    """Sandbox + sample data + plan + sync + a second sync that sends nothing.

    ``echo`` prints a line; ``render`` turns a run's result into text (the shell's choice)."""
    from csvsync.ops.sync import plan, sync

    workdir.mkdir(parents=True, exist_ok=True)
    state = workdir / ".csvsync"
    if state.exists():
        shutil.rmtree(state)  # a new sandbox each time: an old cache would describe another one
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN)) as sb:
        echo(f"Sandbox (a local Webflow emulator) serving {sb.base_url}")
        mapping = workdir / "products.yaml"
        write_samples(workdir, mapping, live_demo_items(sb))
        sheet = workdir / "products.xlsx"
        echo(f"Sample sheet {sheet}, mapping {mapping}")
        options = RunOptions(mapping=mapping, api_base=sb.base_url, token=DEMO_TOKEN, sheet=sheet)
        echo("\n== csvsync plan (dry run) ==")
        echo(render(plan(options)))
        echo("\n== csvsync sync ==")
        first = sync(options)
        echo(render(first))
        echo("\n== csvsync sync again (nothing changed, so nothing is sent) ==")
        second = sync(options)
        echo(render(second))
        echo(f"\nResults workbooks are in {workdir.resolve()}")
        return max(first.exit_code, second.exit_code)


def serve_demo(
    workdir: Path, echo: Callable[[str], None], page: Callable[[Path, str, str], None]
) -> None:
    """The sandbox and the sample data, then ``page(mappings folder, API base, token)`` (the
    editor's page, which serves until interrupted), then the sandbox stops."""
    workdir.mkdir(parents=True, exist_ok=True)
    state = workdir / "mappings" / ".csvsync"
    if state.exists():
        shutil.rmtree(state)  # a new sandbox each time
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN)) as sb:
        echo(f"Sandbox (a local Webflow emulator) serving {sb.base_url}")
        mapping = workdir / "mappings" / "products.yaml"
        mapping.parent.mkdir(exist_ok=True)
        write_samples(workdir, mapping, live_demo_items(sb))
        echo(f"Sample sheets to upload: {workdir / 'products.xlsx'} and {workdir / 'products.csv'}")
        page(mapping.parent, sb.base_url, DEMO_TOKEN)


def regenerate_samples(root: Path) -> None:
    """Rewrite ``sample_data/products.*`` and ``mappings/demo-products.yaml`` under ``root``."""
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN)) as sb:
        write_samples(
            root / "sample_data", root / "mappings" / "demo-products.yaml", live_demo_items(sb)
        )


if __name__ == "__main__":  # python -m csvsync.ops.demo: refresh the committed sample files
    regenerate_samples(Path.cwd())

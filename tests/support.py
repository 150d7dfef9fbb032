"""Shared helpers for the pipeline tests: a demo sandbox workspace and a CLI runner."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from click.testing import CliRunner, Result

from csvsync.cli import cli
from csvsync.ops.demo import DEMO_MAPPING, DEMO_TOKEN, live_demo_items, sample_frame
from csvsync.sandbox import Sandbox

# Every Webflow field type the converters write, listed here (not read from the product) so
# that a converter dropped by mistake fails its tests.
ALL_TYPES = [
    "PlainText",
    "RichText",
    "Email",
    "Phone",
    "Link",
    "VideoLink",
    "Color",
    "Image",
    "File",
    "MultiImage",
    "Number",
    "Switch",
    "DateTime",
    "Option",
    "Reference",
    "MultiReference",
]


@dataclass
class Workspace:
    """A demo-seeded sandbox with an unedited export of it as sheet and mapping."""

    sb: Sandbox
    dir: Path
    mapping: Path
    frame: pd.DataFrame

    @property
    def env(self) -> dict[str, str]:
        return {"CSVSYNC_API_BASE": self.sb.base_url, "WEBFLOW_API_TOKEN": DEMO_TOKEN}

    def write_sheet(self, frame: pd.DataFrame | None = None, name: str = "products.csv") -> Path:
        path = self.dir / name
        frame = self.frame if frame is None else frame
        if name.endswith(".csv"):
            frame.to_csv(path, index=False)
        else:
            with pd.ExcelWriter(
                path,
                engine="xlsxwriter",
                engine_kwargs={"options": {"strings_to_formulas": False, "strings_to_urls": False}},
            ) as w:
                frame.to_excel(w, sheet_name="Products", index=False)
        return path

    def run(self, *args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(cli, [str(a) for a in args], env={**self.env, **(env or {})})

    def writes(self) -> list[dict[str, Any]]:
        return [e for e in self.sb.log() if e["method"] in ("PATCH", "POST", "DELETE")]

    def live(self, item_id: str, locale: str) -> dict[str, Any]:
        from csvsync.webflow import ClientOptions, WebflowClient

        with WebflowClient(ClientOptions(api_base=self.sb.base_url, token=DEMO_TOKEN)) as c:
            items = list(c.iter_items_live("64f0c0ffee0000000000bbbb", cms_locale_ids=[locale]))
        return next(it for it in items if it["id"] == item_id)["fieldData"]


def make_workspace(sb: Sandbox, tmp_path: Path) -> Workspace:
    mapping = tmp_path / "products.yaml"
    mapping.write_text(DEMO_MAPPING, encoding="utf-8")
    frame = sample_frame(live_demo_items(sb), edits=False)
    return Workspace(sb, tmp_path, mapping, frame)


BULK_COLLECTION_ID = "64f0c0ffee0000000000eeee"


def seed_bulk(sb: Sandbox, items: int, tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    """A collection of ``items`` items in the demo site's three locales, and a mapping for it.

    Returns the mapping path and the matching wide sheet frame (Item ID, Name, Name [fr], ...).
    """
    from csvsync.sandbox.seed import DEMO_SITE_ID, LOCALES
    from csvsync.sandbox.store import NewItem

    sb.store.create_collection(
        DEMO_SITE_ID,
        {
            "displayName": "Bulk",
            "singularName": "Bulk item",
            "fields": [{"type": "PlainText", "displayName": "Summary"}],
        },
        collection_id=BULK_COLLECTION_ID,
    )
    new = []
    for n in range(items):
        new.append(
            NewItem(
                field_data={
                    loc: {
                        "name": f"Item {n} {tag}",
                        "slug": f"item-{n}-{tag.lower()}",
                        "summary": f"Summary {n} {tag}",
                    }
                    for tag, loc in LOCALES.items()
                },
                is_draft=False,
                item_id=f"64f0c0ffee{0xE00000 + n:014x}",
            )
        )
    ids = sb.store.seed_items(BULK_COLLECTION_ID, new, live=True, when="2024-06-01T12:00:00.000Z")
    mapping = tmp_path / "bulk.yaml"
    mapping.write_text(
        f"site: {DEMO_SITE_ID}\ncollection: {BULK_COLLECTION_ID}\nkey: {{column: Item ID}}\n"
        "locales: {en: '{column}', fr: '{column} [fr]', de: '{column} [de]'}\n"
        "fields:\n  summary: {column: Summary, localized: true}\n",
        encoding="utf-8",
    )
    frame = pd.DataFrame(
        {
            "Item ID": ids,
            "Summary": [f"Summary {n} en" for n in range(items)],
            "Summary [fr]": [f"Summary {n} fr-FR" for n in range(items)],
            "Summary [de]": [f"Summary {n} de-DE" for n in range(items)],
        }
    )
    return mapping, frame


def read_rows(path: Path) -> pd.DataFrame:
    """The Rows sheet of a results workbook, read back with openpyxl, blanks as ""."""
    frame = pd.read_excel(path, sheet_name="Rows", engine="openpyxl")
    # where(), not fillna(): no dtype downcasting warnings on pandas 2 or 3.
    return frame.astype(object).where(frame.notna(), "")

"""``csvsync export``: the live items as a sheet that ``plan`` reads back with zero changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from support import Workspace, make_workspace

from csvsync.convert.to_api import api_key, convert_column
from csvsync.convert.to_sheet import CellMaker, RefNames
from csvsync.models import FieldOptions, RefTarget, SchemaField
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import (
    DEMO_COLLECTION_ID,
    DEMO_SITE_ID,
    LOCALE_DE,
    LOCALE_EN,
    LOCALE_FR,
    product_id,
)
from csvsync.sheets.read import read_sheet
from csvsync.sheets.write import write_table
from csvsync.webflow import ClientOptions, WebflowClient

# A long layout with other options than the demo mapping: no date_format (typed dates in XLSX,
# ISO text in CSV) in a zone with daylight saving, a decimal comma, Switch without words,
# references by name and by id, another list separator, empty: clear.
LONG_MAPPING = f"""\
site: "{DEMO_SITE_ID}"
collection: "{DEMO_COLLECTION_ID}"
sheet: Products
key: {{column: Item ID}}
layout: long
locale_column: Locale
locales: [en, fr, de]
empty: clear
timezone: Europe/Berlin
separator: "|"
decimal: ","
fields:
  name: {{column: Name, localized: true}}
  slug: {{column: Slug, localized: true}}
  summary: {{column: Summary, localized: true}}
  description: {{column: Description, localized: true}}
  price: Price
  stock: Stock
  launch-date: Launch date
  featured: Featured
  color: Color
  category: Category
  author: {{column: Author, by: name}}
  related-authors: {{column: Related authors, by: id}}
  website: Website
  contact-email: Email
  phone: Phone
  video: Video
  image: Image
  gallery: Gallery
  brochure: Brochure
"""


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    opts = SandboxOptions(seed="demo", token="sandbox-token", rate_limit=100_000)
    with Sandbox(opts) as sb:
        yield make_workspace(sb, tmp_path)


def set_live(ws: Workspace, item: str, locale: str, **field_data: Any) -> None:
    """Change an item in the sandbox as an editor in Webflow would."""
    opts = ClientOptions(api_base=ws.sb.base_url, token="sandbox-token")
    with WebflowClient(opts) as client:
        client.update_items_live(
            DEMO_COLLECTION_ID, [{"id": item, "cmsLocaleId": locale, "fieldData": field_data}]
        )


def set_everywhere(ws: Workspace, item: str, **field_data: Any) -> None:
    """A non-text field is one value for the item: an editor's change, in every locale."""
    for locale in (LOCALE_EN, LOCALE_FR, LOCALE_DE):
        set_live(ws, item, locale, **field_data)


def awkward_values(ws: Workspace) -> None:
    """Values that only survive a round trip when the export takes care."""
    set_live(ws, product_id(1), LOCALE_EN, summary="'=already quoted")
    set_everywhere(ws, product_id(1), price=0.30000000000000004)
    set_live(ws, product_id(2), LOCALE_FR, summary="-12 €", description="<p>a\r\nb  </p>")
    # 02:30 in Berlin twice on 2024-10-27: this is the second time, in winter time.
    set_everywhere(ws, product_id(3), **{"launch-date": "2024-10-27T01:30:00.250Z"})
    set_everywhere(ws, product_id(4), **{"launch-date": "1850-06-01T11:00:00.000Z"})
    set_everywhere(ws, product_id(5), **{"launch-date": "2024-05-01T13:45:10.123Z"})
    set_everywhere(ws, product_id(6), phone="+49 30 1234", price=-4.5, stock=0)


def export(ws: Workspace, mapping: Path, out: Path) -> None:
    res = ws.run("export", "-m", mapping, out)
    assert res.exit_code == 0, res.output
    assert out.exists()


def assert_zero_changes(ws: Workspace, sheet: Path, mapping: Path, variants: int = 900) -> None:
    ws.sb.clear_log()
    res = ws.run("plan", sheet, "-m", mapping, "--results", ws.dir / "plan.xlsx")
    assert res.exit_code == 0, res.output
    assert f"Rows x locales: {variants} unchanged" in res.output, res.output
    assert "A sync would send 0 write request(s)" in res.output
    assert ws.writes() == []


@pytest.mark.parametrize(
    ("suffix", "layout"),
    [("xlsx", "wide"), ("csv", "wide"), ("xlsx", "long"), ("csv", "long")],
)
@pytest.mark.slow
def test_export_then_plan_finds_no_change(ws: Workspace, suffix: str, layout: str) -> None:
    awkward_values(ws)
    mapping = ws.mapping
    if layout == "long":
        mapping = ws.dir / "long.yaml"
        mapping.write_text(LONG_MAPPING, encoding="utf-8")
    out = ws.dir / f"export.{suffix}"
    export(ws, mapping, out)
    assert_zero_changes(ws, out, mapping)


def test_long_export_has_a_row_per_item_and_locale(ws: Workspace) -> None:
    mapping = ws.dir / "long.yaml"
    mapping.write_text(LONG_MAPPING, encoding="utf-8")
    set_live(ws, product_id(1), LOCALE_EN, price=1234.5)
    out = ws.dir / "long.csv"
    export(ws, mapping, out)
    frame = read_sheet(out).frame
    assert len(frame) == 900
    assert list(frame.columns[:3]) == ["Item ID", "Locale", "Name"]
    first = frame[frame["Item ID"] == product_id(1)]
    assert first["Locale"].tolist() == ["en", "fr", "de"]
    # Decimal comma; a non-text field is read on every locale's row, each with its own value.
    assert first["Price"].tolist()[0] == "1234,5" and first["Price"].tolist()[1] != ""
    assert "|" in " ".join(frame["Related authors"])  # the mapping's separator, ids (by: id)


def test_wide_export_leaves_cells_of_a_missing_variant_empty(ws: Workspace) -> None:
    opts = ClientOptions(api_base=ws.sb.base_url, token="sandbox-token")
    with WebflowClient(opts) as client:  # unpublish the German variant of product 7
        client.delete_items_live(
            DEMO_COLLECTION_ID, [{"id": product_id(7), "cmsLocaleIds": [LOCALE_DE]}]
        )
    out = ws.dir / "wide.csv"
    export(ws, ws.mapping, out)
    row = read_sheet(out).frame.set_index("Item ID").loc[product_id(7)]
    assert row["Name [de]"] == "" and row["Name [fr]"] != ""
    res = ws.run("plan", out, "-m", ws.mapping, "--results", ws.dir / "p.xlsx")
    assert "A sync would send 0 write request(s)" in res.output, res.output
    # The German cells are empty, so nothing is asked of the missing variant: not a problem.
    assert "Rows x locales: 900 unchanged" in res.output, res.output
    assert res.exit_code == 0


def test_csv_escapes_a_formula_and_plan_reads_it_back(ws: Workspace) -> None:
    set_live(ws, product_id(1), LOCALE_EN, summary="=1+1")
    out = ws.dir / "items.csv"
    export(ws, ws.mapping, out)
    raw = out.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")  # plain UTF-8, no BOM
    text = raw.decode("utf-8")
    assert ",'=1+1," in text and ",=1+1," not in text
    frame = read_sheet(out).frame.set_index("Item ID")
    assert frame.loc[product_id(1), "Summary"] == "=1+1"
    assert_zero_changes(ws, out, ws.mapping)


@pytest.mark.slow
def test_xlsx_cells_are_typed_and_text_is_never_a_formula(ws: Workspace) -> None:
    set_live(ws, product_id(1), LOCALE_EN, summary="=1+1")
    mapping = ws.dir / "long.yaml"
    mapping.write_text(LONG_MAPPING, encoding="utf-8")
    out = ws.dir / "items.xlsx"
    export(ws, mapping, out)
    book = openpyxl.load_workbook(out)
    sheet = book["Products"]  # the mapping's sheet name
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(sheet.max_column)}901"
    header = [c.value for c in sheet[1]]
    first = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == product_id(1))
    row = {name: cell for name, cell in zip(header, first, strict=True)}
    assert row["Item ID"].value == product_id(1) and row["Item ID"].data_type == "s"
    assert row["Price"].data_type == "n" and isinstance(row["Price"].value, float)
    assert row["Stock"].data_type == "n"
    assert row["Featured"].data_type == "b"
    assert isinstance(row["Launch date"].value, dt.datetime)
    assert row["Name"].data_type == "s"
    assert row["Summary"].value == "=1+1" and row["Summary"].data_type == "s"
    assert sheet.column_dimensions["A"].width >= 24  # fits a 24-character item id


def test_export_writes_option_names_and_reference_slugs(ws: Workspace) -> None:
    out = ws.dir / "items.csv"
    export(ws, ws.mapping, out)
    frame = read_sheet(out).frame.set_index("Item ID")
    assert set(frame["Category"]) <= {"Home", "Office", "Outdoor", "Kitchen"}
    assert frame.loc[product_id(1), "Category"] == "Home"
    assert frame.loc[product_id(1), "Author"] == "radia-perlman"  # author_id(10)
    assert frame.loc[product_id(1), "Related authors"] == "ada-lovelace;frances-allen;grace-hopper"
    assert set(frame["Featured"]) == {"Ja", "Nein"}  # the mapping's first true/false words
    assert frame.loc[product_id(1), "Launch date"] == "2023-08-17"  # the mapping's date_format
    assert frame.index.tolist()[:2] == [product_id(23), product_id(58)]  # by primary slug


def test_export_refuses_an_unknown_file_type(ws: Workspace) -> None:
    res = ws.run("export", "-m", ws.mapping, ws.dir / "items.ods")
    assert res.exit_code == 2
    assert "Error:" in res.output and ".xlsx or .csv" in res.output


# -- exportcells without a server: cell -> file -> reader -> converter gives the live key ------

A1, A2 = "64f0c0ffee000000000c0001", "64f0c0ffee000000000c0002"
# A2's slug is A1's id: with no `by`, ids are looked up first, so A2 must be written as its id.
AUTHORS = RefTarget(
    ids=frozenset({A1, A2}), by_slug={"ada": A1, A1: A2}, by_name={"ada lovelace": A1}
)
REF_NAMES = RefNames(AUTHORS, slugs={A1: "ada", A2: A1}, names={A1: "Ada Lovelace"})
# "home" reads back as the first option named so, and a blank name reads as nothing.
OPTIONS = {
    "options": [
        {"name": "Home", "id": "a1"},
        {"name": "home", "id": "a2"},
        {"name": " ", "id": "a3"},
    ]
}
CASES: list[tuple[str, dict[str, Any], FieldOptions, list[Any]]] = [
    ("PlainText", {}, FieldOptions(), ["'=x", "''+y", "@me", "  spaced  ", "a\nb", "12", "TRUE"]),
    ("Number", {}, FieldOptions(decimal=","), [0.1 + 0.2, 1e20, -0.5, 12, 123456789.12345678]),
    ("Number", {}, FieldOptions(), [5e-324, -1234.5, 2**60]),
    ("Switch", {}, FieldOptions(true_values=("0",), false_values=("1",)), [True, False]),
    ("Switch", {}, FieldOptions(), [True, False]),
    ("DateTime", {}, FieldOptions(timezone="Europe/Berlin"),
     ["2024-10-27T00:30:00.000Z", "2024-10-27T01:30:00.000Z", "1899-12-31T00:00:00.000Z",
      "2024-03-31T01:00:00.001Z", "2024-05-01T08:30:00+02:00"]),
    ("DateTime", {}, FieldOptions(date_format="%d.%m.%Y %H:%M", timezone="Europe/Berlin"),
     ["2024-05-01T08:30:00.000Z", "2024-01-01T23:59:00.000Z"]),
    ("Option", OPTIONS, FieldOptions(), ["a1", "a2", "a3"]),
    ("Reference", {"collectionId": "c"}, FieldOptions(), [A1, A2]),
    ("Reference", {"collectionId": "c"}, FieldOptions(by="name"), [A1]),
    ("MultiReference", {"collectionId": "c"}, FieldOptions(by="slug"), [[A1, A2]]),
    ("MultiImage", {}, FieldOptions(separator="|"),
     [[{"url": "https://h/x.jpg"}, {"url": "https://h/y.jpg"}]]),
    ("Image", {}, FieldOptions(), [{"url": "https://cdn/hosted.jpg"}]),
]  # fmt: skip


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
@pytest.mark.parametrize(("kind", "rules", "options", "values"), CASES)
def test_every_cell_reads_back_as_its_live_key(
    tmp_path: Path,
    suffix: str,
    kind: str,
    rules: dict[str, Any],
    options: FieldOptions,
    values: list[Any],
) -> None:
    field = SchemaField("f", kind, "F", validations=rules)
    maker = CellMaker(
        field,
        options,
        xlsx=suffix == "xlsx",
        refs=REF_NAMES,
        file_sources={"https://cdn/hosted.jpg": "https://origin/photo.jpg"},
    )
    cells = [maker.cell(v) for v in values]
    path = tmp_path / f"t.{suffix}"
    write_table(path, ["F"], [[c] for c in cells], "Items")
    column = read_sheet(path).frame["F"]
    conv = convert_column(field, options, column, {"c": AUTHORS})
    assert conv.errors.isna().all(), conv.errors.tolist()
    expected = [api_key(field, v) for v in values]
    if kind == "Image":
        expected = ["https://origin/photo.jpg"]  # the URL the sheet sent, as the cache keys it
    assert conv.keys.tolist() == expected
    assert not maker.problems


def test_values_no_cell_can_carry_are_reported() -> None:
    field = SchemaField("d", "DateTime", "D")
    maker = CellMaker(field, FieldOptions(date_format="%d.%m.%Y %H:%M"), xlsx=False)
    assert maker.cell("2024-05-01T08:30:45.000Z") == "01.05.2024 08:30"
    assert maker.problems  # seconds the format cannot show


def test_csv_text_is_plain_utf8_and_excel_text_limits_are_refused(tmp_path: Path) -> None:
    from csvsync.errors import SheetError

    with pytest.raises(SheetError, match="32,767"):
        write_table(tmp_path / "big.xlsx", ["F"], [["x" * 40_000]], "Items")
    assert not list(tmp_path.iterdir())  # nothing half-written
    write_table(tmp_path / "big.csv", ["F"], [["x" * 40_000]], "Items")
    assert read_sheet(tmp_path / "big.csv").frame["F"].iat[0] == "x" * 40_000


def test_a_locale_holding_another_price_is_noted_and_brought_in_line(ws: Workspace) -> None:
    set_live(ws, product_id(8), LOCALE_FR, price=1.25)  # an editor's French-only price
    out = ws.dir / "export.csv"
    res = ws.run("export", "-m", ws.mapping, out)
    assert res.exit_code == 0, res.output
    assert "column 'Price' (one value for every locale): 1 item(s)" in res.output
    plan = ws.run("plan", out, "-m", ws.mapping)
    assert "1 would update" in plan.output and "1.25" in plan.output, plan.output

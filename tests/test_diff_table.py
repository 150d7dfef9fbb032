"""The diff's decision table, one case per row: a cell of the sheet against its base (the value
sheet and live last agreed on) and its live value, under each ``--on-conflict``, for empty cells
(``empty: skip`` / ``clear``) and for dates given without a time.

No sandbox and no CLI. Each case is one item of one small sheet and cache, built the way a run
builds them: ``load_mapping`` and ``resolve``, the sheet read from CSV, ``build_drafts``, and
the SQLite cache filled by two pulls (the first sees the base, the second the live value, which
is how the two come apart). ``diff.compute`` then runs once per ``--on-conflict`` mode for all
cases together, so the whole table costs a few diffs.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from csvsync.mapping.mapping import ResolvedMapping, load_mapping, resolve
from csvsync.models import Locale, SchemaField
from csvsync.pipeline import diff
from csvsync.pipeline.drafts import build_drafts
from csvsync.pipeline.stateview import StateView
from csvsync.sheets.read import read_sheet
from csvsync.state.cache import State

UPDATE, CONFLICT, DRIFT = diff.UPDATE, diff.CONFLICT, diff.DRIFT
LOCALE = "64f0c0ffee00000000000e01"
MAPPING = """\
site: 64f0c0ffee0000000000aaaa
collection: 64f0c0ffee0000000000bbbb
key: {column: Item ID}
locales: {en: "{column}"}
fields:
  name: Name
  slug: Slug
  summary: Summary
  note: {column: Note, empty: clear}
  launch: {column: Launch, timezone: Europe/Paris}
"""
SCHEMA = [
    SchemaField("name", "PlainText", "Name", required=True),
    SchemaField("slug", "PlainText", "Slug", required=True),
    SchemaField("summary", "PlainText", "Summary"),
    SchemaField("note", "PlainText", "Note"),
    SchemaField("launch", "DateTime", "Launch"),
]
COLUMNS = {"summary": "Summary", "note": "Note", "launch": "Launch"}
# What sheet, base and live agree on in the fields a case leaves alone.
AGREED = {"summary": "old", "note": "old", "launch": "2024-01-01T12:00:00.000Z"}

MAR5 = "2024-03-05T14:30:00.000Z"  # 15:30 in Paris
MAR5_LATE = "2024-03-05T23:30:00.000Z"  # 00:30 on 6 March in Paris
MAR7 = "2024-03-07T09:00:00.000Z"

# A case's inputs are what the first pull saw of the field (the base), what the second saw
# (live; None: empty) and the sheet's cell; it expects the change the diff reports for the field
# ("": none; the item-variant's outcome is that, or "unchanged") and whether the base moves to
# live (sheet and live agree now, or keep-live adopts live).

# fmt: off
RULES = [  # field "summary"; an update sends the sheet's cell
    # id                                        mode         base   live    sheet  kind      moves
    ("nothing changed",                        "report",    "old", "old",  "old", "",       False),
    ("the sheet changed it",                   "report",    "old", "old",  "new", UPDATE,   False),
    ("both changed it alike",                  "report",    "old", "new",  "new", "",       True),
    ("an editor changed it in Webflow",        "report",    "old", "live", "old", DRIFT,    False),
    ("both changed it differently",            "report",    "old", "live", "new", CONFLICT, False),
    ("overwrite: the sheet changed it",        "overwrite", "old", "old",  "new", UPDATE,   False),
    ("overwrite: both changed it alike",       "overwrite", "old", "new",  "new", "",       True),
    ("overwrite: an editor changed it",        "overwrite", "old", "live", "old", UPDATE,   False),
    ("overwrite: both changed it differently", "overwrite", "old", "live", "new", UPDATE,   False),
    ("keep-live: the sheet changed it",        "keep-live", "old", "old",  "new", UPDATE,   False),
    ("keep-live: both changed it alike",       "keep-live", "old", "new",  "new", "",       True),
    ("keep-live: an editor changed it",        "keep-live", "old", "live", "old", "",       True),
    ("keep-live: both changed it differently", "keep-live", "old", "live", "new", "",       True),
]

EMPTY = [  # an empty cell; summary is "empty: skip", note "empty: clear" (an update sends null)
    # id                                       field      base   live    kind      moves
    ("skip: asks nothing",                     "summary", "old", "old",  "",       False),
    ("skip: leaves an editor's change alone",  "summary", "old", "live", "",       False),
    ("clear: clears the field",                "note",    "old", "old",  UPDATE,   False),
    ("clear: the field is empty already",      "note",    None,  None,   "",       False),
    ("clear: an editor emptied it as well",    "note",    "old", None,   "",       True),
    ("clear: an editor changed it",            "note",    "old", "live", CONFLICT, False),
]

DATES = [  # field "launch", zone Europe/Paris: a date without a time compares by the local date
    # id                                 base       live       sheet               kind      moves
    ("the same date",                    MAR5,      MAR5,      "2024-03-05",       "",       False),
    ("the same date in Paris",           MAR5_LATE, MAR5_LATE, "2024-03-06",       "",       False),
    ("an editor moved the date",         MAR5,      MAR7,      "2024-03-05",       DRIFT,    False),
    ("both moved it alike",              MAR5,      MAR7,      "2024-03-07",       "",       True),
    ("both moved it differently",        MAR5,      MAR7,      "2024-03-06",       CONFLICT, False),
    ("with a time: the same instant",    MAR5,      MAR5,      "2024-03-05 15:30", "",       False),
]

DATE_UPDATES = [  # field "launch", base = live: what the update sends
    # id                                 base=live  sheet               sent
    ("a new date: midnight in Paris",    MAR5,      "2024-03-06",       "2024-03-05T23:00:00.000Z"),
    ("the UTC date is not Paris's",      MAR5_LATE, "2024-03-05",       "2024-03-04T23:00:00.000Z"),
    ("no base: midnight in Paris",       None,      "2024-03-06",       "2024-03-05T23:00:00.000Z"),
    ("with a time: that instant",        MAR5,      "2024-03-05 10:00", "2024-03-05T09:00:00.000Z"),
]
# fmt: on


@dataclass(frozen=True)
class Cell:
    """What one case puts to the diff: its field as each pull saw it, the sheet's cell, and the
    ``--on-conflict`` mode. Every case is one item of the table's sheet and cache."""

    field: str
    base: str | None
    live: str | None
    sheet: str
    mode: str = "report"


CELLS = list(
    dict.fromkeys(
        [
            *(Cell("summary", b, lv, s, mode) for _, mode, b, lv, s, _, _ in RULES),
            *(Cell(f, b, lv, "") for _, f, b, lv, _, _ in EMPTY),
            *(Cell("launch", b, lv, s) for _, b, lv, s, _, _ in DATES),
            *(Cell("launch", b, b, s) for _, b, s, _ in DATE_UPDATES),
        ]
    )
)
ITEM_OF = {cell: n for n, cell in enumerate(CELLS)}


def item_id(n: int) -> str:
    return f"64f0c0ffee0000000000{n:04x}"


@dataclass(frozen=True)
class Result:
    kind: str  # the change reported for the cell's field ("": none)
    outcome: str  # the item-variant's
    message: str
    moved: bool  # the field's base moves to live
    sent: Any  # what an update sends (None when there is no change)


@dataclass
class Table:
    """The diff of every cell, one per ``--on-conflict`` mode."""

    diffs: dict[str, diff.Diff]

    def result(self, cell: Cell) -> Result:
        n = ITEM_OF[cell]
        d = self.diffs[cell.mode]
        variant = d.variants[d.variants["item_id"] == item_id(n)].iloc[0]
        mine = d.changes[d.changes["item_id"] == item_id(n)]
        # The item's other fields agree everywhere: only the case's own field is in question.
        assert set(mine["field"]) <= {cell.field}, mine
        kind = str(mine["kind"].iloc[0]) if len(mine) else ""
        sent = mine["value"].iloc[0] if len(mine) else None
        moved = (item_id(n), LOCALE, cell.field) in d.base_moves
        return Result(kind, str(variant["outcome"]), str(variant["message"] or ""), moved, sent)


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Table:
    root = tmp_path_factory.mktemp("diff_table")
    (root / "products.yaml").write_text(MAPPING, encoding="utf-8")
    resolved = resolve(
        load_mapping(root / "products.yaml"), [Locale(LOCALE, "en", "English", True)], SCHEMA
    )
    sheet_path = root / "products.csv"
    with sheet_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["Item ID", "Name", "Slug", *COLUMNS.values()])
        writer.writeheader()
        writer.writerows(sheet_row(n, cell) for n, cell in enumerate(CELLS))
    state = State(root / "state.db")
    try:
        scope = state.scope("https://api.webflow.test/v2", "64f0c0ffee0000000000bbbb")
        # A known variant keeps its base when pulled again: the second pull moves live only.
        pull(state, scope, lambda cell: cell.base)
        pull(state, scope, lambda cell: cell.live)
        diffs = {}
        for mode in ("report", "overwrite", "keep-live"):
            drafts = build_drafts(resolved, read_sheet(sheet_path), {}, [])
            diffs[mode] = diff.compute(drafts, resolved, view(state, scope, resolved), mode)
    finally:
        state.close()
    return Table(diffs)


def sheet_row(n: int, cell: Cell) -> dict[str, str]:
    row = {"Item ID": item_id(n), "Name": f"Item {n}", "Slug": f"item-{n}"}
    row.update({COLUMNS[f]: value for f, value in AGREED.items()})
    row[COLUMNS[cell.field]] = cell.sheet
    return row


def pull(state: State, scope: int, seen: Callable[[Cell], str | None]) -> None:
    items = [
        {
            "id": item_id(n),
            "cmsLocaleId": LOCALE,
            "fieldData": {
                "name": f"Item {n}",
                "slug": f"item-{n}",
                **AGREED,
                cell.field: seen(cell),
            },
        }
        for n, cell in enumerate(CELLS)
    ]
    state.apply_live(scope, SCHEMA, items, primary_locale=LOCALE)


def view(state: State, scope: int, resolved: ResolvedMapping) -> StateView:
    """The cache as ``ops.sync`` reads it."""
    text_fields = sorted({"name", "slug", resolved.mapping.key_field or "slug"})
    return StateView(
        load_hashes=lambda: state.load_hashes(scope),
        load_texts=lambda: state.load_texts(scope, text_fields),
        load_variants=lambda: state.load_variants(scope),
        cell_texts=lambda keys: state.cell_texts(scope, keys),
        item_names=lambda: state.item_names(scope),
    )


def params(rows: list[tuple[Any, ...]]) -> list[Any]:
    return [pytest.param(*row[1:], id=row[0]) for row in rows]


@pytest.mark.parametrize(("mode", "base", "live", "sheet", "kind", "moves"), params(RULES))
def test_the_rules(
    table: Table, mode: str, base: str, live: str, sheet: str, kind: str, moves: bool
) -> None:
    got = table.result(Cell("summary", base, live, sheet, mode))
    assert (got.kind, got.outcome, got.moved) == (kind, kind or "unchanged", moves)
    if kind == UPDATE:
        assert got.sent == sheet
    if kind in (DRIFT, CONFLICT):
        assert f"summary: changed in Webflow to '{live}'" in got.message


@pytest.mark.parametrize(("field", "base", "live", "kind", "moves"), params(EMPTY))
def test_empty_cells(
    table: Table, field: str, base: str | None, live: str | None, kind: str, moves: bool
) -> None:
    got = table.result(Cell(field, base, live, ""))
    assert (got.kind, got.outcome, got.moved) == (kind, kind or "unchanged", moves)
    if kind == UPDATE:
        assert got.sent is None


@pytest.mark.parametrize(("base", "live", "sheet", "kind", "moves"), params(DATES))
def test_dates(table: Table, base: str, live: str, sheet: str, kind: str, moves: bool) -> None:
    got = table.result(Cell("launch", base, live, sheet))
    assert (got.kind, got.outcome, got.moved) == (kind, kind or "unchanged", moves)


@pytest.mark.parametrize(("base", "sheet", "sent"), params(DATE_UPDATES))
def test_date_updates(table: Table, base: str | None, sheet: str, sent: str) -> None:
    got = table.result(Cell("launch", base, base, sheet))
    assert (got.kind, got.outcome, got.moved, got.sent) == (UPDATE, UPDATE, False, sent)

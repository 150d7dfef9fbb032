"""Diff + push outcomes -> the frames of the results workbook: ``Rows`` and ``Changes``, and,
with the sheet as read attached (:class:`Source`), ``Problems`` (one line per problem, with the
cell, the reason and how to fix it) and ``Rows to fix`` (the failed rows in the sheet's columns).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from csvsync import outcomes as words
from csvsync.mapping.mapping import ResolvedMapping
from csvsync.outcomes import Outcome
from csvsync.pipeline.diff import CONFLICT, DRIFT, NEW, UPDATE, Diff
from csvsync.pipeline.missing import Unpublish
from csvsync.pipeline.stateview import StateView
from csvsync.sheets.results import CHANGES_COLUMNS, FIX_SHEET, PROBLEMS_COLUMNS, ROWS_COLUMNS

PLAN_LABELS = {
    UPDATE: Outcome.WOULD_UPDATE.value,
    NEW: Outcome.WOULD_CREATE.value,
    Outcome.REPUBLISH.value: Outcome.WOULD_PUBLISH.value,
}


_AGAIN = f"correct it in the '{FIX_SHEET}' sheet, then sync that sheet (as it is, or as CSV)"
# What a person does about each problem; the reason itself is the run's message.
FIXES: dict[str, str] = {
    Outcome.INVALID: f"The cell cannot be sent as it is: {_AGAIN}.",
    Outcome.FAILED: f"Webflow refused it: {_AGAIN}; if the value is right, sync it again later.",
    Outcome.NOT_FOUND: "Check the item id against Webflow (deleted, unpublished or from another "
    f"collection?); empty the id cell in the '{FIX_SHEET}' sheet to create the item anew.",
    Outcome.CONFLICT: "Changed in Webflow and in the sheet: put the value to keep in the sheet, "
    "then sync with --on-conflict overwrite (the sheet wins) or keep-live (Webflow wins).",
    Outcome.DRIFT: "Someone edited it in Webflow and the sheet was not changed: nothing is lost; "
    "export again (csvsync export) to bring the sheet up to date.",
    Outcome.NOT_SENT: f"The run stopped before this was sent: sync the '{FIX_SHEET}' sheet "
    "(or the whole sheet) again.",
    Outcome.NOT_LIVE: "Unpublished or archived in Webflow, so nothing was sent: publish it there "
    "first, or drop the row.",
    Outcome.CHANGED_SINCE: "Edited after the run, so the revert left it: change it by hand if "
    "the old value is still wanted.",
}


@dataclass(frozen=True)
class Source:
    """The sheet as read, for the lines a person fixes: its cells by source row number, and
    which column holds each field in each locale."""

    frame: pd.DataFrame  # header names as columns, source row numbers as the index
    key_column: str
    columns: dict[str, dict[str, str]]  # locale tag -> field slug -> sheet column
    _leads: dict[str, list[tuple[str, str]]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, frame: pd.DataFrame, resolved: ResolvedMapping) -> Source:
        return cls(
            frame,
            resolved.key_column_name(),
            {loc.tag: resolved.columns_for(key, loc) for key, loc in resolved.locales},
        )

    def cell(self, row: Any, column: str | None) -> Any:
        if column is None or row is None or pd.isna(row) or column not in self.frame.columns:
            return ""
        try:
            value = self.frame.at[int(row), column]
        except (KeyError, ValueError):
            return ""
        return "" if value is None or (isinstance(value, float) and np.isnan(value)) else value

    def parts(self, message: str, tag: str) -> list[tuple[str | None, str]]:
        """A message as (sheet column, reason) parts: the drafts join a row's cell errors with
        "; ", each led by ``column 'C': `` (or a field slug, in Webflow's and the diff's)."""
        leads = self._leads.get(tag)
        if leads is None:
            leads = [(f"column '{c}': ", str(c)) for c in self.frame.columns]
            leads += [(f"{slug}: ", col) for slug, col in self.columns.get(tag, {}).items()]
            leads.sort(key=lambda lead: -len(lead[0]))  # "name [fr]: " before "name: "
            self._leads[tag] = leads
        starts: list[tuple[int, int, str]] = []  # (where the part starts, its lead's length, col)
        at = 0
        while at != -1:
            hit = next(((len(t), c) for t, c in leads if message.startswith(t, at)), None)
            if hit is not None:
                starts.append((at, *hit))
            nxt = message.find("; ", at)
            at = nxt + 2 if nxt != -1 else -1
        if not starts or starts[0][0] != 0:
            starts.insert(0, (0, 0, ""))
        out: list[tuple[str | None, str]] = []
        for n, (begin, lead, column) in enumerate(starts):
            end = starts[n + 1][0] - 2 if n + 1 < len(starts) else len(message)
            out.append((column or None, message[begin + lead : end]))
        return out


@dataclass
class Report:
    """One line per (row, locale) in ``rows``; one per changed field in ``changes``; with a
    ``source``, the ``problems`` and the ``rows_to_fix`` of the workbook."""

    rows: pd.DataFrame
    changes: pd.DataFrame
    source: Source | None = None

    def attach_source(self, frame: pd.DataFrame, resolved: ResolvedMapping) -> None:
        """Keep the sheet as read, for the Problems and Rows to fix sheets."""
        self.source = Source.of(frame, resolved)

    def problems(self) -> pd.DataFrame:
        """One line per problem (``PROBLEMS_COLUMNS``): where it is, the cell, why, and what to
        do. The same problem in several locales (a shared column, an item id) is one line
        naming them all, under the first locale's item name."""
        rows = self.rows
        lines: dict[tuple[Any, ...], list[Any]] = {}
        src = self.source
        for rec in rows[_having(rows, words.is_problem)].itertuples(index=False):
            row = None if rec.row is None or pd.isna(rec.row) else int(rec.row)
            message = str(rec.message or "")
            outcome = _word(str(rec.outcome))
            for column, reason in src.parts(message, rec.locale) if src else [(None, message)]:
                if column is None and src is not None and outcome == Outcome.NOT_FOUND:
                    column = src.key_column  # the id is the cell to look at
                value = src.cell(row, column) if src else ""
                # Not by item: a variant's name differs by locale, the cell to correct does not.
                key = (row, outcome, column, str(value), reason)
                if key in lines:
                    lines[key][2].append(rec.locale)
                    continue
                item = self._item_label(rec, row)
                fix = FIXES.get(outcome, "")
                lines[key] = [row, item, [rec.locale], outcome, column or "", value, reason, fix]
        out = [[*line[:2], ", ".join(map(str, line[2])), *line[3:]] for line in lines.values()]
        return pd.DataFrame(out, columns=PROBLEMS_COLUMNS, dtype=object)

    def rows_to_fix(self) -> pd.DataFrame | None:
        """The sheet's rows with an outcome that fails the run, in its own columns and as read;
        None without a source."""
        if self.source is None:
            return None
        rows = self.rows[_having(self.rows, words.fails)]
        failing = {int(r) for r in rows["row"].tolist() if r is not None and not pd.isna(r)}
        frame = self.source.frame
        return frame.loc[[r for r in frame.index if r in failing]]

    def _item_label(self, rec: Any, row: int | None) -> str:
        """The item's name; a new item (no id yet) by its name cell, else its id cell."""
        if rec.item:
            return str(rec.item)
        src = self.source
        if src is not None:
            name = src.cell(row, src.columns.get(rec.locale, {}).get("name"))
            if name != "":
                return str(name)
            if not rec.item_id:
                key = src.cell(row, src.key_column)
                if key != "":
                    return str(key)
        return str(rec.item_id or "")

    @classmethod
    def empty(cls) -> Report:
        return cls(pd.DataFrame(columns=ROWS_COLUMNS), pd.DataFrame(columns=CHANGES_COLUMNS))

    def prepend_unpublish(self, gone: Unpublish, command: str) -> None:
        """Items no row names come first: the most consequential lines of a plan."""
        rows = []
        for item in gone.item_ids:
            outcome, message = gone.outcomes.get(
                item,
                (
                    Outcome.WOULD_UNPUBLISH if command == "plan" else Outcome.NOT_SENT,
                    "no row of the sheet names this item",
                ),
            )
            rows.append(
                {
                    "row": None,
                    "item_id": item,
                    "item": gone.names.get(item, ""),
                    "locale": "all",
                    "outcome": outcome,
                    "changed_fields": "",
                    "message": message,
                }
            )
        extra = pd.DataFrame(rows, columns=ROWS_COLUMNS)
        self.rows = pd.concat([extra, self.rows], ignore_index=True)

    def counts(self) -> dict[str, int]:
        if self.rows.empty:
            return {}
        return {str(k): int(v) for k, v in self.rows["outcome"].value_counts().items()}


Display = Callable[[str, Any], Any]  # (field slug, API value) -> what the sheet would show


def _as_is(field: str, value: Any) -> Any:
    del field
    return value


def build_report(
    view: StateView,
    tags: dict[str, str],
    d: Diff,
    outcomes: dict[tuple[int, str], tuple[str, str]],
    command: str,
    old: dict[tuple[str, str, str], Any],
    display: Display = _as_is,
) -> Report:
    """Label outcomes for ``command`` and attach item names, locale tags and old values.

    ``tags``: cmsLocaleId -> locale tag. Item names the sheet does not give come from ``view``.

    ``display`` turns API values into what the sheet would show (an option's name, not its
    id), so old and new read in the sheet's own terms."""
    v = d.variants
    item_names = _names(view, v)
    outcome = _relabelled(v["outcome"]) if command == "plan" else v["outcome"].copy()
    message = v["message"].astype(object)
    if command == "sync":
        outcome = outcome.where(outcome != UPDATE, Outcome.UPDATED.value)
        if outcomes:
            keys = list(zip(v["row"], v["locale_id"], strict=True))
            got = [outcomes.get(k) for k in keys]
            outcome = pd.Series(
                [str(g[0]) if g else o for g, o in zip(got, outcome, strict=True)], index=v.index
            )
            message = pd.Series(
                [g[1] if g and g[1] else m for g, m in zip(got, message, strict=True)],
                index=v.index,
            )
    rows = pd.DataFrame(
        {
            "row": v["row"].to_numpy(),
            "item_id": v["item_id"].fillna("").to_numpy(),
            "item": item_names,
            "locale": v["locale_tag"].to_numpy(),
            "outcome": outcome.to_numpy(),
            "changed_fields": v.get("fields", pd.Series("", index=v.index)).fillna("").to_numpy(),
            "message": message.where(message.notna(), "").to_numpy(),
        }
    ).sort_values(["row"], kind="stable")
    changes = _changes(d, outcome.to_numpy(), tags, item_names, command, old, display)
    return Report(rows[ROWS_COLUMNS].reset_index(drop=True), changes)


def _relabelled(outcome: pd.Series) -> pd.Series:
    """The plan's words for the outcomes: each distinct outcome looked up once."""
    codes, uniques = pd.factorize(outcome.to_numpy(dtype=object))
    words = np.array([PLAN_LABELS.get(u, u) for u in uniques], dtype=object)
    return pd.Series(words[codes], index=outcome.index, dtype=object)


def _names(view: StateView, v: pd.DataFrame) -> np.ndarray:
    """Each variant's live name: the diff's (the sheet's name cell, where it equals live),
    else the cache's."""
    names = (
        v["item_name"].to_numpy(dtype=object).copy()
        if "item_name" in v
        else np.full(len(v), None, dtype=object)
    )
    items = v["item_id"].to_numpy(dtype=object)
    named = pd.notna(items)  # an item id is text or missing (None)
    need = np.flatnonzero(pd.isna(names) & named)
    if len(need) > len(v) // 10:
        cached = view.item_names()  # one scan beats a join for most rows
        locs = v["locale_id"].to_numpy(dtype=object)
        names[need] = [cached.get((items[i], locs[i]), "") for i in need]
    elif len(need):
        keys = [(items[i], v.at[i, "locale_id"], "name") for i in need]
        texts = view.cell_texts(keys)
        names[need] = [texts.get(k, ("", ""))[0] for k in keys]
    names[pd.isna(names)] = ""
    return names


def _changes(
    d: Diff,
    outcomes: np.ndarray,
    tags: dict[str, str],
    names: np.ndarray,
    command: str,
    old: dict[tuple[str, str, str], Any],
    display: Display,
) -> pd.DataFrame:
    c = d.changes
    if c.empty:
        return pd.DataFrame(columns=CHANGES_COLUMNS)
    out_rows = []
    clean = (Outcome.WOULD_UPDATE if command == "plan" else Outcome.UPDATED).value
    # Plain arrays, not itertuples: a text column of pandas 3 yields its cells one call each.
    columns = [c[name].to_numpy(dtype=object) for name in
               ("row", "item_id", "locale_id", "field", "value", "kind", "vidx")]  # fmt: skip
    for row, item, loc, fld, value, kind, vi in zip(*columns, strict=True):
        if kind == UPDATE:
            label = outcomes[vi]  # the variant's outcome, by its line in d.variants
            if label in (CONFLICT, DRIFT):
                label = clean  # a variant with both conflicts and clean updates: these go
        else:
            label = kind
        out_rows.append(
            (
                row,
                item,
                names[vi],
                tags.get(loc, loc),
                fld,
                display(fld, old.get((item, loc, fld))),
                display(fld, value),
                label,
            )
        )
    frame = pd.DataFrame(out_rows, columns=CHANGES_COLUMNS)
    # Old and new mix texts, numbers, lists and None: pandas 3 would infer a string column for
    # mostly-text values and turn each None (an empty old value) into NaN, shown as "NaN".
    for at, name in ((5, "old"), (6, "new")):
        frame[name] = pd.Series([line[at] for line in out_rows], dtype=object)
    return frame.sort_values("row", kind="stable").reset_index(drop=True)


def _having(rows: pd.DataFrame, test: Callable[[object], bool]) -> pd.Series:
    """Which rows have an outcome that passes ``test``: asked once per distinct outcome (a few),
    not per row (a bulk load has 100,000; this runs inside the workbook's timed write)."""
    outcome = rows["outcome"]
    return outcome.isin([o for o in outcome.unique() if test(o)])


def _word(outcome: str) -> str:
    """An outcome word as the table spells it (read leniently, as ``outcomes.row_of`` does)."""
    key = outcome.strip().lower().replace("_", " ").replace("-", " ")
    return next((o.value for o in Outcome if o.value == key), key)

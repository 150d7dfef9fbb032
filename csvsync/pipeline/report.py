"""Diff + push outcomes -> the ``Rows`` and ``Changes`` frames of the results workbook."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from csvsync.outcomes import Outcome
from csvsync.pipeline.diff import CONFLICT, DRIFT, NEW, UPDATE, Diff
from csvsync.pipeline.missing import Unpublish
from csvsync.pipeline.stateview import StateView
from csvsync.sheets.results import CHANGES_COLUMNS, ROWS_COLUMNS

PLAN_LABELS = {
    UPDATE: Outcome.WOULD_UPDATE.value,
    NEW: Outcome.WOULD_CREATE.value,
    Outcome.REPUBLISH.value: Outcome.WOULD_PUBLISH.value,
}


@dataclass
class Report:
    """One line per (row, locale) in ``rows``; one per changed field in ``changes``."""

    rows: pd.DataFrame
    changes: pd.DataFrame

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
    outcome = v["outcome"].replace(PLAN_LABELS) if command == "plan" else v["outcome"].copy()
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


def _names(view: StateView, v: pd.DataFrame) -> np.ndarray:
    """Each variant's live name: the diff's (the sheet's name cell, where it equals live),
    else the cache's."""
    names = (
        v["item_name"].to_numpy(dtype=object).copy()
        if "item_name" in v
        else np.full(len(v), None, dtype=object)
    )
    items = v["item_id"].to_numpy(dtype=object)
    named = np.array([isinstance(i, str) for i in items], dtype=bool)
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
    for rec in c.itertuples(index=False):
        tag = tags.get(rec.locale_id, rec.locale_id)
        if rec.kind == UPDATE:
            label = outcomes[rec.vidx]  # the variant's outcome, by its line in d.variants
            if label in (CONFLICT, DRIFT):
                # A variant with both conflicts and clean updates: the clean ones go.
                label = (Outcome.WOULD_UPDATE if command == "plan" else Outcome.UPDATED).value
        else:
            label = rec.kind
        out_rows.append(
            (
                rec.row,
                rec.item_id,
                names[rec.vidx],
                tag,
                rec.field,
                display(rec.field, old.get((rec.item_id, rec.locale_id, rec.field))),
                display(rec.field, rec.value),
                label,
            )
        )
    frame = pd.DataFrame(out_rows, columns=CHANGES_COLUMNS)
    return frame.sort_values("row", kind="stable").reset_index(drop=True)

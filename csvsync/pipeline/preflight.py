"""Checks across rows, before any write request: slugs (format, unique per locale within the
sheet and against the live items in the cache) and required fields an empty cell would clear.

Per-cell checks (numbers, options, references, lengths) live in ``convert/to_api.py``; these
need the whole sheet and the cache. A failed check makes its row-locale ``invalid`` with a reason a
person can act on; the other rows go.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from csvsync.mapping.mapping import ResolvedMapping
from csvsync.models import SchemaField
from csvsync.outcomes import Outcome
from csvsync.pipeline.drafts import Drafts
from csvsync.pipeline.stateview import StateView

SLUG_PATTERN = r"[a-z0-9]+(?:[-_][a-z0-9]+)*"


def check(v: pd.DataFrame, drafts: Drafts, state: StateView, resolved: ResolvedMapping) -> None:
    """Mark rows of ``v`` (existing items and new ones) invalid where a cross-row check fails."""
    ok = v["outcome"].isin(["", Outcome.CREATE.value]).to_numpy()
    cells = drafts.cells
    if not ok.any() or cells.empty:
        return
    problems: Problems = {}
    keys = cells["key"].to_numpy()
    required = [b.map.slug for b in resolved.bindings if b.schema.required]
    cleared = _mine(v, drafts, _at(drafts, ok, required), lambda at: keys[at] == "")
    _required(problems, cleared, resolved)
    new = v["outcome"] == Outcome.CREATE.value
    if new.any():
        needed = _needed_for_new(resolved)
        given = _at(drafts, new.to_numpy(), [f.slug for f in needed])
        _new_items(problems, v, new, _mine(v, drafts, given), resolved)
    _slugs(problems, _changing_slugs(v, drafts, ok, state), state, resolved)
    if not problems:
        return
    # One pass over the variants, however many problems: a sheet of bad slugs stays linear.
    rows = list(zip(v["row"], v["locale_id"], strict=True))
    found = pd.Series([problems.get(k) for k in rows], index=v.index, dtype=object)
    hit = ok & found.notna().to_numpy()
    v.loc[hit, "outcome"] = Outcome.INVALID.value
    v.loc[hit, "message"] = found[hit]


def _at(drafts: Drafts, ok: np.ndarray, fields: list[str]) -> np.ndarray:
    """Positions of the cells of these fields in the variants ``ok`` selects."""
    codes = [drafts.fields.index(f) for f in fields if f in drafts.fields]
    cells = drafts.cells
    return np.flatnonzero(np.isin(cells["fpos"].to_numpy(), codes) & ok[cells["vidx"].to_numpy()])


def _mine(
    v: pd.DataFrame,
    drafts: Drafts,
    at: np.ndarray,
    keep: Callable[[np.ndarray], np.ndarray] | None = None,
) -> pd.DataFrame:
    """The cells at positions ``at`` (those ``keep`` keeps) with their item ids: filtered on
    arrays first, so only the cells a check reports are copied into a frame."""
    if keep is not None and len(at):
        at = at[keep(at)]
    mine = drafts.cells.iloc[at].copy()
    mine["item_id"] = v["item_id"].to_numpy()[mine["vidx"].to_numpy()]
    return mine


def _changing_slugs(
    v: pd.DataFrame, drafts: Drafts, ok: np.ndarray, state: StateView
) -> pd.DataFrame:
    """Slug cells that differ from their variant's live slug, and new items' slugs.

    A slug its variant already has live is valid and unique (Webflow holds it): comparing
    hashes drops those without reading a single cached slug, so a sheet that keeps its slugs
    costs no text at all.
    """
    hashes = drafts.cells["key_hash"].to_numpy()
    vidx = drafts.cells["vidx"].to_numpy()
    vkeys = v["vkey"].to_numpy()

    def changing(at: np.ndarray) -> np.ndarray:
        pos = state.hashes.lookup(vkeys[vidx[at]], "slug")
        hit = pos >= 0
        same = np.zeros(len(at), dtype=bool)
        if hit.any():  # an empty cache (a first import into a new collection) has none
            same[hit] = hashes[at[hit]] == state.hashes.live[pos[hit]]
        return ~same

    return _mine(v, drafts, _at(drafts, ok, ["slug"]), changing)


Problems = dict[tuple[int, str], str]


def _invalidate(problems: Problems, row: int, locale_id: str, message: str) -> None:
    problems.setdefault((row, locale_id), message)


def _required(v: Problems, mine: pd.DataFrame, resolved: ResolvedMapping) -> None:
    required = {b.map.slug: b for b in resolved.bindings if b.schema.required}
    cleared = mine[mine["field"].isin(list(required)) & (mine["key"] == "")]
    for rec in cleared.itertuples(index=False):
        b = required[rec.field]
        _invalidate(
            v,
            rec.row,
            rec.locale_id,
            f"column '{rec.column}': {b.schema.display_name} is required in Webflow, "
            "so an empty cell cannot clear it",
        )


def _needed_for_new(resolved: ResolvedMapping) -> list[SchemaField]:
    """The fields a new item must have a value for: name, slug and every required field."""
    return [f for f in resolved.schema if f.required or f.slug in ("name", "slug")]


def _new_items(
    problems: Problems,
    v: pd.DataFrame,
    new: pd.Series,
    mine: pd.DataFrame,
    resolved: ResolvedMapping,
) -> None:
    """A new item needs a value for name, slug and every required field in the primary locale
    (Webflow refuses the create otherwise), and a valid primary-locale variant: without it, its
    translations have nothing to be created with, so they are not sent either."""
    primary = resolved.primary.cms_locale_id
    needed = _needed_for_new(resolved)
    mapped = {b.map.slug: b.map.column for b in resolved.bindings}
    given = mine[(mine["locale_id"] == primary) & (mine["key"] != "")]
    have = {(row, f) for row, f in zip(given["row"], given["field"], strict=True)}
    groups = v["group"]
    for key, group in v[new].groupby("group", sort=False):
        heads = group.loc[group["locale_id"] == primary, "row"]
        if not len(heads):
            message = _primary_problem(v[(groups == key) & (v["locale_id"] == primary)], resolved)
            if message is None:
                continue  # no primary row at all: the long layout's own check says so
        else:
            head = int(heads.iloc[0])
            lacking = [f for f in needed if (head, f.slug) not in have]
            if not lacking:
                continue
            message = _lacking_message(lacking, mapped)
        for row, loc in zip(group["row"], group["locale_id"], strict=True):
            _invalidate(problems, row, loc, message)


def _primary_problem(heads: pd.DataFrame, resolved: ResolvedMapping) -> str | None:
    """Why a new item's translations are not sent: its primary-locale variant is refused."""
    if heads.empty:
        return None
    head = heads.iloc[0]
    return (
        f"not created: its {resolved.primary.tag} variant (row {head['row']}) is "
        f"{head['outcome']}: {head['message']}"
    )


def _lacking_message(lacking: list[SchemaField], mapped: dict[str, str]) -> str:
    parts = []
    for f in lacking:
        column = mapped.get(f.slug)
        where = f"column '{column}' is empty" if column else "the mapping has no column for it"
        parts.append(f"{f.display_name or f.slug} ({where})")
    return (
        "a new item needs a value in the primary locale for "
        + ", ".join(parts)
        + ": Webflow requires "
        + ("it" if len(parts) == 1 else "them")
    )


def _slugs(
    problems: Problems, slugs: pd.DataFrame, state: StateView, resolved: ResolvedMapping
) -> None:
    if slugs.empty:
        return
    state_cells = state.texts
    live = state_cells[(state_cells["field"] == "slug") & (state_cells["live_key"] != "")]
    live = live[live["live_key"].isin(set(slugs["key"]))]
    names = {loc.cms_locale_id: loc.display_name or loc.tag for _, loc in resolved.locales}
    bad = ~slugs["key"].astype(str).str.fullmatch(SLUG_PATTERN)
    for rec in slugs[bad].itertuples(index=False):
        _invalidate(
            problems,
            rec.row,
            rec.locale_id,
            f"column '{rec.column}': slug '{rec.key}' is not valid: use lowercase "
            "letters, digits and hyphens (e.g. 'blue-chair-2')",
        )
    owner = dict(
        zip(zip(live["locale_id"], live["live_key"], strict=True), live["item_id"], strict=True)
    )
    good = slugs[~bad].copy()
    # Of several rows asking for one slug, the item that holds it live keeps it; else the first.
    good["holder"] = [
        owner.get((loc, key)) == item
        for loc, key, item in zip(good["locale_id"], good["key"], good["item_id"], strict=True)
    ]
    good = good.sort_values(["holder", "row"], ascending=[False, True], kind="stable")
    dup = good.duplicated(subset=["locale_id", "key"], keep="first")
    kept_row = good[~dup].set_index(["locale_id", "key"])["row"]
    for rec in good[dup].itertuples(index=False):
        _invalidate(
            problems,
            rec.row,
            rec.locale_id,
            f"column '{rec.column}': slug '{rec.key}' is also set by row "
            f"{kept_row[(rec.locale_id, rec.key)]} in {names.get(rec.locale_id, '')}",
        )
    good = good[~dup]
    # A live slug stays taken unless this sheet gives its own variant another slug.
    moving = {(item, loc) for item, loc in zip(good["item_id"], good["locale_id"], strict=True)}
    named = state_cells[state_cells["field"] == "name"]
    item_names = dict(
        zip(zip(named["item_id"], named["locale_id"], strict=True), named["live_key"], strict=True)
    )
    for rec in good.itertuples(index=False):
        other = owner.get((rec.locale_id, rec.key))
        if other and other != rec.item_id and (other, rec.locale_id) not in moving:
            label = item_names.get((other, rec.locale_id)) or other
            _invalidate(
                problems,
                rec.row,
                rec.locale_id,
                f"column '{rec.column}': slug '{rec.key}' is already used by item "
                f"'{label}' in {names.get(rec.locale_id, '')}",
            )

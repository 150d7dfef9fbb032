"""Pure: drafts vs the state's base and live keys -> per-field changes and per-variant outcomes.

Per field, with the base (what sheet and live last agreed on), live and sheet keys:

=========================  ==============================================  ================
sheet / live vs base       meaning                                         outcome
=========================  ==============================================  ================
s = b, l = b               nothing happened                                unchanged
s ≠ b, l = b               the sheet changed it                            update
l = s (any b)              both agree already; the base moves to it        unchanged
s = b, l ≠ b               an editor changed it in Webflow                 changed in Webflow
s ≠ b, l ≠ b, s ≠ l        both changed it differently                     conflict
=========================  ==============================================  ================

``on_conflict="overwrite"`` writes the sheet in the last two cases; ``"keep-live"`` adopts live as
the new base and *holds* the sheet's value: while the sheet still has it, it counts as equal to
the base, so no later run puts back the value the editor replaced (a sheet edited since is a
change again). The functions here do no I/O.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from csvsync.mapping.mapping import ResolvedMapping
from csvsync.outcomes import Outcome
from csvsync.pipeline import preflight
from csvsync.pipeline.drafts import Drafts, id_problem
from csvsync.pipeline.hashing import EMPTY_HASH, field_hashes, key_hashes, variant_keys
from csvsync.pipeline.stateview import StateView

# The diff's verdicts, as plain strings: they fill whole columns of its frames.
UPDATE, CONFLICT, DRIFT = Outcome.UPDATE.value, Outcome.CONFLICT.value, Outcome.DRIFT.value
NEW = Outcome.CREATE.value  # a row that names no existing item
REPUBLISH = Outcome.REPUBLISH.value
ANY_CASE_ID = r"[0-9a-fA-F]{24}"  # what ``id_problem`` accepts: an item id, in either case


@dataclass
class Diff:
    """The result: ``variants`` (one line per row and locale, with ``outcome`` and ``message``),
    ``changes`` (one line per field to write or to report) and the bases to move."""

    variants: pd.DataFrame
    changes: pd.DataFrame
    base_moves: list[tuple[str, str, str]] = field(default_factory=list)
    # keep-live: (item, locale, field, the sheet's key hash) of the cells where live was kept
    holds: list[tuple[str, str, str, int]] = field(default_factory=list)
    creates: pd.DataFrame | None = None  # the cells of rows that are new items
    republish: pd.DataFrame | None = None  # the cells of variants csvsync unpublished, back

    def updates(self) -> pd.DataFrame:
        return self.changes[self.changes["kind"] == UPDATE]


def resolve_items(drafts: Drafts, resolved: ResolvedMapping, state: StateView) -> pd.DataFrame:
    """Give every valid variant its item id and ``vkey``, or an outcome of ``invalid`` /
    ``not found`` / ``create``."""
    v = drafts.variants.copy()
    v["outcome"] = np.where(v["error"].notna(), Outcome.INVALID.value, "")
    v["message"] = v["error"]
    m = resolved.mapping
    ok = v["outcome"] == ""
    primary = resolved.primary.cms_locale_id
    # The rows of one new item: its row (wide) ...
    v["group"] = pd.Series([str(r) for r in v["row"].tolist()], index=v.index, dtype=object)
    if m.key_column:
        empty = ok & (v["key_text"] == "")
        if m.layout == "long":
            # ... or, in the long layout, its primary-locale slug: the translation rows of a
            # new item carry that slug in the key column, since it has no id yet.
            own = v["row"].map(_primary_slugs(drafts, primary))
            is_primary = v["locale_id"] == primary
            new_primary = ok & is_primary & own.notna() & (empty | (v["key_text"] == own))
            slugs = set(own[new_primary])
            new_secondary = ok & ~is_primary & v["key_text"].isin(slugs)
            v.loc[new_primary, "group"] = own[new_primary]
            v.loc[new_secondary, "group"] = v.loc[new_secondary, "key_text"]
            empty = empty | new_primary | new_secondary
        v.loc[empty, "outcome"] = NEW  # an empty id cell is a new item
        ok = ok & ~empty
        uniq = pd.Series(pd.unique(v.loc[ok, "key_text"]), dtype=object)
        # Most keys are ids: only the others are asked what is wrong with them.
        odd = uniq[~uniq.str.fullmatch(ANY_CASE_ID).fillna(False).astype(bool)]
        problems = {t: id_problem(t) for t in odd}
        prob = (
            v["key_text"].map(problems)
            if problems
            else pd.Series(None, index=v.index, dtype=object)
        )
        bad = ok & prob.notna()
        if bad.any():
            v.loc[bad, "outcome"] = Outcome.INVALID.value
            v.loc[bad, "message"] = f"column '{m.key_column}': " + prob[bad].astype(str)
        good = ok & prob.isna()
        codes, uniques = pd.factorize(v.loc[good, "key_text"].to_numpy(dtype=object))
        lowered = np.array([u.lower() for u in uniques], dtype=object)  # once per item
        v.loc[good, "item_id"] = lowered[codes]
    else:
        state_cells = state.texts
        sel = state_cells[state_cells["field"] == m.key_field]
        if m.layout == "wide":  # the key cell holds the primary-locale value on every row
            sel = sel[sel["locale_id"] == resolved.primary.cms_locale_id]
            keys = v["key_text"]
            lookup = dict(zip(sel["live_key"], sel["item_id"], strict=False))
        else:  # a long row holds the value of its own locale
            keys = v["locale_id"] + "\x1f" + v["key_text"].astype(str)
            lookup = dict(
                zip(sel["locale_id"] + "\x1f" + sel["live_key"], sel["item_id"], strict=False)
            )
        found = keys.map(lookup)
        miss = ok & found.isna()
        if m.key_create:
            v.loc[miss, "outcome"] = NEW  # matches no item: a new item, as asked
        elif miss.any():
            _not_found_keys(v, miss, sel, resolved)
        v.loc[ok & found.notna(), "item_id"] = found[ok & found.notna()]
    _match_new_by_slug(v, drafts, state, resolved)
    has = v["item_id"].notna().to_numpy()
    vkeys = np.zeros(len(v), dtype=np.int64)
    vkeys[has] = variant_keys(v.loc[has, "item_id"], v.loc[has, "locale_id"])
    v["vkey"] = vkeys
    asked = np.zeros(len(v), dtype=bool)
    cells = drafts.cells
    # A secondary locale is asked for by its own columns: a non-text field's one column that
    # goes to every locale by default does not ask for a variant Webflow does not have.
    spread = [drafts.fields.index(b.map.slug) for b in resolved.bindings if b.map.default_all]
    cell_vidx = cells["vidx"].to_numpy()
    if spread:  # integer codes and per-variant flags: a 900,000-cell sheet stays cheap
        secondary = (v["locale_id"] != primary).to_numpy()[cell_vidx]
        own = ~(np.isin(cells["fpos"].to_numpy(), spread) & secondary)
        asked[cell_vidx[own]] = True
    else:
        asked[cell_vidx] = True
    _mark_missing_variants(v, state, asked)
    _mark_duplicates(v, drafts)
    return v


CLOSE_LOOKUPS = 200  # rows given a "did you mean": each scans every key of the collection


def _not_found_keys(
    v: pd.DataFrame, miss: pd.Series, sel: pd.DataFrame, resolved: ResolvedMapping
) -> None:
    """Rows whose key value no item has, without ``create``: ``not found``, with the nearest
    existing value (a typo in a slug must not create an item)."""
    m = resolved.mapping
    by_locale: dict[str, list[str]] = {}
    for loc, key in zip(sel["locale_id"], sel["live_key"], strict=True):
        by_locale.setdefault(loc, []).append(str(key))
    primary = resolved.primary.cms_locale_id
    for n, i in enumerate(v.index[miss]):
        value = str(v.at[i, "key_text"])
        text = f"no item has {m.key_field} '{value}'"
        loc = primary if m.layout == "wide" else v.at[i, "locale_id"]
        close = (
            difflib.get_close_matches(value, by_locale.get(loc, []), n=1, cutoff=0.6)
            if n < CLOSE_LOOKUPS and value
            else []
        )
        if close:
            text += f" (did you mean '{close[0]}'?)"
        text += (
            "; to create new items from such rows, add 'create: true' under key in the "
            "mapping, or pass --create"
        )
        v.at[i, "outcome"] = Outcome.NOT_FOUND.value
        v.at[i, "message"] = text


def _primary_slugs(drafts: Drafts, primary: str) -> dict[int, str]:
    """Sheet row -> the slug it gives in the primary locale."""
    cells = drafts.cells
    slugs = cells[(cells["field"] == "slug") & (cells["locale_id"] == primary)]
    return dict(zip(slugs["row"], slugs["key"], strict=False))


def _match_new_by_slug(
    v: pd.DataFrame, drafts: Drafts, state: StateView, resolved: ResolvedMapping
) -> None:
    """A new item whose primary slug a live item already has updates that item instead."""
    new = v["outcome"] == NEW
    if not new.any():
        return
    primary = resolved.primary.cms_locale_id
    row_slug = _primary_slugs(drafts, primary)
    slugs = set(row_slug.values())
    # A group named by a slug is that slug; a group named by its row takes the row's slug.
    group_slug = v.loc[new, "group"].where(
        v.loc[new, "group"].isin(slugs), v.loc[new, "row"].map(row_slug)
    )
    state_cells = state.texts
    live = state_cells[(state_cells["field"] == "slug") & (state_cells["locale_id"] == primary)]
    owner = dict(zip(live["live_key"], live["item_id"], strict=False))
    off = state.offline
    if len(off):  # an item taken offline still owns its slug (its staged version has it)
        off = off[(off["locale_id"] == primary) & off["slug"].notna()]
        owner.update(zip(off["slug"], off["item_id"], strict=False))
    found = group_slug.map(owner)
    hit = found.notna()
    if hit.any():
        idx = found.index[hit]
        v.loc[idx, "item_id"] = found[hit]
        v.loc[idx, "outcome"] = ""
    if resolved.mapping.layout == "long":
        lone = (
            (v["outcome"] == NEW)
            & (v["locale_id"] != primary)
            & (v["group"] == v["row"].astype(str))
        )
        v.loc[lone, "outcome"] = Outcome.INVALID.value
        v.loc[lone, "message"] = (
            f"a new item's translation row: put the item's {resolved.primary.tag} slug in the "
            f"'{resolved.key_column_name()}' column, or its id once it exists (--write-back)"
        )


def _mark_missing_variants(v: pd.DataFrame, state: StateView, asked: np.ndarray) -> None:
    """Variants Webflow does not have live are ``not found``; where the sheet's cells for
    that locale are all empty, nothing was asked of it, so it is ``unchanged``."""
    ok = (v["outcome"] == "").to_numpy()
    if not ok.any():
        return
    missing = ok & (state.hashes.rows(v["vkey"].to_numpy()) < 0)
    if not missing.any():
        return
    items = set(state.variants["item_id"])  # only now: a sheet of known variants never asks
    off = state.offline
    offline = {
        (i, loc): (reason, since, run)
        for i, loc, reason, since, run in zip(
            off["item_id"], off["locale_id"], off["reason"], off["since"], off["run_id"],
            strict=True,
        )
    }  # fmt: skip
    for i in np.flatnonzero(missing):
        item, tag = v.at[i, "item_id"], v.at[i, "locale_tag"]
        gone = offline.get((item, v.at[i, "locale_id"]))
        if gone is not None:
            reason, since, run = gone
            if reason == "csvsync":
                v.at[i, "outcome"] = Outcome.REPUBLISH.value
                v.at[i, "message"] = (
                    f"unpublished by csvsync (run {run}); its row is back: published again "
                    "with the sheet's values"
                )
            else:
                v.at[i, "outcome"] = Outcome.NOT_LIVE.value
                v.at[i, "message"] = not_live_message(since)
            continue
        if not asked[i] and item in items:
            v.at[i, "outcome"] = Outcome.UNCHANGED.value
            v.at[i, "message"] = f"no live variant in {tag}, and no values for it in the sheet"
            continue
        v.at[i, "outcome"] = Outcome.NOT_FOUND.value
        v.at[i, "message"] = (
            f"item {item} has no live variant in {tag}"
            if item in items
            else f"item {item} is not live in this collection (if it is a draft that was "
            "never published, write it with --target staged --publish)"
        )


def not_live_message(since: str | None) -> str:
    """What a row of an item an editor unpublished (or archived) says, and what to do."""
    when = f" (seen {since[:10]})" if since else ""
    return (
        f"unpublished or archived in Webflow{when}: nothing is sent for it. To update it, "
        "publish the item in Webflow and run again (or write it with --target staged --publish)"
    )


def _mark_duplicates(v: pd.DataFrame, drafts: Drafts) -> None:
    """Rows that name the same item and locale. With the same values, the first is applied
    and the others are ``invalid`` duplicates; with different values, none is applied, since
    csvsync cannot know which row the editor meant."""
    at = np.flatnonzero((v["outcome"] == "").to_numpy() & v["item_id"].notna().to_numpy())
    # By vkey, the (item, locale) pair's integer: no hashing of 100,000 text pairs.
    twice = pd.Series(v["vkey"].to_numpy()[at]).duplicated(keep=False).to_numpy()
    if not twice.any():
        return
    dup = pd.Series(False, index=v.index)
    dup.iloc[at[twice]] = True
    cells = drafts.cells
    mine = cells[np.isin(cells["vidx"].to_numpy(), v.index[dup].to_numpy())]
    values: dict[int, dict[str, str]] = {}
    for vidx, fld, key in zip(mine["vidx"], mine["field"], mine["key"], strict=True):
        values.setdefault(int(vidx), {})[str(fld)] = str(key)
    for (item, _), group in v[dup].groupby(["item_id", "locale_id"], sort=False):
        labels = list(group.index)
        rows = [int(r) for r in group["row"]]
        tag = group["locale_tag"].iloc[0]
        first = values.get(labels[0], {})
        differ = sorted(
            {f for lb in labels[1:] for f in set(first) | set(values.get(lb, {}))
             if values.get(lb, {}).get(f) != first.get(f)}
        )  # fmt: skip
        if differ:
            others = ", ".join(str(r) for r in rows)
            for label in labels:
                v.at[label, "outcome"] = Outcome.INVALID.value
                v.at[label, "message"] = (
                    f"rows {others} all set item {item} in {tag}, with different values "
                    f"({', '.join(differ)}): none is applied; keep one row for it"
                )
            continue
        for label in labels[1:]:
            v.at[label, "outcome"] = Outcome.INVALID.value
            v.at[label, "message"] = f"duplicate: row {rows[0]} already sets item {item} in {tag}"


def compute(
    drafts: Drafts,
    resolved: ResolvedMapping,
    state: StateView,
    on_conflict: str = "report",
) -> Diff:
    """Compare drafts with the state; see the module docstring for the rules.

    Column-wise on integers: every cell of a valid variant gets its live and base hash by
    ``vkey`` lookup, field by field; only cells where sheet, live and base do not all agree
    (a few percent in a typical sync) become a frame for the rules below.
    """
    v = resolve_items(drafts, resolved, state)
    preflight.check(v, drafts, state, resolved)
    cells = drafts.cells
    ok = (v["outcome"] == "").to_numpy()
    vidx_all = cells["vidx"].to_numpy()
    idx = np.flatnonzero(ok[vidx_all])
    vidx = vidx_all[idx]
    live, base = _state_hashes(state, v["vkey"].to_numpy(), vidx, cells["fpos"].to_numpy()[idx],
                               drafts.fields)  # fmt: skip
    s = cells["key_hash"].to_numpy()[idx]
    v["item_name"] = _live_names(cells, idx, s, live, drafts.fields, v)
    open_ = (s != base) | (live != base)
    sub = cells.iloc[idx[open_]].copy()
    sub["item_id"] = v["item_id"].to_numpy()[vidx[open_]]
    sub["vkey"] = v["vkey"].to_numpy()[vidx[open_]]
    sub["live_hash"], sub["base_hash"] = live[open_], base[open_]
    changes, base_moves, holds = _classify(sub, s[open_], resolved, state, on_conflict)
    _attach_texts(changes, state)
    set_outcomes(v, changes)
    return Diff(variants=v, changes=changes, base_moves=base_moves, holds=holds,
                creates=_creates(v, cells), republish=_cells_of(v, cells, REPUBLISH))  # fmt: skip


def _state_hashes(
    state: StateView, vkeys: np.ndarray, vidx: np.ndarray, fpos: np.ndarray, fields: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Live and base hash of each (variant ``vidx``, field ``fpos``) cell; the empty value's hash
    where the cache has none (a new field, or a variant the cache has not seen)."""
    live = np.full(len(vidx), EMPTY_HASH, dtype=np.int64)
    base = live.copy()
    h = state.hashes
    by_field = field_hashes(fields)
    codes = np.array([by_field[f] for f in fields], dtype=np.int64)
    pos = h.cell_positions(vkeys, vidx, codes, fpos)
    hit = pos >= 0
    live[hit] = h.live[pos[hit]]
    base[hit] = h.base[pos[hit]]
    return live, base


def _live_names(
    cells: pd.DataFrame,
    idx: np.ndarray,
    s: np.ndarray,
    live: np.ndarray,
    fields: list[str],
    v: pd.DataFrame,
) -> np.ndarray:
    """Each variant's live name where the sheet's name cell equals it (most rows), else None:
    the report reads the rest from the cache."""
    names = np.full(len(v), None, dtype=object)
    if "name" not in fields:
        return names
    same = (cells["fpos"].to_numpy()[idx] == fields.index("name")) & (s == live)
    names[cells["vidx"].to_numpy()[idx[same]]] = cells["key"].to_numpy()[idx[same]]
    return names


def _classify(
    cells: pd.DataFrame,
    s: np.ndarray,
    resolved: ResolvedMapping,
    state: StateView,
    on_conflict: str,
) -> tuple[pd.DataFrame, list[tuple[str, str, str]], list[tuple[str, str, str, int]]]:
    """The rules of the module docstring, on the cells where sheet, live and base differ."""
    b = cells["base_hash"].to_numpy()
    raw = s.copy()  # the sheet's own keys: what a hold remembers (before date alignment)
    if len(cells) and state.held:
        _apply_holds(cells, s, b, state.held)
    if len(cells) and cells["date_only"].any():
        # Only date-only cells that differ from the base need the base's text and time of day.
        differ = cells["date_only"].to_numpy(dtype=bool) & (s != b)
        if differ.any():
            _align_date_only(cells, resolved, state, cells.index[differ])
            s[differ] = key_hashes(cells.loc[differ, "key"])
    live = cells["live_hash"].to_numpy()
    s_eq_b, l_eq_b, s_eq_l = s == b, live == b, s == live
    kind = np.full(len(cells), "", dtype=object)
    kind[~s_eq_b & l_eq_b] = UPDATE
    kind[s_eq_b & ~l_eq_b] = DRIFT
    kind[~s_eq_b & ~l_eq_b & ~s_eq_l] = CONFLICT
    moves_mask = s_eq_l & ~l_eq_b
    if on_conflict == "overwrite":
        kind[(kind == DRIFT) | (kind == CONFLICT)] = UPDATE
    holds: list[tuple[str, str, str, int]] = []
    if on_conflict == "keep-live":
        kept = (kind == DRIFT) | (kind == CONFLICT)
        moves_mask |= kept
        kind[kept] = ""
        at = cells[kept]
        holds = list(zip(at["item_id"], at["locale_id"], at["field"], raw[kept].tolist(),
                         strict=True))  # fmt: skip
    cells["kind"] = kind
    moved = cells[moves_mask]
    base_moves = list(zip(moved["item_id"], moved["locale_id"], moved["field"], strict=True))
    return cells[kind != ""].reset_index(drop=True), base_moves, holds


def _apply_holds(
    cells: pd.DataFrame, s: np.ndarray, b: np.ndarray, held: dict[tuple[str, str, str], int]
) -> None:
    """Where the sheet still holds the value it had when live was kept, it agrees with the
    base (``s`` takes the base's hash in place)."""
    differ = np.flatnonzero(s != b)
    items = cells["item_id"].to_numpy()[differ]
    locs = cells["locale_id"].to_numpy()[differ]
    fields = cells["field"].to_numpy()[differ]
    hits = [
        i
        for i, item, loc, fld in zip(differ.tolist(), items, locs, fields, strict=True)
        if held.get((item, loc, fld)) == int(s[i])
    ]
    if hits:
        s[hits] = b[hits]


def _creates(v: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """The cells of rows that are new items, with the group (item) each belongs to."""
    new = (v["outcome"] == NEW).to_numpy()
    vidx = cells["vidx"].to_numpy()
    mine = cells[new[vidx]].reset_index(drop=True)
    mine["group"] = v["group"].to_numpy()[mine["vidx"].to_numpy()]
    return mine


def _cells_of(v: pd.DataFrame, cells: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """The cells of the variants with ``outcome``, with their item id."""
    hit = (v["outcome"] == outcome).to_numpy()
    vidx = cells["vidx"].to_numpy()
    mine = cells[hit[vidx]].reset_index(drop=True)
    mine["item_id"] = v["item_id"].to_numpy()[mine["vidx"].to_numpy()]
    return mine


def _attach_texts(changes: pd.DataFrame, state: StateView) -> None:
    """Live and base texts for the cells whose message shows them (drift and conflicts)."""
    changes["live_key"] = ""
    changes["base_key"] = ""
    shown = changes.index[changes["kind"] != UPDATE]
    if not len(shown):
        return
    live, base = state.texts_at(changes, shown)
    changes.loc[shown, "live_key"] = live
    changes.loc[shown, "base_key"] = base


def set_outcomes(v: pd.DataFrame, changes: pd.DataFrame) -> None:
    """Each open variant's outcome (its worst field) and the message of its edited fields."""
    pending = (v["outcome"] == "").to_numpy()
    v.loc[pending, "outcome"] = Outcome.UNCHANGED.value
    v["fields"] = ""
    if changes.empty:
        return
    # One pass in plain Python over the changes (a small share of the cells): a groupby over
    # (row, locale) texts costs more than the work.
    fields: dict[int, list[str]] = {}
    worst: dict[int, str] = {}
    notes: dict[int, list[str]] = {}
    rank = {CONFLICT: 0, UPDATE: 1, DRIFT: 2}  # a conflict outranks updates; drift comes last
    for vi, fld, kind in zip(
        changes["vidx"].tolist(), changes["field"].tolist(), changes["kind"].tolist(), strict=True
    ):
        fields.setdefault(vi, []).append(fld)
        if vi not in worst or rank[kind] < rank[worst[vi]]:
            worst[vi] = kind
    for rec in changes[changes["kind"] != UPDATE].itertuples(index=False):
        notes.setdefault(int(rec.vidx), []).append(_conflict_text(rec))
    at = np.fromiter(fields, dtype=np.int64, count=len(fields))
    at = at[pending[at]]
    v.loc[at, "fields"] = [", ".join(fields[i]) for i in at]
    v.loc[at, "outcome"] = [worst[i] for i in at]
    noted = at[[i in notes for i in at]] if len(at) else at
    v.loc[noted, "message"] = ["; ".join(notes[i]) for i in noted]


def _conflict_text(rec: Any) -> str:
    side = getattr(rec, "side", "live")
    if side != "live":  # --target both: an edit in the Designer (the staged item)
        designer = f"in the Designer (staged) to '{_short(rec.staged_key)}'"
        edits = (
            f"changed in Webflow to '{_short(rec.live_key)}' and {designer}"
            if side == "both"
            else f"changed {designer}"
        )
        base = rec.staged_base if side == "staged" else rec.base_key
        if rec.kind == CONFLICT:
            sheet = _short(rec.key)
            return f"{rec.field}: {edits}, and in the sheet to '{sheet}' (was '{_short(base)}')"
        return f"{rec.field}: {edits} (was '{_short(base)}'); the sheet still has the old value"
    if rec.kind == CONFLICT:
        return (
            f"{rec.field}: changed in Webflow to '{_short(rec.live_key)}' and in the "
            f"sheet to '{_short(rec.key)}' (was '{_short(rec.base_key)}')"
        )
    return (
        f"{rec.field}: changed in Webflow to '{_short(rec.live_key)}' "
        f"(was '{_short(rec.base_key)}'); the sheet still has the old value"
    )


def _short(text: object, limit: int = 60) -> str:
    s = str(text)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _align_date_only(
    cells: pd.DataFrame, resolved: ResolvedMapping, state: StateView, labels: pd.Index
) -> None:
    """A date-only cell compares by date in the field's zone: a date that live (or else the
    base) already has takes that value, time of day included, so a sheet that shows dates only
    never wipes a time; a new date is midnight in the field's zone, as the cell was parsed."""
    zones = {b.map.slug: b.map.options.timezone for b in resolved.bindings}
    live, base = state.texts_at(cells, labels)
    known = labels[(live != "").to_numpy() | (base != "").to_numpy()]
    if not len(known):
        return
    fields = cells.loc[known, "field"]
    for fld in pd.unique(fields):
        at = known[(fields == fld).to_numpy()]
        tz = zones.get(str(fld), "UTC")
        # Column-wise: one parse per field and zone, not one per cell.
        sheet_day = _local_dates(cells.loc[at, "key"], tz)
        as_live = (live[at] != "") & (sheet_day == _local_dates(live[at], tz))
        as_base = ~as_live & (base[at] != "") & (sheet_day == _local_dates(base[at], tz))
        cells.loc[at[as_live.to_numpy()], "key"] = live[at][as_live]
        cells.loc[at[as_base.to_numpy()], "key"] = base[at][as_base]


def _local_dates(iso: pd.Series, tz: str) -> pd.Series:
    stamps = pd.to_datetime(iso, utc=True, format="ISO8601", errors="coerce")
    return stamps.dt.tz_convert(tz).dt.strftime("%Y-%m-%d")

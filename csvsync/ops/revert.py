"""``csvsync revert``: put back the values a run replaced, read from the state's journal.

This module owns what a revert means: resolving its target (a run id, a results workbook, or
``last``), the revert plan (which confirmed journal rows to restore, which to skip because the
field changed since the run), pushing it through the same batched PATCH path as ``sync``
(``Pusher`` over ``client.map_in_flight``, the cache written with ``State.apply_confirmed``), and
journaling the revert as a run of its own (command ``revert``) so that it can be reverted too.
It also owns the run history behind ``csvsync revert --list``. It reads the journal, never the
workbook's values: a workbook only names the run.

Rules, per (item, locale, field) of the run's *confirmed* journal rows (a killed run's pending
rows are settled by the refresh first, ``State.settle_pending``: what landed is confirmed):

- live equals what the run wrote: the old value is restored (a null old value clears the field);
- live equals the old value already: ``already reverted`` (nothing sent). So reverting the same
  run twice is harmless, and a revert stopped part-way can simply be run again;
- anything else: ``changed since`` (someone edited it after the run): reported, never written.

Journal markers (rows whose ``field`` is not a field slug): ``__created__`` (the run created and
published the item-variant) and ``__published__`` (a revert published it again) are reverted by
unpublishing; ``__unpublished__`` by publishing again. A variant that is unpublished this way
needs no field restores, so its field rows are folded into the unpublish.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from csvsync.convert.to_api import cleared_value
from csvsync.errors import EXIT_OK, EXIT_ROWS, EXIT_STOPPED, ApiError, ConfigError
from csvsync.mapping.mapping import load_mapping
from csvsync.models import SchemaField, alt_of
from csvsync.ops.context import Job, RunTally, new_run_id
from csvsync.ops.export import display_values
from csvsync.ops.publish import locale_items, read_back_live
from csvsync.ops.push import BatchResult, push_and_record
from csvsync.options import Progress, RunOptions
from csvsync.outcomes import FAILING, Outcome
from csvsync.pipeline.alt import fold_alt
from csvsync.pipeline.batches import Batch, VariantWrite, make_batches
from csvsync.sheets.results import (
    CHANGES_COLUMNS,
    ROWS_COLUMNS,
    check_writable,
    default_results_path,
    read_run_id,
    write_results,
)
from csvsync.state.cache import State, cell_key, opened
from csvsync.state.journal import (
    CREATED_MARK,
    MARKS,
    PUBLISHED_MARK,
    REVERTS_META,
    UNPUBLISH_MARKS,
    UNPUBLISHED_MARK,
)
from csvsync.webflow.client import check_api_base

MARKER_LABELS = {
    CREATED_MARK: "(created)",
    PUBLISHED_MARK: "(published)",
    UNPUBLISHED_MARK: "(unpublished)",
}

WOULD_REVERT, REVERTED, ALREADY = Outcome.WOULD_REVERT, Outcome.REVERTED, Outcome.ALREADY_REVERTED
CHANGED_SINCE, NOT_FOUND, FAILED, NOT_SENT = (
    Outcome.CHANGED_SINCE,
    Outcome.NOT_FOUND,
    Outcome.FAILED,
    Outcome.NOT_SENT,
)
# Which field outcome names a variant's line in the Rows sheet: the first that occurs.
SEVERITY = (FAILED, NOT_SENT, NOT_FOUND, CHANGED_SINCE, REVERTED, WOULD_REVERT, ALREADY)


@dataclass
class Entry:
    """One journal row of the reverted run and what the revert does with it."""

    item_id: str
    locale_id: str
    field: str  # a field slug, or one of MARKS
    current: Any  # the live value now (JSON as Webflow returns it)
    run_value: Any  # what the reverted run wrote
    restore: Any  # what goes back (the run's old value; the field's cleared value for null)
    outcome: str
    message: str = ""

    @property
    def action(self) -> str:
        """``patch``, ``unpublish`` or ``publish``."""
        if self.field in UNPUBLISH_MARKS:
            return "unpublish"
        return "publish" if self.field == UNPUBLISHED_MARK else "patch"


@dataclass
class RevertResult(RunTally):
    """What a revert did (or, for a dry run, would do)."""

    run_id: str  # the revert's own run id (recorded only when not a dry run)
    reverted: dict[str, Any]  # the reverted run's ``runs`` row
    entries: list[Entry]
    dry_run: bool = False
    unconfirmed: int = 0  # journal rows of the run never confirmed (killed mid-batch)
    locales: dict[str, str] = field(default_factory=dict)  # cmsLocaleId -> tag
    names: dict[tuple[str, str], str] = field(default_factory=dict)
    display: Callable[[str, Any], Any] = field(default=lambda _f, value: value, repr=False)
    command: str = "revert"

    @property
    def counts(self) -> dict[str, int]:
        """Fields (and publish-state changes) per outcome."""
        out: dict[str, int] = {}
        for e in self.entries:
            key = str(e.outcome)  # a plain word, as in the workbook and --json
            out[key] = out.get(key, 0) + 1
        return out

    @property
    def exit_code(self) -> int:
        if self.stopped:
            return EXIT_STOPPED
        return EXIT_ROWS if any(e.outcome in FAILING for e in self.entries) else EXIT_OK

    @property
    def notes(self) -> list[str]:
        out = []
        if self.unconfirmed:
            out.append(
                f"{self.unconfirmed} field(s) of run {self.reverted['run_id']} were never "
                "confirmed by Webflow (the run was stopped mid-batch): left alone"
            )
        if self.stopped:
            out.append(self.stopped)
        return out

    def label(self, e: Entry) -> str:
        return MARKER_LABELS.get(e.field, e.field)

    def shown(self, e: Entry, value: Any) -> Any:
        """A value as the sheet would show it; publish states as words."""
        if e.field in MARKS:
            return value
        return self.display(e.field, value)

    def changes(self) -> pd.DataFrame:
        """The Changes sheet: one line per field, live now -> restored, with the outcome."""
        rows = [
            (
                None,
                e.item_id,
                self.names.get((e.item_id, e.locale_id), ""),
                self.locales.get(e.locale_id, e.locale_id),
                self.label(e),
                self.shown(e, e.current),
                self.shown(e, e.restore),
                e.outcome,
            )
            for e in self.entries
        ]
        return pd.DataFrame(rows, columns=CHANGES_COLUMNS)

    def rows(self) -> pd.DataFrame:
        """The Rows sheet: one line per item-variant, named by its most severe field outcome."""
        variants: dict[tuple[str, str], list[Entry]] = {}
        for e in self.entries:
            variants.setdefault((e.item_id, e.locale_id), []).append(e)
        out = []
        for (item, loc), entries in variants.items():
            outcomes = {e.outcome for e in entries}
            worst = next((o for o in SEVERITY if o in outcomes), entries[0].outcome)
            done = [self.label(e) for e in entries if e.outcome in (REVERTED, WOULD_REVERT)]
            messages = [f"{self.label(e)}: {e.message}" for e in entries if e.message]
            out.append(
                (
                    None,
                    item,
                    self.names.get((item, loc), ""),
                    self.locales.get(loc, loc),
                    worst,
                    ", ".join(done),
                    "; ".join(messages),
                )
            )
        return pd.DataFrame(out, columns=ROWS_COLUMNS)


# -- run history ---------------------------------------------------------------------------------


def list_runs(options: RunOptions, limit: int | None = None) -> list[dict[str, Any]]:
    """The runs recorded for the mapping's (API base, collection), newest first (at most
    ``limit``); ``changed`` counts what each changed (0: a run that found nothing to do).

    Reads the state only: no token, no network and no lock (SQLite's WAL lets it read while a
    run writes). ``finished`` is None for a run that was killed (or is still going).
    """
    mapping = load_mapping(options.mapping)
    api_base = check_api_base(options.api_base).rstrip("/")
    path = options.resolved_state_path()
    if not path.exists():
        return []
    with opened(path) as state:
        runs = state.list_runs(api_base, mapping.collection, limit)
        for run in runs:
            run["reverts"] = (
                state.get_meta(run["scope"], REVERTS_META + run["run_id"])
                if run["command"] == "revert"
                else None
            )
            del run["scope"]
        return runs


def resolve_run(state: State, scopes: Sequence[int], target: str) -> dict[str, Any]:
    """A run id, a results workbook's path, or ``last`` -> that run's ``runs`` row.

    ``scopes``: the collection's live and staged scopes (a staged run wrote to the latter)."""
    if target == "last":
        run_id = state.last_run_id(scopes, "sync")
        if run_id is None:
            raise ConfigError(
                "no sync run of this collection that changed something is recorded in "
                f"{state.path}",
                "pass a run id or a results workbook; `csvsync revert --list` shows the runs",
            )
    elif target.lower().endswith((".xlsx", ".xlsm")) or Path(target).is_file():
        run_id = read_run_id(Path(target))
    else:
        run_id = target.strip()
    run = state.get_run(run_id)
    if run is None:
        raise ConfigError(
            f"unknown run id {run_id!r} (not in {state.path})",
            "`csvsync revert --list -m MAPPING` shows the runs",
        )
    if run["scope"] not in scopes:
        raise ConfigError(
            f"run {run_id} wrote to another collection or API base than this mapping's",
            "pass the mapping and --api-base that run used",
        )
    return run


# -- the revert ----------------------------------------------------------------------------------


def revert(
    options: RunOptions,
    target: str,
    *,
    dry_run: bool = False,
    on_plan: Callable[[RevertResult], None] | None = None,
    progress: Progress | None = None,
) -> RevertResult:
    """Plan the revert of ``target``, hand the plan to ``on_plan``, then apply it.

    With ``dry_run`` nothing is written to Webflow and no run is recorded; a workbook is written
    only when ``options.results`` names one.
    """
    started = datetime.now(UTC)
    t0 = time.monotonic()
    with Job(options, progress) as job:
        staged_scope = job.scope_of(staged=True)
        run = resolve_run(job.state, [job.scope_of(staged=False), staged_scope], target)
        # A revert writes where its run wrote, compared with that side's cache.
        job.bind_target(run["scope"] == staged_scope)
        if options.write_results and (options.results is not None or not dry_run):
            # Before anything is sent: a revert that cannot leave its workbook does not start.
            check_writable(options.results or _default_path(options, run, started))
        job.load_schema()
        job.refresh_items()
        result = RevertResult(new_run_id(started), run, [], dry_run)
        result.unconfirmed = job.state.journal_counts(run["run_id"]).get("pending", 0)
        result.entries = _plan(job, job.state.journal_for(run["run_id"], "confirmed"))
        result.locales = {loc.cms_locale_id: loc.tag for loc in job.locales}
        result.names = job.cache.item_names()
        result.display = display_values(job, job.ref_targets())
        if on_plan is not None:
            on_plan(result)
        if not dry_run and any(e.outcome == WOULD_REVERT for e in result.entries):
            job.check_write_scope()  # a read-only token: refused before anything is sent
        if not dry_run:
            job.cache.start_run(
                result.run_id,
                "revert",
                str(run["sheet"] or ""),
                str(options.mapping),
                started.isoformat(),
                run["target"],
                options.who(),
            )
            job.cache.set_meta(REVERTS_META + result.run_id, run["run_id"])
            result.stopped = _apply(job, result)
            # Names as they are now: a restored name reads as restored.
            result.names = job.cache.item_names()
        result.take_stats(job.client.stats, t0)
        if not dry_run:
            job.state.finish_run(
                result.run_id,
                datetime.now(UTC).isoformat(),
                result.counts,
                stopped=result.stopped is not None,
            )
            job.prune_runs()
        if options.write_results and (options.results is not None or not dry_run):
            result.results_path = _write_workbook(options, job, result, started)
    return result


def _plan(job: Job, journal: list[tuple[int, str, str, str, Any, Any]]) -> list[Entry]:
    """Journal rows -> entries with their planned outcome, in journal order."""
    state, scope = job.state, job.scope
    schema = {f.slug: f for f in job.schema}
    locales = {loc.cms_locale_id for loc in job.locales}
    variants = state.load_variants(scope)
    live_variants = set(zip(variants["item_id"], variants["locale_id"], strict=True))
    unpublishing = {(i, loc) for _, i, loc, f, _, _ in journal if f in UNPUBLISH_MARKS}
    rows = [r for r in journal if r[3] in MARKS or (r[1], r[2]) not in unpublishing]
    wanted = [(r[1], r[2], r[3]) for r in rows if r[3] in schema]
    # The live keys as the refreshed cache stores them (file URLs in source terms).
    live_keys = {cell: keys[0] for cell, keys in state.cell_texts(scope, wanted).items()}
    live = state.live_values(scope, wanted)
    sources = state.file_sources(scope)
    markers = [(i, loc) for _, i, loc, f, _, _ in rows if f in MARKS]
    live_now = _live_variants(job, markers) if markers else set()
    out = []
    for _, item, loc, slug, old, new in rows:
        is_live = (item, loc) in live_variants
        if slug in MARKS:
            out.append(_plan_marker(item, loc, slug, (item, loc) in live_now))
            continue
        f = schema.get(slug)
        restore = cleared_value(f) if f is not None and old is None else old
        e = Entry(item, loc, slug, live.get((item, loc, slug)), new, restore, WOULD_REVERT)
        if f is None:
            e.outcome, e.message = FAILED, "the field is no longer in the collection's schema"
        elif loc not in locales:
            e.outcome, e.message = NOT_FOUND, "the locale is no longer enabled on the site"
        elif not is_live:
            e.outcome, e.message = NOT_FOUND, "the item is no longer live in this locale"
        else:
            now = live_keys.get((item, loc, slug), "")
            if now != cell_key(f, new, sources):
                if now == cell_key(f, restore, sources):
                    e.outcome = ALREADY
                else:
                    e.outcome = CHANGED_SINCE
                    e.message = (
                        f"live {_quote(e.current)}, the run wrote {_quote(new)}; left as it is"
                    )
            elif now == cell_key(f, restore, sources):
                e.outcome = ALREADY  # the run wrote what was there: nothing to put back
        out.append(e)
    return out


def _live_variants(job: Job, wanted: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of ``wanted`` (item, locale) are live now, asked of Webflow itself.

    The cache cannot say: an incremental refresh reads what was updated, and an unpublish made
    in Webflow updates nothing. Only runs with creates or unpublishes pay for this read.
    """
    primary = job.primary.cms_locale_id
    locales = sorted({loc for _, loc in wanted})
    items = job.client.iter_items_live(job.mapping.collection, cms_locale_ids=locales)
    seen = {(it.get("id"), it.get("cmsLocaleId") or primary) for it in items}
    return {key for key in wanted if key in seen}


def _plan_marker(item: str, loc: str, marker: str, is_live: bool) -> Entry:
    if marker in UNPUBLISH_MARKS:
        outcome = WOULD_REVERT if is_live else ALREADY
        return Entry(item, loc, marker, "live" if is_live else "unpublished", "live",
                     "unpublished", outcome)  # fmt: skip
    outcome = ALREADY if is_live else WOULD_REVERT
    return Entry(item, loc, marker, "live" if is_live else "unpublished", "unpublished",
                 "live", outcome)  # fmt: skip


def _quote(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "(empty)"
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 80 else text[:79] + "…"


def _apply(job: Job, result: RevertResult) -> str | None:
    """Send the planned restores; returns why it stopped, if it did."""
    todo = [e for e in result.entries if e.outcome == WOULD_REVERT]
    if not todo:
        return None
    patches, batches = _field_batches(job, [e for e in todo if e.action == "patch"])
    number = len(batches)
    unpub = _marker_batches([e for e in todo if e.action == "unpublish"], number)
    number += len(unpub)
    pub = _marker_batches([e for e in todo if e.action == "publish"], number)
    result.batches = len(batches) + len(unpub) + len(pub)
    # Journal before anything is sent (the fields' rows are push_and_record's): old = live now,
    # new = what goes back.
    job.state.journal_pending(
        result.run_id,
        [
            (n, e.item_id, e.locale_id, kind, None, None)
            for marker_batches, kind in ((unpub, UNPUBLISHED_MARK), (pub, PUBLISHED_MARK))
            for n, es in marker_batches
            for e in es
        ],
    )
    stopped = _push_fields(job, result.run_id, batches, patches, _mode(result.reverted))
    for n, entries in unpub:
        if stopped or job.stopping():
            break
        _unpublish(job, result.run_id, n, entries)
    for n, entries in pub:
        if stopped or job.stopping():
            break
        _publish(job, result.run_id, n, entries)
    if not stopped and job.stopping():
        stopped = "stopped: interrupted; the batches in flight were finished"
    for e in todo:
        if e.outcome == WOULD_REVERT:
            e.outcome, e.message = NOT_SENT, stopped or "not sent"
    return stopped


def _field_batches(
    job: Job, entries: list[Entry]
) -> tuple[dict[tuple[str, str, str], Entry], list[Batch]]:
    """Field restores grouped per item-variant (first-seen order) and cut into batches."""
    schema = {f.slug: f for f in job.schema}
    sources = job.cache.file_sources()
    by_cell = {(e.item_id, e.locale_id, e.field): e for e in entries}
    writes: dict[tuple[str, str], VariantWrite] = {}
    for e in entries:
        w = writes.get((e.item_id, e.locale_id))
        if w is None:
            w = writes[(e.item_id, e.locale_id)] = VariantWrite(
                len(writes) + 1, e.item_id, e.locale_id, {}, {}
            )
        w.field_data[e.field] = e.restore
        w.keys[e.field] = cell_key(schema[e.field], e.restore, sources)
    _fold_alt_texts(job, list(writes.values()), schema, sources)
    return by_cell, make_batches(list(writes.values()), job.options.batch_size)


def _fold_alt_texts(
    job: Job, writes: list[VariantWrite], schema: dict[str, SchemaField], sources: dict[str, str]
) -> None:
    """An alt text put back goes inside its live image, as a sync sends it."""
    need = [
        (w.item_id, w.locale_id, image)
        for w in writes
        for f in w.field_data
        if (image := alt_of(f)) is not None and image not in w.field_data
    ]
    if not need:
        return
    live = job.cache.live_values(need)
    images = [f.slug for f in schema.values() if f.type in ("Image", "MultiImage")]
    for w in writes:
        if any(alt_of(f) for f in w.field_data):
            item, loc = w.item_id, w.locale_id

            def current(f: str, item: str = item, loc: str = loc) -> Any:
                return live.get((item, loc, f))

            w.wire.update(fold_alt(w.field_data, current, images, sources))


def _marker_batches(entries: list[Entry], after: int) -> list[tuple[int, list[Entry]]]:
    """Publish-state changes in requests of at most 100 items, numbered after ``after``."""
    items: dict[str, list[Entry]] = {}
    for e in entries:
        items.setdefault(e.item_id, []).append(e)
    groups = list(items.values())
    return [
        (after + n, [e for group in groups[i : i + 100] for e in group])
        for n, i in enumerate(range(0, len(groups), 100), 1)
    ]


def _push_fields(
    job: Job,
    run_id: str,
    batches: list[Batch],
    patches: dict[tuple[str, str, str], Entry],
    mode: str,
) -> str | None:
    """The sync's push path (``push_and_record``): each answered batch recorded in the cache,
    then each field's outcome. Returns why it stopped, if it did."""
    current = {key: e.current for key, e in patches.items()}

    def noted(res: BatchResult) -> None:
        for vr in res.results:
            w = vr.write
            for f in w.field_data:
                e = patches[(w.item_id, w.locale_id, f)]
                if vr.item is None:
                    e.outcome = NOT_FOUND if vr.outcome == NOT_FOUND else FAILED
                    e.message = vr.message
                elif f in vr.dropped_files:
                    e.outcome, e.message = FAILED, vr.message
                else:
                    e.outcome = REVERTED

    return push_and_record(job, run_id, batches, current, noted, mode=mode)


def _mode(run: dict[str, Any]) -> str:
    """Where a revert writes: where its run wrote. A staged run that published wrote live too:
    both sides go back (publishing the old staged values could take other staged edits live)."""
    target = str(run.get("target") or "live")
    return {"staged+publish": "both"}.get(target, target)


def _locale_items(entries: Iterable[Entry]) -> list[dict[str, Any]]:
    return locale_items((e.item_id, e.locale_id) for e in entries)


def _unpublish(job: Job, run_id: str, batch: int, entries: list[Entry]) -> None:
    """Revert creates (and republishes) by taking the variants off the live site."""
    try:
        job.client.delete_items_live(job.mapping.collection, _locale_items(entries))
    except ApiError as exc:
        job.state.mark_batch(run_id, batch, "failed")
        for e in entries:
            e.outcome, e.message = FAILED, f"could not unpublish: {exc.message}"
        return
    job.state.mark_batch(run_id, batch, "confirmed")
    # A pull reads live items only, so the cache must not keep what is no longer live.
    job.cache.forget_variants([(e.item_id, e.locale_id) for e in entries])
    for e in entries:
        e.outcome = REVERTED


def _publish(job: Job, run_id: str, batch: int, entries: list[Entry]) -> None:
    """Revert unpublishes by publishing again, then read the variants back into the cache."""
    try:
        answer = job.client.publish_items(job.mapping.collection, _locale_items(entries))
    except ApiError as exc:
        job.state.mark_batch(run_id, batch, "failed")
        for e in entries:
            e.outcome, e.message = FAILED, f"could not publish: {exc.message}"
        return
    published = set(answer.get("publishedItemIds") or [])
    errors = "; ".join(str(x) for x in answer.get("errors") or [])
    for e in entries:
        if e.item_id in published:
            e.outcome = REVERTED
        else:
            e.outcome, e.message = FAILED, f"Webflow did not publish it {errors}".strip()
    job.state.mark_batch(run_id, batch, "confirmed")
    read_back_live(job, [(e.item_id, e.locale_id) for e in entries if e.item_id in published])


def _write_workbook(options: RunOptions, job: Job, result: RevertResult, started: datetime) -> Path:
    finished = datetime.now(UTC)
    path = options.results or _default_path(options, result.reverted, finished)
    run = result.reverted
    notes = [f"Reverts run {run['run_id']} ({run['command']} of {run['sheet']}, {run['started']})"]
    notes.append("Counts are fields (and publish-state changes), not rows.")
    if result.dry_run:
        notes.append("Dry run: nothing was written to Webflow.")
    notes += result.notes
    summary = job.run_summary("revert", str(run["sheet"] or ""), started, result, notes)
    return write_results(path, summary, result.rows(), result.changes())


def _default_path(options: RunOptions, run: dict[str, Any], now: datetime) -> Path:
    """``<sheet>.revert-<time>.xlsx`` next to the run's sheet, or next to the mapping when
    that folder is gone (the run may have been started from another directory)."""
    sheet = Path(str(run["sheet"] or "run"))
    folder = sheet.parent if sheet.parent.is_dir() else options.mapping.parent
    return default_results_path(folder / (sheet.stem + ".xlsx"), "revert", now)


__all__ = [
    "Entry",
    "RevertResult",
    "list_runs",
    "resolve_run",
    "revert",
]

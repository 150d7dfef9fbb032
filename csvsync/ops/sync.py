"""``pull``, ``plan`` and ``sync``: sheet -> drafts -> diff -> batches -> push -> results.

A plan and a sync share their first half: ``build_plan`` reads the sheet, refreshes the cache and
works out, without writing anything, what would change (``Planned``). ``apply_plan`` sends it
(field batches, publishes, creates, unpublishes) and records what Webflow confirmed;
``finish`` labels the outcomes, writes the results workbook and closes the run. ``plan`` is
build + finish; ``sync`` is build + apply + finish; the editor's page calls the steps itself.

Each public function takes one ``RunOptions`` (or the open ``Job``) and none prints. Errors
before the first write request propagate as ``CsvsyncError`` (exit 2); an error that hits every
row after it becomes exit 4 with what landed kept in the cache and the workbook.
"""

from __future__ import annotations

import gc
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from csvsync.errors import EXIT_OK, EXIT_ROWS, EXIT_STOPPED, ConfigError, CsvsyncError
from csvsync.mapping.mapping import ResolvedMapping, check_columns, unused_columns
from csvsync.models import RefTarget, alt_of
from csvsync.ops import unpublish
from csvsync.ops.context import Job, RunTally, new_run_id
from csvsync.ops.create import CreateTarget, Creator, check_item_limit, new_items
from csvsync.ops.export import display_values
from csvsync.ops.publish import Outcomes, publish_staged, republish
from csvsync.ops.push import BatchResult, push_and_record
from csvsync.options import Progress, RunOptions, SheetOptions
from csvsync.outcomes import FAILING, Outcome
from csvsync.pipeline import diff as diffmod
from csvsync.pipeline import missing as unnamed
from csvsync.pipeline.alt import fold_alt
from csvsync.pipeline.batches import Batch, make_batches, variant_writes
from csvsync.pipeline.drafts import build_drafts
from csvsync.pipeline.report import Report, build_report
from csvsync.pipeline.sides import merge_sides
from csvsync.pipeline.stateview import StateView
from csvsync.sheets.read import Sheet, read_sheet
from csvsync.sheets.results import (
    check_writable,
    default_results_path,
    prune_workbooks,
    write_results,
)
from csvsync.sheets.writeback import check_can_write_back, write_back
from csvsync.state.collection import CollectionCache
from csvsync.state.journal import CREATED_MARK, UNPUBLISHED_MARK

LIVE_ONLY_NOTE = (
    "Target live: these changes go to the live site only. Webflow's staged version "
    "(what the Designer shows) keeps the old values, and the next site publish can "
    "put them back; --target both writes the two."
)


@dataclass
class RunResult(RunTally):
    """What a command did: the report frames, counts, requests and where the workbook went."""

    run_id: str
    command: str
    report: Report
    missing_columns: list[str] = field(default_factory=list)
    pulled: int = 0
    created: dict[int, str] = field(default_factory=dict)  # sheet row -> new item id
    written_back: Path | None = None
    notes: list[str] = field(default_factory=list)
    # plan: the write requests a sync would send, per kind (fields, staged, creates, publishes,
    # unpublishes); their sum is what the plan says
    would_send: dict[str, int] = field(default_factory=dict)
    # Set when an output could not be written where asked after the push (the results workbook,
    # which then went to a fallback path, or the --write-back copy): the run exits 4.
    workbook_error: str | None = None

    @property
    def counts(self) -> dict[str, int]:
        return self.report.counts()

    @property
    def exit_code(self) -> int:
        if self.stopped or self.workbook_error:
            return EXIT_STOPPED
        counts = self.counts  # one count of 100,000 outcomes, not one per failing kind
        return EXIT_ROWS if any(counts.get(o) for o in FAILING) else EXIT_OK


@dataclass
class Planned:
    """What ``build_plan`` found: everything ``apply_plan`` sends and ``finish`` reports."""

    command: str  # "plan" or "sync": how outcomes are labelled
    run_id: str
    started: datetime
    clock_start: float  # monotonic, for the run's duration
    resolved: ResolvedMapping
    view: StateView
    diff: diffmod.Diff
    batches: list[Batch]
    old: dict[tuple[str, str, str], Any]  # live values before the run, per changed cell
    refs: dict[str, RefTarget]
    missing_columns: list[str]
    pulled: int
    gone: unnamed.Unpublish | None  # --unpublish-missing: live items no row names
    notes: list[str] = field(default_factory=list)
    # --target both: the staged side's base moves and keep-live holds
    staged_moves: tuple[list[tuple[str, str, str]], list[tuple[str, str, str, int]]] | None = None
    source: Sheet | None = None  # the sheet as read: the workbook's Problems and Rows to fix


@dataclass
class Applied:
    """What ``apply_plan`` did: outcomes per (row, locale), why it stopped, new items' ids."""

    outcomes: Outcomes = field(default_factory=dict)
    stopped: str | None = None
    created: dict[int, str] = field(default_factory=dict)


def pull(options: RunOptions, progress: Progress | None = None) -> int:
    """Refresh the state cache from live items; returns the number of variants read."""
    with Job(options, progress) as job:
        job.load_schema()
        return job.refresh_items()


def plan(options: RunOptions, progress: Progress | None = None) -> RunResult:
    """Dry run: what would change, field by field. Sends no write request."""
    with Job(options, progress) as job:
        return finish(job, build_plan(job, "plan"))


def sync(options: RunOptions, progress: Progress | None = None) -> RunResult:
    """Push the changes and write the results workbook."""
    with Job(options, progress) as job:
        planned = build_plan(job, "sync")
        return finish(job, planned, apply_plan(job, planned))


def build_plan(job: Job, command: str = "sync") -> Planned:
    """Read the sheet, refresh the cache and diff: what a sync would send. Writes nothing."""
    options = job.options
    started = datetime.now(UTC)
    clock_start = time.monotonic()
    run_id = new_run_id(started)
    assert options.sheet is not None
    if options.write_results:
        # Found out now, before anything is sent: afterwards a failed workbook costs a fallback.
        check_writable(options.results or options.sheet.with_name("csvsync.results.xlsx"))
    if options.write_back:
        check_can_write_back(options.sheet)
        check_writable(options.sheet.with_name(f"{options.sheet.stem}.with-ids.xlsx"))
    job.event("start", run_id=run_id, command=command, sheet=str(options.sheet))
    with job.step("read_sheet"):
        sheet = read_sheet(options.sheet, sheet_options(job))
    resolved = job.load_schema()
    if options.create and resolved.mapping.key_field and not resolved.mapping.key_create:
        resolved = replace(resolved, mapping=replace(resolved.mapping, key_create=True))
    missing = check_columns(
        resolved, sheet.frame.columns, str(options.sheet), options.allow_missing_columns
    )
    unread = unused_columns(resolved, sheet.frame.columns)
    pulled = job.refresh_items()
    staged_view = None
    if options.target == "both":  # the Designer's side too: an edit there is an edit
        job.refresh_staged_side()
        staged_view = _state_view(job, job.staged_side(), resolved)
    refs = job.ref_targets()
    notes: list[str] = []
    if unread:
        notes.append(f"Columns no field reads, left alone: {', '.join(unread)}")
    spread = [b.map.column for b in resolved.bindings if b.map.default_all]
    if spread and command == "plan":
        notes.append(
            f"Not text, so written to every locale alike: {', '.join(spread)} "
            "(primary_only: true on a field keeps it to the primary locale)"
        )
    view = _state_view(job, job.cache, resolved)
    staged_moves = None
    with _gc_paused():
        with job.step("build_drafts"):
            drafts = build_drafts(resolved, sheet, refs, missing)
        with job.step("diff.compute"):
            d = diffmod.compute(drafts, resolved, view, options.on_conflict)
            if staged_view is not None:
                ds = diffmod.compute(drafts, resolved, staged_view, options.on_conflict)
                staged_moves = (ds.base_moves, ds.holds)
                d = merge_sides(d, ds)
        del drafts
    if options.item_limit is not None and d.creates is not None and len(d.creates):
        try:
            site = resolved.mapping.site
            check_item_limit(job.client, site, len(new_items(d.creates)), options.item_limit)
        except CsvsyncError as exc:
            if command == "sync":
                raise
            notes.append(f"A sync would refuse this: {exc}")
    gone = None
    if options.unpublish_missing:
        gone = unnamed.candidates(d.variants, resolved, view.texts, view.variants)
        try:
            rows = int(d.variants["row"].nunique()) if len(d.variants) else 0
            unnamed.check_guard(gone, options.max_unpublish, options.yes, rows)
        except CsvsyncError as exc:
            if command == "sync":
                raise
            notes.append(f"A sync would refuse this: {exc}")
    with job.step("batches"):
        writes = variant_writes(d.updates())
        batches = make_batches(writes, options.batch_size)
    if command == "plan" and writes and options.target == "live":
        notes.append(LIVE_ONLY_NOTE)
    # Old values are read before anything is sent: after the push the cache holds the new.
    c = d.changes
    with job.step("live_values"):
        old = job.cache.live_values(zip(c["item_id"], c["locale_id"], c["field"], strict=True))
        _fold_alt_texts(job, resolved, batches, old)
    return Planned(command, run_id, started, clock_start, resolved, view, d, batches, old, refs,
                   missing, pulled, gone, notes, staged_moves, source=sheet)  # fmt: skip


def _fold_alt_texts(
    job: Job, resolved: ResolvedMapping, batches: list[Batch], old: dict[tuple[str, str, str], Any]
) -> None:
    """Alt texts into their Image values as sent (``VariantWrite.wire``, ``pipeline/alt.py``),
    from the live values where the sheet sends an alt text alone or an image without one."""
    images = [b.map.slug for b in resolved.bindings if b.schema.type in ("Image", "MultiImage")]
    wanted = {a for b in resolved.bindings if (a := alt_of(b.map.slug))} | set(images)
    if not wanted or not batches:
        return
    need = [
        (w.item_id, w.locale_id, f)
        for b in batches
        for w in b.writes
        for f in {alt_of(k) or k for k in w.field_data} & wanted
        if (w.item_id, w.locale_id, f) not in old
    ]
    extra = job.cache.live_values(need) if need else {}
    sources = job.cache.file_sources()
    for b in batches:
        for w in b.writes:
            if not ({alt_of(k) or k for k in w.field_data} & wanted):
                continue
            item, loc = w.item_id, w.locale_id

            def live(f: str, item: str = item, loc: str = loc) -> Any:
                return old.get((item, loc, f), extra.get((item, loc, f)))

            w.wire.update(fold_alt(w.field_data, live, images, sources))


def apply_plan(job: Job, planned: Planned) -> Applied:
    """Send what ``build_plan`` found and record what Webflow confirmed."""
    options = job.options
    if any(would_send(job, planned).values()):
        job.check_write_scope()  # a read-only token: refused before anything is sent
    applied = Applied()
    target = "staged+publish" if options.target == "staged" and options.publish else options.target
    job.cache.start_run(planned.run_id, "sync", str(options.sheet), str(options.mapping),
                        planned.started.isoformat(), target, options.who())  # fmt: skip
    if planned.diff.base_moves:
        job.cache.move_base(planned.diff.base_moves, planned.diff.holds)
    if planned.staged_moves and planned.staged_moves[0]:
        job.staged_side().move_base(*planned.staged_moves)
    applied.stopped = _push(job, planned, applied.outcomes)
    if not applied.stopped and options.target == "staged":
        planned.notes.extend(
            publish_staged(
                job, planned.run_id, planned.batches, applied.outcomes, _rows_of(planned.diff)
            )
        )
    if not applied.stopped and not job.staged:
        republish(job, planned.run_id, planned.diff.republish, applied.outcomes)
    if not applied.stopped:
        applied.created = _create(job, planned.run_id, planned.diff, applied.outcomes, applied)
    gone = planned.gone
    if gone is not None and gone.item_ids and not applied.stopped and not job.stopping():
        _unpublish(job, planned.run_id, gone)
    return applied


def finish(job: Job, planned: Planned, applied: Applied | None = None) -> RunResult:
    """Label the outcomes, close the run in the state, write the workbook (and write-back)."""
    options = job.options
    outcomes = applied.outcomes if applied else {}
    result = RunResult(
        planned.run_id,
        planned.command,
        Report.empty(),
        batches=len(planned.batches),
        missing_columns=planned.missing_columns,
        pulled=planned.pulled,
        notes=planned.notes,
    )
    if applied is not None:
        result.stopped, result.created = applied.stopped, applied.created
    else:
        result.would_send = would_send(job, planned)
    tags = {loc.cms_locale_id: loc.tag for loc in job.locales}
    display = display_values(job, planned.refs)
    with _gc_paused(), job.step("build_report"):
        result.report = build_report(planned.view, tags, planned.diff, outcomes,
                                     planned.command, planned.old, display)  # fmt: skip
    if planned.source is not None:
        result.report.attach_source(planned.source.frame, planned.resolved)
    if planned.gone is not None and planned.gone.item_ids:
        result.report.prepend_unpublish(planned.gone, planned.command)
    result.take_stats(job.client.stats, planned.clock_start)
    if applied is not None:
        job.state.finish_run(
            planned.run_id,
            datetime.now(UTC).isoformat(),
            result.counts,
            stopped=result.stopped is not None,
        )
        job.prune_runs()
    if options.write_results and (options.results is not None or _worth_a_workbook(result)):
        with job.step("write_results"):
            result.results_path = _write_results(job, result, planned.started, applied is not None)
        if options.keep_results and options.results is None and options.sheet is not None:
            prune_workbooks(options.sheet, options.keep_results)
    if options.write_back and result.created and job.mapping.key_column:
        assert options.sheet is not None
        try:
            result.written_back = write_back(
                options.sheet, sheet_options(job), job.mapping.key_column, result.created
            )
        except (OSError, CsvsyncError) as exc:
            # The items exist now: say so, and where their ids are (the workbook), exit 4.
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            result.workbook_error = (
                f"the copy of the sheet with the new ids could not be written ({why}); "
                "the new ids are in the results workbook"
            )
    job.event(
        "end",
        command=result.command,
        run_id=result.run_id,
        counts=result.counts,
        requests=result.requests,
        write_requests=result.write_requests,
        exit_code=result.exit_code,
        stopped=result.stopped,
        results=str(result.results_path or ""),
    )
    return result


def would_send(job: Job, planned: Planned) -> dict[str, int]:
    """The write requests a sync of ``planned`` would send, per kind: what ``apply_plan`` does,
    counted without sending (a refused request that is split or retried costs more)."""
    options = job.options
    out: dict[str, int] = {}

    def add(kind: str, n: int) -> None:
        if n:
            out[kind] = out.get(kind, 0) + n

    def per100(n: int) -> int:
        return -(-n // 100)

    add("fields", len(planned.batches))
    if options.target == "both":
        add("staged fields", len(planned.batches))  # the same values to the staged items
    if options.target == "staged":
        written = {w.item_id for b in planned.batches for w in b.writes}
        waiting = {i for i, _, _, asked, _ in job.cache.unpublished_writes()
                   if asked or options.publish}  # fmt: skip
        if options.publish or waiting:
            add("publishes", per100(len((written if options.publish else set()) | waiting)))
    again = planned.diff.republish
    if again is not None and len(again) and not job.staged:
        variants = again[["item_id", "locale_id"]].drop_duplicates()
        add("publishes", per100(len(variants)) + per100(variants["item_id"].nunique()))
    items = new_items(planned.diff.creates)
    if items:
        locales = [loc.cms_locale_id for loc in job.locales]
        add("creates", per100(len(items)))
        if len(locales) > 1:
            primary = job.primary.cms_locale_id
            secondary = sum(1 for it in items for loc in it.field_data if loc != primary)
            add("creates", per100(secondary))
            if not (options.target == "staged" and not options.publish):
                add("publishes", per100(len(items)))
    if planned.gone is not None:
        add("unpublishes", per100(len(planned.gone.item_ids)))
    return out


def sheet_options(job: Job) -> SheetOptions:
    """The run's sheet options, with the mapping's sheet name unless the run names one."""
    so = job.options.sheet_options
    if so.sheet_name is None and job.mapping.sheet:
        so = replace(so, sheet_name=job.mapping.sheet)
    return so


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector over the column-wise core of a plan.

    Drafts, diff and report allocate millions of objects in a second or two and make few
    reference cycles, so the collections the allocations trigger only cost time: about a tenth
    of the plan's work after parsing at 100,000 variants (docs/benchmarks.md). Collection
    resumes as it was when the block ends, whatever happens in it.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _state_view(job: Job, cache: CollectionCache, resolved: ResolvedMapping) -> StateView:
    # Texts only of the short fields that match rows and name items in messages.
    text_fields = sorted({"name", "slug", resolved.mapping.key_field or "slug"})
    return StateView(
        load_hashes=job.timed("load_hashes", cache.load_hashes),
        load_texts=job.timed("load_texts", lambda: cache.load_texts(text_fields)),
        load_variants=job.timed("load_variants", cache.load_variants),
        cell_texts=cache.cell_texts,
        item_names=job.timed("item_names", cache.item_names),
        load_held=cache.held_hashes,
        load_offline=cache.offline,
    )


def _push(job: Job, planned: Planned, outcomes: Outcomes) -> str | None:
    """Send every field batch; record outcomes per (row, locale). Returns why it stopped.

    A stop (an error that hits every row, the API down past the retry budget, or SIGINT/
    SIGTERM) sends nothing more but lets the batches in flight finish and records them.
    """

    def noted(res: BatchResult) -> None:
        for vr in res.results:
            outcomes[(vr.write.row, vr.write.locale_id)] = (vr.outcome, vr.message)
        job.event("batch", run_id=planned.run_id, batch=res.batch.number,
                  variants=len(res.batch.writes), outcomes=_tally(res))  # fmt: skip

    stopped = push_and_record(
        job, planned.run_id, planned.batches, planned.old, noted, mode=job.options.target
    )
    if stopped:
        for b in planned.batches:
            for w in b.writes:
                outcomes.setdefault((w.row, w.locale_id), (Outcome.NOT_SENT, stopped))
        again = planned.diff.republish
        if again is not None:
            for row, loc in zip(again["row"], again["locale_id"], strict=True):
                outcomes.setdefault((int(row), loc), (Outcome.NOT_SENT, stopped))
    return stopped


def _create(
    job: Job, run_id: str, d: diffmod.Diff, outcomes: Outcomes, applied: Applied | None = None
) -> dict[int, str]:
    """Create the sheet's new items; returns sheet row -> new item id (why the creates
    stopped, if they did, goes to ``applied``)."""
    items = new_items(d.creates)
    if not items or job.stopping():
        return {}
    locales = [loc.cms_locale_id for _, loc in (job.resolved.locales if job.resolved else [])]
    staged_only = job.options.target == "staged" and not job.options.publish
    target = CreateTarget(
        job.client,
        job.mapping.collection,
        job.primary.cms_locale_id,
        locales,
        staged_only=staged_only,
        known_items=job.cache.item_count(),
        look_first=job.cache.killed_before(run_id),
        known_slug=job.cache.knows_slug,
        item_limit=job.options.item_limit,
    )
    Creator(target).run(items)
    if target.stopped and applied is not None:
        applied.stopped = target.stopped
    made = {row: it.item_id for it in items if it.item_id for row in it.rows.values()}
    job.state.journal_confirmed(
        run_id,
        [
            (it.item_id, loc, CREATED_MARK, None, it.slug(job.primary.cms_locale_id))
            for it in items
            if it.item_id and it.outcome == Outcome.CREATED
            for loc in locales
        ],
    )
    v = d.variants
    for it in items:
        for loc, row in it.rows.items():
            outcomes[(row, loc)] = (it.outcome or Outcome.FAILED, it.message)
    rows = v["row"].map(made)
    v.loc[rows.notna(), "item_id"] = rows[rows.notna()]
    job.refresh_items()  # the new variants enter the cache, their base = what was written
    job.event("create", run_id=run_id, items=len(items), created=len(made))
    return made


def _unpublish(job: Job, run_id: str, gone: unnamed.Unpublish) -> None:
    locales = [loc.cms_locale_id for loc in job.locales]
    unpublish.run(job.client, job.mapping.collection, locales, gone)
    done = [i for i, (outcome, _) in gone.outcomes.items() if outcome == Outcome.UNPUBLISHED]
    job.state.journal_confirmed(
        run_id, [(i, loc, UNPUBLISHED_MARK, None, None) for i in done for loc in locales]
    )
    job.cache.forget_variants(
        [(i, loc) for i in done for loc in locales],
        ("csvsync", datetime.now(UTC).isoformat(), run_id),
    )
    job.event("unpublish", run_id=run_id, items=len(gone.item_ids), unpublished=len(done))


def _rows_of(d: diffmod.Diff) -> dict[tuple[str, str], int]:
    """(item, locale) -> the sheet row that names it."""
    v = d.variants
    named = v[v["item_id"].notna()]
    return {
        (i, loc): int(r)
        for i, loc, r in zip(named["item_id"], named["locale_id"], named["row"], strict=True)
    }


def _tally(res: BatchResult) -> dict[str, int]:
    counts: dict[str, int] = {}
    for vr in res.results:
        counts[vr.outcome] = counts.get(vr.outcome, 0) + 1
    return counts


def _worth_a_workbook(result: RunResult) -> bool:
    """A run that changed nothing and found no problem leaves no workbook (unless --results
    names one): at 96 cron runs a day, those would be most of the disk."""
    return bool(
        set(result.counts) - {Outcome.UNCHANGED.value}
        or result.stopped
        or result.missing_columns
        or result.notes
    )


def _write_results(job: Job, result: RunResult, started: datetime, wrote: bool) -> Path | None:
    """The workbook where asked; after a sync that may have written, a failure there puts it
    in a fallback folder (the state's, else the temporary folder) and the run exits 4."""
    try:
        return _write_workbook(job, result, started)
    except ConfigError as exc:
        if not wrote:
            raise
        error = exc.message
    assert job.options.sheet is not None
    stem = job.options.sheet
    for folder in (
        job.options.resolved_state_path().parent / "results",
        Path(tempfile.gettempdir()),
    ):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = default_results_path(folder / stem.name, result.command, datetime.now(UTC))
            result.workbook_error = f"{error}; written to {path} instead"
            return _write_workbook(job, result, started, path)
        except (OSError, ConfigError):
            continue
    result.workbook_error = f"{error}; no fallback folder could be written either"
    return None


def _write_workbook(
    job: Job, result: RunResult, started: datetime, path: Path | None = None
) -> Path:
    options = job.options
    assert options.sheet is not None
    finished = datetime.now(UTC)
    path = path or options.results or default_results_path(options.sheet, result.command, finished)
    notes = []
    if result.missing_columns:
        notes.append(
            "Columns missing from the sheet, left alone: " + ", ".join(result.missing_columns)
        )
    if result.stopped:
        notes.append(result.stopped)
    if result.workbook_error:
        notes.append(result.workbook_error)
    summary = job.run_summary(result.command, str(options.sheet), started, result, notes)
    report = result.report
    return write_results(
        path, summary, report.rows, report.changes, report.problems(), report.rows_to_fix()
    )


__all__ = [
    "Applied",
    "Planned",
    "RunResult",
    "apply_plan",
    "build_plan",
    "finish",
    "plan",
    "pull",
    "sync",
]

"""Orchestration only: pull, plan and sync, wiring sheet -> drafts -> diff -> batches -> push.

Each public function takes one ``RunOptions`` and returns a ``RunResult``; none prints. Errors
before the first write request propagate as ``CsvsyncError`` (exit 2); an error that hits every
row after it becomes exit 4 with what landed kept in the cache and the workbook.
"""

from __future__ import annotations

import gc
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from csvsync.errors import EXIT_OK, EXIT_ROWS, EXIT_STOPPED, ApiError, CsvsyncError
from csvsync.mapping.mapping import ResolvedMapping, check_columns
from csvsync.models import RefTarget
from csvsync.ops import unpublish
from csvsync.ops.context import Job
from csvsync.ops.create import CreateTarget, Creator, new_items
from csvsync.ops.export import cell_makers
from csvsync.ops.push import BatchResult, Pusher, PushTarget, send_all
from csvsync.options import Progress, RunOptions
from csvsync.outcomes import FAILING, Outcome
from csvsync.pipeline import diff as diffmod
from csvsync.pipeline import missing as unnamed
from csvsync.pipeline.batches import Batch, make_batches, variant_writes
from csvsync.pipeline.drafts import build_drafts
from csvsync.pipeline.report import Display, Report, build_report
from csvsync.pipeline.stateview import StateView
from csvsync.sheets.read import SheetOptions, read_sheet
from csvsync.sheets.results import default_results_path, write_results
from csvsync.sheets.writeback import write_back
from csvsync.state.cache import Confirmed
from csvsync.state.journal import CREATED_MARK, UNPUBLISHED_MARK
from csvsync.webflow.client import ClientStats


@dataclass(kw_only=True)
class RunTally:
    """What every command that writes reports of its requests, time, workbook and stop."""

    requests: int = 0
    write_requests: int = 0
    retries: int = 0
    rate_limit_waits: int = 0
    batches: int = 0
    duration: float = 0.0
    results_path: Path | None = None
    stopped: str | None = None

    def take_stats(self, stats: ClientStats, started: float) -> None:
        """The client's request counters, and the time since ``started`` (monotonic)."""
        self.requests, self.write_requests = stats.requests, stats.write_requests
        self.retries, self.rate_limit_waits = stats.retries, stats.rate_limit_waits
        self.duration = time.monotonic() - started


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

    @property
    def counts(self) -> dict[str, int]:
        return self.report.counts()

    @property
    def exit_code(self) -> int:
        if self.stopped:
            return EXIT_STOPPED
        return EXIT_ROWS if any(self.counts.get(o) for o in FAILING) else EXIT_OK


def new_run_id(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def pull(options: RunOptions, progress: Progress | None = None) -> int:
    """Refresh the state cache from live items; returns the number of variants read."""
    with Job(options, progress) as job:
        job.load_schema()
        return job.refresh_items()


def plan(options: RunOptions, progress: Progress | None = None) -> RunResult:
    """Dry run: what would change, field by field. Sends no write request."""
    return _run("plan", options, progress)


def sync(options: RunOptions, progress: Progress | None = None) -> RunResult:
    """Push the changes and write the results workbook."""
    return _run("sync", options, progress)


def _run(command: str, options: RunOptions, progress: Progress | None) -> RunResult:
    started = datetime.now(UTC)
    t0 = time.monotonic()
    run_id = new_run_id(started)
    assert options.sheet is not None
    with Job(options, progress) as job:
        job.event("start", run_id=run_id, command=command, sheet=str(options.sheet))
        sheet = read_sheet(options.sheet, _sheet_options(options, job))
        resolved = job.load_schema()
        missing = check_columns(
            resolved, sheet.frame.columns, str(options.sheet), options.allow_missing_columns
        )
        pulled = job.refresh_items()
        refs = job.ref_targets()
        notes: list[str] = []
        view = _state_view(job, resolved)
        with _gc_paused():
            drafts = build_drafts(resolved, sheet, refs, missing)
            d = diffmod.compute(drafts, resolved, view, options.on_conflict)
            del drafts
        gone = None
        if options.unpublish_missing:
            gone = unnamed.candidates(d.variants, resolved, view.texts, view.variants)
            if command == "sync":
                unnamed.check_guard(gone, options.max_unpublish, options.yes)
            else:
                try:
                    unnamed.check_guard(gone, options.max_unpublish, options.yes)
                except CsvsyncError as exc:
                    notes.append(f"A sync would refuse this: {exc}")
        writes = variant_writes(d.updates())
        if command == "plan" and writes and options.target == "live":
            notes.append(
                "Target live: these changes go to the live site only. Webflow's staged version "
                "(what the Designer shows) keeps the old values, and the next site publish can "
                "put them back; --target both writes the two."
            )
        batches = make_batches(writes, options.batch_size)
        result = RunResult(
            run_id,
            command,
            Report.empty(),
            batches=len(batches),
            missing_columns=missing,
            pulled=pulled,
            notes=notes,
        )
        outcomes: dict[tuple[int, str], tuple[str, str]] = {}
        # Old values are read before anything is sent: after the push the cache holds the new.
        old = job.cache.live_values(
            zip(d.changes["item_id"], d.changes["locale_id"], d.changes["field"], strict=True),
        )
        if command == "sync":
            job.cache.start_run(
                run_id,
                command,
                str(options.sheet),
                str(options.mapping),
                started.isoformat(),
            )
            if d.base_moves:
                job.cache.move_base(d.base_moves)
            result.stopped = _push(job, run_id, batches, old, outcomes)
            if not result.stopped and options.target == "staged" and options.publish:
                _publish_written(job, batches, outcomes)
            if not result.stopped:
                result.created = _create(job, run_id, d, outcomes)
            if gone is not None and gone.item_ids and not result.stopped and not job.stopping():
                _unpublish(job, run_id, gone)
        with _gc_paused():
            tags = {loc.cms_locale_id: loc.tag for loc in job.locales}
            result.report = build_report(view, tags, d, outcomes, command, old, _display(job, refs))
        if gone is not None and gone.item_ids:
            result.report.prepend_unpublish(gone, command)
        result.take_stats(job.client.stats, t0)
        if command == "sync":
            job.state.finish_run(
                run_id,
                datetime.now(UTC).isoformat(),
                result.counts,
                stopped=result.stopped is not None,
            )
        if options.write_results:
            result.results_path = _write_workbook(options, job, result, started)
        if options.write_back and result.created and job.mapping.key_column:
            result.written_back = write_back(
                options.sheet, _sheet_options(options, job), job.mapping.key_column, result.created
            )
        job.event(
            "end",
            run_id=run_id,
            counts=result.counts,
            requests=result.requests,
            write_requests=result.write_requests,
            exit_code=result.exit_code,
            stopped=result.stopped,
            results=str(result.results_path or ""),
        )
    return result


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


def _state_view(job: Job, resolved: ResolvedMapping) -> StateView:
    # Texts only of the short fields that match rows and name items in messages.
    text_fields = sorted({"name", "slug", resolved.mapping.key_field or "slug"})
    cache = job.cache
    return StateView(
        load_hashes=cache.load_hashes,
        load_texts=lambda: cache.load_texts(text_fields),
        load_variants=cache.load_variants,
        cell_texts=cache.cell_texts,
        item_names=cache.item_names,
    )


def _display(job: Job, refs: dict[str, RefTarget]) -> Display:
    """Old and new values as the sheet shows them (option names, slugs, its date format)."""
    assert job.resolved is not None
    makers = cell_makers(job, job.resolved, refs, xlsx=False)

    def show(field: str, value: Any) -> Any:
        maker = makers.get(field)
        if maker is None or value is None:
            return value
        try:
            return maker.cell(value)
        except (TypeError, ValueError, KeyError, AttributeError):
            return value  # shown raw rather than not at all

    return show


def _sheet_options(options: RunOptions, job: Job) -> SheetOptions:
    so = options.sheet_options
    if so.sheet_name is None and job.mapping.sheet:
        so = replace(so, sheet_name=job.mapping.sheet)
    return so


def _push(
    job: Job,
    run_id: str,
    batches: list[Batch],
    old: dict[tuple[str, str, str], Any],
    outcomes: dict[tuple[int, str], tuple[str, str]],
) -> str | None:
    """Send every batch; record outcomes per (row, locale). Returns why it stopped, if it did.

    A stop (an error that hits every row, the API down past the retry budget, or SIGINT/
    SIGTERM) sends nothing more but lets the batches in flight finish and records them.
    """
    if not batches:
        return None
    job.state.journal_pending(
        run_id,
        [
            (b.number, w.item_id, w.locale_id, f, old.get((w.item_id, w.locale_id, f)), v)
            for b in batches
            for w in b.writes
            for f, v in w.field_data.items()
        ],
    )
    total = sum(len(b.writes) for b in batches)
    pusher = Pusher(
        PushTarget(
            job.client,
            job.mapping.collection,
            job.primary.cms_locale_id,
            job.schema,
            split_budget=max(20, 2 * total // 10),
            old_values=old,
            mode=job.options.target,
        )
    )
    done = 0

    def record(res: BatchResult) -> None:
        nonlocal done
        _record(job, run_id, res, outcomes)
        done += len(res.batch.writes)
        job.progress("push", done, total)
        job.event(
            "batch",
            run_id=run_id,
            batch=res.batch.number,
            variants=len(res.batch.writes),
            outcomes=_tally(res),
        )

    stopped = send_all(job.client, pusher, batches, job.stopping, record)
    halt = [stopped] if stopped else []
    if halt:
        for b in batches:
            for w in b.writes:
                outcomes.setdefault((w.row, w.locale_id), (Outcome.NOT_SENT, halt[0]))
    return halt[0] if halt else None


def _create(
    job: Job, run_id: str, d: diffmod.Diff, outcomes: dict[tuple[int, str], tuple[str, str]]
) -> dict[int, str]:
    """Create the sheet's new items; returns sheet row -> new item id."""
    items = new_items(d.creates)
    if not items or job.stopping():
        return {}
    locales = [loc.cms_locale_id for _, loc in (job.resolved.locales if job.resolved else [])]
    staged_only = job.options.target == "staged" and not job.options.publish
    Creator(
        CreateTarget(
            job.client,
            job.mapping.collection,
            job.primary.cms_locale_id,
            locales,
            staged_only=staged_only,
        )
    ).run(items)
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


def _publish_written(
    job: Job, batches: list[Batch], outcomes: dict[tuple[int, str], tuple[str, str]]
) -> None:
    """--target staged --publish: publish exactly the variants written, reading the answer's
    ``errors`` so a refused item is reported on its rows and the others still go live."""
    written: dict[str, list[tuple[int, str]]] = {}
    for b in batches:
        for w in b.writes:
            if outcomes.get((w.row, w.locale_id), ("",))[0] == Outcome.UPDATED:
                written.setdefault(w.item_id, []).append((w.row, w.locale_id))
    items = list(written)
    for i in range(0, len(items), 100):
        part = items[i : i + 100]
        body = [{"id": it, "cmsLocaleIds": sorted({loc for _, loc in written[it]})} for it in part]
        try:
            answer = job.client.publish_items(job.mapping.collection, body)
            errors = [str(e) for e in answer.get("errors", [])]
        except ApiError as exc:
            errors = [f"{it}: {exc}" for it in part]
        for it in part:
            mine = [e for e in errors if it in e]
            for key in written[it]:
                outcomes[key] = (
                    (Outcome.FAILED, "written staged, not published: " + "; ".join(mine))
                    if mine
                    else (Outcome.UPDATED, "written staged and published")
                )


def _unpublish(job: Job, run_id: str, gone: unnamed.Unpublish) -> None:
    locales = [loc.cms_locale_id for loc in job.locales]
    unpublish.run(job.client, job.mapping.collection, locales, gone)
    done = [i for i, (outcome, _) in gone.outcomes.items() if outcome == Outcome.UNPUBLISHED]
    job.state.journal_confirmed(
        run_id, [(i, loc, UNPUBLISHED_MARK, None, None) for i in done for loc in locales]
    )
    job.cache.forget_variants([(i, loc) for i in done for loc in locales])
    job.event("unpublish", run_id=run_id, items=len(gone.item_ids), unpublished=len(done))


def _tally(res: BatchResult) -> dict[str, int]:
    counts: dict[str, int] = {}
    for vr in res.results:
        counts[vr.outcome] = counts.get(vr.outcome, 0) + 1
    return counts


def _record(
    job: Job, run_id: str, res: BatchResult, outcomes: dict[tuple[int, str], tuple[str, str]]
) -> None:
    confirmed = []
    gone = []
    for vr in res.results:
        outcomes[(vr.write.row, vr.write.locale_id)] = (vr.outcome, vr.message)
        if vr.item is not None:
            keys = {f: k for f, k in vr.write.keys.items() if f not in vr.dropped_files}
            confirmed.append(Confirmed(vr.item, keys, vr.write.field_data))
        elif vr.outcome == Outcome.NOT_FOUND:
            gone.append((vr.write.item_id, vr.write.locale_id))
    job.cache.apply_confirmed(confirmed, run_id=run_id, batch=res.batch.number)
    failed = [(vr.write.item_id, vr.write.locale_id) for vr in res.results if vr.item is None]
    if failed:
        job.state.journal_failed(run_id, failed)
    if gone:
        job.cache.forget_variants(gone)


def _write_workbook(options: RunOptions, job: Job, result: RunResult, started: datetime) -> Path:
    assert options.sheet is not None
    finished = datetime.now(UTC)
    path = options.results or default_results_path(options.sheet, result.command, finished)
    notes = []
    if result.missing_columns:
        notes.append(
            "Columns missing from the sheet, left alone: " + ", ".join(result.missing_columns)
        )
    if result.stopped:
        notes.append(result.stopped)
    summary = job.run_summary(result.command, str(options.sheet), started, result, notes)
    return write_results(path, summary, result.report.rows, result.report.changes)


__all__ = ["RunResult", "plan", "pull", "sync"]

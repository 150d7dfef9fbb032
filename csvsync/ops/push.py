"""Send PATCH batches to ``/items/live`` and isolate the variants Webflow refuses; record them.

A 400 for a batch names the field it refused (``details[].param``), never the variant: the
variants that carry that field are the suspects, the others are sent again at once, and the
suspects are halved (one request a step) until the bad one stands alone; it is then sent without
the refused field, so its other fields land too. A refusal that names no field the batch
carries (a 404, say) splits the batch in halves until the bad variants stand alone. Errors that
would hit every row (schema changed, auth) stop the run instead of splitting, and splitting has
a request budget.

``push_and_record`` is the one path by which ``sync`` and ``revert`` write fields: the journal
first, then the batches through the client's pool, each answered batch recorded in the cache
(live from Webflow's answer, base = what was sent) before the caller notes its own outcomes.
"""

from __future__ import annotations

import contextlib
import queue
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from csvsync.convert.to_api import api_key
from csvsync.errors import (
    ApiError,
    AuthError,
    ConflictError,
    NotFoundError,
    StoppedError,
    ValidationApiError,
)
from csvsync.models import FILE_TYPES, SchemaField
from csvsync.ops.context import Job
from csvsync.outcomes import Outcome
from csvsync.pipeline.batches import Batch, VariantWrite, halves
from csvsync.pipeline.diff import not_live_message
from csvsync.pipeline.landed import landed_files
from csvsync.state.cache import Confirmed
from csvsync.state.collection import CollectionCache
from csvsync.webflow.client import WebflowClient

UPDATED, FAILED, NOT_FOUND = Outcome.UPDATED, Outcome.FAILED, Outcome.NOT_FOUND
NOT_LIVE = Outcome.NOT_LIVE
PUBLISH_FIRST = (
    "Webflow refuses live writes until the site is published: the collection's fields changed "
    "since the last publish; publish the site in Webflow (or POST /sites/:id/publish), then run "
    "again"
)


@dataclass
class VariantResult:
    """What happened to one variant write."""

    write: VariantWrite
    outcome: str
    message: str = ""
    item: dict[str, Any] | None = None
    dropped_files: list[str] = field(default_factory=list)
    staged_item: dict[str, Any] | None = None  # --target both: the staged answer
    # A slug Webflow says is taken, and the message to give if no item the cache knows has it
    taken_slug: str | None = None
    if_unknown_slug: str = ""
    # Fields Webflow refused while the variant's others were written (its ``item`` is then
    # the answer for those): not recorded as sent, their journal rows failed.
    refused_fields: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PushTarget:
    """Where and how to push: the collection, its schema, and the live values before the run."""

    client: WebflowClient
    collection_id: str
    primary_locale: str
    schema: list[SchemaField]
    split_budget: int
    old_values: dict[tuple[str, str, str], Any] = field(default_factory=dict)
    mode: str = "live"  # live | staged | both


@dataclass
class BatchResult:
    batch: Batch
    results: list[VariantResult]


def fatal_reason(exc: ApiError) -> str | None:
    """An error that would hit every row, so splitting the batch is pointless."""
    text = (exc.message + " " + " ".join(str(d) for d in exc.details)).lower()
    if isinstance(exc, AuthError):
        return "Webflow refused the token"
    if "not described in schema" in text:
        return "the collection's fields changed (a mapped field is not in the schema)"
    if structure_changed(exc):
        return "the collection structure changed since the last publish"
    return None


def structure_changed(exc: ApiError) -> bool:
    """Webflow's 409 for a live write after a field change the site has not been published
    with (a site publish ends it; staged writes do not get it)."""
    return isinstance(exc, ConflictError) and "structure changed" in exc.message.lower()


class Pusher:
    """Sends batches for one collection; thread-safe (no shared mutable state but a counter)."""

    def __init__(self, target: PushTarget) -> None:
        self.client = target.client
        self.collection_id = target.collection_id
        self.primary_locale = target.primary_locale
        self.file_fields = {f.slug for f in target.schema if f.type in FILE_TYPES}
        self.split_budget = target.split_budget
        self.old = target.old_values
        self.mode = target.mode
        # The collection as re-read after a "structure changed" 409 (once per run), for the
        # caller to keep as the cached schema: a field added in Webflow is then mapped.
        self.reread: dict[str, Any] | None = None
        self._reread_lock = threading.Lock()
        self._reread_tried = False

    def send(self, batch: Batch) -> BatchResult:
        return BatchResult(batch, self._send(batch.writes))

    def _request(self, writes: list[VariantWrite]) -> list[dict[str, Any]]:
        bodies = [w.body(self.primary_locale) for w in writes]
        if self.mode == "staged":
            return self.client.update_items(self.collection_id, bodies)
        return self.client.update_items_live(self.collection_id, bodies)

    def _send(self, writes: list[VariantWrite], again: bool = False) -> list[VariantResult]:
        if not writes:
            return []
        try:
            items = self._request(writes)
        except (ValidationApiError, NotFoundError, ConflictError, AuthError) as exc:
            if structure_changed(exc):
                if not again:
                    # Webflow's staff have said these 409s are sometimes spurious: the schema
                    # is read again and the batch tried once more before the run stops.
                    self._reread_schema()
                    return self._send(writes, again=True)
                raise StoppedError(f"stopped: {PUBLISH_FIRST}") from exc
            reason = fatal_reason(exc)
            if reason:
                raise StoppedError(
                    f"stopped: {reason}: {exc}", "run `csvsync plan --refresh` to reload the schema"
                ) from exc
            return self._isolate(writes, exc)
        results = self._match(writes, items)
        if self.mode == "both":
            self._also_staged(results)
        return results

    def _reread_schema(self) -> None:
        with self._reread_lock:
            if self._reread_tried:
                return
            self._reread_tried = True
            with contextlib.suppress(ApiError):  # the retry decides; the cached schema stays
                self.reread = self.client.get_collection(self.collection_id)

    def _also_staged(self, results: list[VariantResult]) -> None:
        """--target both: the same values to the staged variants, so the two never disagree."""
        done = [r for r in results if r.outcome == UPDATED]
        if not done:
            return
        try:
            items = self.client.update_items(
                self.collection_id, [r.write.body(self.primary_locale) for r in done]
            )
        except ApiError as exc:
            for r in done:
                r.outcome = FAILED
                r.message = f"updated live, but the staged version was refused: {_message(exc)}"
            return
        by_key = {(it.get("id"), it.get("cmsLocaleId") or self.primary_locale): it for it in items}
        for r in done:
            r.staged_item = by_key.get((r.write.item_id, r.write.locale_id))

    def _isolate(self, writes: list[VariantWrite], exc: ApiError) -> list[VariantResult]:
        refused = _refused_fields(writes, exc)
        carrying = [any(w.carries(f) for f in refused) for w in writes]
        if any(carrying):
            # Webflow's 400 names the field: only the variants that carry it are suspects,
            # and the others go at once, with the isolated variant's other fields.
            suspects = [w for w, c in zip(writes, carrying, strict=True) if c]
            clean = [w for w, c in zip(writes, carrying, strict=True) if not c]
            return self._narrow(suspects, refused, exc, clean)
        return self._halve(writes, exc)

    def _narrow(
        self,
        suspects: list[VariantWrite],
        refused: set[str],
        exc: ApiError,
        carry: list[VariantWrite],
    ) -> list[VariantResult]:
        """Halve the suspects, one request a step (the half that passes has landed; the other
        half of a refused one waits in ``carry``), until one variant is left; then send it
        without the refused fields together with everything carried: for one bad variant among
        n suspects, 1 + ceil(log2 n) requests after the first."""
        out: list[VariantResult] = []
        while len(suspects) > 1:
            if self.split_budget <= 0:
                out += [VariantResult(w, FAILED, f"not isolated (split budget spent): "
                                      f"{_message(exc)}") for w in suspects]  # fmt: skip
                return out + self._send(carry)
            self.split_budget -= 1
            first, second = halves(suspects)
            try:
                items = self._request(first)
            except (ValidationApiError, NotFoundError) as again:
                more = _refused_fields(first, again)
                if not more or not more <= refused:
                    # Refused for another reason: isolate that half on its own terms.
                    return out + self._isolate(first, again) + self._send(carry + second)
                suspects, exc, carry = first, again, carry + second
                continue
            out += self._match(first, items)
            suspects = second
        bad = suspects[0]
        rest = bad.without(refused)
        if not rest.field_data:
            return [*out, _refusal(bad, exc), *self._send(carry)]
        sent = self._send([*carry, rest])
        for n, res in enumerate(sent):
            if res.write is rest and res.outcome == UPDATED:
                sent[n] = _partly(res, _refusal(bad, exc), sorted(refused))
        return out + sent

    def _halve(self, writes: list[VariantWrite], exc: ApiError) -> list[VariantResult]:
        """Bisection, for a refusal that names no field the batch carries."""
        if len(writes) == 1:
            return [_refusal(writes[0], exc)]
        if self.split_budget <= 0:
            return [
                VariantResult(w, FAILED, f"not isolated (split budget spent): {_message(exc)}")
                for w in writes
            ]
        self.split_budget -= 2
        out: list[VariantResult] = []
        for half in halves(writes):
            out.extend(self._send(half))
        return out

    def _match(
        self, writes: list[VariantWrite], items: list[dict[str, Any]]
    ) -> list[VariantResult]:
        by_key = {(it.get("id"), it.get("cmsLocaleId") or self.primary_locale): it for it in items}
        out = []
        for w in writes:
            item = by_key.get((w.item_id, w.locale_id))
            if item is None and len(items) == len(writes):
                item = items[writes.index(w)]
            if item is None:
                out.append(VariantResult(w, FAILED, "Webflow did not return this variant"))
                continue
            dropped = self._dropped_files(w, item)
            msg = ""
            if dropped:
                msg = (
                    "Webflow skipped the file at "
                    + ", ".join(f"{f} ({w.field_data[f]!r})" for f in dropped)
                    + ": check the URL is public and under 4 MB"
                )
            out.append(VariantResult(w, UPDATED, msg, item, dropped))
        return out

    def _dropped_files(self, w: VariantWrite, item: dict[str, Any]) -> list[str]:
        """File fields Webflow skipped (``skipInvalidFiles``): absent, fewer, or left as before."""
        fd = item.get("fieldData") or {}
        dropped = []
        for f, sent in w.field_data.items():
            if f not in self.file_fields or not sent:
                continue
            got = fd.get(f)
            before = self.old.get((w.item_id, w.locale_id, f))
            missing = not got or (isinstance(sent, list) and len(got) < len(sent))
            unchanged = got == before and _urls(sent) != _urls(before)
            if missing or unchanged:
                dropped.append(f)
        return dropped


def _refusal(w: VariantWrite, exc: ApiError) -> VariantResult:
    """A variant Webflow refused, in plain words (a taken slug worded once the cache says
    whether an item it knows has it)."""
    res = VariantResult(w, _outcome(exc), _message(exc))
    res.taken_slug = _taken_slug(exc)
    if res.taken_slug is not None:
        res.if_unknown_slug = _message(exc, slug_unknown=True)
    return res


def _partly(written: VariantResult, refusal: VariantResult, fields: list[str]) -> VariantResult:
    """A variant whose other fields Webflow took once the refused ones were left out: failed
    (the sheet's values are not all live), with Webflow's answer for the fields it took."""

    def say(reason: str) -> str:
        note = f" ({written.message})" if written.message else ""
        return (
            f"Webflow refused {', '.join(fields)}: {reason}; this variant's other fields "
            f"were written{note}"
        )

    refusal.item, refusal.dropped_files = written.item, written.dropped_files
    refusal.refused_fields = [
        f for f in refusal.write.field_data if f not in written.write.field_data
    ]
    refusal.message = say(refusal.message)
    if refusal.taken_slug is not None:
        refusal.if_unknown_slug = say(refusal.if_unknown_slug)
    return refusal


def _kept_files(
    schema: Sequence[SchemaField], vr: VariantResult
) -> dict[str, tuple[str, list[Any]]]:
    """The dropped MultiImage fields that came back shorter: field -> (key, the sent images
    Webflow kept, ``pipeline/landed.py``), recorded as written so the next run sees live as
    this one left it and sends the gallery again, rather than a conflict."""
    fd = (vr.item or {}).get("fieldData") or {}
    galleries = {f.slug: f for f in schema if f.type == "MultiImage"}
    out = {}
    for f in vr.dropped_files:
        spec, sent, got = galleries.get(f), vr.write.field_data.get(f), fd.get(f)
        if spec is None or not isinstance(sent, list) or not isinstance(got, list):
            continue
        if not got or len(got) >= len(sent):
            continue
        kept = landed_files(sent, _urls(got))
        if kept is not None:
            out[f] = (api_key(spec, kept), kept)
    return out


def _refused_fields(writes: list[VariantWrite], exc: ApiError) -> set[str]:
    """The fields a 400 names (``details[].param``) that some of ``writes`` carry."""
    if not isinstance(exc, ValidationApiError):
        return set()
    params = {str(d.get("param")) for d in exc.details if isinstance(d, dict) and d.get("param")}
    return {p for p in params if any(w.carries(p) for w in writes)}


def _urls(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [str(v.get("url", "")) if isinstance(v, dict) else str(v) for v in items]


def _outcome(exc: ApiError) -> str:
    if _never_published(exc):
        return NOT_LIVE
    return NOT_FOUND if isinstance(exc, NotFoundError) else FAILED


def _never_published(exc: ApiError) -> bool:
    return isinstance(exc, ConflictError) and "never been published" in exc.message


def _message(exc: ApiError, slug_unknown: bool = False) -> str:
    """Webflow's refusal in plain words, with its status and code kept for reference."""
    if _never_published(exc):
        # The cache had it live: an editor unpublished or archived it since.
        return f"{not_live_message(None)} (Webflow {exc.status} {exc.code})"
    parts = [_plain_detail(d, slug_unknown) for d in exc.details] or [_plain_text(exc)]
    return f"{'; '.join(parts)} (Webflow {exc.status} {exc.code})"


def _plain_text(exc: ApiError) -> str:
    text = exc.message
    if isinstance(exc, ConflictError) and "never been published" in text:
        return (
            "this item has never been published, so its live version cannot be changed: "
            "publish it first, or write it staged with --target staged --publish"
        )
    if isinstance(exc, NotFoundError):
        return "Webflow no longer has this item live (deleted or unpublished since the last pull)"
    return text


def _plain_detail(detail: Any, slug_unknown: bool = False) -> str:
    if not isinstance(detail, dict):
        return str(detail)
    param = str(detail.get("param") or "")
    desc = str(detail.get("description") or detail.get("message") or "")
    taken = _TAKEN.match(desc)
    if taken and param == "slug" and slug_unknown:
        # No item csvsync knows has it: a draft, or an item deleted since the last site
        # publish (Webflow keeps those slugs until then); the answer does not say which.
        return f"slug '{taken.group(1)}' is {TAKEN_PERHAPS_DELETED}"
    if taken:
        return f"{param.capitalize() or 'Value'} '{taken.group(1)}' is already used by another item"
    return f"{param}: {desc}" if param else desc


_TAKEN = re.compile(r"Unique value is already in database: '(.*)'")


def _taken_slug(exc: ApiError) -> str | None:
    for d in exc.details:
        if isinstance(d, dict) and d.get("param") == "slug":
            taken = _TAKEN.match(str(d.get("description")))
            if taken:
                return taken.group(1)
    return None


TAKEN_PERHAPS_DELETED = (
    "taken (perhaps by a deleted item, whose slug stays reserved until the site is published)"
)


def push_and_record(
    job: Job,
    run_id: str,
    batches: list[Batch],
    old_values: dict[tuple[str, str, str], Any],
    on_batch: Callable[[BatchResult], None],
    mode: str = "live",
) -> str | None:
    """Journal, send and record ``batches``; returns why it stopped, if it did.

    ``old_values`` are the live values before the run, per (item, locale, field): journaled as
    what a revert puts back, and used to report files Webflow dropped. ``on_batch`` is called
    for each answered batch after the cache has it (the caller's outcomes, log lines).
    """
    if not batches:
        return None
    job.state.journal_pending(
        run_id,
        [
            (b.number, w.item_id, w.locale_id, f, old_values.get((w.item_id, w.locale_id, f)), v)
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
            job.cache.primary_locale,
            job.schema,
            split_budget=max(20, 2 * total // 10),
            old_values=old_values,
            mode=mode,
        )
    )
    done = 0

    staged = job.staged_side() if mode == "both" else None

    def record(res: BatchResult) -> None:
        nonlocal done
        for vr in res.results:
            # Asked here, on the writer thread, which alone uses the cache while batches fly
            if vr.taken_slug is not None and not job.cache.knows_slug(vr.taken_slug):
                vr.message = vr.if_unknown_slug
        record_batch(job.cache, run_id, res, staged)
        on_batch(res)
        done += len(res.batch.writes)
        job.progress("push", done, total)

    with job.step("push"):
        stopped = send_all(job.client, pusher, batches, job.stopping, record)
    if pusher.reread is not None:
        job.cache.set_meta("collection", pusher.reread)  # the next run maps with it
    return stopped


def record_batch(
    cache: CollectionCache,
    run_id: str,
    res: BatchResult,
    staged: CollectionCache | None = None,
) -> None:
    """An answered batch in the cache and the journal: what Webflow confirmed becomes live and
    base (less files it dropped); what it refused is marked failed; variants it no longer has
    are forgotten. ``staged``: --target both, where the staged answers go."""
    confirmed, failed, gone, offline = [], [], [], []
    staged_confirmed = []
    refused_cells: list[tuple[str, str, str]] = []
    for vr in res.results:
        w = vr.write
        if vr.item is not None:
            unsent = set(vr.dropped_files) | set(vr.refused_fields)
            keys = {f: k for f, k in w.keys.items() if f not in unsent}
            # A skipped file's URL is no source of what Webflow kept: paired with it, the
            # next run would take the old file for the new one and not send it again.
            sent = {f: v for f, v in w.field_data.items() if f not in unsent}
            for f, (key, kept) in _kept_files(cache.schema, vr).items():
                keys[f], sent[f] = key, kept  # what Webflow kept of a gallery
            refused_cells += [(w.item_id, w.locale_id, f) for f in vr.refused_fields]
            confirmed.append(Confirmed(vr.item, keys, sent))
            if vr.staged_item is not None:
                staged_confirmed.append(Confirmed(vr.staged_item, keys, sent))
        else:
            failed.append((w.item_id, w.locale_id))
            if vr.outcome == NOT_FOUND:
                gone.append((w.item_id, w.locale_id))
            elif vr.outcome == NOT_LIVE:
                offline.append((w.item_id, w.locale_id))
    cache.apply_confirmed(confirmed, run_id=run_id, batch=res.batch.number)
    if staged is not None and staged_confirmed:
        staged.apply_confirmed(staged_confirmed)
    if failed:
        cache.state.journal_failed(run_id, failed)
    if refused_cells:
        cache.state.journal_failed_fields(run_id, refused_cells)
    if gone:
        cache.forget_variants(gone)
    if offline:
        # Remembered, so later runs send nothing for them until they are live again.
        cache.forget_variants(offline, ("webflow", datetime.now(UTC).isoformat(), run_id))


def send_all(
    client: WebflowClient,
    pusher: Pusher,
    batches: list[Batch],
    stopping: Callable[[], bool],
    record: Callable[[BatchResult], None],
) -> str | None:
    """Send ``batches`` through the client's pool; returns why it stopped, if it did.

    Each answered batch goes to ``record`` on a writer thread: recording it (SQLite, hashing)
    takes about as long as a request at the rate ceiling, and done inline it would hold back
    the next requests. A stop (an error that hits every row, the API down past the retry
    budget, SIGINT/SIGTERM) sends nothing more; the batches in flight finish and are recorded.
    """
    if stopping():
        return "stopped: interrupted before the first batch was sent"
    halt: list[str] = []
    writer = _Writer(record)
    try:
        results = client.map_in_flight(pusher.send, batches, stop=lambda: bool(halt) or stopping())
        for _, res in results:
            if isinstance(res, StoppedError):
                halt.append(res.message)
            elif isinstance(res, ApiError):
                halt.append(f"stopped: the API stayed unavailable: {res}")
            elif isinstance(res, BaseException):
                raise res
            else:
                writer.put(res)
    finally:
        writer.close()
    if not halt and stopping():
        halt.append("stopped: interrupted; the batches in flight were finished")
    return halt[0] if halt else None


class _Writer:
    """One thread that records answered batches in order; its first error is re-raised."""

    def __init__(self, record: Callable[[BatchResult], None]) -> None:
        self._record = record
        self._queue: queue.Queue[BatchResult | None] = queue.Queue(maxsize=64)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="csvsync-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._record(item)
                except BaseException as exc:  # handed to the main thread in put()/close()
                    self._error = exc

    def put(self, result: BatchResult) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(result)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

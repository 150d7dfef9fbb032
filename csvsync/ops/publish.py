"""Publishing: put live exactly the staged variants a run wrote, or brought back.

``POST /collections/:id/items/publish`` in requests of at most 100 items; Webflow's answer lists
the items it refused in ``errors``, so a refused item is reported on its rows and the others
still go live. ``publish_written`` is ``--target staged --publish``; ``republish`` publishes
again the items csvsync itself unpublished (``--unpublish-missing``) whose rows are back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from csvsync.errors import ApiError
from csvsync.models import alt_of
from csvsync.ops.context import Job
from csvsync.outcomes import Outcome
from csvsync.pipeline.alt import fold_alt
from csvsync.pipeline.batches import Batch
from csvsync.state.journal import PUBLISHED_MARK

Outcomes = dict[tuple[int, str], tuple[str, str]]  # (sheet row, cmsLocaleId) -> (outcome, message)


def publish_staged(
    job: Job,
    run_id: str,
    batches: list[Batch],
    outcomes: Outcomes,
    rows_of: dict[tuple[str, str], int],
) -> list[str]:
    """--target staged: what this run wrote staged is recorded as not published yet; then the
    waiting variants are published: with ``--publish`` all of them (this run's and what earlier
    staged runs left), without it those an earlier run asked to publish and Webflow refused.

    A variant stays waiting until a publish succeeds, and its row says so on every run. Reads
    Webflow's answer (``errors``), so a refused item is reported and the others still go live.
    ``rows_of``: (item, locale) -> the sheet row that names it. Returns notes for the run.
    """
    publish = job.options.publish
    written = [
        (w.item_id, w.locale_id)
        for b in batches
        for w in b.writes
        if outcomes.get((w.row, w.locale_id), ("",))[0] == Outcome.UPDATED
    ]
    job.cache.add_unpublished(written, run_id, publish)
    now = set(written)
    waiting = [
        (item, loc, run) for item, loc, run, asked, _ in job.cache.unpublished_writes()
        if publish or asked
    ]  # fmt: skip
    notes: list[str] = []
    left = len(job.cache.unpublished_writes()) - len(waiting)
    if left:
        notes.append(
            f"{left} item-variant(s) written staged and not published yet: --publish publishes them"
        )
    if not waiting or job.stopping():
        return notes
    by_item: dict[str, list[tuple[str, str]]] = {}
    for item, loc, run in waiting:
        by_item.setdefault(item, []).append((loc, run))
    items = list(by_item)
    done: list[tuple[str, str]] = []
    refused: list[tuple[str, str, str]] = []
    for i in range(0, len(items), 100):
        part = items[i : i + 100]
        body = [{"id": it, "cmsLocaleIds": sorted({loc for loc, _ in by_item[it]})} for it in part]
        try:
            answer = job.client.publish_items(job.mapping.collection, body)
            errors = [str(e) for e in answer.get("errors", [])]
        except ApiError as exc:
            errors = [f"{it}: {exc}" for it in part]
        for it in part:
            mine = "; ".join(e for e in errors if it in e)
            for loc, run in by_item[it]:
                if mine:
                    refused.append((it, loc, mine))
                else:
                    done.append((it, loc))
                row = rows_of.get((it, loc))
                if row is None:
                    continue
                earlier = "" if (it, loc) in now else f" (written staged by run {run})"
                outcomes[(row, loc)] = (
                    (Outcome.FAILED, f"written staged{earlier}, not published: {mine}; the "
                     "next run tries again")
                    if mine
                    else (Outcome.UPDATED if (it, loc) in now else Outcome.PUBLISHED,
                          f"written staged{earlier} and published")
                )  # fmt: skip
    job.cache.published(done, refused)
    missing = [key for key in refused if key[:2] not in rows_of]
    if missing:
        notes.append(
            f"{len(missing)} item-variant(s) no row names are written staged and still not "
            f"published: {missing[0][2]}"
        )
    return notes


def republish(job: Job, run_id: str, cells: pd.DataFrame | None, outcomes: Outcomes) -> None:
    """Items csvsync unpublished whose rows are back: the sheet's values to the staged
    version, then publish it, then read it back into the cache (its base = what is live).

    Journaled as ``__published__``, so a revert of this run unpublishes them again.
    """
    if cells is None or cells.empty or job.stopping():
        return
    variants: dict[tuple[str, str], dict[str, Any]] = {}
    rows: dict[tuple[str, str], int] = {}
    for item, loc, fld, value, row in zip(
        cells["item_id"], cells["locale_id"], cells["field"], cells["value"], cells["row"],
        strict=True,
    ):  # fmt: skip
        variants.setdefault((item, loc), {})[fld] = value
        rows[(item, loc)] = int(row)
    for key, fd in variants.items():  # alt texts go inside their images
        if any(alt_of(f) for f in fd):
            variants[key] = fold_alt(fd, lambda slug: None, ())
    keys = list(variants)
    done: list[tuple[str, str]] = []
    for i in range(0, len(keys), 100):
        part = keys[i : i + 100]
        try:
            job.client.update_items(
                job.mapping.collection,
                [
                    {"id": it, "cmsLocaleId": loc, "fieldData": variants[(it, loc)]}
                    for it, loc in part
                ],
            )
            answer = job.client.publish_items(job.mapping.collection, locale_items(part))
        except ApiError as exc:
            for key in part:
                outcomes[(rows[key], key[1])] = (Outcome.FAILED, f"not published again: {exc}")
            continue
        published = set(answer.get("publishedItemIds") or [])
        errors = "; ".join(str(e) for e in answer.get("errors") or [])
        for key in part:
            if key[0] in published:
                done.append(key)
                outcomes[(rows[key], key[1])] = (
                    Outcome.PUBLISHED,
                    "unpublished by an earlier run; published again with the sheet's values",
                )
            else:
                outcomes[(rows[key], key[1])] = (
                    Outcome.FAILED,
                    f"not published again: {errors or 'Webflow did not publish it'}",
                )
    if not done:
        return
    job.state.journal_confirmed(run_id, [(i, loc, PUBLISHED_MARK, None, None) for i, loc in done])
    read_back_live(job, done)


def locale_items(variants: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """(item, locale) pairs as a publish or unpublish body: one entry per item, its locales in
    the order first seen."""
    items: dict[str, list[str]] = {}
    for item, loc in variants:
        locs = items.setdefault(item, [])
        if loc not in locs:
            locs.append(loc)
    return [{"id": i, "cmsLocaleIds": locs} for i, locs in items.items()]


def read_back_live(job: Job, variants: Iterable[tuple[str, str]]) -> None:
    """Read just-published variants into the cache: publishing need not move lastUpdated, so
    the next incremental refresh could miss them."""
    wanted = set(variants)
    if not wanted:
        return
    locs = sorted({loc for _, loc in wanted})
    primary = job.primary.cms_locale_id
    items = job.client.iter_items_live(job.mapping.collection, cms_locale_ids=locs)
    job.cache.apply_live(
        it for it in items if (it.get("id"), it.get("cmsLocaleId") or primary) in wanted
    )

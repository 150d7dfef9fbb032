"""``--target staged --publish``: put live exactly the staged variants a run wrote.

``POST /collections/:id/items/publish`` in requests of at most 100 items; Webflow's answer lists
the items it refused in ``errors``, so a refused item is reported on its rows and the others
still go live.
"""

from __future__ import annotations

from csvsync.errors import ApiError
from csvsync.ops.context import Job
from csvsync.outcomes import Outcome
from csvsync.pipeline.batches import Batch

Outcomes = dict[tuple[int, str], tuple[str, str]]  # (sheet row, cmsLocaleId) -> (outcome, message)


def publish_written(job: Job, batches: list[Batch], outcomes: Outcomes) -> None:
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

"""``--unpublish-missing``, the sending half: ``DELETE /items/live`` for the items no row names.

Which items those are, and the guard against a mass unpublish, are pure: ``pipeline/missing.py``.
"""

from __future__ import annotations

from csvsync.errors import ApiError
from csvsync.outcomes import Outcome
from csvsync.pipeline.missing import Unpublish
from csvsync.webflow.client import WebflowClient

CHUNK = 100


def run(client: WebflowClient, collection_id: str, locales: list[str], plan: Unpublish) -> None:
    """``DELETE /items/live`` for every locale of each item, in batches; fills ``outcomes``."""
    for i in range(0, len(plan.item_ids), CHUNK):
        part = plan.item_ids[i : i + CHUNK]
        try:
            client.delete_items_live(
                collection_id, [{"id": item, "cmsLocaleIds": locales} for item in part]
            )
        except ApiError as exc:
            for item in part:
                plan.outcomes[item] = (Outcome.FAILED, f"not unpublished: {exc}")
            continue
        for item in part:
            plan.outcomes[item] = (Outcome.UNPUBLISHED, "no row of the sheet names this item")

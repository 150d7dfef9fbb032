"""``csvsync sites``: the sites a token can see, their collections and how many items are live.

This module owns the listing: sites by name, each site's collections by name (as ``init`` lists
them), and each collection's live item count from one read of a page of one item (the answer's
``pagination.total``, which without a locale filter counts the primary locale's items, so items
rather than item-variants). The counts are read concurrently, ``max_in_flight`` at once, through
the client's pacing. ``init`` without ``--site`` shows the same listing without the counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from csvsync.ops.init import CollectionInfo, list_collections
from csvsync.webflow.client import WebflowClient


@dataclass(frozen=True)
class CollectionSummary:
    """A collection of a site; ``live_items`` is None when not counted."""

    id: str
    name: str
    slug: str
    live_items: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "slug": self.slug, "live_items": self.live_items}


@dataclass(frozen=True)
class SiteSummary:
    """A site the token can see, with its collections by name."""

    id: str
    name: str
    short_name: str
    collections: tuple[CollectionSummary, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "short_name": self.short_name,
            "collections": [c.as_dict() for c in self.collections],
        }


def list_sites(client: WebflowClient, count_items: bool = True) -> list[SiteSummary]:
    """Every site the client's token can see, by name, with its collections (and, with
    ``count_items``, each one's live item count: one request per collection)."""
    sites = sorted(
        client.list_sites(),
        key=lambda s: (str(s.get("displayName", "")).lower(), str(s.get("id", ""))),
    )
    listed = [(site, list_collections(client, str(site.get("id", "")))) for site in sites]
    counts: dict[str, int | None] = {}
    if count_items:
        every = [c for _, collections in listed for c in collections]
        reads = client.map_in_flight(lambda c: _live_items(client, c), every)
        try:
            for info, result in reads:
                if isinstance(result, BaseException):
                    raise result
                counts[info.id] = result
        finally:
            reads.close()  # a failed read: the others not yet started are not sent
    return [
        SiteSummary(
            id=str(site.get("id", "")),
            name=str(site.get("displayName", "")),
            short_name=str(site.get("shortName", "")),
            collections=tuple(
                CollectionSummary(c.id, c.name, c.slug, counts.get(c.id)) for c in collections
            ),
        )
        for site, collections in listed
    ]


def _live_items(client: WebflowClient, collection: CollectionInfo) -> int | None:
    return client.count_live_items(collection.id)

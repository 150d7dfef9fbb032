"""Creating the sheet's new items, live in every mapped locale, without ever making a duplicate.

One locale: ``POST /items/live`` in bulk. Several: ``POST /items/bulk`` across the locales (one
shared id), each secondary variant's own values written to its staged variant (``PATCH /items``
with its ``cmsLocaleId``), then ``POST /items/publish`` for all of them, reading its ``errors``.

Before creating, an item with the same primary slug is looked up through the staged list (it
finds drafts and archived items the live cache cannot see) and updated instead. A create is
never re-sent blindly: after a timeout or a lost answer the item is looked up by slug first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from csvsync.errors import ApiError, NotFoundError, ServerError
from csvsync.outcomes import Outcome
from csvsync.webflow.client import WebflowClient

CHUNK = 100


@dataclass
class NewItem:
    """The sheet row(s) that become one item: values and source row per cmsLocaleId."""

    row: int  # its first row
    field_data: dict[str, dict[str, Any]]
    rows: dict[str, int] = field(default_factory=dict)  # cmsLocaleId -> sheet row
    item_id: str | None = None
    outcome: str = ""
    message: str = ""

    def slug(self, primary: str) -> str:
        return str(self.field_data.get(primary, {}).get("slug", ""))


@dataclass
class CreateTarget:
    """Where to create: the client, collection, the primary and every mapped locale."""

    client: WebflowClient
    collection_id: str
    primary: str
    locales: list[str]
    found_existing: list[NewItem] = field(default_factory=list)
    staged_only: bool = False  # --target staged without --publish: create drafts, publish none


def new_items(creates: pd.DataFrame | None) -> list[NewItem]:
    """Group the cells of new rows into items (by row, or in the long layout by primary slug),
    in sheet order."""
    if creates is None or creates.empty:
        return []
    items: dict[str, NewItem] = {}
    for row, loc, fld, value, group in zip(
        creates["row"],
        creates["locale_id"],
        creates["field"],
        creates["value"],
        creates["group"],
        strict=True,
    ):
        item = items.setdefault(str(group), NewItem(int(row), {}))
        item.row = min(item.row, int(row))
        item.rows[str(loc)] = int(row)
        item.field_data.setdefault(str(loc), {})[str(fld)] = value
    return sorted(items.values(), key=lambda it: it.row)


def _chunks(items: list[NewItem]) -> Iterator[list[NewItem]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


class Creator:
    """Creates ``NewItem``s; fills in each one's ``item_id``, ``outcome`` and ``message``."""

    def __init__(self, target: CreateTarget) -> None:
        self.t = target

    def run(self, items: list[NewItem]) -> None:
        fresh = [it for it in items if not self._adopt_existing(it)]
        for chunk in _chunks(fresh):
            self._create(chunk)
        done = [it for it in items if it.item_id and not it.outcome]
        if len(self.t.locales) > 1:
            self._write_secondary(done)
        if done and len(self.t.locales) > 1 and not self.t.staged_only:
            self._publish(done)
        for it in done:
            if not it.outcome:
                it.outcome = Outcome.CREATED

    def find_by_slug(self, slug: str) -> dict[str, Any] | None:
        """The staged item with this primary slug, if any (drafts and archived included)."""
        if not slug:
            return None
        found = self.t.client.iter_items(
            self.t.collection_id, slug=slug, cms_locale_ids=[self.t.primary]
        )
        return next(iter(found), None)

    def _adopt_existing(self, item: NewItem) -> bool:
        existing = self.find_by_slug(item.slug(self.t.primary))
        if existing is None:
            return False
        item.item_id = existing["id"]
        self.t.found_existing.append(item)
        # Rare (an earlier draft or a lost answer), so one request per locale is fine: Webflow
        # cannot add a locale to an existing item, and a batch would fail for a missing one.
        have, lacking = [], []
        for loc in self.t.locales:
            if not item.field_data.get(loc):
                continue
            entry: dict[str, Any] = {"id": item.item_id, "fieldData": item.field_data[loc]}
            if loc != self.t.primary:
                entry["cmsLocaleId"] = loc
            try:
                self.t.client.update_items(self.t.collection_id, [entry])
                have.append(loc)
            except NotFoundError:
                lacking.append(loc)
            except ApiError as exc:
                item.outcome, item.message = (
                    Outcome.FAILED,
                    f"an existing item has this slug: {exc}",
                )
                return True
        if not self.t.staged_only:
            self._publish([item], have)
        item.message = (
            f"an item with slug '{item.slug(self.t.primary)}' already existed "
            "(a draft, or not live): updated and published it instead of a duplicate"
        )
        if lacking:
            item.message += (
                f"; it has no variant in {len(lacking)} mapped locale(s), and "
                "Webflow's API cannot add one: add the translation in the Designer"
            )
        if not item.outcome:
            item.outcome = Outcome.UPDATED
        return True

    def _create(self, chunk: list[NewItem]) -> None:
        client, cid, primary = self.t.client, self.t.collection_id, self.t.primary
        try:
            if len(self.t.locales) == 1:
                body = [
                    {"isDraft": False, "fieldData": it.field_data.get(primary, {})} for it in chunk
                ]
                answer = client.create_items_live(cid, body)
            else:
                answer = client.create_items_bulk(
                    cid, self.t.locales, [it.field_data.get(primary, {}) for it in chunk]
                )
        except ServerError:
            # The request may have landed: find each item by slug before anyone sends it again.
            for it in chunk:
                found = self.find_by_slug(it.slug(primary))
                if found is not None:
                    it.item_id = found["id"]
                else:
                    it.outcome, it.message = (
                        Outcome.FAILED,
                        "not created: Webflow did not answer; run again",
                    )
            return
        except ApiError as exc:
            self._fail_each(chunk, exc)
            return
        by_slug = {}
        for variant in answer:
            loc = variant.get("cmsLocaleId") or primary
            if loc == primary:
                by_slug[(variant.get("fieldData") or {}).get("slug")] = variant.get("id")
        for it in chunk:
            it.item_id = by_slug.get(it.slug(primary))
            if it.item_id is None:
                it.outcome, it.message = (
                    Outcome.FAILED,
                    "Webflow's answer did not include this item",
                )

    def _fail_each(self, chunk: list[NewItem], exc: ApiError) -> None:
        """A refused batch: create one at a time so one bad row does not block the others."""
        if len(chunk) == 1:
            chunk[0].outcome, chunk[0].message = Outcome.FAILED, f"not created: {exc}"
            return
        for it in chunk:
            self._create([it])

    def _write_staged(self, pairs: list[tuple[NewItem, str]]) -> None:
        body = []
        for it, loc in pairs:
            entry: dict[str, Any] = {"id": it.item_id, "fieldData": it.field_data.get(loc, {})}
            if loc != self.t.primary:
                entry["cmsLocaleId"] = loc
            body.append(entry)
        for i in range(0, len(body), CHUNK):
            part = body[i : i + CHUNK]
            try:
                self.t.client.update_items(self.t.collection_id, part)
            except ApiError as exc:
                failed = {e["id"] for e in part}
                for it, _ in pairs:
                    if it.item_id in failed and not it.outcome:
                        it.outcome = Outcome.FAILED
                        it.message = f"created, but its translations were refused: {exc}"

    def _write_secondary(self, items: list[NewItem]) -> None:
        pairs = [
            (it, loc)
            for it in items
            for loc in self.t.locales
            if loc != self.t.primary and it.field_data.get(loc)
        ]
        self._write_staged(pairs)

    def _publish(self, items: list[NewItem], locales: list[str] | None = None) -> None:
        for i in range(0, len(items), CHUNK):
            part = items[i : i + CHUNK]
            body = [{"id": it.item_id, "cmsLocaleIds": locales or self.t.locales} for it in part]
            try:
                answer = self.t.client.publish_items(self.t.collection_id, body)
            except ApiError as exc:
                for it in part:
                    it.outcome, it.message = (
                        Outcome.FAILED,
                        f"created as a draft, not published: {exc}",
                    )
                continue
            errors = [str(e) for e in answer.get("errors", [])]
            for it in part:
                mine = [e for e in errors if str(it.item_id) in e]
                if mine:
                    it.outcome = Outcome.FAILED
                    it.message = "created as a draft, not published: " + "; ".join(mine)

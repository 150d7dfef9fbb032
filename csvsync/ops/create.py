"""Creating the sheet's new items, live in every mapped locale, without ever making a duplicate.

One locale: ``POST /items/live`` in bulk. Several: ``POST /items/bulk`` across the locales (one
shared id), each secondary variant's own values written to its staged variant (``PATCH /items``
with its ``cmsLocaleId``), then ``POST /items/publish`` for all of them, reading its ``errors``.

An item whose primary slug an existing item already has (a draft or an archived item the live
cache cannot see, or one a killed run created) is updated and published instead of duplicated.
Finding them costs at most one read per 100 new rows: the new items are created in bulk straight
away, and Webflow's refusal of a batch names each taken slug (``Unique value is already in
database: 'slug'``); those are then looked up, through one listing of the staged items when that
is no more pages than the slugs to look up, else one by one. When existing drafts are likely
(the last run was killed) or the listing is that cheap anyway, the listing comes first, so no
create is refused. The items found are finished in bulk too: their values in requests of 100
variants, then one publish per 100 items, as a fresh create would cost. A create is never re-sent
blindly: after a timeout or a lost answer the items are looked up first.

Webflow's plans limit a site's items (2,000 on CMS, 10,000 on Business), and not every plan can
read the limit or the count, so the first create refused for it ends the creating: the new items
not yet created are ``not sent``, with the reason. ``check_item_limit`` is ``--item-limit``'s
refusal before anything is sent, when the user knows the limit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from csvsync.errors import (
    ApiError,
    ConflictError,
    ItemLimitError,
    NotFoundError,
    ServerError,
    ValidationApiError,
)
from csvsync.models import alt_of
from csvsync.ops.push import PUBLISH_FIRST, TAKEN_PERHAPS_DELETED, structure_changed
from csvsync.outcomes import Outcome
from csvsync.pipeline.alt import fold_alt
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
    known_items: int = 0  # items the cache knows live: what one listing of the staged costs
    look_first: bool = False  # drafts are likely (the last run was killed): list them first
    item_limit: int | None = None  # --item-limit: the plan's limit, when the user knows it
    # whether the cache knows an item (live or offline) with this slug: a taken slug no item
    # has now is then a deleted item's, which Webflow keeps until the next site publish
    known_slug: Callable[[str], bool] | None = None
    stopped: str | None = None  # set when Webflow refuses every live create: why


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
    for item in items.values():  # a new item's alt texts go inside its images
        for loc, fd in item.field_data.items():
            if any(alt_of(f) for f in fd):
                item.field_data[loc] = fold_alt(fd, _nothing_live, ())
    return sorted(items.values(), key=lambda it: it.row)


def _nothing_live(slug: str) -> None:
    return None


_TAKEN = re.compile(r"Unique value is already in database: '(.*)'")


def _taken_slugs(exc: ApiError) -> set[str]:
    """The slugs a refused create names as taken (Webflow's 400 details, one per field)."""
    out = set()
    for d in exc.details:
        if isinstance(d, dict) and str(d.get("param") or "") == "slug":
            m = _TAKEN.match(str(d.get("description") or ""))
            if m:
                out.add(m.group(1))
    return out


# Inferred from Webflow's plan pages (no source quotes the API's answer): any 4xx that names an
# item limit, whatever its status and code.
_ITEM_LIMIT = re.compile(r"\bitems?[ _-]limit", re.IGNORECASE)
_ALLOWS = re.compile(r"allows\s+(\d[\d,]*)")


def is_item_limit(exc: ApiError) -> bool:
    """Whether Webflow refused a create because the site has as many items as its plan allows."""
    if exc.status is None or not 400 <= exc.status < 500:
        return False
    details = " ".join(str(d) for d in exc.details)
    return bool(_ITEM_LIMIT.search(f"{exc.code or ''} {exc.message} {details}"))


def item_limit_reason(exc: ApiError, known: int | None = None) -> str:
    """The ``not sent`` reason of the new items left after an item-limit refusal."""
    found = _ALLOWS.search(exc.message)
    limit = found.group(1) if found else None if known is None else str(known)
    allows = f"allows {limit} items" if limit else "allows no more items"
    return (
        f"Webflow refused: the site's plan {allows} (item limit reached); nothing more was "
        "created: upgrade the plan or remove items"
    )


def site_item_count(client: WebflowClient, site_id: str) -> int:
    """The items of every collection of the site, drafts and archived ones too (the plan's
    limit counts them all): one staged read of page size 1 per collection, for its
    ``pagination.total``. Not the cache: it holds this collection's live items only."""
    return sum(client.count_items(str(c["id"])) or 0 for c in client.list_collections(site_id))


def check_item_limit(client: WebflowClient, site_id: str, creating: int, limit: int) -> None:
    """``--item-limit``: ``ItemLimitError`` if ``creating`` new items would take the site
    past ``limit``."""
    there = site_item_count(client, site_id)
    if there + creating > limit:
        raise ItemLimitError(
            f"--item-limit {limit}: this run would create {creating} item(s) and the site has "
            f"{there}, {there + creating - limit} past the plan's limit",
            "remove items, upgrade the plan (and raise --item-limit), or create fewer",
        )


def _chunks(items: list[NewItem]) -> Iterator[list[NewItem]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


class Creator:
    """Creates ``NewItem``s; fills in each one's ``item_id``, ``outcome`` and ``message``."""

    def __init__(self, target: CreateTarget) -> None:
        self.t = target
        self.limit_reason: str | None = None  # set by the first item-limit refusal

    def run(self, items: list[NewItem]) -> None:
        fresh = list(items)
        pages = self._listing_pages(len(items))
        if self.t.look_first or pages <= math.ceil(len(items) / CHUNK):
            found = self._adopt_all(fresh, self._staged_by_slug())
            fresh = [it for it in fresh if it not in found]
        taken: list[NewItem] = []
        for chunk in _chunks(fresh):
            if self.t.stopped:
                for it in chunk:
                    it.outcome, it.message = Outcome.NOT_SENT, self.t.stopped
                continue
            if self.limit_reason is not None:
                self._not_sent(chunk)
                continue
            taken += self._create(chunk)
        if taken:
            self._adopt_all(taken, self._lookup(taken), missing_fails=True)
        done = [it for it in items if it.item_id and not it.outcome]
        if len(self.t.locales) > 1:
            self._write_secondary(done)
        if done and len(self.t.locales) > 1 and not self.t.staged_only:
            self._publish(done)
        for it in done:
            if not it.outcome:
                it.outcome = Outcome.CREATED

    def _listing_pages(self, new: int) -> int:
        """The pages (reads) of one listing of the staged items: those known plus ``new``."""
        return math.ceil((self.t.known_items + new) / CHUNK) or 1

    def find_by_slug(self, slug: str) -> dict[str, Any] | None:
        """The staged item with this primary slug, if any (drafts and archived included)."""
        if not slug:
            return None
        found = self.t.client.iter_items(
            self.t.collection_id, slug=slug, cms_locale_ids=[self.t.primary]
        )
        return next(iter(found), None)

    def _staged_by_slug(self) -> dict[str, str]:
        """Primary slug -> id of every staged item: one listing, 100 items a page."""
        listing = self.t.client.iter_items(self.t.collection_id, cms_locale_ids=[self.t.primary])
        return {
            str((it.get("fieldData") or {}).get("slug")): str(it["id"])
            for it in listing
            if (it.get("fieldData") or {}).get("slug")
        }

    def _lookup(self, items: list[NewItem]) -> dict[str, str]:
        """Slug -> id of the items Webflow said exist: a listing if that is fewer reads."""
        pages = self._listing_pages(len(items))
        if len(items) >= pages:
            return self._staged_by_slug()
        out = {}
        for it in items:
            slug = it.slug(self.t.primary)
            found = self.find_by_slug(slug)
            if found is not None:
                out[slug] = str(found["id"])
        return out

    def _adopt_all(
        self, items: list[NewItem], ids: dict[str, str], missing_fails: bool = False
    ) -> list[NewItem]:
        """Update (and publish) the items whose slug an existing item has, in bulk; returns
        them. ``missing_fails``: an item Webflow said exists but was not found is failed."""
        found = []
        for it in items:
            item_id = ids.get(it.slug(self.t.primary))
            if item_id is None:
                if missing_fails and not it.outcome:
                    it.outcome, it.message = Outcome.FAILED, self._held(it.slug(self.t.primary))
                continue
            it.item_id = item_id
            found.append(it)
        if not found:
            return []
        self.t.found_existing.extend(found)
        entries = [(it, loc) for it in found for loc in self.t.locales if it.field_data.get(loc)]
        lacking: dict[int, list[str]] = {}
        for i in range(0, len(entries), CHUNK):
            part = entries[i : i + CHUNK]
            try:
                self.t.client.update_items(
                    self.t.collection_id, [self._entry(it, loc) for it, loc in part]
                )
            except NotFoundError:
                # Some item lacks a locale's variant (Webflow cannot add one): one at a time.
                for it, loc in part:
                    try:
                        self.t.client.update_items(self.t.collection_id, [self._entry(it, loc)])
                    except NotFoundError:
                        lacking.setdefault(id(it), []).append(loc)
                    except ApiError as exc:
                        it.outcome = Outcome.FAILED
                        it.message = f"an existing item has this slug: {exc}"
            except ApiError as exc:
                for it, _ in part:
                    it.outcome = Outcome.FAILED
                    it.message = f"an existing item has this slug: {exc}"
        if not self.t.staged_only:
            # One publish per 100 items that have the same locales (most: all of them).
            groups: dict[tuple[str, ...], list[NewItem]] = {}
            for it in found:
                if not it.outcome:
                    have = tuple(
                        loc for loc in self.t.locales if loc not in lacking.get(id(it), [])
                    )
                    groups.setdefault(have, []).append(it)
            for have, group in groups.items():
                self._publish(group, list(have))
        for it in found:
            if it.outcome:
                continue
            it.message = (
                f"an item with slug '{it.slug(self.t.primary)}' already existed "
                "(a draft, or not live): updated and published it instead of a duplicate"
            )
            if lacking.get(id(it)):
                it.message += (
                    f"; it has no variant in {len(lacking[id(it)])} mapped locale(s), and "
                    "Webflow's API cannot add one: add the translation in the Designer"
                )
            it.outcome = Outcome.UPDATED
        return found

    def _held(self, slug: str) -> str:
        """A slug Webflow says is taken that no item has: a deleted item's, Webflow keeps
        those until the site is published. Certain only if csvsync knew the item."""
        if self.t.known_slug is not None and self.t.known_slug(slug):
            why = f"slug '{slug}' is still held by a deleted item until the site is published again"
        else:
            why = f"slug '{slug}' is {TAKEN_PERHAPS_DELETED}"
        return f"not created: {why}; publish the site in Webflow, or use another slug"

    def _entry(self, it: NewItem, loc: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"id": it.item_id, "fieldData": it.field_data.get(loc, {})}
        if loc != self.t.primary:
            entry["cmsLocaleId"] = loc
        return entry

    def _create(self, chunk: list[NewItem]) -> list[NewItem]:
        """Create ``chunk`` in one request; returns the items whose slug Webflow says is
        taken (to be looked up and updated instead)."""
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
            # The request may have landed: find the items before anyone sends them again.
            ids = self._lookup(chunk)
            for it in chunk:
                it.item_id = ids.get(it.slug(primary))
                if it.item_id is None:
                    it.outcome, it.message = (
                        Outcome.FAILED,
                        "not created: Webflow did not answer; run again",
                    )
            return []
        except ConflictError as exc:
            if is_item_limit(exc):
                return self._limit_reached(chunk, exc)
            if not structure_changed(exc):
                return self._fail_each(chunk, exc)
            # Every live create is refused until the site is published: stop, send no more.
            self.t.stopped = f"stopped: {PUBLISH_FIRST}"
            for it in chunk:
                it.outcome, it.message = Outcome.NOT_SENT, self.t.stopped
            return []
        except ValidationApiError as exc:
            if is_item_limit(exc):
                return self._limit_reached(chunk, exc)
            taken = _taken_slugs(exc)
            clash = [it for it in chunk if it.slug(primary) in taken]
            if taken and clash:
                rest = [it for it in chunk if it not in clash]
                return clash + (self._create(rest) if rest else [])
            return self._fail_each(chunk, exc)
        except ApiError as exc:
            if is_item_limit(exc):
                return self._limit_reached(chunk, exc)
            return self._fail_each(chunk, exc)
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
        return []

    def _fail_each(self, chunk: list[NewItem], exc: ApiError) -> list[NewItem]:
        """A refused batch: create one at a time so one bad row does not block the others;
        returns those whose slug is taken."""
        if len(chunk) == 1:
            chunk[0].outcome, chunk[0].message = Outcome.FAILED, f"not created: {exc}"
            return []
        taken = []
        for it in chunk:
            if self.limit_reason is None:
                taken += self._create([it])
            else:
                self._not_sent([it])
        return taken

    def _limit_reached(self, chunk: list[NewItem], exc: ApiError) -> list[NewItem]:
        """The site is full: no create is sent from now on (each would be refused alike)."""
        self.limit_reason = item_limit_reason(exc, self.t.item_limit)
        self._not_sent(chunk)
        return []

    def _not_sent(self, chunk: list[NewItem]) -> None:
        for it in chunk:
            it.outcome, it.message = Outcome.NOT_SENT, str(self.limit_reason)

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

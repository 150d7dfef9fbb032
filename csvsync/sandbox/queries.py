"""Parsing the item-list query string (offset, limit, locales, filters, sort) into SQL parts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .apierrors import WebflowError
from .validation import parse_datetime

MAX_LIMIT = 100
SORT_COLUMNS = {
    "createdOn": "created_on",
    "lastPublished": "last_published",
    "lastUpdated": "last_updated",
    "name": "name",
    "slug": "slug",
}
_RANGE_RE = re.compile(r"^(createdOn|lastPublished|lastUpdated)(?:\[(gte|lte)\]|\.(gte|lte))$")
# A date filter is an object (style deepObject: ``lastUpdated[gte]=``); the bare name or
# another key under it is malformed, not ignored, or a typo would list everything.
_RANGE_NAME_RE = re.compile(r"^(createdOn|lastPublished|lastUpdated)(?:$|[\[.])")
# ASCII digits only: int() would also take " 5", "+5", "5_0" and non-Latin digits
_INT_RE = re.compile(r"-?[0-9]{1,18}")


def _invalid(param: str, description: str) -> WebflowError:
    return WebflowError(
        400, "validation_error", "Validation Error", [{"param": param, "description": description}]
    )


@dataclass
class ListQuery:
    offset: int = 0
    limit: int = MAX_LIMIT
    locales: list[str] | None = None  # raw cmsLocaleId values; None = primary only
    name: str | None = None
    slug: str | None = None
    ranges: list[tuple[str, str, str]] = field(default_factory=list)  # (column, op, iso)
    sort_by: str | None = None
    descending: bool = False


def _int_param(params: dict[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not _INT_RE.fullmatch(raw):
        raise _invalid(name, f"Expected an integer, got '{raw[:40]}'")
    return int(raw)


def parse_list_query(params: dict[str, str]) -> ListQuery:
    """``params`` holds the last value of each query key (as Webflow reads them)."""
    q = ListQuery()
    q.offset = _int_param(params, "offset", 0)
    q.limit = _int_param(params, "limit", MAX_LIMIT)
    if q.offset < 0:
        raise _invalid("offset", "Must be greater than or equal to 0")
    if q.limit < 1 or q.limit > MAX_LIMIT:
        raise _invalid("limit", f"Must be between 1 and {MAX_LIMIT}")
    if "cmsLocaleId" in params and params["cmsLocaleId"] != "":
        q.locales = [p.strip() for p in params["cmsLocaleId"].split(",") if p.strip()]
    q.name = params.get("name") or None
    q.slug = params.get("slug") or None
    for key, value in params.items():
        m = _RANGE_RE.match(key)
        if not m:
            if _RANGE_NAME_RE.match(key):
                raise _invalid(key, "Expected a date filter such as lastUpdated[gte]=<ISO date>")
            continue
        op = ">=" if (m.group(2) or m.group(3)) == "gte" else "<="
        try:
            iso = parse_datetime(value)
        except ValueError:
            raise _invalid(key, f"Invalid date: '{value}'") from None
        q.ranges.append((SORT_COLUMNS[m.group(1)], op, iso))
    sort_by = params.get("sortBy")
    if sort_by:
        if sort_by not in SORT_COLUMNS:
            raise _invalid("sortBy", f"Must be one of {', '.join(SORT_COLUMNS)}")
        q.sort_by = SORT_COLUMNS[sort_by]
    order = params.get("sortOrder") or "asc"
    if order not in ("asc", "desc"):
        raise _invalid("sortOrder", "Must be one of asc, desc")
    q.descending = order == "desc"
    return q


def where_clause(
    q: ListQuery, collection_id: str, side: int, locales: list[str]
) -> tuple[str, list[Any]]:
    """The WHERE text and its arguments (locales already resolved to cmsLocaleIds)."""
    parts = ["collection_id = ?", "side = ?"]
    args: list[Any] = [collection_id, side]
    parts.append(f"cms_locale_id IN ({','.join('?' * len(locales))})")
    args.extend(locales)
    if q.name is not None:
        parts.append("name = ?")
        args.append(q.name)
    if q.slug is not None:
        parts.append("slug = ?")
        args.append(q.slug)
    for column, op, iso in q.ranges:
        parts.append(f"{column} {op} ?")
        args.append(iso)
    return " AND ".join(parts), args


def order_clause(q: ListQuery) -> str:
    direction = "DESC" if q.descending else "ASC"
    if q.sort_by is None:
        return f"ord {direction}"
    # items without a value (never published) sort last either way, then by creation order
    return f"{q.sort_by} IS NULL, {q.sort_by} {direction}, ord ASC"


class PageCache:
    """Totals and keyset cursors of recent list queries, so paging through 100k variants
    costs an index seek per page instead of an OFFSET scan and a COUNT.

    Entries are keyed by the query and a per-collection version: inserts, publishes and
    unpublishes change membership (every key), updates change only filtered or sorted keys.
    """

    MAX_KEYS = 2000

    def __init__(self) -> None:
        self._members: dict[str, int] = {}
        self._updates: dict[str, int] = {}
        self._totals: dict[tuple[Any, ...], int] = {}
        self._cursors: dict[tuple[Any, ...], dict[int, int]] = {}

    def bump(self, collection_id: str, membership: bool) -> None:
        table = self._members if membership else self._updates
        table[collection_id] = table.get(collection_id, 0) + 1

    def key(
        self, q: ListQuery, collection_id: str, side: int, locales: list[str]
    ) -> tuple[Any, ...]:
        sensitive = bool(q.name or q.slug or q.ranges or q.sort_by)
        return (
            collection_id, side, tuple(locales), q.name, q.slug, tuple(q.ranges), q.sort_by,
            q.descending, self._members.get(collection_id, 0),
            self._updates.get(collection_id, 0) if sensitive else None,
        )  # fmt: skip

    def total(self, key: tuple[Any, ...]) -> int | None:
        return self._totals.get(key)

    def put_total(self, key: tuple[Any, ...], total: int) -> None:
        if len(self._totals) > self.MAX_KEYS:
            self._totals.clear()
        self._totals[key] = total

    def cursor(self, key: tuple[Any, ...], offset: int) -> int | None:
        """The ``ord`` of the row just before ``offset`` (default ordering only)."""
        return self._cursors.get(key, {}).get(offset)

    def put_cursor(self, key: tuple[Any, ...], offset: int, last_ord: int) -> None:
        if len(self._cursors) > self.MAX_KEYS:
            self._cursors.clear()
        self._cursors.setdefault(key, {})[offset] = last_ord

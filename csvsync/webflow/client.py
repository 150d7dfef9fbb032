"""The Webflow Data API v2 client: typed calls for sites, collections and items, and pagination.

This module owns *what* is asked of Webflow: the paths, parameters and bodies of the calls, and
the shapes of their answers. Every call is sent by ``transport.py``'s ``RequestLoop`` (pacing,
retries, the retry budget) through a ``Transport`` (``ClientOptions.transport``; a
``requests.Session`` by default); ``errors.py`` maps error answers to ``ApiError``s.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar, cast
from urllib.parse import quote

from csvsync.errors import ConfigError
from csvsync.models import UNLOCALIZED
from csvsync.webflow.transport import (
    CREATE_HINT,
    Call,
    ClientOptions,
    ClientStats,
    RequestLoop,
    RequestsTransport,
    check_api_base,
    check_options,
    int_or_none,
)
from csvsync.webflow.wire import Transport

__all__ = [
    "CREATE_HINT",
    "ClientOptions",
    "ClientStats",
    "Listing",
    "WebflowClient",
    "check_api_base",
]

T = TypeVar("T")
R = TypeVar("R")

MAX_PAGE_SIZE = 100


class WebflowClient:
    """Typed calls to the Webflow Data API v2 (CMS sites, collections and items)."""

    def __init__(self, options: ClientOptions) -> None:
        check_options(options)
        self.options = options
        self.api_base = check_api_base(options.api_base)
        # The default transport is ours to close; one passed in belongs to the caller.
        self._own_transport: RequestsTransport | None = None
        transport = options.transport
        if transport is None:
            transport = self._own_transport = RequestsTransport(pool_size=options.max_in_flight)
        self.transport: Transport = transport
        self._loop = RequestLoop(options, self.api_base, self.transport)

    # -- lifecycle -------------------------------------------------------------------------------

    def close(self) -> None:
        if self._own_transport is not None:
            self._own_transport.close()

    def __enter__(self) -> WebflowClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"WebflowClient({self.api_base!r})"

    @property
    def stats(self) -> ClientStats:
        """A snapshot of the counters (safe to read while a pool is running)."""
        return self._loop.stats

    # -- sites and collections -------------------------------------------------------------------

    def stop_writes_when(self, stop: Callable[[], bool]) -> None:
        """Once ``stop()`` is true, no write request starts (``StoppedError`` instead); reads,
        and retries of a write already sent, go on."""
        self._loop.stop_writes = stop

    def introspect(self) -> dict[str, Any]:
        return _as_dict(self._loop.call(Call("GET", "/token/introspect")))

    def list_sites(self) -> list[dict[str, Any]]:
        return _as_list(self._loop.call(Call("GET", "/sites")), "sites")

    def get_site(self, site_id: str) -> dict[str, Any]:
        return _as_dict(self._loop.call(Call("GET", f"/sites/{_seg(site_id)}")))

    def list_collections(self, site_id: str) -> list[dict[str, Any]]:
        body = self._loop.call(Call("GET", f"/sites/{_seg(site_id)}/collections"))
        return _as_list(body, "collections")

    def get_collection(self, collection_id: str) -> dict[str, Any]:
        return _as_dict(self._loop.call(Call("GET", f"/collections/{_seg(collection_id)}")))

    # -- reading items ---------------------------------------------------------------------------

    def iter_items_live(
        self,
        collection_id: str,
        cms_locale_ids: Sequence[str] | None = None,
        updated_since: str | None = None,
        slug: str | None = None,
        name: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Listing:
        """Every published item-variant, all pages (``GET /collections/:id/items/live``)."""
        path = f"/collections/{_seg(collection_id)}/items/live"
        filters = _item_filters(cms_locale_ids, updated_since, slug, name)
        return self._paginate(path, filters, page_size)

    def iter_items(
        self,
        collection_id: str,
        cms_locale_ids: Sequence[str] | None = None,
        updated_since: str | None = None,
        slug: str | None = None,
        name: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Listing:
        """Every staged item-variant, all pages (``GET /collections/:id/items``)."""
        path = f"/collections/{_seg(collection_id)}/items"
        filters = _item_filters(cms_locale_ids, updated_since, slug, name)
        return self._paginate(path, filters, page_size)

    def count_items(self, collection_id: str) -> int | None:
        """The collection's items, drafts and archived ones included: ``pagination.total`` of
        one staged page of size 1 (the primary locale's variants, one per item)."""
        return self._count(f"/collections/{_seg(collection_id)}/items")

    def count_live_items(self, collection_id: str) -> int | None:
        """The collection's live items: ``pagination.total`` of one live page of size 1."""
        return self._count(f"/collections/{_seg(collection_id)}/items/live")

    def _count(self, path: str) -> int | None:
        body = _as_dict(self._loop.call(Call("GET", path, {"offset": "0", "limit": "1"})))
        return _total(body)

    def _paginate(self, path: str, filters: dict[str, str], page_size: int) -> Listing:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ConfigError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, not {page_size}")
        count = _Count()
        # The generator holds only ``count``, never the listing: no reference cycle, so a
        # listing its reader drops is freed at once, which closes the generator and with it the
        # pages still queued or in flight (see the ``finally`` below).
        return Listing(self._pages(path, filters, page_size, count), count)

    def _pages(
        self, path: str, filters: dict[str, str], page_size: int, count: _Count
    ) -> Iterator[dict[str, Any]]:
        """Every list element of every page, in offset order.

        The first page states ``pagination.total``; the remaining offsets are then requested
        through ``map_in_flight`` (paced, ``max_in_flight`` at once) so a long pull runs at the
        rate limit rather than at one request per round trip, and pages are yielded in offset
        order. ``offset`` and ``total`` count list elements (item-variants), as the sandbox and
        the examples in Webflow's spec do.
        """

        def page(offset: int) -> dict[str, Any]:
            params = {**filters, "offset": str(offset), "limit": str(page_size)}
            return _as_dict(self._loop.call(Call("GET", path, params)))

        body = page(0)
        items = _as_list(body, "items")
        total = count.total = _total(body)
        yield from items
        # A server that caps `limit` below page_size pages by its own size: step by that.
        step = len(items)
        end = len(items)
        # Each round starts at the first offset not yet read and reads up to the latest total.
        # A page of another length than `step` (the collection shrank or grew meanwhile, or it
        # is the last page) ends the round, so planned offsets never skip or repeat elements
        # relative to what the server just said; an empty page ends the pull whatever `total`
        # says. Every round reads at least one element or stops, so the loop is bounded.
        while items and total is not None and end < total:
            rounds = self.map_in_flight(page, range(end, total, step), ordered=True)
            try:
                for offset, result in rounds:
                    if isinstance(result, BaseException):
                        raise result
                    items = _as_list(result, "items")
                    yield from items
                    end = offset + len(items)
                    total = count.total = _total(result)
                    if len(items) != step or total is None:
                        break
            finally:
                # Closing cancels the offsets not started and waits for those in flight, so
                # no thread outlives the pull (also when the caller stops early).
                rounds.close()

    # -- writing items ---------------------------------------------------------------------------

    def update_items_live(
        self, collection_id: str, items: list[dict[str, Any]], skip_invalid_files: bool = True
    ) -> list[dict[str, Any]]:
        """``PATCH /collections/:id/items/live`` (≤100 published item-variants); returns them."""
        return self._write_items("PATCH", collection_id, "/items/live", items, skip_invalid_files)

    def update_items(
        self, collection_id: str, items: list[dict[str, Any]], skip_invalid_files: bool = True
    ) -> list[dict[str, Any]]:
        """``PATCH /collections/:id/items`` (staged; visible after a publish)."""
        return self._write_items("PATCH", collection_id, "/items", items, skip_invalid_files)

    def create_items_live(
        self, collection_id: str, items: list[dict[str, Any]], skip_invalid_files: bool = True
    ) -> list[dict[str, Any]]:
        """``POST /collections/:id/items/live``. Not retried after a timeout or 5xx."""
        return self._write_items(
            "POST", collection_id, "/items/live", items, skip_invalid_files, idempotent=False
        )

    def create_items(
        self, collection_id: str, items: list[dict[str, Any]], skip_invalid_files: bool = True
    ) -> list[dict[str, Any]]:
        """``POST /collections/:id/items`` (staged, primary locale). Not retried after a 5xx."""
        return self._write_items(
            "POST", collection_id, "/items", items, skip_invalid_files, idempotent=False
        )

    def create_items_bulk(
        self,
        collection_id: str,
        cms_locale_ids: Sequence[str],
        field_data_list: list[dict[str, Any]],
        is_draft: bool = False,
        skip_invalid_files: bool = True,
    ) -> list[dict[str, Any]]:
        """``POST /collections/:id/items/bulk``: one item per field data, in every locale given."""
        body: dict[str, Any] = {"isDraft": is_draft, "fieldData": field_data_list}
        if _sendable(cms_locale_ids):
            body["cmsLocaleIds"] = _sendable(cms_locale_ids)
        call = Call(
            "POST",
            f"/collections/{_seg(collection_id)}/items/bulk",
            {"skipInvalidFiles": _bool(skip_invalid_files)},
            body,
            idempotent=False,
        )
        return _items_of(self._loop.call(call))

    def delete_items_live(self, collection_id: str, items: list[dict[str, Any]]) -> None:
        """``DELETE /collections/:id/items/live``: unpublish (``[{"id", "cmsLocaleIds"?}]``)."""
        path = f"/collections/{_seg(collection_id)}/items/live"
        self._loop.call(Call("DELETE", path, None, {"items": _without_unlocalized(items)}))

    def publish_items(self, collection_id: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        """``POST /collections/:id/items/publish``; partial success is in ``errors``."""
        path = f"/collections/{_seg(collection_id)}/items/publish"
        # Publishing twice publishes the same staged state: safe to repeat.
        call = Call("POST", path, None, {"items": _without_unlocalized(items)}, idempotent=True)
        body = self._loop.call(call)
        result = _as_dict(body)
        result.setdefault("publishedItemIds", [])
        result.setdefault("errors", [])
        return result

    def _write_items(
        self,
        method: str,
        collection_id: str,
        suffix: str,
        items: list[dict[str, Any]],
        skip_invalid_files: bool,
        idempotent: bool = True,
    ) -> list[dict[str, Any]]:
        call = Call(
            method,
            f"/collections/{_seg(collection_id)}{suffix}",
            {"skipInvalidFiles": _bool(skip_invalid_files)},
            {"items": _without_unlocalized(items)},
            idempotent=idempotent,
        )
        return _items_of(self._loop.call(call))

    # -- concurrency -----------------------------------------------------------------------------

    def map_in_flight(
        self,
        fn: Callable[[T], R],
        inputs: Iterable[T],
        stop: Callable[[], bool] | None = None,
        *,
        ordered: bool = False,
    ) -> Generator[tuple[T, R | BaseException], None, None]:
        """Run ``fn`` over ``inputs`` with at most ``max_in_flight`` calls at once.

        Yields ``(input, result or exception)`` as each completes, or in input order when
        ``ordered`` (a slow call then holds back the results after it; no more than
        ``2 * max_in_flight`` are ever started ahead of the one yielded next, so memory stays
        bounded either way). Only a few inputs are queued ahead of the workers, so a huge input
        is consumed lazily; closing the iterator early cancels what has not started and waits
        for the calls in flight. Once ``stop()`` is true, inputs not yet started are dropped
        (never yielded) and the calls in flight are allowed to finish: a graceful stop.
        """
        workers = self.options.max_in_flight
        source = iter(inputs)
        if stop is not None:
            fn = _unless(stop, fn)
        # Insertion-ordered: the first key is always the earliest input still pending.
        pending: dict[Future[R], T] = {}
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=_POOL_PREFIX)
        try:
            _fill(pool, fn, source, pending, 2 * workers)
            while pending:
                if ordered:
                    head = next(iter(pending))
                    wait([head])
                    done: Iterable[Future[R]] = [head]
                else:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    item = pending.pop(future)
                    error = future.exception()
                    if error is None and future.result() is _SKIPPED:
                        continue  # a stop came before it started: dropped, never yielded
                    yield item, (error if error is not None else future.result())
                if stop is not None and stop():
                    for future in [f for f in pending if f.cancel()]:
                        del pending[future]
                    continue
                _fill(pool, fn, source, pending, 2 * workers)
        finally:
            # A generator dropped mid-way may be finalised on one of the pool's own threads (the
            # garbage collector runs where the last reference goes): that thread cannot wait
            # for itself, so there the pool is only told to stop (Python 3.13 raises otherwise).
            own = threading.current_thread().name.startswith(_POOL_PREFIX)
            pool.shutdown(wait=not own, cancel_futures=True)


# -- helpers ---------------------------------------------------------------------------------------


_SKIPPED: Any = object()
_POOL_PREFIX = "csvsync-http"


def _unless(stop: Callable[[], bool], fn: Callable[[T], R]) -> Callable[[T], R]:
    """``fn``, except that an input a worker picks up after ``stop()`` is skipped."""

    def call(item: T) -> R:
        if stop():
            return cast(R, _SKIPPED)
        return fn(item)

    return call


def _fill(
    pool: ThreadPoolExecutor,
    fn: Callable[[T], R],
    source: Iterator[T],
    pending: dict[Future[R], T],
    depth: int,
) -> None:
    while len(pending) < depth:
        try:
            item = next(source)
        except StopIteration:
            return
        pending[pool.submit(fn, item)] = item


def _seg(value: str) -> str:
    """One path segment: an id can never add path parts or a query."""
    if not value:
        raise ConfigError("an empty id was given to the Webflow client")
    return quote(str(value), safe="")


def _sendable(cms_locale_ids: Sequence[str]) -> list[str]:
    """The ids Webflow knows: a site without localization has none to send."""
    return [loc for loc in cms_locale_ids if loc != UNLOCALIZED]


def _without_unlocalized(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Item bodies with ``UNLOCALIZED`` left out (the key omitted: Webflow refuses null)."""
    if not any(
        it.get("cmsLocaleId") == UNLOCALIZED or UNLOCALIZED in (it.get("cmsLocaleIds") or ())
        for it in items
    ):
        return items
    out = []
    for it in items:
        it = {k: v for k, v in it.items() if not (k == "cmsLocaleId" and v == UNLOCALIZED)}
        if "cmsLocaleIds" in it:
            ids = _sendable(it.pop("cmsLocaleIds") or ())
            if ids:
                it["cmsLocaleIds"] = ids
        out.append(it)
    return out


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _item_filters(
    cms_locale_ids: Sequence[str] | None,
    updated_since: str | None,
    slug: str | None,
    name: str | None,
) -> dict[str, str]:
    filters: dict[str, str] = {}
    if _sendable(cms_locale_ids or ()):
        filters["cmsLocaleId"] = ",".join(_sendable(cms_locale_ids or ()))
    if updated_since:
        filters["lastUpdated[gte]"] = updated_since
    if slug is not None:
        filters["slug"] = slug
    if name is not None:
        filters["name"] = name
    return filters


def _as_dict(body: Any) -> dict[str, Any]:
    return body if isinstance(body, dict) else {}


def _as_list(body: Any, key: str) -> list[dict[str, Any]]:
    value = body.get(key) if isinstance(body, dict) else body
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _items_of(body: Any) -> list[dict[str, Any]]:
    """Write answers are ``{"items": [...]}``, a bare list, or a single item (one-item creates)."""
    if isinstance(body, dict) and "items" not in body and "id" in body:
        return [body]
    return _as_list(body, "items")


@dataclass
class _Count:
    total: int | None = None


class Listing(Iterator[dict[str, Any]]):
    """The list elements of every page, in offset order, as they arrive; ``total`` is the
    element count the server stated last (None before the first page, or if it states none),
    so a progress bar can show how far a pull has come."""

    def __init__(self, elements: Iterator[dict[str, Any]], count: _Count) -> None:
        self.elements = elements
        self._count = count

    @property
    def total(self) -> int | None:
        return self._count.total

    def __next__(self) -> dict[str, Any]:
        return next(self.elements)

    def close(self) -> None:
        """Stop early: requests not yet started are cancelled, those in flight finish."""
        close = getattr(self.elements, "close", None)
        if close is not None:
            close()


def _total(body: dict[str, Any]) -> int | None:
    return int_or_none((body.get("pagination") or {}).get("total"))

"""The Webflow Data API v2 client: one session, typed calls, pagination, retries, error mapping.

This module owns *what* is sent to Webflow and what an answer means; ``ratelimit.py`` owns *when*
a request may start. Every request goes through ``WebflowClient._call``:

- pacing: the ``Pacer`` admits the start (at most ``limit`` per rate window, learned from the
  ``X-RateLimit-*`` headers), so a long run stays under the ceiling instead of bouncing off 429s;
- 429: every caller waits ``Retry-After`` (default 60 s) and the *same* request is sent again;
  Webflow did not process it, so this holds for creates too;
- 5xx, 408, timeouts and dropped connections: retried with capped exponential backoff and jitter,
  but only for calls that are safe to repeat (GET, PATCH, DELETE, publish). A create that may have
  reached Webflow is never re-sent blindly: the caller gets a ``ServerError`` and looks the items
  up. A connection that was never established is safe for every call;
- 400/401/403/404/409 are never retried; they become the ``ApiError`` subclasses of
  ``csvsync.errors`` with Webflow's code, message and details;
- the retry budget (``max_retries``, ``max_retry_time`` seconds per request, or since the API last
  answered) turns a long outage into ``ServerError`` / ``RateLimitError`` so the run can stop.

The token lives only in the session's auth object; errors carry method and URL, never headers,
and are raised without the ``requests`` exception chained (it holds the prepared request).
"""

from __future__ import annotations

import dataclasses
import email.utils
import ipaddress
import json
import logging
import random
import re
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from csvsync import __version__
from csvsync.errors import (
    ApiError,
    AuthError,
    ConfigError,
    ConflictError,
    NotFoundError,
    RateLimitError,
    ServerError,
    ValidationApiError,
)
from csvsync.webflow.pacing import Backoff, Clock, Pacer, SystemClock

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_API_BASE = "https://api.webflow.com/v2"
DEFAULT_RETRY_AFTER = 60.0  # Webflow's documented typical value, used when the header is absent.
# Wait a little past Retry-After: our clock starts when the 429 *arrives*, the server's earlier.
RETRY_AFTER_CUSHION = 0.05
MAX_PAGE_SIZE = 100

AUTH_HINT = (
    "check WEBFLOW_API_TOKEN (or --token-file) and that the token has the cms:read and "
    "cms:write scopes for this site"
)
CREATE_HINT = "the create may have reached Webflow; look the items up before sending them again"


@dataclass
class ClientOptions:
    """Connection and pacing settings. ``rate_window`` is Webflow's (60 s); no header states it."""

    api_base: str  # DEFAULT_API_BASE for Webflow; the CLI passes --api-base / CSVSYNC_API_BASE
    token: str = field(repr=False)
    timeout: float = 30.0
    rate_window: float = 60.0
    rate_limit: int | None = None  # None: learn from X-RateLimit-Limit (60 until the first answer)
    max_in_flight: int = 4
    max_retries: int = 8
    max_retry_time: float = 300.0
    clock: Clock | None = None
    user_agent: str = f"csvsync/{__version__}"
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    seed: int | None = None  # seeds the backoff jitter (tests, reproducible runs)


@dataclass
class ClientStats:
    """Counters since the client was created; ``requests`` counts every attempt sent."""

    requests: int = 0
    write_requests: int = 0
    retries: int = 0
    rate_limit_waits: int = 0
    rate_limit_wait_seconds: float = 0.0
    responses_429: int = 0


@dataclass(frozen=True)
class _Call:
    method: str
    path: str
    params: Mapping[str, str] | None = None
    body: Any = None
    idempotent: bool = True

    def url(self, base: str) -> str:
        url = base + self.path
        if self.params:
            url += "?" + urlencode(dict(self.params), safe=",")
        return url


class _BearerAuth(requests.auth.AuthBase):
    """Adds the token per request; setting ``session.auth`` also stops requests reading ~/.netrc."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "<BearerAuth token=***>"


class _Retry(Exception):
    """Internal: the attempt failed in a way that may be retried.

    ``outage`` (5xx, timeout, lost connection) retries after a backoff; otherwise (429) after
    ``delay`` seconds, the Retry-After.
    """

    def __init__(self, error: ApiError, delay: float, outage: bool) -> None:
        super().__init__(error.message)
        self.error = error
        self.delay = delay
        self.outage = outage


class WebflowClient:
    """Typed calls to the Webflow Data API v2 (CMS sites, collections and items)."""

    def __init__(self, options: ClientOptions) -> None:
        _check_options(options)
        self.options = options
        self.api_base = check_api_base(options.api_base)
        self.clock: Clock = options.clock or SystemClock()
        self.pacer = Pacer(window=options.rate_window, limit=options.rate_limit, clock=self.clock)
        self.backoff = Backoff(
            options.backoff_base,
            options.backoff_cap,
            rng=None if options.seed is None else random.Random(options.seed),
        )
        self.session = _make_session(options)
        self._in_flight = threading.BoundedSemaphore(options.max_in_flight)
        self._stats = ClientStats()
        self._lock = threading.Lock()
        self._outage_since: float | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def close(self) -> None:
        self.session.close()

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
        with self._lock:
            return dataclasses.replace(self._stats)

    # -- sites and collections -------------------------------------------------------------------

    def introspect(self) -> dict[str, Any]:
        return _as_dict(self._call(_Call("GET", "/token/introspect")))

    def list_sites(self) -> list[dict[str, Any]]:
        return _as_list(self._call(_Call("GET", "/sites")), "sites")

    def get_site(self, site_id: str) -> dict[str, Any]:
        return _as_dict(self._call(_Call("GET", f"/sites/{_seg(site_id)}")))

    def list_collections(self, site_id: str) -> list[dict[str, Any]]:
        body = self._call(_Call("GET", f"/sites/{_seg(site_id)}/collections"))
        return _as_list(body, "collections")

    def get_collection(self, collection_id: str) -> dict[str, Any]:
        return _as_dict(self._call(_Call("GET", f"/collections/{_seg(collection_id)}")))

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
            return _as_dict(self._call(_Call("GET", path, params)))

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
        body = {
            "cmsLocaleIds": list(cms_locale_ids),
            "isDraft": is_draft,
            "fieldData": field_data_list,
        }
        call = _Call(
            "POST",
            f"/collections/{_seg(collection_id)}/items/bulk",
            {"skipInvalidFiles": _bool(skip_invalid_files)},
            body,
            idempotent=False,
        )
        return _items_of(self._call(call))

    def delete_items_live(self, collection_id: str, items: list[dict[str, Any]]) -> None:
        """``DELETE /collections/:id/items/live``: unpublish (``[{"id", "cmsLocaleIds"?}]``)."""
        path = f"/collections/{_seg(collection_id)}/items/live"
        self._call(_Call("DELETE", path, None, {"items": items}))

    def publish_items(self, collection_id: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        """``POST /collections/:id/items/publish``; partial success is in ``errors``."""
        path = f"/collections/{_seg(collection_id)}/items/publish"
        # Publishing twice publishes the same staged state: safe to repeat.
        body = self._call(_Call("POST", path, None, {"items": items}, idempotent=True))
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
        call = _Call(
            method,
            f"/collections/{_seg(collection_id)}{suffix}",
            {"skipInvalidFiles": _bool(skip_invalid_files)},
            {"items": items},
            idempotent=idempotent,
        )
        return _items_of(self._call(call))

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
        # Insertion-ordered: the first key is always the earliest input still pending.
        pending: dict[Future[R], T] = {}
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="csvsync-http")
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
                    yield item, (error if error is not None else future.result())
                if stop is not None and stop():
                    for future in [f for f in pending if f.cancel()]:
                        del pending[future]
                    continue
                _fill(pool, fn, source, pending, 2 * workers)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    # -- the request loop ------------------------------------------------------------------------

    def _call(self, call: _Call) -> Any:
        """Send ``call`` until it succeeds, fails for good, or the retry budget is spent."""
        first = self.clock.now()
        retries = 0
        while True:
            try:
                return self._attempt(call)
            except _Retry as failure:
                # A 429's Retry-After is enforced by the Pacer for every thread; backoff is ours.
                delay = failure.delay
                if failure.outage:
                    delay = max(delay, self.backoff.delay(retries))
                self._check_budget(failure, delay, first, retries)
                retries += 1
                with self._lock:
                    self._stats.retries += 1
                log.info(
                    "retry %d of %s %s in %.2fs: %s",
                    retries,
                    call.method,
                    call.path,
                    delay,
                    failure.error.message,
                )
                if failure.outage:
                    self.clock.sleep(delay)

    def _check_budget(self, failure: _Retry, delay: float, first: float, retries: int) -> None:
        now = self.clock.now()
        started = first
        if failure.outage:
            with self._lock:
                if self._outage_since is None:
                    self._outage_since = now
                started = min(first, self._outage_since)
        over_time = now + delay - started > self.options.max_retry_time
        if retries >= self.options.max_retries or over_time:
            error = failure.error
            error.hint = (
                f"gave up after {retries + 1} attempts over {now - first:.1f}s "
                f"(--max-retry-time {self.options.max_retry_time:g}s); {error.hint or 'try later'}"
            )
            raise error from None

    def _attempt(self, call: _Call) -> Any:
        url = call.url(self.api_base)
        with self._in_flight:
            # Pace after taking a slot: the recorded start must be the real start.
            start, waited = self.pacer.acquire()
            self._count_attempt(call, waited)
            failure: Exception | None = None
            try:
                response = self.session.request(
                    call.method,
                    url,
                    data=None if call.body is None else json.dumps(call.body),
                    timeout=self.options.timeout,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                log.debug("%s %s -> %s", call.method, url, type(exc).__name__)
                failure = self._transport_failure(call, url, exc)
        if failure is not None:
            # Raised outside the except block so no chained context keeps the requests
            # exception, whose prepared request holds the Authorization header.
            raise failure
        log.debug(
            "%s %s -> %d in %.3fs",
            call.method,
            url,
            response.status_code,
            response.elapsed.total_seconds(),
        )
        # A 429's Remaining (0) would fill the log for a whole window; Retry-After is the
        # authoritative wait there, so only the limit is learned from it.
        remaining = response.headers.get("X-RateLimit-Remaining")
        self.pacer.observe(
            start,
            _int_or_none(response.headers.get("X-RateLimit-Limit")),
            None if response.status_code == 429 else _int_or_none(remaining),
        )
        return self._interpret(call, url, response)

    def _count_attempt(self, call: _Call, waited: float) -> None:
        with self._lock:
            self._stats.requests += 1
            if call.method != "GET":
                self._stats.write_requests += 1
            if waited > 0:
                self._stats.rate_limit_waits += 1
                self._stats.rate_limit_wait_seconds += waited

    def _interpret(self, call: _Call, url: str, response: requests.Response) -> Any:
        status = response.status_code
        if status == 429:
            retry_after = _retry_after(response.headers.get("Retry-After"))
            self.pacer.pause(retry_after + RETRY_AFTER_CUSHION)
            with self._lock:
                self._stats.responses_429 += 1
            error = _api_error(response, call.method, url, retry_after)
            raise _Retry(error, retry_after + RETRY_AFTER_CUSHION, outage=False)
        if status >= 500 or status == 408:
            error = _api_error(response, call.method, url)
            # A 503 may say how long to wait; without the header the backoff decides alone.
            header = response.headers.get("Retry-After")
            wait = _retry_after(header) if header else 0.0
            raise self._transient(call, error, sent=True, retry_after=wait)
        self._mark_answered()
        if status >= 300:
            raise _api_error(response, call.method, url)
        if status == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ApiError(
                "the answer is not JSON",
                status=status,
                code="invalid_json",
                method=call.method,
                url=url,
            ) from None

    def _transport_failure(
        self, call: _Call, url: str, exc: requests.RequestException
    ) -> Exception:
        kind = "timed out" if isinstance(exc, requests.Timeout) else "connection failed"
        error = ServerError(
            f"{kind} ({type(exc).__name__})",
            method=call.method,
            url=url,
            hint="check the network and --api-base",
        )
        if not isinstance(exc, _TRANSIENT):
            return error
        return self._transient(call, error, sent=not _never_sent(exc))

    def _transient(
        self, call: _Call, error: ApiError, sent: bool, retry_after: float = 0.0
    ) -> Exception:
        """A 5xx or lost request: retry it if repeating is safe, else report it at once."""
        if sent and not call.idempotent:
            error.hint = CREATE_HINT
            return error
        return _Retry(error, retry_after, outage=True)

    def _mark_answered(self) -> None:
        with self._lock:
            self._outage_since = None


# -- helpers ---------------------------------------------------------------------------------------


def check_api_base(api_base: str) -> str:
    """Return ``api_base`` without a trailing slash; refuse plain http except on loopback."""
    parts = urlsplit(api_base.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(
            f"API base {api_base!r} is not an http(s) URL",
            hint="use --api-base https://api.webflow.com/v2",
        )
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigError(
            f"API base {api_base!r} uses plain http, which would send the token unencrypted",
            hint="use https, or http only for a local sandbox (127.0.0.1, localhost, ::1)",
        )
    return api_base.strip().rstrip("/")


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_options(options: ClientOptions) -> None:
    if not options.token or not options.token.strip() or any(c.isspace() for c in options.token):
        raise ConfigError(
            "the API token is empty or contains whitespace",
            hint="set WEBFLOW_API_TOKEN or --token-file",
        )
    checks = [
        (options.timeout > 0, "timeout must be positive"),
        (options.rate_window > 0, "rate window must be positive"),
        (options.rate_limit is None or options.rate_limit >= 1, "rate limit must be at least 1"),
        (options.max_in_flight >= 1, "max in flight must be at least 1"),
        (options.max_retries >= 0, "max retries must not be negative"),
        (options.max_retry_time >= 0, "max retry time must not be negative"),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)


def _make_session(options: ClientOptions) -> requests.Session:
    session = requests.Session()
    session.auth = _BearerAuth(options.token.strip())
    session.headers.update(
        {
            "User-Agent": options.user_agent,
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
    )
    # Our own retry loop decides what is safe to repeat; urllib3 must not retry behind it.
    adapter = HTTPAdapter(pool_maxsize=max(options.max_in_flight, 4), max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


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


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the connection was never established, so nothing reached the server."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _seg(value: str) -> str:
    """One path segment: an id can never add path parts or a query."""
    if not value:
        raise ConfigError("an empty id was given to the Webflow client")
    return quote(str(value), safe="")


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _item_filters(
    cms_locale_ids: Sequence[str] | None,
    updated_since: str | None,
    slug: str | None,
    name: str | None,
) -> dict[str, str]:
    filters: dict[str, str] = {}
    if cms_locale_ids:
        filters["cmsLocaleId"] = ",".join(cms_locale_ids)
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
    return _int_or_none((body.get("pagination") or {}).get("total"))


def _int_or_none(value: Any) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _retry_after(value: str | None) -> float:
    """``Retry-After`` as seconds: a number, or an HTTP date; 60 s when absent or unreadable."""
    if value is None or not value.strip():
        return DEFAULT_RETRY_AFTER
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


# Failures where the request may simply be lost: worth another try if repeating is safe.
_TRANSIENT = (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError)

_ERRORS: dict[int, tuple[type[ApiError], str | None]] = {
    400: (ValidationApiError, None),
    401: (AuthError, AUTH_HINT),
    403: (AuthError, AUTH_HINT),
    404: (NotFoundError, "check the site, collection and item ids"),
    409: (ConflictError, None),
    422: (ValidationApiError, None),
    429: (RateLimitError, "Webflow kept answering 429; try later or lower --rate-limit"),
}

# "Validation Error: [\"Value (cmsLocaleId)'s type should be string\"]": details inside message.
_MESSAGE_DETAILS = re.compile(r"^(?P<head>[^\[]*?):\s*(?P<list>\[.*\])\s*$", re.DOTALL)


def _api_error(
    response: requests.Response, method: str, url: str, retry_after: float | None = None
) -> ApiError:
    status = response.status_code
    message, code, details = _parse_error_body(response)
    if status >= 500 or status == 408:
        cls: type[ApiError] = ServerError
        hint: str | None = "Webflow had a problem; try again later"
    else:
        cls, hint = _ERRORS.get(status, (ApiError, None))
    if status >= 300 and status < 400:
        message = f"unexpected redirect to {response.headers.get('Location', '?')}"
    return cls(
        message,
        status=status,
        code=code,
        details=details,
        method=method,
        url=url,
        retry_after=retry_after,
        hint=hint,
    )


def _parse_error_body(response: requests.Response) -> tuple[str, str | None, list[Any]]:
    """Webflow's ``{message, code, externalReference, details}``; anything else as text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        text = " ".join(response.text.split())[:200]
        return text or response.reason or "no message", None, []
    message = str(body.get("message") or body.get("msg") or response.reason or "no message")
    code = body.get("code")
    details = body.get("details")
    details = list(details) if isinstance(details, list) else []
    if not details:
        message, details = _details_from_message(message)
    return message, None if code is None else str(code), details


def _details_from_message(message: str) -> tuple[str, list[Any]]:
    match = _MESSAGE_DETAILS.match(message)
    if not match:
        return message, []
    try:
        inner = json.loads(match.group("list"))
    except ValueError:
        return message, []
    if not isinstance(inner, list) or not inner:
        return message, []
    return match.group("head").strip() or message, inner

"""The Webflow client against the sandbox over real loopback sockets, plus its pure helpers and
scripted transports (answers without sockets).

Rate windows are kept short (1 s) so pacing is observed in real time; retry budgets are tested on
a ``FakeClock`` so no test waits for them.
"""

from __future__ import annotations

import gc
import itertools
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from fakeclock import FakeClock

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
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.webflow import Request, Response, TransportError
from csvsync.webflow.client import CREATE_HINT, ClientOptions, WebflowClient, check_api_base
from csvsync.webflow.errors import _details_from_message
from csvsync.webflow.transport import _retry_after

TOKEN = "sandbox-token-csvsync-test-7f3a9c"
SECRET = "tok-DO-NOT-LEAK-91c2e7b05d"


def max_in_window(times: list[float], window: float) -> int:
    ordered = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(ordered):
        while ordered[lo] <= t - window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


@pytest.fixture
def start_sandbox() -> Iterator[Callable[..., Any]]:
    """Start sandboxes on loopback with the demo seed; every one is stopped after the test."""
    started: list[Any] = []

    def start(**overrides: Any) -> Any:
        opts = {"host": "127.0.0.1", "port": 0, "token": TOKEN, "seed": "demo", **overrides}
        sb = Sandbox(SandboxOptions(**opts))
        sb.__enter__()
        started.append(sb)
        return sb

    yield start
    for sb in reversed(started):
        sb.__exit__(None, None, None)


@pytest.fixture
def sb(start_sandbox: Callable[..., Any]) -> Any:
    return start_sandbox(rate_limit=1000, window=60.0)


def make_client(sb: Any, **overrides: Any) -> WebflowClient:
    opts: dict[str, Any] = {
        "api_base": sb.base_url,
        "token": TOKEN,
        "timeout": 5.0,
        "backoff_base": 0.01,
        "backoff_cap": 0.05,
        "seed": 1,
        **overrides,
    }
    return WebflowClient(ClientOptions(**opts))


@pytest.fixture
def client(sb: Any) -> Iterator[WebflowClient]:
    with make_client(sb) as c:
        yield c


def demo_ids(client: WebflowClient | None = None) -> tuple[str, str, list[str]]:
    """(site id, products collection id, every cmsLocaleId) of the demo seed."""
    from csvsync.sandbox import seed

    return seed.DEMO_SITE_ID, seed.DEMO_COLLECTION_ID, list(seed.LOCALES.values())


def authors_id() -> str:
    from csvsync.sandbox import seed

    return str(seed.DEMO_AUTHORS_COLLECTION_ID)


def v2_log(sb: Any) -> list[dict[str, Any]]:
    return [e for e in sb.log() if "/v2/" in e["path"] or e["path"].startswith("/v2")]


# -- pure helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "base",
    [
        "https://api.webflow.com/v2",
        "http://127.0.0.1:8080/v2",
        "http://127.5.6.7/v2",
        "http://localhost:1234/v2/",
        "http://[::1]:9000/v2",
    ],
)
def test_https_and_loopback_http_are_accepted(base: str) -> None:
    assert not check_api_base(base).endswith("/")


@pytest.mark.parametrize(
    "base",
    ["http://api.webflow.com/v2", "http://10.0.0.1/v2", "ftp://127.0.0.1/v2", "api.webflow.com"],
)
def test_plain_http_to_a_remote_host_is_refused(base: str) -> None:
    with pytest.raises(ConfigError):
        WebflowClient(ClientOptions(api_base=base, token=TOKEN))


def test_bad_options_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        WebflowClient(ClientOptions(api_base="https://x.test/v2", token=""))
    with pytest.raises(ConfigError):
        WebflowClient(ClientOptions(api_base="https://x.test/v2", token=TOKEN, max_in_flight=0))


def test_retry_after_reads_seconds_dates_and_defaults_to_60() -> None:
    assert _retry_after("7") == 7.0
    assert _retry_after("1.5") == 1.5
    assert _retry_after(None) == 60.0
    assert _retry_after("soon") == 60.0
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past


def test_details_hidden_in_the_message_are_extracted() -> None:
    message = 'Validation Error: ["Value (cmsLocaleId)\'s type should be string"]'
    head, details = _details_from_message(message)
    assert head == "Validation Error"
    assert details == ["Value (cmsLocaleId)'s type should be string"]
    assert _details_from_message("Conflict: nothing [here") == ("Conflict: nothing [here", [])


# -- the transport seam: scripted answers, no sockets ---------------------------------------------


def answer(status: int, body: Any = None, **headers: str) -> Response:
    data = b"" if body is None else json.dumps(body).encode()
    return Response(status, {"Content-Type": "application/json", **headers}, data)


class Scripted:
    """A transport that records each request and plays ``script`` in order: a ``Response`` is
    answered, a ``TransportError`` raised."""

    def __init__(self, *script: Response | TransportError) -> None:
        self.script = list(script)
        self.requests: list[Request] = []

    def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        step = self.script.pop(0)
        if isinstance(step, TransportError):
            raise step
        return step


def scripted_options(transport: Scripted, **overrides: Any) -> ClientOptions:
    opts: dict[str, Any] = {"api_base": "https://x.test/v2", "token": TOKEN, "seed": 1}
    return ClientOptions(**{**opts, "transport": transport, **overrides})


def test_a_call_is_one_exchange_through_the_transport() -> None:
    item = {"id": "i1", "fieldData": {"name": "n"}}
    seen = Scripted(answer(200, {"items": [item]}), answer(200, {"items": []}))
    with WebflowClient(scripted_options(seen, timeout=7.0)) as client:
        assert client.update_items_live("c1", [item]) == [item]
        assert list(client.iter_items_live("c1", cms_locale_ids=["l1", "l2"])) == []
    patch, get = seen.requests
    assert (patch.method, patch.url) == ("PATCH", "https://x.test/v2/collections/c1/items/live")
    assert patch.params == {"skipInvalidFiles": "true"}
    assert patch.json == {"items": [item]}
    assert patch.timeout == 7.0
    assert patch.headers["Authorization"] == f"Bearer {TOKEN}"
    assert patch.headers["User-Agent"].startswith("csvsync/")
    assert get.method == "GET" and get.json is None
    assert get.full_url == (
        "https://x.test/v2/collections/c1/items/live?cmsLocaleId=l1,l2&offset=0&limit=100"
    )
    assert client.stats.requests == 2 and client.stats.write_requests == 1


def test_a_lost_answer_is_retried_for_safe_calls_but_a_sent_create_is_not() -> None:
    lost = TransportError("ReadTimeout", timed_out=True)
    seen = Scripted(lost, answer(200, {"id": "c1"}), lost)
    with WebflowClient(scripted_options(seen, clock=FakeClock())) as client:
        assert client.get_collection("c1") == {"id": "c1"}
        assert client.stats.retries == 1
        with pytest.raises(ServerError) as info:
            client.create_items_live("c1", [{"fieldData": {"name": "x"}}])
    assert info.value.message == "timed out (ReadTimeout)"
    assert info.value.hint == CREATE_HINT
    assert [r.method for r in seen.requests] == ["GET", "GET", "POST"]
    # A connection never made sent nothing: even a create goes again.
    never = TransportError("ConnectionError", sent=False)
    created = {"id": "i9", "fieldData": {"name": "x"}}
    seen = Scripted(never, answer(202, created))
    with WebflowClient(scripted_options(seen, clock=FakeClock())) as client:
        assert client.create_items_live("c1", [created]) == [created]
        assert client.stats.retries == 1


def test_a_failure_that_is_not_transient_is_not_retried() -> None:
    seen = Scripted(TransportError("InvalidURL", transient=False))
    with WebflowClient(scripted_options(seen, clock=FakeClock())) as client:
        with pytest.raises(ServerError) as info:
            client.get_collection("c1")
        assert client.stats.retries == 0
    assert info.value.message == "connection failed (InvalidURL)"


def test_answers_headers_are_read_case_insensitively() -> None:
    clock = FakeClock()
    busy = answer(429, {"message": "Too Many Requests"}, **{"retry-after": "2"})
    one_per_window = answer(200, {"id": "c1"}, **{"x-ratelimit-limit": "1"})
    seen = Scripted(busy, one_per_window, answer(200, {"id": "c1"}))
    begin = clock.now()
    with WebflowClient(scripted_options(seen, clock=clock, rate_window=10.0)) as client:
        assert client.get_collection("c1") == {"id": "c1"}
        assert clock.now() - begin >= 2.0  # retry-after
        client.get_collection("c1")
        assert clock.now() - begin >= 2.0 + 10.0  # then one request per window
        assert client.stats.responses_429 == 1


def test_options_client_and_requests_hide_the_token() -> None:
    options = ClientOptions(api_base="https://x.test/v2", token=SECRET)
    with WebflowClient(options) as client:
        assert SECRET not in repr(options)
        assert SECRET not in repr(client)
        assert SECRET not in repr(client.transport)
    # The token travels in the Authorization header of each request, which its repr leaves out.
    seen = Scripted(answer(200, {"sites": []}))
    with WebflowClient(scripted_options(seen, token=SECRET)) as client:
        client.list_sites()
    assert seen.requests[0].headers["Authorization"] == f"Bearer {SECRET}"
    assert SECRET not in repr(seen.requests[0])


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_api_is_retried_then_a_server_error_within_the_budget() -> None:
    # A remote host: a refused loopback port is given up on sooner (tests/test_unreachable.py).
    def unreachable(request: Request) -> Response:
        raise TransportError("ConnectionError", sent=False)

    clock = FakeClock()
    options = ClientOptions(
        api_base="https://x.test/v2",
        transport=unreachable,
        token=SECRET,
        clock=clock,
        max_retries=100,
        max_retry_time=20.0,
        backoff_base=1.0,
        backoff_cap=8.0,
        seed=3,
    )
    with WebflowClient(options) as client:
        begin = clock.now()
        with pytest.raises(ServerError) as info:
            # Connection refused means nothing was sent: even a create may be retried.
            client.create_items_live("c1", [{"fieldData": {"name": "x", "slug": "x"}}])
        assert clock.now() - begin <= 20.0
        assert client.stats.retries >= 3
        assert client.stats.requests == client.stats.retries + 1
        assert "max-retry-time" in str(info.value)
        assert SECRET not in str(info.value) and SECRET not in repr(info.value)


def test_map_in_flight_bounds_concurrency_and_reads_inputs_lazily() -> None:
    options = ClientOptions(api_base="https://x.test/v2", token=TOKEN, max_in_flight=3)
    consumed = 0
    running = 0
    peak = 0
    lock = threading.Lock()

    def inputs() -> Iterator[int]:
        nonlocal consumed
        for n in itertools.count():
            consumed += 1
            yield n

    def work(n: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.01)
        with lock:
            running -= 1
        if n % 5 == 0:
            raise ValueError(n)
        return n * 2

    with WebflowClient(options) as client:
        results = client.map_in_flight(work, inputs())
        got = list(itertools.islice(results, 20))
        results.close()  # type: ignore[attr-defined]
    assert peak <= 3
    assert consumed <= 20 + 2 * 3 + 1
    for n, result in got:
        if n % 5 == 0:
            assert isinstance(result, ValueError)
        else:
            assert result == n * 2


def test_map_in_flight_ordered_yields_in_input_order_with_bounded_lookahead() -> None:
    options = ClientOptions(api_base="https://x.test/v2", token=TOKEN, max_in_flight=3)
    started: list[int] = []
    running = 0
    peak = 0
    lock = threading.Lock()

    def work(n: int) -> int:
        nonlocal running, peak
        with lock:
            started.append(n)
            running += 1
            peak = max(peak, running)
        time.sleep(0.03 if n % 4 == 0 else 0.005)  # early inputs finish after later ones
        with lock:
            running -= 1
        if n == 9:
            raise ValueError(n)
        return n * 2

    with WebflowClient(options) as client:
        got = []
        for n, result in client.map_in_flight(work, range(20), ordered=True):
            with lock:
                # Never more than 2 x max_in_flight started beyond the one being yielded.
                assert max(started) - n < 2 * 3
            got.append((n, result))
    assert [n for n, _ in got] == list(range(20))
    assert isinstance(got[9][1], ValueError)
    assert all(result == n * 2 for n, result in got if n != 9)
    assert 2 <= peak <= 3


# -- pagination against a scripted server (collection changing mid-pull) ---------------------------


class ScriptedPages:
    """Answers item-list calls from ``rows``; ``after_first`` changes the collection once the
    first page was served, as another editor would mid-pull. Thread-safe like the real server."""

    def __init__(
        self,
        rows: int,
        *,
        cap: int = 100,
        after_first: Callable[[list[int]], None] | None = None,
        total: Callable[[list[int]], int | None] | None = None,
        fail_at: int | None = None,
    ) -> None:
        self.rows = list(range(rows))
        self.cap = cap
        self.after_first = after_first
        self.total = total
        self.fail_at = fail_at
        self.offsets: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        params = request.params or {}
        offset, limit = int(params["offset"]), int(params["limit"])
        time.sleep(0.002)
        with self.lock:
            self.offsets.append(offset)
            if offset == self.fail_at:
                return answer(404, {"message": "gone", "code": "resource_not_found"})
            page = self.rows[offset : offset + min(limit, self.cap)]
            # `total` may state something else than the rows (or nothing: None).
            total = len(self.rows) if self.total is None else self.total(self.rows)
            pagination: dict[str, Any] = {"offset": offset, "limit": limit}
            if total is not None:
                pagination["total"] = total
            body = {"items": [{"id": str(n)} for n in page], "pagination": pagination}
            if offset == 0 and self.after_first is not None:
                self.after_first(self.rows)
            return answer(200, body)


def pages_client(pages: ScriptedPages, **options: Any) -> WebflowClient:
    return WebflowClient(
        ClientOptions(api_base="https://x.test/v2", token=TOKEN, transport=pages, **options)
    )


def scripted_pull(pages: ScriptedPages, page_size: int = 100, **options: Any) -> list[int]:
    with pages_client(pages, **options) as c:
        return [int(i["id"]) for i in c.iter_items("c1", page_size=page_size)]


def http_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("csvsync-http")]


def test_pull_of_an_unchanged_collection_requests_each_offset_once() -> None:
    pages = ScriptedPages(950)
    assert scripted_pull(pages) == list(range(950))
    assert sorted(pages.offsets) == list(range(0, 950, 100))


def test_items_added_mid_pull_are_read_to_the_new_end() -> None:
    grow = ScriptedPages(250, after_first=lambda rows: rows.extend(range(250, 260)))
    assert scripted_pull(grow) == list(range(260))
    # Grown past a page boundary: one more round from the planned end to the new total.
    exact = ScriptedPages(300, after_first=lambda rows: rows.append(300))
    assert scripted_pull(exact) == list(range(301))
    assert sorted(exact.offsets) == [0, 100, 200, 300]


def test_items_removed_mid_pull_end_the_pull_without_repeats() -> None:
    shrink = ScriptedPages(500, after_first=lambda rows: rows.__delitem__(slice(230, None)))
    assert scripted_pull(shrink) == list(range(230))
    assert http_threads() == []


def test_an_empty_page_ends_the_pull_whatever_total_says() -> None:
    lying = ScriptedPages(150, total=lambda rows: 10_000)
    assert scripted_pull(lying, max_in_flight=2) == list(range(150))
    # Bounded: the rounds stop at the first empty page, not at the claimed total.
    assert len(lying.offsets) <= 2 + 2 * 2 * 2
    # No total at all: the first page is all there is, as before.
    no_total = ScriptedPages(250, total=lambda rows: None)
    assert scripted_pull(no_total) == list(range(100))
    assert no_total.offsets == [0]


def test_a_server_capping_the_page_size_is_paged_by_its_size() -> None:
    capped = ScriptedPages(250, cap=40)
    assert scripted_pull(capped) == list(range(250))
    assert sorted(capped.offsets) == list(range(0, 250, 40))


def test_an_error_on_a_later_page_is_raised_in_order_and_stops_the_pool() -> None:
    failing = ScriptedPages(900, fail_at=500)
    got: list[int] = []
    with pytest.raises(NotFoundError), pages_client(failing) as c:
        got.extend(int(i["id"]) for i in c.iter_items("c1"))
    assert got == list(range(500))
    assert http_threads() == []
    assert max(failing.offsets) < 500 + 2 * 4 * 100 + 100


def test_closing_the_pull_early_leaves_no_threads_running() -> None:
    pages = ScriptedPages(5000)
    with pages_client(pages) as c:
        items = c.iter_items("c1")
        first = [int(i["id"]) for i in itertools.islice(items, 250)]
        assert http_threads() != []
        items.close()
        assert http_threads() == []
    assert first == list(range(250))
    assert len(pages.offsets) <= 3 + 2 * 4  # read ahead by at most the pool's queue


def test_a_pull_its_reader_drops_stops_without_waiting_for_the_garbage_collector() -> None:
    # A reader that stops (break, or an error while storing) and lets go of the listing: the
    # listing is freed at once, which cancels the queued pages and ends the pool's threads.
    pages = ScriptedPages(5000)
    was = gc.isenabled()
    gc.disable()
    try:
        with pages_client(pages) as c:
            items = c.iter_items("c1")
            for n, _ in enumerate(items):
                if n == 250:
                    break
            assert http_threads() != []
            del items
            assert http_threads() == []
    finally:
        if was:
            gc.enable()


# -- against the sandbox ---------------------------------------------------------------------------


def test_reads_sites_collections_and_schema(client: WebflowClient) -> None:
    assert isinstance(client.introspect(), dict)
    site_id, collection_id, cms_ids = demo_ids()
    assert site_id in [s["id"] for s in client.list_sites()]
    site = client.get_site(site_id)
    primary = site["locales"]["primary"]["cmsLocaleId"]
    secondary = [loc["cmsLocaleId"] for loc in site["locales"]["secondary"]]
    assert sorted([primary, *secondary]) == sorted(cms_ids)
    assert collection_id in [c["id"] for c in client.list_collections(site_id)]
    schema = client.get_collection(collection_id)
    assert {"name", "slug"} <= {f["slug"] for f in schema["fields"]}
    assert client.stats.write_requests == 0


def test_pagination_returns_every_variant_of_every_locale(sb: Any, client: WebflowClient) -> None:
    _, _, cms_ids = demo_ids()
    collection_id = authors_id()
    whole = list(client.iter_items_live(collection_id, cms_locale_ids=cms_ids))
    sb.clear_log()
    paged = list(client.iter_items_live(collection_id, cms_locale_ids=cms_ids, page_size=5))
    keys = [(i["id"], i["cmsLocaleId"]) for i in paged]
    assert len(keys) == len(set(keys)) == len(whole) > 5
    assert keys == [(i["id"], i["cmsLocaleId"]) for i in whole]
    assert {i["cmsLocaleId"] for i in paged} == set(cms_ids)
    pages = v2_log(sb)
    assert len(pages) == -(-len(whole) // 5)  # no extra request after the last page
    primary_only = list(client.iter_items_live(collection_id))
    assert len(whole) == len(primary_only) * len(cms_ids)
    sb.clear_log()
    later = client.iter_items_live(collection_id, cms_ids, updated_since="2100-01-01T00:00:00Z")
    assert list(later) == []
    query = parse_qs(v2_log(sb)[0]["query"])
    assert query["lastUpdated[gte]"] == ["2100-01-01T00:00:00Z"]
    assert query["cmsLocaleId"] == [",".join(cms_ids)]


def overlap(entries: list[dict[str, Any]]) -> int:
    """The most requests the sandbox was serving at one moment (from its log)."""
    edges = sorted(
        [(e["time"], 1) for e in entries] + [(e["time"] + e["duration"], -1) for e in entries]
    )
    best = now = 0
    for _, step in edges:
        now += step
        best = max(best, now)
    return best


def test_pull_requests_pages_concurrently_and_yields_them_in_offset_order(sb: Any) -> None:
    _, collection_id, cms_ids = demo_ids()
    with make_client(sb, max_in_flight=1) as one_at_a_time:
        expected = [
            (i["id"], i["cmsLocaleId"])
            for i in one_at_a_time.iter_items_live(collection_id, cms_locale_ids=cms_ids)
        ]
    sb.set_faults(latency=0.05)
    sb.clear_log()
    with make_client(sb, max_in_flight=4) as client:
        items = client.iter_items_live(collection_id, cms_locale_ids=cms_ids, page_size=50)
        keys = [(i["id"], i["cmsLocaleId"]) for i in items]
    entries = v2_log(sb)
    pages = -(-len(expected) // 50)
    assert pages >= 12
    assert keys == expected and len(set(keys)) == len(keys)
    offsets = sorted(int(parse_qs(e["query"])["offset"][0]) for e in entries)
    assert offsets == list(range(0, len(expected), 50))  # each page once, nothing after the last
    assert 2 <= overlap(entries) <= 4
    # Loose: the pages' serving time adds up to well over the pull's span.
    span = max(e["time"] + e["duration"] for e in entries) - min(e["time"] for e in entries)
    assert sum(e["duration"] for e in entries) > 1.5 * span


@pytest.mark.slow  # paced in real time past a 1 s window
def test_a_paced_pull_beyond_the_window_gets_no_429(start_sandbox: Callable[..., Any]) -> None:
    limit, window = 20, 1.0
    sb = start_sandbox(rate_limit=limit, window=window)
    sb.set_faults(latency=0.02)
    _, collection_id, cms_ids = demo_ids()
    with make_client(sb, rate_window=window, max_in_flight=4) as client:
        # Connect and learn the limit first, then let that window run out: the sandbox anchors
        # its fixed windows at the first request, whose connection set-up would otherwise
        # delay it against the ones paced a window later (a jitter the margin may not cover).
        client.get_collection(collection_id)
        time.sleep(window + 0.2)
        sb.clear_log()
        items = list(client.iter_items_live(collection_id, cms_locale_ids=cms_ids, page_size=30))
        stats = client.stats
    entries = v2_log(sb)
    assert len(entries) == 30 > limit
    assert [e for e in entries if e["status"] != 200] == []
    assert stats.responses_429 == 0 and stats.retries == 0
    # The sandbox stamps arrival times; on a loaded 2-core machine a thread may start a paced
    # request a little late and the next on time, so the sliding check allows 0.1 s of jitter.
    # The hard check is above: not one 429 from the sandbox's own windows.
    assert max_in_window([e["time"] for e in entries], window - 0.1) <= limit
    assert len({(i["id"], i["cmsLocaleId"]) for i in items}) == len(items) == 900


def test_item_lifecycle_create_publish_update_unpublish(client: WebflowClient) -> None:
    _, collection_id, cms_ids = demo_ids(client)
    created = client.create_items(
        collection_id,
        [{"isDraft": False, "fieldData": {"name": "Client Test", "slug": "client-t"}}],
    )
    item_id = created[0]["id"]
    with pytest.raises(ConflictError) as info:  # never published: live PATCH is a 409
        client.update_items_live(collection_id, [{"id": item_id, "fieldData": {"name": "x"}}])
    assert info.value.status == 409 and "never been published" in info.value.message

    # A staged create has the primary locale only: publishing other locales is a partial error.
    result = client.publish_items(collection_id, [{"id": item_id, "cmsLocaleIds": cms_ids}])
    assert result["publishedItemIds"] == [] and result["errors"]
    result = client.publish_items(collection_id, [{"id": item_id}])
    assert result == {"publishedItemIds": [item_id], "errors": []}
    updated = client.update_items_live(
        collection_id, [{"id": item_id, "fieldData": {"name": "Client Test 2"}}]
    )
    assert updated[0]["fieldData"]["name"] == "Client Test 2"
    live = list(client.iter_items_live(collection_id, slug="client-t"))
    assert [i["fieldData"]["name"] for i in live] == ["Client Test 2"]

    client.delete_items_live(collection_id, [{"id": item_id}])
    assert list(client.iter_items_live(collection_id, slug="client-t")) == []


def test_bulk_and_live_creates_return_the_items(client: WebflowClient) -> None:
    _, collection_id, cms_ids = demo_ids(client)
    bulk = client.create_items_bulk(collection_id, cms_ids, [{"name": "Bulk A", "slug": "bulk-a"}])
    assert {i["cmsLocaleId"] for i in bulk} == set(cms_ids)
    live = client.create_items_live(collection_id, [{"fieldData": {"name": "L", "slug": "l-1"}}])
    assert live[0]["fieldData"]["slug"] == "l-1"


@pytest.mark.parametrize("status", [400, 404, 409])
def test_client_errors_are_not_retried_and_carry_webflows_message(
    sb: Any, client: WebflowClient, status: int
) -> None:
    _, collection_id, _ = demo_ids(client)
    item = next(client.iter_items_live(collection_id))
    if status == 409:
        draft = client.create_items(collection_id, [{"fieldData": {"name": "D", "slug": "d-9"}}])
        item = draft[0]
    sb.clear_log()
    expected: dict[int, type[ApiError]] = {
        400: ValidationApiError,
        404: NotFoundError,
        409: ConflictError,
    }
    with pytest.raises(expected[status]) as info:
        if status == 400:
            client.update_items_live(
                collection_id, [{"id": item["id"], "fieldData": {"no-such-field": "x"}}]
            )
        elif status == 404:
            client.get_collection("0123456789abcdef01234567")
        else:
            client.update_items_live(
                collection_id, [{"id": item["id"], "fieldData": {"name": "n"}}]
            )
    error = info.value
    entries = v2_log(sb)
    assert [e["status"] for e in entries] == [status]
    assert error.status == status and error.code
    assert error.message and error.message in str(error)
    assert error.method in ("GET", "PATCH") and error.url.startswith(sb.base_url)
    if status == 400:
        assert any("no-such-field" in str(d) for d in error.details)
    assert client.stats.retries == 0


@pytest.mark.slow  # paced in real time past a 1 s window
def test_paced_run_beyond_the_window_gets_no_429(start_sandbox: Callable[..., Any]) -> None:
    limit, window, latency, n = 20, 1.0, 0.1, 60
    sb = start_sandbox(rate_limit=limit, window=window)
    sb.set_faults(latency=latency)
    with make_client(sb, rate_window=window, max_in_flight=4) as client:
        _, collection_id, _ = demo_ids(client)
        sb.clear_log()
        begin = time.monotonic()
        results = list(
            client.map_in_flight(lambda _: client.get_collection(collection_id), range(n))
        )
        elapsed = time.monotonic() - begin
        stats = client.stats
    assert all(isinstance(r, dict) for _, r in results)
    entries = v2_log(sb)
    assert len(entries) == n
    assert [e for e in entries if e["status"] == 429] == []
    assert stats.responses_429 == 0
    times = sorted(e["time"] for e in entries)
    assert max_in_window(times, window - 0.1) <= limit  # arrival jitter, as above
    # Past the first window the ceiling, not latency, sets the pace: close to limit per window.
    steady_rate = (n - limit) / (times[-1] - times[limit - 1])
    assert 0.85 * limit / window <= steady_rate <= limit / window
    assert elapsed >= (n / limit - 1) * window
    assert stats.rate_limit_waits > 0


@pytest.mark.slow  # waits out a real Retry-After
def test_a_429_burst_waits_retry_after_and_resends_the_same_request(
    sb: Any, client: WebflowClient
) -> None:
    _, collection_id, _ = demo_ids(client)
    sb.set_faults(burst_429=2, retry_after=1)
    sb.clear_log()
    created = client.create_items_live(
        collection_id, [{"fieldData": {"name": "After 429", "slug": "after-429"}}]
    )
    assert created[0]["fieldData"]["slug"] == "after-429"
    entries = v2_log(sb)
    assert [e["status"] for e in entries[:2]] == [429, 429]
    assert entries[2]["status"] in (200, 202)
    assert len({(e["method"], e["path"]) for e in entries}) == 1  # the same request each time
    for before, after in itertools.pairwise(entries):
        assert after["time"] - before["time"] >= 1.0
    assert client.stats.responses_429 == 2 and client.stats.retries == 2


def test_5xx_and_dropped_connections_are_retried_for_safe_calls(
    sb: Any, client: WebflowClient
) -> None:
    _, _, cms_ids = demo_ids()
    collection_id = authors_id()
    expected = list(client.iter_items_live(collection_id, cms_locale_ids=cms_ids))
    sb.set_faults(error_rate=0.3, drop_rate=0.2, seed=11)
    sb.clear_log()
    got = list(client.iter_items_live(collection_id, cms_locale_ids=cms_ids, page_size=5))
    first = expected[0]
    patched = client.update_items_live(
        collection_id, [{"id": first["id"], "fieldData": {"name": first["fieldData"]["name"]}}]
    )
    sb.set_faults(error_rate=0.0, drop_rate=0.0)
    assert [(i["id"], i["cmsLocaleId"]) for i in got] == [
        (i["id"], i["cmsLocaleId"]) for i in expected
    ]
    assert patched[0]["id"] == first["id"]
    entries = v2_log(sb)
    assert any(e["status"] == 500 for e in entries)
    assert any(e.get("dropped") for e in entries)
    assert client.stats.retries == sum(1 for e in entries if e["status"] != 200)


def test_a_create_is_not_resent_after_a_500(sb: Any, client: WebflowClient) -> None:
    _, collection_id, _ = demo_ids(client)
    sb.set_faults(error_rate=1.0)
    sb.clear_log()
    with pytest.raises(ServerError) as info:
        client.create_items_live(collection_id, [{"fieldData": {"name": "N", "slug": "n-500"}}])
    sb.set_faults(error_rate=0.0)
    assert [(e["method"], e["status"]) for e in v2_log(sb)] == [("POST", 500)]
    assert info.value.hint == CREATE_HINT
    assert client.stats.retries == 0


def test_a_server_down_past_the_budget_raises_server_error(sb: Any) -> None:
    clock = FakeClock()
    with make_client(
        sb, clock=clock, max_retries=100, max_retry_time=10.0, backoff_base=1.0, backoff_cap=4.0
    ) as client:
        _, collection_id, _ = demo_ids(client)
        sb.set_faults(error_rate=1.0)
        sb.clear_log()
        begin = clock.now()
        with pytest.raises(ServerError) as info:
            client.get_collection(collection_id)
        sb.set_faults(error_rate=0.0)
        assert clock.now() - begin <= 10.0
        assert info.value.status == 500
        attempts = v2_log(sb)
        assert len(attempts) == client.stats.retries + 1 >= 3


def test_429s_past_the_budget_raise_rate_limit_error(sb: Any) -> None:
    clock = FakeClock()
    with make_client(sb, clock=clock, max_retry_time=60.0) as client:
        _, collection_id, _ = demo_ids(client)
        sb.set_faults(burst_429=10, retry_after=30)
        sb.clear_log()
        with pytest.raises(RateLimitError) as info:
            client.get_collection(collection_id)
        sb.set_faults(burst_429=0)
        assert info.value.status == 429 and info.value.retry_after == 30
        assert len(v2_log(sb)) == 2  # 30 s + 30 s would pass the 60 s budget


def test_the_token_never_leaks(
    start_sandbox: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    sb = start_sandbox(rate_limit=1000, window=60.0)
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    with make_client(sb, token=SECRET) as client:
        with pytest.raises(AuthError) as info:
            client.list_sites()
        errors.append(info.value)
    assert info.value.status == 401 and "WEBFLOW_API_TOKEN" in str(info.value)
    unreachable = ClientOptions(
        api_base=f"http://127.0.0.1:{closed_port()}/v2",
        token=SECRET,
        clock=FakeClock(),
        max_retry_time=1.0,
    )
    with WebflowClient(unreachable) as client:
        with pytest.raises(ServerError) as down:
            client.get_collection("abc")
        errors.append(down.value)
    for error in errors:
        assert SECRET not in str(error)
        assert SECRET not in repr(error)
        assert all(SECRET not in str(arg) for arg in error.args)
        assert SECRET not in str(vars(error))
        # A chained requests exception would keep the prepared request and its headers.
        chained = [error.__cause__, error.__context__]
        assert not any(isinstance(c, requests.RequestException) for c in chained)
    assert caplog.records  # the client did log at DEBUG
    assert SECRET not in caplog.text


def test_a_create_that_timed_out_is_not_resent(sb: Any) -> None:
    _, collection_id, _ = demo_ids()
    with make_client(sb, timeout=0.2) as client:
        sb.set_faults(latency=0.5)
        sb.clear_log()
        with pytest.raises(ServerError) as info:
            client.create_items_live(collection_id, [{"fieldData": {"name": "T", "slug": "t-1"}}])
        sb.wait_idle(timeout=5)  # let the server finish the request it is still sleeping on
        sb.set_faults(latency=0.0)
        assert "timed out" in info.value.message and info.value.hint == CREATE_HINT
        assert [e["method"] for e in v2_log(sb)] == ["POST"]
        assert client.stats.retries == 0

"""The sandbox's HTTP front: Webflow's /v2 routes, the /_sandbox control API and /assets.

Per /v2 request, in this order: injected latency, Bearer auth (401), the body (read only
now, at most ``bodies.MAX_BODY`` bytes: 411/413/400 otherwise), an injected 429 burst, the
per-token rate window (429), an injected 500, a dropped connection (before or after applying),
then the store call. Every /v2 answer carries X-RateLimit-Limit/-Remaining. The control API
needs no token and never counts against the rate limit; its bodies are bounded the same way.
A refusal given before the body was read closes the connection. Every error, http.server's own
(bad request line, unknown method) included, is JSON in Webflow's shape; an unexpected
exception is a 500 ``internal_error``, logged once on the ``csvsync.sandbox`` logger (method and
path only, never a header).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import re
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote

from .apierrors import (
    REQUEST_NOT_AUTHORIZED,
    FieldError,
    WebflowError,
    bad_request,
    missing_scopes,
    validation_error,
)
from .bodies import (
    RefuseAndClose,
    body_length,
    check_bulk,
    check_create,
    check_update,
    parse_json,
    short_body,
)
from .faults import Faults, RequestFaults, apply_knobs, check_item_limit, knobs_state
from .files import prefetched
from .queries import parse_list_query
from .ratelimit_window import Decision, RateWindow
from .store import Store, now_iso

LOG_MAX = 200_000
log = logging.getLogger("csvsync.sandbox")
Reject = Callable[[str | None, str, dict[str, Any]], FieldError | None]
Result = tuple[int, Any]  # (status, JSON payload or None for an empty 204)


class _Drop(Exception):
    """Close the connection without answering."""


class SandboxHTTPServer(ThreadingHTTPServer):
    """Holds the shared state; tracks open connections so ``close_all`` can cut keep-alives."""

    daemon_threads = True
    # When a list, every /v2 exchange answered is appended to it (SandboxOptions.record)
    recorder: list[dict[str, Any]] | None = None
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        store: Store,
        token: str,
        rate: RateWindow,
        faults: Faults,
        scopes: tuple[str, ...] | None = None,
    ) -> None:
        super().__init__(address, SandboxHandler)
        self.store = store
        self.token = token
        self.rate = rate
        self.faults = faults
        self.scopes = ALL_SCOPES if scopes is None else tuple(scopes)
        self.site_publishes: dict[str, float] = {}  # site id -> last successful publish (clock)
        self.publish_lock = threading.Lock()
        self.log: deque[dict[str, Any]] = deque(maxlen=LOG_MAX)
        self.log_lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        self._in_flight = 0  # /v2 requests read and not yet answered (or dropped)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """What escaped a handler (a client that vanished, or a bug): never a bare traceback."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        log.error("sandbox: unexpected error on a connection from %s", client_address[0],
                  exc_info=exc)  # fmt: skip

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def open_connections(self) -> int:
        """Client connections accepted and not yet closed (idle keep-alives included)."""
        with self._conns_lock:
            return len(self._conns)

    def in_flight(self) -> int:
        """/v2 requests being handled: read, and not yet answered or dropped."""
        with self._conns_lock:
            return self._in_flight

    def _count_in_flight(self, delta: int) -> None:
        with self._conns_lock:
            self._in_flight += delta

    def close_all(self) -> None:
        """Shut every open client socket, so idle keep-alive threads end too."""
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def set_faults(self, **knobs: Any) -> None:
        apply_knobs(self.faults, self.rate, knobs)

    def faults_json(self) -> dict[str, Any]:
        return knobs_state(self.faults, self.rate)

    def record(self, entry: dict[str, Any]) -> None:
        with self.log_lock:
            self.log.append(entry)

    def log_entries(self) -> list[dict[str, Any]]:
        with self.log_lock:
            return list(self.log)

    def clear_log(self) -> None:
        with self.log_lock:
            self.log.clear()


_ID = r"(?P<{}>[^/]+)"
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (m, re.compile("^/v2" + p.format(sid=_ID.format("sid"), cid=_ID.format("cid"),
                                     iid=_ID.format("iid")) + "/?$"), name)
    for m, p, name in [
        ("GET", "/token/introspect", "introspect"),
        ("GET", "/sites", "list_sites"),
        ("GET", "/sites/{sid}", "get_site"),
        ("GET", "/sites/{sid}/collections", "list_collections"),
        ("POST", "/sites/{sid}/collections", "create_collection"),
        ("GET", "/collections/{cid}", "get_collection"),
        ("POST", "/collections/{cid}/fields", "create_field"),
        ("GET", "/collections/{cid}/items/live", "list_live"),
        ("POST", "/collections/{cid}/items/live", "create_live"),
        ("PATCH", "/collections/{cid}/items/live", "update_live"),
        ("DELETE", "/collections/{cid}/items/live", "unpublish"),
        ("POST", "/collections/{cid}/items/bulk", "create_bulk"),
        ("POST", "/collections/{cid}/items/publish", "publish"),
        ("GET", "/collections/{cid}/items", "list_staged"),
        ("POST", "/collections/{cid}/items", "create_staged"),
        ("PATCH", "/collections/{cid}/items", "update_staged"),
        ("GET", "/collections/{cid}/items/{iid}/live", "get_live"),
        ("PATCH", "/collections/{cid}/items/{iid}/live", "patch_live"),
        ("GET", "/collections/{cid}/items/{iid}", "get_staged"),
        ("PATCH", "/collections/{cid}/items/{iid}", "patch_staged"),
        ("POST", "/sites/{sid}/publish", "publish_site"),
        ("DELETE", "/collections/{cid}/items", "delete_items"),
        ("DELETE", "/collections/{cid}/items/{iid}", "delete_item"),
    ]
]  # fmt: skip
# Request-body shapes the spec requires, checked before the store (bodies.py says why).
_BODY_SHAPES: dict[str, Callable[[Any], None]] = {
    "create_live": check_create, "create_staged": check_create, "create_bulk": check_bulk,
    "update_live": check_update, "update_staged": check_update, "patch_live": check_update,
    "patch_staged": check_update,
}  # fmt: skip
ALL_SCOPES = ("cms:read", "cms:write", "sites:read", "sites:write")
# The scope each route needs (the spec's "Required scope"); introspect needs none.
_READ_SCOPE = {"list_sites": "sites:read", "get_site": "sites:read"}
_WRITE_SCOPE = {"publish_site": "sites:write"}
SITE_PUBLISH_WINDOW = 60.0  # one successful site publish per minute per site (rate-limit page)


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY the client's delayed ACK holds
    # the second back ~40 ms, which would distort every latency figure.
    disable_nagle_algorithm = True
    server_version = "csvsync-sandbox"
    timeout = 120  # idle keep-alive connections end after this many seconds
    server: SandboxHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log is kept in memory instead

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    # ------------------------------------------------------------------ plumbing
    _expect_continue = False  # an "Expect: 100-continue" not yet answered
    _answered = False  # the current request's status line has gone out
    _request_body = b""  # the current /v2 request's body, for the recorder

    def handle_expect_100(self) -> bool:
        # Answered in _read_body, once the token and the length are accepted, so a refused
        # request is never invited to send its body.
        self._expect_continue = True
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (request line or headers too long, unknown method, bad
        version) in Webflow's JSON shape instead of its HTML page; the connection closes."""
        phrase = message or self.responses.get(code, ("Error",))[0]
        wf_code = {404: "resource_not_found", 500: "internal_error"}.get(code, "bad_request")
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # not parsed yet (or garbage): answer in 1.1
            self.request_version = self.protocol_version
        self._send(code, WebflowError(code, wf_code, phrase).body(), {"Connection": "close"})

    def _has_body(self) -> bool:
        length = (self.headers.get("Content-Length") or "").strip()
        return "Transfer-Encoding" in self.headers or length not in ("", "0")

    def _read_body(self) -> bytes:
        """The body: framing checked and at most ``MAX_BODY`` bytes, or ``RefuseAndClose``."""
        length = body_length(
            self.headers.get_all("Content-Length") or [], self.headers.get("Transfer-Encoding")
        )
        if length == 0:
            return b""
        if self._expect_continue:
            self._expect_continue = False
            self.send_response_only(100)
            self.end_headers()
        data = self.rfile.read(length)
        if len(data) < length:
            raise short_body(len(data), length)
        return data

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        self._answered = True
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if status != 204:
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if status != 204 and self.command != "HEAD":
            self.wfile.write(data)

    def _refuse(self, err: WebflowError, headers: dict[str, str] | None = None) -> None:
        """Answer a refusal; after a ``RefuseAndClose`` the connection closes."""
        headers = dict(headers or {})
        if isinstance(err, RefuseAndClose):
            headers["Connection"] = "close"
        self._send(err.status, err.body(), headers)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _dispatch(self) -> None:
        self._answered = False
        path, _, query = self.path.partition("?")
        try:
            if path.startswith("/v2/") or path == "/v2":
                self.server._count_in_flight(1)
                try:
                    self._api(path, query)
                finally:
                    self.server._count_in_flight(-1)
            elif path.startswith("/_sandbox"):
                self._control(path)
            else:
                self._other(path)
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception as exc:  # a bug: a 500 in Webflow's shape, logged once
            _log_crash(self.command, path, exc)
            self.close_connection = True
            if not self._answered:
                with contextlib.suppress(OSError):
                    self._send(500, _internal_error(), {"Connection": "close"})
        finally:
            self._expect_continue = False

    # ------------------------------------------------------------------ /v2
    def _api(self, path: str, query: str) -> None:
        srv = self.server
        started, t0 = time.time(), time.perf_counter()
        self._request_body = b""
        rf = srv.faults.draw(self.command)
        if rf.delay > 0:
            time.sleep(rf.delay)
        entry: dict[str, Any] = {
            "method": self.command, "path": path, "query": query, "status": 0, "items": 0,
            "time": started, "duration": 0.0,
        }  # fmt: skip
        try:
            status, payload, headers = self._api_answer(path, query, rf, entry)
        except _Drop:
            entry["dropped"] = True
            entry["duration"] = time.perf_counter() - t0
            srv.record(entry)
            self._drop()
            return
        except (ConnectionError, TimeoutError):
            raise
        except Exception as exc:  # a bug: logged once, answered as Webflow's 500
            _log_crash(self.command, path, exc)
            status, payload, headers = 500, _internal_error(), {"Connection": "close"}
        entry["status"] = status
        entry["duration"] = time.perf_counter() - t0
        srv.record(entry)
        if srv.recorder is not None:
            srv.recorder.append({
                "method": self.command, "path": path, "query": query,
                "body": self._request_body, "status": status, "headers": dict(headers),
                "response": payload,
            })  # fmt: skip
        self._send(status, payload, headers)

    def _api_answer(
        self, path: str, query: str, rf: RequestFaults, entry: dict[str, Any]
    ) -> tuple[int, Any, dict[str, str]]:
        srv = self.server
        if self.headers.get("Authorization", "") != f"Bearer {srv.token}":
            headers = _rate_headers(srv.rate.peek(srv.token))
            if self._has_body():  # never read: the connection cannot be reused
                headers["Connection"] = "close"
            return 401, WebflowError(401, "not_authorized", REQUEST_NOT_AUTHORIZED).body(), headers
        try:
            raw = self._request_body = self._read_body()
        except RefuseAndClose as e:
            return e.status, e.body(), {**_rate_headers(srv.rate.peek(srv.token)),
                                        "Connection": "close"}  # fmt: skip
        if rf.burst_429:
            state = srv.rate.peek(srv.token)
            retry = rf.retry_after if rf.retry_after is not None else state.retry_after
            return 429, _too_many(), {**_rate_headers(state), "Retry-After": _seconds(retry)}
        decision = srv.rate.take(srv.token)
        headers = _rate_headers(decision)
        if not decision.allowed:
            retry = rf.retry_after if rf.retry_after is not None else decision.retry_after
            return 429, _too_many(), {**headers, "Retry-After": _seconds(retry)}
        if rf.error:
            return 500, _internal_error(), headers
        if rf.drop and not rf.drop_after_apply:
            raise _Drop
        try:
            body = self._json(raw)
            entry["items"] = _count_items(body)
            with prefetched(body):  # loopback files fetched before the store's lock is taken
                status, payload = self._route(path, query, body, _reject_rule(rf.reject))
            if self.command == "GET" and isinstance(payload, dict) and "items" in payload:
                entry["items"] = len(payload["items"])
        except WebflowError as e:
            status, payload = e.status, e.body()
            headers = {**headers, **e.headers}
        if rf.drop and rf.drop_after_apply:
            raise _Drop
        return status, payload, headers

    def _json(self, raw: bytes) -> Any:
        if self.command in ("GET",) or not raw.strip():
            if self.command in ("POST", "PATCH"):
                raise bad_request()
            return None
        return parse_json(raw)

    def _route(self, path: str, query: str, body: Any, reject: Reject) -> Result:
        for method, pattern, name in _ROUTES:
            m = pattern.match(path)
            if m and method == self.command:
                self._check_scope(name)
                args = {k: unquote(v) for k, v in m.groupdict().items()}
                params = dict(parse_qsl(query, keep_blank_values=True))
                handler: Callable[..., Result] = getattr(self, "_r_" + name)
                if name in _BODY_SHAPES:
                    _BODY_SHAPES[name](body)
                return handler(params=params, body=body, reject=reject, **args)
        raise WebflowError(404, "resource_not_found", "Route not found")

    def _check_scope(self, route: str) -> None:
        if route == "introspect":
            return
        if self.command == "GET":
            need = _READ_SCOPE.get(route, "cms:read")
        else:
            need = _WRITE_SCOPE.get(route, "cms:write")
        if need not in self.server.scopes:
            raise missing_scopes(need)

    # ------------------------------------------------------------------ route handlers
    def _r_introspect(self, **_: Any) -> Result:
        srv = self.server
        return 200, {
            "authorization": {
                "id": "64f0c0ffee00000000007a01",
                "createdOn": "2024-01-01T00:00:00.000Z",
                "lastUsed": _now(),
                "grantType": "authorization_code",
                "rateLimit": srv.rate.limit,
                "scope": ",".join(srv.scopes),
                "authorizedTo": {
                    "siteIds": srv.store.site_ids(),
                    "workspaceIds": ["64f0c0ffee00000000007b01"],
                    "userIds": ["64f0c0ffee00000000005e01"],
                },
            },
            "application": {
                "id": "64f0c0ffee00000000007c01",
                "description": "csvsync local Webflow emulator",
                "homepage": "http://127.0.0.1",
                "displayName": "csvsync sandbox",
            },
        }

    def _r_list_sites(self, **_: Any) -> Result:
        return 200, self.server.store.list_sites()

    def _r_get_site(self, sid: str, **_: Any) -> Result:
        return 200, self.server.store.get_site(sid)

    def _r_list_collections(self, sid: str, **_: Any) -> Result:
        return 200, self.server.store.list_collections(sid)

    def _r_create_collection(self, sid: str, body: Any, **_: Any) -> Result:
        return 200, self.server.store.create_collection(sid, body)

    def _r_get_collection(self, cid: str, **_: Any) -> Result:
        return 200, self.server.store.get_collection(cid)

    def _r_create_field(self, cid: str, body: Any, **_: Any) -> Result:
        return 200, self.server.store.create_field(cid, body)

    def _list(self, cid: str, params: dict[str, str], live: bool) -> Result:
        return 200, self.server.store.list_items(cid, live, parse_list_query(params))

    def _r_list_live(self, cid: str, params: dict[str, str], **_: Any) -> Result:
        return self._list(cid, params, True)

    def _r_list_staged(self, cid: str, params: dict[str, str], **_: Any) -> Result:
        return self._list(cid, params, False)

    def _r_create_live(self, cid: str, params: dict[str, str], body: Any, reject: Reject,
                       **_: Any) -> Result:  # fmt: skip
        store = self.server.store
        return 202, store.create_items(cid, body, True, _skip_files(params), reject)

    def _r_create_staged(self, cid: str, params: dict[str, str], body: Any, reject: Reject,
                         **_: Any) -> Result:  # fmt: skip
        store = self.server.store
        return 202, store.create_items(cid, body, False, _skip_files(params), reject)

    def _r_create_bulk(self, cid: str, params: dict[str, str], body: Any, reject: Reject,
                       **_: Any) -> Result:  # fmt: skip
        return 202, self.server.store.create_items_bulk(cid, body, _skip_files(params), reject)

    def _r_update_live(self, cid: str, params: dict[str, str], body: Any, reject: Reject,
                       **_: Any) -> Result:  # fmt: skip
        store = self.server.store
        return 200, store.update_items(cid, body, True, _skip_files(params), reject)

    def _r_update_staged(self, cid: str, params: dict[str, str], body: Any, reject: Reject,
                         **_: Any) -> Result:  # fmt: skip
        store = self.server.store
        return 200, store.update_items(cid, body, False, _skip_files(params), reject)

    def _r_unpublish(self, cid: str, body: Any, **_: Any) -> Result:
        self.server.store.unpublish(cid, body)
        return 204, None

    def _r_publish(self, cid: str, body: Any, **_: Any) -> Result:
        rules = self.server.faults.as_dict()["reject"]
        return 202, self.server.store.publish(cid, body, _reject_rule(rules, "publish"))

    def _r_publish_site(self, sid: str, body: Any, **_: Any) -> Result:
        srv = self.server
        domains, subdomain = _publish_targets(body)
        srv.store.get_site(sid)  # an unknown site is a 404 before any limit
        if domains:  # the sandbox's sites have no custom domains
            raise WebflowError(
                400, "bad_request",
                "Requested an invalid Domain. Please send a valid custom domain URI.",
            )  # fmt: skip
        with srv.publish_lock:
            now = srv.rate.clock()
            last = srv.site_publishes.get(sid)
            if last is not None and now - last < SITE_PUBLISH_WINDOW:
                err = _too_many_error()
                wait = math.ceil(SITE_PUBLISH_WINDOW - (now - last))
                err.headers = {"Retry-After": _seconds(wait)}
                raise err
            srv.store.publish_site(sid)
            srv.site_publishes[sid] = now
        return 202, {"customDomains": [], "publishToWebflowSubdomain": subdomain,
                     "publishScope": "site"}  # fmt: skip

    def _r_delete_items(self, cid: str, body: Any, **_: Any) -> Result:
        self.server.store.delete_items(cid, body)
        return 204, None

    def _r_delete_item(self, cid: str, iid: str, params: dict[str, str], **_: Any) -> Result:
        self.server.store.delete_item(cid, iid, params.get("cmsLocaleId") or None)
        return 204, None

    def _r_get_live(self, cid: str, iid: str, params: dict[str, str], **_: Any) -> Result:
        return 200, self.server.store.get_item(cid, iid, True, params.get("cmsLocaleId") or None)

    def _r_get_staged(self, cid: str, iid: str, params: dict[str, str], **_: Any) -> Result:
        return 200, self.server.store.get_item(cid, iid, False, params.get("cmsLocaleId") or None)

    def _r_patch_live(self, cid: str, iid: str, params: dict[str, str], body: Any,
                      reject: Reject, **_: Any) -> Result:  # fmt: skip
        store = self.server.store
        return 200, store.update_item(cid, iid, body, True, _skip_files(params), reject)

    def _r_patch_staged(self, cid: str, iid: str, params: dict[str, str], body: Any,
                        reject: Reject, **_: Any) -> Result:  # fmt: skip
        store = self.server.store
        return 200, store.update_item(cid, iid, body, False, _skip_files(params), reject)

    # ------------------------------------------------------------------ /_sandbox and /assets
    def _control(self, path: str) -> None:
        srv = self.server
        try:
            raw = self._read_body()
        except RefuseAndClose as e:
            self._refuse(e)
            return
        route = (self.command, path.rstrip("/"))
        try:
            if route == ("GET", "/_sandbox/faults"):
                self._send(200, srv.faults_json())
            elif route == ("POST", "/_sandbox/faults"):
                knobs = parse_json(raw) if raw.strip() else {}
                if not isinstance(knobs, dict):
                    raise ValueError("expected a JSON object of knobs")
                srv.set_faults(**knobs)
                self._send(200, srv.faults_json())
            elif route == ("DELETE", "/_sandbox/faults"):
                srv.faults.reset()
                self._send(200, srv.faults_json())
            elif route == ("GET", "/_sandbox/log"):
                self._send(200, srv.log_entries())
            elif route == ("DELETE", "/_sandbox/log"):
                srv.clear_log()
                self._send(204, None)
            elif route == ("GET", "/_sandbox/health"):
                self._send(200, {"ok": True})
            elif route in (("GET", "/_sandbox/plan"), ("POST", "/_sandbox/plan")):
                # the site plan's item limit: {"item_limit": N or null}
                if self.command == "POST":
                    knobs = parse_json(raw) if raw.strip() else {}
                    if not isinstance(knobs, dict) or set(knobs) - {"item_limit"}:
                        raise ValueError('expected {"item_limit": N or null}')
                    if "item_limit" in knobs:
                        srv.store.item_limit = check_item_limit(knobs["item_limit"])
                self._send(200, {"item_limit": srv.store.item_limit})
            else:
                self._send(404, WebflowError(404, "resource_not_found", "Route not found").body())
        except WebflowError as e:
            self._send(e.status, e.body())
        except (ValueError, TypeError) as e:
            self._send(400, WebflowError(400, "bad_request", f"Bad Request: {e}").body())

    def _other(self, path: str) -> None:
        try:
            self._read_body()
        except RefuseAndClose as e:
            self._refuse(e)
            return
        if path.startswith("/assets/") and self.command == "GET":
            self._asset(path)
        else:
            self._send(404, WebflowError(404, "resource_not_found", "Route not found").body())

    def _asset(self, path: str) -> None:
        parts = path.split("/")
        found = self.server.store.asset(parts[2]) if len(parts) > 2 else None
        if found is None:
            self._send(404, WebflowError(404, "resource_not_found", "Asset not found").body())
            return
        # a fetched file's own bytes; a synthetic asset (never fetched) a placeholder
        fetched = self.server.store.asset_content(parts[2])
        ctype, data = fetched or ("application/octet-stream", b"sandbox asset\n")
        self._answered = True
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _rate_headers(d: Decision) -> dict[str, str]:
    return {"X-RateLimit-Limit": str(d.limit), "X-RateLimit-Remaining": str(d.remaining)}


def _internal_error() -> dict[str, Any]:
    return WebflowError(500, "internal_error", "An Internal Error occurred").body()


def _log_crash(method: str, path: str, exc: BaseException) -> None:
    """One record per unexpected exception: the method and path, never a header or a body."""
    log.error("sandbox: %s %s failed with %s", method, path, type(exc).__name__, exc_info=exc)


def _too_many() -> dict[str, Any]:
    return _too_many_error().body()


def _too_many_error() -> WebflowError:
    return WebflowError(429, "too_many_requests", "Too Many Requests")


def _publish_targets(body: Any) -> tuple[list[str], bool]:
    """A site publish's ``customDomains`` and ``publishToWebflowSubdomain``: at least one."""
    if not isinstance(body, dict):
        raise bad_request()
    domains = body.get("customDomains", [])
    subdomain = body.get("publishToWebflowSubdomain", False)
    errors = []
    if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
        errors.append(FieldError("customDomains", "Expected an array of domain ids"))
    if not isinstance(subdomain, bool):
        errors.append(FieldError("publishToWebflowSubdomain", "Expected a boolean"))
    if errors:
        raise validation_error(errors)
    if "customDomains" not in body and "publishToWebflowSubdomain" not in body:
        raise bad_request(
            "Bad Request: include customDomains or publishToWebflowSubdomain (or both)"
        )
    return domains, subdomain


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _now() -> str:
    return now_iso()


def _skip_files(params: dict[str, str]) -> bool:
    raw = params.get("skipInvalidFiles", "true").lower()
    if raw not in ("true", "false", ""):
        raise WebflowError(
            400, "validation_error", "Validation Error",
            [{"param": "skipInvalidFiles", "description": "Expected true or false"}],
        )  # fmt: skip
    return raw != "false"


def _count_items(body: Any) -> int:
    """Items in a request body: ``items``, ``itemIds``, bulk ``fieldData`` or one item."""
    if not isinstance(body, dict):
        return 0
    for key in ("items", "itemIds"):
        if isinstance(body.get(key), list):
            return len(body[key])
    data, locales = body.get("fieldData"), body.get("cmsLocaleIds")
    per_item = max(1, len(locales)) if isinstance(locales, list) else 1
    if isinstance(data, list):
        return len(data) * per_item
    return per_item if isinstance(data, dict) else 0


def _reject_rule(rules: list[dict[str, Any]], action: str = "write") -> Reject:
    """A write whose item matches any rule is refused with a validation_error on the field.

    A rule with ``"on": "publish"`` applies to ``POST /items/publish`` instead: that item is
    reported in the answer's ``errors`` and not published (Webflow's partial success)."""

    def check(item_id: str | None, locale: str, data: dict[str, Any]) -> FieldError | None:
        for rule in rules:
            if rule.get("on", "write") != action:
                continue
            if "item_id" in rule and rule["item_id"] != item_id:
                continue
            if "cmsLocaleId" in rule and rule["cmsLocaleId"] != locale:
                continue
            field = rule.get("field")
            if field is not None and field not in data:
                continue
            if "value" in rule:
                if field is not None and data.get(field) != rule["value"]:
                    continue
                if field is None and rule["value"] not in data.values():
                    continue
            value = data.get(field) if field else None
            return FieldError(
                str(field or "fieldData"),
                str(rule.get("description") or f"Invalid value: {json.dumps(value)}"),
            )
        return None

    return check

"""The sandbox's HTTP front: Webflow's /v2 routes, the /_sandbox control API and /assets.

Per /v2 request, in this order: injected latency, Bearer auth (401), an injected 429 burst,
the per-token rate window (429), an injected 500, a dropped connection (before or after
applying), then the store call. Every /v2 answer carries X-RateLimit-Limit/-Remaining.
The control API needs no token and never counts against the rate limit.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote

from .apierrors import REQUEST_NOT_AUTHORIZED, FieldError, WebflowError, bad_request
from .faults import Faults, RequestFaults, apply_knobs, knobs_state
from .queries import parse_list_query
from .ratelimit_window import Decision, RateWindow
from .store import Store, now_iso

LOG_MAX = 200_000
Reject = Callable[[str | None, str, dict[str, Any]], FieldError | None]
Result = tuple[int, Any]  # (status, JSON payload or None for an empty 204)


class _Drop(Exception):
    """Close the connection without answering."""


class SandboxHTTPServer(ThreadingHTTPServer):
    """Holds the shared state; tracks open connections so ``close_all`` can cut keep-alives."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        store: Store,
        token: str,
        rate: RateWindow,
        faults: Faults,
    ) -> None:
        super().__init__(address, SandboxHandler)
        self.store = store
        self.token = token
        self.rate = rate
        self.faults = faults
        self.log: deque[dict[str, Any]] = deque(maxlen=LOG_MAX)
        self.log_lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        self._in_flight = 0  # /v2 requests read and not yet answered (or dropped)

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
    ]
]  # fmt: skip


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
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if status != 204:
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if status != 204:
            self.wfile.write(data)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _dispatch(self) -> None:
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
            elif path.startswith("/assets/") and self.command == "GET":
                self._read_body()
                self._asset(path)
            else:
                self._read_body()
                self._send(404, WebflowError(404, "resource_not_found", "Route not found").body())
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    # ------------------------------------------------------------------ /v2
    def _api(self, path: str, query: str) -> None:
        srv = self.server
        started, t0 = time.time(), time.perf_counter()
        body = self._read_body()
        rf = srv.faults.draw(self.command)
        if rf.delay > 0:
            time.sleep(rf.delay)
        entry: dict[str, Any] = {
            "method": self.command, "path": path, "query": query, "status": 0, "items": 0,
            "time": started, "duration": 0.0,
        }  # fmt: skip
        try:
            status, payload, headers = self._api_answer(path, query, body, rf, entry)
        except _Drop:
            entry["dropped"] = True
            entry["duration"] = time.perf_counter() - t0
            srv.record(entry)
            self._drop()
            return
        entry["status"] = status
        entry["duration"] = time.perf_counter() - t0
        srv.record(entry)
        self._send(status, payload, headers)

    def _api_answer(
        self, path: str, query: str, raw: bytes, rf: RequestFaults, entry: dict[str, Any]
    ) -> tuple[int, Any, dict[str, str]]:
        srv = self.server
        if self.headers.get("Authorization", "") != f"Bearer {srv.token}":
            return (
                401,
                WebflowError(401, "not_authorized", REQUEST_NOT_AUTHORIZED).body(),
                (_rate_headers(srv.rate.peek(srv.token))),
            )
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
            err = WebflowError(500, "internal_error", "An Internal Error occurred")
            return 500, err.body(), headers
        if rf.drop and not rf.drop_after_apply:
            raise _Drop
        try:
            body = self._json(raw)
            entry["items"] = _count_items(body)
            status, payload = self._route(path, query, body, _reject_rule(rf.reject))
            if self.command == "GET" and isinstance(payload, dict) and "items" in payload:
                entry["items"] = len(payload["items"])
        except WebflowError as e:
            status, payload = e.status, e.body()
        if rf.drop and rf.drop_after_apply:
            raise _Drop
        return status, payload, headers

    def _json(self, raw: bytes) -> Any:
        if self.command in ("GET",) or not raw.strip():
            if self.command in ("POST", "PATCH"):
                raise bad_request()
            return None
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise bad_request() from None

    def _route(self, path: str, query: str, body: Any, reject: Reject) -> Result:
        for method, pattern, name in _ROUTES:
            m = pattern.match(path)
            if m and method == self.command:
                args = {k: unquote(v) for k, v in m.groupdict().items()}
                params = dict(parse_qsl(query, keep_blank_values=True))
                handler: Callable[..., Result] = getattr(self, "_r_" + name)
                return handler(params=params, body=body, reject=reject, **args)
        raise WebflowError(404, "resource_not_found", "Route not found")

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
                "scope": "cms:read,cms:write,sites:read",
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
        raw = self._read_body()
        route = (self.command, path.rstrip("/"))
        try:
            if route == ("GET", "/_sandbox/faults"):
                self._send(200, srv.faults_json())
            elif route == ("POST", "/_sandbox/faults"):
                knobs = json.loads(raw or b"{}")
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
            else:
                self._send(404, WebflowError(404, "resource_not_found", "Route not found").body())
        except (ValueError, TypeError) as e:
            self._send(400, WebflowError(400, "bad_request", f"Bad Request: {e}").body())

    def _asset(self, path: str) -> None:
        parts = path.split("/")
        found = self.server.store.asset(parts[2]) if len(parts) > 2 else None
        if found is None:
            self._send(404, WebflowError(404, "resource_not_found", "Asset not found").body())
            return
        data = b"sandbox asset\n"
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _rate_headers(d: Decision) -> dict[str, str]:
    return {"X-RateLimit-Limit": str(d.limit), "X-RateLimit-Remaining": str(d.remaining)}


def _too_many() -> dict[str, Any]:
    return WebflowError(429, "too_many_requests", "Too Many Requests").body()


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
    data = body.get("fieldData")
    if isinstance(data, list):
        return len(data) * max(1, len(body.get("cmsLocaleIds") or []))
    if isinstance(data, dict):
        return max(1, len(body.get("cmsLocaleIds") or []))
    return 0


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

"""The sandbox under hostile and broken requests (issue 12), over raw HTTP on loopback.

Each case is bytes that ``requests`` would never send. Every one is owed: its status, a body in
Webflow's error shape, the connection closed when its body was left unread (and kept when it was
read), a server that answers the next request, and nothing on stderr or the sandbox's logger.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.bodies import MAX_BODY, MAX_DEPTH
from csvsync.sandbox.seed import (
    DEMO_AUTHORS_COLLECTION_ID,
    DEMO_COLLECTION_ID,
    DEMO_SITE_ID,
    LOCALE_EN,
    product_id,
)

TOKEN = "sandbox-token"
C = f"/v2/collections/{DEMO_COLLECTION_ID}"
AUTHORS = f"/v2/collections/{DEMO_AUTHORS_COLLECTION_ID}"
SITE = f"/v2/sites/{DEMO_SITE_ID}"
SHAPE = {"message", "code", "externalReference", "details"}
NAME = {"name": "Hostile", "slug": "hostile"}


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str
    body: bytes = b""
    status: int = 400
    code: str = "bad_request"
    says: str = ""  # a piece of the message or of a detail
    headers: tuple[tuple[str, str], ...] = ()
    auth: bool = True
    length: str | None = None  # the Content-Length header as sent; None = the body's length
    closes: bool = False  # the body was not (wholly) read: the connection must end
    half_close: bool = False  # the client shuts its sending side after the body
    raw: bytes | None = None  # the whole request as sent, instead of the fields above

    def __str__(self) -> str:
        return self.id

    def request(self) -> bytes:
        if self.raw is not None:
            return self.raw
        lines = [f"{self.method} {self.path} HTTP/1.1", "Host: 127.0.0.1"]
        if self.auth:
            lines.append(f"Authorization: Bearer {TOKEN}")
        lines.append("Content-Type: application/json")
        length = str(len(self.body)) if self.length is None else self.length
        if length != "-":
            lines.append(f"Content-Length: {length}")
        lines += [f"{k}: {v}" for k, v in self.headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


def _j(value: Any) -> bytes:
    return json.dumps(value).encode()


DEEP = b"[" * 200_000 + b"]" * 200_000
CASES = [
    # --- framing and size: refused before the body is read, then the connection closes
    Case("content-length-abc", "POST", C + "/items", b"{}", length="abc", closes=True,
         says="Content-Length is not a number"),
    Case("content-length-negative", "POST", C + "/items", b"{}", length="-5", closes=True,
         says="Content-Length is not a number"),
    Case("content-length-10^12", "PATCH", C + "/items/live", length=str(10**12), closes=True,
         status=413, says="at most 10,485,760 bytes"),
    Case("content-length-cap+1", "POST", C + "/items/bulk", length=str(MAX_BODY + 1),
         closes=True, status=413, says="Too Large"),
    Case("two-content-lengths", "POST", C + "/items", b"{}", closes=True,
         headers=(("Content-Length", "3"),), says="different Content-Length"),
    Case("chunked", "POST", C + "/items/publish", b"2\r\n{}\r\n0\r\n\r\n", length="-",
         headers=(("Transfer-Encoding", "chunked"),), status=411, closes=True,
         says="Length Required"),
    Case("body-shorter-than-length", "POST", C + "/items", b'{"fieldData":', length="100",
         half_close=True, closes=True, says="ended after 13 of its 100 bytes"),
    Case("unauthenticated-1GiB", "POST", C + "/items/bulk", length=str(1 << 30), auth=False,
         status=401, code="not_authorized", closes=True, says="Request not authorized"),
    Case("unauthenticated-expect-100", "PATCH", C + "/items", length="5000", auth=False,
         headers=(("Expect", "100-continue"),), status=401, code="not_authorized", closes=True),
    Case("site-publish-10^12", "POST", SITE + "/publish", length=str(10**12), status=413,
         closes=True),
    # --- JSON that is not JSON, or not Webflow's (read whole: the connection stays open)
    Case("200000-deep", "POST", C + "/items", DEEP, says=f"deeper than {MAX_DEPTH} levels"),
    Case("deep-under-recursion-limit", "PATCH", C + "/items/live",
         b'{"items":' + b"[" * 500 + b"]" * 500 + b"}", says="deeper than"),
    Case("invalid-utf8", "POST", C + "/items", b'{"fieldData":{"name":"\xff\xfe"}}',
         says="not valid UTF-8"),
    Case("bom", "POST", C + "/items", b"\xef\xbb\xbf" + _j({"fieldData": NAME}),
         says="byte order mark"),
    Case("nan", "PATCH", C + "/items/live", b'{"items":[{"id":"x","fieldData":{"price":NaN}}]}',
         says="NaN is not JSON"),
    Case("infinity", "POST", C + "/items/live", b'{"fieldData":{"price":-Infinity}}',
         says="-Infinity is not JSON"),
    Case("1e999", "POST", C + "/items", b'{"fieldData":{"price":1e999}}', says="too large"),
    Case("5000-digit-int", "POST", C + "/items", b'{"fieldData":{"stock":' + b"9" * 5000 + b"}}",
         says="not valid JSON"),
    Case("duplicate-keys", "POST", C + "/items",
         b'{"fieldData":{"name":"a","slug":"a"},"fieldData":{"name":"b","slug":"b"}}',
         says="'fieldData' appears twice"),
    Case("lone-surrogate", "POST", C + "/items", b'{"fieldData":{"name":"\\ud800","slug":"s"}}',
         says="lone UTF-16 surrogate"),
    Case("not-json", "PATCH", C + "/items", b"{items: []}", says="not valid JSON"),
    Case("top-level-array", "POST", C + "/items", b"[]"),
    Case("top-level-string", "PATCH", C + f"/items/{product_id(1)}", b'"x"'),
    Case("top-level-null", "POST", C + "/items/publish", b"null"),
    # --- type-confused bodies, endpoint by endpoint
    Case("field-type-object", "POST", AUTHORS + "/fields", _j({"type": {}, "displayName": "X"}),
         code="validation_error", says="Invalid field type"),
    Case("field-slug-object", "POST", AUTHORS + "/fields",
         _j({"type": "PlainText", "displayName": "X", "slug": {}}), code="validation_error"),
    Case("collection-field-type-list", "POST", SITE + "/collections",
         _j({"displayName": "A", "singularName": "B", "fields": [{"type": [], "displayName": 1}]}),
         code="validation_error", says="Invalid field type"),
    Case("collection-slug-list", "POST", SITE + "/collections",
         _j({"displayName": "A", "singularName": "B", "slug": ["x"]}), code="validation_error"),
    Case("bulk-cmsLocaleIds-true", "POST", C + "/items/bulk",
         _j({"cmsLocaleIds": True, "fieldData": NAME}), code="validation_error",
         says="cmsLocaleIds"),
    Case("items-string", "PATCH", C + "/items/live", _j({"items": "x"}),
         says="'items' must be an array"),
    Case("items-numbers", "PATCH", C + "/items", _j({"items": [1, 2]}),
         says="must be an object"),
    Case("fieldData-array", "POST", C + "/items", _j({"fieldData": []}),
         code="validation_error", says="fieldData"),
    Case("isDraft-yes", "POST", C + "/items", _j({"isDraft": "yes", "fieldData": NAME}),
         code="validation_error", says="isDraft"),
    Case("unpublish-array", "DELETE", C + "/items/live", b"[]"),
    Case("publish-itemIds-string", "POST", C + "/items/publish", _j({"itemIds": "x"}),
         says="itemIds"),
    Case("publish-locales-true", "POST", C + "/items/publish",
         _j({"items": [{"id": product_id(1), "cmsLocaleIds": True}]}), code="validation_error"),
    Case("live-item-cmsLocaleId-list", "PATCH", C + f"/items/{product_id(1)}/live",
         _j({"cmsLocaleId": [LOCALE_EN], "fieldData": {}}), code="validation_error"),
    # --- schema-invalid bodies once answered 2xx (the spec's request schemas)
    Case("create-items-empty", "POST", C + "/items", _j({"items": []}),
         code="validation_error", says="items"),
    Case("create-live-items-empty", "POST", C + "/items/live", _j({"items": []}),
         code="validation_error", says="items"),
    Case("bulk-no-fieldData", "POST", C + "/items/bulk", _j({"cmsLocaleIds": [LOCALE_EN]}),
         code="validation_error", says="fieldData"),
    Case("bulk-fieldData-empty", "POST", C + "/items/bulk",
         _j({"cmsLocaleIds": [LOCALE_EN], "fieldData": []}), code="validation_error",
         says="fieldData"),
    Case("bulk-cmsLocaleIds-empty", "POST", C + "/items/bulk",
         _j({"cmsLocaleIds": [], "fieldData": NAME}), code="validation_error",
         says="cmsLocaleIds"),
    Case("patch-fieldData-null", "PATCH", C + "/items",
         _j({"items": [{"id": product_id(1), "fieldData": None}]}), code="validation_error",
         says="fieldData"),
    Case("live-item-fieldData-null", "PATCH", C + f"/items/{product_id(1)}/live",
         _j({"fieldData": None}), code="validation_error", says="fieldData"),
    # --- the control API: no token, but bounded and shaped the same way
    Case("control-10^12", "POST", "/_sandbox/faults", length=str(10**12), auth=False,
         status=413, closes=True),
    Case("control-content-length-abc", "POST", "/_sandbox/faults", b"{}", length="abc",
         auth=False, closes=True),
    Case("control-200000-deep", "POST", "/_sandbox/faults", DEEP, auth=False, says="deeper"),
    Case("control-invalid-utf8", "POST", "/_sandbox/faults", b'{"\xff":1}', auth=False,
         says="UTF-8"),
    Case("control-array", "POST", "/_sandbox/faults", b"[]", auth=False, says="JSON object"),
    Case("control-latency-negative", "POST", "/_sandbox/faults", _j({"latency": -1}),
         auth=False, says="0 or more"),
    Case("control-latency-1e300", "POST", "/_sandbox/faults", _j({"latency": 1e300}),
         auth=False, says="at most"),
    Case("control-reject-field-object", "POST", "/_sandbox/faults",
         _j({"reject": [{"field": {}}]}), auth=False, says="must be a string"),
    Case("control-rate-limit-half", "POST", "/_sandbox/faults", _j({"rate_limit": 0.5}),
         auth=False, says="at least 1"),
    # --- what http.server refuses itself, in Webflow's shape instead of an HTML page
    Case("request-line-70000", "GET", "", raw=b"GET /v2/" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n",
         status=414, closes=True),
    Case("150-headers", "GET", "", status=431, closes=True,
         raw=b"GET /v2/sites HTTP/1.1\r\n" + b"X-A: 1\r\n" * 150 + b"\r\n"),
    Case("unknown-method", "GET", "", raw=b"BREW /v2/sites HTTP/1.1\r\n\r\n", status=501,
         closes=True, says="BREW"),
    Case("trace", "GET", "", raw=b"TRACE /v2/sites HTTP/1.1\r\nHost: x\r\n\r\n", status=501,
         closes=True, says="TRACE"),
    Case("options", "GET", "", raw=b"OPTIONS /v2/sites HTTP/1.1\r\nHost: x\r\n\r\n",
         status=501, closes=True, says="OPTIONS"),
    Case("options-asterisk", "GET", "", raw=b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
         status=501, closes=True, says="OPTIONS"),
    Case("options-control-api", "GET", "", status=501, closes=True, says="OPTIONS",
         raw=b"OPTIONS /_sandbox/log HTTP/1.1\r\nHost: x\r\n\r\n"),
    Case("trace-with-a-body", "GET", "", status=501, closes=True, says="TRACE",
         raw=b"TRACE /v2/sites HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"),
    Case("garbage-request-line", "GET", "", raw=b"hello\r\n\r\n", closes=True),
    Case("http-9.9", "GET", "", raw=b"GET /v2/sites HTTP/9.9\r\n\r\n", status=505, closes=True),
]  # fmt: skip


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions(rate_limit=1_000_000)) as sandbox:
        yield sandbox


def _connect(sb: Sandbox) -> socket.socket:
    return socket.create_connection(("127.0.0.1", sb.port), timeout=10)


def _answer(sock: socket.socket, method: str = "POST") -> tuple[int, dict[str, str], Any]:
    resp = http.client.HTTPResponse(sock, method=method)
    resp.begin()
    headers = {k.lower(): v for k, v in resp.getheaders()}
    data = resp.read()
    return resp.status, headers, json.loads(data) if data else None


def _get_sites(sock: socket.socket) -> int:
    req = f"GET /v2/sites HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
    sock.sendall(req.encode())
    return _answer(sock, "GET")[0]


def _closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def _quiet(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    noisy = [r for r in caplog.records if r.name.startswith("csvsync.sandbox")]
    assert not noisy, [r.getMessage() for r in noisy]


def assert_webflow_error(body: Any, status: int, code: str) -> None:
    assert isinstance(body, dict) and set(body) == SHAPE, body
    assert body["code"] == code and body["externalReference"] is None, body
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["details"], list)
    assert status >= 400


@pytest.mark.parametrize("case", CASES, ids=str)
def test_hostile_request(
    sb: Sandbox, case: Case, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="csvsync.sandbox")
    before = sb.store.count(DEMO_COLLECTION_ID, live=False)
    sock = _connect(sb)
    try:
        sock.sendall(case.request())
        if case.half_close:
            sock.shutdown(socket.SHUT_WR)
        started = time.monotonic()
        status, headers, body = _answer(sock, case.method)
        assert time.monotonic() - started < 5  # never waits for a body it will not take
        assert status == case.status, body
        assert headers["content-type"].startswith("application/json")
        assert_webflow_error(body, status, case.code)
        assert case.says in body["message"] + " " + json.dumps(body["details"]), body
        if case.closes:
            assert headers.get("connection") == "close"
            assert _closed(sock)
        else:  # the body was read whole: the same connection serves the next request
            assert _get_sites(sock) == 200
    finally:
        sock.close()
    with _connect(sb) as again:  # and so does a new one
        assert _get_sites(again) == 200
    assert sb.store.count(DEMO_COLLECTION_ID, live=False) == before  # nothing written
    _quiet(capsys, caplog)


def test_at_least_fifteen_cases_and_every_body_endpoint_is_covered() -> None:
    assert len(CASES) >= 15
    covered = {(c.method, c.path) for c in CASES}
    for route in [
        ("PATCH", C + "/items/live"), ("POST", C + "/items/live"), ("DELETE", C + "/items/live"),
        ("PATCH", C + "/items"), ("POST", C + "/items"), ("POST", C + "/items/bulk"),
        ("POST", C + "/items/publish"), ("POST", SITE + "/collections"),
        ("POST", AUTHORS + "/fields"), ("POST", SITE + "/publish"),
        ("POST", "/_sandbox/faults"), ("PATCH", C + f"/items/{product_id(1)}"),
        ("PATCH", C + f"/items/{product_id(1)}/live"),
    ]:  # fmt: skip
        assert route in covered, route


def test_a_body_of_exactly_the_cap_is_read(sb: Sandbox) -> None:
    body = b"{}" + b" " * (MAX_BODY - 2)
    conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=30)
    conn.request("POST", "/_sandbox/faults", body=body)
    resp = conn.getresponse()
    assert resp.status == 200 and json.loads(resp.read())["latency"] == 0.0
    conn.close()


def test_head_is_refused_without_a_body(sb: Sandbox) -> None:
    with _connect(sb) as sock:
        sock.sendall(b"HEAD /v2/sites HTTP/1.1\r\n\r\n")
        status, headers, body = _answer(sock, "HEAD")
        assert status == 501 and body is None and headers["connection"] == "close"
        assert headers["content-type"].startswith("application/json")
        assert _closed(sock)


def test_expect_100_continue_is_answered_once_the_token_and_length_pass(sb: Sandbox) -> None:
    body = _j({"items": "x"})
    with _connect(sb) as sock:
        head = (
            f"PATCH {C}/items HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Expect: 100-continue\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        sock.sendall(head.encode())
        interim = sock.recv(4096)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n"), interim
        sock.sendall(body)
        status, _, answer = _answer(sock, "PATCH")
        assert status == 400 and "'items' must be an array" in answer["message"]


def test_an_unexpected_exception_is_a_500_logged_once_without_the_token(
    sb: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="csvsync.sandbox")

    def boom(*_: Any, **__: Any) -> Any:
        raise RuntimeError("a bug in the store")

    monkeypatch.setattr(sb.store, "list_sites", boom)
    sb.clear_log()
    with _connect(sb) as sock:
        sock.sendall(f"GET /v2/sites HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode())
        status, headers, body = _answer(sock, "GET")
    assert status == 500 and headers.get("connection") == "close"
    assert body == {
        "message": "An Internal Error occurred",
        "code": "internal_error",
        "externalReference": None,
        "details": [],
    }
    records = [r for r in caplog.records if r.name == "csvsync.sandbox"]
    assert len(records) == 1
    text = caplog.text
    assert "GET /v2/sites" in text and "RuntimeError" in text and TOKEN not in text
    assert "Authorization" not in text
    assert [e["status"] for e in sb.log()] == [500]
    monkeypatch.undo()
    with _connect(sb) as sock:
        assert _get_sites(sock) == 200
    assert "Traceback" not in capsys.readouterr().err


def test_a_control_api_bug_is_a_500_too(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="csvsync.sandbox")
    monkeypatch.setattr(sb._server, "log_entries", lambda: 1 / 0)
    conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=10)
    conn.request("GET", "/_sandbox/log")
    resp = conn.getresponse()
    assert resp.status == 500 and json.loads(resp.read())["code"] == "internal_error"
    conn.close()
    assert len([r for r in caplog.records if r.name == "csvsync.sandbox"]) == 1


def test_a_client_that_resets_mid_body_leaves_no_trace(
    sb: Sandbox, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="csvsync.sandbox")
    sock = _connect(sb)
    head = f"POST {C}/items HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: 900\r\n"
    head += "\r\n"
    sock.sendall(head.encode() + b'{"fieldData"')
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()  # SO_LINGER 0: an RST, not a FIN
    sb.wait_idle(timeout=10, connections=True)
    with _connect(sb) as again:
        assert _get_sites(again) == 200
    _quiet(capsys, caplog)


# --- any JSON at all, at every endpoint that takes a body: never a 500, always the shape
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                 max_size=4),
    max_leaves=20,
)  # fmt: skip
KEYS = ["items", "fieldData", "cmsLocaleIds", "cmsLocaleId", "isDraft", "isArchived", "itemIds",
        "id", "type", "displayName", "singularName", "slug", "fields", "metadata", "name",
        "latency", "reject", "methods", "rate_limit"]  # fmt: skip
BODIES = JSON | st.dictionaries(st.sampled_from(KEYS), JSON, max_size=4)
ENDPOINTS = [
    ("PATCH", C + "/items/live"), ("POST", C + "/items/live"), ("DELETE", C + "/items/live"),
    ("PATCH", C + "/items"), ("POST", C + "/items"), ("POST", C + "/items/bulk"),
    ("POST", C + "/items/publish"), ("POST", SITE + "/collections"), ("POST", AUTHORS + "/fields"),
    ("PATCH", C + f"/items/{product_id(2)}"), ("PATCH", C + f"/items/{product_id(2)}/live"),
    ("POST", "/_sandbox/faults"),
]  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(endpoint=st.sampled_from(ENDPOINTS), body=BODIES)
def test_any_json_body_is_answered_in_webflow_shape(
    sb: Sandbox, endpoint: tuple[str, str], body: Any
) -> None:
    method, path = endpoint
    conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=10)
    try:
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        conn.request(method, path, body=json.dumps(body), headers=headers)
        resp = conn.getresponse()
        data = resp.read()
    finally:
        conn.close()
        sb.reset_faults()
    assert resp.status < 500, data
    if resp.status >= 400:
        assert_webflow_error(json.loads(data), resp.status, json.loads(data)["code"])


def test_the_sandbox_command_stays_quiet_under_hostile_requests() -> None:
    """``csvsync sandbox`` as users run it: its stderr holds no traceback afterwards."""
    cmd = [sys.executable, "-m", "csvsync", "sandbox", "--port", "0", "--token", TOKEN]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        port = int(line.split()[-1].rsplit(":", 1)[1].split("/")[0])
        for case in CASES:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(case.request())
                if case.half_close:
                    sock.shutdown(socket.SHUT_WR)
                assert _answer(sock, case.method)[0] == case.status, case
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            assert _get_sites(sock) == 200
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "Traceback" not in err and "Error" not in err, err

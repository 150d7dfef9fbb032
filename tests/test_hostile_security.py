"""Hostile input, security part (issue 12): API base URLs that trick the loopback rule.

Each case runs a real command against a sandbox through ``hostile.check``: one ``Error:`` line,
exit 2, no traceback, nothing sent, nothing half-written, no token, and no request at all reached
the sandbox. Every address any case could connect to, had the check failed, is a loopback one.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hostile import Case, check
from hypothesis import given, settings
from hypothesis import strategies as st
from support import Workspace, make_workspace
from urllib3.util import parse_url

from csvsync.errors import EXIT_START, ConfigError
from csvsync.ops.demo import DEMO_TOKEN
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.webflow.transport import check_api_base, without_userinfo


@pytest.fixture(scope="module")
def sandbox_for_module() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000)) as sb:
        yield sb


@pytest.fixture
def ws(sandbox_for_module: Sandbox, tmp_path: Path) -> Workspace:
    workspace = make_workspace(sandbox_for_module, tmp_path)
    workspace.write_sheet(name="sheet.csv")
    sandbox_for_module.clear_log()
    return workspace


# -- setups ----------------------------------------------------------------------------------------


def sandbox_address(ws: Workspace) -> dict[str, str]:
    """``{hostport}`` (127.0.0.1:PORT of the sandbox) and ``{port}`` for the command line."""
    netloc = urlsplit(ws.sb.base_url).netloc
    return {"hostport": netloc, "port": netloc.rsplit(":", 1)[1]}


def no_file(name: str) -> Callable[[Workspace], None]:
    def after(ws: Workspace) -> None:
        assert not (ws.dir / name).exists(), f"{name} was written"

    return after


# -- the cases -------------------------------------------------------------------------------------

M = ("-m", "{mapping}")
PLAN = ("plan", *M, "{sheet}")
SYNC = ("sync", *M, "{sheet}")
PULL = ("pull", *M)
REVERT = ("revert", "last", *M)
EXPORT = ("export", *M, "{dir}/out.xlsx")


def url_case(
    id: str,
    command: tuple[str, ...],
    base: str,
    says: str,
    *,
    env: bool = False,
    also_says: tuple[str, ...] = (),
    never_says: tuple[str, ...] = (),
) -> Case:
    """A command with ``base`` as --api-base (``env``: as CSVSYNC_API_BASE), refused before
    any request."""
    return Case(
        id,
        command if env else (*command, "--api-base", base),
        sandbox_address,
        EXIT_START,
        says,
        env={"CSVSYNC_API_BASE": base} if env else {},
        no_requests=True,
        also_says=also_says,
        never_says=never_says,
        after=no_file("out.xlsx") if command is EXPORT else None,
    )


URL_CASES = [
    # The trick: urlsplit reads 127.0.0.1 (loopback, plain http allowed) where requests
    # connects to the host before the backslash (here a closed loopback port).
    url_case("url-backslash", PLAN, "http://127.0.0.1:1\\@{hostport}/v2", "backslash"),
    # The mirror image: requests would connect to the sandbox, urlsplit reads another host.
    url_case("url-backslash-mirror", SYNC, "http://{hostport}\\@127.0.0.1:1/v2", "backslash"),
    url_case(
        "url-userinfo",
        PULL,
        "http://csvsync:s3cret-pass@{hostport}/v2",
        "contains user-info",
        also_says=("'http://***@127.0.0.1:",),
        never_says=("s3cret-pass", "csvsync:s3"),
    ),
    url_case(
        "url-userinfo-https-env",
        EXPORT,
        "https://csvsync:s3cret-pass@{hostport}/v2",
        "contains user-info",
        env=True,
        never_says=("s3cret-pass",),
    ),
    # "%2f" in the user-info: a slash to one reader, part of a name to another.
    url_case(
        "url-userinfo-encoded-slash",
        REVERT,
        "http://127.0.0.1%2f@{hostport}/v2",
        "contains user-info",
        never_says=("%2f",),
    ),
    # urllib3 decodes a percent-encoded host (127.0.0.1 here), urlsplit does not.
    url_case("url-percent-host", PLAN, "http://%31%32%37.0.0.1:{port}/v2", "percent-encoded"),
    # A terminal escape (clear screen) must not reach the terminal raw either.
    url_case(
        "url-control-char",
        PULL,
        "http://{hostport}/v2\x1b[2J",
        "whitespace or a control character",
        never_says=("\x1b",),
    ),
    # urlsplit silently drops a newline (reading host "127.0.0.1.example"); urllib3 refuses it.
    url_case(
        "url-newline-env",
        SYNC,
        "http://127.0.0.1\n.example:{port}/v2",
        "whitespace or a control character",
        env=True,
    ),
    url_case("url-inner-space", EXPORT, "http://{hostport} /v2", "whitespace"),
    # Full-width "localhost": IDNA would fold it to localhost; csvsync does not guess.
    url_case("url-non-ascii-host", PLAN, "https://ｌｏｃａｌｈｏｓｔ:{port}/v2", "non-ASCII"),
    url_case("url-fragment", PULL, "http://{hostport}/v2#", "query or fragment"),
    url_case("url-query", REVERT, "http://{hostport}/v2?host=127.0.0.1", "query or fragment"),
    url_case("url-two-ports", SYNC, "http://{hostport}:80/v2", "host or port that is not valid"),
    url_case("url-no-host", EXPORT, "http://:{port}/v2", "with a host"),
    # 2130706433 is 127.0.0.1 to the resolver, but not a loopback address csvsync can check.
    url_case("url-integer-ip", PLAN, "http://2130706433:{port}/v2", "uses plain http"),
    url_case("url-mapped-ipv6", PULL, "http://[::ffff:127.0.0.1]:{port}/v2", "uses plain http"),
    url_case("url-not-http", REVERT, "file:///etc/passwd", "is not an http(s) URL", env=True),
]


@pytest.mark.parametrize("case", URL_CASES, ids=str)
def test_hostile_input_gets_one_line_and_exit_2(ws: Workspace, case: Case) -> None:
    check(ws, case)


# -- the trick, end to end -------------------------------------------------------------------------


class Trap:
    """A loopback listener standing for the host a trick URL would send the token to."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.2)
        self.received = b""
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(2)
                try:
                    self.received += conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def trap() -> Iterator[Trap]:
    t = Trap()
    yield t
    t.close()


def test_the_backslash_trick_sends_nothing_to_the_host_requests_would_connect_to(
    ws: Workspace, trap: Trap
) -> None:
    hostport = urlsplit(ws.sb.base_url).netloc
    hostile = f"http://127.0.0.1:{trap.port}\\@{hostport}/v2"
    # The premise, as the installed parsers read it: the loopback rule's parser sees the
    # sandbox, the HTTP stack's parser sees the trap.
    assert urlsplit(hostile).port == int(hostport.rsplit(":", 1)[1])
    assert parse_url(hostile).port == trap.port
    result = ws.run("plan", "-m", str(ws.mapping), str(ws.dir / "sheet.csv"), "--api-base", hostile)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "backslash" in lines[0]
    assert DEMO_TOKEN not in result.output
    assert trap.connections == 0 and trap.received == b""
    assert ws.sb.log() == []
    # The trap was listening all along: the HTTP stack itself, given that URL, goes there.
    import requests

    requests.get(hostile, headers={"Authorization": "Bearer canary"}, timeout=5)
    assert trap.connections == 1 and b"Bearer canary" in trap.received


# -- check_api_base on its own ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "base",
    [
        "https://api.webflow.com/v2",
        "https://api.webflow.com/v2/",
        "  https://api.webflow.com/v2\n",  # the ends are trimmed, as before
        "http://127.0.0.1:8787/v2",
        "http://127.255.0.9:1/v2",
        "http://localhost:8787/v2",
        "HTTP://LOCALHOST:8787/v2",
        "http://[::1]:8787/v2",
        "https://xn--bcher-kva.example/v2",  # an internationalised name, written in ASCII
        "https://[2001:db8::1]:8443/v2",
    ],
)
def test_plain_bases_are_accepted(base: str) -> None:
    assert check_api_base(base) == base.strip().rstrip("/")


@pytest.mark.parametrize(
    ("base", "says"),
    [
        ("http://evil.example:1\\@127.0.0.1:8787/v2", "backslash"),
        ("https://api.webflow.com\\@127.0.0.1/v2", "backslash"),
        ("http://user:pw@127.0.0.1:8787/v2", "user-info"),
        ("https://token@api.webflow.com/v2", "user-info"),
        ("http://127.0.0.1:8787@evil.example/v2", "user-info"),
        ("http://%6c%6fcalhost:8787/v2", "percent-encoded"),
        ("http://[::1%25lo]:8787/v2", "percent-encoded"),
        ("http://127.0.0.1:8787/v2?x", "query or fragment"),
        ("http://127.0.0.1:8787/v2#x", "query or fragment"),
        ("http://127.0.0.1\t:8787/v2", "whitespace"),
        ("http://127.0.0.1:8787/v\x002", "control character"),
        ("http://127.0.0.1:8787/v2\u202e", "control character"),  # right-to-left override
        ("https://bücher.example/v2", "non-ASCII"),
        ("http://127.0.0.1:８７８７/v2", "non-ASCII"),  # full-width digits
        ("http://127.0.0.1:99999/v2", "not valid"),
        ("http://[127.0.0.1]:8787/v2", "not valid"),
        ("http://127.0.0.1:87:87/v2", "not valid"),
        ("http://:8787/v2", "with a host"),
        ("https://-evil.example/v2", "with a host"),
        ("http:/127.0.0.1/v2", "not an http(s) URL"),
        ("ftp://127.0.0.1/v2", "not an http(s) URL"),
        ("127.0.0.1:8787/v2", "not an http(s) URL"),
        ("http://localhost./v2", "plain http"),
        ("http://localhost.evil.example/v2", "plain http"),
        ("http://127.1:8787/v2", "plain http"),
        ("http://0x7f.0.0.1:8787/v2", "plain http"),
        ("http://[::ffff:127.0.0.1]:8787/v2", "plain http"),
        ("http://192.0.2.1/v2", "plain http"),
    ],
)
def test_tricks_are_refused(base: str, says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        check_api_base(base)
    assert says in str(refused.value)
    assert "\n" not in str(refused.value) and "pw@" not in str(refused.value)


def test_user_info_is_never_shown() -> None:
    with pytest.raises(ConfigError) as refused:
        check_api_base("https://me:hunter2/x@api.webflow.com/v2")
    assert "hunter2" not in str(refused.value)
    assert "'https://***@api.webflow.com/v2'" in str(refused.value)
    assert without_userinfo("https://a:b@c@host/v2") == "https://***@host/v2"
    assert without_userinfo("https://host/v2") == "https://host/v2"


PIECES = st.sampled_from(
    [
        "http://", "https://", "HTTP://", "http:/", "//", "127.0.0.1", "127.0.0.2", "localhost",
        "evil.example", "[::1]", "[::ffff:127.0.0.1]", "2130706433", ":8787", ":1", ":", "/v2",
        "/", "\\", "@", "user:pw@", "%2f", "%31", "#", "?", " ", "\t", "\n", "\x00", "ｌ", ".",
        "[", "]", ";", ",", "xn--bcher-kva.example",
    ]
)  # fmt: skip


@settings(max_examples=600, deadline=None)
@given(st.lists(PIECES, min_size=1, max_size=8).map("".join))
def test_an_accepted_base_reads_the_same_to_both_parsers_and_keeps_http_on_loopback(
    base: str,
) -> None:
    try:
        checked = check_api_base(base)
    except ConfigError as refused:
        assert "pw@" not in str(refused) and "user:" not in str(refused)
        assert "\n" not in str(refused)
        return
    theirs, ours = parse_url(checked), urlsplit(checked)
    host = (theirs.host or "").lower()
    assert host.strip("[]") == (ours.hostname or "").lower() != ""
    assert theirs.port == ours.port and theirs.auth is None and ours.username is None
    assert "\\" not in checked and "@" not in checked
    if (theirs.scheme or "").lower() == "http":
        assert host in ("localhost", "[::1]") or host.startswith("127."), checked

"""A wrong API address: said at once on stderr, and a loopback port nothing listens on given up
on in about a second (a sandbox not started), while a remote host keeps the whole retry budget.

The client-level tests connect to a real closed loopback port and wait on a ``FakeClock``; the
remote case scripts refused connections (no sandbox answers for a remote host). The CLI tests
run the commands against a closed loopback port: each waits the real backoff, about a second.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fakeclock import FakeClock
from support import Workspace, make_workspace

from csvsync.errors import ServerError
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.webflow import ClientOptions, Request, Response, TransportError, WebflowClient

if TYPE_CHECKING:
    from csvsync.options import RetryNotice

TOKEN = "tok-unreachable-SECRET-5c1e"


def closed_port() -> int:
    """A loopback port nothing listens on: bound to learn a free one, then closed."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Refusing:
    """A transport for a remote host whose every connection is refused."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, request: Request) -> Response:
        self.calls += 1
        raise TransportError("ConnectionError", sent=False, refused=True)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_refused_loopback_port_is_given_up_on_after_three_quick_attempts(host: str) -> None:
    clock = FakeClock()
    notices: list[RetryNotice] = []
    port = closed_port()
    options = ClientOptions(
        api_base=f"http://{host}:{port}/v2", token=TOKEN, clock=clock, on_retry=notices.append
    )
    with WebflowClient(options) as client:
        begin = clock.now()
        with pytest.raises(ServerError) as info:
            client.list_sites()
        waited = clock.now() - begin
        assert client.stats.requests == 3 and client.stats.retries == 2
    assert waited < 2.0, waited  # not the ~70 s of a remote outage
    assert str(info.value) == (
        f"cannot reach http://{host}:{port}: connection refused (is the sandbox running? "
        "`csvsync sandbox` starts one; gave up after 3 attempts)"
    )
    assert type(info.value).__name__ == "UnreachableError"  # a ServerError, its line its own
    assert info.value.exit_code == 2 and info.value.kind == "server_error"
    assert TOKEN not in str(info.value) and TOKEN not in repr(vars(info.value))
    assert [(n.attempt, n.attempts, n.first, n.unreachable) for n in notices] == [
        (2, 3, True, True),
        (3, 3, False, True),
    ]
    assert notices[0].origin == f"http://{host}:{port}"


def test_a_refused_remote_host_keeps_the_whole_retry_budget() -> None:
    clock = FakeClock()
    notices: list[RetryNotice] = []
    refusing = Refusing()
    options = ClientOptions(
        api_base="https://api.example.test/v2",
        token=TOKEN,
        clock=clock,
        seed=1,
        transport=refusing,
        on_retry=notices.append,
    )
    with WebflowClient(options) as client:
        begin = clock.now()
        with pytest.raises(ServerError) as info:
            client.list_sites()
        waited = clock.now() - begin
    assert type(info.value) is ServerError
    assert refusing.calls == 9  # max_retries 8: the budget of a Webflow briefly away
    assert waited > 30.0
    assert info.value.message == "connection refused (ConnectionError)"
    assert "gave up after 9 attempts" in str(info.value)
    assert (notices[0].attempt, notices[0].attempts, notices[0].first) == (2, 9, True)
    assert [n.first for n in notices[1:]] == [False] * 7


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions(seed="demo", token="sandbox-token", rate_limit=100_000)) as sb:
        yield sb


@pytest.fixture
def ws(sandbox: Sandbox, tmp_path: Path) -> Workspace:
    return make_workspace(sandbox, tmp_path)


def nothing_listens() -> tuple[str, dict[str, str]]:
    origin = f"http://127.0.0.1:{closed_port()}"
    return origin, {"CSVSYNC_API_BASE": origin + "/v2"}


@pytest.mark.parametrize("command", ["sites", "init", "pull"])
def test_the_cli_says_it_cannot_reach_the_address_and_exits_2(ws: Workspace, command: str) -> None:
    origin, env = nothing_listens()
    args = [command, *(["-m", str(ws.mapping)] if command == "pull" else [])]
    res = ws.run(*args, env=env)
    assert res.exit_code == 2, res.output
    assert res.stdout == ""
    assert res.stderr.splitlines() == [
        f"cannot reach {origin}, retrying (2/3)",
        f"Error: cannot reach {origin}: connection refused (is the sandbox running? "
        "`csvsync sandbox` starts one; gave up after 3 attempts)",
    ]
    assert "Traceback" not in res.output


@pytest.mark.parametrize("command", ["sites", "pull"])
def test_json_stays_clean_on_stdout_while_the_retry_line_goes_to_stderr(
    ws: Workspace, command: str
) -> None:
    origin, env = nothing_listens()
    args = [command, "--json", *(["-m", str(ws.mapping)] if command == "pull" else [])]
    res = ws.run(*args, env=env)
    assert res.exit_code == 2, res.output
    out = json.loads(res.stdout)
    assert out["exit_code"] == 2 and out["error"]["code"] == "server_error"
    assert out["error"]["message"] == f"cannot reach {origin}: connection refused"
    assert "is the sandbox running?" in out["error"]["hint"]
    assert res.stderr.startswith(f"cannot reach {origin}, retrying (2/3)\nError: ")


def test_quiet_says_only_the_error(ws: Workspace) -> None:
    origin, env = nothing_listens()
    res = ws.run("pull", "-m", str(ws.mapping), "--quiet", env=env)
    assert res.exit_code == 2, res.output
    assert res.stderr.splitlines() == [
        f"Error: cannot reach {origin}: connection refused (is the sandbox running? "
        "`csvsync sandbox` starts one; gave up after 3 attempts)"
    ]

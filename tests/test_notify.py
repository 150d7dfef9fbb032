"""--notify-url: after a run with problems, its JSON summary goes to a webhook on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from support import Workspace, make_workspace

from csvsync.ops.demo import DEMO_TOKEN
from csvsync.sandbox import Sandbox, SandboxOptions

SECRET = "T000/B000/XXXXsecretXXXX"


class Receiver:
    """A webhook on 127.0.0.1 that records every POST body; ``status`` is its answer."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                outer.bodies.append(json.loads(self.rfile.read(size)))
                outer.paths.append(self.path)
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                del args

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/{SECRET}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000)) as sb:
        yield make_workspace(sb, tmp_path)


@pytest.fixture
def hook() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


def everything_written(ws: Workspace) -> str:
    """Every byte csvsync left in the workspace (state, logs, workbooks), as text."""
    out = []
    for path in ws.dir.rglob("*"):
        if path.is_file():
            out.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(out)


def test_a_run_with_problems_posts_its_summary_and_a_clean_one_does_not(
    ws: Workspace, hook: Receiver
) -> None:
    log = ws.dir / "run.log"
    clean = ws.run("sync", ws.write_sheet(), "-m", ws.mapping, "--notify-url", hook.url)
    assert clean.exit_code == 0 and hook.bodies == []
    bad = ws.frame.astype({"Price": object})
    bad.loc[0, "Price"] = "lots"
    res = ws.run("sync", ws.write_sheet(bad, "bad.csv"), "-m", ws.mapping, "--log-file", log,
                 env={"CSVSYNC_NOTIFY_URL": hook.url})  # fmt: skip
    assert res.exit_code == 1, res.output
    assert len(hook.bodies) == 1 and hook.paths == [f"/services/{SECRET}"]
    body = hook.bodies[0]
    assert body["exit_code"] == 1 and body["counts"]["invalid"] == 3 and body["run_id"]
    assert body["text"].startswith("csvsync sync: exit 1: ") and "3 invalid" in body["text"]
    # exit 2 notifies too, with the error
    res = ws.run("sync", ws.dir / "nowhere.csv", "-m", ws.mapping, "--notify-url", hook.url)
    assert res.exit_code == 2
    assert hook.bodies[-1]["error"]["code"] == "sheet" and "nowhere.csv" in hook.bodies[-1]["text"]
    # the URL is a secret: in no output, log line or file
    assert SECRET not in res.output + clean.output
    assert SECRET not in everything_written(ws)


def test_a_bad_or_unreachable_url_is_said_without_the_url(ws: Workspace, hook: Receiver) -> None:
    sheet = ws.write_sheet()
    plain = f"http://hooks.example.com/services/{SECRET}"
    res = ws.run("sync", sheet, "-m", ws.mapping, "--notify-url", plain, "--json")
    assert res.exit_code == 2 and ws.writes() == []
    assert "the notify URL uses plain http" in res.stderr
    assert json.loads(res.stdout)["error"]["code"] == "config"
    assert SECRET not in res.output
    hook.status = 500
    bad = ws.frame.astype({"Price": object})
    bad.loc[0, "Price"] = "lots"
    res = ws.run("sync", ws.write_sheet(bad, "bad.csv"), "-m", ws.mapping, "--notify-url", hook.url)
    assert res.exit_code == 1  # the run's own exit code stands
    assert "Warning: the notification could not be sent: the receiver answered HTTP 500" in (
        res.stderr
    )
    assert SECRET not in res.output
    assert SECRET not in ws.run("sync", "--help").output

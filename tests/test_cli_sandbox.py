"""`csvsync sandbox` as a user runs it: in the foreground, printing its URL, stopped by Ctrl-C or
SIGTERM (also when started by a script, which hands it SIGINT ignored)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import requests


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("stop", "start"),
    [
        (signal.SIGINT, None),
        # Started by a script as `csvsync sandbox &`: the shell hands it SIGINT ignored, so
        # Python raises no KeyboardInterrupt; it stopped only when killed before.
        (signal.SIGINT, _ignore_sigint),
        (signal.SIGTERM, None),
    ],
    ids=["ctrl-c", "ctrl-c-inherited-ignored", "sigterm"],
)
def test_sandbox_command_serves_and_stops_on_ctrl_c(
    tmp_path: Path, stop: signal.Signals, start: Callable[[], None] | None
) -> None:
    data = tmp_path / "sandbox.db"
    cmd = [sys.executable, "-m", "csvsync", "sandbox", "--port", "0", "--data", str(data)]
    cmd += ["--token", "t0k"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, preexec_fn=start
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("Sandbox serving http://127.0.0.1:"), line
        base = line.split()[-1]
        r = requests.get(f"{base}/sites", headers={"Authorization": "Bearer t0k"}, timeout=5)
        assert r.status_code == 200 and r.json()["sites"]
        assert requests.get(f"{base}/sites", timeout=5).status_code == 401
        proc.send_signal(stop)
        # A clean stop (the server closed, the data saved), reported as 128 + the signal.
        assert proc.wait(timeout=10) == 128 + stop
        assert proc.stderr is not None
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert data.exists()


def test_a_second_signal_ends_a_stop_that_is_taking_too_long() -> None:
    # The sandbox's handlers: the first signal asks for a clean stop; a second one (a user
    # pressing Ctrl-C again while the stop hangs) ends the process at once.
    code = (
        "import os, signal, time\n"
        "from csvsync.cli.common import stop_on_signals\n"
        "with stop_on_signals(second_exits=True) as stop:\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    assert stop.event.wait(5)\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    time.sleep(30)  # a stop that hangs\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=20)
    assert done.returncode == 130, done.stderr

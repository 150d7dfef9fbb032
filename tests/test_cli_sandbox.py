"""`csvsync sandbox` as a user runs it: in the foreground, printing its URL, stopped by Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests


@pytest.mark.slow
def test_sandbox_command_serves_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    data = tmp_path / "sandbox.db"
    cmd = [sys.executable, "-m", "csvsync", "sandbox", "--port", "0", "--data", str(data)]
    cmd += ["--token", "t0k"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("Sandbox serving http://127.0.0.1:"), line
        base = line.split()[-1]
        r = requests.get(f"{base}/sites", headers={"Authorization": "Bearer t0k"}, timeout=5)
        assert r.status_code == 200 and r.json()["sites"]
        assert requests.get(f"{base}/sites", timeout=5).status_code == 401
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) in (0, 130)
        assert proc.stderr is not None
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert data.exists()

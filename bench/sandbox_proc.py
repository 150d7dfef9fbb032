"""The sandbox in its own process, for the benchmark: start, knobs, request log, stop.

Owns the sandbox's lifecycle only. ``SandboxProcess`` runs this file as a script (``main``: the
library's ``run_forever``, as ``csvsync sandbox`` does, without importing the CLI) on a copy of a
store built by ``workload.py``, so the server's CPU time and memory are never counted in
csvsync's, and talks to it over the control API (``/_sandbox``).
"""

from __future__ import annotations

import argparse
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

READY_PREFIX = "Sandbox serving "
START_TIMEOUT = 60.0


class SandboxProcess:
    """``with SandboxProcess(store, token) as sb: sb.base_url`` -- stopped on exit, always."""

    def __init__(
        self,
        data: Path,
        token: str,
        *,
        rate_limit: int = 1_000_000,
        window: float = 60.0,
        stderr_path: Path | None = None,
    ) -> None:
        self.data = data
        self.token = token
        self.rate_limit = rate_limit
        self.window = window
        self.stderr_path = stderr_path or data.with_suffix(".stderr.log")
        self.proc: subprocess.Popen[str] | None = None
        self.base_url = ""
        self.origin = ""
        self._http = requests.Session()

    def start(self) -> SandboxProcess:
        cmd = [
            sys.executable, str(Path(__file__).resolve()), "--data", str(self.data),
            "--token", self.token, "--rate-limit", str(self.rate_limit),
            "--window", str(self.window),
        ]  # fmt: skip
        with self.stderr_path.open("w", encoding="utf-8") as err:
            self.proc = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, text=True
            )
        try:
            line = self._first_line()
        except BaseException:
            self.stop()
            raise
        self.base_url = line[len(READY_PREFIX) :].strip()
        self.origin = self.base_url.removesuffix("/v2")
        return self

    def _first_line(self) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if ready:
                line = self.proc.stdout.readline()
                if line.startswith(READY_PREFIX):
                    return line
                if not line:
                    break
            elif self.proc.poll() is not None:
                break
        raise RuntimeError(
            f"the sandbox did not start; see {self.stderr_path}:\n"
            + self.stderr_path.read_text(encoding="utf-8")[-2000:]
        )

    def stop(self) -> None:
        self._http.close()
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        # SIGINT lets run_forever close the store; kill only if it does not stop in time.
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        if proc.stdout is not None:
            proc.stdout.close()

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    # -- control API ----------------------------------------------------------------------------
    def set_faults(self, **knobs: Any) -> None:
        r = self._http.post(f"{self.origin}/_sandbox/faults", json=knobs, timeout=30)
        r.raise_for_status()

    def log(self) -> list[dict[str, Any]]:
        r = self._http.get(f"{self.origin}/_sandbox/log", timeout=120)
        r.raise_for_status()
        entries: list[dict[str, Any]] = r.json()
        return entries

    def clear_log(self) -> None:
        self._http.delete(f"{self.origin}/_sandbox/log", timeout=30).raise_for_status()


def main() -> None:
    """Serve a store on a free loopback port until SIGINT; the first stdout line is the URL."""
    from csvsync.sandbox import SandboxOptions, run_forever

    parser = argparse.ArgumentParser(description="the benchmark's sandbox process")
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--rate-limit", type=int, required=True)
    parser.add_argument("--window", type=float, required=True)
    args = parser.parse_args()
    opts = SandboxOptions(
        host="127.0.0.1", port=0, token=args.token, seed="empty", data=args.data,
        rate_limit=args.rate_limit, window=args.window,
    )  # fmt: skip
    run_forever(opts, lambda url: print(READY_PREFIX + url, flush=True))


if __name__ == "__main__":
    main()

"""The harness of the hostile-input corpus: one case, one run, every promise checked.

A ``Case`` names a command line (with ``{sheet}``, ``{mapping}``, ``{dir}`` placeholders), a
setup that writes the hostile input into the workspace, the exit code the README's table gives,
and a piece of the one line that must explain it. ``check`` runs it and asserts what every bad
input is owed: exactly one line on stderr, ``Error: ...``, no traceback anywhere, the exact exit
code, no write request in the sandbox's log (unless the case allows writes), no half-written or
temporary file left behind, and the token in no output, log line, workbook or state file.
Optional fields ask for more: no request at all, more pieces of the line, text that must not be
shown, and checks of the workspace after the run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from support import Workspace

from csvsync.ops.demo import DEMO_TOKEN

Setup = Callable[[Workspace], dict[str, str] | None]


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    setup: Setup
    exit_code: int
    says: str  # a piece of the one stderr line (case-sensitive)
    env: dict[str, str] = field(default_factory=dict)
    writes_allowed: bool = False
    subprocess: bool = False  # a real process: for inputs that could kill the interpreter
    # Optional, for cases refused before any connection or needing more than ``says``:
    no_requests: bool = False  # the sandbox saw no request at all, not even a GET
    also_says: tuple[str, ...] = ()  # more pieces the one stderr line must hold
    never_says: tuple[str, ...] = ()  # text no output may hold (a password in a URL)
    after: Callable[[Workspace], None] | None = None  # checks of the workspace after the run
    # With ``subprocess``: a command the run goes through, e.g. setpriv dropping root's power
    # to write where permissions say no (CI runs as root).
    prefix: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.id


def _fill(arg: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        arg = arg.replace("{" + key + "}", value)
    return arg


def run_case(ws: Workspace, case: Case) -> tuple[int, str, str]:
    values = {"dir": str(ws.dir), "mapping": str(ws.mapping), "sheet": str(ws.dir / "sheet.csv")}
    values.update(case.setup(ws) or {})
    args = [_fill(a, values) for a in case.args]
    env = {**ws.env, **{k: _fill(v, values) for k, v in case.env.items()}}
    if case.subprocess:
        proc = subprocess.run(
            [*case.prefix, sys.executable, "-m", "csvsync", *args],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            cwd=ws.dir,
            timeout=120,
            check=False,
        )
        return proc.returncode, proc.stdout, proc.stderr
    result = ws.run(*args, env=env)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        stderr += "".join(traceback.format_exception(result.exception))
    return result.exit_code, result.stdout, stderr


def check(ws: Workspace, case: Case) -> None:
    before = _files(ws.dir)
    code, out, err = run_case(ws, case)
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in out + err, f"{case}: a traceback:\n{err}"
    assert code == case.exit_code, f"{case}: exit {code}, expected {case.exit_code}:\n{err}"
    assert len(lines) == 1, f"{case}: expected one line on stderr, got:\n{err}"
    assert lines[0].startswith("Error: "), f"{case}: {lines[0]!r}"
    for piece in (case.says, *case.also_says):
        assert piece in lines[0], f"{case}: {piece!r} not in {lines[0]!r}"
    for secret in case.never_says:
        assert secret not in out + err, f"{case}: {secret!r} was shown:\n{out + err}"
    if not case.writes_allowed:
        assert ws.writes() == [], f"{case}: sent {ws.writes()}"
    if case.no_requests:
        assert ws.sb.log() == [], f"{case}: requests reached the sandbox: {ws.sb.log()}"
    left = {p for p in _files(ws.dir) - before if ".tmp" in p.name or p.name.startswith(".~")}
    assert not left, f"{case}: left behind {left}"
    assert_no_token(ws.dir, out + err)
    if case.after is not None:
        case.after(ws)


def assert_no_token(folder: Path, output: str) -> None:
    """The API token is in no output and no file csvsync wrote (logs, workbooks, state)."""
    assert DEMO_TOKEN not in output
    for path in _files(folder):
        if path.suffix in (".yaml", ".token"):
            continue  # the inputs the case wrote itself
        assert DEMO_TOKEN.encode() not in path.read_bytes(), f"the token is in {path}"


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}

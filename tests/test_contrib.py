"""The shipped deployment files: every csvsync option they use exists, and they say what the
unattended guarantees need (exit 1 is a finished run, a shared lock folder); shell completion."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest

from csvsync.cli import cli

ROOT = Path(__file__).resolve().parent.parent
SYSTEMD = ROOT / "contrib" / "systemd"


def unit(name: str) -> dict[str, str]:
    out = {}
    for line in (SYSTEMD / name).read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def check_command_line(words: list[str]) -> None:
    """``csvsync COMMAND ...``: the command and each of its --options exist."""
    assert Path(words[0]).name == "csvsync", words
    command = cli.commands[words[1]]
    known = {o for p in command.params if isinstance(p, click.Option) for o in p.opts}
    used = [w for w in words[2:] if w.startswith("-")]
    assert used and set(used) <= known, set(used) - known


def test_the_service_runs_a_real_sync_command_and_treats_exit_1_as_done() -> None:
    service = unit("csvsync@.service")
    check_command_line(shlex.split(service["ExecStart"]))
    assert service["SuccessExitStatus"] == "1"
    assert service["Type"] == "oneshot" and service["EnvironmentFile"] == "/etc/csvsync/%i.env"
    assert "CSVSYNC_LOCK_DIR=" in service["Environment"]  # PrivateTmp would split the lock
    assert service["PrivateTmp"] == "true"
    assert unit("csvsync@.timer")["OnCalendar"] == "*:0/15"


def test_the_example_env_names_only_what_csvsync_reads() -> None:
    names = [
        line.split("=", 1)[0].lstrip("# ")
        for line in (SYSTEMD / "example.env").read_text(encoding="utf-8").splitlines()
        if "=" in line
    ]
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "csvsync").rglob("*.py"))
    service = (SYSTEMD / "csvsync@.service").read_text(encoding="utf-8")
    for name in names:
        assert f'"{name}"' in source or "${" + name + "}" in service, name


def test_the_cron_line_in_contrib_runs_a_real_sync_command() -> None:
    text = (ROOT / "contrib" / "README.md").read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("*/15"))
    words = shlex.split(line.split("&& csvsync ", 1)[1])
    check_command_line(["csvsync", *words])


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shell_completion_is_served_as_the_readme_says(shell: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"_CSVSYNC_COMPLETE={shell}_source csvsync" in readme
    script = Path(sys.executable).parent / "csvsync"  # the installed command: its name counts
    assert script.exists(), f"no csvsync script next to {sys.executable}"
    res = subprocess.run(
        [str(script)],
        env={**os.environ, "_CSVSYNC_COMPLETE": f"{shell}_source"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0 and re.search(r"_CSVSYNC_COMPLETE|_csvsync", res.stdout), res

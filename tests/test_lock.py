"""The machine-wide run lock: one run per (API base, collection), wherever its state file is."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import Workspace, make_workspace

from csvsync.ops import lock as run_lock
from csvsync.ops.demo import DEMO_TOKEN
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import DEMO_COLLECTION_ID


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000)) as sb:
        yield make_workspace(sb, tmp_path)


@pytest.fixture
def default_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No CSVSYNC_LOCK_DIR: the default folder, under a temporary folder of the test's own."""
    monkeypatch.delenv(run_lock.LOCK_DIR_ENV, raising=False)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return tmp / "csvsync-locks"


def test_two_mappings_in_two_folders_or_two_state_files_exclude_each_other(
    ws: Workspace, tmp_path: Path
) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    copy = other / "same-collection.yaml"
    copy.write_text(ws.mapping.read_text(encoding="utf-8"), encoding="utf-8")
    sheet = ws.write_sheet()
    held = run_lock.acquire(ws.sb.base_url, DEMO_COLLECTION_ID)
    try:
        for args in (
            ["sync", sheet, "-m", copy],
            ["sync", sheet, "-m", ws.mapping, "--state", tmp_path / "other-state.db"],
        ):
            res = ws.run(*[str(a) for a in args])
            assert res.exit_code == 3, res.output
            assert "another csvsync run holds the lock" in res.stderr
            assert f"pid {os.getpid()}" in res.stderr  # who holds it, and since when
    finally:
        held.release()
    assert ws.run("sync", str(sheet), "-m", str(copy)).exit_code == 0


def test_the_default_folder_is_shared_sticky_and_files_are_for_every_user(
    default_dir: Path,
) -> None:
    held = run_lock.acquire("http://127.0.0.1:1", "c1")
    try:
        mode = os.stat(default_dir).st_mode
        assert stat.S_IMODE(mode) == 0o1777  # every user may create, none may delete another's
        assert stat.S_IMODE(os.stat(held.path).st_mode) == 0o666
        assert held.path.parent == default_dir
        assert json.loads(held.path.read_text())["pid"] == os.getpid()
        assert run_lock.held_by("http://127.0.0.1:1", "c1") is not None
        with pytest.raises(run_lock.LockedError):
            run_lock.acquire("http://127.0.0.1:1/", "c1")  # the same base, spelled with a /
    finally:
        held.release()
    assert run_lock.held_by("http://127.0.0.1:1", "c1") is None  # a file left is not a lock


@pytest.mark.parametrize("planted", ["symlink", "fifo", "folder"])
def test_a_planted_lock_name_neither_fools_nor_blocks_a_run(
    default_dir: Path, tmp_path: Path, planted: str
) -> None:
    default_dir.mkdir(mode=0o1777)
    key = run_lock.lock_key("http://127.0.0.1:1", "c1")
    name = default_dir / f"{key}.lock"
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    if planted == "symlink":
        name.symlink_to(victim)
    elif planted == "fifo":
        os.mkfifo(name)
    else:
        name.mkdir()
    held = run_lock.acquire("http://127.0.0.1:1", "c1")  # neither hangs nor fails
    try:
        assert held.path != name and held.path.parent == default_dir
        assert victim.read_text(encoding="utf-8") == "precious"  # the link was not followed
        with pytest.raises(run_lock.LockedError):  # and the next run meets the same file
            run_lock.acquire("http://127.0.0.1:1", "c1")
    finally:
        held.release()


def test_a_planted_lock_folder_is_passed_over(default_dir: Path) -> None:
    default_dir.write_text("not a folder", encoding="utf-8")
    held = run_lock.acquire("http://127.0.0.1:1", "c1")
    try:
        assert held.path.parent == default_dir.with_name("csvsync-locks.1")
    finally:
        held.release()

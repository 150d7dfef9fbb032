"""The state file itself: its page size and what opening a cache of an older layout does."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from csvsync.state.cache import State
from csvsync.state.db import PAGE_SIZE, SCHEMA_VERSION


def pragma(path: Path, name: str) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute(f"PRAGMA {name}").fetchone()[0])


def test_a_new_cache_uses_large_pages_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    State(path).close()
    assert pragma(path, "page_size") == PAGE_SIZE
    assert pragma(path, "user_version") == SCHEMA_VERSION
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_older_cache_is_emptied_and_moved_to_large_pages_keeping_its_runs(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            "PRAGMA page_size=4096; PRAGMA user_version=2;"
            "CREATE TABLE cells(scope INTEGER, item_id TEXT, live_key TEXT);"
            "INSERT INTO cells VALUES(1, 'a', 'old');"
            "CREATE TABLE runs(run_id TEXT PRIMARY KEY, scope INTEGER, command TEXT, sheet TEXT,"
            " mapping TEXT, started TEXT, finished TEXT, counts TEXT);"
            "INSERT INTO runs(run_id, command) VALUES('r1', 'sync');"
        )
    state = State(path)
    try:
        assert state.db.execute("SELECT COUNT(*) FROM cells").fetchone()[0] == 0
        assert state.get_run("r1") is not None  # the history of runs survives the upgrade
    finally:
        state.close()
    assert pragma(path, "page_size") == PAGE_SIZE
    assert pragma(path, "user_version") == SCHEMA_VERSION

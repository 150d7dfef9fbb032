"""The state file itself: its page size, what opening a cache of an older layout does, and the
cells upsert's base rule."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from csvsync.models import SchemaField
from csvsync.state.cache import Confirmed, State
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


# "error": CPython 3.12.1's sqlite3 warned for every row bound to numbered (?1) placeholders.
@pytest.mark.filterwarnings("error")
def test_a_pull_keeps_the_base_and_a_confirmation_moves_it(tmp_path: Path) -> None:
    schema = [SchemaField("name", "PlainText", "Name")]
    state = State(tmp_path / "state.db")

    def item(name: str) -> dict:
        return {"id": "i1", "cmsLocaleId": "en", "fieldData": {"name": name}}

    def keys() -> tuple[str, str | None]:
        row = state.db.execute("SELECT live_key, base_key FROM cells WHERE field='name'")
        return row.fetchone()

    try:
        scope = state.scope("http://127.0.0.1:1/v2", "c1")
        state.apply_live(scope, schema, [item("a")], primary_locale="en")
        first, base = keys()
        assert base is None  # base = live, stored as NULL
        state.apply_live(scope, schema, [item("b")], primary_locale="en")
        live, base = keys()
        assert live != first and base == first  # a pull never moves the base
        conf = Confirmed(item("c"), sent_keys={"name": "sent"}, sent_values={"name": "c"})
        state.apply_confirmed(scope, schema, [conf], primary_locale="en")
        live, base = keys()
        assert base == "sent" != live  # a confirmation sets the base to what the sheet sent
    finally:
        state.close()

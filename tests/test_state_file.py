"""The state file itself: its page size, what opening a cache of an older layout does, the
cells upsert's base rule, and whose file it is (csvsync's mark, and the files it refuses)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from csvsync.errors import EXIT_START, StateError
from csvsync.models import SchemaField
from csvsync.state.cache import Confirmed, State
from csvsync.state.db import APPLICATION_ID, PAGE_SIZE, SCHEMA_VERSION


def pragma(path: Path, name: str) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute(f"PRAGMA {name}").fetchone()[0])


def test_a_new_cache_uses_large_pages_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    State(path).close()
    assert pragma(path, "page_size") == PAGE_SIZE
    assert pragma(path, "user_version") == SCHEMA_VERSION
    assert pragma(path, "application_id") == APPLICATION_ID
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
        run = state.get_run("r1")  # the history of runs survives the upgrade
        assert run is not None and run["target"] == "live"  # runs from before wrote live
    finally:
        state.close()
    assert pragma(path, "page_size") == PAGE_SIZE
    assert pragma(path, "user_version") == SCHEMA_VERSION
    assert pragma(path, "application_id") == APPLICATION_ID  # recognised by its tables, marked


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


# -- whose file it is ------------------------------------------------------------------------------


def test_the_mark_is_csvs_in_the_sqlite_header(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    State(path).close()
    assert path.read_bytes()[68:72] == b"CSVS" == APPLICATION_ID.to_bytes(4, "big")


def test_an_empty_file_is_taken_as_new_and_marked(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.touch()
    State(path).close()
    assert pragma(path, "application_id") == APPLICATION_ID
    assert pragma(path, "user_version") == SCHEMA_VERSION


def test_a_current_file_from_before_the_mark_keeps_everything_and_is_marked(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.db"
    state = State(path)
    scope = state.scope("http://127.0.0.1:1/v2", "c1")
    state.apply_live(
        scope, [SchemaField("name", "PlainText", "Name")], [item("a")], primary_locale="en"
    )
    state.db.execute("INSERT INTO runs(run_id, command) VALUES('r1', 'sync')")
    state.db.execute("PRAGMA application_id=0")  # as every csvsync before the mark left it
    state.close()
    state = State(path)
    try:
        assert state.db.execute("SELECT COUNT(*) FROM cells").fetchone()[0] == 1
        assert state.get_run("r1") is not None
    finally:
        state.close()
    assert pragma(path, "application_id") == APPLICATION_ID


def test_a_marked_file_may_hold_a_table_of_its_users(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    State(path).close()
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes(text TEXT)")
    db.close()
    State(path).close()  # marked: csvsync's, whatever else its user keeps in it


FOREIGN = {
    # The case: a shop's database; the upgrade dropped ``variants`` and exited 0.
    "shop": "CREATE TABLE variants(id INTEGER PRIMARY KEY, sku TEXT); INSERT INTO variants "
    "VALUES(1, 'MUG-RED');",
    "shop, claiming an old version": "PRAGMA user_version=2; CREATE TABLE variants(id, sku);"
    "INSERT INTO variants VALUES(1, 'MUG-RED');",
    "settings": "CREATE TABLE meta(key TEXT, value TEXT); INSERT INTO meta VALUES('a', 'b');",
    "marked by another program": "PRAGMA application_id=1179602244; CREATE TABLE runs(run_id);",
    "a table csvsync never had": "CREATE TABLE runs(run_id TEXT); CREATE TABLE orders(id);",
    "a view": "CREATE TABLE runs(run_id TEXT); CREATE VIEW v AS SELECT run_id FROM runs;",
    "a trigger": "CREATE TABLE runs(run_id TEXT); CREATE TABLE scopes(id, api_base, "
    "collection_id); CREATE TRIGGER t AFTER INSERT ON runs BEGIN DELETE FROM scopes; END;",
    "empty, with a version": "PRAGMA user_version=77;",
}


@pytest.mark.parametrize("sql", FOREIGN.values(), ids=FOREIGN.keys())
def test_another_programs_database_is_refused_and_left_as_it_was(tmp_path: Path, sql: str) -> None:
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.executescript(sql)
    db.close()
    before = path.read_bytes()
    with pytest.raises(StateError) as refused:
        State(path)
    assert refused.value.exit_code == EXIT_START
    assert "another program's SQLite database" in str(refused.value)
    assert refused.value.hint and "--state" in refused.value.hint
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]  # no -wal, no -journal


def test_a_newer_state_file_is_refused_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    State(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.close()
    before = path.read_bytes()
    with pytest.raises(StateError, match="newer csvsync") as refused:
        State(path)
    assert "mv " in str(refused.value) and "revert journal" in str(refused.value)
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (lambda data: b"not a database at all\n", "is not a SQLite database"),
        (lambda data: data[:1000], "is damaged"),
        (lambda data: data[:50], "is damaged"),
        (lambda data: data[:100] + b"\xa5" * (len(data) - 100), "is damaged"),
    ],
    ids=["text", "first 1,000 bytes", "header only", "schema overwritten"],
)
def test_a_file_sqlite_cannot_read_gets_one_line_and_stays(
    tmp_path: Path, damage: Callable[[bytes], bytes], says: str
) -> None:
    path = tmp_path / "state.db"
    State(path).close()
    path.write_bytes(damage(path.read_bytes()))
    before = path.read_bytes()
    with pytest.raises(StateError, match=says) as refused:
        State(path)
    assert refused.value.exit_code == EXIT_START and "\n" not in str(refused.value)
    assert path.read_bytes() == before


def test_a_folder_that_cannot_hold_the_file_gets_one_line(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    with pytest.raises(StateError, match="afile is a file"):
        State(tmp_path / "afile" / "deeper" / "state.db")
    (tmp_path / "folder.db").mkdir()
    with pytest.raises(StateError, match="is a folder"):
        State(tmp_path / "folder.db")


def item(name: str) -> dict:
    return {"id": "i1", "cmsLocaleId": "en", "fieldData": {"name": name}}

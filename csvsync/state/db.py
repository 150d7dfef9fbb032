"""The state file itself: the SQLite connection, its tables and upgrades, scopes and metadata.

One file (by default ``.csvsync/state.db`` next to the mapping) holds every collection csvsync
has synced, each under a *scope*: (API base URL, collection id), so a sandbox run never touches
the cache of the real site. ``Database`` is the base of ``State``: the journal (``journal.py``)
and the item cache (``cache.py``) build on its connection and transactions.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS scopes(
    id INTEGER PRIMARY KEY, api_base TEXT NOT NULL, collection_id TEXT NOT NULL,
    UNIQUE(api_base, collection_id));
CREATE TABLE IF NOT EXISTS meta(
    scope INTEGER NOT NULL, key TEXT NOT NULL, value TEXT, PRIMARY KEY(scope, key));
CREATE TABLE IF NOT EXISTS variants(
    scope INTEGER NOT NULL, item_id TEXT NOT NULL, locale_id TEXT NOT NULL,
    last_updated TEXT, last_published TEXT, is_draft INTEGER, is_archived INTEGER,
    PRIMARY KEY(scope, item_id, locale_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS variants_updated ON variants(scope, last_updated);
CREATE TABLE IF NOT EXISTS cells(
    scope INTEGER NOT NULL, item_id TEXT NOT NULL, locale_id TEXT NOT NULL, field TEXT NOT NULL,
    vkey INTEGER NOT NULL, live_key TEXT NOT NULL, live_hash INTEGER NOT NULL, live_json TEXT,
    base_key TEXT, base_hash INTEGER NOT NULL,
    PRIMARY KEY(scope, item_id, locale_id, field)) WITHOUT ROWID;
-- The diff's read: per variant, one BLOB of int64 triples (field hash, live hash, base hash),
-- rebuilt from ``cells`` whenever a variant's cells change, in the same transaction.
CREATE TABLE IF NOT EXISTS vhash(
    scope INTEGER NOT NULL, item_id TEXT NOT NULL, locale_id TEXT NOT NULL,
    vkey INTEGER NOT NULL, hashes BLOB NOT NULL,
    PRIMARY KEY(scope, item_id, locale_id)) WITHOUT ROWID;
-- Covers reading names and slugs (short texts) without the rows' long texts.
CREATE INDEX IF NOT EXISTS cells_names ON cells(scope, field, item_id, locale_id, live_key)
    WHERE field IN ('name', 'slug');
CREATE TABLE IF NOT EXISTS files(
    scope INTEGER NOT NULL, url TEXT NOT NULL, source_url TEXT NOT NULL,
    PRIMARY KEY(scope, url)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS refs(
    scope INTEGER NOT NULL, item_id TEXT NOT NULL, slug TEXT, name TEXT, last_updated TEXT,
    PRIMARY KEY(scope, item_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs(
    run_id TEXT PRIMARY KEY, scope INTEGER, command TEXT, sheet TEXT, mapping TEXT,
    started TEXT, finished TEXT, counts TEXT);
CREATE TABLE IF NOT EXISTS journal(
    run_id TEXT NOT NULL, batch INTEGER NOT NULL, item_id TEXT NOT NULL, locale_id TEXT NOT NULL,
    field TEXT NOT NULL, old_json TEXT, new_json TEXT, status TEXT NOT NULL,
    PRIMARY KEY(run_id, item_id, locale_id, field)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS journal_batch ON journal(run_id, batch);
"""


SCHEMA_VERSION = 4  # 3: per-variant hash BLOBs; 4: base_key NULL where it equals live_key
RESUME_KEY = "resume_since"  # meta: the newest lastUpdated from before a run that writes
PAGE_SIZE = 16_384


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class Database:
    """One SQLite state file; cheap to open, safe to share between commands (WAL)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        upgrade = self.db.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION
        if upgrade:
            # A cache from an older layout: drop it; the next run pulls everything again.
            self.db.executescript(
                "DROP INDEX IF EXISTS cells_hashes; DROP TABLE IF EXISTS cells; "
                "DROP TABLE IF EXISTS variants; DROP TABLE IF EXISTS vhash;"
            )
            self._use_large_pages()
            self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA_SQL)

    def _use_large_pages(self) -> None:
        """16 KiB pages, set while the file is new (or just emptied by an upgrade).

        A cell row holds its value twice (key and JSON): a 1,000-character description makes a
        row of about 2 KB. On 4 KiB pages such a row spills into an overflow page of its own, so
        the 100,000-variant benchmark cache took 567 MB; on 16 KiB pages rows stay inline, 359 MB,
        and a pull writes faster. Not possible while another process has the file open in WAL
        mode: then the file keeps its pages and works as before.
        """
        if self.db.execute("PRAGMA page_size").fetchone()[0] >= PAGE_SIZE:
            return
        try:
            self.db.execute("PRAGMA journal_mode=DELETE")
            self.db.execute(f"PRAGMA page_size={PAGE_SIZE}")
            self.db.execute("VACUUM")  # applies the page size to a file that has tables
        except sqlite3.OperationalError:
            pass

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- scopes and metadata -------------------------------------------------------------------
    def scope(self, api_base: str, collection_id: str) -> int:
        api_base = api_base.rstrip("/")
        row = self.db.execute(
            "SELECT id FROM scopes WHERE api_base=? AND collection_id=?", (api_base, collection_id)
        ).fetchone()
        if row:
            return int(row[0])
        cur = self.db.execute(
            "INSERT INTO scopes(api_base, collection_id) VALUES(?, ?)", (api_base, collection_id)
        )
        return int(cur.lastrowid or 0)

    def get_meta(self, scope: int, key: str) -> Any:
        row = self.db.execute(
            "SELECT value FROM meta WHERE scope=? AND key=?", (scope, key)
        ).fetchone()
        return json.loads(row[0]) if row and row[0] is not None else None

    def set_meta(self, scope: int, key: str, value: Any) -> None:
        self.db.execute(
            "INSERT INTO meta(scope, key, value) VALUES(?,?,?) "
            "ON CONFLICT(scope, key) DO UPDATE SET value=excluded.value",
            (scope, key, dumps(value)),
        )

    def newest_last_updated(self, scope: int) -> str | None:
        row = self.db.execute(
            "SELECT MAX(last_updated) FROM variants WHERE scope=?", (scope,)
        ).fetchone()
        return row[0] if row else None

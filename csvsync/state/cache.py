"""The item-state cache (SQLite): what csvsync last saw live, the agreed base, and the journal.

Keyed by (API base URL, collection) so a sandbox run never touches the cache of the real site.
Per item-variant and field it keeps the latest live value (``live_key``/``live_json``) and the
base (``base_key``, NULL while it equals ``live_key``, which is almost always: long texts are not
stored twice): the value the sheet and live last agreed on. A pull moves ``live`` and never
the base, except for a variant seen for the first time. Rows are written only from API answers,
one transaction per confirmed batch, so a run stopped at any point leaves a true cache.

Hosted files: Webflow re-hosts an uploaded URL under its own asset URL, so the ``files`` table
remembers which source URL produced which asset URL; keys of file fields are stored in terms of
the source URL so an unchanged sheet URL is not re-sent.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csvsync.convert.to_api import api_key
from csvsync.models import FILE_TYPES, RefTarget, SchemaField
from csvsync.pipeline.hashing import StateHashes, field_hashes, key_hashes, variant_keys

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
CHUNK = 500  # variants per write: hashes are computed column-wise for a whole chunk


@dataclass(frozen=True)
class Confirmed:
    """A variant Webflow confirmed, with the keys of the fields the sheet sent."""

    item: dict[str, Any]
    sent_keys: dict[str, str]
    sent_values: dict[str, Any]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class State:
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
            (scope, key, _dumps(value)),
        )

    # -- variants ------------------------------------------------------------------------------
    def has_variants(self, scope: int) -> bool:
        return (
            self.db.execute("SELECT 1 FROM variants WHERE scope=? LIMIT 1", (scope,)).fetchone()
            is not None
        )

    def refresh_since(self, scope: int) -> str | None:
        """The ``updated_since`` that brings the cache up to date: its newest ``lastUpdated``,
        or, after a run that wrote and did not finish, the newest from before that run.

        Batches land concurrently, so Webflow may stamp a later batch earlier; a run killed
        after recording the later one but not the earlier would otherwise hide the earlier
        one's variants from the next refresh, and the next sync would send them again.
        """
        newest = self.newest_last_updated(scope)
        resume = self.get_meta(scope, RESUME_KEY)
        return min(newest, resume) if newest and resume else newest

    def refreshed(self, scope: int) -> None:
        """The cache caught up with live: a killed run's writes are in it now."""
        self.db.execute("DELETE FROM meta WHERE scope=? AND key=?", (scope, RESUME_KEY))

    def newest_last_updated(self, scope: int) -> str | None:
        row = self.db.execute(
            "SELECT MAX(last_updated) FROM variants WHERE scope=?", (scope,)
        ).fetchone()
        return row[0] if row else None

    def load_variants(self, scope: int) -> pd.DataFrame:
        rows = self.db.execute(
            "SELECT item_id, locale_id, last_updated, is_draft, is_archived FROM variants "
            "WHERE scope=?",
            (scope,),
        ).fetchall()
        return pd.DataFrame(
            rows, columns=["item_id", "locale_id", "last_updated", "is_draft", "is_archived"]
        )

    def load_hashes(self, scope: int) -> StateHashes:
        """Every cached cell's hashes as flat arrays (see ``StateHashes``).

        One row per variant, its cells packed in a BLOB: 100,000 variants are 100,000 rows to
        hand to Python, not 900,000, and ``np.frombuffer`` turns them into arrays at once.
        """
        rows = self.db.execute("SELECT vkey, hashes FROM vhash WHERE scope=?", (scope,)).fetchall()
        vkeys = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        blobs = [r[1] for r in rows]
        sizes = np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs)) // 24
        flat = np.frombuffer(b"".join(blobs), dtype=np.int64).reshape(-1, 3)
        return StateHashes(
            variants=vkeys,
            vkey=np.repeat(vkeys, sizes),
            field=flat[:, 0],
            live=flat[:, 1],
            base=flat[:, 2],
        )

    def load_texts(self, scope: int, fields: Sequence[str]) -> pd.DataFrame:
        """Live keys (text) of a few short fields, e.g. slug and name: item_id, locale_id,
        field, live_key. For matching rows by slug and naming items in messages."""
        # Literal field names (quoted), so SQLite can use the partial index on name/slug.
        names = ",".join("'" + f.replace("'", "''") + "'" for f in fields)
        rows = self.db.execute(
            f"SELECT item_id, locale_id, field, live_key FROM cells "
            f"WHERE scope=? AND field IN ({names})",
            (scope,),
        ).fetchall()
        # Plain fetchall: read_sql_query costs twice as much for the same frame.
        return pd.DataFrame(
            rows, columns=["item_id", "locale_id", "field", "live_key"], dtype=object
        )

    def cell_texts(
        self, scope: int, keys: Iterable[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], tuple[str, str]]:
        """(item, locale, field) -> (live_key, base_key), for the few cells a message or a
        date-only comparison needs in full."""
        rows = self._join_wanted(scope, keys, "c.live_key, COALESCE(c.base_key, c.live_key)")
        return {(i, loc, f): (live, base) for i, loc, f, live, base in rows}

    def _join_wanted(
        self, scope: int, keys: Iterable[tuple[str, str, str]], columns: str
    ) -> list[tuple[Any, ...]]:
        db = self.db
        db.execute(
            "CREATE TEMP TABLE IF NOT EXISTS wanted(item_id TEXT, locale_id TEXT, field TEXT)"
        )
        db.execute("DELETE FROM wanted")
        db.executemany("INSERT INTO wanted VALUES(?,?,?)", keys)
        rows = db.execute(
            f"SELECT c.item_id, c.locale_id, c.field, {columns} FROM wanted w JOIN cells c "
            "ON c.scope=? AND c.item_id=w.item_id AND c.locale_id=w.locale_id "
            "AND c.field=w.field",
            (scope,),
        ).fetchall()
        db.execute("DELETE FROM wanted")
        return rows

    def live_values(
        self, scope: int, keys: Iterable[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], Any]:
        """The live JSON values of (item, locale, field) cells, for old values in reports.

        Read through one join with a temporary table, not a query per cell: a bulk load asks
        for tens of thousands at once.
        """
        rows = self._join_wanted(scope, keys, "c.live_json")
        return {(i, loc, f): json.loads(j) if j is not None else None for i, loc, f, j in rows}

    def item_names(self, scope: int) -> dict[tuple[str, str], str]:
        """(item, locale) -> live name, for readable reports."""
        rows = self.db.execute(
            "SELECT item_id, locale_id, live_key FROM cells WHERE scope=? AND field='name'",
            (scope,),
        )
        return {(i, loc): name for i, loc, name in rows.fetchall()}

    def file_sources(self, scope: int) -> dict[str, str]:
        rows = self.db.execute("SELECT url, source_url FROM files WHERE scope=?", (scope,))
        return dict(rows.fetchall())

    def _cell_key(self, f: SchemaField, value: Any, sources: dict[str, str]) -> str:
        if f.type in FILE_TYPES and value:
            value = _with_source_urls(value, sources)
        return api_key(f, value)

    def apply_live(
        self,
        scope: int,
        schema: Sequence[SchemaField],
        items: Iterable[dict[str, Any]],
        *,
        primary_locale: str,
    ) -> int:
        """Record live variants from a pull. New variants get base = live; others keep base."""
        sources = self.file_sources(scope)
        count = 0
        with self.transaction() as db:
            chunk: list[dict[str, Any]] = []
            for item in items:
                chunk.append(item)
                if len(chunk) >= CHUNK:
                    self._store_chunk(db, scope, schema, chunk, sources, primary_locale, None)
                    count += len(chunk)
                    chunk = []
            self._store_chunk(db, scope, schema, chunk, sources, primary_locale, None)
            count += len(chunk)
        return count

    def apply_confirmed(
        self,
        scope: int,
        schema: Sequence[SchemaField],
        confirmed: Sequence[Confirmed],
        *,
        primary_locale: str,
        run_id: str | None = None,
        batch: int | None = None,
    ) -> None:
        """Record a batch Webflow confirmed: live from its answer, base = what the sheet sent."""
        with self.transaction() as db:
            for conf in confirmed:
                self._record_files(db, scope, schema, conf)
            sources = self.file_sources(scope)
            self._store_chunk(
                db,
                scope,
                schema,
                [c.item for c in confirmed],
                sources,
                primary_locale,
                list(confirmed),
            )
            if run_id is not None and batch is not None:
                db.execute(
                    "UPDATE journal SET status='confirmed' WHERE run_id=? AND batch=?",
                    (run_id, batch),
                )

    def _record_files(
        self, db: sqlite3.Connection, scope: int, schema: Sequence[SchemaField], conf: Confirmed
    ) -> None:
        fd = conf.item.get("fieldData") or {}
        for f in schema:
            if f.type not in FILE_TYPES or f.slug not in conf.sent_values:
                continue
            sent, got = conf.sent_values[f.slug], fd.get(f.slug)
            pairs = zip(_urls(sent), _urls(got), strict=False) if got else []
            for source, hosted in pairs:
                if source and hosted and source != hosted:
                    db.execute(
                        "INSERT OR REPLACE INTO files(scope, url, source_url) VALUES(?,?,?)",
                        (scope, hosted, source),
                    )

    def _store_chunk(
        self,
        db: sqlite3.Connection,
        scope: int,
        schema: Sequence[SchemaField],
        items: list[dict[str, Any]],
        sources: dict[str, str],
        primary_locale: str,
        confs: list[Confirmed] | None,
    ) -> None:
        """Store variants: live always; base = live on first sight, = what the sheet sent on a
        confirmation, else kept (a pull never moves the base)."""
        if not items:
            return
        pairs = [(it["id"], it.get("cmsLocaleId") or primary_locale) for it in items]
        known = self._known(db, scope, pairs)
        db.executemany(
            "INSERT OR REPLACE INTO variants VALUES(?,?,?,?,?,?,?)",
            [
                (
                    scope,
                    item_id,
                    loc,
                    it.get("lastUpdated"),
                    it.get("lastPublished"),
                    int(bool(it.get("isDraft"))),
                    int(bool(it.get("isArchived"))),
                )
                for (item_id, loc), it in zip(pairs, items, strict=True)
            ],
        )
        rows: list[list[Any]] = []
        for n, ((item_id, loc), it) in enumerate(zip(pairs, items, strict=True)):
            fd = it.get("fieldData") or {}
            sent_keys = confs[n].sent_keys if confs else {}
            for f in schema:
                value = fd.get(f.slug)
                key = self._cell_key(f, value, sources)
                sent = sent_keys.get(f.slug)
                keep = (item_id, loc) in known and sent is None
                # A field new to a known variant had an implicit base of "" (empty), not live.
                base = "" if keep else (sent if sent is not None else key)
                rows.append(
                    [
                        scope,
                        item_id,
                        loc,
                        f.slug,
                        key,
                        None if value is None else _dumps(value),
                        base,
                        int(keep),
                    ]
                )
        live_h = key_hashes([r[4] for r in rows])
        base_h = key_hashes([r[6] for r in rows])
        vkeys = variant_keys([r[1] for r in rows], [r[2] for r in rows])
        # Plain ? placeholders, the keep flag bound twice: numbered ones (?1, ?11) make
        # CPython 3.12.1's sqlite3 raise a false DeprecationWarning for every row.
        db.executemany(
            "INSERT INTO cells(scope,item_id,locale_id,field,vkey,live_key,live_hash,live_json,"
            "base_key,base_hash) VALUES(?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(scope,item_id,locale_id,field) DO UPDATE SET "
            "live_key=excluded.live_key, live_hash=excluded.live_hash, "
            "live_json=excluded.live_json, "
            "base_key=CASE WHEN ? THEN NULLIF(COALESCE(cells.base_key, cells.live_key), "
            "excluded.live_key) ELSE excluded.base_key END, "
            "base_hash=CASE WHEN ? THEN cells.base_hash ELSE excluded.base_hash END",
            [
                (
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    int(vk),
                    r[4],
                    int(lh),
                    r[5],
                    None if r[6] == r[4] else r[6],
                    int(bh),
                    r[7],
                    r[7],
                )
                for r, vk, lh, bh in zip(rows, vkeys, live_h, base_h, strict=True)
            ],
        )
        self._refresh_vhash(db, scope, pairs)

    @staticmethod
    def _refresh_vhash(
        db: sqlite3.Connection, scope: int, pairs: Iterable[tuple[str, str]]
    ) -> None:
        """Rebuild the hash BLOBs of these variants from their cells (the source of truth)."""
        wanted = list(dict.fromkeys(pairs))
        if not wanted:
            return
        db.execute(
            "CREATE TEMP TABLE IF NOT EXISTS touched(item_id TEXT, locale_id TEXT, "
            "PRIMARY KEY(item_id, locale_id)) WITHOUT ROWID"
        )
        db.execute("DELETE FROM touched")
        db.executemany("INSERT INTO touched VALUES(?,?)", wanted)
        # CROSS JOIN keeps ``touched`` outside: a lookup by primary key per variant, never a
        # scan of ``cells`` (the planner may otherwise pick one for a small temp table).
        rows = db.execute(
            "SELECT c.item_id, c.locale_id, c.vkey, c.field, c.live_hash, c.base_hash "
            "FROM touched t CROSS JOIN cells c "
            "ON c.scope=? AND c.item_id=t.item_id AND c.locale_id=t.locale_id",
            (scope,),
        ).fetchall()
        db.execute("DELETE FROM touched")
        db.executemany(
            "DELETE FROM vhash WHERE scope=? AND item_id=? AND locale_id=?",
            [(scope, item, loc) for item, loc in wanted],
        )
        if not rows:
            return
        rows.sort(key=lambda r: (r[0], r[1]))
        fhash = field_hashes(sorted({r[3] for r in rows}))
        ints = np.array([(fhash[r[3]], r[4], r[5]) for r in rows], dtype=np.int64)
        starts = [0] + [i for i in range(1, len(rows)) if rows[i][:2] != rows[i - 1][:2]]
        ends = [*starts[1:], len(rows)]
        db.executemany(
            "INSERT INTO vhash(scope, item_id, locale_id, vkey, hashes) VALUES(?,?,?,?,?)",
            [
                (scope, rows[a][0], rows[a][1], rows[a][2], ints[a:b].tobytes())
                for a, b in zip(starts, ends, strict=True)
            ],
        )

    @staticmethod
    def _known(
        db: sqlite3.Connection, scope: int, pairs: list[tuple[str, str]]
    ) -> set[tuple[str, str]]:
        ids = sorted({item for item, _ in pairs})
        found: set[tuple[str, str]] = set()
        for i in range(0, len(ids), 400):  # SQLite's parameter limit
            part = ids[i : i + 400]
            marks = ",".join("?" * len(part))
            found.update(
                db.execute(
                    "SELECT item_id, locale_id FROM variants "
                    f"WHERE scope=? AND item_id IN ({marks})",
                    (scope, *part),
                ).fetchall()
            )
        return found

    def move_base(self, scope: int, cells: Iterable[tuple[str, str, str]]) -> None:
        """The base of (item, locale, field) becomes its live value (live and sheet agree, or
        ``--on-conflict keep-live``)."""
        moved = list(cells)
        with self.transaction() as db:
            db.executemany(
                "UPDATE cells SET base_key=NULL, base_hash=live_hash "
                "WHERE scope=? AND item_id=? AND locale_id=? AND field=?",
                [(scope, item, loc, field) for item, loc, field in moved],
            )
            self._refresh_vhash(db, scope, [(item, loc) for item, loc, _ in moved])

    def forget_variants(self, scope: int, variants: Iterable[tuple[str, str]]) -> None:
        """Drop variants Webflow says are gone (404), so the next run does not expect them."""
        with self.transaction() as db:
            for item, loc in variants:
                for table in ("variants", "cells", "vhash"):
                    db.execute(
                        f"DELETE FROM {table} WHERE scope=? AND item_id=? AND locale_id=?",
                        (scope, item, loc),
                    )

    # -- reference targets ---------------------------------------------------------------------
    def apply_refs(self, scope: int, items: Iterable[dict[str, Any]]) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO refs VALUES(?,?,?,?,?)",
                [
                    (
                        scope,
                        it["id"],
                        (it.get("fieldData") or {}).get("slug"),
                        (it.get("fieldData") or {}).get("name"),
                        it.get("lastUpdated"),
                    )
                    for it in items
                ],
            )

    def newest_ref_update(self, scope: int) -> str | None:
        row = self.db.execute(
            "SELECT MAX(last_updated) FROM refs WHERE scope=?", (scope,)
        ).fetchone()
        return row[0] if row else None

    def ref_target(self, scope: int) -> RefTarget:
        rows = self.db.execute(
            "SELECT item_id, slug, name FROM refs WHERE scope=?", (scope,)
        ).fetchall()
        names: dict[str, list[str]] = {}
        for item_id, _, name in rows:
            if name:
                names.setdefault(str(name).strip().lower(), []).append(item_id)
        return RefTarget(
            ids=frozenset(r[0] for r in rows),
            by_slug={r[1]: r[0] for r in rows if r[1]},
            by_name={n: ids[0] for n, ids in names.items() if len(ids) == 1},
        )

    # -- runs and journal ----------------------------------------------------------------------
    def start_run(
        self, run_id: str, scope: int, command: str, sheet: str, mapping: str, started: str
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO runs(run_id, scope, command, sheet, mapping, started) "
                "VALUES(?,?,?,?,?,?)",
                (run_id, scope, command, sheet, mapping, started),
            )
            newest = self.newest_last_updated(scope)
            if newest and self.get_meta(scope, RESUME_KEY) is None:
                self.set_meta(scope, RESUME_KEY, newest)

    def finish_run(
        self, run_id: str, finished: str, counts: dict[str, int], *, stopped: bool = False
    ) -> None:
        """Mark the run finished. A run that stopped may have had batches that landed without
        an answer: it keeps the refresh reading from before it, as a killed run does."""
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET finished=?, counts=? WHERE run_id=?",
                (finished, _dumps(counts), run_id),
            )
            if stopped:
                return
            db.execute(
                "DELETE FROM meta WHERE key=? AND scope=(SELECT scope FROM runs WHERE run_id=?)",
                (RESUME_KEY, run_id),
            )

    def journal_pending(
        self, run_id: str, entries: Iterable[tuple[int, str, str, str, Any, Any]]
    ) -> None:
        """Record (batch, item, locale, field, old, new) before the batches are sent."""
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO journal VALUES(?,?,?,?,?,?,?,'pending')",
                [
                    (run_id, b, item, loc, field, _dumps(old), _dumps(new))
                    for b, item, loc, field, old, new in entries
                ],
            )

    def journal_confirmed(
        self, run_id: str, entries: Iterable[tuple[str, str, str, Any, Any]]
    ) -> None:
        """Record (item, locale, field, old, new) of writes Webflow already confirmed (creates:
        their ids exist only once Webflow answers, so they are journaled after it)."""
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO journal VALUES(?,?,?,?,?,?,?,'confirmed')",
                [
                    (run_id, 0, item, loc, fld, _dumps(old), _dumps(new))
                    for item, loc, fld, old, new in entries
                ],
            )

    def mark_batch(self, run_id: str, batch: int, status: str) -> None:
        self.db.execute(
            "UPDATE journal SET status=? WHERE run_id=? AND batch=?", (status, run_id, batch)
        )

    # -- run history (revert) ------------------------------------------------------------------
    _RUN_COLUMNS = "run_id, scope, command, sheet, mapping, started, finished, counts"

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        """One ``runs`` row as a dict (``counts`` decoded), or None."""
        row = self.db.execute(
            f"SELECT {self._RUN_COLUMNS} FROM runs WHERE run_id=?", (run_id,)
        ).fetchone()
        return _run_dict(row) if row else None

    def list_runs(self, api_base: str, collection_id: str) -> list[dict[str, Any]]:
        """The runs of one (API base, collection), newest first; never creates the scope."""
        rows = self.db.execute(
            f"SELECT {self._RUN_COLUMNS} FROM runs WHERE scope=(SELECT id FROM scopes "
            "WHERE api_base=? AND collection_id=?) ORDER BY started DESC, run_id DESC",
            (api_base.rstrip("/"), collection_id),
        ).fetchall()
        return [_run_dict(r) for r in rows]

    def last_run_id(self, scope: int, command: str = "sync") -> str | None:
        """The newest run of ``command`` in ``scope``."""
        row = self.db.execute(
            "SELECT run_id FROM runs WHERE scope=? AND command=? "
            "ORDER BY started DESC, run_id DESC LIMIT 1",
            (scope, command),
        ).fetchone()
        return str(row[0]) if row else None

    def journal_for(
        self, run_id: str, status: str = "confirmed"
    ) -> list[tuple[int, str, str, str, Any, Any]]:
        """(batch, item, locale, field, old, new) of a run's journal rows with ``status``."""
        rows = self.db.execute(
            "SELECT batch, item_id, locale_id, field, old_json, new_json FROM journal "
            "WHERE run_id=? AND status=? ORDER BY batch, item_id, locale_id, field",
            (run_id, status),
        ).fetchall()
        return [(int(b), i, loc, f, _loads(old), _loads(new)) for b, i, loc, f, old, new in rows]

    def journal_counts(self, run_id: str) -> dict[str, int]:
        """Journal rows of a run per status (pending, confirmed, failed)."""
        rows = self.db.execute(
            "SELECT status, COUNT(*) FROM journal WHERE run_id=? GROUP BY status", (run_id,)
        ).fetchall()
        return {str(s): int(n) for s, n in rows}


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _run_dict(row: Sequence[Any]) -> dict[str, Any]:
    run_id, scope, command, sheet, mapping, started, finished, counts = row
    return {
        "run_id": run_id,
        "scope": scope,
        "command": command,
        "sheet": sheet,
        "mapping": mapping,
        "started": started,
        "finished": finished,
        "counts": _loads(counts) or {},
    }


def _urls(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [str(value.get("url") or "")]
    if isinstance(value, list):
        return [str(v.get("url") or "") if isinstance(v, dict) else str(v) for v in value]
    return []


def _with_source_urls(value: Any, sources: dict[str, str]) -> Any:
    if isinstance(value, dict):
        url = value.get("url")
        return {**value, "url": sources.get(url, url)} if isinstance(url, str) else value
    if isinstance(value, list):
        return [_with_source_urls(v, sources) for v in value]
    return value

"""The state file itself: the SQLite connection, its tables and upgrades, scopes and metadata.

One file (by default ``.csvsync/state.db`` next to the mapping) holds every collection csvsync
has synced, each under a *scope*: (API base URL, collection id), so a sandbox run never touches
the cache of the real site. ``Database`` is the base of ``State``: the journal (``journal.py``)
and the item cache (``cache.py``) build on its connection and transactions.

The file is marked as csvsync's with ``PRAGMA application_id`` (``APPLICATION_ID``). Opening
checks, before any change to the file, that it is csvsync's: marked, or unmarked with only
csvsync's tables (files from before the mark, marked then), or new and empty. Anything else (another
program's database, a file that is not SQLite, a damaged or truncated one, one from a newer
csvsync, a folder that cannot be written) is a ``StateError``: one line saying what to do.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from csvsync.errors import StateError

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
-- ``--on-conflict keep-live``: the sheet's value (its key hash) when live was kept. While the
-- sheet still holds it, the sheet is taken to agree with the base, so no later run puts the
-- value the editor replaced back; a sheet edited since is a change again.
CREATE TABLE IF NOT EXISTS held(
    scope INTEGER NOT NULL, item_id TEXT NOT NULL, locale_id TEXT NOT NULL, field TEXT NOT NULL,
    sheet_hash INTEGER NOT NULL,
    PRIMARY KEY(scope, item_id, locale_id, field)) WITHOUT ROWID;
-- Variants the cache dropped because they are not live: unpublished or archived in Webflow
-- (``webflow``: a live write was refused) or by csvsync's --unpublish-missing (``csvsync``, with
-- the run). A row that names one is ``not live``, or, for csvsync's, published again.
CREATE TABLE IF NOT EXISTS offline(
    scope INTEGER NOT NULL, item_id TEXT NOT NULL, locale_id TEXT NOT NULL, reason TEXT NOT NULL,
    since TEXT, run_id TEXT, slug TEXT,
    PRIMARY KEY(scope, item_id, locale_id)) WITHOUT ROWID;
-- --target staged: variants written staged and not published yet, with the run that wrote them
-- and whether it asked to publish (``asked``: a refused publish, retried by every later run;
-- otherwise the next --publish publishes them). ``message``: Webflow's last refusal.
CREATE TABLE IF NOT EXISTS unpublished_writes(
    scope INTEGER NOT NULL, item_id TEXT NOT NULL, locale_id TEXT NOT NULL, run_id TEXT,
    asked INTEGER NOT NULL, message TEXT,
    PRIMARY KEY(scope, item_id, locale_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS refs(
    scope INTEGER NOT NULL, item_id TEXT NOT NULL, slug TEXT, name TEXT, last_updated TEXT,
    PRIMARY KEY(scope, item_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs(
    run_id TEXT PRIMARY KEY, scope INTEGER, command TEXT, sheet TEXT, mapping TEXT,
    started TEXT, finished TEXT, counts TEXT, target TEXT, actor TEXT);
CREATE TABLE IF NOT EXISTS journal(
    run_id TEXT NOT NULL, batch INTEGER NOT NULL, item_id TEXT NOT NULL, locale_id TEXT NOT NULL,
    field TEXT NOT NULL, old_json TEXT, new_json TEXT, status TEXT NOT NULL,
    PRIMARY KEY(run_id, item_id, locale_id, field)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS journal_batch ON journal(run_id, batch);
-- A killed run's rows (almost always none): found without reading the whole journal.
CREATE INDEX IF NOT EXISTS journal_pending ON journal(status) WHERE status='pending';
"""


# 3: per-variant hash BLOBs; 4: base_key NULL where it equals live_key; 5: Image alt-text cells
SCHEMA_VERSION = 6  # 6: RichText keys in canonical form (convert/richtext.py)
# The mark of a csvsync state file: the ASCII bytes "CSVS", stored big-endian at offset 68 of the
# SQLite header (``PRAGMA application_id``; ``file state.db`` shows it). Never to change.
APPLICATION_ID = 0x43535653
SQLITE_MAGIC = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite 3 file
RESUME_KEY = "resume_since"  # meta: the newest lastUpdated from before a run that writes
PAGE_SIZE = 16_384


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class Database:
    """One SQLite state file; cheap to open, safe to share between commands (WAL)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        prepare_folder(path)
        _check_file(path)
        try:
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise state_error(path, exc) from None
        try:
            self._open()
        except BaseException as exc:
            self.db.close()
            if isinstance(exc, sqlite3.Error):
                raise state_error(path, exc) from None
            raise

    def _open(self) -> None:
        marked, version = self._claim()  # reads only: nothing is changed in a file not ours
        if version < SCHEMA_VERSION:
            # A cache from an older layout: drop it; the next run pulls everything again.
            self.db.executescript(
                "DROP INDEX IF EXISTS cells_hashes; DROP TABLE IF EXISTS cells; "
                "DROP TABLE IF EXISTS variants; DROP TABLE IF EXISTS vhash;"
            )
            self._use_large_pages()
            self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        if not marked:
            self.db.execute(f"PRAGMA application_id={APPLICATION_ID}")
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA_SQL)
        columns = {str(r[1]) for r in self.db.execute("PRAGMA table_info('runs')")}
        if "target" not in columns:  # files from before runs knew their target: all live
            self.db.execute("ALTER TABLE runs ADD COLUMN target TEXT")
        if "actor" not in columns:  # files from before runs knew who started them
            self.db.execute("ALTER TABLE runs ADD COLUMN actor TEXT")

    def _claim(self) -> tuple[bool, int]:
        """Whether the file bears csvsync's mark, and its layout version; ``StateError`` if the
        file is not csvsync's or is newer than this csvsync."""
        app = int(self.db.execute("PRAGMA application_id").fetchone()[0])
        version = int(self.db.execute("PRAGMA user_version").fetchone()[0])
        objects = self.db.execute(
            "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        ).fetchall()
        ours = app == APPLICATION_ID or (app == 0 and self._csvsync_tables(objects, version))
        if not ours:
            raise StateError(
                f"{self.path} is another program's SQLite database, not a csvsync state file; "
                "csvsync changed nothing in it",
                hint="pass --state with csvsync's state file, or with a new file name",
            )
        if version > SCHEMA_VERSION:
            raise StateError(
                f"{self.path} was written by a newer csvsync (state version {version}; this "
                f"one reads up to {SCHEMA_VERSION})",
                hint=f"upgrade csvsync (pip install -U csvsync), or {move_aside(self.path)}",
            )
        return app == APPLICATION_ID, version

    def _csvsync_tables(self, objects: list[tuple[str, str]], version: int) -> bool:
        """An unmarked file is csvsync's when it is new and empty, or holds only csvsync's
        tables, each with only columns csvsync's table of that name has, including its first
        (the key: scope, run id). Files from before the mark pass; another program's table
        ``variants(id, sku, ...)`` or ``meta(key, value)`` does not."""
        if not objects:
            return 0 <= version <= SCHEMA_VERSION
        known = _known_columns()
        for kind, name in objects:
            if kind == "index":
                continue
            if kind != "table" or name not in known:
                return False
            # ``name`` is one of csvsync's own table names here, safe to put in the statement.
            columns = {str(r[1]) for r in self.db.execute(f"PRAGMA table_info('{name}')")}
            if not columns <= set(known[name]) or known[name][0] not in columns:
                return False
        return True

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

    def find_scopes(self, api_base: str, collection_ids: Sequence[str]) -> dict[str, int]:
        """collection id -> scope id of those that exist (never creates one)."""
        marks = ",".join("?" * len(collection_ids))
        rows = self.db.execute(
            f"SELECT collection_id, id FROM scopes WHERE api_base=? AND collection_id IN ({marks})",
            (api_base.rstrip("/"), *collection_ids),
        ).fetchall()
        return {str(c): int(i) for c, i in rows}

    def item_count(self, scope: int) -> int:
        """Items cached in ``scope`` (each counted once, whatever its locales)."""
        row = self.db.execute(
            "SELECT COUNT(DISTINCT item_id) FROM variants WHERE scope=?", (scope,)
        ).fetchone()
        return int(row[0])

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


# -- opening: the folder, the file, the errors -----------------------------------------------------

MOVE_ASIDE = (
    "move it aside (it holds the run history and revert journal: keep a copy, e.g. mv {path} "
    "{path}.bak) and run again; csvsync pulls a new cache"
)


def move_aside(path: Path) -> str:
    """The advice for a state file csvsync cannot use but that may hold history worth keeping."""
    return MOVE_ASIDE.format(path=path)


def prepare_folder(path: Path) -> None:
    """Create the state file's folder, or say in one line why it cannot be."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocker = next((p for p in (folder, *folder.parents) if p.exists()), folder)
        why = f"{blocker} is a file" if blocker.is_file() else exc.strerror or type(exc).__name__
        raise StateError(
            f"the state folder {folder} cannot be created ({why})",
            hint="pass --state with a path in a folder you can write",
        ) from None


def _check_file(path: Path) -> None:
    """Refuse what is not a SQLite file before SQLite opens it (it would not say which)."""
    if path.is_dir():
        raise StateError(
            f"the state file {path} is a folder", hint="pass --state with a file's path"
        )
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        return  # new: SQLite creates it
    except OSError as exc:
        raise StateError(
            f"the state file {path} cannot be read ({exc.strerror})",
            hint=f"check the permissions of {path}, or pass --state with another file",
        ) from None
    if head and head != SQLITE_MAGIC:
        raise StateError(
            f"{path} is not a SQLite database, so not a csvsync state file; csvsync changed "
            "nothing in it",
            hint="pass --state with csvsync's state file, or with a new file name",
        )


def state_error(path: Path, exc: sqlite3.Error) -> StateError:
    """SQLite's error on opening the state file as one line saying what to do."""
    return _file_error(path, exc) or StateError(
        f"the state file {path} cannot be used ({exc})", hint=move_aside(path)
    )


def state_failure(path: Path, exc: BaseException | None) -> StateError | None:
    """``exc`` as a ``StateError`` if it is SQLite saying the file is damaged, read-only, busy
    or full (found mid-run), else None: any other error is a bug and keeps its traceback."""
    return _file_error(path, exc) if isinstance(exc, sqlite3.Error) else None


def _file_error(path: Path, exc: sqlite3.Error) -> StateError | None:
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF  # the primary result code
    reason = str(exc) or type(exc).__name__
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or "malformed" in reason:
        return StateError(f"the state file {path} is damaged ({reason})", hint=move_aside(path))
    if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM):
        return StateError(
            f"the state file {path} cannot be written ({reason})",
            hint=f"check the permissions of {path} and its folder, or pass --state with a "
            "path you can write",
        )
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return StateError(
            f"the state file {path} is busy ({reason})",
            hint="another program holds it open for writing; try again when it is done",
        )
    if code in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR):
        return StateError(
            f"the state file {path} cannot be read or written ({reason})",
            hint="check the disk: its free space and its health",
        )
    return None


_KNOWN: dict[str, list[str]] = {}


def _known_columns() -> dict[str, list[str]]:
    """csvsync's tables and their columns, in order, as ``SCHEMA_SQL`` creates them."""
    if not _KNOWN:
        db = sqlite3.connect(":memory:")
        try:
            db.executescript(SCHEMA_SQL)
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'"):
                _KNOWN[name] = [str(r[1]) for r in db.execute(f"PRAGMA table_info('{name}')")]
        finally:
            db.close()
    return _KNOWN

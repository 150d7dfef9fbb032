"""The item-state cache (SQLite): what csvsync last saw live and the agreed base, per cell.

Keyed by (API base URL, collection) so a sandbox run never touches the cache of the real site.
Per item-variant and field it keeps the latest live value (``live_key``/``live_json``) and the
base (``base_key``, NULL while it equals ``live_key``, which is almost always: long texts are not
stored twice): the value the sheet and live last agreed on. A pull moves ``live`` and never
the base, except for a variant seen for the first time. Rows are written only from API answers,
one transaction per confirmed batch, so a run stopped at any point leaves a true cache.

Hosted files: Webflow re-hosts an uploaded URL under its own asset URL, so the ``files`` table
remembers which source URL produced which asset URL; keys of file fields are stored in terms of
the source URL so an unchanged sheet URL is not re-sent.

``State`` is the whole state file: this cache on top of ``Journal`` (runs and their journal,
``journal.py``) and ``Database`` (connection, tables, upgrades, scopes, ``db.py``).
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
from csvsync.models import FILE_TYPES, RefTarget, SchemaField, field_value
from csvsync.pipeline.hashing import StateHashes, field_hashes, key_hashes, variant_keys
from csvsync.state.db import RESUME_KEY, dumps, state_failure
from csvsync.state.journal import Journal

CHUNK = 500  # variants per write: hashes are computed column-wise for a whole chunk


@dataclass(frozen=True)
class Confirmed:
    """A variant Webflow confirmed, with the keys of the fields the sheet sent."""

    item: dict[str, Any]
    sent_keys: dict[str, str]
    sent_values: dict[str, Any]


class State(Journal):
    """One SQLite state file: the item cache on top of the journal and the connection."""

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
        # The keys go in as one JSON array read by json_each, not as rows of a temporary
        # table: 10,000 inserts, each its own transaction in autocommit mode, cost more than
        # the join itself. CROSS JOIN keeps json_each outside, so each key is a primary-key
        # search. A key that is not all text (an item without id) matches nothing, as before.
        texts = [
            (i, loc, f) for i, loc, f in keys
            if isinstance(i, str) and isinstance(loc, str) and isinstance(f, str)
        ]  # fmt: skip
        return self.db.execute(
            f"SELECT c.item_id, c.locale_id, c.field, {columns} FROM json_each(?) w "
            "CROSS JOIN cells c ON c.scope=? AND c.item_id=json_extract(w.value, '$[0]') "
            "AND c.locale_id=json_extract(w.value, '$[1]') "
            "AND c.field=json_extract(w.value, '$[2]')",
            (json.dumps(texts), scope),
        ).fetchall()

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
        return cell_key(f, value, sources)

    def live_cells(
        self, scope: int, fields: Sequence[str]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """Every cached variant, (item, locale) -> {field: live API value} of ``fields``."""
        marks = ",".join("?" * len(fields))
        out: dict[tuple[str, str], dict[str, Any]] = {
            (item, loc): {}
            for item, loc in self.db.execute(
                "SELECT item_id, locale_id FROM variants WHERE scope=?", (scope,)
            )
        }
        rows = self.db.execute(
            f"SELECT item_id, locale_id, field, live_json FROM cells "
            f"WHERE scope=? AND field IN ({marks})",
            (scope, *fields),
        )
        for item, loc, slug, raw in rows:
            if (item, loc) in out and raw is not None:
                out[(item, loc)][slug] = json.loads(raw)
        return out

    def ref_rows(self, scope: int) -> list[tuple[str, str | None, str | None]]:
        """(item id, slug, name) of every cached item of a reference target collection."""
        return self.db.execute(
            "SELECT item_id, slug, name FROM refs WHERE scope=?", (scope,)
        ).fetchall()

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
                value = field_value(fd, f.slug)
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
                        None if value is None else dumps(value),
                        base,
                        int(keep),
                    ]
                )
        if confs:
            # What the sheet sent is the base now: an older keep-live decision no longer holds.
            db.executemany(
                "DELETE FROM held WHERE scope=? AND item_id=? AND locale_id=? AND field=?",
                [
                    (scope, item_id, loc, f)
                    for (item_id, loc), conf in zip(pairs, confs, strict=True)
                    for f in conf.sent_keys
                ],
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
        db.executemany(  # live again: no longer offline
            "DELETE FROM offline WHERE scope=? AND item_id=? AND locale_id=?",
            [(scope, item, loc) for item, loc in pairs],
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

    def move_base(
        self,
        scope: int,
        cells: Iterable[tuple[str, str, str]],
        held: Iterable[tuple[str, str, str, int]] = (),
    ) -> None:
        """The base of (item, locale, field) becomes its live value (live and sheet agree, or
        ``--on-conflict keep-live``). ``held``: (item, locale, field, sheet key hash) of the
        cells where live was kept over the sheet (see ``held_hashes``)."""
        moved = [(scope, item, loc, field) for item, loc, field in cells]
        with self.transaction() as db:
            db.executemany(
                "UPDATE cells SET base_key=NULL, base_hash=live_hash "
                "WHERE scope=? AND item_id=? AND locale_id=? AND field=?",
                moved,
            )
            db.executemany(
                "DELETE FROM held WHERE scope=? AND item_id=? AND locale_id=? AND field=?", moved
            )
            db.executemany(
                "INSERT OR REPLACE INTO held VALUES(?,?,?,?,?)",
                [(scope, item, loc, f, int(h)) for item, loc, f, h in held],
            )
            self._refresh_vhash(db, scope, [(m[1], m[2]) for m in moved])

    def held_hashes(self, scope: int) -> dict[tuple[str, str, str], int]:
        """(item, locale, field) -> the sheet's key hash when ``keep-live`` kept live there."""
        rows = self.db.execute(
            "SELECT item_id, locale_id, field, sheet_hash FROM held WHERE scope=?", (scope,)
        )
        return {(i, loc, f): int(h) for i, loc, f, h in rows.fetchall()}

    def forget_variants(
        self,
        scope: int,
        variants: Iterable[tuple[str, str]],
        offline: tuple[str, str, str | None] | None = None,
    ) -> None:
        """Drop variants that are no longer live (deleted: 404; unpublished), so the next run
        does not expect them. ``offline`` = (reason, when, run id): remember them as offline
        (see the ``offline`` table), each with its cached slug."""
        wanted = list(variants)
        with self.transaction() as db:
            if offline is not None:
                reason, since, run_id = offline
                slugs = dict(
                    ((i, loc), slug)
                    for i, loc, slug in db.execute(
                        "SELECT item_id, locale_id, live_key FROM cells WHERE scope=? "
                        "AND field='slug'",
                        (scope,),
                    ).fetchall()
                ) if wanted else {}  # fmt: skip
                db.executemany(
                    "INSERT OR REPLACE INTO offline VALUES(?,?,?,?,?,?,?)",
                    [
                        (scope, item, loc, reason, since, run_id, slugs.get((item, loc)))
                        for item, loc in wanted
                    ],
                )
            for item, loc in wanted:
                for table in ("variants", "cells", "vhash", "held"):
                    db.execute(
                        f"DELETE FROM {table} WHERE scope=? AND item_id=? AND locale_id=?",
                        (scope, item, loc),
                    )

    def offline(self, scope: int) -> pd.DataFrame:
        """item_id, locale_id, reason, since, run_id, slug of the offline variants."""
        rows = self.db.execute(
            "SELECT item_id, locale_id, reason, since, run_id, slug FROM offline WHERE scope=?",
            (scope,),
        ).fetchall()
        return pd.DataFrame(
            rows,
            columns=["item_id", "locale_id", "reason", "since", "run_id", "slug"],
            dtype=object,
        )

    def settle_pending(self, scope: int, schema: Sequence[SchemaField]) -> dict[str, int]:
        """Decide the journal rows a killed run left ``pending``, from the refreshed cache.

        A batch whose answer was lost may still have landed: where live now holds what the
        row sent, it landed (``confirmed``, so that run's revert puts it back); anything else
        did not (``failed``). Called after a refresh, while holding the lock, so no run that
        could still confirm them is going. Publish-state rows are left as they are. Returns
        how many rows became each status.
        """
        fields = {f.slug: f for f in schema}
        rows = self.db.execute(
            "SELECT j.run_id, j.item_id, j.locale_id, j.field, j.new_json, c.live_key "
            "FROM journal j JOIN runs r ON r.run_id=j.run_id LEFT JOIN cells c ON "
            "c.scope=r.scope AND c.item_id=j.item_id AND c.locale_id=j.locale_id "
            "AND c.field=j.field WHERE j.status='pending' AND r.scope=?",
            (scope,),
        ).fetchall()
        if not rows:
            return {}
        sources = self.file_sources(scope)
        decided: list[tuple[str, str, str, str, str]] = []
        for run_id, item, loc, slug, new, live in rows:
            f = fields.get(slug)
            if f is None:
                continue
            sent = cell_key(f, json.loads(new) if new is not None else None, sources)
            status = "confirmed" if live is not None and live == sent else "failed"
            decided.append((status, run_id, item, loc, slug))
        with self.transaction() as db:
            db.executemany(
                "UPDATE journal SET status=? WHERE run_id=? AND item_id=? AND locale_id=? "
                "AND field=?",
                decided,
            )
        out: dict[str, int] = {}
        for status, *_ in decided:
            out[status] = out.get(status, 0) + 1
        return out

    # -- staged writes not published yet --------------------------------------------------------
    def add_unpublished(
        self, scope: int, variants: Iterable[tuple[str, str]], run_id: str, asked: bool
    ) -> None:
        """These (item, locale) were written staged by ``run_id`` and are not live yet. A
        variant already waiting keeps ``asked`` if an earlier run asked to publish it."""
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO unpublished_writes VALUES(?,?,?,?,?,NULL) "
                "ON CONFLICT(scope, item_id, locale_id) DO UPDATE SET run_id=excluded.run_id, "
                "asked=MAX(asked, excluded.asked)",
                [(scope, item, loc, run_id, int(asked)) for item, loc in variants],
            )

    def unpublished_writes(self, scope: int) -> list[tuple[str, str, str, bool, str | None]]:
        """(item, locale, run id, asked, last refusal) of the staged writes not published."""
        rows = self.db.execute(
            "SELECT item_id, locale_id, run_id, asked, message FROM unpublished_writes "
            "WHERE scope=? ORDER BY item_id, locale_id",
            (scope,),
        ).fetchall()
        return [(i, loc, run, bool(asked), msg) for i, loc, run, asked, msg in rows]

    def published(
        self,
        scope: int,
        done: Iterable[tuple[str, str]],
        refused: Iterable[tuple[str, str, str]] = (),
    ) -> None:
        """``done`` went live; ``refused`` (item, locale, why) stay, to be tried again."""
        with self.transaction() as db:
            db.executemany(
                "DELETE FROM unpublished_writes WHERE scope=? AND item_id=? AND locale_id=?",
                [(scope, item, loc) for item, loc in done],
            )
            db.executemany(
                "UPDATE unpublished_writes SET asked=1, message=? "
                "WHERE scope=? AND item_id=? AND locale_id=?",
                [(why, scope, item, loc) for item, loc, why in refused],
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


def _urls(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [str(value.get("url") or "")]
    if isinstance(value, list):
        return [str(v.get("url") or "") if isinstance(v, dict) else str(v) for v in value]
    return []


def cell_key(f: SchemaField, value: Any, sources: dict[str, str]) -> str:
    """The comparison key of an API value, as the cache stores it (file URLs by source URL)."""
    if f.type in FILE_TYPES and value:
        value = _with_source_urls(value, sources)
    return api_key(f, value)


def _with_source_urls(value: Any, sources: dict[str, str]) -> Any:
    if isinstance(value, dict):
        url = value.get("url")
        return {**value, "url": sources.get(url, url)} if isinstance(url, str) else value
    if isinstance(value, list):
        return [_with_source_urls(v, sources) for v in value]
    return value


@contextmanager
def opened(path: Path) -> Iterator[State]:
    """The state file at ``path`` for a command that reads or tidies it outside a run
    (``status``, ``prune``, ``revert --list``): damage found on the way is one ``StateError``."""
    state = State(path)
    try:
        yield state
    except Exception as exc:
        failure = state_failure(path, exc)
        if failure is None:
            raise
        raise failure from None
    finally:
        state.close()

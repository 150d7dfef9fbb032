"""The runs and their journal: what each run changed, so that ``revert`` can put it back.

Per run, item, locale and field the journal keeps the old and the new value, written before a
batch is sent (``pending``) and marked when Webflow confirms it (``confirmed``) or refuses it
(``failed``). Rows whose ``field`` is not a field slug record a change of publish state instead;
their names (the ``*_MARK`` constants) are defined here once, for sync, unpublish and revert.
A run that writes also records the newest ``lastUpdated`` from before it, so that a refresh
after the run is killed reads from there (see ``State.refresh_since``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from csvsync.state.db import RESUME_KEY, Database, dumps, loads

CREATED_MARK = "__created__"  # the run created and published the variant (revert unpublishes)
PUBLISHED_MARK = "__published__"  # a revert published it again (revert unpublishes it again)
UNPUBLISHED_MARK = "__unpublished__"  # the run unpublished it (revert publishes it again)
UNPUBLISH_MARKS = frozenset({CREATED_MARK, PUBLISHED_MARK})  # reverted by unpublishing
MARKS = UNPUBLISH_MARKS | {UNPUBLISHED_MARK}
# The staged items of a collection are cached under a scope of their own: its id plus this.
STAGED_SUFFIX = "#staged"
REVERTS_META = "reverts:"  # meta key prefix: a revert's run id -> the run it reverted


# A run's journal rows that Webflow confirmed: what the run changed (and a revert can restore).
_CHANGED = "SELECT COUNT(*) FROM journal WHERE journal.run_id=runs.run_id AND status='confirmed'"


class Journal(Database):
    """Runs (start, finish, history) and their journal rows."""

    # -- runs and journal ----------------------------------------------------------------------
    def start_run(
        self,
        run_id: str,
        scope: int,
        command: str,
        sheet: str,
        mapping: str,
        started: str,
        target: str = "live",
        actor: str | None = None,
    ) -> None:
        """Record a run that is about to write. ``target``: where it writes (``live``,
        ``staged``, ``staged+publish`` or ``both``), which is where its revert writes.
        ``actor``: who started it (the login name, or the page's signed-in user)."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO runs(run_id, scope, command, sheet, mapping, started, target, "
                "actor) VALUES(?,?,?,?,?,?,?,?)",
                (run_id, scope, command, sheet, mapping, started, target, actor),
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
                (finished, dumps(counts), run_id),
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
                    (run_id, b, item, loc, field, dumps(old), dumps(new))
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
                    (run_id, 0, item, loc, fld, dumps(old), dumps(new))
                    for item, loc, fld, old, new in entries
                ],
            )

    def journal_failed(self, run_id: str, variants: Iterable[tuple[str, str]]) -> None:
        """Webflow refused these (item, locale) writes of the run: nothing of them landed."""
        with self.transaction() as db:
            db.executemany(
                "UPDATE journal SET status='failed' WHERE run_id=? AND item_id=? AND locale_id=?",
                [(run_id, item, loc) for item, loc in variants],
            )

    def journal_failed_fields(self, run_id: str, cells: Iterable[tuple[str, str, str]]) -> None:
        """Webflow refused these (item, locale, field) writes while it took the variants'
        other fields."""
        with self.transaction() as db:
            db.executemany(
                "UPDATE journal SET status='failed' "
                "WHERE run_id=? AND item_id=? AND locale_id=? AND field=?",
                [(run_id, item, loc, fld) for item, loc, fld in cells],
            )

    def mark_batch(self, run_id: str, batch: int, status: str) -> None:
        self.db.execute(
            "UPDATE journal SET status=? WHERE run_id=? AND batch=?", (status, run_id, batch)
        )

    # -- run history (revert) ------------------------------------------------------------------
    _RUN_COLUMNS = (
        "run_id, scope, command, sheet, mapping, started, finished, counts, target, actor"
    )

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        """One ``runs`` row as a dict (``counts`` decoded), or None."""
        row = self.db.execute(
            f"SELECT {self._RUN_COLUMNS} FROM runs WHERE run_id=?", (run_id,)
        ).fetchone()
        return _run_dict(row) if row else None

    def list_runs(
        self, api_base: str, collection_id: str, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """The runs of one (API base, collection), newest first (at most ``limit``), each with
        ``changed``: its journal rows Webflow confirmed (0: the run changed nothing). Never
        creates the scope."""
        rows = self.db.execute(
            f"SELECT {self._RUN_COLUMNS}, ({_CHANGED}) FROM runs WHERE scope IN ({_SCOPES}) "
            "ORDER BY started DESC, run_id DESC LIMIT ?",
            (*_scope_args(api_base, collection_id), -1 if limit is None else limit),
        ).fetchall()
        return [{**_run_dict(r[:-1]), "changed": int(r[-1])} for r in rows]

    def last_run_id(self, scopes: Sequence[int], command: str = "sync") -> str | None:
        """The newest run of ``command`` in ``scopes`` that changed something: a scheduled
        job's runs that found nothing to do are not what ``revert last`` means."""
        marks = ",".join("?" * len(scopes))
        row = self.db.execute(
            f"SELECT run_id FROM runs WHERE scope IN ({marks}) AND command=? AND "
            f"({_CHANGED}) > 0 ORDER BY started DESC, run_id DESC LIMIT 1",
            (*scopes, command),
        ).fetchone()
        return str(row[0]) if row else None

    def prune_runs(self, api_base: str, collection_id: str, keep: int) -> list[dict[str, Any]]:
        """Drop all but the newest ``keep`` runs of (API base, collection), both sides, with
        their journals: those runs can no longer be reverted. Returns the runs dropped."""
        # No per-run counts here: this runs after every sync, and counting each run's journal
        # would read the whole journal each time.
        rows = self.db.execute(
            f"SELECT {self._RUN_COLUMNS} FROM runs WHERE scope IN ({_SCOPES}) "
            "ORDER BY started DESC, run_id DESC LIMIT -1 OFFSET ?",
            (*_scope_args(api_base, collection_id), keep),
        ).fetchall()
        old = [_run_dict(r) for r in rows]
        if not old:
            return []
        ids = [(r["run_id"],) for r in old]
        with self.transaction() as db:
            db.executemany("DELETE FROM journal WHERE run_id=?", ids)
            db.executemany("DELETE FROM runs WHERE run_id=?", ids)
            db.executemany(
                "DELETE FROM meta WHERE scope=? AND key=?",
                [(r["scope"], REVERTS_META + r["run_id"]) for r in old],
            )
        return old

    def journal_for(
        self, run_id: str, status: str = "confirmed"
    ) -> list[tuple[int, str, str, str, Any, Any]]:
        """(batch, item, locale, field, old, new) of a run's journal rows with ``status``."""
        rows = self.db.execute(
            "SELECT batch, item_id, locale_id, field, old_json, new_json FROM journal "
            "WHERE run_id=? AND status=? ORDER BY batch, item_id, locale_id, field",
            (run_id, status),
        ).fetchall()
        return [(int(b), i, loc, f, loads(old), loads(new)) for b, i, loc, f, old, new in rows]

    def journal_counts(self, run_id: str) -> dict[str, int]:
        """Journal rows of a run per status (pending, confirmed, failed)."""
        rows = self.db.execute(
            "SELECT status, COUNT(*) FROM journal WHERE run_id=? GROUP BY status", (run_id,)
        ).fetchall()
        return {str(s): int(n) for s, n in rows}


# The scopes of one collection's runs, live and staged (arguments: ``_scope_args``).
_SCOPES = "SELECT id FROM scopes WHERE api_base=? AND collection_id IN (?, ?)"


def _scope_args(api_base: str, collection_id: str) -> tuple[str, str, str]:
    return api_base.rstrip("/"), collection_id, collection_id + STAGED_SUFFIX


def _run_dict(row: Sequence[Any]) -> dict[str, Any]:
    run_id, scope, command, sheet, mapping, started, finished, counts, target, actor = row
    return {
        "run_id": run_id,
        "scope": scope,
        "command": command,
        "sheet": sheet,
        "mapping": mapping,
        "started": started,
        "finished": finished,
        "counts": loads(counts) or {},
        "target": target or "live",
        "actor": actor,
    }

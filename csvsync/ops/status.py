"""``csvsync status``: how the collection's runs stand, for a person or a monitor.

Reads the state file and the lock only: no token, no network, no lock taken (SQLite's WAL lets
it read while a run writes). It says what the last run did, whether it left problems (failing
outcomes, a run killed part-way, publishes Webflow refused), what is waiting (staged writes not
published, items not live), and whether a run holds the lock now and since when.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from csvsync.mapping.mapping import load_mapping
from csvsync.ops import lock
from csvsync.options import RunOptions
from csvsync.outcomes import FAILING, Outcome
from csvsync.state.cache import State, opened
from csvsync.state.journal import STAGED_SUFFIX
from csvsync.webflow.client import check_api_base

OPEN_CONFLICTS = (Outcome.CONFLICT, Outcome.DRIFT)


@dataclass
class Status:
    """The collection's state of play; ``problems`` empty means clean (exit 0)."""

    collection: str
    api_base: str
    last_run: dict[str, Any] | None = None
    last_sync: dict[str, Any] | None = None
    lock: dict[str, Any] | None = None  # pid and since of the run holding it, or None
    unpublished: list[dict[str, Any]] = field(default_factory=list)  # staged, not published
    not_live: int = 0  # variants unpublished or archived in Webflow that rows name
    items: int | None = None  # items the cache knows live (None: never pulled)
    problems: list[str] = field(default_factory=list)

    @property
    def open_conflicts(self) -> dict[str, int]:
        counts = (self.last_sync or {}).get("counts") or {}
        return {str(o): int(counts[o]) for o in OPEN_CONFLICTS if counts.get(o)}

    @property
    def exit_code(self) -> int:
        return 1 if self.problems else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "api_base": self.api_base,
            "last_run": self.last_run,
            "last_sync": self.last_sync,
            "open_conflicts": self.open_conflicts,
            "unpublished": self.unpublished,
            "not_live": self.not_live,
            "items": self.items,
            "lock": self.lock,
            "problems": self.problems,
            "exit_code": self.exit_code,
        }


def status(options: RunOptions) -> Status:
    """The status of the mapping's (API base, collection)."""
    mapping = load_mapping(options.mapping)
    api_base = check_api_base(options.api_base).rstrip("/")
    out = Status(mapping.collection, api_base)
    out.lock = lock.held_by(api_base, mapping.collection)
    path = options.resolved_state_path()
    if not path.exists():
        return out
    with opened(path) as state:
        _read(state, out)
    return out


def _read(state: State, out: Status) -> None:
    runs = state.list_runs(out.api_base, out.collection, limit=50)
    for run in runs:
        run.pop("scope", None)
    out.last_run = runs[0] if runs else None
    out.last_sync = next((r for r in runs if r["command"] == "sync"), None)
    scopes = state.find_scopes(out.api_base, [out.collection, out.collection + STAGED_SUFFIX])
    staged = scopes.get(out.collection + STAGED_SUFFIX)
    if staged is not None:
        out.unpublished = [
            {"item_id": i, "locale_id": loc, "run_id": run, "refused": msg}
            for i, loc, run, _, msg in state.unpublished_writes(staged)
        ]
    live = scopes.get(out.collection)
    if live is not None:
        out.items = state.item_count(live)
        off = state.offline(live)
        out.not_live = int((off["reason"] == "webflow").sum()) if len(off) else 0
    last = out.last_run
    if last is not None:
        failing = {o: n for o, n in last["counts"].items() if o in FAILING and n}
        if last["finished"] is None and out.lock is None:
            out.problems.append(f"run {last['run_id']} was killed part-way (it never finished)")
        if failing:
            words = ", ".join(f"{n} {o}" for o, n in sorted(failing.items()))
            out.problems.append(f"the last run ({last['command']} {last['run_id']}) left {words}")
    refused = [u for u in out.unpublished if u["refused"]]
    if refused:
        why = refused[0]["refused"]
        out.problems.append(
            f"{len(refused)} item-variant(s) written staged, publish refused: {why}"
        )


def live_item_count(options: RunOptions) -> int | None:
    """How many items the collection has live, from one read (``pagination.total`` of a page of
    one): the page's card before the first pull, when the state knows no count. None when the
    read fails; the card then says nothing of the count rather than fail the page."""
    from csvsync.errors import CsvsyncError
    from csvsync.webflow import ClientOptions, WebflowClient

    mapping = load_mapping(options.mapping)
    try:
        client_options = ClientOptions(api_base=options.api_base, token=options.token,
                                       timeout=5.0, max_retries=1, max_retry_time=5.0)  # fmt: skip
        with WebflowClient(client_options) as client:
            return client.count_live_items(mapping.collection)
    except CsvsyncError:
        return None

"""``csvsync prune``, and the automatic prune after every run: the state file stays bounded.

Each run adds a row to the run list and, for what it changed, rows to the journal. At 96 runs a
day both would grow without end, so a collection keeps its newest ``keep_runs`` runs (1,000 by
default: about ten days of a 15-minute cron job) and drops the older ones with their journals.
A run dropped can no longer be reverted; ``prune`` says which.
"""

from __future__ import annotations

from typing import Any

from csvsync.mapping.mapping import load_mapping
from csvsync.ops import lock
from csvsync.options import RunOptions
from csvsync.state.cache import State, opened
from csvsync.webflow.client import check_api_base


def prune(options: RunOptions, keep: int) -> list[dict[str, Any]]:
    """Keep the newest ``keep`` runs of the mapping's collection; returns the runs dropped.
    Takes the collection's lock (no run may be writing its journal meanwhile); no token."""
    mapping = load_mapping(options.mapping)
    api_base = check_api_base(options.api_base).rstrip("/")
    path = options.resolved_state_path()
    if not path.exists():
        return []
    held = lock.acquire(api_base, mapping.collection)
    try:
        with opened(path) as state:
            return drop(state, api_base, mapping.collection, keep)
    finally:
        held.release()


def drop(state: State, api_base: str, collection: str, keep: int) -> list[dict[str, Any]]:
    """The runs past the newest ``keep``, dropped with their journals (the scope ids removed)."""
    gone = state.prune_runs(api_base, collection, keep)
    return [{k: v for k, v in run.items() if k != "scope"} for run in gone]

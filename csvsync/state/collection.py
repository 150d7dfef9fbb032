"""One collection's slice of the cache: the ``State`` bound to a scope, its schema and locale.

A run works on one collection (API base + collection id, and ``#staged`` for the staged target),
so the operations hold one ``CollectionCache`` instead of passing ``(scope, schema,
primary_locale)`` to every call. The schema and the primary locale are known once the run has
loaded them (``bind``); calls that need them refuse before that.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from csvsync.models import SchemaField
from csvsync.pipeline.hashing import StateHashes
from csvsync.state.cache import Confirmed, State


class CollectionCache:
    """The scoped calls of ``State`` for one collection."""

    def __init__(self, state: State, scope: int) -> None:
        self.state = state
        self.scope = scope
        self._schema: Sequence[SchemaField] | None = None
        self._primary: str | None = None

    def bind(self, schema: Sequence[SchemaField], primary_locale: str) -> None:
        """The collection's schema and primary cmsLocaleId, once the run has them."""
        self._schema, self._primary = schema, primary_locale

    @property
    def schema(self) -> Sequence[SchemaField]:
        if self._schema is None:
            raise RuntimeError("the collection's schema is not loaded yet")
        return self._schema

    @property
    def primary_locale(self) -> str:
        if self._primary is None:
            raise RuntimeError("the collection's locales are not loaded yet")
        return self._primary

    # -- metadata and refresh ------------------------------------------------------------------
    def get_meta(self, key: str) -> Any:
        return self.state.get_meta(self.scope, key)

    def set_meta(self, key: str, value: Any) -> None:
        self.state.set_meta(self.scope, key, value)

    def has_variants(self) -> bool:
        return self.state.has_variants(self.scope)

    def refresh_since(self) -> str | None:
        return self.state.refresh_since(self.scope)

    def refreshed(self) -> None:
        self.state.refreshed(self.scope)

    # -- reads ---------------------------------------------------------------------------------
    def load_hashes(self) -> StateHashes:
        return self.state.load_hashes(self.scope)

    def load_texts(self, fields: Sequence[str]) -> pd.DataFrame:
        return self.state.load_texts(self.scope, fields)

    def load_variants(self) -> pd.DataFrame:
        return self.state.load_variants(self.scope)

    def cell_texts(
        self, keys: Iterable[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], tuple[str, str]]:
        return self.state.cell_texts(self.scope, keys)

    def live_values(self, keys: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str, str], Any]:
        return self.state.live_values(self.scope, keys)

    def live_cells(self, fields: Sequence[str]) -> dict[tuple[str, str], dict[str, Any]]:
        return self.state.live_cells(self.scope, fields)

    def item_names(self) -> dict[tuple[str, str], str]:
        return self.state.item_names(self.scope)

    def file_sources(self) -> dict[str, str]:
        return self.state.file_sources(self.scope)

    # -- writes --------------------------------------------------------------------------------
    def apply_live(self, items: Iterable[dict[str, Any]]) -> int:
        return self.state.apply_live(
            self.scope, self.schema, items, primary_locale=self.primary_locale
        )

    def apply_confirmed(
        self, confirmed: Sequence[Confirmed], *, run_id: str | None = None, batch: int | None = None
    ) -> None:
        self.state.apply_confirmed(
            self.scope,
            self.schema,
            confirmed,
            primary_locale=self.primary_locale,
            run_id=run_id,
            batch=batch,
        )

    def move_base(
        self,
        cells: Iterable[tuple[str, str, str]],
        held: Iterable[tuple[str, str, str, int]] = (),
    ) -> None:
        self.state.move_base(self.scope, cells, held)

    def settle_pending(self) -> dict[str, int]:
        return self.state.settle_pending(self.scope, self.schema)

    def add_unpublished(
        self, variants: Iterable[tuple[str, str]], run_id: str, asked: bool
    ) -> None:
        self.state.add_unpublished(self.scope, variants, run_id, asked)

    def unpublished_writes(self) -> list[tuple[str, str, str, bool, str | None]]:
        return self.state.unpublished_writes(self.scope)

    def published(
        self, done: Iterable[tuple[str, str]], refused: Iterable[tuple[str, str, str]] = ()
    ) -> None:
        self.state.published(self.scope, done, refused)

    def item_count(self) -> int:
        """Items the cache knows live (their primary-locale variants)."""
        row = self.state.db.execute(
            "SELECT COUNT(*) FROM variants WHERE scope=? AND locale_id=?",
            (self.scope, self.primary_locale),
        ).fetchone()
        return int(row[0])

    def killed_before(self, run_id: str) -> bool:
        """Whether the run before ``run_id`` in this scope never finished (it was killed)."""
        row = self.state.db.execute(
            "SELECT finished FROM runs WHERE scope=? AND run_id<>? "
            "ORDER BY started DESC, run_id DESC LIMIT 1",
            (self.scope, run_id),
        ).fetchone()
        return row is not None and row[0] is None

    def held_hashes(self) -> dict[tuple[str, str, str], int]:
        return self.state.held_hashes(self.scope)

    def forget_variants(
        self,
        variants: Iterable[tuple[str, str]],
        offline: tuple[str, str, str | None] | None = None,
    ) -> None:
        self.state.forget_variants(self.scope, variants, offline)

    def offline(self) -> pd.DataFrame:
        return self.state.offline(self.scope)

    def knows_slug(self, slug: str) -> bool:
        """Whether a cached variant (live or offline) has ``slug``, in any locale."""
        db = self.state.db
        return (
            db.execute(
                "SELECT 1 FROM cells WHERE scope=? AND field='slug' AND live_key=? LIMIT 1",
                (self.scope, slug),
            ).fetchone()
            is not None
            or db.execute(
                "SELECT 1 FROM offline WHERE scope=? AND slug=? LIMIT 1", (self.scope, slug)
            ).fetchone()
            is not None
        )

    # -- runs ----------------------------------------------------------------------------------
    def start_run(
        self,
        run_id: str,
        command: str,
        sheet: str,
        mapping: str,
        started: str,
        target: str = "live",
        actor: str | None = None,
    ) -> None:
        self.state.start_run(run_id, self.scope, command, sheet, mapping, started, target, actor)

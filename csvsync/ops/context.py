"""A run's shared setup: the lock, the client, the cache, the schema and locales, cache refresh.

``Job`` opens what a run needs in a fixed order: the mapping first (no network), then the lock,
the state and the client, then the schema and locales (from the state's cache when present).
``RunTally`` is what every run that writes reports of its requests; ``Job.step`` times a step for
``RunOptions.on_step`` (the benchmark's hook).
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from csvsync.errors import (
    EXIT_STOPPED,
    ApiError,
    ConfigError,
    CsvsyncError,
    InternalError,
    Interrupted,
    MappingError,
    NotFoundError,
)
from csvsync.mapping.mapping import Mapping, ResolvedMapping, load_mapping, resolve
from csvsync.models import Locale, RefTarget, SchemaField, with_alt_fields
from csvsync.ops import lock
from csvsync.options import Progress, RunOptions
from csvsync.sheets.results import RunSummary
from csvsync.state.cache import State
from csvsync.state.collection import CollectionCache
from csvsync.state.db import state_failure
from csvsync.state.journal import STAGED_SUFFIX
from csvsync.webflow.client import (
    ClientOptions,
    ClientStats,
    Listing,
    WebflowClient,
    check_api_base,
)
from csvsync.webflow.schema import parse_locales, parse_schema


@dataclass(kw_only=True)
class RunTally:
    """What every command that writes reports of its requests, time, workbook and stop."""

    requests: int = 0
    write_requests: int = 0
    retries: int = 0
    rate_limit_waits: int = 0
    batches: int = 0
    duration: float = 0.0
    results_path: Path | None = None
    stopped: str | None = None

    def take_stats(self, stats: ClientStats, started: float) -> None:
        """The client's request counters, and the time since ``started`` (monotonic)."""
        self.requests, self.write_requests = stats.requests, stats.write_requests
        self.retries, self.rate_limit_waits = stats.retries, stats.rate_limit_waits
        self.duration = time.monotonic() - started


def new_run_id(now: datetime) -> str:
    """``20240601T120000Z-3f2a1c``: sortable by time, unique by its random tail."""
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


class RunCounters(Protocol):
    """What a sync's or a revert's result tells the workbook's Summary."""

    run_id: str
    requests: int
    write_requests: int
    retries: int
    rate_limit_waits: int

    @property
    def counts(self) -> dict[str, int]: ...

    @property
    def exit_code(self) -> int: ...


def _no_progress(stage: str, done: int, total: int) -> None:
    del stage, done, total


class Job:
    """The open resources of one run. Use as a context manager."""

    def __init__(self, options: RunOptions, progress: Progress | None = None) -> None:
        self.options = options
        self.progress = progress or _no_progress
        self.mapping: Mapping = load_mapping(options.mapping)
        if not options.token:
            raise ConfigError("no API token", "set WEBFLOW_API_TOKEN or pass --token-file")
        client_options = ClientOptions(
            api_base=options.api_base,
            token=options.token,
            timeout=options.timeout,
            rate_window=options.rate_window,
            max_in_flight=options.max_in_flight,
            max_retry_time=options.max_retry_time,
            clock=options.clock,
            on_retry=options.on_retry,
        )
        self.api_base = check_api_base(options.api_base).rstrip("/")  # before locking anything
        state_path = options.resolved_state_path()
        try:
            with ExitStack() as undo:  # what is open so far is closed if a later step fails
                self.lock = lock.acquire(self.api_base, self.mapping.collection)
                undo.callback(self.lock.release)
                self.state = State(state_path)
                undo.callback(self.state.close)
                self.client = WebflowClient(client_options)
                undo.callback(self.client.close)
                self.client.stop_writes_when(self.stopping)
                # The staged target compares with the staged items: a cache of its own.
                self.bind_target(options.target == "staged")
                undo.pop_all()
        except Exception as exc:
            # Damage SQLite finds only when a part of the file is read: one line, too.
            failure = state_failure(state_path, exc)
            if failure is None:
                raise
            raise failure from None
        self.collection: dict[str, Any] = {}
        self.schema: list[SchemaField] = []
        self.locales: list[Locale] = []
        self.resolved: ResolvedMapping | None = None

    def bind_target(self, staged: bool) -> None:
        """Work on the cache of the live items, or (``staged``) of the staged ones."""
        self.staged = staged
        self.scope = self.scope_of(staged)
        self.cache = CollectionCache(self.state, self.scope)
        self._staged_side: CollectionCache | None = None

    def staged_side(self) -> CollectionCache:
        """``--target both``: the staged items' cache beside the live one, so that an edit in
        the Designer is seen too (bound to the schema on first use)."""
        if self._staged_side is None:
            cache = CollectionCache(self.state, self.scope_of(staged=True))
            cache.bind(self.schema, self.primary.cms_locale_id)
            self._staged_side = cache
        return self._staged_side

    def refresh_staged_side(self) -> int:
        """Bring the staged side's cache up to date (``--target both``)."""
        with self.step("refresh_staged"):
            return self._read_items(self.staged_side(), staged=True)

    def scope_of(self, staged: bool) -> int:
        suffix = STAGED_SUFFIX if staged else ""
        return self.state.scope(self.api_base, self.mapping.collection + suffix)

    def __enter__(self) -> Job:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        wrote = self.client.stats.write_requests > 0
        self.close()
        # Damage in a part of the file the open did not read shows mid-run: one line, too, and
        # exit 4 once a write request went out (the README's table: stopped part-way).
        failure = state_failure(self.state.path, exc)
        if failure is not None:
            if wrote:
                failure.exit_code = EXIT_STOPPED
            raise failure from None
        if exc is not None and isinstance(exc, Exception) and not isinstance(exc, CsvsyncError):
            # A bug: it still follows the exit-code table, which depends on whether anything
            # was sent. The original stays the cause (--debug prints it).
            raise InternalError(exc, wrote) from exc

    def close(self) -> None:
        self.client.close()
        self.state.close()
        self.lock.release()

    def run_summary(
        self,
        command: str,
        sheet: str,
        started: datetime,
        outcome: RunCounters,
        notes: Sequence[str],
    ) -> RunSummary:
        """The ``Summary`` sheet of a results workbook for this run's collection."""
        return RunSummary(
            run_id=outcome.run_id,
            command=command,
            sheet=sheet,
            mapping=str(self.options.mapping),
            collection=f"{self.collection.get('displayName', '')} ({self.mapping.collection})",
            api_base=self.api_base,
            started=started,
            finished=datetime.now(UTC),
            counts=outcome.counts,
            requests=outcome.requests,
            write_requests=outcome.write_requests,
            retries=outcome.retries,
            rate_limit_waits=outcome.rate_limit_waits,
            exit_code=outcome.exit_code,
            notes=tuple(notes),
        )

    def prune_runs(self) -> None:
        """The automatic prune after a run: the collection keeps its newest ``keep_runs`` runs
        and their journals (``ops/prune.py``)."""
        gone = self.state.prune_runs(self.api_base, self.mapping.collection, self.options.keep_runs)
        if gone:
            self.event("pruned", runs=len(gone), newest_dropped=gone[0]["run_id"])

    def stopping(self) -> bool:
        """True once SIGINT/SIGTERM asked the run to stop."""
        return self.options.stop is not None and self.options.stop.is_set()

    def event(self, kind: str, **data: Any) -> None:
        if self.options.on_event is not None:
            self.options.on_event({"event": kind, **data})

    @property
    def primary(self) -> Locale:
        return next(loc for loc in self.locales if loc.primary)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time the block as step ``name`` for ``RunOptions.on_step`` (the benchmark's hook)."""
        hook = self.options.on_step
        if hook is None:
            yield
            return
        start = time.perf_counter()
        try:
            yield
        finally:
            hook(name, time.perf_counter() - start)

    def timed(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        """``func`` with each call timed as step ``name``."""

        def call(*args: Any, **kwargs: Any) -> Any:
            with self.step(name):
                return func(*args, **kwargs)

        return call

    def load_schema(self) -> ResolvedMapping:
        """Schema and locales from the cache, or from the API on first use / --refresh."""
        with self.step("load_schema"):
            return self._load_schema()

    def _load_schema(self) -> ResolvedMapping:
        site = None if self.options.refresh else self.cache.get_meta("site")
        coll = None if self.options.refresh else self.cache.get_meta("collection")
        if site is None:
            site = self._fetch(
                lambda: self.client.get_site(self.mapping.site), "site", self.mapping.site
            )
            self.cache.set_meta("site", site)
        if coll is None:
            coll = self._fetch(
                lambda: self.client.get_collection(self.mapping.collection),
                "collection",
                self.mapping.collection,
            )
            self.cache.set_meta("collection", coll)
        self.collection = coll
        self.locales = parse_locales(site)
        self.schema = with_alt_fields(parse_schema(coll))
        self.resolved = resolve(self.mapping, self.locales, self.schema)
        self.cache.bind(self.schema, self.primary.cms_locale_id)
        return self.resolved

    def check_write_scope(self) -> None:
        """Before a run's first write: a token that cannot write CMS items stops it here, with
        nothing sent (one read: ``GET /token/introspect``)."""
        try:
            auth = self.client.introspect().get("authorization")
        except ApiError:
            # Webflow answers introspect only for some tokens (the docs: a Data Client App's),
            # so a refusal or an outage here says nothing about the scopes: the writes decide.
            return
        scope = auth.get("scope") if isinstance(auth, dict) else None
        if not isinstance(scope, str):
            return
        # The spec says comma-separated; its own example separates with spaces.
        if "cms:write" not in scope.replace(",", " ").split():
            raise ConfigError(
                "the token can read but not write CMS items; create one with CMS write access "
                "(cms:write)"
            )

    def _fetch(self, call: Callable[[], dict[str, Any]], what: str, ident: str) -> dict[str, Any]:
        try:
            return call()
        except NotFoundError as exc:
            raise MappingError(
                f"{self.mapping.where(what)}: {what} {ident} not found at {self.api_base}",
                f"check the {what} id in the mapping (Webflow said: {exc.message})",
            ) from None

    def refresh_items(self) -> int:
        """Bring the cache up to date: a full pull when empty or --refresh, else incremental."""
        with self.step("refresh_items"):
            return self._refresh_items()

    def _refresh_items(self) -> int:
        count = self._read_items(self.cache, self.staged)
        # What a killed run sent and never heard back about is in the cache now: its journal
        # says whether it landed, so that run can be reverted in full.
        settled = self.cache.settle_pending()
        if settled:
            self.event("settled", **settled)
        return count

    def _read_items(self, cache: CollectionCache, staged: bool) -> int:
        """Read into ``cache`` what changed since it was last read (all of it when empty or
        with --refresh), from the staged items or the live ones."""
        since = None
        if not self.options.refresh and cache.has_variants():
            since = cache.refresh_since()
        reader = self.client.iter_items if staged else self.client.iter_items_live
        items = reader(
            self.mapping.collection,
            cms_locale_ids=[loc.cms_locale_id for loc in self.locales],
            updated_since=since,
        )
        archived: list[tuple[str, str]] = []
        count = cache.apply_live(self._live_only(self._counted(items, "pull"), archived, staged))
        if archived:
            # Not on the live site: out of the cache (every cached variant is live), and
            # remembered, so a row that names one is ``not live`` and nothing is sent for it.
            cache.forget_variants(archived, ("webflow", datetime.now(UTC).isoformat(), None))
        cache.refreshed()
        return count

    def _live_only(
        self, items: Iterator[dict[str, Any]], archived: list[tuple[str, str]], staged: bool
    ) -> Iterator[dict[str, Any]]:
        """The live listing less archived variants (collected in ``archived``); the staged
        items are written archived or not, like any other."""
        primary = self.primary.cms_locale_id
        for item in items:
            if item.get("isArchived") and not staged:
                archived.append((str(item.get("id")), item.get("cmsLocaleId") or primary))
                continue
            yield item

    def _counted(self, items: Listing, stage: str) -> Iterator[dict[str, Any]]:
        n = 0
        for n, item in enumerate(items, 1):
            if self.stopping():
                # Raised inside the cache's transaction: the cache keeps what it had.
                raise Interrupted(
                    "interrupted while reading the live items; the cache is as before"
                )
            if n % 500 == 0:
                self.progress(stage, n, max(items.total or 0, n))
            yield item
        if n >= 500:  # a pull long enough to have shown progress ends it full
            self.progress(stage, n, n)

    def ref_targets(self) -> dict[str, RefTarget]:
        """Lookup tables of every collection a mapped Reference points at (cached, refreshed)."""
        with self.step("ref_targets"):
            return self._ref_targets()

    def _ref_targets(self) -> dict[str, RefTarget]:
        assert self.resolved is not None
        out: dict[str, RefTarget] = {}
        for b in self.resolved.bindings:
            target = b.schema.validations.get("collectionId")
            if b.schema.type not in ("Reference", "MultiReference") or not target or target in out:
                continue
            scope = self.state.scope(self.api_base, "refs:" + str(target))
            since = None if self.options.refresh else self.state.newest_ref_update(scope)
            self.state.apply_refs(
                scope, self.client.iter_items_live(str(target), updated_since=since)
            )
            out[str(target)] = self.state.ref_target(scope)
        return out


def token_from_env(token_file: Path | None) -> str:
    """The API token: ``--token-file`` (refused if others can read it) or WEBFLOW_API_TOKEN.

    A token is printable ASCII: anything else (a file saved as UTF-16, a pasted non-breaking
    space) would fail in the HTTP header later, so it is refused here, never echoed."""
    if token_file is not None:
        try:
            mode = token_file.stat().st_mode
        except OSError as exc:
            raise ConfigError(f"{token_file}: cannot read token file ({exc.strerror})") from None
        if os.name == "posix" and mode & 0o077:
            raise ConfigError(
                f"{token_file}: token file is readable by others", f"run: chmod 600 {token_file}"
            )
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except UnicodeDecodeError:
            raise ConfigError(
                f"{token_file}: the token file is not UTF-8 text",
                "save the token alone, as plain text",
            ) from None
        except OSError as exc:
            raise ConfigError(f"{token_file}: cannot read token file ({exc.strerror})") from None
        return _checked_token(token, str(token_file))
    return _checked_token(os.environ.get("WEBFLOW_API_TOKEN", "").strip(), "WEBFLOW_API_TOKEN")


def token_for(mapping: Mapping, fallback: str) -> str:
    """The token a mapping names (``token_file:``, read as ``--token-file`` is, or
    ``token_env:``), else ``fallback`` (the server's ``WEBFLOW_API_TOKEN`` / ``--token-file``)."""
    if mapping.token_file is not None:
        return token_from_env(mapping.token_file)
    if mapping.token_env:
        token = os.environ.get(mapping.token_env, "").strip()
        if not token:
            raise ConfigError(
                f"{mapping.where('token_env')}: the mapping's token is in {mapping.token_env}, "
                "which is not set",
                f"set {mapping.token_env} where the page is started",
            )
        return _checked_token(token, mapping.token_env)
    return fallback


def _checked_token(token: str, source: str) -> str:
    bad = next((i for i, ch in enumerate(token) if not "!" <= ch <= "~"), None)
    if bad is not None:
        raise ConfigError(
            f"{source}: the token has a character no API token has (position {bad + 1})",
            "copy the token again from Webflow's site settings, with nothing around it",
        )
    return token

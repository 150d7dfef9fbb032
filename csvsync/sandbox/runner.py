"""``Sandbox``: the emulator as a context manager serving on a background thread.

Owns the lifecycle only (open/seed the store, bind, serve, stop); requests are handled in
``server.py`` and data lives in ``store.py``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from .faults import Faults, apply_knobs, check_item_limit, knobs_state
from .ratelimit_window import RateWindow
from .seed import DEMO_SITE_ID, seed_demo, site_only
from .server import SandboxHTTPServer
from .store import Store

SEEDS = ("demo", "empty")


@dataclass
class SandboxOptions:
    """How to run a sandbox. ``seed="empty"`` gives the demo site and locales without
    collections; ``data`` persists to a SQLite file (reopened without re-seeding).
    ``localization=False`` seeds the demo site without localization (no ``locales``, items
    without ``cmsLocaleId``). ``item_limit``: the site plan's CMS item limit (None: none)."""

    host: str = "127.0.0.1"
    port: int = 0
    token: str = "sandbox-token"
    seed: str = "demo"
    data: Path | None = None
    rate_limit: int = 120
    window: float = 60.0
    clock: Callable[[], float] | None = None  # rate-window time source; default monotonic
    # Where hosted files appear to live. Webflow serves uploads from a CDN host, not the API's,
    # so the default is a fixed host: exported sheets and caches then survive a sandbox restart
    # on another port. None serves them from the sandbox itself (GET /assets/...).
    asset_base: str | None = "https://cdn.sandbox.localhost"
    localization: bool = True
    # Webflow's plans: 2,000 items on CMS, 10,000 on Business; counted over the whole site.
    item_limit: int | None = None
    # A list to append every /v2 exchange to (method, path, query, body, status, headers,
    # response), for tests that check the answers against Webflow's OpenAPI description.
    record: list[dict[str, Any]] | None = None
    # The token's OAuth scopes (introspect reports them; a route without its scope is a 403
    # missing_scopes). None = all of them.
    scopes: tuple[str, ...] | None = None


class Sandbox:
    """A running Webflow emulator (``with Sandbox(opts) as sb: ... sb.base_url``)."""

    def __init__(self, opts: SandboxOptions | None = None) -> None:
        self.opts = opts or SandboxOptions()
        if self.opts.seed not in SEEDS:
            raise ValueError(f"unknown seed {self.opts.seed!r}; use one of {', '.join(SEEDS)}")
        self.store = self._open_store()
        self.faults = Faults()
        self.rate = RateWindow(
            self.opts.rate_limit, self.opts.window, self.opts.clock or time.monotonic
        )
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _open_store(self) -> Store:
        data = Path(self.opts.data) if self.opts.data else None
        store = Store(data)
        if store.is_new or store.get_meta("seed") is None:
            if self.opts.seed == "demo":
                seed_demo(store, localized=self.opts.localization)
            else:
                site_only(store, localized=self.opts.localization)
            store.set_meta("seed", self.opts.seed)
        return store

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        if self.store.closed:
            self.store = self._open_store()
        self._server = SandboxHTTPServer(
            (self.opts.host, self.opts.port), self.store, self.opts.token, self.rate,
            self.faults, scopes=self.opts.scopes,
        )  # fmt: skip
        self._server.recorder = self.opts.record
        self.store.asset_base = self.asset_base
        self.store.item_limit = self.opts.item_limit
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name="csvsync-sandbox", daemon=True,
        )  # fmt: skip
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.close_all()
        server.server_close()
        if thread is not None:
            thread.join(timeout=10)
        self._server = self._thread = None
        self.store.close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ addresses
    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the sandbox is not running")
        return int(self._server.server_address[1])

    @property
    def asset_base(self) -> str:
        """The scheme and host hosted files are served under."""
        return (self.opts.asset_base or self.origin).rstrip("/")

    @property
    def origin(self) -> str:
        return f"http://{self.opts.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.origin + "/v2"

    @property
    def control_url(self) -> str:
        return self.origin + "/_sandbox"

    @property
    def site_id(self) -> str:
        return DEMO_SITE_ID

    # ------------------------------------------------------------------ knobs and log
    def set_faults(self, **knobs: Any) -> None:
        """Set fault knobs (see ``faults.FaultKnobs``) and/or ``rate_limit`` / ``window``."""
        apply_knobs(self.faults, self.rate, knobs)

    def set_item_limit(self, limit: int | None) -> None:
        """The site plan's item limit from now on (None: no limit); also
        ``POST /_sandbox/plan {"item_limit": N}``."""
        self.opts.item_limit = self.store.item_limit = check_item_limit(limit)

    def reset_faults(self) -> None:
        self.faults.reset()

    def faults_state(self) -> dict[str, Any]:
        return knobs_state(self.faults, self.rate)

    def log(self) -> list[dict[str, Any]]:
        return self._server.log_entries() if self._server else []

    def clear_log(self) -> None:
        if self._server:
            self._server.clear_log()

    # ------------------------------------------------------------------ activity
    def in_flight(self) -> int:
        """/v2 requests being handled right now (read, not yet answered or dropped)."""
        return self._server.in_flight() if self._server else 0

    def open_connections(self) -> int:
        """Client connections open right now, idle keep-alives included."""
        return self._server.open_connections() if self._server else 0

    def wait_idle(self, timeout: float = 10.0, *, connections: bool = False) -> None:
        """Return once no /v2 request is in flight (and, with ``connections=True``, no client
        connection is open, as after the client process died); TimeoutError after ``timeout``
        seconds."""
        deadline = time.monotonic() + timeout
        while self.in_flight() or (connections and self.open_connections()):
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"sandbox not idle after {timeout:g} s: {self.in_flight()} request(s) in "
                    f"flight, {self.open_connections()} connection(s) open"
                )
            time.sleep(0.005)


def run_forever(
    opts: SandboxOptions, on_ready: Callable[[str], None], stop: threading.Event | None = None
) -> None:
    """Serve until ``stop`` is set (or KeyboardInterrupt), then stop cleanly; ``on_ready`` gets
    the base URL."""
    sandbox = Sandbox(opts).start()
    try:
        on_ready(sandbox.base_url)
        stop = stop or threading.Event()
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()

"""The Webflow Data API v2 emulator: a loopback HTTP server speaking Webflow's JSON.

``Sandbox`` (runner.py) runs it; ``store.py`` keeps the data in SQLite, ``validation.py``
checks field values as Webflow does (``files.py`` fetches loopback file URLs), ``server.py``
is the HTTP front and control API, ``seed.py`` the demo data, ``faults.py`` and
``ratelimit_window.py`` the injected trouble.
"""

from .runner import Sandbox, SandboxOptions, run_forever

__all__ = ["Sandbox", "SandboxOptions", "run_forever"]

"""Running the page: uvicorn on loopback, the address printed, optionally a browser opened.

Beyond loopback the page is served only with sign-in (``auth.py``): anyone who reaches it could
otherwise sync with the server's token. Without it, another ``--host`` is refused with what to do.
"""

from __future__ import annotations

import ipaddress
import threading
import webbrowser
from collections.abc import Callable

import uvicorn

from csvsync.errors import ConfigError
from csvsync.web.app import create_app
from csvsync.web.config import WebConfig


def check_host(host: str, signs_in: bool = False) -> None:
    """Beyond loopback only with sign-in (a users file or a password)."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not signs_in:
        raise ConfigError(
            f"--host {host} would serve the page beyond this machine without sign-in",
            "add --users FILE (or CSVSYNC_WEB_PASSWORD / --password-file), or serve on "
            "127.0.0.1 behind an SSH tunnel",
        )


def serve(
    config: WebConfig,
    host: str = "127.0.0.1",
    port: int = 8000,
    open_browser: bool = False,
    echo: Callable[[str], None] = print,
) -> None:
    """Serve the page until interrupted (Ctrl-C, SIGTERM)."""
    check_host(host, config.signs_in)
    app = create_app(config)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    url = f"http://{host}:{port}/"

    def announce() -> None:
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if server.started:
            echo(f"csvsync's page is at {url} (Ctrl-C stops it)")
            if open_browser:
                webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    server.run()

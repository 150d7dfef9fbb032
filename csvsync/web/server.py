"""Running the page: uvicorn on loopback, the address printed, optionally a browser opened.

Only loopback addresses are served in this version: the page has no sign-in yet, and anyone who
reaches it could sync with the server's token. Another ``--host`` is refused with what to do.
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


def check_host(host: str) -> None:
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigError(
            f"--host {host} would serve the page beyond this machine, and it has no sign-in yet",
            "serve on 127.0.0.1 and reach it through an SSH tunnel or a reverse proxy that "
            "authenticates",
        )


def serve(
    config: WebConfig,
    host: str = "127.0.0.1",
    port: int = 8000,
    open_browser: bool = False,
    echo: Callable[[str], None] = print,
) -> None:
    """Serve the page until interrupted (Ctrl-C, SIGTERM)."""
    check_host(host)
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

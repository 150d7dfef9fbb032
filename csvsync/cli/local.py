"""The commands that need no Webflow: ``csvsync sandbox`` (the emulator) and ``csvsync demo``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from csvsync.cli.common import PathType, errors_to_exit, fail, stop_on_signals
from csvsync.errors import CsvsyncError


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8787, show_default=True, help="Port to listen on.")
@click.option(
    "--token",
    default="sandbox-token",
    show_default=True,
    help="The sandbox's own bearer token: a local test value, not a secret.",
)
@click.option(
    "--seed",
    type=click.Choice(["demo", "empty"]),
    default="demo",
    show_default=True,
    help="demo: the sample site (three locales, every field type); empty: that site and its "
    "locales without collections.",
)
@click.option(
    "--data", type=PathType, help="SQLite file to keep the sandbox's items in across restarts."
)
@click.option(
    "--rate-limit",
    type=int,
    default=120,
    show_default=True,
    help="Requests allowed per rate window, as Webflow's plans allow.",
)
@click.option(
    "--window", type=float, default=60.0, show_default=True, help="Rate window in seconds."
)
@click.option(
    "--item-limit",
    type=click.IntRange(min=0),
    metavar="N",
    help="The site plan's CMS item limit (2,000 on CMS, 10,000 on Business), over all its "
    "collections: a create past it is refused. Default: none.",
)
@click.option(
    "--no-localization",
    is_flag=True,
    help="Seed the demo site without localization (no locales; items in English only).",
)
@click.option(
    "--scopes",
    metavar="SCOPE,...",
    help="The token's OAuth scopes, e.g. cms:read,sites:read (a token that cannot write); "
    "default: all of them.",
)
def sandbox(
    host: str, port: int, token: str, seed: str, data: Path | None, rate_limit: int, window: float,
    item_limit: int | None, no_localization: bool, scopes: str | None,
) -> None:  # fmt: skip
    """Run the local Webflow emulator in the foreground (Ctrl-C stops it)."""
    from csvsync.sandbox import SandboxOptions, run_forever

    opts = SandboxOptions(
        host=host, port=port, token=token, seed=seed, data=data, rate_limit=rate_limit,
        window=window, item_limit=item_limit, localization=not no_localization,
        scopes=None if scopes is None else tuple(filter(None, scopes.replace(" ", ",").split(","))),
    )  # fmt: skip

    def ready(base_url: str) -> None:
        click.echo(f"Sandbox serving {base_url}")
        click.echo(f"Try: export CSVSYNC_API_BASE={base_url} WEBFLOW_API_TOKEN={token}")

    try:
        # Explicit handlers: a process started in the background by a script inherits SIGINT
        # ignored, and Python then raises no KeyboardInterrupt; SIGTERM stops it cleanly too.
        with stop_on_signals(second_exits=True) as stop:
            run_forever(opts, ready, stop.event)
    except OSError as exc:
        fail(CsvsyncError(f"cannot start the sandbox on {host}:{port}: {exc.strerror}",
                          "pick another --port"))  # fmt: skip
    if stop.received:  # stopped cleanly by a signal: 128 + it, as the shell would report
        sys.exit(stop.exit_code(0))


@click.command()
@click.option(
    "--dir",
    "workdir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("csvsync-demo"),
    show_default=True,
    help="Where the demo's sheet, mapping, state and results go.",
)
@click.option(
    "--serve",
    "serve_page",
    is_flag=True,
    help="Instead: the sandbox, the sample data and the editor's page together (Ctrl-C stops).",
)
@click.option("--port", type=int, default=8000, show_default=True, help="With --serve: the port.")
@click.option("--open", "open_browser", is_flag=True, help="With --serve: open a browser.")
def demo(workdir: Path, serve_page: bool, port: int, open_browser: bool) -> None:
    """Start the sandbox, then plan and sync the sample sheet end to end."""
    from csvsync.console.text import render_result
    from csvsync.ops.demo import run_demo, serve_demo

    with errors_to_exit():
        if serve_page:
            from csvsync.cli.web import start_page

            def page(mappings: Path, api_base: str, token: str) -> None:
                start_page(mappings, api_base, token, "127.0.0.1", port,
                           workdir / ".csvsync-web", 50, open_browser)  # fmt: skip

            serve_demo(workdir, click.echo, page)
            return
        code = run_demo(workdir, click.echo, render_result)
    sys.exit(code)

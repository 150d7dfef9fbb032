"""``csvsync serve`` and ``csvsync demo --serve``'s page: the click shell over ``web/``."""

from __future__ import annotations

from pathlib import Path

import click

from csvsync.cli.common import PathType, errors_to_exit
from csvsync.errors import ConfigError
from csvsync.options import DEFAULT_API_BASE


def start_page(
    mappings: Path, api_base: str, token: str, host: str, port: int, data_dir: Path,
    keep_runs: int, open_browser: bool,
) -> None:  # fmt: skip
    try:
        from csvsync.web.config import WebConfig
        from csvsync.web.server import serve
    except ImportError as exc:
        raise ConfigError(
            f"the page needs csvsync's web extra ({exc.name} is not installed)",
            "pip install 'csvsync[web]'",
        ) from None
    config = WebConfig(mappings, data_dir, api_base, token, keep_runs=keep_runs)
    serve(config, host, port, open_browser, click.echo)


@click.command()
@click.option(
    "--mappings",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("mappings"),
    show_default=True,
    help="Folder of YAML mappings, one per collection.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address (loopback only).")
@click.option("--port", type=int, default=8000, show_default=True, help="Port to listen on.")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path(".csvsync-web"),
    show_default=True,
    help="Private folder (mode 0700) for each run's sheet, plan and results.",
)
@click.option(
    "--keep-runs", type=click.IntRange(min=1), default=50, show_default=True,
    help="Page runs kept in the data folder.",
)  # fmt: skip
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a browser.")
@click.option(
    "--api-base",
    envvar="CSVSYNC_API_BASE",
    default=DEFAULT_API_BASE,
    show_default=True,
    help="Webflow API base URL (env CSVSYNC_API_BASE).",
)
@click.option(
    "--token-file",
    type=PathType,
    help="File holding the API token (mode 600). Default: env WEBFLOW_API_TOKEN.",
)
def serve(
    mappings: Path, host: str, port: int, data_dir: Path, keep_runs: int, open_browser: bool,
    api_base: str, token_file: Path | None,
) -> None:  # fmt: skip
    """Serve the editor's page: drop a sheet, see what changes, confirm, get the results."""
    from csvsync.ops.context import token_from_env

    with errors_to_exit():
        token = token_from_env(token_file)
        start_page(mappings, api_base, token, host, port, data_dir, keep_runs, open_browser)

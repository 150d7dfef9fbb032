"""``csvsync serve`` and ``csvsync demo --serve``'s page: the click shell over ``web/``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from csvsync.cli.common import PathType, api_base_option, errors_to_exit, token_file_option
from csvsync.errors import ConfigError


def start_page(
    mappings: Path, api_base: str, token: str, host: str, port: int, data_dir: Path,
    keep_runs: int, open_browser: bool, sign_in: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    try:
        from csvsync.web.config import WebConfig
        from csvsync.web.server import serve
    except ImportError as exc:
        raise ConfigError(
            f"the page needs csvsync's web extra ({exc.name} is not installed)",
            "pip install 'csvsync[web]'",
        ) from None
    config = WebConfig(mappings, data_dir, api_base, token, keep_runs=keep_runs, **(sign_in or {}))
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
@api_base_option
@token_file_option
@click.option(
    "--users",
    "users_file",
    type=PathType,
    help="Sign-in: a file of 'name:hash' lines (make them with --hash-password NAME).",
)
@click.option(
    "--password-file",
    type=PathType,
    help="Sign-in with one password, read from this file (or env CSVSYNC_WEB_PASSWORD).",
)
@click.option(
    "--public-url",
    help="The page's address as browsers see it (behind a reverse proxy); https makes the "
    "session cookie Secure.",
)
@click.option(
    "--hash-password",
    "hash_for",
    metavar="NAME",
    help="Print a users-file line for NAME (the password is asked for) and exit.",
)
def serve(
    mappings: Path, host: str, port: int, data_dir: Path, keep_runs: int, open_browser: bool,
    api_base: str, token_file: Path | None, users_file: Path | None,
    password_file: Path | None, public_url: str | None, hash_for: str | None,
) -> None:  # fmt: skip
    """Serve the editor's page: drop a sheet, see what changes, confirm, get the results."""
    from csvsync.ops.context import token_from_env

    if hash_for is not None:
        from csvsync.web.auth import hash_password

        secret = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        click.echo(f"{hash_for}:{hash_password(secret)}")
        return
    with errors_to_exit():
        token = token_from_env(token_file)
        sign_in: dict[str, Any] = {"public_url": public_url}
        if users_file is not None:
            from csvsync.web.auth import load_users

            sign_in["users"] = load_users(users_file)
        elif password_file is not None:
            sign_in["password"] = _read_secret(password_file)
        elif os.environ.get("CSVSYNC_WEB_PASSWORD"):
            sign_in["password"] = os.environ["CSVSYNC_WEB_PASSWORD"]
        start_page(mappings, api_base, token, host, port, data_dir, keep_runs, open_browser,
                   sign_in)  # fmt: skip


def _read_secret(path: Path) -> str:
    try:
        if os.name == "posix" and path.stat().st_mode & 0o077:
            raise ConfigError(f"{path}: readable by others", f"run: chmod 600 {path}")
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror})") from None
    if not text:
        raise ConfigError(f"{path}: the password file is empty")
    return text

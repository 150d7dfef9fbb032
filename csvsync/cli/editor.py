"""The editor's commands, ``csvsync init`` and ``csvsync export``: thin click shells.

The library work is in ``ops/init.py`` and ``ops/export.py``.
"""

from __future__ import annotations

from pathlib import Path

import click

from csvsync.cli.common import (
    ApiArgs,
    PathType,
    api_base_option,
    api_options,
    errors_to_exit,
    quiet_option,
    run_options,
    token_file_option,
)


@click.command()
@click.option("--site", required=True, help="Site id.")
@click.option("--collection", help="Collection id, slug or name. Without it: list them.")
@click.option(
    "-o",
    "--output",
    type=PathType,
    help="Mapping file to write. Default: mappings/<collection slug>.yaml",
)
@click.option(
    "--layout", type=click.Choice(["wide", "long"]), default="wide", show_default=True,
    help="wide: a column per field and locale; long: a row per item and locale.",
)  # fmt: skip
@click.option("--force", is_flag=True, help="Replace an existing mapping file.")
@api_base_option
@token_file_option
@click.option(
    "--timeout", type=float, default=30.0, show_default=True, help="Seconds to wait for one answer."
)
def init(
    site: str,
    collection: str | None,
    output: Path | None,
    layout: str,
    force: bool,
    api_base: str,
    token_file: Path | None,
    timeout: float,
) -> None:
    """Write a mapping scaffold from a collection's live schema and the site's locales."""
    from csvsync.console.text import collections_text
    from csvsync.errors import ConfigError
    from csvsync.ops.context import token_from_env
    from csvsync.ops.init import list_collections, scaffold
    from csvsync.webflow import ClientOptions, WebflowClient

    with errors_to_exit():
        token = token_from_env(token_file)
        if not token:
            raise ConfigError("no API token", "set WEBFLOW_API_TOKEN or pass --token-file")
        opts = ClientOptions(api_base=api_base, token=token, timeout=timeout)
        with WebflowClient(opts) as client:
            if not collection:
                click.echo(collections_text(list_collections(client, site), site))
                return
            path = scaffold(client, site, collection, output, layout, force)
    click.echo(f"Wrote {path}")


@click.command()
@api_options
@click.argument("out", type=PathType)
@quiet_option
def export(api: ApiArgs, out: Path, quiet: bool) -> None:
    """Write the live items to OUT (.xlsx or .csv) in the mapping's layout, ready to edit."""
    from csvsync.console.text import exported_text
    from csvsync.ops.export import export as do_export

    with errors_to_exit():
        result = do_export(run_options(api), out)
    for note in result.notes:
        click.echo(f"Note: {note}", err=True)
    if not quiet:
        click.echo(exported_text(result))

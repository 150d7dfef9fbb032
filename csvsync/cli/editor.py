"""The editor's commands, ``csvsync init`` and ``csvsync export``: thin click shells.

``cli.py`` registers them at its end (it imports this module there), so import ``csvsync.cli``
to get them; the library work is in ``scaffold.py`` and ``export.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from csvsync.cli import _fail, _options
from csvsync.cli import api_options as _api_options
from csvsync.errors import CsvsyncError
from csvsync.ops.context import DEFAULT_API_BASE, token_from_env

Command = Callable[..., Any]
# Typed here: mypy cannot infer it across the cli <-> cli_editor import cycle.
api_options: Callable[[Command], Command] = _api_options  # type: ignore[has-type]


@click.command()
@click.option("--site", required=True, help="Site id.")
@click.option("--collection", help="Collection id, slug or name. Without it: list them.")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Mapping file to write. Default: mappings/<collection slug>.yaml",
)
@click.option(
    "--layout", type=click.Choice(["wide", "long"]), default="wide", show_default=True,
    help="wide: a column per field and locale; long: a row per item and locale.",
)  # fmt: skip
@click.option("--force", is_flag=True, help="Replace an existing mapping file.")
@click.option(
    "--api-base",
    envvar="CSVSYNC_API_BASE",
    default=DEFAULT_API_BASE,
    show_default=True,
    help="Webflow API base URL (env CSVSYNC_API_BASE).",
)
@click.option(
    "--token-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="File holding the API token (mode 600). Default: env WEBFLOW_API_TOKEN.",
)
@click.option("--timeout", type=float, default=30.0, show_default=True)
def init(**kw: Any) -> None:
    """Write a mapping scaffold from a collection's live schema and the site's locales."""
    from csvsync.errors import ConfigError
    from csvsync.ops.init import list_collections, scaffold
    from csvsync.webflow.client import ClientOptions, WebflowClient

    try:
        token = token_from_env(kw["token_file"])
        if not token:
            raise ConfigError("no API token", "set WEBFLOW_API_TOKEN or pass --token-file")
        opts = ClientOptions(api_base=kw["api_base"], token=token, timeout=kw["timeout"])
        with WebflowClient(opts) as client:
            if not kw["collection"]:
                found = list_collections(client, kw["site"])
                for c in found:
                    click.echo(f"{c.id}  {c.name}  ({c.slug})")
                if found:
                    click.echo(f"Next: csvsync init --site {kw['site']} --collection <id>")
                else:
                    click.echo("The site has no collections.")
                return
            path = scaffold(
                client, kw["site"], kw["collection"], kw["output"], kw["layout"], kw["force"]
            )
    except CsvsyncError as exc:
        _fail(exc)
    click.echo(f"Wrote {path}")


@click.command()
@api_options
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
def export(**kw: Any) -> None:
    """Write the live items to OUT (.xlsx or .csv) in the mapping's layout, ready to edit."""
    from csvsync.ops.export import export as do_export

    try:
        result = do_export(_options(kw, with_sheet=False), kw["out"])
    except CsvsyncError as exc:
        _fail(exc)
    for note in result.notes:
        click.echo(f"Note: {note}", err=True)
    if not kw["quiet"]:
        click.echo(
            f"Exported {result.items} items ({result.rows} rows, {len(result.columns)} columns) "
            f"to {result.path}."
        )

"""The editor's commands, ``csvsync sites``, ``init`` and ``export``: thin click shells.

The library work is in ``ops/sites.py``, ``ops/init.py`` and ``ops/export.py``; the text in
``console/sites.py`` and ``console/text.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from csvsync.cli.common import (
    ApiArgs,
    OutputArgs,
    PathType,
    Report,
    api_base_option,
    api_options,
    errors_to_exit,
    json_option,
    open_client,
    quiet_option,
    run_options,
    token_file_option,
)

timeout_option = click.option(
    "--timeout", type=float, default=30.0, show_default=True, help="Seconds to wait for one answer."
)


@click.command()
@api_base_option
@token_file_option
@timeout_option
@json_option
def sites(api_base: str, token_file: Path | None, timeout: float, as_json: bool) -> None:
    """List the sites the token can see, their collections and their live item counts."""
    from csvsync.console.sites import sites_json, sites_text
    from csvsync.ops.sites import list_sites

    # A failure is the --json error object too, as for every command that takes --json.
    report = Report("sites", OutputArgs(as_json=as_json, quiet=False))
    with errors_to_exit(report=report), open_client(api_base, token_file, timeout) as client:
        found = list_sites(client)
    click.echo(json.dumps(sites_json(found)) if as_json else sites_text(found))


@click.command()
@click.option("--site", help="Site id. Without it: list the sites and their collections.")
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
@timeout_option
def init(
    site: str | None,
    collection: str | None,
    output: Path | None,
    layout: str,
    force: bool,
    api_base: str,
    token_file: Path | None,
    timeout: float,
) -> None:
    """Write a mapping scaffold from a collection's live schema and the site's locales.

    Without --site, lists the sites and their collections; without --collection, the site's
    collections. Either way nothing is written.
    """
    from csvsync.console.sites import init_next_line, sites_text
    from csvsync.console.text import collections_text
    from csvsync.ops.init import list_collections, scaffold
    from csvsync.ops.sites import list_sites

    with errors_to_exit(), open_client(api_base, token_file, timeout) as client:
        if not site:
            # Which site is the question: the same listing as `sites`, without the
            # counts (a read per collection that init has no use for).
            found = list_sites(client, count_items=False)
            click.echo(sites_text(found))
            click.echo(init_next_line(found))
            return
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

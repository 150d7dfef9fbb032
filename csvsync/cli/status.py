"""``csvsync status``: the click shell over ``ops/status.py`` (its text: ``console/status.py``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from csvsync.cli.common import PathType, errors_to_exit, json_option
from csvsync.options import DEFAULT_API_BASE


@click.command()
@click.option(
    "-m", "--mapping", "mapping", required=True, type=PathType, help="YAML column mapping."
)
@click.option(
    "--api-base",
    envvar="CSVSYNC_API_BASE",
    default=DEFAULT_API_BASE,
    show_default=True,
    help="Webflow API base URL (env CSVSYNC_API_BASE).",
)
@click.option(
    "--state",
    "state_path",
    type=PathType,
    help="State cache file. Default: .csvsync/state.db next to the mapping.",
)
@json_option
def status(mapping: Path, api_base: str, state_path: Path | None, as_json: bool) -> None:
    """How the collection's runs stand: exit 0 when the last run was clean, 1 when not.

    The last run and its outcome, conflicts still open, staged writes not published, and
    whether a run holds the lock. Reads the state only: no token, no network.
    """
    from csvsync.console.status import render_status
    from csvsync.ops.status import status as get_status
    from csvsync.options import RunOptions

    with errors_to_exit():
        st = get_status(RunOptions(mapping=mapping, api_base=api_base, state_path=state_path))
    click.echo(json.dumps(st.as_dict()) if as_json else render_status(st))
    sys.exit(st.exit_code)

"""``csvsync status`` and ``prune``: click shells over ``ops/status.py`` and ``ops/prune.py``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from csvsync.cli.common import (
    F,
    api_base_option,
    errors_to_exit,
    json_option,
    mapping_option,
    stack,
    state_option,
)


def state_file_options(func: F) -> F:
    """The options of the commands that read the state file only: no token, no network."""
    return stack(mapping_option, api_base_option, state_option)(func)


@click.command()
@state_file_options
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


@click.command()
@state_file_options
@click.option(
    "--keep-runs",
    type=click.IntRange(min=1),
    required=True,
    metavar="N",
    help="Keep the newest N runs of the collection, with their journals.",
)
@json_option
def prune(
    mapping: Path, api_base: str, state_path: Path | None, keep_runs: int, as_json: bool
) -> None:
    """Drop the collection's runs older than the newest N, with their journals.

    Those runs can no longer be reverted; the command lists them. Every run already keeps the
    newest 1,000 by itself.
    """
    from csvsync.ops.prune import prune as do_prune
    from csvsync.options import RunOptions

    with errors_to_exit():
        gone = do_prune(
            RunOptions(mapping=mapping, api_base=api_base, state_path=state_path), keep_runs
        )
    if as_json:
        click.echo(json.dumps({"dropped": gone, "exit_code": 0}))
        return
    if not gone:
        click.echo(f"Nothing to drop: at most {keep_runs} runs are recorded.")
        return
    click.echo(f"Dropped {len(gone)} run(s) and their journals; these can no longer be reverted:")
    for run in gone:
        click.echo(f"  {run['run_id']}  {run['command']}  {run['started']}")

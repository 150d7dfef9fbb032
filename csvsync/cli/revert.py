"""``csvsync revert``: the click shell over ``ops/revert.py`` (its text is ``console/revert.py``).

The plan is printed before anything is sent (the library calls back with it), then the outcome;
``--json`` prints one object at the end instead, ``--quiet`` nothing unless something needs
attention.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from csvsync.cli.common import (
    ApiArgs,
    OutputArgs,
    PathType,
    Report,
    api_options,
    color,
    errors_to_exit,
    output_options,
    run_options,
    show_option,
    stop_on_signals,
)
from csvsync.errors import ConfigError

if TYPE_CHECKING:
    from csvsync.ops.revert import RevertResult


@click.command()
@api_options
@click.argument("target", required=False)
@click.option("--list", "list_runs", is_flag=True, help="List the recorded runs, newest first.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    help="With --list: only the newest N runs.",
)
@click.option("--dry-run", is_flag=True, help="Print the plan and stop; write nothing.")
@click.option(
    "--results",
    type=PathType,
    help="Results workbook path (replaced atomically). Default: next to the run's sheet.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100),
    default=100,
    show_default=True,
    help="Item-variants per write request (Webflow takes at most 100).",
)
@show_option
@output_options
def revert(
    api: ApiArgs,
    target: str | None,
    list_runs: bool,
    limit: int | None,
    dry_run: bool,
    results: Path | None,
    batch_size: int,
    show: str,
    output: OutputArgs,
) -> None:
    """Put back the values a run replaced. TARGET: a run id, its results workbook, or `last`.

    Fields edited since the run are reported as `changed since` and left alone.
    """
    from csvsync.console.json import revert_summary
    from csvsync.console.progress import ProgressDisplay
    from csvsync.console.revert import render_outcome, render_plan, render_runs
    from csvsync.ops import revert as lib
    from csvsync.options import RunOptions
    from csvsync.outcomes import has_problems

    as_json, quiet = output.as_json, output.quiet
    if list_runs:
        with errors_to_exit():
            # --list reads the state only: no token needed.
            runs = lib.list_runs(
                RunOptions(mapping=api.mapping, api_base=api.api_base, state_path=api.state_path),
                limit,
            )
        click.echo(json.dumps(runs) if as_json else render_runs(runs, color=color()))
        return

    def on_plan(plan: RevertResult) -> None:
        if not (quiet or as_json):
            click.echo(render_plan(plan, show, color=color()))

    report = Report.open("revert", output)
    progress = ProgressDisplay(quiet=quiet or as_json)
    try:
        report.event({"event": "start", "command": "revert", "target": target})
        with stop_on_signals() as stop, errors_to_exit(stop, report):
            if not target:
                raise ConfigError(
                    "revert needs a run id, a results workbook or `last`",
                    "`csvsync revert --list -m MAPPING` shows the runs",
                )
            options = run_options(api, results=results, batch_size=batch_size, stop=stop.event,
                                  on_event=report.log)  # fmt: skip
            result = lib.revert(options, target, dry_run=dry_run, on_plan=on_plan,
                                progress=progress)  # fmt: skip
        code = stop.exit_code(result.exit_code)
        report.event({"event": "end", "command": "revert", "run_id": result.run_id,
                      "reverted_run": result.reverted["run_id"], "counts": result.counts,
                      "exit_code": code})  # fmt: skip
    finally:
        progress.close()
        report.close()
    summary = {**revert_summary(result), "exit_code": code}
    report.finished(summary, problems=code != 0 or has_problems(result.counts))
    if as_json:
        click.echo(json.dumps(summary))
    elif not quiet or code:
        if quiet:  # the plan was not printed: show what needs attention
            click.echo(render_plan(result, show, color=color()))
        click.echo(render_outcome(result, color=color()))
    sys.exit(code)

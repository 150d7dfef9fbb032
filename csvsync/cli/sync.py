"""``csvsync pull``, ``plan`` and ``sync``: click shells over ``ops/sync.py``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from csvsync.cli.common import (
    ApiArgs,
    OutputArgs,
    PathType,
    Report,
    SheetArgs,
    api_options,
    color,
    errors_to_exit,
    output_options,
    run_options,
    sheet_options,
    show_option,
    stop_on_signals,
)


@click.command()
@api_options
@output_options
def pull(api: ApiArgs, output: OutputArgs) -> None:
    """Refresh the state cache from live items."""
    from csvsync.console.progress import ProgressDisplay
    from csvsync.console.text import pulled_text
    from csvsync.ops.sync import pull as do_pull

    report = Report.open("pull", output)
    progress = ProgressDisplay(quiet=output.quiet or output.as_json)
    try:
        report.event({"event": "start", "command": "pull"})
        with stop_on_signals() as stop, errors_to_exit(stop, report):
            count = do_pull(run_options(api, stop=stop.event), progress)
        report.event({"event": "end", "command": "pull", "pulled": count, "exit_code": 0})
    finally:
        progress.close()
        report.close()
    if output.as_json:
        click.echo(json.dumps({"command": "pull", "pulled": count, "exit_code": 0}))
    elif not output.quiet:
        click.echo(pulled_text(count))


@click.command()
@api_options
@sheet_options
@show_option
@output_options
@click.option(
    "--save-plan",
    type=PathType,
    metavar="FILE",
    help="Also write the plan with its fingerprint, for `sync --plan FILE` to apply exactly.",
)
def plan(
    api: ApiArgs, sheet: SheetArgs, output: OutputArgs, show: str, save_plan: Path | None
) -> None:
    """Dry run: show what a sync would change, field by field. Writes nothing to Webflow.

    SHEET is a CSV (.csv, .tsv, .txt) or XLSX (.xlsx, .xlsm) file.
    """
    _run("plan", api, sheet, output, show, save_plan)


@click.command()
@api_options
@sheet_options
@show_option
@output_options
@click.option(
    "--plan",
    "plan_file",
    type=PathType,
    metavar="FILE",
    help="Apply exactly this saved plan (from `plan --save-plan`; no SHEET): refused, nothing "
    "sent, if the sheet, the mapping or a planned cell moved since.",
)
def sync(
    api: ApiArgs, sheet: SheetArgs, output: OutputArgs, show: str, plan_file: Path | None
) -> None:
    """Push the changed item-variants and write the results workbook.

    SHEET is a CSV (.csv, .tsv, .txt) or XLSX (.xlsx, .xlsm) file.
    """
    _run("sync", api, sheet, output, show, plan_file)


def _run(
    command: str,
    api: ApiArgs,
    sheet: SheetArgs,
    output: OutputArgs,
    show: str,
    plan_file: Path | None = None,
) -> None:
    from csvsync.console.json import run_summary
    from csvsync.console.progress import ProgressDisplay
    from csvsync.console.text import render_result
    from csvsync.errors import ConfigError
    from csvsync.ops import saved_plan
    from csvsync.ops import sync as lib
    from csvsync.outcomes import has_problems

    report = Report.open(command, output)
    progress = ProgressDisplay(quiet=output.quiet or output.as_json)
    try:
        with stop_on_signals() as stop, errors_to_exit(stop, report):
            saved = command == "sync" and plan_file is not None
            if (sheet.sheet is None) != saved:
                raise ConfigError(
                    f"{command} needs a SHEET" if not saved else "sync --plan takes no SHEET",
                    "the saved plan names its sheet"
                    if saved
                    else f"csvsync {command} SHEET -m MAPPING",
                )
            options = run_options(api, sheet, stop=stop.event, on_event=report.log)
            if plan_file is None:
                result = (lib.plan if command == "plan" else lib.sync)(options, progress)
            elif command == "plan":
                result = saved_plan.plan_and_save(options, plan_file, progress)
            else:
                result = saved_plan.sync_saved(options, plan_file, progress)
    finally:
        progress.close()
        report.close()
    code = stop.exit_code(result.exit_code)
    summary = {**run_summary(result), "exit_code": code}
    report.finished(summary, problems=code != 0 or has_problems(result.counts))
    if output.as_json:
        click.echo(json.dumps(summary))
    elif not output.quiet or code:
        click.echo(render_result(result, show, color=color()))
    sys.exit(code)

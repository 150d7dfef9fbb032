"""How a revert reads: the plan before anything is sent, the outcome after, the run list, --json.

Functions return text (or a dict for ``--json``); the click command in ``cli/revert.py`` prints it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from csvsync.console.screen import new_console, print_ending, sent_line
from csvsync.outcomes import Outcome, style

if TYPE_CHECKING:  # rich is imported when something is printed, not on every CLI start
    from rich.console import Console

    from csvsync.ops.revert import RevertResult

SAMPLE = 20


def render_runs(runs: list[dict[str, Any]], color: bool = False) -> str:
    """``csvsync revert --list``: one line per recorded run, newest first."""
    from rich.table import Table

    if not runs:
        return "No runs recorded for this collection."
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    for col in ("Run ID", "Command", "By", "Started", "Finished", "Sheet", "Counts"):
        table.add_column(col, no_wrap=True)
    rows = []
    for run in runs:
        counts = ", ".join(f"{n} {o}" for o, n in sorted(run["counts"].items())) or "-"
        if not run.get("changed") and run["finished"]:
            counts += " (no change: `revert last` skips it)"
        command = run["command"] + (f" of {run['reverts']}" if run.get("reverts") else "")
        if run.get("target", "live") != "live":
            command += f" ({run['target']})"
        finished = _time(run["finished"]) if run["finished"] else "(killed)"
        rows.append((run["run_id"], command, run.get("actor") or "-", _time(run["started"]),
                     finished, str(run["sheet"] or ""), counts))  # fmt: skip
    for row in rows:
        table.add_row(*row)
    # Wide enough for every cell: ids and paths are copied and grepped, never cut.
    width = sum(max(len(c) for c in col) + 2 for col in zip(*rows, strict=True)) + 20
    return _text(table, color=color, width=max(140, width))


def render_plan(result: RevertResult, show: str = "some", color: bool = False) -> str:
    """What the revert will do (or, after it, did), field by field."""
    run = result.reverted
    console, buf = new_console(color)
    finished = _time(run["finished"]) if run["finished"] else "killed before it finished"
    console.print(
        f"Revert of run {run['run_id']} ({run['command']} of {run['sheet']}, "
        f"{_time(run['started'])} - {finished})"
    )
    counts = result.counts
    if not counts:
        console.print("Nothing to revert: the run changed no field that Webflow confirmed.")
    else:
        console.print("Fields: " + ", ".join(f"{n} {o}" for o, n in sorted(counts.items())))
        _fields_table(console, result, show)
        _skipped(console, result, show)
    for note in result.notes:
        console.print(note)
    if result.dry_run:
        console.print("Dry run: nothing was written.")
    return buf.getvalue().rstrip("\n")


def render_outcome(result: RevertResult, color: bool = False) -> str:
    console, buf = new_console(color)
    counts = ", ".join(f"{n} {o}" for o, n in sorted(result.counts.items())) or "nothing to do"
    if not result.dry_run:
        console.print(f"Run {result.run_id} (revert): {counts}")
        console.print(sent_line(result))
    print_ending(console, result)
    return buf.getvalue().rstrip("\n")


def _fields_table(console: Console, result: RevertResult, show: str) -> None:
    from rich.table import Table
    from rich.text import Text

    entries = result.entries
    limit = len(entries) if show == "all" else SAMPLE
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    widths = {"Item": 22, "Locale": 6, "Field": 14, "Now": 28, "": 2, "Restores": 28,
              "Outcome": 16}  # fmt: skip
    for col, width in widths.items():
        table.add_column(col, overflow="ellipsis", no_wrap=True, width=width)
    for e in entries[:limit]:
        table.add_row(
            _short(result.names.get((e.item_id, e.locale_id)) or e.item_id, 28),
            result.locales.get(e.locale_id, e.locale_id),
            result.label(e),
            _short(result.shown(e, e.current)),
            "->",
            _short(result.shown(e, e.restore)),
            Text(e.outcome, style=style(e.outcome)),
        )
    console.print(table)
    if len(entries) > limit:
        console.print(f"… and {len(entries) - limit} more (--show all, or see the workbook)")


def _skipped(console: Console, result: RevertResult, show: str) -> None:
    from rich.text import Text

    bad = [e for e in result.entries if e.message and e.outcome != Outcome.NOT_SENT]
    limit = len(bad) if show == "all" else SAMPLE
    for e in bad[:limit]:
        where = f"{e.item_id} [{result.locales.get(e.locale_id, e.locale_id)}] {result.label(e)}"
        console.print(
            Text(f"{where} {e.outcome}: {e.message}", style=style(e.outcome)),
            soft_wrap=True,
        )
    if len(bad) > limit:
        console.print(f"… and {len(bad) - limit} more (see the workbook)")


def _short(value: Any, limit: int = 50) -> str:
    if value is None or value == "" or value == []:
        return "(empty)"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _time(iso: str | None) -> str:
    return (iso or "")[:19].replace("T", " ")


def _text(renderable: Any, color: bool, width: int = 140) -> str:
    console, buf = new_console(color, width)
    console.print(renderable)
    return buf.getvalue().rstrip("\n")

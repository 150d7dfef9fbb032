"""Turn a ``RunResult`` into what a person reads (rich tables) or a monitor reads (a dict).

The plan preview shows counts per outcome, then each changed item with its fields old -> new,
long values shortened, capped at a readable number of lines unless ``show="all"``.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from csvsync.console.screen import new_console, print_ending, sent_line
from csvsync.ops.export import ExportResult
from csvsync.ops.init import CollectionInfo
from csvsync.ops.sync import RunResult
from csvsync.outcomes import PROBLEMS, style

SAMPLE = 20


def would_send_line(kinds: dict[str, int]) -> str:
    """ "A sync would send N write request(s) (...)." with the kinds when there is more than one."""
    total = sum(kinds.values())
    line = f"A sync would send {total} write request(s)"
    if len(kinds) > 1 or (kinds and "fields" not in kinds):
        line += " (" + ", ".join(f"{n} {k}" for k, n in kinds.items()) + ")"
    return line + "."


def _short(value: Any, limit: int = 50) -> str:
    if value is None or value == "":
        return "(empty)"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_result(
    result: RunResult,
    show: str = "some",
    color: bool = False,
    width: int = 140,
) -> str:
    """The text of a run, as a person reads it in a terminal."""
    console, buf = new_console(color, width)
    console.print(f"Run {result.run_id} ({result.command})")
    console.print(_counts_table(result))
    _unpublishing(console, result, show)
    _changes(console, result, show)
    _problems(console, result, show)
    if result.missing_columns:
        console.print(
            "Columns missing from the sheet, left alone: " + ", ".join(result.missing_columns)
        )
    for note in result.notes:
        console.print(Text(note, style="yellow"))
    if result.command == "plan":
        console.print(would_send_line(result.would_send))
    else:
        console.print(sent_line(result))
    print_ending(console, result)
    if result.results_path is None and not result.workbook_error:
        console.print("No results workbook: nothing changed and nothing needs a look.")
    if result.workbook_error:
        console.print(Text(result.workbook_error, style="red"))
    if result.written_back:
        console.print(f"Sheet with the new ids: {result.written_back}")
    return buf.getvalue().rstrip("\n")


def _counts_table(result: RunResult) -> Table | str:
    counts = result.counts
    if not counts:
        return "No rows."
    table = Table(title=None, show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("Outcome")
    table.add_column("Rows x locales", justify="right")
    for outcome, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(Text(outcome, style=style(outcome)), str(n))
    # Keep the one-line form too: scripts and people grep for "12 updated".
    line = ", ".join(f"{n} {o}" for o, n in sorted(counts.items()))
    grid = Table.grid()
    grid.add_row(f"Rows x locales: {line}")
    grid.add_row(table)
    return grid


def _changes(console: Console, result: RunResult, show: str) -> None:
    changes = result.report.changes
    if changes.empty:
        return
    limit = len(changes) if show == "all" else SAMPLE
    console.print(f"Field changes ({len(changes)}):")
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    # Fixed widths: short columns never give way; long values are cut (the workbook has them).
    widths = {
        "Row": 6,
        "Item": 22,
        "Locale": 6,
        "Field": 14,
        "Old": 28,
        "": 2,
        "New": 28,
        "Outcome": 12,
    }
    for col, width in widths.items():
        table.add_column(col, overflow="ellipsis", no_wrap=True, width=width)
    for rec in changes.head(limit).itertuples(index=False):
        table.add_row(
            str(rec.row),
            _short(rec.item or rec.item_id, 28),
            str(rec.locale),
            str(rec.field),
            _short(rec.old),
            "->",
            _short(rec.new),
            Text(str(rec.outcome), style=style(rec.outcome)),
        )
    console.print(table)
    if len(changes) > limit:
        console.print(f"… and {len(changes) - limit} more (--show all, or see the workbook)")


def _unpublishing(console: Console, result: RunResult, show: str) -> None:
    rows = result.report.rows
    gone = rows[rows["locale"] == "all"]
    if gone.empty:
        return
    limit = len(gone) if show == "all" else SAMPLE
    console.print(Text(f"Items no row names ({len(gone)}):", style="bold red"))
    for rec in gone.head(limit).itertuples(index=False):
        console.print(
            Text(
                f"  {rec.outcome}: {rec.item or rec.item_id} ({rec.item_id})",
                style=style(rec.outcome) or "red",
            )
        )
    if len(gone) > limit:
        console.print(f"  … and {len(gone) - limit} more (--show all, or see the workbook)")


def _problems(console: Console, result: RunResult, show: str) -> None:
    rows = result.report.rows
    problems = rows[rows["outcome"].isin(PROBLEMS)]
    if problems.empty:
        return
    limit = len(problems) if show == "all" else SAMPLE
    for rec in problems.head(limit).itertuples(index=False):
        console.print(
            Text(
                f"row {rec.row} [{rec.locale}] {rec.outcome}: {rec.message}",
                style=style(rec.outcome),
            ),
            soft_wrap=True,
        )
    if len(problems) > limit:
        console.print(f"… and {len(problems) - limit} more problems (see the workbook)")


def pulled_text(count: int) -> str:
    """``csvsync pull``'s last line."""
    return f"Pulled {count} item-variants."


def exported_text(result: ExportResult) -> str:
    """``csvsync export``'s last line."""
    return (
        f"Exported {result.items} items ({result.rows} rows, {len(result.columns)} columns) "
        f"to {result.path}."
    )


def collections_text(found: list[CollectionInfo], site: str) -> str:
    """``csvsync init --site S`` without ``--collection``: its collections, and the next step."""
    if not found:
        return "The site has no collections."
    lines = [f"{c.id}  {c.name}  ({c.slug})" for c in found]
    lines.append(f"Next: csvsync init --site {site} --collection <id>")
    return "\n".join(lines)

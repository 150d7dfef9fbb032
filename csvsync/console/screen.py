"""What every run's text shares: the buffered rich console, the lines that end a run, and the
line that says the API cannot be reached while a request is being retried."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich is imported when something is printed, not on every CLI start
    from rich.console import Console

    from csvsync.ops.context import RunTally
    from csvsync.options import RetryNotice


def new_console(color: bool, width: int = 140) -> tuple[Console, io.StringIO]:
    """A console writing to a buffer: text is built first, then printed by the command."""
    from rich.console import Console

    buf = io.StringIO()
    console = Console(
        file=buf,
        width=width,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        soft_wrap=True,  # paths and messages stay on one line, whole, for grep and copy
        markup=False,  # "[fr]" in a column name is data, not a style tag
    )
    return console, buf


def sent_line(tally: RunTally) -> str:
    return (
        f"Sent {tally.write_requests} write request(s), {tally.requests} in all, "
        f"{tally.retries} retries, in {tally.duration:.1f} s."
    )


def print_ending(console: Console, tally: RunTally) -> None:
    """Why the run stopped (in red), and where its results workbook is."""
    from rich.text import Text

    if tally.stopped:
        console.print(Text(tally.stopped, style="red"))
    if tally.results_path:
        console.print(f"Results: {tally.results_path}")


def retry_line(notice: RetryNotice) -> str | None:
    """The one line for a retry, or None when it needs none: said on the first failure of an
    outage in which no connection could be made (a wrong --api-base, a sandbox not running, the
    network down). Answers that are errors (5xx, 429) are retried silently, as before: they
    come and go in a healthy run, and the run reports its retries."""
    if not (notice.first and notice.unreachable):
        return None
    return f"cannot reach {notice.origin}, retrying ({notice.attempt}/{notice.attempts})"

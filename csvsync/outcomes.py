"""The one outcome vocabulary: every word a run uses for what happened to a row, field or item.

``Outcome`` names them; ``TABLE`` decides, in one place, what the terminal shows (a rich style),
what the results workbook colours (a fill, and the order of the Summary's counts), what counts as
a problem (listed under the counts as something to look at) and what fails the run (exit 1).
Outcomes are ``str`` values, so frames and JSON carry the plain words and compare equal to them.

Where two of those columns differ on purpose, the table says so: ``changed in Webflow`` (an
editor's edit in Webflow that the sheet did not touch) is shown as a problem, so that someone looks
at it, but does not fail the run: nothing csvsync was asked to do went wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    # The diff's verdicts before a command labels them (never shown as they are).
    UPDATE = "update"
    CREATE = "create"
    # plan
    WOULD_UPDATE = "would update"
    WOULD_CREATE = "would create"
    WOULD_UNPUBLISH = "would unpublish"
    # sync
    UPDATED = "updated"
    CREATED = "created"
    UNPUBLISHED = "unpublished"
    UNCHANGED = "unchanged"
    # problems of a row or a variant
    INVALID = "invalid"
    FAILED = "failed"
    NOT_FOUND = "not found"
    CONFLICT = "conflict"
    DRIFT = "changed in Webflow"
    NOT_SENT = "not sent"
    NOT_LIVE = "not live"  # unpublished or archived in Webflow: nothing is sent for it
    # an item csvsync unpublished whose row is back: published again with the sheet's values
    REPUBLISH = "republish"
    WOULD_PUBLISH = "would publish"
    PUBLISHED = "published"
    # revert, per field
    WOULD_REVERT = "would revert"
    REVERTED = "reverted"
    ALREADY_REVERTED = "already reverted"
    CHANGED_SINCE = "changed since"


@dataclass(frozen=True)
class Row:
    """How one outcome is shown and counted."""

    style: str  # rich style in the terminal ("" = plain)
    fill: str | None  # results workbook fill colour (None = no fill)
    problem: bool  # listed as something to look at
    fails: bool  # the run exits 1 when a row has it
    summary_rank: int | None = None  # place in the Summary's counts (None: after, by name)


_O = Outcome
TABLE: dict[Outcome, Row] = {
    _O.UPDATE: Row("", None, False, False),
    _O.CREATE: Row("", None, False, False),
    _O.UPDATED: Row("green", "#C6EFCE", False, False, 0),
    _O.CREATED: Row("green", "#A9D08E", False, False, 1),
    _O.UNCHANGED: Row("dim", None, False, False, 2),
    _O.WOULD_UPDATE: Row("cyan", "#DDEBF7", False, False, 3),
    _O.WOULD_CREATE: Row("cyan", "#BDD7EE", False, False, 4),
    _O.INVALID: Row("yellow", "#F8CBAD", True, True, 5),
    _O.FAILED: Row("red", "#FFC7CE", True, True, 6),
    _O.NOT_FOUND: Row("yellow", "#FFEB9C", True, True, 7),
    _O.CONFLICT: Row("magenta", "#E4DFEC", True, True, 8),
    # Shown so that someone looks, but nothing csvsync was asked to do failed.
    _O.DRIFT: Row("yellow", "#FFF2CC", True, False, 9),
    _O.NOT_SENT: Row("red", "#D9D9D9", True, True, 10),
    # An editor's choice in Webflow: shown so that someone looks, not a failure of the run.
    _O.NOT_LIVE: Row("yellow", "#FFF2CC", True, False, 11),
    _O.REPUBLISH: Row("", None, False, False),
    _O.WOULD_PUBLISH: Row("cyan", "#DDEBF7", False, False, 12),
    _O.PUBLISHED: Row("green", "#C6EFCE", False, False, 13),
    _O.WOULD_UNPUBLISH: Row("red", None, False, False),
    _O.UNPUBLISHED: Row("red", None, False, False),
    _O.WOULD_REVERT: Row("cyan", None, False, False),
    _O.REVERTED: Row("green", None, False, False),
    _O.ALREADY_REVERTED: Row("dim", None, False, False),
    # A field someone edited after the run is left alone, and the revert says so with exit 1.
    _O.CHANGED_SINCE: Row("yellow", None, True, True),
}
del _O


def _key(outcome: object) -> str:
    # Workbooks written by hand or by older versions may say "Not_Found" or "not-found".
    return str(outcome).strip().lower().replace("_", " ").replace("-", " ")


_BY_KEY: dict[str, Row] = {_key(o): row for o, row in TABLE.items()}
_PLAIN = Row("", None, False, False)


def row_of(outcome: object) -> Row:
    """The table's row for an outcome word, read leniently (case, ``_`` and ``-``)."""
    return _BY_KEY.get(_key(outcome), _PLAIN)


def style(outcome: object) -> str:
    return row_of(outcome).style


def fill(outcome: object) -> str | None:
    return row_of(outcome).fill


def is_problem(outcome: object) -> bool:
    return row_of(outcome).problem


def fails(outcome: object) -> bool:
    return row_of(outcome).fails


def summary_order(outcome: object) -> int:
    rank = row_of(outcome).summary_rank
    return 99 if rank is None else rank


def has_problems(counts: dict[str, int]) -> bool:
    """Whether a run's counts hold an outcome someone should look at."""
    return any(n and is_problem(o) for o, n in counts.items())


PROBLEMS: tuple[Outcome, ...] = tuple(o for o, r in TABLE.items() if r.problem)
FAILING: frozenset[Outcome] = frozenset(o for o, r in TABLE.items() if r.fails)

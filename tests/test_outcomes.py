"""The one outcome table: what is shown, coloured, listed as a problem and what fails a run."""

from __future__ import annotations

import json

import pytest

from csvsync import outcomes
from csvsync.outcomes import TABLE, Outcome


def test_every_outcome_has_a_row_and_is_a_plain_word_on_the_way_out() -> None:
    assert set(TABLE) == set(Outcome)
    assert json.dumps({Outcome.NOT_FOUND: 1}) == '{"not found": 1}'
    assert str(Outcome.DRIFT) == "changed in Webflow" and type(str(Outcome.DRIFT)) is str


@pytest.mark.parametrize(
    ("outcome", "problem", "fails"),
    [
        ("updated", False, False),
        ("unchanged", False, False),
        ("would update", False, False),
        ("invalid", True, True),
        ("failed", True, True),
        ("not found", True, True),
        ("conflict", True, True),
        ("not sent", True, True),
        ("changed in Webflow", True, False),  # shown for someone to look at; the run did its job
        ("changed since", True, True),  # revert: a field edited after the run is left alone
        ("already reverted", False, False),
    ],
)
def test_problems_and_failures(outcome: str, problem: bool, fails: bool) -> None:
    assert outcomes.is_problem(outcome) is problem
    assert outcomes.fails(outcome) is fails


def test_the_workbook_reads_outcome_words_leniently_and_orders_its_counts() -> None:
    assert outcomes.fill("Not_Found") == outcomes.fill("not found") == "#FFEB9C"
    assert outcomes.fill("CHANGED IN WEBFLOW") == "#FFF2CC"
    assert outcomes.fill("something else") is None
    order = sorted(["not sent", "updated", "invalid", "zzz"], key=outcomes.summary_order)
    assert order == ["updated", "invalid", "not sent", "zzz"]

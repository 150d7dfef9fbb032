"""``--unpublish-missing``, the pure half: which live items no row names, and the guard.

A row names its item even when the row is invalid (a typo in a price must not unpublish the
product). The guard refuses to unpublish more than ``--max-unpublish`` of the collection
without ``--yes``: a truncated export would otherwise empty the site. ``ops/unpublish.py``
sends the unpublish.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from csvsync.errors import CsvsyncError
from csvsync.mapping.mapping import ResolvedMapping, is_item_id


@dataclass
class Unpublish:
    """Items to unpublish, their names, and what happened to each."""

    item_ids: list[str]
    names: dict[str, str]
    live_count: int
    outcomes: dict[str, tuple[str, str]]


def candidates(
    variants: pd.DataFrame,
    resolved: ResolvedMapping,
    texts: pd.DataFrame,
    state_variants: pd.DataFrame,
) -> Unpublish:
    """Live items (primary locale) that no row of the sheet names."""
    primary = resolved.primary.cms_locale_id
    # Every cached variant is live (the live list returns published variants only).
    live_ids = set(state_variants.loc[state_variants["locale_id"] == primary, "item_id"])
    named = {i for i in variants["item_id"] if isinstance(i, str)}
    keys = {str(k).strip().lower() for k in variants["key_text"]}
    if resolved.mapping.key_column:
        named |= {k for k in keys if is_item_id(k)}
    else:
        sel = texts[
            (texts["field"] == resolved.mapping.key_field) & (texts["locale_id"] == primary)
        ]
        by_value = dict(zip(sel["live_key"].str.lower(), sel["item_id"], strict=False))
        named |= {by_value[k] for k in keys if k in by_value}
    names_sel = texts[(texts["field"] == "name") & (texts["locale_id"] == primary)]
    names = dict(zip(names_sel["item_id"], names_sel["live_key"], strict=False))
    missing = sorted(live_ids - named, key=lambda i: (names.get(i, ""), i))
    return Unpublish(missing, names, len(live_ids), {})


HARD_FLOOR = 0.5  # above this share, only a raised --max-unpublish goes ahead, never --yes alone


def check_guard(plan: Unpublish, max_fraction: float, yes: bool, rows: int = 1) -> None:
    """Refuse a mass unpublish without ``--yes``; refuse, whatever ``--yes`` says, a sheet with
    no data rows (an empty export must never empty the site) and more than half the collection
    unless ``--max-unpublish`` was raised past it."""
    if not plan.item_ids or plan.live_count == 0:
        return
    share = len(plan.item_ids) / plan.live_count
    if rows == 0:
        raise CsvsyncError(
            f"the sheet has no data rows: --unpublish-missing would unpublish all "
            f"{len(plan.item_ids)} live items",
            "a sheet with no rows never unpublishes anything (not even with --yes); check the "
            "sheet, or unpublish in Webflow",
        )
    if share > HARD_FLOOR and max_fraction <= HARD_FLOOR:
        raise CsvsyncError(
            f"--unpublish-missing would unpublish {len(plan.item_ids)} of {plan.live_count} live "
            f"items ({share:.0%}), more than half the collection",
            f"--yes does not lift this: pass --max-unpublish {min(1.0, round(share + 0.005, 2))} "
            "as well if the sheet really is complete",
        )
    if yes:
        return
    if share > max_fraction:
        raise CsvsyncError(
            f"--unpublish-missing would unpublish {len(plan.item_ids)} of {plan.live_count} live "
            f"items ({share:.0%}), more than --max-unpublish {max_fraction:.0%}",
            "check the sheet is complete; add --yes to go ahead, or raise --max-unpublish",
        )

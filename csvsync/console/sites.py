"""The text of ``csvsync sites`` (and of ``init`` without ``--site``): sites and their collections.

One block per site, its collections as aligned columns (id, name, slug and, when counted, live
items), widths shared by every block so the ids line up down the page. Names come from Webflow:
whitespace is folded and control characters replaced, so a name cannot move the cursor or
colour the terminal. Plain text, no rich: the listing is short and must paste cleanly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from csvsync.ops.sites import SiteSummary

NO_SITES = "The token can see no sites (it needs the sites:read and cms:read scopes)."


def sites_text(sites: Sequence[SiteSummary]) -> str:
    """The listing for a person: a heading per site, then a row per collection."""
    if not sites:
        return NO_SITES
    counted = any(c.live_items is not None for s in sites for c in s.collections)
    header = ["collection", "name", "slug", *(["live items"] if counted else [])]
    rows = [
        [c.id, _clean(c.name), _clean(c.slug), *([_count(c.live_items)] if counted else [])]
        for s in sites
        for c in s.collections
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines: list[str] = []
    for site in sites:
        if lines:
            lines.append("")
        short = f" ({_clean(site.short_name)})" if site.short_name else ""
        lines.append(f"Site {site.id}  {_clean(site.name)}{short}")
        if not site.collections:
            lines.append("  no collections")
            continue
        lines.append(_row(header, widths, counted))
        for c in site.collections:
            cells = [c.id, _clean(c.name), _clean(c.slug)]
            lines.append(
                _row([*cells, *([_count(c.live_items)] if counted else [])], widths, counted)
            )
    return "\n".join(lines)


def init_next_line(sites: Sequence[SiteSummary]) -> str:
    """What ``init`` without ``--site`` ends with: the flags it needs (the site's id filled in
    when there is one site)."""
    site = sites[0].id if len(sites) == 1 else "<site id>"
    return (
        "Pass --site (and --collection) to write a mapping: "
        f"csvsync init --site {site} --collection <collection id>"
    )


def sites_json(sites: Sequence[SiteSummary]) -> dict[str, Any]:
    """The ``--json`` object of ``csvsync sites``."""
    return {"command": "sites", "sites": [s.as_dict() for s in sites], "exit_code": 0}


def _row(cells: list[str], widths: list[int], counted: bool) -> str:
    # The count is a number: right-aligned under its heading; the rest left-aligned.
    parts = [cell.ljust(w) for cell, w in zip(cells, widths, strict=True)]
    if counted:
        parts[-1] = cells[-1].rjust(widths[-1])
    return ("  " + "  ".join(parts)).rstrip()


def _count(n: int | None) -> str:
    return "?" if n is None else f"{n:,}"


def _clean(text: str) -> str:
    folded = " ".join(str(text).split())
    return "".join(ch if ch.isprintable() else "\ufffd" for ch in folded)

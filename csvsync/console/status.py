"""The text of ``csvsync status`` (its ``--json`` is ``Status.as_dict``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from csvsync.ops.status import Status


def render_status(st: Status) -> str:
    lines = [f"Collection {st.collection} at {st.api_base}"]
    run = st.last_run
    if run is None:
        lines.append("No runs recorded.")
    else:
        counts = ", ".join(f"{n} {o}" for o, n in sorted(run["counts"].items())) or "-"
        ended = run["finished"] or ("still running" if st.lock else "killed, never finished")
        target = "" if run.get("target", "live") == "live" else f" ({run['target']})"
        lines.append(
            f"Last run: {run['command']}{target} {run['run_id']}, started {run['started']}, "
            f"ended {ended}: {counts}"
        )
    conflicts = st.open_conflicts
    if conflicts:
        lines.append(
            "Open in the last sync: "
            + ", ".join(f"{n} {o}" for o, n in conflicts.items())
            + " (see its results workbook)"
        )
    if st.unpublished:
        refused = sum(1 for u in st.unpublished if u["refused"])
        lines.append(
            f"Written staged, not published: {len(st.unpublished)} item-variant(s)"
            + (f", {refused} refused by Webflow (the next staged run tries again)" if refused
               else " (the next --publish publishes them)")
        )  # fmt: skip
    if st.not_live:
        lines.append(
            f"Not live (unpublished or archived in Webflow): {st.not_live} item-variant(s)"
        )
    if st.lock:
        lines.append(
            f"A run holds the lock now: pid {st.lock.get('pid')}, since {st.lock.get('since')}"
        )
    else:
        lines.append("No run holds the lock.")
    lines += [f"Problem: {p}" for p in st.problems]
    lines.append("Clean." if not st.problems else f"{len(st.problems)} problem(s).")
    return "\n".join(lines)

"""The ``--json`` objects: one per run, what a monitor or a script reads on stdout."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from csvsync.outcomes import Outcome

if TYPE_CHECKING:
    from csvsync.ops.revert import RevertResult
    from csvsync.ops.sync import RunResult


def run_summary(result: RunResult) -> dict[str, Any]:
    """The ``--json`` summary of a plan or a sync."""
    return {
        "run_id": result.run_id, "command": result.command, "counts": result.counts,
        "requests": result.requests, "write_requests": result.write_requests,
        "retries": result.retries, "rate_limit_waits": result.rate_limit_waits,
        "batches": result.batches, "duration": round(result.duration, 3),
        "results": str(result.results_path) if result.results_path else None,
        "stopped": result.stopped, "exit_code": result.exit_code,
        "workbook_error": result.workbook_error,
        "created": {str(row): item for row, item in result.created.items()},
        **({"would_send": result.would_send, "would_send_total": sum(result.would_send.values())}
           if result.command == "plan" else {}),
    }  # fmt: skip


def revert_summary(result: RevertResult) -> dict[str, Any]:
    """The ``--json`` summary of a revert."""
    return {
        "run_id": result.run_id, "command": "revert", "reverted_run": result.reverted["run_id"],
        "dry_run": result.dry_run, "counts": result.counts, "requests": result.requests,
        "write_requests": result.write_requests, "retries": result.retries,
        "rate_limit_waits": result.rate_limit_waits, "batches": result.batches,
        "duration": round(result.duration, 3), "unconfirmed": result.unconfirmed,
        "changed_since": [
            {"item_id": e.item_id, "locale": result.locales.get(e.locale_id, e.locale_id),
             "field": e.field, "live": e.current, "run_value": e.run_value}
            for e in result.entries if e.outcome == Outcome.CHANGED_SINCE
        ],
        "results": str(result.results_path) if result.results_path else None,
        "stopped": result.stopped, "exit_code": result.exit_code,
    }  # fmt: skip


def notify_text(payload: dict[str, Any]) -> str:
    """The one line a chat shows for a run's notification (Slack's ``text``)."""
    head = f"csvsync {payload.get('command', '')}: exit {payload.get('exit_code')}"
    error = payload.get("error")
    if isinstance(error, dict):
        return f"{head}: {error.get('message')}"
    counts = payload.get("counts") or {}
    words = ", ".join(f"{n} {o}" for o, n in sorted(counts.items()))
    run = payload.get("run_id")
    return f"{head}: {words or 'nothing to do'}" + (f" (run {run})" if run else "")

"""Turn a ``RunResult`` into the text (or JSON-ready dict) a person or a monitor reads."""

from __future__ import annotations

import json
from typing import Any

from .sync import RunResult

SAMPLE = 20


def _short(value: Any, limit: int = 50) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if value is None:
        text = "(empty)"
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_result(result: RunResult, show: str = "some", as_dict: bool = False) -> Any:
    counts = result.counts
    if as_dict:
        return {
            "run_id": result.run_id,
            "command": result.command,
            "counts": counts,
            "requests": result.requests,
            "write_requests": result.write_requests,
            "retries": result.retries,
            "rate_limit_waits": result.rate_limit_waits,
            "batches": result.batches,
            "duration": round(result.duration, 3),
            "results": str(result.results_path) if result.results_path else None,
            "stopped": result.stopped,
            "exit_code": result.exit_code,
        }
    lines = [f"Run {result.run_id} ({result.command})"]
    summary = ", ".join(f"{n} {o}" for o, n in sorted(counts.items())) or "no rows"
    lines.append(f"Rows x locales: {summary}")
    changes = result.report.changes
    if not changes.empty:
        limit = len(changes) if show == "all" else SAMPLE
        lines.append(f"Field changes ({len(changes)}):")
        for rec in changes.head(limit).itertuples(index=False):
            lines.append(
                f"  row {rec.row} {rec.item or rec.item_id} [{rec.locale}] {rec.field}: "
                f"{_short(rec.old)} -> {_short(rec.new)}  ({rec.outcome})"
            )
        if len(changes) > limit:
            lines.append(f"  … and {len(changes) - limit} more (--show all, or see the workbook)")
    problems = result.report.rows[
        result.report.rows["outcome"].isin(
            ["invalid", "failed", "not found", "conflict", "not sent"]
        )
    ]
    for rec in problems.head(SAMPLE).itertuples(index=False):
        lines.append(f"  row {rec.row} [{rec.locale}] {rec.outcome}: {rec.message}")
    if len(problems) > SAMPLE:
        lines.append(f"  … and {len(problems) - SAMPLE} more problems (see the workbook)")
    if result.missing_columns:
        lines.append(
            "Columns missing from the sheet, left alone: " + ", ".join(result.missing_columns)
        )
    if result.command == "plan":
        lines.append(f"A sync would send {result.batches} write request(s).")
    else:
        lines.append(
            f"Sent {result.write_requests} write request(s), {result.requests} in all, "
            f"{result.retries} retries, in {result.duration:.1f} s."
        )
    if result.stopped:
        lines.append(result.stopped)
    if result.results_path:
        lines.append(f"Results: {result.results_path}")
    return "\n".join(lines)

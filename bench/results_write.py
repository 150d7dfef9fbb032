"""Benchmark: results workbook writing vs a bare xlsxwriter ``constant_memory`` write.

Generates ``n`` synthetic Rows lines and ``n`` Changes lines, then in the same process times

* ``csvsync.sheets.results.write_results`` (Summary + formatted Rows + Changes, atomic replace), and
* a bare xlsxwriter write of the same cells (same values already rendered as text/numbers, no
  formats, no widths, no summary),

alternately ``--repeat`` times, and prints the best time of each and their ratio (target: <= 1.5).

    python bench/results_write.py --rows 100000
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from csvsync.sheets.results import (
    CHANGES_COLUMNS,
    ROWS_COLUMNS,
    RunSummary,
    write_results,
)

OUTCOMES = ["updated", "unchanged", "would update", "failed", "invalid", "not found", "conflict"]
LOCALES = ["en", "fr", "de"]
FIELDS = ["name", "slug", "summary", "price", "featured", "tags"]


def synthetic(n: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows and Changes frames shaped like a real sync: strings, ints, lists, a few blanks."""
    rnd = random.Random(seed)
    rows: list[list[Any]] = []
    changes: list[list[Any]] = []
    for i in range(n):
        item_id = f"{0x64F0C0FFEE0000000000 + i // 3:024x}"
        name = f"Product {i // 3} " + "x" * rnd.randint(0, 30)
        outcome = OUTCOMES[i % len(OUTCOMES)]
        fields = rnd.sample(FIELDS, rnd.randint(1, 3))
        message = "" if outcome in ("updated", "unchanged") else f"{outcome}: field 'price' bad"
        rows.append([i + 2, item_id, name, LOCALES[i % 3], outcome, fields, message])
        field = fields[0]
        old: Any = rnd.random() * 100 if field == "price" else f"old {field} {i}"
        new: Any = rnd.random() * 100 if field == "price" else f"new {field} {i}"
        changes.append([i + 2, item_id, name, LOCALES[i % 3], field, old, new, outcome])
    return (
        pd.DataFrame(rows, columns=ROWS_COLUMNS),
        pd.DataFrame(changes, columns=CHANGES_COLUMNS),
    )


def rendered(frame: pd.DataFrame) -> list[list[Any]]:
    """The same cells as plain str/int/float, for the bare write (done outside the timing)."""
    out = []
    for row in frame.itertuples(index=False, name=None):
        out.append(
            [json.dumps(v, separators=(",", ":")) if isinstance(v, list) else v for v in row]
        )
    return out


def bare_write(path: Path, tables: list[tuple[str, list[str], list[list[Any]]]]) -> None:
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    for name, headers, lines in tables:
        ws = workbook.add_worksheet(name)
        for c, header in enumerate(headers):
            ws.write_string(0, c, header)
        for r, line in enumerate(lines, start=1):
            for c, v in enumerate(line):
                if isinstance(v, str):
                    ws.write_string(r, c, v)
                else:
                    ws.write_number(r, c, v)
    workbook.close()


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def best_of_interleaved(
    repeat: int, first: Callable[[], object], second: Callable[[], object]
) -> tuple[float, float]:
    """Best time of each, alternating the two so machine load hits both alike."""
    a, b = [], []
    for _ in range(repeat):
        a.append(timed(first))
        b.append(timed(second))
    return min(a), min(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    rows, changes = synthetic(args.rows)
    now = datetime.now(UTC)
    summary = RunSummary(
        run_id="bench",
        command="sync",
        sheet="bench.csv",
        mapping="bench.yaml",
        collection="Bench (64f0c0ffee0000000000bbbb)",
        api_base="http://127.0.0.1/v2",
        started=now - timedelta(seconds=95),
        finished=now,
        counts={str(k): int(v) for k, v in rows["outcome"].value_counts().items()},
    )
    tables = [
        ("Rows", ROWS_COLUMNS, rendered(rows)),
        ("Changes", CHANGES_COLUMNS, rendered(changes)),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        ours, bare = best_of_interleaved(
            args.repeat,
            lambda: write_results(Path(tmp, "ours.xlsx"), summary, rows, changes),
            lambda: bare_write(Path(tmp, "bare.xlsx"), tables),
        )
        size = Path(tmp, "ours.xlsx").stat().st_size
    print(f"rows: {args.rows:,} Rows lines + {args.rows:,} Changes lines (best of {args.repeat})")
    print(f"write_results:        {ours:.2f} s  ({size / 1e6:.1f} MB)")
    print(f"bare constant_memory: {bare:.2f} s")
    print(f"ratio:                {ours / bare:.2f}  (target <= 1.5)")


if __name__ == "__main__":
    main()

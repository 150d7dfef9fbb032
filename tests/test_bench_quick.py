"""The benchmark's smoke run: ``python bench/run.py --quick`` finishes and prints its table.

Only that it runs: CI machines are too noisy for the figures, which docs/benchmarks.md records
from a full run. This keeps the benchmark from rotting as csvsync changes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(180)
def test_quick_benchmark_prints_its_table(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=170,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = proc.stdout
    assert "| # | figure | measured | target |" in out
    for target in ("| 1 |", "| 2 |", "| 3 |", "| 4 |", "| 5 |"):
        assert target in out, f"no line for target {target} in:\n{out}"
    assert "n/a" not in out

"""The demo and its committed sample files."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from csvsync.cli import cli
from csvsync.ops.demo import regenerate_samples

ROOT = Path(__file__).resolve().parents[1]


def test_committed_samples_match_the_generator(tmp_path: Path) -> None:
    regenerate_samples(tmp_path)
    for rel in ("sample_data/products.csv", "mappings/demo-products.yaml"):
        assert (tmp_path / rel).read_text(encoding="utf-8") == (ROOT / rel).read_text(
            encoding="utf-8"
        ), f"{rel} is stale: run python -m csvsync.ops.demo"


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path / "d")])
    assert res.exit_code == 0, res.output
    out = res.output
    assert "A sync would send 1 write request(s)" in out
    assert "874 unchanged, 26 updated" in out  # a price goes to all three locales
    assert "900 unchanged" in out.split("sync again")[1]
    assert "Sent 0 write request(s)" in out.split("sync again")[1]
    # the no-op sync leaves no workbook (nothing changed, nothing to look at)
    assert "No results workbook" in out.split("sync again")[1]
    assert len(list((tmp_path / "d").glob("products.sync-*.xlsx"))) == 1

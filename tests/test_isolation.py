"""A variant Webflow refuses among a batch: found by the field its 400 names, in few requests,
and isolated at field level (its other fields land); against the sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import Workspace, make_workspace, read_rows

from csvsync.ops.demo import DEMO_TOKEN
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import LOCALE_EN


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000)) as sb:
        yield make_workspace(sb, tmp_path)


def sync(ws: Workspace, frame: object) -> tuple[dict, list[dict]]:
    ws.sb.clear_log()
    res = ws.run("sync", ws.write_sheet(frame), "-m", ws.mapping, "--json",  # type: ignore[arg-type]
                 "--results", ws.dir / "r.xlsx")  # fmt: skip
    assert res.exit_code == 1, res.output
    patches = [e for e in ws.sb.log() if e["method"] == "PATCH"]
    return json.loads(res.stdout), patches


def test_only_the_bad_variant_carries_the_refused_field(ws: Workspace) -> None:
    f = ws.frame.copy()
    for i in range(100):  # 100 English summaries: one batch
        f.loc[i, "Summary"] = f"Summary {i}, edited"
    bad = f.loc[37, "Item ID"]
    f.loc[37, "Name"] = "A name Webflow refuses"
    ws.sb.set_faults(reject=[{"item_id": bad, "field": "name", "description": "Name is banned"}])
    out, patches = sync(ws, f)
    assert len(patches) <= 3, [p["items"] for p in patches]
    assert out["counts"] == {"updated": 99, "failed": 1, "unchanged": 800}
    live = ws.live(bad, LOCALE_EN)
    assert live["summary"] == "Summary 37, edited"  # its other field landed
    assert live["name"] == ws.frame.loc[37, "Name"]
    rows = read_rows(ws.dir / "r.xlsx")
    message = rows[rows["Outcome"] == "failed"].iloc[0]["Message"]
    assert "Webflow refused name" in message and "Name is banned" in message
    assert "other fields were written" in message


def test_every_variant_carries_the_refused_field(ws: Workspace) -> None:
    f = ws.frame.copy()
    for i in range(100):
        f.loc[i, "Summary"] = f"Summary {i}, edited"
    f.loc[61, "Name"] = "Renamed too"
    bad = f.loc[61, "Item ID"]
    ws.sb.set_faults(
        reject=[{"item_id": bad, "field": "summary", "description": "Summary is banned"}]
    )
    out, patches = sync(ws, f)
    assert len(patches) <= 9, [p["items"] for p in patches]  # 2 + ceil(log2(100))
    assert out["counts"] == {"updated": 99, "failed": 1, "unchanged": 800}
    live = ws.live(bad, LOCALE_EN)
    assert live["name"] == "Renamed too" and live["summary"] == ws.frame.loc[61, "Summary"]
    for i in (0, 60, 62, 99):
        assert ws.live(f.loc[i, "Item ID"], LOCALE_EN)["summary"] == f"Summary {i}, edited"
    # The refused field is not recorded as written: the next run sends it (alone) again.
    ws.sb.reset_faults()
    again = json.loads(ws.run("sync", ws.write_sheet(f), "-m", ws.mapping, "--json").stdout)
    assert again["counts"]["updated"] == 1 and again["write_requests"] == 1


def test_a_revert_leaves_the_refused_field_alone(ws: Workspace) -> None:
    f = ws.frame.copy()
    f.loc[3, "Summary"] = "edited"
    f.loc[3, "Name"] = "Refused name"
    item = f.loc[3, "Item ID"]
    ws.sb.set_faults(reject=[{"item_id": item, "field": "name", "description": "no"}])
    sync(ws, f)
    ws.sb.reset_faults()
    out = json.loads(ws.run("revert", "last", "-m", ws.mapping, "--json").stdout)
    assert out["counts"] == {"reverted": 1}, out  # the summary; the name never landed
    assert ws.live(item, LOCALE_EN)["summary"] == ws.frame.loc[3, "Summary"]

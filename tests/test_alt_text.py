"""Image alt text: kept when an image is replaced, read per locale from an ``alt:`` column,
written alone when only it changes, and put back by a revert; against the sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import Workspace, make_workspace

from csvsync.ops.demo import DEMO_TOKEN
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import LOCALE_DE, LOCALE_EN, LOCALE_FR
from csvsync.sheets.read import read_sheet


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000)) as sb:
        yield make_workspace(sb, tmp_path)


def alt_mapping(ws: Workspace) -> Path:
    text = ws.mapping.read_text(encoding="utf-8")
    assert "  image: Image\n" in text
    path = ws.dir / "alt.yaml"
    path.write_text(text.replace("  image: Image\n", "  image: {column: Image, alt: Image alt}\n"))
    return path


def run_json(ws: Workspace, *args: object) -> dict:
    res = ws.run(*[str(a) for a in args], "--json")
    assert res.exit_code in (0, 1), res.output
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_replacing_an_image_keeps_its_alt_text(ws: Workspace) -> None:
    item = ws.frame.loc[0, "Item ID"]
    before = ws.live(item, LOCALE_EN)["image"]
    assert before["alt"]  # the seed describes its images
    f = ws.frame.copy()
    f.loc[0, "Image"] = "https://images.example.com/a-new-photo.jpg"
    out = run_json(ws, "sync", ws.write_sheet(f), "-m", ws.mapping)
    assert out["counts"]["updated"] == 3
    for loc in (LOCALE_EN, LOCALE_FR, LOCALE_DE):
        after = ws.live(item, loc)["image"]
        assert after["alt"] == before["alt"] and after["url"] != before["url"]


def test_alt_text_per_locale_round_trips_and_changes_alone(ws: Workspace) -> None:
    m = alt_mapping(ws)
    out = ws.dir / "export.csv"
    res = ws.run("export", "-m", m, out)
    assert res.exit_code == 0, res.output
    sheet = read_sheet(out).frame.reset_index(drop=True).astype(object)
    assert {"Image alt", "Image alt [fr]", "Image alt [de]"} <= set(sheet.columns)
    item = ws.frame.loc[0, "Item ID"]
    at = int(sheet.index[sheet["Item ID"] == item][0])
    assert sheet.loc[at, "Image alt"] == ws.live(item, LOCALE_EN)["image"]["alt"]
    assert run_json(ws, "plan", out, "-m", m)["counts"] == {"unchanged": 900}
    sheet.loc[at, "Image alt [fr]"] = "Une chaise, vue de face"
    edited = ws.write_sheet(sheet, "edited.csv")
    ws.sb.clear_log()
    synced = run_json(ws, "sync", edited, "-m", m)
    assert synced["counts"]["updated"] == 1 and synced["write_requests"] == 1
    fr, en = ws.live(item, LOCALE_FR)["image"], ws.live(item, LOCALE_EN)["image"]
    assert fr["alt"] == "Une chaise, vue de face" and fr["url"] == en["url"]
    assert en["alt"] == sheet.loc[at, "Image alt"]
    assert run_json(ws, "sync", edited, "-m", m)["write_requests"] == 0
    reverted = run_json(ws, "revert", "last", "-m", m)
    assert reverted["exit_code"] == 0, reverted
    assert ws.live(item, LOCALE_FR)["image"]["alt"] == sheet.loc[at, "Image alt"]


def test_alt_is_refused_on_a_field_that_is_not_an_image(ws: Workspace) -> None:
    text = ws.mapping.read_text(encoding="utf-8").replace(
        "  website: Website\n", "  website: {column: Website, alt: Website alt}\n"
    )
    m = ws.dir / "bad.yaml"
    m.write_text(text)
    res = ws.run("plan", ws.write_sheet(), "-m", m)
    assert res.exit_code == 2 and "alt: is for Image fields; 'website' is not one" in res.stderr

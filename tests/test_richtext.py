"""RichText compared in canonical form: what editors paste is written once, and a re-run after
the write finds nothing to send, whatever the sandbox (like Webflow) stored of it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from richtext_corpus import CORPUS
from support import Workspace, make_workspace

from csvsync.convert.richtext import canonical_html
from csvsync.ops.demo import DEMO_TOKEN
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.richtext import stored_rich_text
from csvsync.sandbox.seed import LOCALE_EN


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000)) as sb:
        yield make_workspace(sb, tmp_path)


def run_json(ws: Workspace, *args: object) -> dict:
    res = ws.run(*[str(a) for a in args], "--json")
    assert res.exit_code in (0, 1), res.output
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_every_pasted_shape_is_written_once(ws: Workspace) -> None:
    f = ws.frame.copy()
    for n, html in enumerate(CORPUS.values()):
        f.loc[n, "Description"] = html
    sheet = ws.write_sheet(f)
    first = run_json(ws, "sync", sheet, "-m", ws.mapping)
    assert first["counts"]["updated"] == len(CORPUS), first
    ws.sb.clear_log()
    again = run_json(ws, "sync", sheet, "-m", ws.mapping)
    assert again["write_requests"] == 0 and again["counts"] == {"unchanged": 900}, again
    code = ws.live(f.loc[list(CORPUS).index("code-block"), "Item ID"], LOCALE_EN)
    assert "pip install" not in code["description"]  # Webflow empties code blocks


def test_a_real_change_in_pasted_html_is_still_a_change(ws: Workspace) -> None:
    f = ws.frame.copy()
    f.loc[0, "Description"] = CORPUS["word"]
    run_json(ws, "sync", ws.write_sheet(f), "-m", ws.mapping)
    f.loc[0, "Description"] = CORPUS["word"].replace("A sturdy chair", "A sturdier chair")
    out = run_json(ws, "sync", ws.write_sheet(f), "-m", ws.mapping)
    assert out["counts"]["updated"] == 1
    assert "A sturdier chair" in ws.live(f.loc[0, "Item ID"], LOCALE_EN)["description"]


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_what_the_sandbox_stores_compares_equal(name: str) -> None:
    html = CORPUS[name]
    assert canonical_html(stored_rich_text(html)) == canonical_html(html)
    assert canonical_html(canonical_html(html)) == canonical_html(html)


def test_a_space_next_to_inline_markup_counts() -> None:
    assert canonical_html("<p>Hello <b>world</b></p>") != canonical_html("<p>Hello<b>world</b></p>")
    assert canonical_html("<p>a</p> <p>b</p>") == canonical_html("<p>a</p><p>b</p>")


_PIECES = st.sampled_from(
    ["<p>", "</p>", "<P>", "<br/>", "<br>", "<b>", "</b>", "<pre>", "</pre>", "<code>",
     "</code>", "<!-- x -->", "<span style='a'>", "</span>", "&amp;", "&nbsp;", " ", "  ",
     "\n", "text", "Ünï", "<o:p>", "</o:p>", '<a href="u">', "</a>"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=25).map("".join))
def test_the_stored_form_never_reads_as_a_change(html: str) -> None:
    assert canonical_html(stored_rich_text(html)) == canonical_html(html)

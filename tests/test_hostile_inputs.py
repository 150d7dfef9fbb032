"""Hostile mappings, environments and exit-code edges (issue 12): one line, the right code.

Each case runs through the CLI against the demo sandbox with the harness of ``tests/hostile.py``:
one ``Error:`` line on stderr, no traceback, the documented exit code, nothing sent, nothing
left half-written, the token nowhere.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile import Case, Setup, assert_no_token, check
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import Workspace, make_workspace

from csvsync.errors import MappingError
from csvsync.mapping.yamlload import load_yaml
from csvsync.sandbox import Sandbox, SandboxOptions

HEAD = (
    "site: 64f0c0ffee0000000000aaaa\ncollection: 64f0c0ffee0000000000bbbb\nkey: {column: Item ID}\n"
)
PLAN = ("plan", "{sheet}", "-m", "{dir}/m.yaml")
SYNC = ("sync", "{sheet}", "-m", "{dir}/m.yaml")


def mapping(text: str) -> Setup:
    def setup(ws: Workspace) -> dict[str, str]:
        ws.write_sheet(name="sheet.csv")
        (ws.dir / "m.yaml").write_text(text, encoding="utf-8")
        return {}

    return setup


def files(**contents: bytes | str) -> Setup:
    """The demo mapping as m.yaml, the unedited sheet, and the given extra files."""

    def setup(ws: Workspace) -> dict[str, str]:
        ws.write_sheet(name="sheet.csv")
        (ws.dir / "m.yaml").write_text(ws.mapping.read_text(encoding="utf-8"), encoding="utf-8")
        for name, data in contents.items():
            path = ws.dir / name.replace("__", ".")
            if isinstance(data, bytes):
                path.write_bytes(data)
            else:
                path.write_text(data, encoding="utf-8")
            if path.suffix == ".token":
                path.chmod(0o600)
        return {}

    return setup


def edited_sheet(ws: Workspace) -> None:
    """The sheet with one price changed, so that a sync has something to send."""
    frame = ws.frame.copy()
    frame.loc[0, "Price"] = 1234.5
    ws.write_sheet(frame, name="sheet.csv")
    (ws.dir / "m.yaml").write_text(ws.mapping.read_text(encoding="utf-8"), encoding="utf-8")


# Nine lines of nine aliases: 72 aliases, under the alias count's bound, expanding to 9^9 values.
ALIAS_BOMB = (
    HEAD
    + "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
)
MANY_ALIASES = HEAD + "a: &a x\nb: [" + ", ".join(["*a"] * 101) + "]\n"
DEEP = HEAD + "locales: {en: '{column}'}\nfields:\n  name: " + "[" * 5000 + "]" * 5000 + "\n"
NAME = "fields:\n  name: {column: Name, localized: true}\n"

CASES = [
    # -- mappings --------------------------------------------------------------------------------
    Case(
        "no locales key",
        PLAN,
        mapping(HEAD + "fields:\n  price: Price\n"),
        0,
        "",
    ),
    Case(
        "pattern with another placeholder",
        PLAN,
        mapping(HEAD + "locales: {en: '{column}', fr: '{column} {fr}'}\n" + NAME),
        2,
        "has {fr}; only {column} is replaced",
    ),
    Case(
        "pattern with a positional placeholder",
        PLAN,
        mapping(HEAD + "locales: {en: '{column}', fr: '{column} {0}'}\n" + NAME),
        2,
        "has {0}",
    ),
    Case(
        "pattern with a format spec that builds a huge string",
        PLAN,
        mapping(HEAD + "locales: {en: '{column}', fr: '{column:>400000000}'}\n" + NAME),
        2,
        "{column:>400000000}",
    ),
    Case(
        "pattern with a conversion",
        PLAN,
        mapping(HEAD + "locales: {en: '{column}', fr: '{column!r}'}\n" + NAME),
        2,
        "{column!r}",
    ),
    Case(
        "pattern with a lone brace",
        PLAN,
        mapping(HEAD + "locales: {en: '{column}', fr: '{column} }'}\n" + NAME),
        2,
        "Single '}'",
    ),
    Case(
        "pattern without {column}",
        PLAN,
        mapping(HEAD + "locales: {en: '{column}', fr: 'Name fr'}\n" + NAME),
        2,
        "must contain {column}",
    ),
    Case(
        "date_format with a bad directive",
        PLAN,
        mapping(
            HEAD + "locales: {en: '{column}'}\nfields:\n"
            "  launch-date: {column: Launch date, date_format: '%Q %d'}\n"
        ),
        2,
        "date_format '%Q %d' is not a strptime pattern",
    ),
    Case("YAML alias bomb", PLAN, mapping(ALIAS_BOMB), 2, "expand this mapping past 100,000"),
    Case("101 YAML aliases", PLAN, mapping(MANY_ALIASES), 2, "more than 100 YAML aliases"),
    Case("5,000 levels of nesting", PLAN, mapping(DEEP), 2, "nested more than 32 levels"),
    Case(
        "flow mapping with brackets unquoted",
        PLAN,
        mapping(HEAD + "locales: {en: '{column}'}\nfields:\n  name: {column: Name [fr]}\n"),
        2,
        'quote the value, e.g. {column: "Name [fr]"}',
    ),
    Case(
        "mapping file of 2 MB",
        PLAN,
        mapping(HEAD + "#" * (2 << 20) + "\n"),
        2,
        "too large for a mapping",
    ),
    Case("mapping not UTF-8", PLAN, files(m__yaml=b"site: \xff\xfe\n"), 2, "not UTF-8 text"),
    Case("mapping is a list", PLAN, mapping("- a\n- b\n"), 2, "m.yaml"),
    Case(
        "mapping with a YAML tag",
        PLAN,
        mapping(HEAD + "x: !!python/object:os.system ls\n"),
        2,
        "m.yaml",
    ),
    # -- environment -----------------------------------------------------------------------------
    Case(
        "token file not UTF-8",
        (*PLAN, "--token-file", "{dir}/t.token"),
        files(t__token=b"\xff\xfe\x00t\x00o\x00k"),
        2,
        "the token file is not UTF-8 text",
        env={"WEBFLOW_API_TOKEN": ""},
    ),
    Case(
        "token with a non-ASCII character",
        PLAN,
        files(),
        2,
        "WEBFLOW_API_TOKEN: the token has a character no API token has (position 9)",
        env={"WEBFLOW_API_TOKEN": "sandbox-\u00e9token"},
    ),
    Case(
        "token with a line break in a file",
        (*PLAN, "--token-file", "{dir}/t.token"),
        files(t__token="sandbox\ntoken\n"),
        2,
        "position 8",
        env={"WEBFLOW_API_TOKEN": ""},
    ),
    Case(
        "token file missing",
        (*PLAN, "--token-file", "{dir}/none.token"),
        files(),
        2,
        "cannot read token file",
    ),
    Case("no token at all", PLAN, files(), 2, "no API token", env={"WEBFLOW_API_TOKEN": ""}),
    # -- results workbook: found out before anything is sent ------------------------------------
    Case(
        "results folder missing",
        (*SYNC, "--results", "{dir}/no/such/r.xlsx"),
        lambda ws: edited_sheet(ws),
        2,
        "the folder",
    ),
    Case(
        "results path is a folder",
        (*SYNC, "--results", "{dir}"),
        lambda ws: edited_sheet(ws),
        2,
        "is a directory",
    ),
]


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with Sandbox(SandboxOptions(seed="demo")) as sb:
        yield make_workspace(sb, tmp_path)


@pytest.mark.parametrize("case", [c for c in CASES if c.exit_code], ids=str)
def test_hostile_input_gets_one_line(ws: Workspace, case: Case) -> None:
    check(ws, case)


def test_a_mapping_without_locales_reads_the_bare_columns(ws: Workspace) -> None:
    """A plausible minimal mapping (a KeyError before): the primary locale, bare column names."""
    [case] = [c for c in CASES if c.id == "no locales key"]
    case.setup(ws)
    result = ws.run("plan", ws.dir / "sheet.csv", "-m", ws.dir / "m.yaml", "--json")
    assert result.exit_code == 0, result.output
    assert '"unchanged": 300' in result.stdout


def test_a_read_only_sheet_folder_is_refused_before_anything_is_sent(ws: Workspace) -> None:
    if os.geteuid() == 0:
        # root writes anywhere: make the folder unwritable in a way root feels, a file in
        # place of the workbook's folder.
        edited_sheet(ws)
        (ws.dir / "blocked").write_text("a file, not a folder")
        case = Case("results folder is a file", (*SYNC, "--results", "{dir}/blocked/r.xlsx"),
                    lambda _ws: None, 2, "does not exist")  # fmt: skip
    else:
        edited_sheet(ws)
        (ws.dir / "ro").mkdir()
        (ws.dir / "ro").chmod(0o500)
        case = Case("read-only folder", (*SYNC, "--results", "{dir}/ro/r.xlsx"),
                    lambda _ws: None, 2, "cannot write")  # fmt: skip
    check(ws, case)


def test_a_workbook_that_fails_after_the_push_goes_to_a_fallback_and_exits_4(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    edited_sheet(ws)
    from csvsync.ops import sync as ops_sync

    real = ops_sync.write_results
    target = ws.dir / "r.xlsx"

    def fails_where_asked(path: Path, *args: object) -> Path:
        if Path(path) == target:  # the disk filled up between the check and the write
            from csvsync.errors import ConfigError

            raise ConfigError(f"cannot write the results workbook {path}: No space left")
        return real(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(ops_sync, "write_results", fails_where_asked)
    result = ws.run("sync", ws.dir / "sheet.csv", "-m", ws.dir / "m.yaml", "--results", target,
                    "--json")  # fmt: skip
    assert result.exit_code == 4, result.output
    assert len(ws.writes()) == 1  # the change landed
    summary = __import__("json").loads(result.stdout)
    fallback = Path(summary["results"])
    assert fallback.exists() and fallback.parent.name == "results"
    assert (
        "No space left" in summary["workbook_error"] and str(fallback) in summary["workbook_error"]
    )


def test_an_internal_error_before_writing_exits_2_with_one_line(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    edited_sheet(ws)
    from csvsync.pipeline import diff

    def bug(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(diff, "compute", bug)
    result = ws.run("sync", ws.dir / "sheet.csv", "-m", ws.dir / "m.yaml", "--quiet")
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: internal error before anything was sent: ZeroDivisionError")
    assert "please report it" in line and "--debug" in line
    assert "Traceback" not in result.output and ws.writes() == []
    debug = ws.run("--debug", "sync", ws.dir / "sheet.csv", "-m", ws.dir / "m.yaml", "--quiet")
    assert debug.exit_code == 2 and "Traceback" in debug.stderr and "a bug" in debug.stderr


def test_an_internal_error_after_writing_exits_4(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    edited_sheet(ws)
    from csvsync.ops import sync as ops_sync

    def bug(*args: object, **kwargs: object) -> None:
        raise KeyError("after the push")

    monkeypatch.setattr(ops_sync, "build_report", bug)
    result = ws.run("sync", ws.dir / "sheet.csv", "-m", ws.dir / "m.yaml", "--quiet")
    assert result.exit_code == 4, result.output
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: internal error after the first write request: KeyError")
    assert len(ws.writes()) == 1


def test_demo_exits_with_its_runs_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from csvsync.cli import cli
    from csvsync.ops import demo

    monkeypatch.setattr(demo, "run_demo", lambda *a: 1)
    assert CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path)]).exit_code == 1


@pytest.mark.slow
def test_sigint_during_pull_exits_130_and_keeps_the_cache(tmp_path: Path) -> None:
    with Sandbox(SandboxOptions(seed="demo")) as sb:
        ws = make_workspace(sb, tmp_path)
        sb.set_faults(latency=0.4)  # each page takes a while: the pull is under way for seconds
        sb.clear_log()  # the workspace's own reads are not the pull's
        env = {**os.environ, **ws.env}
        proc = subprocess.Popen(
            [sys.executable, "-m", "csvsync", "pull", "-m", str(ws.mapping), "--quiet"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while not any("/items/live" in e["path"] for e in sb.log()):
            assert time.monotonic() < deadline and proc.poll() is None, "the pull never started"
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: interrupted"), err
    assert "Traceback" not in out + err
    assert_no_token(tmp_path, out + err)


# -- property: the mapping loader gives a value or a MappingError, nothing else -----------------

YAML_TEXT = st.text(
    alphabet=st.sampled_from([*list("abc:{}[],-&*!|>'\"#\n \t%@`?0"), "é", "\x00", "\ufeff"]),
    max_size=200,
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=YAML_TEXT)
def test_the_yaml_loader_never_raises_anything_else(tmp_path: Path, text: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    with contextlib.suppress(MappingError):
        load_yaml(path)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pattern=st.text(alphabet=st.sampled_from(list("{}column:!r0 >[]fr")), max_size=30),
    extra=st.text(max_size=40),
)
def test_the_mapping_parser_never_raises_anything_else(
    tmp_path: Path, pattern: str, extra: str
) -> None:
    from csvsync.mapping.mapping import load_mapping

    path = tmp_path / "m.yaml"
    body = HEAD + f"locales: {{en: '{{column}}', fr: {pattern!r}}}\n" + NAME + extra
    path.write_text(body.replace("\x00", ""), encoding="utf-8", errors="surrogatepass")
    with contextlib.suppress(MappingError):
        load_mapping(path)


# The hostile-input corpus: the whole suite (CI) runs it; the fast tier leaves it out.
pytestmark = pytest.mark.slow

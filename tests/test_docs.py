"""The documentation keeps up with the CLI, and its links and file references point somewhere.

In the way sqlite-utils' ``tests/test_docs.py`` does it, the click group is walked rather than
listed here, so a new command, option or argument fails these tests until it is documented:

- every command appears as ``csvsync <command>`` in README.md or a file in docs/, and has a
  section of its own in docs/commands.md (a heading ``## csvsync <command>``);
- every option of every command (``-h``/``--help`` excepted) is named, by each of its names, in
  **its command's section** of docs/commands.md. This is the stronger of the two possible rules
  ("documented near its command", not "mentioned anywhere"): a reader of one section sees every
  option the command takes. Options that several commands share (the connection, sheet and
  output groups) are explained once further down that page, but each command's section still
  names them, so an option added to a group fails for every command that takes it;
- every argument (SHEET, OUT, TARGET) is named in its command's section and in its help text
  (click arguments have no help of their own);
- every command and every option has a non-empty help text, and ``--help`` works for each;
- every relative link in the project's Markdown files (``[..](docs/x.md)``, ``#anchors`` too),
  every backticked path into docs/, csvsync/, tests/, bench/ or scripts/ in them, and every such
  path cited in the package's docstrings and comments, points at a file that exists.

A failure names the command and option (parametrize ids such as ``sync:--max-in-flight``).
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from csvsync.cli import cli

ROOT = Path(__file__).resolve().parent.parent
COMMANDS_MD = ROOT / "docs" / "commands.md"
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKDOWN_FILES = [*DOC_FILES, *sorted((ROOT / "bench").glob("*.md"))]
PACKAGE_FILES = sorted((ROOT / "csvsync").rglob("*.py"))
HELP_NAMES = {"-h", "--help"}

COMMANDS: list[tuple[str, click.Command]] = sorted(cli.commands.items())


def _options(command: click.Command) -> list[click.Option]:
    return [
        p
        for p in command.params
        if isinstance(p, click.Option) and not p.hidden and not set(p.opts) & HELP_NAMES
    ]


def _names(option: click.Option) -> list[str]:
    """Every spelling of an option: ``-m``, ``--mapping`` (and ``--no-x`` for a flag pair)."""
    return [*option.opts, *option.secondary_opts]


def _long_name(option: click.Option) -> str:
    return next((n for n in _names(option) if n.startswith("--")), _names(option)[0])


OPTIONS = [(name, option) for name, command in COMMANDS for option in _options(command)]
OPTION_IDS = [f"{name}:{_long_name(option)}" for name, option in OPTIONS]
ARGUMENTS = [
    (name, command, p)
    for name, command in COMMANDS
    for p in command.params
    if isinstance(p, click.Argument)
]
ARGUMENT_IDS = [f"{name}:{p.human_readable_name}" for name, _, p in ARGUMENTS]


def _mentions(text: str, name: str) -> bool:
    """``name`` (an option such as ``--sheet``) as a word of its own: not ``--sheet-name``."""
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) is not None


def _sections(text: str) -> dict[str, str]:
    """``## `` heading -> the text up to the next ``## `` heading (code blocks are skipped)."""
    out: dict[str, str] = {}
    current: str | None = None
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            current = line[3:].strip()
            out[current] = ""
        elif current is not None:
            out[current] += line + "\n"
    return out


@pytest.fixture(scope="module")
def all_docs() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in DOC_FILES)


@pytest.fixture(scope="module")
def command_sections() -> dict[str, str]:
    # A missing page fails every test that needs it, each naming its command and option.
    text = COMMANDS_MD.read_text(encoding="utf-8") if COMMANDS_MD.exists() else ""
    sections = _sections(text)
    return {
        heading.removeprefix("csvsync ").strip("`"): text
        for heading, text in sections.items()
        if heading.startswith("csvsync ")
    }


def test_the_cli_has_commands_and_options() -> None:
    # A test of the walk itself: an empty parametrization would pass silently.
    assert {"pull", "plan", "sync", "init", "export", "revert", "sandbox", "demo"} <= set(
        cli.commands
    )
    assert "sync:--max-in-flight" in OPTION_IDS and "plan:SHEET" in ARGUMENT_IDS


# -- (a) commands --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [name for name, _ in COMMANDS])
def test_command_is_documented(name: str, all_docs: str) -> None:
    assert re.search(rf"csvsync {re.escape(name)}\b", all_docs), (
        f"`csvsync {name}` appears neither in README.md nor in docs/"
    )


@pytest.mark.parametrize("name", [name for name, _ in COMMANDS])
def test_command_has_a_section(name: str, command_sections: dict[str, str]) -> None:
    assert name in command_sections, f"docs/commands.md has no '## csvsync {name}' section"


def test_every_section_is_a_command(command_sections: dict[str, str]) -> None:
    assert set(command_sections) <= set(cli.commands), "a section for a command that is gone"


# -- (b) options and arguments, near their command -----------------------------------------------


@pytest.mark.parametrize(("name", "option"), OPTIONS, ids=OPTION_IDS)
def test_option_is_documented_in_its_commands_section(
    name: str, option: click.Option, command_sections: dict[str, str]
) -> None:
    section = command_sections.get(name, "")
    missing = [n for n in _names(option) if not _mentions(section, n)]
    assert not missing, f"docs/commands.md, section 'csvsync {name}', does not name {missing}"


@pytest.mark.parametrize(("name", "command", "argument"), ARGUMENTS, ids=ARGUMENT_IDS)
def test_argument_is_documented(
    name: str,
    command: click.Command,
    argument: click.Argument,
    command_sections: dict[str, str],
) -> None:
    word = argument.human_readable_name
    assert re.search(rf"\b{word}\b", command_sections.get(name, "")), (
        f"docs/commands.md, section 'csvsync {name}', does not name {word}"
    )
    assert re.search(rf"\b{word}\b", command.help or ""), f"`csvsync {name} --help` omits {word}"


def test_group_options_are_documented() -> None:
    text = COMMANDS_MD.read_text(encoding="utf-8") if COMMANDS_MD.exists() else ""
    for option in cli.params:
        if isinstance(option, click.Option) and not set(option.opts) & HELP_NAMES:
            assert _mentions(text, _long_name(option)), _long_name(option)
            assert (option.help or "").strip(), _long_name(option)


# -- (c) help texts ------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[name for name, _ in COMMANDS])
def test_command_has_help(name: str, command: click.Command) -> None:
    assert (command.help or "").strip(), f"`csvsync {name}` has no help text (its docstring)"


@pytest.mark.parametrize(("name", "option"), OPTIONS, ids=OPTION_IDS)
def test_option_has_help(name: str, option: click.Option) -> None:
    assert (option.help or "").strip(), f"`csvsync {name} {_long_name(option)}` has no help text"


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[name for name, _ in COMMANDS])
def test_help_lists_every_option(name: str, command: click.Command) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    for option in _options(command):
        assert _long_name(option) in result.output


# -- (d) links and file references ---------------------------------------------------------------

_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_PATH = r"(?:csvsync|tests|bench|scripts|docs)/[\w./-]*\w"
_BACKTICKED_PATH = re.compile(rf"`((?:\.\./)?{_PATH})`")
_CITED_PATH = re.compile(rf"(?<![\w./-])({_PATH})")


def _outside_code_blocks(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = _outside_code_blocks(path.read_text(encoding="utf-8"))
    return {_anchor(m.group(1)) for m in re.finditer(r"^#+\s+(.+?)\s*#*$", text, flags=re.M)}


def _links() -> list[tuple[Path, str]]:
    out = []
    for path in MARKDOWN_FILES:
        text = _outside_code_blocks(path.read_text(encoding="utf-8"))
        for m in _LINK.finditer(text):
            target = m.group(1)
            if not re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: ...
                out.append((path, target))
    return out


def _mentioned_paths() -> list[tuple[Path, str]]:
    out = []
    for path in MARKDOWN_FILES:
        for m in _BACKTICKED_PATH.finditer(path.read_text(encoding="utf-8")):
            out.append((path, m.group(1)))
    return out


def _cited_paths() -> list[tuple[Path, str]]:
    return [
        (path, m.group(1))
        for path in PACKAGE_FILES
        for m in _CITED_PATH.finditer(path.read_text(encoding="utf-8"))
    ]


def _where(path: Path) -> str:
    return str(path.relative_to(ROOT))


LINKS = _links()
MENTIONED = _mentioned_paths()
CITED = _cited_paths()


def test_the_reference_walk_finds_references() -> None:
    # A test of the walk: links, mentions and citations are found, anchors are GitHub's.
    assert any(_where(p) == "README.md" and t.startswith("docs/") for p, t in LINKS)
    assert any(t.startswith("docs/") for _, t in MENTIONED)
    assert any(_where(p).startswith("csvsync/") and t.startswith("docs/") for p, t in CITED)
    assert _anchor("csvsync sync") == "csvsync-sync"
    assert _anchor("Field types: what a cell may hold, what is sent") == (
        "field-types-what-a-cell-may-hold-what-is-sent"
    )


@pytest.mark.parametrize(("source", "target"), LINKS, ids=[f"{_where(p)}->{t}" for p, t in LINKS])
def test_relative_link_points_at_a_file(source: Path, target: str) -> None:
    file_part, _, fragment = target.partition("#")
    path = (source.parent / file_part).resolve() if file_part else source
    assert path.exists(), f"{_where(source)}: link to {target}: no such file"
    if fragment and path.suffix == ".md":
        assert fragment in _anchors(path), f"{_where(source)}: link to {target}: no such heading"


@pytest.mark.parametrize(
    ("source", "target"), MENTIONED, ids=[f"{_where(p)}:{t}" for p, t in MENTIONED]
)
def test_mentioned_path_exists(source: Path, target: str) -> None:
    # Backticked paths are written from the project root (`docs/mapping.md`), or relative to
    # the file when they start with ../ (bench/README.md).
    base = source.parent if target.startswith("../") else ROOT
    assert (base / target).exists(), f"{_where(source)} mentions {target}: no such file"


@pytest.mark.parametrize(("source", "target"), CITED, ids=[f"{_where(p)}:{t}" for p, t in CITED])
def test_path_cited_in_the_package_exists(source: Path, target: str) -> None:
    assert (ROOT / target).exists(), f"{_where(source)} cites {target}: no such file"

"""The house's layering rule holds for csvsync, and the checker catches what it must."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from layering import RANKS, check, confined_imports

PACKAGE = Path(__file__).resolve().parent.parent / "csvsync"


def test_csvsync_imports_only_go_down_and_have_no_cycle() -> None:
    assert check(PACKAGE) == []


def test_every_room_of_the_package_has_a_rank() -> None:
    rooms = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()}
    rooms = {r for r in rooms if not r.startswith(("_", ".")) and r != "py"} - {"sandbox"}
    assert rooms <= set(RANKS), rooms - set(RANKS)


def _fixture(tmp_path: Path, files: dict[str, str]) -> Path:
    pkg = tmp_path / "csvsync"
    for name, text in files.items():
        path = pkg / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return pkg


def test_an_upward_import_at_module_level_and_inside_a_function_fail(tmp_path: Path) -> None:
    pkg = _fixture(
        tmp_path,
        {
            "__init__.py": "",
            "errors.py": "",
            "pipeline/__init__.py": "",
            "pipeline/diff.py": "from csvsync.ops.sync import run\n",
            "sheets/__init__.py": "",
            "sheets/read.py": """\
                def read():
                    from ..cli import main  # relative, and inside a function
                    return main
            """,
            "ops/__init__.py": "",
            "ops/sync.py": "from csvsync.pipeline import diff\nfrom csvsync import errors\n",
            "cli/__init__.py": "def main(): ...\n",
        },
    )
    problems = check(pkg)
    assert any(
        p.startswith("csvsync/pipeline/diff.py:1: pipeline") and "csvsync.ops.sync" in p
        for p in problems
    ), problems
    assert any(p.startswith("csvsync/sheets/read.py:2: sheets") for p in problems), problems
    assert not any("ops/sync.py" in p for p in problems)  # downward imports are fine


def test_a_cycle_inside_a_room_fails(tmp_path: Path) -> None:
    pkg = _fixture(
        tmp_path,
        {
            "__init__.py": "",
            "cli/__init__.py": "from csvsync.cli import editor\n",
            "cli/editor.py": "from csvsync.cli import common\n",
            "cli/common.py": "import csvsync.cli.editor\n",
        },
    )
    [problem] = check(pkg)
    assert problem.startswith("import cycle: ") and "csvsync.cli.common" in problem
    assert "csvsync.cli.editor" in problem


def test_the_sandbox_imports_nothing_from_the_product(tmp_path: Path) -> None:
    pkg = _fixture(
        tmp_path,
        {
            "__init__.py": "",
            "errors.py": "",
            "sandbox/__init__.py": "from csvsync.errors import X\n",
            "pipeline/__init__.py": "import csvsync.sandbox\n",
        },
    )
    problems = check(pkg)
    assert len(problems) == 2, problems
    assert (
        "sandbox imports only itself" in problems[0] or "sandbox imports only itself" in problems[1]
    )


def test_importing_the_cli_loads_neither_pandas_nor_numpy() -> None:
    code = (
        "import sys, csvsync.cli; assert 'pandas' not in sys.modules and 'numpy' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_sql_http_terminal_and_click_each_stay_in_their_room() -> None:
    assert confined_imports(PACKAGE) == []


def test_a_confined_library_outside_its_room_fails(tmp_path: Path) -> None:
    pkg = _fixture(
        tmp_path,
        {
            "__init__.py": "",
            "ops/__init__.py": "",
            "ops/sync.py": "def f():\n    import sqlite3\n",
            "pipeline/__init__.py": "import requests.adapters\n",
            "state/__init__.py": "import sqlite3\n",
            "sandbox/__init__.py": "import sqlite3\n",
        },
    )
    assert confined_imports(pkg) == [
        "csvsync/ops/sync.py:2: imports sqlite3 (only state)",
        "csvsync/pipeline/__init__.py:1: imports requests (only webflow)",
    ]

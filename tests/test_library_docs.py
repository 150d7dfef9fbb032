"""docs/library.md's examples run, in order, as a program would run them: against the sandbox."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "library.md"


def code_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_the_doc_has_an_example_per_operation() -> None:
    text = "\n".join(code_blocks(DOC.read_text(encoding="utf-8")))
    for call in ("plan(", "sync(", "pull(", "build_plan(", "apply_plan(", "export(", "revert("):
        assert call in text, f"docs/library.md has no example calling {call}"


def test_the_examples_run_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for folder in ("sample_data", "mappings"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "library_example"}
    out = io.StringIO()
    try:
        for n, block in enumerate(code_blocks(DOC.read_text(encoding="utf-8")), 1):
            with contextlib.redirect_stdout(out):
                exec(compile(block, f"docs/library.md block {n}", "exec"), namespace)
    finally:
        sandbox = namespace.get("sandbox")
        if sandbox is not None:
            sandbox.stop()  # type: ignore[attr-defined]
    printed = out.getvalue()
    # What the examples say they show, shown for real:
    assert "would update" in printed
    assert "'reverted': " in printed
    assert "missing.xlsx" in printed
    done = namespace["done"]
    assert done.counts == {"reverted": 1}  # type: ignore[attr-defined]

"""The layering rule of csvsync's house, as code: which package may import which.

Each top-level room of the package has a rank; a module may import only from rooms of a lower
rank, or from its own room (without a cycle). ``sandbox`` stands apart: it imports nothing from
the product, and only ``ops`` (the demo) and the tests use it. ``check`` walks a package with
``ast`` (imports at module level, inside functions and under ``TYPE_CHECKING`` alike) and returns
one line per violation, so ``tests/test_layering.py`` can run it on csvsync and on a fixture.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

RANKS: dict[str, int] = {
    "errors": 0,
    "outcomes": 0,
    "models": 0,
    "options": 1,
    "convert": 2,
    "sheets": 3,
    "mapping": 4,
    "pipeline": 5,
    "state": 6,
    "webflow": 7,
    "ops": 8,
    "console": 9,
    # The editor's page is a shell like the CLI; ``csvsync serve`` (cli) starts it, so it sits
    # just below the CLI.
    "web": 10,
    "cli": 11,
    "__main__": 12,
}
# Rooms that may be imported from any room (the package's own version string lives here).
ROOT_NAMES = {"__version__"}
# The emulator is product-free: it may import only itself; only these rooms may import it.
ISOLATED = {"sandbox": {"ops", "cli"}}


def _room(module: str, top: str) -> str | None:
    parts = module.split(".")
    if parts[0] != top:
        return None
    return parts[1] if len(parts) > 1 else ""


def _imports(path: Path, module: str) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) per import; ``names`` are what ``from module import ...`` takes."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str, list[str]]] = []
    is_pkg = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, a.name, []) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_pkg else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((node.lineno, target, [a.name for a in node.names]))
    return found


def module_graph(package: Path) -> dict[str, list[tuple[int, str]]]:
    """Module name -> (line, imported module) for every import of the package's own modules.

    ``from pkg import name`` counts as importing ``pkg.name`` when that is a module (a
    submodule import), else as importing ``pkg`` itself."""
    top = package.name
    paths: dict[str, Path] = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        paths[".".join(parts)] = path
    graph: dict[str, list[tuple[int, str]]] = {}
    for name, path in paths.items():
        edges: list[tuple[int, str]] = []
        for line, target, names in _imports(path, name):
            if target.split(".")[0] != top:
                continue
            subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in paths]
            rest = [n for n in names if f"{target}.{n}" not in paths and n not in ROOT_NAMES]
            edges.extend((line, s) for s in subs)
            if rest or not names:
                edges.append((line, target))
        graph[name] = edges
    return graph


def check(package: Path, ranks: Mapping[str, int] = RANKS) -> list[str]:
    """Every upward import, import of an unknown room, and cycle in ``package``, one line each."""
    top = package.name
    graph = module_graph(package)
    problems: list[str] = []
    for mod, targets in graph.items():
        src = _room(mod, top)
        for line, target in targets:
            dst = _room(target, top)
            if src is None or dst is None or dst == "" or src == "" or src == dst:
                continue
            where = f"{mod.replace('.', '/')}.py:{line}"
            if src in ISOLATED:
                problems.append(f"{where}: {src} imports {target} ({src} imports only itself)")
            elif dst in ISOLATED:
                if src not in ISOLATED[dst]:
                    problems.append(f"{where}: {src} imports {target} (only ops and cli may)")
            elif src not in ranks or dst not in ranks:
                unknown = src if src not in ranks else dst
                problems.append(f"{where}: '{unknown}' is not a room of the house")
            elif ranks[dst] >= ranks[src]:
                problems.append(
                    f"{where}: {src} (rank {ranks[src]}) imports {target} (rank {ranks[dst]})"
                )
    problems.extend(_cycles(graph))
    return problems


def _cycles(graph: dict[str, list[tuple[int, str]]]) -> list[str]:
    edges = {m: sorted({t for _, t in ts if t in graph and t != m}) for m, ts in graph.items()}
    seen: set[str] = set()
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[str] = []

    def visit(node: str) -> None:
        seen.add(node)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges[node]:
            if nxt in on_stack:
                cycle = [*stack[stack.index(nxt) :], nxt]
                found.append("import cycle: " + " -> ".join(cycle))
            elif nxt not in seen:
                visit(nxt)
        stack.pop()
        on_stack.discard(node)

    for node in sorted(edges):
        if node not in seen:
            visit(node)
    return found


# Libraries that belong to one room: the rule that keeps SQL in state/, HTTP in webflow/, the
# terminal in console/ and click in cli/. The sandbox is apart and may use what it needs.
CONFINED: dict[str, set[str]] = {
    "sqlite3": {"state"},
    "requests": {"webflow"},
    "urllib3": {"webflow"},
    "click": {"cli"},
    "rich": {"console"},
    "starlette": {"web"},
    "jinja2": {"web"},
    "uvicorn": {"web"},
}


def confined_imports(package: Path, confined: Mapping[str, set[str]] = CONFINED) -> list[str]:
    """Every import of a confined library outside its rooms, one line each."""
    top = package.name
    problems: list[str] = []
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        room = parts[1] if len(parts) > 1 else ""
        room = room if room != "__init__" else ""
        if room in ISOLATED:
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        for line, target, _ in _imports(path, name):
            lib = target.split(".")[0]
            if lib != top and lib in confined and room not in confined[lib]:
                where = f"{'/'.join(parts)}.py:{line}"
                problems.append(f"{where}: imports {lib} (only {', '.join(sorted(confined[lib]))})")
    return problems

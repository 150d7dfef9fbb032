"""Safe YAML loading where every scalar stays a string except ``true``/``false``.

pyyaml's ``safe_load`` follows YAML 1.1, so ``no:`` (Norwegian) becomes ``False``, ``2024-01-01``
a date and a digit-only id an int. A mapping file is a contract written by people, so we read it
with a resolver that knows only booleans, and we remember the line of every mapping key so that
errors can point at it.

A mapping is a small file, so the loader refuses what no mapping needs before it can cost memory
or time: files over ``MAX_BYTES``, more than ``MAX_ALIASES`` aliases, a document that aliases
would expand past ``MAX_NODES`` values (nine lines of nine aliases make 9^9: an alias bomb), and
nesting deeper than ``MAX_DEPTH``. All of it is checked on the composed nodes, before anything
is constructed or expanded.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from csvsync.errors import MappingError


class LineDict(dict[str, Any]):
    """A dict that remembers the 1-based YAML line of each key (``lines``) and of itself."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[str, int] = {}
        self.line = 0


MAX_BYTES = 1 << 20  # 1 MiB: a mapping of thousands of fields is a few hundred KiB
MAX_ALIASES = 100
MAX_DEPTH = 32
MAX_NODES = 100_000


class _StringLoader(yaml.SafeLoader):
    """SafeLoader with no implicit types but booleans, and bounds on aliases and depth."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        # Counted while composing, before anything is constructed: an alias bomb never expands.
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise MappingError(
                    f"line {mark.line + 1}: more than {MAX_ALIASES} YAML aliases (*name)",
                    hint="write the values out; a mapping needs no aliases",
                )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise MappingError(
                    f"line {mark.line + 1}: nested more than {MAX_DEPTH} levels deep",
                    hint="a mapping is at most a few levels deep: check the indentation",
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self) -> Any:
        node = super().compose_document()
        if self._aliases and node is not None:
            _check_expansion(node)
        return node


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand it past ``MAX_NODES`` values. An alias is the
    same node object as its anchor, so sizes are memoized by identity: this costs one visit
    per distinct node, however large the expansion."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if done or not children:
            total = 1 + sum(sizes.get(id(c), 0) for c in children)
            sizes[id(node)] = total
            if total > MAX_NODES:
                raise MappingError(
                    f"line {node.start_mark.line + 1}: YAML aliases expand this mapping past "
                    f"{MAX_NODES:,} values",
                    hint="write the values out; a mapping needs no aliases",
                )
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


# Drop every implicit resolver (ints, floats, dates, nulls, YAML 1.1 yes/no booleans), then add
# back the YAML 1.2 core booleans only.
_StringLoader.yaml_implicit_resolvers = {}
_StringLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _construct_mapping(loader: _StringLoader, node: yaml.MappingNode) -> LineDict:
    result = LineDict()
    result.line = node.start_mark.line + 1
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        if key in result:
            raise MappingError(
                f"line {key_node.start_mark.line + 1}: key '{key}' appears twice",
                hint="keep one of them",
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


_StringLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path: Path) -> Any:
    """Load ``path`` safely; a malformed file raises ``MappingError`` naming file and line."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise MappingError(
                f"{path}: {size:,} bytes is too large for a mapping (at most {MAX_BYTES:,})",
                hint="check that -m names the mapping, not the sheet",
            )
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise MappingError(f"{path}: mapping file not found", hint="check the -m path") from None
    except UnicodeDecodeError as exc:
        raise MappingError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise MappingError(f"{path}: cannot read mapping file ({exc.strerror})") from None
    try:
        return yaml.load(text, Loader=_StringLoader)
    except MappingError as exc:
        raise MappingError(f"{path}: {exc.message}", exc.hint) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        raise MappingError(
            f"{path}: invalid YAML at {where}: {exc.problem}", hint=_syntax_hint(text, mark)
        ) from None
    except RecursionError:
        raise MappingError(
            f"{path}: nested too deeply to read", hint="check the indentation"
        ) from None
    except yaml.YAMLError as exc:
        raise MappingError(f"{path}: invalid YAML: {exc}") from None


def _syntax_hint(text: str, mark: Any) -> str:
    """What to do about a syntax error: quoting, for the usual one in a flow mapping."""
    line = text.splitlines()[mark.line] if mark and mark.line < len(text.splitlines()) else ""
    if "{" in line and any(c in line for c in "[]#&*!|>%@`"):
        # ``{column: Name [fr]}``: inside { } brackets and # start YAML syntax of their own.
        return 'quote the value, e.g. {column: "Name [fr]"}'
    return "fix the YAML syntax there"

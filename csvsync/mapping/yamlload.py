"""Safe YAML loading where every scalar stays a string except ``true``/``false``.

pyyaml's ``safe_load`` follows YAML 1.1, so ``no:`` (Norwegian) becomes ``False``, ``2024-01-01``
a date and a digit-only id an int. A mapping file is a contract written by people, so we read it
with a resolver that knows only booleans, and we remember the line of every mapping key so that
errors can point at it.
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


class _StringLoader(yaml.SafeLoader):
    """SafeLoader with no implicit types but booleans."""


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
            f"{path}: invalid YAML at {where}: {exc.problem}", hint="fix the YAML syntax there"
        ) from None
    except yaml.YAMLError as exc:
        raise MappingError(f"{path}: invalid YAML: {exc}") from None

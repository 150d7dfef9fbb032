"""Request bodies, read defensively: framing (Content-Length), a size cap and strict JSON.

Every refusal is a ``WebflowError`` in Webflow's shape; ``RefuseAndClose`` marks the ones after
which the connection must close: the body was not read (its bytes would be taken for the next
request), or it ended early. What is refused, and why:

- ``Transfer-Encoding`` (chunked): 411, a Content-Length is required.
- A Content-Length that is not one plain decimal number (``abc``, ``-5``, two different
  values): 400. Above ``MAX_BODY`` (10 MiB): 413, without reading it.
- A body shorter than its Content-Length (the client closed): 400, if anyone still listens.
- JSON that is not UTF-8, starts with a byte order mark, uses ``NaN``/``Infinity`` (or a number
  too large for a float), repeats a key in one object, holds a lone surrogate escape, or nests
  deeper than ``MAX_DEPTH`` levels: 400 ``bad_request``, the reason in ``details``.
- Shapes the spec's request schemas forbid, which the store would take as "nothing to do"
  (``check_create``, ``check_bulk``, ``check_update``): 400 ``validation_error``.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .apierrors import MALFORMED, FieldError, WebflowError, validation_error

MAX_BODY = 10 * 1024 * 1024  # bytes; Webflow documents no request limit, 10 MiB is generous
MAX_DEPTH = 64  # Webflow's bodies nest 5 levels at most (items[].fieldData.images[].url)
_DIGITS = re.compile(r"[0-9]{1,19}")
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


class RefuseAndClose(WebflowError):
    """Refused with the body unread or cut short: answer, then close the connection."""


class _BadJSON(ValueError):
    pass


def malformed(reason: str) -> WebflowError:
    """Webflow's ``bad_request`` (its own message) with the sandbox's reason as the detail."""
    return WebflowError(400, "bad_request", MALFORMED, [reason])


def body_length(content_length: list[str], transfer_encoding: str | None) -> int:
    """The body's length from its headers (every ``Content-Length`` value), or a refusal."""
    if transfer_encoding is not None:
        raise RefuseAndClose(
            411, "bad_request",
            "Length Required: send the body with a Content-Length "
            "(Transfer-Encoding is not supported)",
        )  # fmt: skip
    if not content_length:
        return 0
    values = {v.strip() for v in content_length}
    if len(values) > 1:
        raise RefuseAndClose(
            400, "bad_request", MALFORMED, ["the request has different Content-Length headers"]
        )
    value = values.pop()
    if not _DIGITS.fullmatch(value):
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise RefuseAndClose(
            400, "bad_request", MALFORMED, [f"Content-Length is not a number of bytes: {shown!r}"]
        )
    length = int(value)
    if length > MAX_BODY:
        raise RefuseAndClose(
            413, "bad_request",
            f"Request Entity Too Large: the body is {length:,} bytes; the sandbox takes at most "
            f"{MAX_BODY:,} bytes ({MAX_BODY // (1024 * 1024)} MiB)",
        )  # fmt: skip
    return length


def short_body(got: int, length: int) -> RefuseAndClose:
    reason = f"the body ended after {got:,} of its {length:,} bytes (Content-Length)"
    return RefuseAndClose(400, "bad_request", MALFORMED, [reason])


def _no_constant(name: str) -> Any:
    raise _BadJSON(f"{name} is not JSON")


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _BadJSON(f"the number {text[:40]} is too large")
    return value


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _BadJSON(f"the key {key[:40]!r} appears twice in one object")
            seen.add(key)
    return obj


def _too_deep(value: Any, limit: int) -> bool:
    """Whether ``value`` nests more than ``limit`` arrays/objects (iterative, containers only)."""
    stack = [(value, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        node, depth = pop()
        if depth > limit:
            return True
        for child in node.values() if type(node) is dict else node:
            if type(child) is dict or type(child) is list:
                push((child, depth + 1))
    return False


def _has_lone_surrogate(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def parse_json(raw: bytes) -> Any:
    """Strict JSON (see the module docstring); ``WebflowError`` 400 for anything else."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise malformed(f"the body is not valid UTF-8 (byte {e.start})") from None
    if text.startswith("\ufeff"):
        raise malformed("the body starts with a byte order mark (BOM); send JSON without one")
    try:
        value = json.loads(
            text, object_pairs_hook=_object, parse_constant=_no_constant, parse_float=_float
        )
    except _BadJSON as e:
        raise malformed(str(e)) from None
    except RecursionError:
        raise malformed(f"the JSON nests deeper than {MAX_DEPTH} levels") from None
    except ValueError as e:  # JSONDecodeError, or an integer of more than 4,300 digits
        raise malformed(f"the body is not valid JSON: {str(e)[:120]}") from None
    if (type(value) is dict or type(value) is list) and _too_deep(value, MAX_DEPTH):
        raise malformed(f"the JSON nests deeper than {MAX_DEPTH} levels")
    if _SURROGATE.search(text) and _has_lone_surrogate(value):
        raise malformed("the JSON holds a lone UTF-16 surrogate (\\ud800-\\udfff)")
    return value


# ---------------------------------------------------------------- shapes the spec requires
# Checked before the store: each of these would otherwise be a 2xx that changed nothing (an
# empty create) or a null read as "no change", where the spec's request schema says otherwise.


def _at_least_one(param: str) -> WebflowError:
    return validation_error([FieldError(param, "Expected at least 1 entry")])


def check_create(body: Any) -> None:
    """``POST /items`` and ``/items/live``: the ``{"items": [...]}`` form names at least one."""
    if type(body) is dict and body.get("items") == []:
        raise _at_least_one("items")


def check_bulk(body: Any) -> None:
    """``POST /items/bulk``: ``fieldData`` is required (one object, or a non-empty list), and
    ``cmsLocaleIds``, when sent, names at least one locale (left out, the primary one)."""
    if type(body) is not dict:
        return
    if body.get("fieldData") is None:
        raise validation_error([FieldError("fieldData", "Field is required")])
    if body["fieldData"] == []:
        raise _at_least_one("fieldData")
    if body.get("cmsLocaleIds") == []:
        raise _at_least_one("cmsLocaleIds")


def check_update(body: Any) -> None:
    """PATCH bodies: a ``fieldData`` sent as null is an error, not an empty change."""
    items = body.get("items") if type(body) is dict else None
    for item in [body, *items] if type(items) is list else [body]:
        if type(item) is dict and "fieldData" in item and item["fieldData"] is None:
            raise validation_error([FieldError("fieldData", "Expected an object, got null")])

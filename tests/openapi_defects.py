"""Webflow's OpenAPI description as the tests check answers against it, its defects corrected.

``DEFECTS`` is the one list of places where ``tests/webflow-openapi/v2.yml`` is wrong about
Webflow (each with its reason and source); every other divergence of a sandbox answer fails.
Each defect is a patch to the loaded spec, so a check never skips a response, only the wrong
part of the spec. ``load_spec`` applies them; ``check_exchange`` validates one recorded answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import yaml

SPEC_PATH = Path(__file__).resolve().parent / "webflow-openapi" / "v2.yml"
HOST = "https://api.webflow.com"  # the spec's server is {HOST}/v2; sandbox paths keep /v2
Spec = dict[str, Any]


@dataclass(frozen=True)
class Defect:
    name: str
    reason: str  # what the spec says, what Webflow does, and the source
    patch: Callable[[Spec], int]  # corrects the spec in place; returns the places changed


def _schemas(node: Any) -> Iterator[dict[str, Any]]:
    """Every mapping in the spec, depth first (schemas, and the mappings around them)."""
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, dict):
            yield cur
            stack.extend(cur.values())
        elif isinstance(cur, list):
            stack.extend(cur)


def _or_null(schema: dict[str, Any]) -> None:
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        kind.append("null")


def _details_any_of(spec: Spec) -> int:
    n = 0
    for s in _schemas(spec["paths"]):
        if s.get("type") == "array" and isinstance(s.get("items"), list):
            s["items"] = {"anyOf": s["items"]}
            n += 1
    return n


def _nullable_31(spec: Spec) -> int:
    n = 0
    for s in _schemas(spec["paths"]):
        if s.get("nullable") is True:
            _or_null(s)
            n += 1
    return n


def _item_last_published(spec: Spec) -> int:
    n = 0
    for s in _schemas(spec["paths"]):
        props = s.get("properties")
        if isinstance(props, dict) and "fieldData" in props and "lastPublished" in props:
            _or_null(props["lastPublished"])
            n += 1
    return n


def _user_field_type(spec: Spec) -> int:
    n = 0
    for s in _schemas(spec["paths"]):
        enum = s.get("enum")
        is_field_types = isinstance(enum, list) and "VideoLink" in enum and "PlainText" in enum
        if is_field_types and "User" not in enum:
            enum.append("User")
            n += 1
    return n


def _patch_items_200(spec: Spec) -> int:
    n = 0
    for path in ("/collections/{collection_id}/items/live", "/collections/{collection_id}/items"):
        schema = _body_schema(spec, path, "patch", "200")
        listed = "items" in schema.get("properties", {}) or "oneOf" in schema
        if schema.get("required") and listed:
            del schema["required"]
            n += 1
    return n


def _bulk_202(spec: Spec) -> int:
    content = spec["paths"]["/collections/{collection_id}/items/bulk"]["post"]["responses"]
    content = content["202"]["content"]["application/json"]
    if "cmsLocaleIds" not in content["schema"].get("properties", {}):
        return 0
    listed = _body_schema(spec, "/collections/{collection_id}/items", "get", "200")
    item = listed["properties"]["items"]
    content["schema"] = {"type": "object", "required": ["items"], "properties": {"items": item}}
    return 1


def _external_reference(spec: Spec) -> int:
    n = 0
    for s in _schemas(spec["paths"]):
        props = s.get("properties")
        if isinstance(props, dict) and {"code", "message", "externalReference"} <= set(props):
            _or_null(props["externalReference"])
            n += 1
    return n


def _create_items_list_form(spec: Spec) -> int:
    n = 0
    for path in ("/collections/{collection_id}/items", "/collections/{collection_id}/items/live"):
        content = spec["paths"][path]["post"]["responses"]["202"]["content"]["application/json"]
        single = content["schema"]
        if "oneOf" in single:
            continue
        listed = {
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": single}},
        }
        content["schema"] = {"oneOf": [single, listed]}
        n += 1
    return n


def _missing_403(spec: Spec) -> int:
    ops = [op for item in spec["paths"].values() for op in item.values()
           if isinstance(op, dict) and "responses" in op]  # fmt: skip
    model = next(op["responses"]["403"] for op in ops if "403" in op["responses"])
    n = 0
    for op in ops:
        if "403" not in op["responses"]:
            op["responses"]["403"] = model
            n += 1
    return n


def _error_one_of(spec: Spec) -> int:
    n = 0
    for item in spec["paths"].values():
        for op in item.values():
            for status, resp in (op.get("responses", {}) if isinstance(op, dict) else {}).items():
                content = (resp.get("content") or {}).get("application/json") or {}
                schema = content.get("schema") or {}
                if status[0] in "45" and "oneOf" in schema:
                    schema["anyOf"] = schema.pop("oneOf")
                    n += 1
    return n


def _body_schema(spec: Spec, path: str, method: str, status: str) -> dict[str, Any]:
    op = spec["paths"][path][method]["responses"][status]
    schema: dict[str, Any] = op["content"]["application/json"]["schema"]
    return schema


DEFECTS: list[Defect] = [
    Defect(
        "error-details-items-list",
        "Every error body gives `details.items` as a list of two schemas, which is not OpenAPI "
        "3.1 (openapi-core refuses the file unless spec validation is off); read as `anyOf` of "
        "the two, as the text means (webflow-openapi/README.md).",
        _details_any_of,
    ),
    Defect(
        "nullable-is-3.0",
        "Nullable values are marked the OpenAPI 3.0 way (`nullable: true`), which 3.1 ignores; "
        "Webflow returns null for them (`validations`, a locale's `displayImageId`: the spec's "
        "own examples), so each such type also admits null.",
        _nullable_31,
    ),
    Defect(
        "item-lastPublished-null",
        "Item `lastPublished` is a plain string, yet a never-published variant has null (the "
        "spec's examples; webflow-api.md §4: Draft is isDraft true, lastPublished null).",
        _item_last_published,
    ),
    Defect(
        "field-type-User",
        "The field `type` enum lacks `User`, the read-only type Webflow's docs list for "
        "created-by/updated-by fields (developers.webflow.com/data/reference/"
        "field-types-item-values, 'User: read-only'; webflow-api.md §5); the sandbox's "
        "collection JSON follows the docs: `type: User`, `isEditable: false`.",
        _user_field_type,
    ),
    Defect(
        "patch-items-200-required",
        "The 200 answers of PATCH /items/live and PATCH /items list the item's `required` keys "
        "at the top level, beside `properties.items` (or the oneOf of one item and a list); the "
        "real answer, each operation's example and the SDK's type are `{items: [...]}` "
        "(webflow-api.md §4; webflow-openapi/README.md).",
        _patch_items_200,
    ),
    Defect(
        "bulk-202-shape",
        "POST /items/bulk documents its 202 answer as one item with a `cmsLocaleIds` array; the "
        "operation's own example, and webflow-api.md §4, give `{items: [...]}` with a variant "
        "per (item x locale), each with its `cmsLocaleId`, all sharing the item's id.",
        _bulk_202,
    ),
    Defect(
        "error-externalReference-null",
        "Error bodies type `externalReference` as a string, yet every example of the spec and "
        "every real body quoted (rate-limit page, webflow/js-webflow-api#161 and #165) has "
        "`externalReference: null` (webflow-api.md §1-2).",
        _external_reference,
    ),
    Defect(
        "missing-403",
        "Some operations (the item lists and writes among them) document no 403, yet a token "
        "without the route's scope gets 403 `missing_scopes` from every endpoint (the error "
        "table of developers.webflow.com/data/reference/error-handling; webflow-api.md §2).",
        _missing_403,
    ),
    Defect(
        "error-oneOf-overlap",
        "A few error answers (POST /sites/{site_id}/publish's 400 among them) are a `oneOf` of "
        "schemas told apart only by their descriptions, so every body matches each and `oneOf` "
        "never holds; read as `anyOf`.",
        _error_one_of,
    ),
    Defect(
        "create-items-list-form",
        "POST /items and /items/live document the 202 answer as one item only; the list form "
        "(`{items: [...]}` sent) answers `{items: [...]}` (webflow-api.md §4, "
        "webflow/js-webflow-api#226).",
        _create_items_list_form,
    ),
]


# Statuses the spec has no response for, answered only to requests no Webflow client sends
# (framing the sandbox refuses before reading: bodies.py). Their bodies are still checked
# against Webflow's error shape.
OUTSIDE_SPEC: dict[int, str] = {
    411: "Transfer-Encoding without a Content-Length: the sandbox reads only sized bodies",
    413: "a body above the sandbox's 10 MiB cap (Webflow documents no request limit)",
}
ERROR_KEYS = {"message", "code", "externalReference", "details"}


def load_spec(path: Path = SPEC_PATH) -> Any:
    """The spec with every defect's patch applied, as an openapi-core ``OpenAPI``."""
    from openapi_core import Config, OpenAPI

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as fh:
        spec: Spec = yaml.load(fh, Loader=loader)
    for defect in DEFECTS:
        if defect.patch(spec) == 0:  # the spec no longer has it: drop the defect from the list
            raise AssertionError(f"defect {defect.name!r} matched nothing in {path.name}")
    # The patched description is valid 3.1 in what these checks read, but the validator of
    # the whole file takes ~20 s, so it stays off as it was before the patches.
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


def check_exchange(openapi: Any, ex: dict[str, Any]) -> None:
    """Validate one recorded answer (status, headers, body) against its operation; raises."""
    from openapi_core.testing import MockRequest, MockResponse

    if ex["status"] in OUTSIDE_SPEC:
        body = ex["response"]
        if not (isinstance(body, dict) and set(body) == ERROR_KEYS):
            raise AssertionError(f"not Webflow's error shape: {body!r}"[:300])
        return

    request = MockRequest(
        HOST, ex["method"].lower(), ex["path"], args=dict(parse_qsl(ex["query"])),
        headers={"Authorization": "Bearer x"},
    )  # fmt: skip
    payload = ex["response"]
    data = b"" if payload is None else json.dumps(payload).encode()
    headers = {k: v for k, v in ex["headers"].items() if k.lower().startswith("x-ratelimit")}
    response = MockResponse(data, status_code=ex["status"], headers=headers)
    openapi.validate_response(request, response)


def check_all(openapi: Any, exchanges: list[dict[str, Any]]) -> list[str]:
    """A line per recorded answer that diverges from the (corrected) spec."""
    failures = []
    for ex in exchanges:
        try:
            check_exchange(openapi, ex)
        except Exception as e:  # openapi-core's errors share no base worth naming
            failures.append(describe(ex, e))
    return failures


def describe(ex: dict[str, Any], error: BaseException) -> str:
    """One failure, with the deepest schema errors openapi-core gives."""
    reasons: list[str] = []
    cause: BaseException | None = error
    while cause is not None:
        for e in getattr(cause, "schema_errors", None) or []:
            path = "/".join(str(p) for p in getattr(e, "absolute_path", []))
            reasons.append(f"{path}: {getattr(e, 'message', e)}"[:300])
        cause = cause.__cause__
    text = "; ".join(reasons) or f"{type(error).__name__}: {error}"[:300]
    return f"{ex['method']} {ex['path']}?{ex['query']} -> {ex['status']}: {text}"

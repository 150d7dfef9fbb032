"""Webflow's error answers -> the ``ApiError`` subclasses of ``csvsync.errors``.

Reads Webflow's ``{message, code, externalReference, details}`` body (or any other text), and
picks the class and the hint by status. Only the answer is read, never the request's headers,
so an error can never carry the token.
"""

from __future__ import annotations

import json
import re
from typing import Any

from csvsync.errors import (
    ApiError,
    AuthError,
    ConflictError,
    NotFoundError,
    RateLimitError,
    ServerError,
    ValidationApiError,
)
from csvsync.webflow.wire import Response

AUTH_HINT = (
    "check WEBFLOW_API_TOKEN (or --token-file) and that the token has the cms:read and "
    "cms:write scopes for this site"
)

_ERRORS: dict[int, tuple[type[ApiError], str | None]] = {
    400: (ValidationApiError, None),
    401: (AuthError, AUTH_HINT),
    403: (AuthError, AUTH_HINT),
    404: (NotFoundError, "check the site, collection and item ids"),
    409: (ConflictError, None),
    422: (ValidationApiError, None),
    429: (RateLimitError, "Webflow kept answering 429; try later or lower --rate-limit"),
}

# "Validation Error: [\"Value (cmsLocaleId)'s type should be string\"]": details inside message.
_MESSAGE_DETAILS = re.compile(r"^(?P<head>[^\[]*?):\s*(?P<list>\[.*\])\s*$", re.DOTALL)


def api_error(
    response: Response, method: str, url: str, retry_after: float | None = None
) -> ApiError:
    """The error a non-2xx answer to ``method url`` stands for."""
    status = response.status
    message, code, details = _parse_error_body(response)
    if status >= 500 or status == 408:
        cls: type[ApiError] = ServerError
        hint: str | None = "Webflow had a problem; try again later"
    else:
        cls, hint = _ERRORS.get(status, (ApiError, None))
    if status >= 300 and status < 400:
        message = f"unexpected redirect to {response.headers.get('Location', '?')}"
    return cls(
        message,
        status=status,
        code=code,
        details=details,
        method=method,
        url=url,
        retry_after=retry_after,
        hint=hint,
    )


def _parse_error_body(response: Response) -> tuple[str, str | None, list[Any]]:
    """Webflow's ``{message, code, externalReference, details}``; anything else as text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        text = " ".join(response.text.split())[:200]
        return text or response.reason or "no message", None, []
    message = str(body.get("message") or body.get("msg") or response.reason or "no message")
    code = body.get("code")
    details = body.get("details")
    details = list(details) if isinstance(details, list) else []
    if not details:
        message, details = _details_from_message(message)
    return message, None if code is None else str(code), details


def _details_from_message(message: str) -> tuple[str, list[Any]]:
    match = _MESSAGE_DETAILS.match(message)
    if not match:
        return message, []
    try:
        inner = json.loads(match.group("list"))
    except ValueError:
        return message, []
    if not isinstance(inner, list) or not inner:
        return message, []
    return match.group("head").strip() or message, inner

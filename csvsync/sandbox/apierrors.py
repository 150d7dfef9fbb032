"""Webflow's error answers as one exception type, raised by the store and validation layers.

The HTTP front turns a ``WebflowError`` into Webflow's envelope
``{"message", "code", "externalReference": null, "details": [...]}`` with its status.
"""

from __future__ import annotations

from typing import Any

REQUEST_NOT_AUTHORIZED = "Request not authorized"
NEVER_PUBLISHED = (
    "Conflict: Conflict with server data: Live PATCH updates can't be applied to items that "
    "have never been published"
)
MALFORMED = "Bad Request: Request is malformed"
STRUCTURE_CHANGED = "Conflict: The collection structure changed since the last publish"


class WebflowError(Exception):
    """An error answer: HTTP status, Webflow ``code``, ``message`` and ``details``."""

    def __init__(
        self, status: int, code: str, message: str, details: list[Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details: list[Any] = details or []
        self.headers: dict[str, str] = {}  # extra answer headers (a 429's Retry-After)

    def body(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "code": self.code,
            "externalReference": None,
            "details": self.details,
        }


class FieldError(Exception):
    """One invalid field value; collected into a ``validation_error``'s ``details``."""

    def __init__(self, param: str, description: str) -> None:
        super().__init__(f"{param}: {description}")
        self.param = param
        self.description = description

    def detail(self) -> dict[str, str]:
        return {"param": self.param, "description": self.description}


def validation_error(errors: list[FieldError]) -> WebflowError:
    return WebflowError(400, "validation_error", "Validation Error", [e.detail() for e in errors])


def not_found(what: str) -> WebflowError:
    return WebflowError(
        404, "resource_not_found", f"Requested resource not found: The {what} cannot be found"
    )


def missing_scopes(scope: str) -> WebflowError:
    return WebflowError(
        403, "missing_scopes", f"OAuthForbidden: You are missing the following scopes - {scope}"
    )


def item_limit_reached(limit: int) -> WebflowError:
    # Inferred: no source quotes Webflow's answer to a create past the plan's item limit. A 409
    # because the request is valid and the site's state refuses it, as for "never published".
    return WebflowError(
        409,
        "conflict",
        f"Conflict: Item limit reached: the site's plan allows {limit} CMS items",
    )


def bad_request(message: str = MALFORMED) -> WebflowError:
    return WebflowError(400, "bad_request", message)

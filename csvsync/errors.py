"""The ``CsvsyncError`` family: every failure a user can act on, with its exit code and a hint.

Library code raises these; ``cli/`` turns them into one ``Error: ...`` line and the exit code.
Messages never contain the API token.
"""

from __future__ import annotations

from typing import Any

# Exit codes, one table for every command (README "Exit codes").
EXIT_OK = 0
EXIT_ROWS = 1
EXIT_START = 2
EXIT_LOCKED = 3
EXIT_STOPPED = 4
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


class CsvsyncError(Exception):
    """Base class. ``hint`` says what to do next; ``exit_code`` follows the README table."""

    kind = "error"  # the stable machine code of --json and --log-file: monitors match on it
    exit_code = EXIT_START

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def summary(self, exit_code: int | None = None) -> dict[str, object]:
        """The error as ``--json`` and ``--log-file`` give it: exit code, machine code,
        message and hint."""
        return {
            "exit_code": self.exit_code if exit_code is None else exit_code,
            "code": self.kind,
            "message": self.message,
            "hint": self.hint,
        }

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


class ConfigError(CsvsyncError):
    """Bad command-line configuration: token, API base, options."""

    kind = "config"


class PlanMovedError(ConfigError):
    """A saved plan no longer holds: a planned cell, the set to create or unpublish moved in
    Webflow since (``sync --plan`` sends nothing). ``moved``: what moved, one phrase each."""

    kind = "plan_moved"

    def __init__(self, message: str, hint: str | None = None, moved: list[str] | None = None):
        super().__init__(message, hint)
        self.moved = list(moved or [])


class ItemLimitError(CsvsyncError):
    """``--item-limit``: the run's creates would take the site past its plan's item limit.
    Raised before anything is sent."""

    kind = "item_limit"


class MappingError(CsvsyncError):
    """The YAML mapping is malformed or does not fit the collection, site or sheet."""

    kind = "mapping"


class SheetError(CsvsyncError):
    """The sheet file as a whole cannot be read (encoding, format, header, size)."""

    kind = "sheet"


class StateError(CsvsyncError):
    """The state file cannot be used: not csvsync's, damaged, newer, or in a folder that cannot
    be written. Raised before anything is sent or changed in the file."""

    kind = "state"


class LockedError(CsvsyncError):
    """Another run holds the lock for this collection."""

    kind = "locked"

    exit_code = EXIT_LOCKED


class StoppedError(CsvsyncError):
    """The run stopped part-way after its first write request."""

    kind = "stopped"

    exit_code = EXIT_STOPPED


class Interrupted(CsvsyncError):
    """SIGINT or SIGTERM stopped the run before it wrote anything (a pull, a plan's reading)."""

    kind = "interrupted"


class InternalError(CsvsyncError):
    """An unexpected exception: a bug in csvsync. The original is its ``__cause__``.

    Follows the exit-code table like any other error: 2 before the first write request, 4 after.
    """

    kind = "internal"

    REPORT = "please report it with the output of the same command run with --debug"

    def __init__(self, exc: BaseException, wrote: bool) -> None:
        when = "after the first write request" if wrote else "before anything was sent"
        super().__init__(
            f"internal error {when}: {type(exc).__name__}: {exc} (at {_where(exc)})", self.REPORT
        )
        self.exit_code = EXIT_STOPPED if wrote else EXIT_START


def _where(exc: BaseException) -> str:
    """The innermost csvsync frame of a traceback: its file, line and function."""
    import os
    import traceback

    package = os.path.dirname(os.path.abspath(__file__))
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if os.path.abspath(f.filename).startswith(package + os.sep)
    ]
    if not frames:
        return "outside csvsync"
    f = frames[-1]
    name = os.path.relpath(f.filename, os.path.dirname(package)).replace(os.sep, "/")
    return f"{name}:{f.lineno} in {f.name}"


class ApiError(CsvsyncError):
    """An error answer (or no answer) from the Webflow API.

    Carries the HTTP status, Webflow's ``code``, ``message`` and ``details`` and the request's
    method and URL (never its headers, so never the token).
    """

    kind = "api"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        details: list[Any] | None = None,
        method: str = "",
        url: str = "",
        retry_after: float | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.status = status
        self.code = code
        self.details = details or []
        self.method = method
        self.url = url
        self.retry_after = retry_after

    def __str__(self) -> str:
        where = f"{self.method} {self.url}".strip()
        status = f"{self.status} {self.code}" if self.status else "no answer"
        text = f"Webflow API {status}: {self.message}"
        if self.details:
            text += " " + "; ".join(_detail_text(d) for d in self.details)
        if where:
            text += f" [{where}]"
        if self.hint:
            text += f" ({self.hint})"
        return text


def _detail_text(detail: Any) -> str:
    if isinstance(detail, dict):
        param = detail.get("param") or detail.get("field") or ""
        desc = detail.get("description") or detail.get("message") or ""
        return f"{param}: {desc}" if param else str(desc)
    return str(detail)


class AuthError(ApiError):
    """401/403: the token is missing, wrong, or lacks a scope."""

    kind = "auth"


class NotFoundError(ApiError):
    """404 resource_not_found."""

    kind = "not_found"


class ConflictError(ApiError):
    """409 conflict (never-published item, collection structure changed)."""

    kind = "conflict"


class ValidationApiError(ApiError):
    """400 validation_error / bad_request."""

    kind = "validation"


class RateLimitError(ApiError):
    """429 too_many_requests that outlived the retry budget."""

    kind = "rate_limited"


class ServerError(ApiError):
    """5xx, timeouts and dropped connections that outlived the retry budget."""

    kind = "server_error"


class UnreachableError(ServerError):
    """No connection could be made to a loopback API (nothing listens on the port): given up
    after a few quick attempts, since no outage of a local sandbox passes by waiting.

    Its line names the address and what to do, without the request (any request fails alike);
    its machine code stays ``server_error``, as for any API that stopped answering.
    """

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

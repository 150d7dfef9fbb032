"""The transport seam's types: one HTTP exchange as ``Request`` in, ``Response`` out.

A ``Transport`` is any callable of that shape (``transport.RequestsTransport`` is the default), so
tests script Webflow's answers without sockets. ``TransportError`` is the one exception a
transport raises when no answer came. No I/O here, so ``errors.py`` and ``transport.py`` both
build on it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

from requests.structures import CaseInsensitiveDict


def query_url(url: str, params: Mapping[str, str] | None) -> str:
    """``url`` with ``params`` as its query (commas kept: Webflow reads cmsLocaleId=a,b)."""
    if params:
        url += "?" + urlencode(dict(params), safe=",")
    return url


# -- the seam --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One HTTP exchange to perform. ``url`` has no query string: ``params`` is the query, sent
    as ``query_url`` encodes it. ``json`` is the body (None: no body). ``headers`` hold the
    Authorization header, so the repr leaves them out."""

    method: str
    url: str
    params: Mapping[str, str] | None
    json: Any
    headers: Mapping[str, str] = field(repr=False)
    timeout: float

    @property
    def full_url(self) -> str:
        return query_url(self.url, self.params)


@dataclass(frozen=True)
class Response:
    """An HTTP answer. ``headers`` are looked up case-insensitively; ``encoding`` is the charset
    the Content-Type states (None: the body is read as UTF-8)."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    reason: str = ""
    encoding: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.headers, CaseInsensitiveDict):
            object.__setattr__(self, "headers", CaseInsensitiveDict(self.headers))

    @property
    def text(self) -> str:
        return self.body.decode(self.encoding or "utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON; ``ValueError`` if it is not JSON."""
        # As requests reads it: by the stated charset, else by JSON's own UTF-8/16/32 detection.
        return json.loads(self.text) if self.encoding else json.loads(self.body)


class TransportError(Exception):
    """An exchange got no answer. ``name`` says which failure (``ReadTimeout``,
    ``ConnectionError``...); ``timed_out`` whether it was a timeout; ``sent`` whether the request
    may have reached the server (False only when no connection was established); ``transient``
    whether another try may succeed (a lost answer, not a malformed request); ``refused``
    whether the host refused the connection (ECONNREFUSED: up, but nothing listens on the port).
    """

    def __init__(
        self,
        name: str,
        *,
        timed_out: bool = False,
        sent: bool = True,
        transient: bool = True,
        refused: bool = False,
    ) -> None:
        kind = (
            "timed out" if timed_out else "connection refused" if refused else "connection failed"
        )
        super().__init__(f"{kind} ({name})")
        self.name = name
        self.timed_out = timed_out
        self.sent = sent
        self.transient = transient
        self.refused = refused


class Transport(Protocol):
    """Performs one HTTP exchange: ``Request`` in, ``Response`` out (any status).

    Raises ``TransportError`` when no answer came; any other exception reaches the caller of the
    client unchanged. Follows no redirect and retries nothing: the ``RequestLoop`` decides what
    is safe to repeat. Called from up to ``max_in_flight`` threads at once.
    """

    def __call__(self, request: Request) -> Response: ...

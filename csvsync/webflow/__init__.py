"""The only package that speaks HTTP: the Webflow Data API v2 client, its transport and pacing.

``from csvsync.webflow import WebflowClient, ClientOptions`` is the documented import path. The
transport seam: ``ClientOptions(transport=...)`` takes any ``Transport``, a callable that turns a
``Request`` into a ``Response`` (or raises ``TransportError``); ``RequestsTransport`` is the
default.
"""

from csvsync.webflow.client import ClientOptions, WebflowClient
from csvsync.webflow.transport import RequestsTransport
from csvsync.webflow.wire import Request, Response, Transport, TransportError

__all__ = [
    "ClientOptions",
    "Request",
    "RequestsTransport",
    "Response",
    "Transport",
    "TransportError",
    "WebflowClient",
]

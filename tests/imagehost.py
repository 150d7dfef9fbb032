"""A loopback image server for the file tests: what the sandbox fetches, as Webflow would.

``ImageHost`` serves a small PNG at ``/photo.png``, a 404 at ``/missing.png``, an HTML page at
``/page.html`` and a file of 4 MB + 1 byte at ``/huge.png`` (made in memory). ``serve``,
``fail`` and ``redirect`` change what a path answers (the knob for a 404 or an oversized file;
``announce=False`` sends no Content-Length, so only reading tells the size); ``hits`` counts
each path's requests.
"""

from __future__ import annotations

import struct
import sys
import threading
import zlib
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

FOUR_MB = 4 * 1024 * 1024


def png(width: int = 2, height: int = 2) -> bytes:
    """A valid RGB PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x10\x80\xf0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PHOTO = png()


def sized_png(size: int) -> bytes:
    """``size`` bytes that start as a PNG (an image by its first bytes)."""
    return (PHOTO + bytes(size))[:size]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # the sandbox hangs up on a file past 4 MB once the headers say so: expected
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class ImageHost:
    """``with ImageHost() as host: host.url("/photo.png")``; stopped on exit."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[int, str, bytes, bool]] = {}
        self.hits: Counter[str] = Counter()
        self.serve("/photo.png", PHOTO)
        self.serve("/second.png", png(3, 1))
        self.serve("/page.html", b"<html><body>not an image</body></html>", "text/html")
        self.serve("/huge.png", sized_png(FOUR_MB + 1))
        self.fail("/missing.png")
        host = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                host.hits[path] += 1
                missing = (404, "text/plain", b"not found", True)
                status, ctype, data, announce = host.files.get(path, missing)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                if status == 302:
                    self.send_header("Location", data.decode())
                if announce:
                    self.send_header("Content-Length", str(len(data)))
                else:  # the body ends when the connection closes (HTTP/1.0)
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(data)

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def serve(
        self, path: str, data: bytes, ctype: str = "image/png", announce: bool = True
    ) -> None:
        self.files[path] = (200, ctype, data, announce)

    def fail(self, path: str, status: int = 404) -> None:
        self.files[path] = (status, "text/plain", b"not found", True)

    def redirect(self, path: str, location: str) -> None:
        self.files[path] = (302, "text/plain", location.encode(), True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def __enter__(self) -> ImageHost:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

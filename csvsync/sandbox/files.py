"""Files Webflow fetches and re-hosts: loopback URLs are really fetched, others are not.

Webflow downloads a file value's URL (at most 4 MB) and serves a copy from its own CDN. No
machine here reaches the internet, so only loopback URLs (127.0.0.0/8, ::1, ``localhost``) are
fetched; any other URL keeps the synthetic re-hosting in ``validation.py``. The HTTP front
fetches a request's loopback URLs before the store's lock is taken (``prefetched``), so a slow
image server holds up that one request, never the others.
"""

from __future__ import annotations

import hashlib
import http.client
import ipaddress
import re
import socket
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO, Any
from urllib.parse import unquote, urlsplit

MAX_FILE_BYTES = 4 * 1024 * 1024  # Webflow's "4MB"; read as MiB (inferred)
FETCH_TIMEOUT = 2.0  # seconds, for the whole fetch: a request thread waits at most this long
_FETCHERS = 8
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Fetched:
    """What fetching one URL gave: the bytes, or ``problem`` saying why not."""

    url: str
    data: bytes = b""
    content_type: str = "application/octet-stream"
    problem: str = ""


def is_loopback_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(host) and _loopback_host(host or "")


def _loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refusal(url: str) -> str:
    """Why ``url`` may not be fetched ("" when it may): only loopback addresses are reached."""
    if not is_loopback_url(url):
        return "it is not on a loopback host"
    parts = urlsplit(url)
    if (parts.hostname or "").lower() == "localhost":
        # a hosts file could point localhost elsewhere; every address must be loopback
        try:
            infos = socket.getaddrinfo("localhost", parts.port or 80, type=socket.SOCK_STREAM)
        except OSError:
            return "localhost does not resolve"
        if not infos or not all(_loopback_host(str(i[4][0])) for i in infos):
            return "localhost resolves beyond loopback"
    return ""


class _LoopbackRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to another loopback URL."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        if _refusal(newurl):
            fp.close()
            raise urllib.error.URLError("a redirect beyond loopback, not followed")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


# No proxy: a proxy from the environment would carry a loopback fetch to another machine.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _LoopbackRedirects())


def fetch(url: str, timeout: float = FETCH_TIMEOUT, limit: int = MAX_FILE_BYTES) -> Fetched:
    """Download a loopback ``url``: at most ``limit`` + 1 bytes, within ``timeout`` seconds."""
    if problem := _refusal(url):
        return Fetched(url, problem=problem)
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, headers={"User-Agent": "csvsync-sandbox"})
    try:
        with _OPENER.open(request, timeout=timeout) as resp:
            ctype = resp.headers.get_content_type()
            length = resp.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > limit:
                return Fetched(url, problem="it is larger than 4 MB")
            data = bytearray()
            while len(data) <= limit:
                if time.monotonic() > deadline:
                    return Fetched(url, problem="could not fetch it (timed out)")
                chunk = resp.read(min(_CHUNK, limit + 1 - len(data)))
                if not chunk:
                    break
                data += chunk
    except urllib.error.HTTPError as e:
        e.close()
        return Fetched(url, problem=f"could not fetch it (HTTP {e.code})")
    except (OSError, http.client.HTTPException, ValueError) as e:
        reason = getattr(e, "reason", None) or type(e).__name__
        return Fetched(url, problem=f"could not fetch it ({reason})")
    if len(data) > limit:
        return Fetched(url, problem="it is larger than 4 MB")
    return Fetched(url, bytes(data), ctype)


# Magic numbers of the image formats Webflow's CMS takes (inferred: docs/sandbox.md).
_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_SVG_RE = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*(?:<!DOCTYPE[^>]*>\s*)?<svg\b", re.S
)


def image_type(data: bytes) -> str | None:
    """The image type ``data`` starts as, or None when it is no image."""
    for magic, kind in _IMAGE_MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in (b"avif", b"avis"):
        return "image/avif"
    if _SVG_RE.match(data[:4096]):
        return "image/svg+xml"
    return None


def checked(got: Fetched, field_type: str) -> Fetched:
    """``got`` as an Image/MultiImage/File value takes it: an image field needs an image."""
    if got.problem or field_type == "File":
        return got
    kind = image_type(got.data)
    if kind is None:
        return Fetched(got.url, problem="it is not an image")
    return Fetched(got.url, got.data, kind)


# ------------------------------------------------------------------ one request's fetches
_PREFETCHED: ContextVar[dict[str, Fetched] | None] = ContextVar("sandbox_files", default=None)


def loopback_urls(body: Any) -> list[str]:
    """Loopback URLs a request body offers as files: ``{"url": ...}`` or a string in a list."""
    found: dict[str, None] = {}
    stack = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            url = node.get("url")
            if isinstance(url, str) and is_loopback_url(url):
                found[url] = None
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            for v in node:
                if isinstance(v, str):
                    if is_loopback_url(v):
                        found[v] = None
                elif isinstance(v, dict | list):
                    stack.append(v)
    return list(found)


@contextmanager
def prefetched(body: Any) -> Iterator[None]:
    """Fetch ``body``'s loopback files now (a few at once) for ``fetched`` to hand out."""
    urls = loopback_urls(body)
    results: dict[str, Fetched] = {}
    if urls:
        with ThreadPoolExecutor(min(_FETCHERS, len(urls)), "sandbox-fetch") as pool:
            results = dict(zip(urls, pool.map(fetch, urls), strict=True))
    token = _PREFETCHED.set(results)
    try:
        yield
    finally:
        _PREFETCHED.reset(token)


def fetched(url: str) -> Fetched:
    """``url`` as fetched for this request; fetched now when the store was called directly."""
    done = _PREFETCHED.get()
    if done is not None and url in done:
        return done[url]
    return fetch(url)


# ------------------------------------------------------------------ hosting
def host(db: sqlite3.Connection, got: Fetched) -> tuple[str, str]:
    """Keep fetched bytes as an asset: its fileId and path under ``/assets``."""
    digest = hashlib.sha1(b"fetched\0" + got.url.encode() + b"\0" + got.data)
    fid = digest.hexdigest()[:24]
    name = PurePosixPath(unquote(urlsplit(got.url).path)).name or "file"
    name = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    rel = f"/assets/{fid}/{name}"
    db.execute("INSERT OR IGNORE INTO assets VALUES (?, ?, ?)", (fid, got.url, rel))
    db.execute(
        "INSERT OR IGNORE INTO asset_files VALUES (?, ?, ?)", (fid, got.content_type, got.data)
    )
    return fid, rel


def content(db: sqlite3.Connection, file_id: str) -> tuple[str, bytes] | None:
    """(content type, bytes) of a fetched asset; None for a synthetic one."""
    row = db.execute(
        "SELECT content_type, data FROM asset_files WHERE file_id = ?", (file_id,)
    ).fetchone()
    return None if row is None else (str(row[0]), bytes(row[1]))

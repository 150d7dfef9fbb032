"""How a call reaches Webflow: the transport seam, its requests-based default, and the retry loop.

Two layers, as in requests (session -> adapter):

- a ``Transport`` performs one HTTP exchange: a ``Request`` in, a ``Response`` out, or a
  ``TransportError`` when no answer came. ``RequestsTransport`` (one ``requests.Session``) is the
  default; ``ClientOptions(transport=...)`` takes any callable of that shape, so tests can
  script Webflow's answers without sockets;
- the ``RequestLoop`` sends every call of ``WebflowClient`` through it and decides what an
  answer means for the run. This module owns *what is repeated and when*; ``pacing.py`` owns
  *when* a request may start, ``errors.py`` what an error answer says.

The loop's rules:

- pacing: the ``Pacer`` admits the start (at most ``limit`` per rate window, learned from the
  ``X-RateLimit-*`` headers), so a long run stays under the ceiling instead of bouncing off 429s;
- 429: every caller waits ``Retry-After`` (default 60 s) and the *same* request is sent again;
  Webflow did not process it, so this holds for creates too;
- 5xx, 408, timeouts and dropped connections: retried with capped exponential backoff and jitter,
  but only for calls that are safe to repeat (GET, PATCH, DELETE, publish). A create that may have
  reached Webflow is never re-sent blindly: the caller gets a ``ServerError`` and looks the items
  up. A connection that was never established is safe for every call;
- 400/401/403/404/409 are never retried; they become the ``ApiError`` subclasses of
  ``csvsync.errors`` with Webflow's code, message and details;
- the retry budget (``max_retries``, ``max_retry_time`` seconds per request, or since the API last
  answered) turns a long outage into ``ServerError`` / ``RateLimitError`` so the run can stop;
- a connection refused by a loopback address (nothing listens: a sandbox not started, a wrong
  port) gets ``REFUSED_LOOPBACK_ATTEMPTS`` quick attempts, then an ``UnreachableError`` that asks
  whether the sandbox runs. A remote host keeps the whole budget: Webflow may be briefly away;
- ``ClientOptions.on_retry`` is told of every retry (a ``RetryNotice``) before its wait, so a
  shell can say at once that the API cannot be reached instead of retrying in silence.

``check_api_base`` decides which API base URLs may carry the token at all (see its docstring).

The token lives only in the Authorization header the loop hands to the transport; a ``Request``'s
repr leaves its headers out, errors carry method and URL, never headers, and ``RequestsTransport``
raises without the ``requests`` exception chained (it holds the prepared request).
"""

from __future__ import annotations

import dataclasses
import email.utils
import ipaddress
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from csvsync import __version__
from csvsync.errors import ApiError, ConfigError, ServerError, StoppedError, UnreachableError
from csvsync.options import RetryNotice
from csvsync.webflow.errors import api_error
from csvsync.webflow.pacing import Backoff, Clock, Pacer, SystemClock
from csvsync.webflow.wire import Request, Response, Transport, TransportError

log = logging.getLogger(__name__)

DEFAULT_RETRY_AFTER = 60.0  # Webflow's documented typical value, used when the header is absent.
# Wait a little past Retry-After: our clock starts when the 429 *arrives*, the server's earlier.
RETRY_AFTER_CUSHION = 0.05

CREATE_HINT = "the create may have reached Webflow; look the items up before sending them again"

# A loopback port that refuses connections has no server behind it (a sandbox not started, or
# a wrong port): waiting the budget of a remote outage (~70 s) would only hide the mistake. A
# few quick attempts still let a sandbox started a moment ago come up.
REFUSED_LOOPBACK_ATTEMPTS = 3
REFUSED_LOOPBACK_MAX_DELAY = 0.5
SANDBOX_HINT = "is the sandbox running? `csvsync sandbox` starts one"


class RequestsTransport:
    """The default transport: one ``requests.Session``, a connection pool of ``pool_size``."""

    def __init__(self, pool_size: int = 4) -> None:
        self.session = requests.Session()
        # Our own retry loop decides what is safe to repeat; urllib3 must not retry behind it.
        adapter = HTTPAdapter(pool_maxsize=max(pool_size, 4), max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def __call__(self, request: Request) -> Response:
        headers = CaseInsensitiveDict(request.headers)
        auth = _Authorization(headers.pop("Authorization", None))
        failure: TransportError | None = None
        try:
            r = self.session.request(
                request.method,
                request.full_url,
                data=None if request.json is None else json.dumps(request.json),
                headers=headers,
                auth=auth,
                timeout=request.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            failure = TransportError(
                type(exc).__name__,
                timed_out=isinstance(exc, requests.Timeout),
                sent=not _never_sent(exc),
                transient=isinstance(exc, _TRANSIENT),
                refused=_refused(exc),
            )
        if failure is not None:
            # Raised outside the except block so no chained context keeps the requests
            # exception, whose prepared request holds the Authorization header.
            raise failure
        return Response(r.status_code, r.headers, r.content, r.reason or "", r.encoding)

    def close(self) -> None:
        self.session.close()

    def __repr__(self) -> str:
        return "RequestsTransport()"


class _Authorization(requests.auth.AuthBase):
    """The Authorization header, set as requests applies auth (last). A request with an auth
    object never reads ~/.netrc, whose entry for the host would replace the header."""

    def __init__(self, value: str | None) -> None:
        self._value = value

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if self._value is not None:
            request.headers["Authorization"] = self._value
        return request

    def __repr__(self) -> str:
        return "<Authorization ***>"


# Failures where the request may simply be lost: worth another try if repeating is safe.
_TRANSIENT = (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError)


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the connection was never established, so nothing reached the server."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _refused(exc: requests.RequestException) -> bool:
    """True when the host answered the connection with ECONNREFUSED (nothing listens there).

    urllib3 keeps the socket's error as the cause of its ``NewConnectionError``; with several
    addresses (``localhost``: ::1, then 127.0.0.1) the last one tried is the one kept.
    """
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if not isinstance(reason, urllib3.exceptions.NewConnectionError):
        return False
    seen: set[int] = set()
    cause: BaseException | None = reason
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, ConnectionRefusedError):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


# -- options ---------------------------------------------------------------------------------------


@dataclass
class ClientOptions:
    """Connection and pacing settings. ``rate_window`` is Webflow's (60 s); no header states it.

    ``transport`` performs the HTTP exchanges (see ``Transport``); None: a ``RequestsTransport``
    that the client closes. A transport passed in is the caller's to close.
    """

    api_base: str  # DEFAULT_API_BASE for Webflow; the CLI passes --api-base / CSVSYNC_API_BASE
    token: str = field(repr=False)
    timeout: float = 30.0
    rate_window: float = 60.0
    rate_limit: int | None = None  # None: learn from X-RateLimit-Limit (60 until the first answer)
    max_in_flight: int = 4
    max_retries: int = 8
    max_retry_time: float = 300.0
    clock: Clock | None = None
    user_agent: str = f"csvsync/{__version__}"
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    seed: int | None = None  # seeds the backoff jitter (tests, reproducible runs)
    transport: Transport | None = None
    # Told of every retry before its wait (the CLI says "cannot reach ..." once, on stderr).
    on_retry: Callable[[RetryNotice], None] | None = field(default=None, compare=False)


def check_options(options: ClientOptions) -> None:
    if not options.token or not options.token.strip() or any(c.isspace() for c in options.token):
        raise ConfigError(
            "the API token is empty or contains whitespace",
            hint="set WEBFLOW_API_TOKEN or --token-file",
        )
    checks = [
        (options.timeout > 0, "timeout must be positive"),
        (options.rate_window > 0, "rate window must be positive"),
        (options.rate_limit is None or options.rate_limit >= 1, "rate limit must be at least 1"),
        (options.max_in_flight >= 1, "max in flight must be at least 1"),
        (options.max_retries >= 0, "max retries must not be negative"),
        (options.max_retry_time >= 0, "max retry time must not be negative"),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)


def check_api_base(api_base: str) -> str:
    """Return ``api_base`` without a trailing slash, or refuse it with a ``ConfigError``
    (the rules: ``check_url``)."""
    return check_url(api_base)


def check_url(
    api_base: str, name: str = "API base", hint: str | None = None, secret: bool = False
) -> str:
    """Return the URL without a trailing slash, or refuse it with a ``ConfigError``.

    ``name`` and ``hint`` word the refusal; a ``secret`` URL (a webhook's carries its key) is
    never quoted in it.

    The host checked is the host connected to: the URL is read by urllib3's ``parse_url``, the
    parser requests connects with, and ``urlsplit`` must read the same scheme, host and port.
    Two parsers that disagree are a trick, not a typo: ``http://evil:1\\@127.0.0.1/v2`` is
    127.0.0.1 to ``urlsplit`` but requests connects to ``evil`` and sends it the token. So a base
    is refused for anything they could read differently (a backslash, user-info, a
    percent-encoded host, whitespace, control or non-ASCII characters), for a query or fragment
    (the paths appended to the base would land in them), and for plain http to anything but
    loopback (127.0.0.0/8, ::1, localhost). Messages show the URL without its user-info.
    """
    base = api_base.strip()
    shown = "" if secret else f" {without_userinfo(base)!r}"
    default_hint = hint or _BASE_HINT

    def refuse(why: str, hint: str | None = None) -> ConfigError:
        return ConfigError(f"{name}{shown} {why}", hint=hint or default_hint)

    odd = next((c for c in base if not "!" <= c <= "~"), None)  # printable ASCII only
    if odd is not None and odd.isprintable() and not odd.isspace():
        raise refuse(
            "contains a non-ASCII character, which cannot be checked as a host",
            hint="write it in ASCII: an internationalised host as xn--..., a path percent-encoded",
        )
    if odd is not None:
        raise refuse("contains whitespace or a control character")
    if "\\" in base:
        raise refuse("contains a backslash, which URL parsers read differently")
    if "@" in base:
        raise refuse(
            "contains user-info (name:password@); csvsync never sends credentials from a URL",
            hint="remove it; the token comes from WEBFLOW_API_TOKEN or --token-file",
        )
    if "?" in base or "#" in base:
        raise refuse("has a query or fragment; an API base is scheme, host, port and path")
    scheme, sep, rest = base.partition("://")
    if not sep or scheme.lower() not in ("https", "http"):
        raise refuse("is not an http(s) URL")
    if "%" in rest.split("/", 1)[0]:
        raise refuse("has a percent-encoded host or port, which URL parsers read differently")
    try:
        split = urlsplit(base)
        connected = parse_url(base)
        ours = (split.scheme.lower(), _host_key(split.hostname), split.port)
    except (ValueError, LocationParseError):
        raise refuse("has a host or port that is not valid") from None
    theirs = (str(connected.scheme).lower(), _host_key(connected.host), connected.port)
    if ours != theirs:
        raise refuse("is read differently by two URL parsers")
    host = theirs[1]
    if not host or not (_is_ip(host) or _HOST_NAME.fullmatch(host)):
        raise refuse("is not an http(s) URL with a host")
    if theirs[0] == "http" and not _is_loopback(host):
        raise refuse(
            "uses plain http, which would send "
            + ("the token" if name == "API base" else "it")
            + " unencrypted",
            hint="use https, or http only for a local sandbox (127.0.0.1, localhost, ::1)",
        )
    return base.rstrip("/")


_BASE_HINT = "use --api-base https://api.webflow.com/v2"
# A DNS name as a resolver takes it: ASCII labels of letters, digits, hyphens (and underscores).
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST_NAME = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}\.?")


def without_userinfo(url: str) -> str:
    """``url`` with anything that could be user-info (``name:password@``) replaced by ``***``.

    Up to the last ``@``, wherever it is: a password may hold ``/``, ``?`` or ``#``, and a URL
    this is shown for is one being refused, so a host hidden with it is no loss.
    """
    head, at, tail = url.rpartition("@")
    if not at:
        return url
    scheme, sep, _ = head.partition("://")
    if sep and _SCHEME.fullmatch(scheme):
        return f"{scheme}://***@{tail}"
    return f"***@{tail}"


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")


def _host_key(host: str | None) -> str:
    """A host as both parsers can be compared on: lower case, IPv6 without brackets, canonical."""
    host = (host or "").lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and ``localhost``, exactly: no IPv4-mapped forms, no ``localhost.``."""
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if address.version == 4:
        return address in _LOOPBACK_V4
    return address == ipaddress.IPv6Address("::1")


_LOOPBACK_V4 = ipaddress.IPv4Network("127.0.0.0/8")


# -- the request loop ------------------------------------------------------------------------------


@dataclass
class ClientStats:
    """Counters since the client was created; ``requests`` counts every attempt sent."""

    requests: int = 0
    write_requests: int = 0
    retries: int = 0
    rate_limit_waits: int = 0
    rate_limit_wait_seconds: float = 0.0
    responses_429: int = 0


@dataclass(frozen=True)
class Call:
    """One API call as the client means it: ``path`` below the API base; ``idempotent`` False
    for creates, which are never re-sent once they may have reached Webflow."""

    method: str
    path: str
    params: Mapping[str, str] | None = None
    body: Any = None
    idempotent: bool = True


class _Retry(Exception):
    """Internal: the attempt failed in a way that may be retried.

    ``outage`` (5xx, timeout, lost connection) retries after a backoff; otherwise (429) after
    ``delay`` seconds, the Retry-After.
    """

    def __init__(
        self,
        error: ApiError,
        delay: float,
        outage: bool,
        unreachable: bool = False,
        refused: bool = False,
    ) -> None:
        super().__init__(error.message)
        self.error = error
        self.delay = delay
        self.outage = outage
        self.unreachable = unreachable  # no connection was made: nothing reached the API
        self.refused = refused


class RequestLoop:
    """Sends ``Call``s through a ``Transport`` by the rules of the module docstring, and counts."""

    def __init__(self, options: ClientOptions, api_base: str, transport: Transport) -> None:
        self.options = options
        self.api_base = api_base
        self.transport = transport
        where = urlsplit(api_base)
        self.origin = f"{where.scheme}://{where.netloc}"
        self.loopback = _is_loopback(_host_key(where.hostname))
        self.clock: Clock = options.clock or SystemClock()
        self.pacer = Pacer(window=options.rate_window, limit=options.rate_limit, clock=self.clock)
        self.backoff = Backoff(
            options.backoff_base,
            options.backoff_cap,
            rng=None if options.seed is None else random.Random(options.seed),
        )
        # Read-only: every request shares it, and a transport must not change the next one's.
        self._headers: Mapping[str, str] = MappingProxyType(
            {
                "User-Agent": options.user_agent,
                "Accept": "application/json",
                "Content-Type": "application/json",
                "Authorization": f"Bearer {options.token.strip()}",
            }
        )
        self._in_flight = threading.BoundedSemaphore(options.max_in_flight)
        self._stats = ClientStats()
        self._lock = threading.Lock()
        # Set by the run: once true, no write request starts (one already sent may be retried).
        self.stop_writes: Callable[[], bool] | None = None
        self._outage_since: float | None = None

    def __repr__(self) -> str:
        return f"RequestLoop({self.api_base!r}, {self.transport!r})"

    @property
    def stats(self) -> ClientStats:
        """A snapshot of the counters (safe to read while a pool is running)."""
        with self._lock:
            return dataclasses.replace(self._stats)

    def call(self, call: Call) -> Any:
        """Send ``call`` until it succeeds, fails for good, or the retry budget is spent; the
        answer's JSON (None for an empty answer)."""
        first = self.clock.now()
        retries = 0
        while True:
            try:
                return self._attempt(call, fresh=retries == 0)
            except _Retry as failure:
                # A 429's Retry-After is enforced by the Pacer for every thread; backoff is ours.
                delay = failure.delay
                if failure.outage:
                    delay = max(delay, self.backoff.delay(retries))
                max_retries = self.options.max_retries
                if failure.refused and self.loopback:
                    max_retries = min(max_retries, REFUSED_LOOPBACK_ATTEMPTS - 1)
                    delay = min(delay, REFUSED_LOOPBACK_MAX_DELAY)
                outage_began = self._check_budget(failure, delay, first, retries, max_retries)
                retries += 1
                with self._lock:
                    self._stats.retries += 1
                if self.options.on_retry is not None:
                    self.options.on_retry(
                        RetryNotice(
                            origin=self.origin,
                            method=call.method,
                            url=self.api_base + call.path,
                            attempt=retries + 1,
                            attempts=max_retries + 1,
                            delay=delay,
                            reason=failure.error.message,
                            unreachable=failure.unreachable,
                            first=outage_began,
                        )
                    )
                log.info(
                    "retry %d of %s %s in %.2fs: %s",
                    retries,
                    call.method,
                    call.path,
                    delay,
                    failure.error.message,
                )
                if failure.outage:
                    self.clock.sleep(delay)

    def _check_budget(
        self, failure: _Retry, delay: float, first: float, retries: int, max_retries: int
    ) -> bool:
        """Raise the failure's error once the budget is spent; else whether this failure began
        an outage (the first since the API last answered)."""
        now = self.clock.now()
        started = first
        began = False
        if failure.outage:
            with self._lock:
                if self._outage_since is None:
                    self._outage_since = now
                    began = True
                started = min(first, self._outage_since)
        if failure.refused and self.loopback and retries >= max_retries:
            raise UnreachableError(
                f"cannot reach {self.origin}: connection refused",
                method=failure.error.method,
                url=failure.error.url,
                hint=f"{SANDBOX_HINT}; gave up after {retries + 1} attempts",
            ) from None
        over_time = now + delay - started > self.options.max_retry_time
        if retries >= max_retries or over_time:
            error = failure.error
            error.hint = (
                f"gave up after {retries + 1} attempts over {now - first:.1f}s "
                f"(--max-retry-time {self.options.max_retry_time:g}s); {error.hint or 'try later'}"
            )
            raise error from None
        return began

    def _attempt(self, call: Call, fresh: bool = True) -> Any:
        request = Request(
            call.method,
            self.api_base + call.path,
            call.params,
            call.body,
            self._headers,
            self.options.timeout,
        )
        url = request.full_url
        with self._in_flight:
            # Pace after taking a slot: the recorded start must be the real start.
            start, waited = self.pacer.acquire()
            if fresh and call.method != "GET" and self.stop_writes and self.stop_writes():
                # Checked after the pacer's wait, the last moment before sending: a stop that
                # came while this request waited its turn sends nothing new.
                raise StoppedError(
                    "stopped: interrupted; the batches in flight were finished",
                    "run the same command again to send the rest",
                )
            self._count_attempt(call, waited)
            failure: Exception | None = None
            began = time.perf_counter()
            try:
                response = self.transport(request)
            except TransportError as exc:
                log.debug("%s %s -> %s", call.method, url, exc.name)
                failure = self._transport_failure(call, url, exc)
        if failure is not None:
            raise failure
        log.debug(
            "%s %s -> %d in %.3fs", call.method, url, response.status, time.perf_counter() - began
        )
        # A 429's Remaining (0) would fill the log for a whole window; Retry-After is the
        # authoritative wait there, so only the limit is learned from it.
        remaining = response.headers.get("X-RateLimit-Remaining")
        self.pacer.observe(
            start,
            int_or_none(response.headers.get("X-RateLimit-Limit")),
            None if response.status == 429 else int_or_none(remaining),
        )
        return self._interpret(call, url, response)

    def _count_attempt(self, call: Call, waited: float) -> None:
        with self._lock:
            self._stats.requests += 1
            if call.method != "GET":
                self._stats.write_requests += 1
            if waited > 0:
                self._stats.rate_limit_waits += 1
                self._stats.rate_limit_wait_seconds += waited

    def _interpret(self, call: Call, url: str, response: Response) -> Any:
        status = response.status
        if status == 429:
            retry_after = _retry_after(response.headers.get("Retry-After"))
            self.pacer.pause(retry_after + RETRY_AFTER_CUSHION)
            with self._lock:
                self._stats.responses_429 += 1
            error = api_error(response, call.method, url, retry_after)
            raise _Retry(error, retry_after + RETRY_AFTER_CUSHION, outage=False)
        if status >= 500 or status == 408:
            error = api_error(response, call.method, url)
            # A 503 may say how long to wait; without the header the backoff decides alone.
            header = response.headers.get("Retry-After")
            wait = _retry_after(header) if header else 0.0
            raise self._transient(call, error, sent=True, retry_after=wait)
        self._mark_answered()
        if status >= 300:
            raise api_error(response, call.method, url)
        if status == 204 or not response.body:
            return None
        try:
            return response.json()
        except ValueError:
            raise ApiError(
                "the answer is not JSON",
                status=status,
                code="invalid_json",
                method=call.method,
                url=url,
            ) from None

    def _transport_failure(self, call: Call, url: str, exc: TransportError) -> Exception:
        error = ServerError(
            str(exc),
            method=call.method,
            url=url,
            hint="check the network and --api-base",
        )
        if not exc.transient:
            return error
        return self._transient(call, error, sent=exc.sent, refused=exc.refused)

    def _transient(
        self,
        call: Call,
        error: ApiError,
        sent: bool,
        retry_after: float = 0.0,
        refused: bool = False,
    ) -> Exception:
        """A 5xx or lost request: retry it if repeating is safe, else report it at once.
        ``sent`` False for a transport failure means no connection was made at all."""
        if sent and not call.idempotent:
            error.hint = CREATE_HINT
            return error
        unreachable = error.status is None and not sent
        return _Retry(error, retry_after, outage=True, unreachable=unreachable, refused=refused)

    def _mark_answered(self) -> None:
        with self._lock:
            self._outage_since = None


def int_or_none(value: Any) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _retry_after(value: str | None) -> float:
    """``Retry-After`` as seconds: a number, or an HTTP date; 60 s when absent or unreadable."""
    if value is None or not value.strip():
        return DEFAULT_RETRY_AFTER
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())

"""Sign-in for a page served beyond loopback: users (name and hash) or one password.

A users file has one ``name:hash`` a line: the hash made by ``csvsync serve --hash-password
NAME`` (scrypt, from the standard library), or an argon2 hash (``$argon2id$...``, as
``argon2-cffi`` writes it). A single password comes from ``CSVSYNC_WEB_PASSWORD`` or
``--password-file``; it is compared in constant time. Failed sign-ins are throttled per client
address. A session is a signed, expiring cookie (``HttpOnly``, ``SameSite=Strict``, ``Secure``
when the page's public URL is https); the server keeps no session table, and a new server secret
(each start) ends every session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from csvsync.errors import ConfigError

COOKIE = "csvsync_session"
HASH_PREFIXES = ("scrypt$", "$argon2id$", "$argon2i$", "$argon2d$")
SCRYPT = (2**14, 8, 1)  # n, r, p: about 16 MB and 50 ms a check
MAX_FAILURES = 5  # per client address, then a wait
LOCKOUT = 60.0  # seconds


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64) of ``password``."""
    n, r, p = SCRYPT
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32)
    return "$".join(["scrypt", str(n), str(r), str(p), _b64(salt), _b64(digest)])


def check_password(password: str, stored: str) -> bool:
    if stored.startswith("$argon2"):
        return _check_argon2(password, stored)
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(password.encode("utf-8"), salt=_unb64(salt), n=int(n), r=int(r),
                             p=int(p), dklen=len(_unb64(digest)))  # fmt: skip
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, _unb64(digest))


def _check_argon2(password: str, stored: str) -> bool:
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(PasswordHasher().verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False


def load_users(path: Path) -> dict[str, str]:
    """``name:hash`` lines; blank lines and ``#`` comments skipped; a bad line is refused."""
    users: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the users file ({exc.strerror})") from None
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        name, sep, stored = text.partition(":")
        if not sep or not name or not stored.startswith(HASH_PREFIXES):
            raise ConfigError(
                f"{path}:{number}: not a 'name:hash' line",
                "make each line with `csvsync serve --hash-password NAME`",
            )
        users[name] = stored
    if not users:
        raise ConfigError(f"{path}: no users in the users file")
    return users


@dataclass
class Auth:
    """Who may sign in, and the signed sessions. ``users`` or ``password`` (one of them)."""

    secret: str
    users: dict[str, str] = field(default_factory=dict)
    password: str | None = field(default=None, repr=False)
    secure: bool = False  # the public URL is https: cookies only over https
    ttl: float = 8 * 3600
    clock: Callable[[], float] = time.time
    _failures: dict[str, tuple[int, float]] = field(default_factory=dict)

    def sign_in(self, client: str, name: str, password: str) -> str | None:
        """The session cookie's value for a good name and password, else None."""
        count, since = self._failures.get(client, (0, 0.0))
        if count >= MAX_FAILURES and self.clock() - since < LOCKOUT:
            return None
        if self.users:
            ok = name in self.users and check_password(password, self.users[name])
        else:
            ok = self.password is not None and hmac.compare_digest(
                password.encode("utf-8"), self.password.encode("utf-8")
            )
            name = name or "editor"
        if not ok:
            self._failures[client] = (count + 1, self.clock())
            return None
        self._failures.pop(client, None)
        return self._session(name)

    def locked_out(self, client: str) -> bool:
        count, since = self._failures.get(client, (0, 0.0))
        return count >= MAX_FAILURES and self.clock() - since < LOCKOUT

    def _session(self, name: str) -> str:
        body = f"{_b64(name.encode('utf-8'))}.{int(self.clock() + self.ttl)}"
        return f"{body}.{self._sign(body)}"

    def user(self, cookie: str | None) -> str | None:
        """The signed-in user of a session cookie, or None (missing, forged, expired)."""
        if not cookie or cookie.count(".") != 2:
            return None
        name, expires, signature = cookie.split(".")
        if not hmac.compare_digest(signature, self._sign(f"{name}.{expires}")):
            return None
        try:
            if int(expires) < self.clock():
                return None
            return _unb64(name).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None

    def _sign(self, body: str) -> str:
        return hmac.new(self.secret.encode(), body.encode(), hashlib.sha256).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

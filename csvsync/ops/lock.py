"""The run lock: one csvsync run at a time per (API base, collection), machine-wide.

Lock files live in one directory for the whole machine, not beside the state file: two mappings
in two folders, the same mapping with another ``--state``, a cron user and the web page's user
all name the same collection by the same file, so they exclude each other. The directory is
``$CSVSYNC_LOCK_DIR``, else ``<temporary folder>/csvsync-locks`` (``/tmp/csvsync-locks``),
created sticky and writable by everyone (mode 1777, as ``/tmp`` itself): each user can create
lock files in it and none can delete another's.

The lock is ``flock`` on the file: the operating system releases it when the process ends, however
it ends, so a lock file left behind is never a held lock. The holder writes its pid, command and
start time into the file for ``csvsync status`` (nothing secret).

A file another user planted can neither fool nor block a run. Files are opened without following
symbolic links and without blocking (a FIFO), must be regular files, and are created readable
and writable by everyone, so every user can lock the same one. A name that is unusable (a link,
a FIFO, a directory, a file its owner made private) is passed over for the next of a few
numbered names, in the same order for everyone, so users that can all use a name still meet on
it; a planted directory is passed over the same way.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import stat
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from csvsync.errors import LockedError, StateError

LOCK_DIR_ENV = "CSVSYNC_LOCK_DIR"
CANDIDATES = 4  # numbered names tried past unusable (planted) ones


@dataclass
class RunLock:
    """A held lock; ``release`` (idempotent) lets the next run in."""

    path: Path
    fd: int | None

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            os.close(self.fd)
            self.fd = None


def lock_dir() -> Path:
    """The machine-wide folder of lock files (``$CSVSYNC_LOCK_DIR`` overrides it)."""
    configured = os.environ.get(LOCK_DIR_ENV)
    return Path(configured) if configured else Path(tempfile.gettempdir()) / "csvsync-locks"


def lock_key(api_base: str, collection: str) -> str:
    return hashlib.sha256(f"{api_base.rstrip('/')}|{collection}".encode()).hexdigest()[:16]


def acquire(api_base: str, collection: str) -> RunLock:
    """Take the lock of (API base, collection), or raise ``LockedError`` (exit 3)."""
    key = lock_key(api_base, collection)
    for path in _candidates(key):
        fd = _open(path, create=True)
        if fd is None:
            continue  # planted: not a lock file anyone can share
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                holder = _holder_text(read_holder(path))
                raise LockedError(
                    f"another csvsync run holds the lock for collection {collection} at "
                    f"{api_base}{holder}",
                    f"wait for it to finish; the lock file is {path}",
                ) from None
            raise
        _write_holder(fd)
        return RunLock(path, fd)
    raise StateError(
        f"no usable lock file for collection {collection} in {lock_dir()} (every name is taken "
        "by something that is not a lock file)",
        hint=f"set {LOCK_DIR_ENV} to a folder of your own",
    )


def held_by(api_base: str, collection: str) -> dict[str, Any] | None:
    """Who holds the lock now (pid, command, since), or None when no run holds it."""
    for path in _candidates(lock_key(api_base, collection), create=False):
        fd = _open(path, create=False)
        if fd is None:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return read_holder(path) or {}
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)
    return None


def read_holder(path: Path) -> dict[str, Any] | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = os.read(fd, 4096)
    finally:
        os.close(fd)
    try:
        holder = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return holder if isinstance(holder, dict) else None


def _holder_text(holder: dict[str, Any] | None) -> str:
    if not holder:
        return ""
    what = f" (pid {holder.get('pid')}"
    return what + (f", since {holder['since']})" if holder.get("since") else ")")


def _write_holder(fd: int) -> None:
    text = json.dumps({"pid": os.getpid(), "since": datetime.now(UTC).isoformat()})
    os.ftruncate(fd, 0)
    os.pwrite(fd, text.encode("utf-8"), 0)


def _candidates(key: str, create: bool = True) -> list[Path]:
    """The lock file names of ``key``, in the order every run tries them."""
    out = []
    for folder in _folders(create):
        out += [
            folder / (f"{key}.lock" if n == 0 else f"{key}.{n}.lock") for n in range(CANDIDATES)
        ]
    return out


def _folders(create: bool) -> list[Path]:
    """The lock folder, or past a planted one, the next of a few numbered ones."""
    base = lock_dir()
    if os.environ.get(LOCK_DIR_ENV):
        names = [base]  # the user's own choice: used as it is, created if missing
    else:
        names = [base if n == 0 else base.with_name(f"{base.name}.{n}") for n in range(CANDIDATES)]
    usable = []
    for folder in names:
        if create:
            _make_folder(folder)
        try:
            info = os.lstat(folder)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and os.access(folder, os.W_OK | os.X_OK):
            usable.append(folder)
    if not usable and create:
        raise StateError(
            f"the lock folder {base} cannot be used (not a folder this user can write)",
            hint=f"set {LOCK_DIR_ENV} to a folder of your own",
        )
    return usable


def _make_folder(folder: Path) -> None:
    shared = not os.environ.get(LOCK_DIR_ENV)
    old = os.umask(0)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        os.mkdir(folder, 0o1777 if shared else 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        if shared:
            return  # passed over in ``_folders``
        raise StateError(
            f"the lock folder {folder} cannot be created ({exc.strerror or exc})",
            hint=f"set {LOCK_DIR_ENV} to a folder you can write",
        ) from None
    finally:
        os.umask(old)


def _open(path: Path, create: bool) -> int | None:
    """A lock file's descriptor, or None when the name holds something else (a link, a FIFO,
    a folder, a file this user may not open)."""
    flags = os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    old = os.umask(0)  # readable and writable by every user, so all can lock the same file
    try:
        fd = os.open(path, flags | (os.O_CREAT if create else 0), 0o666)
    except OSError:
        return None
    finally:
        os.umask(old)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd

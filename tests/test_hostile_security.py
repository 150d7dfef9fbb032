"""Hostile input, security part (issue 12): API base URLs that trick the loopback rule, and state
files that are not csvsync's, are damaged, newer, or cannot be written.

Each case runs a real command against a sandbox through ``hostile.check``: one ``Error:`` line,
exit 2, no traceback, nothing sent, nothing half-written, no token. URL cases also prove that no
request at all reached the sandbox; state cases that the file is left byte for byte as it was.
Every address any case could connect to, had the check failed, is a loopback one.
"""

from __future__ import annotations

import dataclasses
import shutil
import socket
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hostile import Case, Setup, check
from hypothesis import given, settings
from hypothesis import strategies as st
from support import Workspace, make_workspace
from urllib3.util import parse_url

from csvsync.errors import EXIT_START, EXIT_STOPPED, ConfigError, InternalError, StateError
from csvsync.ops.context import Job
from csvsync.ops.demo import DEMO_TOKEN
from csvsync.options import RunOptions
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import DEMO_COLLECTION_ID
from csvsync.webflow.transport import check_api_base, without_userinfo


def _writes_to_read_only_folders() -> bool:
    """True where permissions do not bind (root, or a file system that ignores modes)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "ro"
        folder.mkdir()
        folder.chmod(0o555)
        try:
            (folder / "probe").touch()
        except PermissionError:
            return False
        finally:
            folder.chmod(0o755)
        return True


# Root writes where permissions say no, and CI runs as root: there the permission cases run
# through setpriv (util-linux) with the two capabilities that let root ignore permissions
# dropped, so they are tested, never skipped.
AS_USER: tuple[str, ...] = (
    ("setpriv", "--bounding-set=-dac_override,-dac_read_search", "--")
    if _writes_to_read_only_folders()
    else ()
)


@pytest.fixture(scope="module")
def sandbox_for_module() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000)) as sb:
        yield sb


@pytest.fixture
def ws(sandbox_for_module: Sandbox, tmp_path: Path) -> Workspace:
    workspace = make_workspace(sandbox_for_module, tmp_path)
    workspace.write_sheet(name="sheet.csv")
    sandbox_for_module.clear_log()
    return workspace


# -- setups ----------------------------------------------------------------------------------------


def sandbox_address(ws: Workspace) -> dict[str, str]:
    """``{hostport}`` (127.0.0.1:PORT of the sandbox) and ``{port}`` for the command line."""
    netloc = urlsplit(ws.sb.base_url).netloc
    return {"hostport": netloc, "port": netloc.rsplit(":", 1)[1]}


def real_state(ws: Workspace) -> Path:
    """A state file as csvsync writes it (a pull of the demo collection), at the default path."""
    result = ws.run("pull", "-m", str(ws.mapping))
    assert result.exit_code == 0, result.output
    ws.sb.clear_log()
    path = ws.mapping.parent / ".csvsync" / "state.db"
    assert path.stat().st_size > 1000 and not Path(f"{path}-wal").exists()
    return path


def keep_copy(ws: Workspace, path: Path) -> None:
    """A copy of ``path`` under pristine/, for ``unchanged`` to compare with after the run."""
    (ws.dir / "pristine").mkdir(exist_ok=True)
    shutil.copyfile(path, ws.dir / "pristine" / path.name)


def unchanged(name: str) -> Callable[[Workspace], None]:
    """After the run: the file is byte for byte as the setup left it (nothing repaired, dropped,
    marked or moved), and SQLite left no journal beside it."""

    def after(ws: Workspace) -> None:
        path = next(p for p in ws.dir.rglob(name) if "pristine" not in p.parts)
        assert path.read_bytes() == (ws.dir / "pristine" / name).read_bytes(), f"{path} changed"
        for suffix in ("-wal", "-shm", "-journal"):
            assert not Path(f"{path}{suffix}").exists(), f"{path}{suffix} left behind"

    return after


def no_file(name: str) -> Callable[[Workspace], None]:
    def after(ws: Workspace) -> None:
        assert not (ws.dir / name).exists(), f"{name} was written"

    return after


def all_of(*checks: Callable[[Workspace], None]) -> Callable[[Workspace], None]:
    def after(ws: Workspace) -> None:
        for one in checks:
            one(ws)

    return after


def foreign_shop(ws: Workspace) -> dict[str, str]:
    """Another program's database whose ``variants`` table a csvsync upgrade used to drop."""
    path = ws.dir / "other.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE products(id INTEGER PRIMARY KEY, title TEXT);"
            "CREATE TABLE variants(id INTEGER PRIMARY KEY, product_id INTEGER, sku TEXT);"
            "INSERT INTO products VALUES(1, 'Mug');"
            "INSERT INTO variants VALUES(1, 1, 'MUG-RED'), (2, 1, 'MUG-BLUE');"
        )
    db.close()
    keep_copy(ws, path)
    return {}


def foreign_marked(ws: Workspace) -> dict[str, str]:
    """A database marked by another program (application_id), with tables named like ours."""
    path = ws.dir / "other.db"
    db = sqlite3.connect(path)
    db.executescript(
        "PRAGMA application_id=1179602244;"  # "FOSD": not csvsync's
        "CREATE TABLE runs(run_id TEXT PRIMARY KEY, scope INTEGER, command TEXT);"
        "INSERT INTO runs VALUES('theirs', 1, 'backup');"
    )
    db.close()
    keep_copy(ws, path)
    return {}


def foreign_settings(ws: Workspace) -> dict[str, str]:
    """An unmarked database with only a ``meta(key, value)`` table: a name csvsync uses, but
    without csvsync's key column."""
    path = ws.dir / "other.db"
    db = sqlite3.connect(path)
    db.executescript("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);")
    db.execute("INSERT INTO meta VALUES('theme', 'dark')")
    db.commit()
    db.close()
    keep_copy(ws, path)
    return {}


def text_file(ws: Workspace) -> dict[str, str]:
    path = ws.dir / "notes.db"
    path.write_text("these are my notes, not a database\n", encoding="utf-8")
    keep_copy(ws, path)
    return {}


def truncated_state(ws: Workspace) -> dict[str, str]:
    """The first 1,000 bytes of a real state file (a copy cut short, a full disk)."""
    path = real_state(ws)
    path.write_bytes(path.read_bytes()[:1000])
    keep_copy(ws, path)
    return {}


def scrambled_state(ws: Workspace) -> dict[str, str]:
    """A real state file whose first page (the schema) is overwritten past its header."""
    path = real_state(ws)
    data = bytearray(path.read_bytes())
    data[100:4000] = b"\xa5" * 3900
    path.write_bytes(bytes(data))
    keep_copy(ws, path)
    return {}


def damaged_pages(ws: Workspace, keep: Callable[[int], int]) -> None:
    """A real state file whose pages from ``keep(pages)`` on are garbage (page 1, the schema,
    intact, so the file opens)."""
    path = real_state(ws)
    with sqlite3.connect(path) as db:
        page = int(db.execute("PRAGMA page_size").fetchone()[0])
    db.close()
    data = bytearray(path.read_bytes())
    cut = keep(len(data) // page) * page
    data[cut:] = b"\xa5" * (len(data) - cut)
    path.write_bytes(bytes(data))
    keep_copy(ws, path)


def damaged_tables(ws: Workspace) -> dict[str, str]:
    """Every page past the schema is garbage: the first read of a table finds it."""
    damaged_pages(ws, lambda pages: 1)
    return {}


def damaged_cache(ws: Workspace) -> dict[str, str]:
    """The last third of the file is garbage: the run starts (scopes and metadata read fine)
    and meets the damage part-way, after its first requests."""
    damaged_pages(ws, lambda pages: pages - pages // 3)
    return {}


def future_state(ws: Workspace) -> dict[str, str]:
    """A real state file as a newer csvsync would leave it (a higher layout version)."""
    path = real_state(ws)
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version=99")
    db.execute("PRAGMA journal_mode=DELETE")
    db.close()
    keep_copy(ws, path)
    return {}


def parent_is_file(ws: Workspace) -> dict[str, str]:
    (ws.dir / "afile").write_text("x", encoding="utf-8")
    return {}


def foreign_at_default_path(ws: Workspace) -> dict[str, str]:
    foreign_shop(ws)
    path = ws.mapping.parent / ".csvsync" / "state.db"
    path.parent.mkdir()
    (ws.dir / "other.db").rename(path)
    (ws.dir / "pristine" / "other.db").rename(ws.dir / "pristine" / "state.db")
    return {}


def read_only_folder(ws: Workspace) -> dict[str, str]:
    folder = ws.dir / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    return {}


def read_only_state(ws: Workspace) -> dict[str, str]:
    """A real state file its user may read but not write (and a folder they cannot write)."""
    path = real_state(ws)
    path.chmod(0o444)
    path.parent.chmod(0o555)
    return {}


def restore_permissions(ws: Workspace) -> None:
    for path in ws.dir.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


# -- the cases -------------------------------------------------------------------------------------

M = ("-m", "{mapping}")
PLAN = ("plan", *M, "{sheet}")
SYNC = ("sync", *M, "{sheet}")
PULL = ("pull", *M)
REVERT = ("revert", "last", *M)
EXPORT = ("export", *M, "{dir}/out.xlsx")


def url_case(
    id: str,
    command: tuple[str, ...],
    base: str,
    says: str,
    *,
    env: bool = False,
    also_says: tuple[str, ...] = (),
    never_says: tuple[str, ...] = (),
) -> Case:
    """A command with ``base`` as --api-base (``env``: as CSVSYNC_API_BASE), refused before
    any request."""
    return Case(
        id,
        command if env else (*command, "--api-base", base),
        sandbox_address,
        EXIT_START,
        says,
        env={"CSVSYNC_API_BASE": base} if env else {},
        no_requests=True,
        also_says=also_says,
        never_says=never_says,
        after=no_file("out.xlsx") if command is EXPORT else None,
    )


URL_CASES = [
    # The trick: urlsplit reads 127.0.0.1 (loopback, plain http allowed) where requests
    # connects to the host before the backslash (here a closed loopback port).
    url_case("url-backslash", PLAN, "http://127.0.0.1:1\\@{hostport}/v2", "backslash"),
    # The mirror image: requests would connect to the sandbox, urlsplit reads another host.
    url_case("url-backslash-mirror", SYNC, "http://{hostport}\\@127.0.0.1:1/v2", "backslash"),
    url_case(
        "url-userinfo",
        PULL,
        "http://csvsync:s3cret-pass@{hostport}/v2",
        "contains user-info",
        also_says=("'http://***@127.0.0.1:",),
        never_says=("s3cret-pass", "csvsync:s3"),
    ),
    url_case(
        "url-userinfo-https-env",
        EXPORT,
        "https://csvsync:s3cret-pass@{hostport}/v2",
        "contains user-info",
        env=True,
        never_says=("s3cret-pass",),
    ),
    # "%2f" in the user-info: a slash to one reader, part of a name to another.
    url_case(
        "url-userinfo-encoded-slash",
        REVERT,
        "http://127.0.0.1%2f@{hostport}/v2",
        "contains user-info",
        never_says=("%2f",),
    ),
    # urllib3 decodes a percent-encoded host (127.0.0.1 here), urlsplit does not.
    url_case("url-percent-host", PLAN, "http://%31%32%37.0.0.1:{port}/v2", "percent-encoded"),
    # A terminal escape (clear screen) must not reach the terminal raw either.
    url_case(
        "url-control-char",
        PULL,
        "http://{hostport}/v2\x1b[2J",
        "whitespace or a control character",
        never_says=("\x1b",),
    ),
    # urlsplit silently drops a newline (reading host "127.0.0.1.example"); urllib3 refuses it.
    url_case(
        "url-newline-env",
        SYNC,
        "http://127.0.0.1\n.example:{port}/v2",
        "whitespace or a control character",
        env=True,
    ),
    url_case("url-inner-space", EXPORT, "http://{hostport} /v2", "whitespace"),
    # Full-width "localhost": IDNA would fold it to localhost; csvsync does not guess.
    url_case("url-non-ascii-host", PLAN, "https://ｌｏｃａｌｈｏｓｔ:{port}/v2", "non-ASCII"),
    url_case("url-fragment", PULL, "http://{hostport}/v2#", "query or fragment"),
    url_case("url-query", REVERT, "http://{hostport}/v2?host=127.0.0.1", "query or fragment"),
    url_case("url-two-ports", SYNC, "http://{hostport}:80/v2", "host or port that is not valid"),
    url_case("url-no-host", EXPORT, "http://:{port}/v2", "with a host"),
    # 2130706433 is 127.0.0.1 to the resolver, but not a loopback address csvsync can check.
    url_case("url-integer-ip", PLAN, "http://2130706433:{port}/v2", "uses plain http"),
    url_case("url-mapped-ipv6", PULL, "http://[::ffff:127.0.0.1]:{port}/v2", "uses plain http"),
    url_case("url-not-http", REVERT, "file:///etc/passwd", "is not an http(s) URL", env=True),
]


def state_case(
    id: str,
    command: tuple[str, ...],
    setup: Setup,
    says: str,
    *,
    also_says: tuple[str, ...] = (),
    no_requests: bool = False,
    after: Callable[[Workspace], None] | None = None,
) -> Case:
    return Case(
        id,
        command,
        setup,
        EXIT_START,
        says,
        no_requests=no_requests,
        also_says=also_says,
        after=after,
    )


MOVE_ASIDE = ("run history and revert journal", "keep a copy, e.g. mv ", ".bak")

STATE_CASES = [
    # Issue 12: this used to DROP the shop's variants table and exit 0.
    state_case(
        "state-foreign-variants",
        (*PLAN, "--state", "{dir}/other.db"),
        foreign_shop,
        "another program's SQLite database",
        also_says=("csvsync changed nothing in it",),
        no_requests=True,
        after=unchanged("other.db"),
    ),
    state_case(
        "state-foreign-variants-sync",
        (*SYNC, "--state", "{dir}/other.db"),
        foreign_shop,
        "not a csvsync state file",
        no_requests=True,
        after=unchanged("other.db"),
    ),
    state_case(
        "state-foreign-application-id",
        (*PULL, "--state", "{dir}/other.db"),
        foreign_marked,
        "another program's SQLite database",
        no_requests=True,
        after=unchanged("other.db"),
    ),
    state_case(
        "state-foreign-meta",
        (*EXPORT, "--state", "{dir}/other.db"),
        foreign_settings,
        "another program's SQLite database",
        no_requests=True,
        after=unchanged("other.db"),
    ),
    state_case(
        "state-foreign-revert-list",
        ("revert", "--list", *M, "--state", "{dir}/other.db"),
        foreign_shop,
        "another program's SQLite database",
        no_requests=True,
        after=unchanged("other.db"),
    ),
    state_case(
        "state-text-file",
        (*REVERT, "--state", "{dir}/notes.db"),
        text_file,
        "is not a SQLite database",
        no_requests=True,
        after=unchanged("notes.db"),
    ),
    state_case(
        "state-truncated",
        PULL,
        truncated_state,
        "is damaged",
        also_says=MOVE_ASIDE,
        no_requests=True,
        after=unchanged("state.db"),
    ),
    state_case(
        "state-truncated-revert",
        REVERT,
        truncated_state,
        "is damaged",
        also_says=MOVE_ASIDE,
        no_requests=True,
        after=unchanged("state.db"),
    ),
    state_case(
        "state-scrambled-schema",
        PLAN,
        scrambled_state,
        "is damaged",
        also_says=MOVE_ASIDE,
        no_requests=True,
        after=unchanged("state.db"),
    ),
    state_case(
        "state-damaged-tables",
        REVERT,
        damaged_tables,
        "is damaged",
        also_says=MOVE_ASIDE,
        no_requests=True,
        after=unchanged("state.db"),
    ),
    # Found part-way, after requests (reads only): still one line, and exit 2 (nothing written).
    state_case(
        "state-damaged-cache",
        EXPORT,
        damaged_cache,
        "is damaged",
        also_says=MOVE_ASIDE,
        after=all_of(no_file("out.xlsx"), unchanged("state.db")),
    ),
    state_case(
        "state-damaged-cache-plan",
        PLAN,
        damaged_cache,
        "is damaged",
        after=unchanged("state.db"),
    ),
    state_case(
        "state-future-version",
        SYNC,
        future_state,
        "written by a newer csvsync (state version 99",
        also_says=("upgrade csvsync", *MOVE_ASIDE),
        no_requests=True,
        after=unchanged("state.db"),
    ),
    state_case(
        "state-future-version-pull",
        PULL,
        future_state,
        "newer csvsync",
        no_requests=True,
        after=unchanged("state.db"),
    ),
    state_case(
        "state-parent-is-a-file",
        (*PULL, "--state", "{dir}/afile/state.db"),
        parent_is_file,
        "afile is a file",
        no_requests=True,
    ),
    state_case(
        "state-parent-is-a-file-export",
        (*EXPORT, "--state", "{dir}/afile/sub/state.db"),
        parent_is_file,
        "afile is a file",
        no_requests=True,
        after=no_file("out.xlsx"),
    ),
    # Another program's file where csvsync's own state file should be: no --state given.
    state_case(
        "state-foreign-at-the-default-path",
        REVERT,
        foreign_at_default_path,
        "another program's SQLite database",
        no_requests=True,
        after=unchanged("state.db"),
    ),
]

PERMISSION_CASES = [
    state_case(
        "state-read-only-folder",
        (*PLAN, "--state", "{dir}/ro/state.db"),
        read_only_folder,
        "cannot be written",
        no_requests=True,
        after=restore_permissions,
    ),
    state_case(
        "state-read-only-file",
        SYNC,
        read_only_state,
        "cannot be written",
        after=restore_permissions,
    ),
]


@pytest.mark.parametrize(
    "case",
    [
        *URL_CASES,
        *STATE_CASES,
        *(dataclasses.replace(c, subprocess=True, prefix=AS_USER) for c in PERMISSION_CASES),
    ],
    ids=str,
)
def test_hostile_input_gets_one_line_and_exit_2(ws: Workspace, case: Case) -> None:
    check(ws, case)


# -- the trick, end to end -------------------------------------------------------------------------


class Trap:
    """A loopback listener standing for the host a trick URL would send the token to."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.2)
        self.received = b""
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(2)
                try:
                    self.received += conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def trap() -> Iterator[Trap]:
    t = Trap()
    yield t
    t.close()


def test_the_backslash_trick_sends_nothing_to_the_host_requests_would_connect_to(
    ws: Workspace, trap: Trap
) -> None:
    hostport = urlsplit(ws.sb.base_url).netloc
    hostile = f"http://127.0.0.1:{trap.port}\\@{hostport}/v2"
    # The premise, as the installed parsers read it: the loopback rule's parser sees the
    # sandbox, the HTTP stack's parser sees the trap.
    assert urlsplit(hostile).port == int(hostport.rsplit(":", 1)[1])
    assert parse_url(hostile).port == trap.port
    result = ws.run("plan", "-m", str(ws.mapping), str(ws.dir / "sheet.csv"), "--api-base", hostile)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "backslash" in lines[0]
    assert DEMO_TOKEN not in result.output
    assert trap.connections == 0 and trap.received == b""
    assert ws.sb.log() == []
    # The trap was listening all along: the HTTP stack itself, given that URL, goes there.
    import requests

    requests.get(hostile, headers={"Authorization": "Bearer canary"}, timeout=5)
    assert trap.connections == 1 and b"Bearer canary" in trap.received


# -- check_api_base on its own ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "base",
    [
        "https://api.webflow.com/v2",
        "https://api.webflow.com/v2/",
        "  https://api.webflow.com/v2\n",  # the ends are trimmed, as before
        "http://127.0.0.1:8787/v2",
        "http://127.255.0.9:1/v2",
        "http://localhost:8787/v2",
        "HTTP://LOCALHOST:8787/v2",
        "http://[::1]:8787/v2",
        "https://xn--bcher-kva.example/v2",  # an internationalised name, written in ASCII
        "https://[2001:db8::1]:8443/v2",
    ],
)
def test_plain_bases_are_accepted(base: str) -> None:
    assert check_api_base(base) == base.strip().rstrip("/")


@pytest.mark.parametrize(
    ("base", "says"),
    [
        ("http://evil.example:1\\@127.0.0.1:8787/v2", "backslash"),
        ("https://api.webflow.com\\@127.0.0.1/v2", "backslash"),
        ("http://user:pw@127.0.0.1:8787/v2", "user-info"),
        ("https://token@api.webflow.com/v2", "user-info"),
        ("http://127.0.0.1:8787@evil.example/v2", "user-info"),
        ("http://%6c%6fcalhost:8787/v2", "percent-encoded"),
        ("http://[::1%25lo]:8787/v2", "percent-encoded"),
        ("http://127.0.0.1:8787/v2?x", "query or fragment"),
        ("http://127.0.0.1:8787/v2#x", "query or fragment"),
        ("http://127.0.0.1\t:8787/v2", "whitespace"),
        ("http://127.0.0.1:8787/v\x002", "control character"),
        ("http://127.0.0.1:8787/v2\u202e", "control character"),  # right-to-left override
        ("https://bücher.example/v2", "non-ASCII"),
        ("http://127.0.0.1:８７８７/v2", "non-ASCII"),  # full-width digits
        ("http://127.0.0.1:99999/v2", "not valid"),
        ("http://[127.0.0.1]:8787/v2", "not valid"),
        ("http://127.0.0.1:87:87/v2", "not valid"),
        ("http://:8787/v2", "with a host"),
        ("https://-evil.example/v2", "with a host"),
        ("http:/127.0.0.1/v2", "not an http(s) URL"),
        ("ftp://127.0.0.1/v2", "not an http(s) URL"),
        ("127.0.0.1:8787/v2", "not an http(s) URL"),
        ("http://localhost./v2", "plain http"),
        ("http://localhost.evil.example/v2", "plain http"),
        ("http://127.1:8787/v2", "plain http"),
        ("http://0x7f.0.0.1:8787/v2", "plain http"),
        ("http://[::ffff:127.0.0.1]:8787/v2", "plain http"),
        ("http://192.0.2.1/v2", "plain http"),
    ],
)
def test_tricks_are_refused(base: str, says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        check_api_base(base)
    assert says in str(refused.value)
    assert "\n" not in str(refused.value) and "pw@" not in str(refused.value)


def test_user_info_is_never_shown() -> None:
    with pytest.raises(ConfigError) as refused:
        check_api_base("https://me:hunter2/x@api.webflow.com/v2")
    assert "hunter2" not in str(refused.value)
    assert "'https://***@api.webflow.com/v2'" in str(refused.value)
    assert without_userinfo("https://a:b@c@host/v2") == "https://***@host/v2"
    assert without_userinfo("https://host/v2") == "https://host/v2"


PIECES = st.sampled_from(
    [
        "http://", "https://", "HTTP://", "http:/", "//", "127.0.0.1", "127.0.0.2", "localhost",
        "evil.example", "[::1]", "[::ffff:127.0.0.1]", "2130706433", ":8787", ":1", ":", "/v2",
        "/", "\\", "@", "user:pw@", "%2f", "%31", "#", "?", " ", "\t", "\n", "\x00", "ｌ", ".",
        "[", "]", ";", ",", "xn--bcher-kva.example",
    ]
)  # fmt: skip


@settings(max_examples=600, deadline=None)
@given(st.lists(PIECES, min_size=1, max_size=8).map("".join))
def test_an_accepted_base_reads_the_same_to_both_parsers_and_keeps_http_on_loopback(
    base: str,
) -> None:
    try:
        checked = check_api_base(base)
    except ConfigError as refused:
        assert "pw@" not in str(refused) and "user:" not in str(refused)
        assert "\n" not in str(refused)
        return
    theirs, ours = parse_url(checked), urlsplit(checked)
    host = (theirs.host or "").lower()
    assert host.strip("[]") == (ours.hostname or "").lower() != ""
    assert theirs.port == ours.port and theirs.auth is None and ours.username is None
    assert "\\" not in checked and "@" not in checked
    if (theirs.scheme or "").lower() == "http":
        assert host in ("localhost", "[::1]") or host.startswith("127."), checked


# -- damage met part-way ---------------------------------------------------------------------------


def test_damage_met_after_a_write_request_is_one_line_with_exit_4(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """SQLite reports damage when a run reads the damaged page, which may be after a write
    went out: then the README's exit 4 (stopped part-way), not 2 (nothing written)."""
    ws = make_workspace(sandbox, tmp_path)  # a sandbox of its own: this test writes
    options = RunOptions(mapping=ws.mapping, api_base=ws.sb.base_url, token=DEMO_TOKEN)
    with pytest.raises(StateError, match="is damaged") as stopped, Job(options) as job:
        item = ws.frame["Item ID"].iloc[0]
        job.client.update_items_live(
            DEMO_COLLECTION_ID, [{"id": item, "fieldData": {"name": "Renamed"}}]
        )
        raise sqlite3.DatabaseError("database disk image is malformed")  # as SQLite would
    assert stopped.value.exit_code == EXIT_STOPPED
    assert stopped.value.__cause__ is None and stopped.value.__suppress_context__


def test_an_error_of_csvsync_itself_keeps_its_traceback(ws: Workspace) -> None:
    """Only SQLite's word on the file becomes a StateError; a wrong statement is a bug: an
    internal error (exit 2 before any write), with the SQLite error as its cause."""
    options = RunOptions(mapping=ws.mapping, api_base=ws.sb.base_url, token=DEMO_TOKEN)
    with pytest.raises(InternalError, match="no such table") as bug, Job(options) as job:
        job.state.db.execute("SELECT * FROM no_such_table")
    assert isinstance(bug.value.__cause__, sqlite3.OperationalError)
    assert bug.value.exit_code == 2


# The hostile-input corpus: the whole suite (CI) runs it; the fast tier leaves it out.
pytestmark = pytest.mark.slow

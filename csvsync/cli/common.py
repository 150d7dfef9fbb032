"""What every command shares: option groups, the one error handler, the stop-on-signals context.

Option groups are decorators (as in sqlite-utils) that also gather their options into one typed
object, so a command takes ``api: ApiArgs`` and ``sheet: SheetArgs`` rather than twenty keyword
arguments. Nothing here imports pandas or the operations: ``csvsync --help`` stays fast.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from csvsync.errors import ConfigError, CsvsyncError
from csvsync.options import DEFAULT_API_BASE, RetryNotice, RunOptions, SheetOptions

if TYPE_CHECKING:  # the client is built when a command runs, not on every CLI start
    from csvsync.webflow import WebflowClient

F = TypeVar("F", bound=Callable[..., Any])
PathType = click.Path(path_type=Path, dir_okay=False)


def stack(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def apply(func: F) -> F:
        for dec in reversed(decorators):
            func = dec(func)
        return func

    return apply


def _gathered(cls: type, name: str, decorators: Callable[[F], F]) -> Callable[[F], F]:
    """Apply click options, then hand the command one ``cls`` built from them as ``name``."""
    keys = [f.name for f in fields(cls)]

    def wrap(func: F) -> F:
        @functools.wraps(func)
        def inner(**kw: Any) -> Any:
            kw[name] = cls(**{k: kw.pop(k) for k in keys})
            return func(**kw)

        return decorators(inner)  # type: ignore[arg-type]

    return wrap


# -- the API connection: every command that talks to Webflow -------------------------------------

# Single options shared by commands with other option sets (status, init, export, serve).
mapping_option = click.option(
    "-m", "--mapping", "mapping", required=True, type=PathType, help="YAML column mapping."
)

api_base_option = click.option(
    "--api-base",
    envvar="CSVSYNC_API_BASE",
    default=DEFAULT_API_BASE,
    show_default=True,
    help="Webflow API base URL (env CSVSYNC_API_BASE).",
)

token_file_option = click.option(
    "--token-file",
    type=PathType,
    help="File holding the API token (mode 600). Default: env WEBFLOW_API_TOKEN.",
)

state_option = click.option(
    "--state",
    "state_path",
    type=PathType,
    help="State cache file. Default: .csvsync/state.db next to the mapping.",
)


@dataclass(frozen=True)
class ApiArgs:
    mapping: Path
    api_base: str
    token_file: Path | None
    state_path: Path | None
    refresh: bool
    rate_window: float
    max_in_flight: int
    max_retry_time: float
    timeout: float


api_options = _gathered(
    ApiArgs,
    "api",
    stack(
        mapping_option,
        api_base_option,
        token_file_option,
        state_option,
        click.option("--refresh", is_flag=True, help="Reload schema, locales and all live items."),
        click.option(
            "--rate-window",
            type=float,
            default=60.0,
            show_default=True,
            help="Seconds in Webflow's rate-limit window (no header says it).",
        ),
        click.option(
            "--max-in-flight",
            type=click.IntRange(1, 16),
            default=4,
            show_default=True,
            help="Requests in flight at once.",
        ),
        click.option(
            "--max-retry-time",
            type=float,
            default=300.0,
            show_default=True,
            help="Give up on an unreachable API after this many seconds.",
        ),
        click.option(
            "--timeout",
            type=float,
            default=30.0,
            show_default=True,
            help="Seconds to wait for one answer.",
        ),
    ),
)


# -- the sheet and what a plan or sync does with it ----------------------------------------------


@dataclass(frozen=True)
class SheetArgs:
    sheet: Path | None
    sheet_name: str | None
    encoding: str | None
    delimiter: str | None
    allow_missing_columns: bool
    create: bool
    results: Path | None
    keep_results: int | None
    batch_size: int
    on_conflict: str
    write_back: bool
    target: str
    publish: bool
    unpublish_missing: bool
    max_unpublish: float
    yes: bool
    item_limit: int | None


sheet_options = _gathered(
    SheetArgs,
    "sheet",
    stack(
        click.argument("sheet", type=PathType, required=False),
        click.option(
            "--sheet",
            "sheet_name",
            help="XLSX sheet name (default: the mapping's, else the first).",
        ),
        click.option("--encoding", help="CSV encoding (default UTF-8, with or without BOM)."),
        click.option("--delimiter", help="CSV delimiter (default: sniffed)."),
        click.option(
            "--allow-missing-columns",
            is_flag=True,
            help="Leave fields whose columns the sheet lacks alone, instead of refusing.",
        ),
        click.option(
            "--create",
            is_flag=True,
            help="With key: {field: ...}: create an item for a key value no item has "
            "(without it such a row is 'not found', with the nearest existing value).",
        ),
        click.option(
            "--results",
            type=PathType,
            help="Results workbook path (replaced atomically). Default: next to the sheet, "
            "and none for a run that changed nothing and found no problem.",
        ),
        click.option(
            "--keep-results",
            type=click.IntRange(min=1),
            metavar="N",
            help="Keep only the newest N default-named results workbooks of this sheet.",
        ),
        click.option(
            "--batch-size",
            type=click.IntRange(1, 100),
            default=100,
            show_default=True,
            help="Item-variants per write request (Webflow takes at most 100).",
        ),
        click.option(
            "--on-conflict",
            type=click.Choice(["report", "overwrite", "keep-live"]),
            default="report",
            show_default=True,
            help="When a field changed in Webflow since the last sync.",
        ),
        click.option(
            "--write-back",
            is_flag=True,
            help="Write a copy of the sheet with new items' ids (<name>.with-ids.<ext>).",
        ),
        click.option(
            "--target",
            type=click.Choice(["live", "staged", "both"]),
            default="live",
            show_default=True,
            help="live: the site at once (the Designer keeps the old text); staged: the "
            "Designer's version (put live with --publish); both: the two, kept equal.",
        ),
        click.option(
            "--publish",
            is_flag=True,
            help="With --target staged: publish exactly the items written.",
        ),
        click.option(
            "--unpublish-missing",
            is_flag=True,
            help="Unpublish live items that no row of the sheet names.",
        ),
        click.option(
            "--max-unpublish",
            type=click.FloatRange(0, 1),
            default=0.10,
            show_default=True,
            help="Refuse --unpublish-missing above this share of the collection without --yes.",
        ),
        click.option(
            "--yes",
            is_flag=True,
            help="Unpublish even above --max-unpublish (--unpublish-missing).",
        ),
        click.option(
            "--item-limit",
            type=click.IntRange(min=0),
            metavar="N",
            help="The site plan's CMS item limit (2,000 on CMS, 10,000 on Business): refuse, "
            "before sending anything, creates that would take the site past it.",
        ),
    ),
)


# -- what a run prints and logs ------------------------------------------------------------------


@dataclass(frozen=True)
class OutputArgs:
    as_json: bool
    quiet: bool
    log_file: Path | None = None
    log_format: str = "text"
    notify_url: str | None = field(default=None, repr=False)  # a secret, like the token


quiet_option = click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON summary on stdout."
)

output_options = _gathered(
    OutputArgs,
    "output",
    stack(
        json_option,
        quiet_option,
        click.option(
            "--log-file",
            type=PathType,
            help="Append a line per batch (and per run start/end) to this file.",
        ),
        click.option(
            "--log-format",
            type=click.Choice(["text", "json"]),
            default="text",
            show_default=True,
            help="Log lines as plain text or as one JSON object each.",
        ),
        click.option(
            "--notify-url",
            envvar="CSVSYNC_NOTIFY_URL",
            metavar="URL",
            help="After a run with problems, POST its JSON summary here (Slack-compatible "
            "'text' too). A secret: never printed or logged (env CSVSYNC_NOTIFY_URL).",
        ),
    ),
)


def show_option(func: F) -> F:
    """``--show``, for the commands that list field changes (plan, sync, revert)."""
    return click.option(
        "--show",
        type=click.Choice(["some", "all"]),
        default="some",
        show_default=True,
        help="How many field changes to print.",
    )(func)


# -- from arguments to the library's options -----------------------------------------------------


def run_options(api: ApiArgs, sheet: SheetArgs | None = None, **extra: Any) -> RunOptions:
    """The one ``RunOptions`` of a command. The token is read here, never from an argument."""
    from csvsync.ops.context import token_from_env

    more: dict[str, Any] = {}
    if sheet is not None:
        more = dict(
            sheet=sheet.sheet,
            results=sheet.results,
            keep_results=sheet.keep_results,
            batch_size=sheet.batch_size,
            allow_missing_columns=sheet.allow_missing_columns,
            create=sheet.create,
            write_back=sheet.write_back,
            unpublish_missing=sheet.unpublish_missing,
            target=sheet.target,
            publish=sheet.publish,
            max_unpublish=sheet.max_unpublish,
            yes=sheet.yes,
            item_limit=sheet.item_limit,
            on_conflict=sheet.on_conflict,
            sheet_options=SheetOptions(
                encoding=sheet.encoding, delimiter=sheet.delimiter, sheet_name=sheet.sheet_name
            ),
        )
    extra.setdefault("on_retry", retry_sink())
    return RunOptions(
        mapping=api.mapping,
        api_base=api.api_base,
        token=token_from_env(api.token_file),
        state_path=api.state_path,
        refresh=api.refresh,
        rate_window=api.rate_window,
        max_in_flight=api.max_in_flight,
        max_retry_time=api.max_retry_time,
        timeout=api.timeout,
        **more,
        **extra,
    )


def retry_sink() -> Callable[[RetryNotice], None] | None:
    """``show_retry``, unless the command runs with ``--quiet``: a run that then succeeds must
    print nothing (cron mails any output), and one that fails says why in its ``Error:`` line.
    Read here, in the command's thread: the retries come from the client's pool threads, which
    have no click context."""
    ctx = click.get_current_context(silent=True)
    return None if ctx is not None and ctx.params.get("quiet") else show_retry


def show_retry(notice: RetryNotice) -> None:
    """A retry worth a line (the API cannot be reached) said on stderr, so --json stays clean."""
    from csvsync.console.screen import retry_line

    line = retry_line(notice)
    if line is not None:
        click.echo(line, err=True)


def open_client(api_base: str, token_file: Path | None, timeout: float) -> WebflowClient:
    """The client of the commands that keep no state (``sites``, ``init``): the token read as
    ``run_options`` reads it, retries said on stderr as in every run."""
    from csvsync.ops.context import token_from_env
    from csvsync.webflow import ClientOptions, WebflowClient

    token = token_from_env(token_file)
    if not token:
        raise ConfigError("no API token", "set WEBFLOW_API_TOKEN or pass --token-file")
    options = ClientOptions(api_base=api_base, token=token, timeout=timeout, on_retry=retry_sink())
    return WebflowClient(options)


# -- errors and signals --------------------------------------------------------------------------


def debugging() -> bool:
    """``csvsync --debug`` (or CSVSYNC_DEBUG=1): tracebacks of internal errors are shown."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx and ctx.find_root().params.get("debug"))


def fail(exc: CsvsyncError, code: int | None = None) -> NoReturn:
    """``Error: <message> (<hint>)`` on stderr and the error's exit code: the one place."""
    if debugging() and exc.__cause__ is not None:
        import traceback

        traceback.print_exception(exc.__cause__, file=sys.stderr)
    click.echo(f"Error: {_one_line(str(exc))}", err=True)
    sys.exit(exc.exit_code if code is None else code)


def _one_line(text: str) -> str:
    # A message quoting a value with a line break in it must still be one line on stderr.
    return " ".join(text.split("\n")) if "\n" in text else text


@contextmanager
def errors_to_exit(stop: Stop | None = None, report: Report | None = None) -> Iterator[None]:
    """Turn a library error raised in the block into ``Error: ...`` and its exit code (the
    signal's, 130 or 143, when SIGINT or SIGTERM stopped the run). With ``report``, the error
    is also the run's ``--json`` object and its ``end`` line in ``--log-file``."""
    try:
        if report is not None:
            report.check()
        yield
    except CsvsyncError as exc:
        code = stop.exit_code(exc.exit_code) if stop is not None else exc.exit_code
        if report is not None:
            report.failed(exc, code)
        fail(exc, code)


@dataclass
class Report:
    """Where a command says how it ended, whatever the exit: the ``--json`` object on stdout
    and the ``end`` event of ``--log-file`` (the log is opened here, closed by ``close``)."""

    command: str
    output: OutputArgs
    log: Callable[[dict[str, Any]], None] | None = None

    @classmethod
    def open(cls, command: str, output: OutputArgs) -> Report:
        from csvsync.console.log import RunLog

        log = RunLog(output.log_file, output.log_format) if output.log_file else None
        return cls(command, output, log)

    def event(self, event: dict[str, Any]) -> None:
        if self.log is not None:
            self.log(event)

    def check(self) -> None:
        """Refuse a bad ``--notify-url`` before anything runs (without quoting it)."""
        if self.output.notify_url:
            from csvsync.webflow.notify import check_notify_url

            check_notify_url(self.output.notify_url)

    def failed(self, exc: CsvsyncError, code: int) -> None:
        error = exc.summary(code)
        self.event({"event": "end", "command": self.command, "exit_code": code, "error": error})
        payload = {"command": self.command, "exit_code": code, "error": error}
        if self.output.as_json:
            import json

            click.echo(json.dumps(payload))
        self.finished(payload, problems=True)

    def finished(self, payload: dict[str, Any], problems: bool) -> None:
        """After a run with problems, POST ``payload`` to ``--notify-url``. A notification that
        fails is one warning on stderr: the run's exit code stands."""
        url = self.output.notify_url
        if not url or not problems:
            return
        from csvsync.console.json import notify_text
        from csvsync.webflow.notify import check_notify_url, notify

        try:
            check_notify_url(url)
        except CsvsyncError:
            return  # refused before the run: already said
        why = notify(url, {**payload, "text": notify_text(payload)})
        if why:
            click.echo(f"Warning: the notification could not be sent: {why}", err=True)

    def close(self) -> None:
        close = getattr(self.log, "close", None)
        if close is not None:
            close()


@dataclass
class Stop:
    """Set by SIGINT/SIGTERM: the library finishes the batches in flight, then stops."""

    event: threading.Event = field(default_factory=threading.Event)
    received: list[int] = field(default_factory=list)

    def exit_code(self, otherwise: int) -> int:
        """128 + the signal, as shells report it, when one arrived; else ``otherwise``."""
        return 128 + self.received[0] if self.received else otherwise


@contextmanager
def stop_on_signals(second_exits: bool = False) -> Iterator[Stop]:
    """SIGINT and SIGTERM ask the run to stop (never mid-transaction); handlers restored after.

    ``second_exits``: a second signal ends the process at once (128 + the signal), for a
    server whose clean stop a user no longer wants to wait for."""
    stop = Stop()

    def on_signal(signum: int, frame: object) -> None:
        del frame
        if second_exits and stop.received:
            os._exit(128 + signum)
        stop.received.append(signum)
        stop.event.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def color() -> bool:
    """Colour only on a terminal, and never under NO_COLOR."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ

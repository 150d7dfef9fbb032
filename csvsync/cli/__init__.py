"""The command-line shell: click commands, shared option groups, progress and exit codes.

Thin by design: every command builds one ``RunOptions``, calls the library, prints, and turns a
``CsvsyncError`` into ``Error: ...`` and its exit code. No business logic lives here.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import click

from csvsync import __version__
from csvsync.errors import CsvsyncError
from csvsync.ops.context import DEFAULT_API_BASE, RunOptions, token_from_env
from csvsync.sheets.read import SheetOptions

F = TypeVar("F", bound=Callable[..., Any])


def _stack(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def apply(func: F) -> F:
        for dec in reversed(decorators):
            func = dec(func)
        return func

    return apply


api_options = _stack(
    click.option(
        "-m",
        "--mapping",
        "mapping",
        required=True,
        type=click.Path(path_type=Path, dir_okay=False),
        help="YAML column mapping.",
    ),
    click.option(
        "--api-base",
        envvar="CSVSYNC_API_BASE",
        default=DEFAULT_API_BASE,
        show_default=True,
        help="Webflow API base URL (env CSVSYNC_API_BASE).",
    ),
    click.option(
        "--token-file",
        type=click.Path(path_type=Path, dir_okay=False),
        help="File holding the API token (mode 600). Default: env WEBFLOW_API_TOKEN.",
    ),
    click.option(
        "--state",
        "state_path",
        type=click.Path(path_type=Path, dir_okay=False),
        help="State cache file. Default: .csvsync/state.db next to the mapping.",
    ),
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
)

sheet_options = _stack(
    click.argument("sheet", type=click.Path(path_type=Path, dir_okay=False)),
    click.option(
        "--sheet", "sheet_name", help="XLSX sheet name (default: the mapping's, else the first)."
    ),
    click.option("--encoding", help="CSV encoding (default UTF-8, with or without BOM)."),
    click.option("--delimiter", help="CSV delimiter (default: sniffed)."),
    click.option(
        "--allow-missing-columns",
        is_flag=True,
        help="Leave fields whose columns the sheet lacks alone, instead of refusing.",
    ),
    click.option(
        "--results",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Results workbook path (replaced atomically). Default: next to the sheet.",
    ),
    click.option("--batch-size", type=click.IntRange(1, 100), default=100, show_default=True),
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
        help="live: the site at once (the Designer keeps the old text); staged: the Designer's "
        "version (put live with --publish); both: the two, kept equal.",
    ),
    click.option(
        "--publish", is_flag=True, help="With --target staged: publish exactly the items written."
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
        help="Refuse --unpublish-missing above this share of the collection...",
    ),
    click.option("--yes", is_flag=True, help="...unless --yes is given."),
    click.option("--json", "as_json", is_flag=True, help="Print one JSON summary on stdout."),
    click.option("-q", "--quiet", is_flag=True, help="Print nothing on success."),
    click.option(
        "--log-file",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Append a line per batch (and per run start/end) to this file.",
    ),
    click.option(
        "--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True
    ),
)


def show_option(func: F) -> F:
    """``--show``, for the commands that list field changes before acting (plan, revert)."""
    return click.option(
        "--show",
        type=click.Choice(["some", "all"]),
        default="some",
        show_default=True,
        help="How many field changes to print.",
    )(func)


def _options(kw: dict[str, Any], with_sheet: bool) -> RunOptions:
    token = token_from_env(kw.get("token_file"))
    extra: dict[str, Any] = {}
    if with_sheet:
        extra = dict(
            sheet=kw["sheet"],
            results=kw.get("results"),
            batch_size=kw["batch_size"],
            allow_missing_columns=kw["allow_missing_columns"],
            write_back=kw.get("write_back", False),
            unpublish_missing=kw.get("unpublish_missing", False),
            target=kw.get("target", "live"),
            publish=kw.get("publish", False),
            max_unpublish=kw.get("max_unpublish", 0.10),
            yes=kw.get("yes", False),
            on_conflict=kw["on_conflict"],
            sheet_options=SheetOptions(
                encoding=kw.get("encoding"),
                delimiter=kw.get("delimiter"),
                sheet_name=kw.get("sheet_name"),
            ),
        )
    return RunOptions(
        mapping=kw["mapping"],
        api_base=kw["api_base"],
        token=token,
        state_path=kw.get("state_path"),
        refresh=kw["refresh"],
        rate_window=kw["rate_window"],
        max_in_flight=kw["max_in_flight"],
        max_retry_time=kw["max_retry_time"],
        timeout=kw["timeout"],
        **extra,
    )


def _fail(exc: CsvsyncError) -> None:
    click.echo(f"Error: {exc}", err=True)
    sys.exit(exc.exit_code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="csvsync")
def cli() -> None:
    """Keep a Webflow CMS collection in step with a spreadsheet."""


@cli.command()
@api_options
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
def pull(quiet: bool, **kw: Any) -> None:
    """Refresh the state cache from live items."""
    from csvsync.console.progress import ProgressDisplay
    from csvsync.ops.sync import pull as do_pull

    progress = ProgressDisplay(quiet=quiet)
    try:
        count = do_pull(_options(kw, with_sheet=False), progress)
    except CsvsyncError as exc:
        _fail(exc)
    finally:
        progress.close()
    if not quiet:
        click.echo(f"Pulled {count} item-variants.")


@cli.command()
@api_options
@sheet_options
@show_option
def plan(**kw: Any) -> None:
    """Dry run: show what a sync would change, field by field. Writes nothing to Webflow."""
    _run("plan", kw)


@cli.command()
@api_options
@sheet_options
def sync(**kw: Any) -> None:
    """Push the changed item-variants and write the results workbook."""
    _run("sync", kw)


def _run(command: str, kw: dict[str, Any]) -> None:
    from csvsync.console.log import RunLog
    from csvsync.console.progress import ProgressDisplay
    from csvsync.console.text import render_result, summary_dict
    from csvsync.ops import sync as lib

    quiet, as_json = kw["quiet"], kw["as_json"]
    stop = threading.Event()
    received: list[int] = []
    log = RunLog(kw["log_file"], kw["log_format"]) if kw.get("log_file") else None
    progress = ProgressDisplay(quiet=quiet or as_json)

    def on_signal(signum: int, frame: object) -> None:
        # Finish the batches in flight, then write the workbook: never stop mid-transaction.
        received.append(signum)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        options = replace(_options(kw, with_sheet=True), stop=stop, on_event=log)
        func = lib.plan if command == "plan" else lib.sync
        result = func(options, progress)
    except CsvsyncError as exc:
        _fail(exc)
    finally:
        progress.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if log is not None:
            log.close()
    code = 128 + received[0] if received else result.exit_code
    if as_json:
        click.echo(json.dumps({**summary_dict(result), "exit_code": code}))
    elif not quiet or code:
        color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        click.echo(render_result(result, kw.get("show", "some"), color=color))
    sys.exit(code)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8787, show_default=True)
@click.option(
    "--token",
    default="sandbox-token",
    show_default=True,
    help="The sandbox's own bearer token: a local test value, not a secret.",
)
@click.option("--seed", type=click.Choice(["demo", "empty"]), default="demo", show_default=True)
@click.option(
    "--data",
    type=click.Path(path_type=Path, dir_okay=False),
    help="SQLite file to keep the sandbox's items in across restarts.",
)
@click.option("--rate-limit", type=int, default=120, show_default=True)
@click.option("--window", type=float, default=60.0, show_default=True)
def sandbox(**kw: Any) -> None:
    """Run the local Webflow emulator in the foreground (Ctrl-C stops it)."""
    from csvsync.sandbox import SandboxOptions, run_forever

    opts = SandboxOptions(
        host=kw["host"],
        port=kw["port"],
        token=kw["token"],
        seed=kw["seed"],
        data=kw["data"],
        rate_limit=kw["rate_limit"],
        window=kw["window"],
    )

    def ready(base_url: str) -> None:
        click.echo(f"Sandbox serving {base_url}")
        click.echo(f"Try: export CSVSYNC_API_BASE={base_url} WEBFLOW_API_TOKEN={kw['token']}")

    try:
        run_forever(opts, ready)
    except OSError as exc:
        _fail(
            CsvsyncError(
                f"cannot start the sandbox on {kw['host']}:{kw['port']}: {exc.strerror}",
                "pick another --port",
            )
        )


@cli.command()
@click.option(
    "--dir",
    "workdir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("csvsync-demo"),
    show_default=True,
    help="Where the demo's sheet, mapping, state and results go.",
)
def demo(workdir: Path) -> None:
    """Start the sandbox, then plan and sync the sample sheet end to end."""
    from csvsync.ops.demo import run_demo

    try:
        run_demo(workdir, click.echo)
    except CsvsyncError as exc:
        _fail(exc)


def main() -> None:
    """Console-script entry point."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    cli()


from csvsync.cli.editor import export, init  # noqa: E402

cli.add_command(init)
cli.add_command(export)

from csvsync.cli.revert import revert  # noqa: E402

cli.add_command(revert)

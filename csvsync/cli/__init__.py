"""The command-line shell: the ``csvsync`` click group and its entry point.

Thin by design: each command (``cli/sync.py``, ``editor.py``, ``revert.py``, ``local.py``) builds
one ``RunOptions`` from its option groups (``cli/common.py``), calls the library in ``ops/``,
prints what ``console/`` renders, and turns a ``CsvsyncError`` into ``Error: ...`` and its exit
code. No business logic lives here, and importing it loads neither pandas nor numpy.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import click

from csvsync import __version__
from csvsync.cli.common import fail
from csvsync.cli.editor import export, init, sites
from csvsync.cli.local import demo, sandbox
from csvsync.cli.revert import revert
from csvsync.cli.status import prune, status
from csvsync.cli.sync import plan, pull, sync
from csvsync.cli.web import serve
from csvsync.errors import EXIT_SIGINT, InternalError


class CsvsyncGroup(click.Group):
    """The group that keeps the exit-code table for what no command foresaw.

    An unexpected exception becomes one ``Error: internal error ...`` line (exit 2: anything
    that may have written is inside an operation, which reports 4 itself); Ctrl-C outside a
    run's own handling exits 130, not click's "Aborted!" with 1."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """click's main, with a usage error as one ``Error:`` line (not three) and exit 2."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "csvsync"
            click.echo(f"Error: {exc.format_message()} (see {where} --help)", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Error: aborted", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("Error: interrupted", err=True)
            sys.exit(EXIT_SIGINT)
        except Exception as exc:
            error = InternalError(exc, wrote=False)
            error.__cause__ = exc  # what --debug prints
            fail(error)


@click.group(cls=CsvsyncGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="csvsync")
@click.option(
    "--debug",
    is_flag=True,
    envvar="CSVSYNC_DEBUG",
    help="Show the traceback of an internal error (env CSVSYNC_DEBUG=1).",
)
def cli(debug: bool) -> None:
    """Keep a Webflow CMS collection in step with a spreadsheet."""
    del debug  # read by cli.common.debugging() from the root context


for command in (pull, plan, sync, sandbox, demo, sites, init, export, revert, status, prune, serve):
    cli.add_command(command)


def main() -> None:
    """Console-script entry point."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    cli()

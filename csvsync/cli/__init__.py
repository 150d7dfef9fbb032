"""The command-line shell: the ``csvsync`` click group and its entry point.

Thin by design: each command (``cli/sync.py``, ``editor.py``, ``revert.py``, ``local.py``) builds
one ``RunOptions`` from its option groups (``cli/common.py``), calls the library in ``ops/``,
prints what ``console/`` renders, and turns a ``CsvsyncError`` into ``Error: ...`` and its exit
code. No business logic lives here, and importing it loads neither pandas nor numpy.
"""

from __future__ import annotations

import os

import click

from csvsync import __version__
from csvsync.cli.editor import export, init
from csvsync.cli.local import demo, sandbox
from csvsync.cli.revert import revert
from csvsync.cli.sync import plan, pull, sync


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="csvsync")
def cli() -> None:
    """Keep a Webflow CMS collection in step with a spreadsheet."""


for command in (pull, plan, sync, sandbox, demo, init, export, revert):
    cli.add_command(command)


def main() -> None:
    """Console-script entry point."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    cli()

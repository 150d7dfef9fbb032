"""The second wall around an uploaded sheet: it is read first in a child process with a memory
limit, so that no file can take the page's server down (the sheet readers' own guards are the
first wall). Only a sheet the child read without trouble is planned in the server.

Run as ``python -m csvsync.web.guard SHEET [SHEET_NAME]`` (by ``check_upload``): exit 0 when the
sheet reads, 2 with csvsync's one-line error, 3 when it ran out of memory or time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from csvsync.errors import SheetError

MEMORY_LIMIT = 2 * 1024**3  # address space of the child: the largest sheet the page takes
TIME_LIMIT = 120.0


def check_upload(sheet: Path, sheet_name: str | None = None, memory: int = MEMORY_LIMIT) -> None:
    """Read ``sheet`` in a child limited to ``memory`` bytes; ``SheetError`` if it cannot."""
    args = [sys.executable, "-m", "csvsync.web.guard", str(sheet)]
    if sheet_name:
        args.append(sheet_name)

    def limit() -> None:  # in the child, before it runs Python
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    try:
        done = subprocess.run(
            args, capture_output=True, text=True, timeout=TIME_LIMIT, preexec_fn=limit,
            env={k: v for k, v in os.environ.items() if "TOKEN" not in k}, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise SheetError(
            f"the sheet took more than {TIME_LIMIT:.0f} s to read", "split it into smaller files"
        ) from None
    if done.returncode == 0:
        return
    if done.returncode == 2 and done.stdout.strip():
        raise SheetError(done.stdout.strip().splitlines()[-1])
    raise SheetError(
        f"the sheet needs more than {memory // 1024**2:,} MB to read, or could not be read "
        f"(exit {done.returncode})",
        "split it into smaller files, or save it again from Excel",
    )


def main(argv: list[str]) -> int:
    from csvsync.errors import CsvsyncError
    from csvsync.options import SheetOptions
    from csvsync.sheets.read import read_sheet

    try:
        read_sheet(Path(argv[0]), SheetOptions(sheet_name=argv[1] if len(argv) > 1 else None))
    except CsvsyncError as exc:
        print(str(exc))
        return 2
    except MemoryError:
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

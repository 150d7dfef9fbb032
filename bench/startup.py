"""Start-up time of the command line: `csvsync --help` and `--version` against `python -c pass`.

Each command runs ``--runs`` times in a fresh interpreter, alternating, and the medians are
compared in this one run (the machine's noise cancels in the ratio). ``--python`` and
``--pythonpath`` measure another checkout (the figures before a change) with the same method.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def measure(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    # Not from a checkout's root: ``-m`` would import the package there, not the one measured.
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, cwd=tempfile.gettempdir())
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--pythonpath", help="prepend to PYTHONPATH (another checkout)")
    args = parser.parse_args()
    env = dict(os.environ)
    if args.pythonpath:
        env["PYTHONPATH"] = args.pythonpath + os.pathsep + env.get("PYTHONPATH", "")
    commands = {
        "python -c pass": [args.python, "-c", "pass"],
        "csvsync --help": [args.python, "-m", "csvsync", "--help"],
        "csvsync --version": [args.python, "-m", "csvsync", "--version"],
        "import pandas": [args.python, "-c", "import pandas"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, cmd in commands.items():
            times[name].append(measure(cmd, env))
    base = statistics.median(times["python -c pass"])
    print(f"| command | median of {args.runs} | / python -c pass |")
    print("|---|---|---|")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"| `{name}` | {med * 1000:.0f} ms | {med / base:.1f}x |")


if __name__ == "__main__":
    main()

"""The benchmark of issue 5: one command, every target measured in the same run, one table.

    python bench/run.py            # the full run (20,000 items x 5 locales; many minutes)
    python bench/run.py --quick    # a smoke run under a minute (what CI runs; figures unchecked)

Owns the scenarios and the table. ``workload.py`` generates the data, ``sandbox_proc.py`` runs the
sandbox in its own process; every csvsync measurement runs in a child process of its own
(``--child SPEC``), so its peak RSS is csvsync's alone and no run warms the next one's caches
except csvsync's own state file, which is warm unless a figure says "cold".

Targets are ratios of figures taken in this run (the machines are noisy). Throughput figures come
from the sandbox's request log (server-side arrival and completion times), request counts from
both csvsync's counters and that log.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import requests
from sandbox_proc import SandboxProcess
from workload import (
    COLLECTION_ID,
    LOCALES,
    SHARED,
    TOKEN,
    Edit,
    Workload,
    copy_store,
    every,
    everything,
    item_id,
    mapping_text,
    selected,
    span,
)

RESULT_PREFIX = "BENCH-RESULT "
CHILD_TIMEOUT = 3600.0
UNTHROTTLED = 1_000_000  # the sandbox's limit for runs that measure work, not pacing
READS_PER_CHECK = 2  # one lastUpdated check per collection: Articles and its Reference target
SCOPE_CHECK = 1  # a run that writes reads GET /token/introspect first (the cms:write check)


@dataclass(frozen=True)
class Config:
    """Sizes and pacing of one run; ``quick`` scales everything down."""

    items: int = 20_000
    small_items: int = 2_000
    sync_changed: int = 2_345  # on the small set; not a multiple of 100 on purpose
    throttle_variants: int = 30_000
    limit: int = 60
    window: float = 3.0
    openpyxl: bool = True

    @property
    def latency(self) -> float:
        # One request at a time then reaches at most half the ceiling: 1 / latency = limit / (2w).
        return 2 * self.window / self.limit

    @property
    def ceiling(self) -> float:
        """Variants per second at the rate limit, 100 per request."""
        return self.limit * 100 / self.window


QUICK = Config(items=400, small_items=40, sync_changed=47, throttle_variants=1_500, limit=10,
               window=1.0)  # fmt: skip


@dataclass
class Line:
    target: str
    figure: str
    value: str
    goal: str
    ok: bool | None  # None: shown for comparison only


@dataclass
class Report:
    lines: list[Line] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    phases: dict[str, dict[str, float]] = field(default_factory=dict)

    def add(self, target: str, figure: str, value: str, goal: str = "", ok: bool | None = None
            ) -> None:  # fmt: skip
        self.lines.append(Line(target, figure, value, goal, ok))

    def table(self) -> str:
        out = ["| # | figure | measured | target | |", "|---|---|---|---|---|"]
        for ln in self.lines:
            mark = "" if ln.ok is None else ("met" if ln.ok else "**MISSED**")
            out.append(f"| {ln.target} | {ln.figure} | {ln.value} | {ln.goal} | {mark} |")
        return "\n".join(out)

    def phase_table(self) -> str:
        """Seconds per pipeline step (wrapped functions; nested calls are not subtracted)."""
        names = list(self.phases)
        steps = list(dict.fromkeys(k for ph in self.phases.values() for k in ph))
        out = ["| step | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
        for step in steps:
            cells = [f"{self.phases[n][step]:.2f}" if step in self.phases[n] else ""
                     for n in names]  # fmt: skip
            out.append(f"| {step} | " + " | ".join(cells) + " |")
        return "\n".join(out)


# -- child processes: one csvsync measurement each ---------------------------------------------


def run_child(spec: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Run ``spec`` in a fresh interpreter; returns what it reported."""
    path = workdir / f"child-{spec['name']}.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(path)],
        capture_output=True, text=True, timeout=CHILD_TIMEOUT, check=False,
    )  # fmt: skip
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line[len(RESULT_PREFIX) :])
            (workdir / f"result-{spec['name']}.json").write_text(
                json.dumps(result, indent=1), encoding="utf-8"
            )
            return result
    raise RuntimeError(
        f"child {spec['name']} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}"
    )


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Phases:
    """Wall time per pipeline step, from csvsync's public timing hook (``RunOptions.on_step``).

    Steps nest (``load_hashes`` runs inside ``diff.compute``); each is timed on its own."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self.memory: dict[str, list[float]] = {}

    def __call__(self, name: str, seconds: float) -> None:
        self.times[name] = self.times.get(name, 0.0) + seconds
        # Resident and peak memory right after the step: shows which step sets the peak.
        self.memory[name] = [current_rss_mb(), peak_rss_mb()]


def child_main(spec_path: Path) -> None:
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    profile = spec.get("profile")
    profiler: Any = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.005)
        profiler.start()
    result = CHILD_TASKS[spec["task"]](spec)
    if profiler is not None:
        profiler.stop()
        Path(profile).write_text(
            profiler.output_text(unicode=True, color=False, show_all=False), encoding="utf-8"
        )
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def _options(spec: dict[str, Any], on_step: Any = None) -> Any:
    from csvsync.options import RunOptions

    return RunOptions(
        mapping=Path(spec["mapping"]),
        api_base=spec["api_base"],
        token=TOKEN,
        sheet=Path(spec["sheet"]) if spec.get("sheet") else None,
        state_path=Path(spec["state"]),
        results=Path(spec["results"]) if spec.get("results") else None,
        write_results=bool(spec.get("results")),
        rate_window=float(spec.get("rate_window", 60.0)),
        target=spec.get("target", "live"),
        create=bool(spec.get("create")),
        on_step=on_step,
    )


def task_plan(spec: dict[str, Any]) -> dict[str, Any]:
    from csvsync.ops import sync as lib

    ph = Phases()
    options = _options(spec, on_step=ph)
    start = time.perf_counter()
    res = lib.plan(options) if spec["task"] == "plan" else lib.sync(options)
    wall = time.perf_counter() - start
    rss = peak_rss_mb()
    out: dict[str, Any] = {
        "wall": wall, "duration": res.duration, "phases": ph.times, "memory": ph.memory,
        "counts": res.counts,
        "requests": res.requests, "write_requests": res.write_requests,
        "rate_limit_waits": res.rate_limit_waits, "retries": res.retries, "rss_mb": rss,
        "exit": res.exit_code,
    }  # fmt: skip
    if res.results_path is not None:
        # The same cells written bare, after the peak was read: it must not count in it.
        path, rows, changes = res.results_path, res.report.rows, res.report.changes
        out["workbook_rows"] = len(rows)
        out["workbook_changes"] = len(changes)
        bare = Path(str(path) + ".bare.xlsx")
        start = time.perf_counter()
        bare_write(bare, [("Rows", list(rows.columns), rows), ("Changes", list(changes.columns),
                                                                 changes)])  # fmt: skip
        out["bare_write"] = time.perf_counter() - start
    return out


def bare_write(path: Path, tables: list[tuple[str, list[str], Any]]) -> None:
    """xlsxwriter ``constant_memory``, no formats: the floor for writing these cells."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    for name, headers, frame in tables:
        ws = book.add_worksheet(name)
        for c, header in enumerate(headers):
            ws.write_string(0, c, header)
        for r, line in enumerate(frame.itertuples(index=False, name=None), start=1):
            for c, v in enumerate(line):
                if isinstance(v, str):
                    ws.write_string(r, c, v)
                elif isinstance(v, bool) or v is None:
                    ws.write_string(r, c, "" if v is None else str(v))
                elif isinstance(v, int | float):
                    if v == v:  # NaN is blank
                        ws.write_number(r, c, v)
                else:
                    ws.write_string(r, c, json.dumps(v, default=str, separators=(",", ":")))
    book.close()


def task_pull(spec: dict[str, Any]) -> dict[str, Any]:
    from csvsync.ops import sync as lib

    start = time.perf_counter()
    count = lib.pull(_options(spec))
    return {"wall": time.perf_counter() - start, "variants": count, "rss_mb": peak_rss_mb()}


def task_reads(spec: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd

    out: dict[str, Any] = {}
    readers: list[tuple[str, Callable[[], Any]]] = [
        ("calamine", lambda: pd.read_excel(spec["xlsx"], engine="calamine")),
        ("read_csv", lambda: pd.read_csv(spec["csv"])),
        ("read_csv (dtype=str)", lambda: pd.read_csv(spec["csv"], dtype=str,
                                                     keep_default_na=False)),
    ]  # fmt: skip
    if spec.get("openpyxl"):
        readers.append(("openpyxl", lambda: pd.read_excel(spec["xlsx"], engine="openpyxl")))
    for name, read in readers:
        start = time.perf_counter()
        frame = read()
        out[name] = time.perf_counter() - start
        out[name + " shape"] = list(frame.shape)
        del frame
    return out


def task_page(spec: dict[str, Any]) -> dict[str, Any]:
    """The editor's page in this process (Starlette's TestClient): upload the sheet, then time
    the plan page's first screen and a locale filter, answered by the server."""
    import re
    import shutil

    from starlette.testclient import TestClient

    from csvsync.web.app import create_app
    from csvsync.web.config import WebConfig

    folder = Path(spec["state"]).parent / "page"
    mappings = folder / "mappings"
    (mappings / ".csvsync").mkdir(parents=True, exist_ok=True)
    shutil.copy(spec["mapping"], mappings / "bench.yaml")
    shutil.copy(spec["state"], mappings / ".csvsync" / "state.db")  # the warm cache
    app = create_app(WebConfig(mappings, folder / "data", spec["api_base"], TOKEN))
    client = TestClient(app, base_url="http://127.0.0.1:8000")
    html = client.get("/c/bench").text
    token = re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    sheet = Path(spec["sheet"])
    start = time.perf_counter()
    res = client.post("/c/bench/plan", data={"csrf": token, "target": "live"},
                      files={"sheet": (sheet.name, sheet.read_bytes())},
                      follow_redirects=False)  # fmt: skip
    planned = time.perf_counter() - start
    url = res.headers["location"]
    start = time.perf_counter()
    first = client.get(url)
    first_screen = time.perf_counter() - start
    start = time.perf_counter()
    filtered = client.get(url, params={"locale": spec.get("locale", "fr-FR"), "page": "3"})
    filter_time = time.perf_counter() - start
    return {
        "plan": planned, "first_screen": first_screen, "filter": filter_time,
        "status": [res.status_code, first.status_code, filtered.status_code],
        "first_bytes": len(first.content), "filter_bytes": len(filtered.content),
        "rss_mb": peak_rss_mb(),
    }  # fmt: skip


def task_revert(spec: dict[str, Any]) -> dict[str, Any]:
    """``revert last`` of the run before it, timed as a sync is."""
    from csvsync.ops.revert import revert

    start = time.perf_counter()
    res = revert(_options(spec), "last")
    return {
        "wall": time.perf_counter() - start, "duration": res.duration, "counts": res.counts,
        "requests": res.requests, "write_requests": res.write_requests,
        "rss_mb": peak_rss_mb(),
    }  # fmt: skip


def startup_times(runs: int = 7) -> dict[str, float]:
    """Median wall time of ``python -c pass``, ``csvsync --version`` and ``--help``, each a
    fresh process, interleaved so the machine's noise falls on all three alike."""
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "csvsync --version": [sys.executable, "-m", "csvsync", "--version"],
        "csvsync --help": [sys.executable, "-m", "csvsync", "--help"],
    }
    times: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(runs):
        for name, cmd in commands.items():
            start = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            times[name].append(time.perf_counter() - start)
    return {k: sorted(v)[len(v) // 2] for k, v in times.items()}


CHILD_TASKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "revert": task_revert,
    "page": task_page,
    "plan": task_plan,
    "sync": task_plan,
    "pull": task_pull,
    "reads": task_reads,
}


# -- measurements from the sandbox log ---------------------------------------------------------


@dataclass(frozen=True)
class Traffic:
    requests: int
    writes: int
    reads: int
    status_429: int
    items: int
    seconds: float  # first request's arrival to the last one's completion

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else 0.0


def traffic(entries: list[dict[str, Any]], method: str | None = None) -> Traffic:
    sel = [e for e in entries if method is None or e["method"] == method]
    ok = [e for e in sel if e["status"] < 300]
    first = min((e["time"] for e in ok), default=0.0)
    last = max((e["time"] + e["duration"] for e in ok), default=0.0)
    return Traffic(
        requests=len(sel),
        writes=sum(1 for e in sel if e["method"] != "GET"),
        reads=sum(1 for e in sel if e["method"] == "GET"),
        status_429=sum(1 for e in sel if e["status"] == 429),
        items=sum(int(e["items"]) for e in ok),
        seconds=last - first,
    )


def one_at_a_time(base_url: str, bodies: Iterator[list[dict[str, Any]]]) -> int:
    """A plain client: one PATCH after the other, no pacing, 429s not retried. Returns 429s."""
    refused = 0
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {TOKEN}"
        for items in bodies:
            r = http.patch(f"{base_url}/collections/{COLLECTION_ID}/items/live",
                           json={"items": items}, timeout=60)  # fmt: skip
            refused += r.status_code == 429
    return refused


def per_item_loop(base_url: str, work: Workload) -> int:
    """The common script: one PATCH per item-variant with every mapped field, no diff."""
    sent = 0
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {TOKEN}"
        for n in range(work.items):
            shared = work.shared(n)
            for loc, (*_x, cms) in enumerate(LOCALES):
                data: dict[str, Any] = {**work.localized(n, loc), **(shared if loc == 0 else {})}
                body: dict[str, Any] = {"fieldData": data}
                if loc:
                    body["cmsLocaleId"] = cms
                r = http.patch(
                    f"{base_url}/collections/{COLLECTION_ID}/items/{item_id(n)}/live",
                    json=body, timeout=60,
                )  # fmt: skip
                r.raise_for_status()
                sent += 1
    return sent


# -- the run ------------------------------------------------------------------------------------


class Bench:
    def __init__(self, cfg: Config, workdir: Path, profile: bool, echo: Callable[[str], None]
                 ) -> None:  # fmt: skip
        self.cfg = cfg
        self.dir = workdir
        self.profile = profile
        self.echo = echo
        self.report = Report()
        self.mapping = workdir / "mapping.yaml"
        self.details: dict[str, Any] = {}

    def spec(self, name: str, task: str, api_base: str, state: str, **extra: Any
             ) -> dict[str, Any]:  # fmt: skip
        spec: dict[str, Any] = {
            "name": name, "task": task, "mapping": str(self.mapping), "api_base": api_base,
            "state": str(self.dir / "state" / f"{state}.db"), **extra,
        }  # fmt: skip
        if self.profile and task in ("plan", "sync", "pull"):
            spec["profile"] = str(self.dir / f"profile-{name}.txt")
        return spec

    def child(self, name: str, task: str, api_base: str, state: str, **extra: Any
              ) -> dict[str, Any]:  # fmt: skip
        self.echo(f"  {name} ...")
        started = time.perf_counter()
        res = run_child(self.spec(name, task, api_base, state, **extra), self.dir)
        self.echo(f"  {name}: {time.perf_counter() - started:.1f} s")
        self.details[name] = res
        return res

    @contextmanager
    def stage(self, title: str) -> Iterator[None]:
        self.echo(f"[{time.strftime('%H:%M:%S')}] {title}")
        yield

    def generate(self) -> tuple[Workload, Workload]:
        cfg = self.cfg
        full, small = Workload(cfg.items), Workload(cfg.small_items)
        self.mapping.write_text(mapping_text(), encoding="utf-8")
        # The same sheet read as before non-text fields went to every locale: the five shared
        # fields primary_only, for a like-for-like figure of the plan's own work.
        primary = mapping_text()
        for _slug, col in SHARED:
            primary = primary.replace(f": {col}\n", f": {{column: {col}, primary_only: true}}\n")
        primary = primary.replace(
            'column: Launch date, date_format: "%Y-%m-%d"}',
            'column: Launch date, date_format: "%Y-%m-%d", primary_only: true}',
        ).replace("column: Author, by: slug}", "column: Author, by: slug, primary_only: true}")
        (self.dir / "mapping-primary.yaml").write_text(primary, encoding="utf-8")
        with self.stage(f"generate: {full.variants:,} and {small.variants:,} variants"):
            for w, tag in ((full, "full"), (small, "small")):
                w.build_store(self.dir / f"store-{tag}.db")
                plan_edit = Edit(1, every(10, 3))
                w.write_xlsx(self.dir / f"plan-{tag}.xlsx", plan_edit)
                w.write_csv(self.dir / f"plan-{tag}.csv", plan_edit)
            small.write_csv(self.dir / "sync-small.csv", Edit(2, span(0, cfg.sync_changed)))
            full.write_csv(self.dir / "sync-full.csv", Edit(2, everything))
            throttled = Edit(3, span(0, cfg.throttle_variants), base=Edit(2, everything))
            full.write_csv(self.dir / "sync-throttled.csv", throttled)
        return full, small

    def run(self) -> Report:
        full, small = self.generate()
        self.small_set(small)
        self.round2(small)
        self.full_set(full)
        for name in ("plan-full-xlsx", "plan-full-csv", "sync-full"):
            self.report.phases[name] = self.details[name]["phases"]
        return self.report

    # Target 1 on the small set, and the plan of the small set for target 4.
    def small_set(self, small: Workload) -> None:
        cfg, rep = self.cfg, self.report
        data = copy_store(self.dir / "store-small.db", self.dir / "run-small.db")
        with self.stage("small set, unthrottled"), SandboxProcess(data, TOKEN) as sb:
            base = sb.base_url
            self.child("pull-small", "pull", base, "small")
            for kind in ("xlsx", "csv"):
                self.child(f"plan-small-{kind}", "plan", base, "small",
                           sheet=str(self.dir / f"plan-small.{kind}"))  # fmt: skip
            sb.clear_log()
            res = self.child("sync-small", "sync", base, "small",
                             sheet=str(self.dir / "sync-small.csv"))  # fmt: skip
            seen = traffic(sb.log())
            n = cfg.sync_changed
            need = math.ceil(n / 100)
            rep.add("1", f"sync of {n:,} changed variants: write requests",
                    f"{res['write_requests']} (sandbox log: {seen.writes})", f"{need}",
                    res["write_requests"] == need == seen.writes)  # fmt: skip
            minimum = need + READS_PER_CHECK + SCOPE_CHECK
            rep.add("1", "  all requests sent / minimum (writes + one read per collection "
                    "+ the scope check)",
                    f"{seen.requests} / {minimum} = {seen.requests / minimum:.2f}", "1.00",
                    seen.requests == minimum)  # fmt: skip
            sb.clear_log()
            res = self.child("nochange-small", "sync", base, "small",
                             sheet=str(self.dir / "sync-small.csv"))  # fmt: skip
            seen = traffic(sb.log())
            rep.add("1", f"no-change sync ({small.variants:,} variants): writes / reads",
                    f"{seen.writes} / {seen.reads}", f"0 / {READS_PER_CHECK}",
                    seen.writes == 0 and seen.reads == READS_PER_CHECK)  # fmt: skip
            sb.clear_log()
            started = time.perf_counter()
            sent = per_item_loop(base, small)
            took = time.perf_counter() - started
            seen = traffic(sb.log())
            rep.add("1", f"  one-request-per-item loop over {small.variants:,} variants "
                    f"(unthrottled, {took:.0f} s)",
                    f"{seen.requests:,} requests (sent {sent:,}); / minimum for "
                    f"{n:,} changes = {seen.requests / minimum:.0f}x", "comparison")  # fmt: skip

    def full_set(self, full: Workload) -> None:
        cfg, rep = self.cfg, self.report
        data = copy_store(self.dir / "store-full.db", self.dir / "run-full.db")
        with SandboxProcess(data, TOKEN) as sb:
            base = sb.base_url
            with self.stage("full set, unthrottled: pull, raw reads, plans, full sync"):
                pull = self.child("pull-full", "pull", base, "full")
                self.report.notes.append(
                    f"cold pull of {pull['variants']:,} variants (unthrottled): "
                    f"{pull['wall']:.1f} s"
                )
                reads = self.child(
                    "reads",
                    "reads",
                    base,
                    "full",
                    xlsx=str(self.dir / "plan-full.xlsx"),
                    csv=str(self.dir / "plan-full.csv"),
                    openpyxl=cfg.openpyxl,
                )
                plans = {k: self.child(f"plan-full-{k}", "plan", base, "full",
                                       sheet=str(self.dir / f"plan-full.{k}"))
                         for k in ("xlsx", "csv")}  # fmt: skip
                self.plan_lines(full, reads, plans)
                old = self.child("plan-full-xlsx-primary", "plan", base, "full",
                                 sheet=str(self.dir / "plan-full.xlsx"),
                                 mapping=str(self.dir / "mapping-primary.yaml"))  # fmt: skip
                post = old["duration"] - old["phases"].get("read_sheet", 0.0)
                self.report.add(
                    "3", "  plan XLSX with the five non-text fields primary_only (the old "
                    "default, 44% fewer cells): work after parsing / calamine read",
                    f"{post:.2f} s / {reads['calamine']:.2f} s = {post / reads['calamine']:.2f}",
                    "shown",
                )  # fmt: skip
                self.growth_lines()
                page = self.child("page-full", "page", base, "full",
                                  sheet=str(self.dir / "plan-full.xlsx"))  # fmt: skip
                self.page_lines(full, page, plans["xlsx"])
                sb.clear_log()
                res = self.child("sync-full", "sync", base, "full",
                                 sheet=str(self.dir / "sync-full.csv"),
                                 results=str(self.dir / "results-full.xlsx"))  # fmt: skip
                seen = traffic(sb.log())
                self.full_sync_lines(full, res, seen)
                synced = res
                sb.clear_log()
                res = self.child("nochange-full", "sync", base, "full",
                                 sheet=str(self.dir / "sync-full.csv"))  # fmt: skip
                seen = traffic(sb.log())
                rep.add("1", f"no-change sync ({full.variants:,} variants): writes / reads",
                        f"{seen.writes} / {seen.reads}", f"0 / {READS_PER_CHECK}",
                        seen.writes == 0 and seen.reads == READS_PER_CHECK)  # fmt: skip
                sb.clear_log()
                undo = self.child("revert-full", "revert", base, "full",
                                  results=str(self.dir / "revert-full.xlsx"))  # fmt: skip
                self.revert_lines(full, synced, undo, traffic(sb.log()))
                # Back to the full sync's values: the throttled stage edits on top of them.
                self.child("sync-full-again", "sync", base, "full",
                           sheet=str(self.dir / "sync-full.csv"))  # fmt: skip
            with self.stage(f"full set, throttled: {cfg.limit} per {cfg.window:g} s, "
                            f"{cfg.latency * 1000:.0f} ms latency"):  # fmt: skip
                self.throttled(sb, full)

    def revert_lines(self, full: Workload, sync: dict[str, Any], undo: dict[str, Any],
                     seen: Traffic) -> None:  # fmt: skip
        """Issue 18, 5: undo at scale, as a ratio to the sync that made it."""
        rep = self.report
        ratio = undo["wall"] / sync["wall"]
        rep.add("R5", f"revert of the full sync ({full.variants:,} variants): write requests",
                f"{undo['write_requests']:,} (sandbox log: {seen.writes:,}) / sync's "
                f"{sync['write_requests']:,}", "equal",
                undo["write_requests"] == sync["write_requests"] == seen.writes)  # fmt: skip
        rep.add("R5", "  revert time / sync time (each with its results workbook)",
                f"{undo['wall']:.1f} s / {sync['wall']:.1f} s = {ratio:.2f}", "<= 1.2",
                ratio <= 1.2)  # fmt: skip

    def round2(self, small: Workload) -> None:
        """Issue 18: requests that need not be sent (isolation, new items, --target both) on a
        fresh copy of the small set, and the CLI's start-up."""
        rep, first_primary = self.report, LOCALES[0][3]
        data = copy_store(self.dir / "store-small.db", self.dir / "run-round2.db")
        with self.stage("round 2: isolation, new items, --target both, start-up"), \
                SandboxProcess(data, TOKEN) as sb:  # fmt: skip
            base = sb.base_url
            self.child("pull-round2", "pull", base, "round2")
            # 1a: only the bad variant carries the refused field (its name).
            sheet = small.write_csv_with(self.dir / "iso-a.csv", Edit(4, span(0, 100)),
                                         rename=7)  # fmt: skip
            sb.set_faults(reject=[{"item_id": item_id(7), "field": "name",
                                   "description": "refused by the bench"}])  # fmt: skip
            sb.clear_log()
            res = self.child("isolate-a", "sync", base, "round2", sheet=str(sheet))
            writes = traffic(sb.log(), "PATCH").writes
            rep.add("R1", "one refused variant among 100, only it carries the field: writes",
                    f"{writes} ({res['counts'].get('failed', 0)} failed, "
                    f"{res['counts'].get('updated', 0)} updated)", "<= 3",
                    writes <= 3 and res["counts"].get("updated") == 99)  # fmt: skip
            # 1b: every variant carries it (the tagline; the bad one is item 7's primary).
            sheet = small.write_csv(self.dir / "iso-b.csv", Edit(5, span(0, 100)))
            sb.set_faults(reject=[{"item_id": item_id(7), "cmsLocaleId": first_primary,
                                   "field": "tagline", "description": "refused"}])  # fmt: skip
            sb.clear_log()
            res = self.child("isolate-b", "sync", base, "round2", sheet=str(sheet))
            writes = traffic(sb.log(), "PATCH").writes
            rep.add("R1", "  every variant carries the refused field: writes",
                    f"{writes} ({res['counts'].get('failed', 0)} failed, "
                    f"{res['counts'].get('updated', 0)} updated)",
                    f"<= {2 + math.ceil(math.log2(100))}",
                    writes <= 2 + math.ceil(math.log2(100)))  # fmt: skip
            sb.set_faults(reject=[])
            # 2: new items, reads to look for existing slugs.
            rows = 200
            sheet = small.write_csv_with(self.dir / "new.csv", Edit(5, span(0, 100)),
                                         new_rows=rows)  # fmt: skip
            sb.clear_log()
            res = self.child("create", "sync", base, "round2", sheet=str(sheet))
            log = sb.log()
            first_write = next(i for i, e in enumerate(log) if e["method"] in ("POST", "PATCH"))
            item_reads = [
                i for i, e in enumerate(log) if e["method"] == "GET" and "/items" in e["path"]
            ]
            before = [i for i in item_reads if i < first_write]
            # Slug look-ups: item reads before the first write beyond the change check, or
            # reads by slug anywhere; the read-back of what was created comes after the writes.
            looks = (
                len(before)
                - READS_PER_CHECK
                + sum(
                    1 for i in item_reads if i > first_write and "slug=" in log[i].get("query", "")
                )
            )
            back = sum(1 for i in item_reads if i > first_write) - (
                looks - len(before) + READS_PER_CHECK
            )
            made = res["counts"].get("created", 0)
            rep.add("R2", f"{rows} new rows in {len(LOCALES)} locales: slug look-ups / "
                    "ceil(rows / 100)",
                    f"{looks} / {math.ceil(rows / 100)} ({made:,} variants created in "
                    f"{traffic(log).writes} writes; {back} reads to read them back live)",
                    "<= 1.00",
                    made == rows * len(LOCALES) and looks <= math.ceil(rows / 100))  # fmt: skip
            # 2b: a killed create finished: 100 of 200 new rows left as drafts by a create
            # that was killed after Webflow made them (what csvsync's bulk create sends first).
            fresh_writes = traffic(log).writes
            from csvsync.webflow import ClientOptions, WebflowClient

            with WebflowClient(ClientOptions(api_base=base, token=TOKEN)) as client:
                client.create_items_bulk(
                    COLLECTION_ID, [cms for *_x, cms in LOCALES],
                    [small.new_item_data(small.items + rows + k) for k in range(rows // 2)],
                    is_draft=True,
                )  # fmt: skip
            sheet = small.write_csv_with(self.dir / "killed.csv", Edit(5, span(0, 100)),
                                         new_rows=rows, first_new=rows)  # fmt: skip
            sb.clear_log()
            res = self.child("finish-create", "sync", base, "round2", sheet=str(sheet))
            writes = traffic(sb.log()).writes
            rep.add("R2", f"  a killed create finished ({rows // 2} of {rows} rows left as "
                    "drafts): writes / a fresh create's",
                    f"{writes} / {fresh_writes} ({res['counts'].get('created', 0):,} variants "
                    f"created, {res['counts'].get('updated', 0):,} updated)", "<= 1.00",
                    writes <= fresh_writes)  # fmt: skip
            # 4: --target both.
            sheet = small.write_csv(self.dir / "both.csv", Edit(6, span(0, 1000)))
            sb.clear_log()
            res = self.child("both", "sync", base, "round2", sheet=str(sheet), target="both")
            seen = traffic(sb.log(), "PATCH")
            changed = res["counts"].get("updated", 0)
            rep.add("R4", f"--target both, {changed:,} changed variants: writes per changed "
                    "variant", f"{seen.writes} / {changed:,} = {seen.writes / max(1, changed):.3f}"
                    f" ({seen.rate:,.0f} variants/s, unthrottled)",
                    "2 per 100 (live + staged PATCH)",
                    seen.writes == 2 * math.ceil(changed / 100))  # fmt: skip
        times = startup_times()
        bare = times["python -c pass"]
        for name in ("csvsync --version", "csvsync --help"):
            rep.add(
                "R3",
                f"start-up: {name} / python -c pass",
                f"{times[name]:.3f} s / {bare:.3f} s = {times[name] / bare:.1f}",
                "shown",
            )

    def plan_lines(self, full: Workload, reads: dict[str, Any], plans: dict[str, Any]) -> None:
        rep = self.report
        cal = reads["calamine"]
        rep.add("3", "raw read, pandas + calamine (XLSX)", f"{cal:.2f} s", "reference")
        rep.add("3", "raw read, pandas read_csv (CSV)", f"{reads['read_csv']:.2f} s",
                "shown")  # fmt: skip
        rep.add("3", "raw read, pandas read_csv dtype=str (CSV)",
                f"{reads['read_csv (dtype=str)']:.2f} s", "shown")  # fmt: skip
        if "openpyxl" in reads:
            rep.add("3", "raw read, pandas + openpyxl (XLSX)", f"{reads['openpyxl']:.2f} s",
                    "shown")  # fmt: skip
        for kind, res in plans.items():
            read = res["phases"].get("read_sheet", 0.0)
            post = res["duration"] - read
            rep.add("3", f"plan {kind.upper()} ({full.variants:,} variants): read_sheet",
                    f"{read:.2f} s", "shown")  # fmt: skip
            rep.add("3", f"plan {kind.upper()}: work after parsing / calamine read",
                    f"{post:.2f} s / {cal:.2f} s = {post / cal:.2f}", "<= 1.00",
                    post <= cal)  # fmt: skip

    def page_lines(self, full: Workload, page: dict[str, Any], plan: dict[str, Any]) -> None:
        """Issue 15: the editor's plan page for the full set, from plan computed to first
        screen, a locale filter, and the page server's memory above a plan's own."""
        rep = self.report
        ok = page["status"] == [303, 200, 200]
        rep.add("P", f"plan page ({full.variants:,} variants): plan computed -> first screen",
                f"{page['first_screen']:.2f} s ({page['first_bytes'] / 1024:.0f} KiB)", "< 2 s",
                ok and page["first_screen"] < 2)  # fmt: skip
        size = page["filter_bytes"] / 1024
        rep.add("P", "  a locale filter, answered by the server (page 3)",
                f"{page['filter']:.2f} s ({size:.0f} KiB)", "shown")  # fmt: skip
        above = page["rss_mb"] - plan["rss_mb"]
        rep.add("P", "  page server's peak RSS above the CLI plan's",
                f"{page['rss_mb']:.0f} MB - {plan['rss_mb']:.0f} MB = {above:.0f} MB", "< 300 MB",
                above < 300)  # fmt: skip
        rep.add("P", "  upload and plan through the page", f"{page['plan']:.2f} s", "shown")

    def growth_lines(self) -> None:
        for kind in ("xlsx", "csv"):
            big, small = self.details[f"plan-full-{kind}"], self.details[f"plan-small-{kind}"]
            ratio = big["duration"] / small["duration"]
            post_big = big["duration"] - big["phases"].get("read_sheet", 0.0)
            post_small = small["duration"] - small["phases"].get("read_sheet", 0.0)
            self.report.add(
                "4", f"plan {kind.upper()} time, 10x variants",
                f"{big['duration']:.2f} s / {small['duration']:.2f} s = {ratio:.1f}x "
                f"(after parsing: {post_big / post_small:.1f}x)", "<= 11x", ratio <= 11,
            )  # fmt: skip

    def full_sync_lines(self, full: Workload, res: dict[str, Any], seen: Traffic) -> None:
        rep = self.report
        n = full.variants
        need = math.ceil(n / 100)
        rep.add("1", f"full sync, {n:,} changed variants: write requests",
                f"{res['write_requests']:,} (sandbox log: {seen.writes:,})", f"{need:,}",
                res["write_requests"] == need == seen.writes)  # fmt: skip
        rep.add("5", "peak RSS of csvsync, full sync incl. results workbook",
                f"{res['rss_mb']:.0f} MB", "<= 800 MB", res["rss_mb"] <= 800)  # fmt: skip
        wb = res["phases"].get("write_results", 0.0)
        bare = res.get("bare_write", 0.0)
        rep.add("5", f"results workbook ({res.get('workbook_rows', 0):,} rows + "
                f"{res.get('workbook_changes', 0):,} changes) / bare constant_memory",
                f"{wb:.2f} s / {bare:.2f} s = {wb / bare:.2f}" if bare else "n/a", "<= 1.5",
                bool(bare) and wb <= 1.5 * bare)  # fmt: skip
        rep.notes.append(f"full sync wall time {res['wall']:.1f} s (unthrottled sandbox)")

    def throttled(self, sb: SandboxProcess, full: Workload) -> None:
        cfg, rep = self.cfg, self.report
        sb.set_faults(latency=cfg.latency, rate_limit=cfg.limit, window=cfg.window)
        # The sandbox counts in fixed windows from a token's first request: let the last
        # unthrottled window run out so the first throttled one starts empty.
        time.sleep(cfg.window + 0.2)
        sb.clear_log()
        n = selected(Edit(3, span(0, cfg.throttle_variants)), full.variants)
        res = self.child("sync-throttled", "sync", sb.base_url, "full",
                         sheet=str(self.dir / "sync-throttled.csv"),
                         rate_window=cfg.window)  # fmt: skip
        seen = traffic(sb.log(), "PATCH")
        frac = seen.rate / cfg.ceiling
        rep.add("2", f"sync of {n:,} changed variants: variants/s first write to last / ceiling",
                f"{seen.rate:,.0f} / {cfg.ceiling:,.0f} = {frac:.2f} "
                f"({seen.writes} requests, {seen.seconds:.1f} s)", ">= 0.95",
                frac >= 0.95)  # fmt: skip
        rep.add("2", "  429 responses", f"{seen.status_429}", "0", seen.status_429 == 0)
        rep.notes.append(
            f"throttled sync: csvsync waited for the pacer before "
            f"{res['rate_limit_waits']} requests, retried {res['retries']}"
        )
        time.sleep(cfg.window + 0.2)
        sb.clear_log()
        bodies = full.patch_bodies(Edit(3, span(cfg.throttle_variants, cfg.throttle_variants)))
        refused = one_at_a_time(sb.base_url, bodies)
        seen = traffic(sb.log(), "PATCH")
        rep.add("2", "  one-at-a-time unpaced client, same sandbox",
                f"{seen.rate:,.0f} / {cfg.ceiling:,.0f} = {seen.rate / cfg.ceiling:.2f} "
                f"({seen.writes} requests, {refused} 429s)", "comparison")  # fmt: skip
        time.sleep(cfg.window + 0.2)
        sb.clear_log()
        res = self.child("pull-throttled", "pull", sb.base_url, "full-cold",
                         rate_window=cfg.window)  # fmt: skip
        seen = traffic(sb.log(), "GET")
        frac = seen.rate / cfg.ceiling
        rep.add("2", f"pull of the whole collection (cold cache, {res['variants']:,} variants)",
                f"{seen.rate:,.0f} / {cfg.ceiling:,.0f} = {frac:.2f} "
                f"({seen.reads} requests, {seen.seconds:.1f} s, {seen.status_429} 429s)",
                ">= 0.95", frac >= 0.95 and seen.status_429 == 0)  # fmt: skip


def machine() -> str:
    import pandas as pd

    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.0f} GB RAM"
    except OSError:
        pass
    import os

    return (f"{os.cpu_count()} CPUs, {mem}, {platform.platform()}, "
            f"Python {platform.python_version()}, pandas {pd.__version__}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run under a minute")
    parser.add_argument("--workdir", type=Path, help="keep generated files here (default: temp)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="pyinstrument each csvsync child; profiles go to the workdir",
    )
    parser.add_argument("--no-openpyxl", action="store_true", help="skip the slow openpyxl read")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_main(args.child)
        return 0
    cfg = QUICK if args.quick else Config()
    if args.no_openpyxl:
        cfg = Config(**{**cfg.__dict__, "openpyxl": False})
    started = time.perf_counter()

    def echo(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="csvsync-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        report = Bench(cfg, workdir, args.profile, echo).run()
    print(f"csvsync benchmark ({'quick' if args.quick else 'full'}): {cfg.items:,} items x "
          f"{len(LOCALES)} locales = {cfg.items * len(LOCALES):,} variants; small set "
          f"{cfg.small_items * len(LOCALES):,}")  # fmt: skip
    print(f"machine: {machine()}")
    print()
    print(report.table())
    print()
    for note in report.notes:
        print(f"- {note}")
    print()
    print("Seconds per step (csvsync functions timed in the child):")
    print()
    print(report.phase_table())
    print()
    print(f"- total run time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``plan --save-plan FILE`` and ``sync --plan FILE``: apply exactly the plan that was shown.

A saved plan names the sheet and the mapping with their SHA-256, the options that shape a plan,
and its *fingerprint*: for every (item, locale, field) it would write, the sheet's value and
the base and live value it was computed from (as the cache's key hashes), plus the items it
would create and unpublish. ``sync --plan`` reads the sheet again, refreshes the cache (an
incremental read), plans again and compares: if the sheet, the mapping, or anything the plan
would write, create or unpublish moved, nothing is sent and the refusal says what moved (exit
2). Edits elsewhere in the collection that the plan would not write (an editor's drift on other
items) do not block it. A plan file holds no token and no secret; a reviewer can read it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from csvsync.errors import ConfigError, PlanMovedError
from csvsync.ops.context import Job
from csvsync.ops.create import new_items
from csvsync.ops.sync import Planned, RunResult, apply_plan, build_plan, finish
from csvsync.options import Progress, RunOptions
from csvsync.outcomes import Outcome
from csvsync.pipeline.hashing import key_hashes

FORMAT = "csvsync-plan/1"
# The options a plan depends on: a saved plan carries them, and ``sync --plan`` runs with them.
PLAN_OPTIONS = (
    "target", "publish", "on_conflict", "unpublish_missing", "max_unpublish", "yes",
    "allow_missing_columns", "batch_size", "create", "item_limit",
)  # fmt: skip


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def plan_and_save(options: RunOptions, path: Path, progress: Progress | None = None) -> RunResult:
    """``plan --save-plan``: a plan, written to ``path`` with its fingerprint as well."""
    _check_plan_path(path)  # before any request: a plan that cannot be saved is not made
    with Job(options, progress) as job:
        planned = build_plan(job, "plan")
        result = finish(job, planned)  # counts its write requests: the plan file reuses them
        save(job, planned, path, result.would_send)
        return result


def sync_saved(options: RunOptions, path: Path, progress: Progress | None = None) -> RunResult:
    """``sync --plan``: apply the saved plan if nothing it covers moved; else exit 2, nothing
    sent, with what moved."""
    doc = load(path)
    check_files(doc, path)
    options = options_for(doc, options)
    with Job(options, progress) as job:
        planned = build_plan(job, "sync")
        changes = moved(doc, job, planned)
        if changes:
            more = f" (and {len(changes) - 5} more)" if len(changes) > 5 else ""
            raise PlanMovedError(
                f"the plan in {path} no longer holds, nothing was sent: "
                + "; ".join(changes[:5])
                + more,
                "plan again (csvsync plan --save-plan) and review what moved",
                moved=changes,
            )
        return finish(job, planned, apply_plan(job, planned))


def fingerprint(job: Job, planned: Planned) -> dict[str, Any]:
    """What a plan would send, as comparable records (see the module docstring)."""
    c = planned.diff.updates()
    sheet: list[int] = key_hashes(c["key"].to_numpy()).tolist() if len(c) else []
    cells = sorted(
        [str(i), str(loc), str(f), int(s), int(live), int(base)]
        for i, loc, f, s, live, base in zip(
            c["item_id"], c["locale_id"], c["field"], sheet, c["live_hash"], c["base_hash"],
            strict=True,
        )
    )  # fmt: skip
    primary = job.primary.cms_locale_id
    creates = sorted(
        [it.slug(primary), hashlib.sha256(json.dumps(it.field_data, sort_keys=True,
                                                     default=str).encode()).hexdigest()]
        for it in new_items(planned.diff.creates)
    )  # fmt: skip
    unpublish = sorted(planned.gone.item_ids) if planned.gone is not None else []
    body = {"cells": cells, "creates": creates, "unpublish": unpublish}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return {**body, "sha256": digest}


def save(job: Job, planned: Planned, path: Path, would_send: dict[str, int]) -> dict[str, Any]:
    """Write the plan file (atomically, mode 600); returns what was written."""
    options = job.options
    assert options.sheet is not None
    doc = {
        "format": FORMAT,
        "created": datetime.now(UTC).isoformat(),
        "run_id": planned.run_id,
        "api_base": job.api_base,
        "collection": job.mapping.collection,
        "sheet": str(options.sheet.resolve()),
        "sheet_sha256": file_sha256(options.sheet),
        "mapping": str(options.mapping.resolve()),
        "mapping_sha256": file_sha256(options.mapping),
        "options": {name: getattr(options, name) for name in PLAN_OPTIONS},
        "sheet_options": {
            "sheet_name": options.sheet_options.sheet_name,
            "encoding": options.sheet_options.encoding,
            "delimiter": options.sheet_options.delimiter,
        },
        "would_send": would_send,
        "fingerprint": fingerprint(job, planned),
    }
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(
            f"cannot write the plan file {path} ({exc.strerror or exc})",
            "choose another --save-plan FILE in a folder you can write",
        ) from None
    return doc


def _check_plan_path(path: Path) -> None:
    if path.is_dir() or not path.parent.is_dir():
        why = "it is a folder" if path.is_dir() else f"the folder {path.parent} does not exist"
        raise ConfigError(
            f"cannot write the plan file {path}: {why}",
            "choose another --save-plan FILE in a folder you can write",
        )


def load(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(
            f"{path}: not a csvsync plan file ({exc})", "save one with `csvsync plan --save-plan`"
        ) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ConfigError(
            f"{path}: not a csvsync plan file (no {FORMAT!r} format mark)",
            "save one with `csvsync plan --save-plan`",
        )
    return doc


def options_for(doc: dict[str, Any], options: RunOptions) -> RunOptions:
    """``options`` with the sheet, mapping and plan options the saved plan was made with."""
    saved = doc.get("options") or {}
    so = doc.get("sheet_options") or {}
    return replace(
        options,
        sheet=Path(doc["sheet"]),
        mapping=Path(doc["mapping"]),
        sheet_options=replace(
            options.sheet_options,
            sheet_name=so.get("sheet_name"),
            encoding=so.get("encoding"),
            delimiter=so.get("delimiter"),
        ),
        **{k: saved[k] for k in PLAN_OPTIONS if k in saved},
    )


def check_files(doc: dict[str, Any], path: Path) -> None:
    """Refuse before any request when the sheet or the mapping changed since the plan."""
    for what in ("sheet", "mapping"):
        target = Path(doc[what])
        try:
            now = file_sha256(target)
        except OSError as exc:
            raise ConfigError(
                f"the {what} of plan {path} cannot be read: {target} ({exc.strerror or exc})",
                "plan again",
            ) from None
        if now != doc[f"{what}_sha256"]:
            raise ConfigError(
                f"the {what} changed since plan {path} was made: {target}; nothing was sent",
                "plan again and review the new plan",
            )


def moved(doc: dict[str, Any], job: Job, planned: Planned) -> list[str]:
    """What differs between the saved plan and the same plan made now (empty: apply it)."""
    if doc.get("api_base") != job.api_base or doc.get("collection") != job.mapping.collection:
        return [f"the plan was made for {doc.get('collection')} at {doc.get('api_base')}"]
    then = doc["fingerprint"]
    now = fingerprint(job, planned)
    if then["sha256"] == now["sha256"]:
        return []
    out = []
    c = planned.diff.changes
    cells = zip(c["item_id"], c["locale_id"], c["field"], strict=True)
    kinds = dict(zip(cells, c["kind"], strict=True))
    old = {tuple(r[:3]): r[3:] for r in then["cells"]}
    new = {tuple(r[:3]): r[3:] for r in now["cells"]}
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        item, loc, fld = key
        if a is None:
            out.append(f"{fld} of item {item} ({loc}) would now be written too")
        elif b is None:
            kind = kinds.get(key)
            why = (
                f"changed in Webflow since the plan (now {kind})"
                if kind in (Outcome.CONFLICT, Outcome.DRIFT)
                else "would no longer be written (live or the sheet moved)"
            )
            out.append(f"{fld} of item {item} ({loc}) {why}")
        elif a[0] != b[0]:
            out.append(f"{fld} of item {item} ({loc}): the sheet's value changed")
        elif a[1] != b[1]:
            out.append(f"{fld} of item {item} ({loc}) changed in Webflow since the plan")
        else:
            out.append(f"{fld} of item {item} ({loc}): its base moved since the plan")
    if then["creates"] != now["creates"]:
        out.append("the items to create changed")
    if then["unpublish"] != now["unpublish"]:
        out.append("the items to unpublish changed")
    return out or ["the plan's fingerprint changed"]

"""``--log-file``: one line per run event (start, each batch, end), as text or JSON lines.

Lines are appended and flushed one by one, so a monitor tailing the file, or a run killed
part-way, sees every batch that was confirmed. Events never carry the token.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO


class RunLog:
    """A callable event sink for ``RunOptions.on_event``."""

    def __init__(self, path: Path, fmt: str = "text") -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fmt = fmt
        self._fh: TextIO = path.open("a", encoding="utf-8")

    def __call__(self, event: dict[str, Any]) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if self.fmt == "json":
            line = json.dumps({"time": stamp, **event}, ensure_ascii=False, default=str)
        else:
            rest = " ".join(f"{k}={_text(v)}" for k, v in event.items() if k != "event")
            line = f"{stamp} {event.get('event', '')} {rest}".rstrip()
        self._fh.write(line + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return ",".join(f"{k}:{v}" for k, v in value.items()) or "-"
    text = str(value)
    return json.dumps(text) if (" " in text or not text) else text

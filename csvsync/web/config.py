"""What the page is started with (``csvsync serve``'s options), in one object."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from csvsync.options import DEFAULT_API_BASE

MAX_UPLOAD = 50 * 1024 * 1024


@dataclass(frozen=True)
class WebConfig:
    """``mappings``: the folder of YAML mappings (one per collection); ``data_dir``: the private
    folder (mode 0700) that keeps each run's sheet, plan and results workbook."""

    mappings: Path
    data_dir: Path
    api_base: str = DEFAULT_API_BASE
    token: str = field(default="", repr=False)  # never sent to a browser
    max_upload: int = MAX_UPLOAD
    keep_runs: int = 50  # page runs kept in the data folder
    parse_memory: int = 2 * 1024**3  # an upload is first read in a child limited to this
    # Sign-in (needed beyond loopback): a users file's name -> scrypt hash, or one password.
    users: dict[str, str] = field(default_factory=dict, repr=False)
    password: str | None = field(default=None, repr=False)
    public_url: str | None = None  # the origin browsers use, behind a reverse proxy

    @property
    def signs_in(self) -> bool:
        return bool(self.users or self.password)

    # Signs the CSRF tokens; new at each start, so a form from an earlier server is refused.
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)

"""Pure: which of the files a write sent Webflow kept, when it skipped some.

With ``skipInvalidFiles`` Webflow drops a file it cannot fetch (a 404, too large, not an image)
and hosts the others under URLs of its own, in the order they were sent. A MultiImage that comes
back shorter than it went cannot be paired by position: the hosted copies are matched to the
sent URLs by file name, in order (a hosted URL ends with the file name it was fetched under,
give or take the characters a CDN path does not keep); where a name could be either of two sent
files, nothing is paired.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit


def landed_files(sent: list[Any], hosted: list[str]) -> list[Any] | None:
    """The items of ``sent`` (URLs, or ``{"url": ...}`` objects) that ``hosted`` holds copies
    of, in order; None when a hosted URL matches none of the sent files left, or more than one
    (two sent files of one name): nothing is known then."""
    out: list[Any] = []
    names = [_name(_url(item)) for item in sent]
    at = 0
    for url in hosted:
        name = _name(url)
        matches = [j for j in range(at, len(sent)) if _same_file(name, names[j])]
        if len(matches) != 1:
            return None
        out.append(sent[matches[0]])
        at = matches[0] + 1
    return out


def _same_file(hosted: str, sent: str) -> bool:
    """A hosted name is the sent one, or the sent one after the CDN's ``<fileId>_``."""
    return bool(sent) and (hosted == sent or hosted.endswith("_" + sent))


def _url(item: Any) -> str:
    return str(item.get("url") or "") if isinstance(item, dict) else str(item)


def _name(url: str) -> str:
    """The file name of a URL's path, lower case, each character but letters, digits and
    ``.-`` as ``_``: the sandbox keeps ``photo 1.png`` as ``photo_1.png``, a CDN as
    ``<fileId>_photo%201.png``."""
    name = PurePosixPath(unquote(urlsplit(url).path)).name
    return re.sub(r"[^\w.-]|_", "_", name).lower()

"""``--notify-url``: POST a run's JSON summary to a webhook after a run that ended with problems.

The URL is a secret, like the token (a Slack or Teams webhook URL carries its key): it is checked
by the same rules as ``--api-base`` without being quoted, and no message, log line or file ever
holds it. The body is the run's ``--json`` object plus a Slack-compatible ``text`` line.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from csvsync.webflow.transport import check_url

NOTIFY_HINT = "set --notify-url (or CSVSYNC_NOTIFY_URL) to an https URL"
TIMEOUT = 10.0


def check_notify_url(url: str) -> str:
    return check_url(url, name="the notify URL", hint=NOTIFY_HINT, secret=True)


def notify(url: str, payload: dict[str, Any], timeout: float = TIMEOUT) -> str | None:
    """POST ``payload`` (JSON) to ``url`` once; returns why it failed (never naming the URL),
    or None when the receiver took it (any 2xx)."""
    try:
        answer = requests.post(
            url,
            data=json.dumps(payload, default=str).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            timeout=timeout,
            allow_redirects=False,  # a redirect would carry the summary somewhere unchecked
        )
    except requests.RequestException as exc:
        return f"no answer ({type(exc).__name__})"
    if not 200 <= answer.status_code < 300:
        return f"the receiver answered HTTP {answer.status_code}"
    return None

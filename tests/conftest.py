"""Shared pytest fixtures. Sandbox fixtures: ``sandbox`` (demo seed), ``empty_sandbox``,
``wf`` (an authorized requests session for ``sandbox``) and ``spec_check`` (validates a
response against Webflow's OpenAPI description, loaded once per session). With
``CSVSYNC_VALIDATE_API=1`` every sandbox answer of the session is checked against it too."""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from hypothesis import settings
from openapi_defects import SPEC_PATH, check_all, check_exchange, load_spec

from csvsync.sandbox import Sandbox, SandboxOptions

# CI draws the same examples every run, so a submission's CI passes or fails on its code, not
# on the draw; property tests find new cases on developers' machines (random draws) instead.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Under CI (``CI=true``) a skipped test fails: a skip there means something the suite
    needs (a tool, a file) is missing from CI's setup, and must not pass unnoticed."""
    report = yield
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true (CI must run every test): {reason}"
    return report


@pytest.fixture(scope="session", autouse=True)
def _lock_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The tests' runs lock in a folder of their own, not the machine's ``/tmp/csvsync-locks``
    (the subprocesses they start inherit it); ``tests/test_lock.py`` tests the default."""
    before = os.environ.get("CSVSYNC_LOCK_DIR")
    os.environ["CSVSYNC_LOCK_DIR"] = str(tmp_path_factory.mktemp("locks"))
    yield
    if before is None:
        os.environ.pop("CSVSYNC_LOCK_DIR", None)
    else:
        os.environ["CSVSYNC_LOCK_DIR"] = before


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A running demo-seeded sandbox (in memory), stopped after the test."""
    with Sandbox(SandboxOptions(seed="demo")) as sb:
        yield sb


@pytest.fixture
def empty_sandbox() -> Iterator[Sandbox]:
    """A running sandbox with only the demo site and its locales (no collections)."""
    with Sandbox(SandboxOptions(seed="empty")) as sb:
        yield sb


class WebflowSession(requests.Session):
    """requests.Session that prefixes the sandbox base URL and sends the Bearer token."""

    def __init__(self, base_url: str, token: str) -> None:
        super().__init__()
        self.base_url = base_url
        self.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        if isinstance(url, str) and url.startswith("/"):
            url = self.base_url + url
        kwargs.setdefault("timeout", 10)
        return super().request(method, url, *args, **kwargs)


@pytest.fixture
def wf(sandbox: Sandbox) -> Iterator[WebflowSession]:
    with WebflowSession(sandbox.base_url, sandbox.opts.token) as session:
        yield session


@pytest.fixture(scope="session")
def webflow_openapi() -> Any:
    """Webflow's OpenAPI description, with the defects of ``tests/openapi_defects.py``
    corrected (that list is the only place a check departs from the spec)."""
    if not SPEC_PATH.exists():
        pytest.skip(f"Webflow OpenAPI description not found at {SPEC_PATH}")
    return load_spec(SPEC_PATH)


@pytest.fixture
def spec_check(webflow_openapi: Any) -> Callable[..., None]:
    """``spec_check(response)`` validates a 2xx answer against Webflow's schema for the
    operation. ``as_path=`` validates the body as the answer of another GET operation."""

    def check(resp: requests.Response, as_path: str | None = None, body: Any = None) -> None:
        assert resp.request.method is not None
        method = resp.request.method
        path = urlsplit(resp.request.url or "").path
        if as_path is not None:
            method, path = "GET", as_path
        headers = {k: v for k, v in resp.headers.items() if k.lower().startswith("x-ratelimit")}
        check_exchange(webflow_openapi, {
            "method": method, "path": path, "query": "", "headers": headers,
            "status": 200 if as_path else resp.status_code,
            "response": resp.json() if body is None else body,
        })  # fmt: skip

    return check


@pytest.fixture(scope="session", autouse=True)
def _validate_api_answers() -> Iterator[None]:
    """With ``CSVSYNC_VALIDATE_API=1``, every sandbox the session starts records its /v2
    answers, and the session ends by checking each against the spec (its operation's status
    and schema); a divergence not in ``tests/openapi_defects.py`` fails the run."""
    if os.environ.get("CSVSYNC_VALIDATE_API") != "1":
        yield
        return
    exchanges: list[dict[str, Any]] = []
    start = Sandbox.start

    def recording_start(self: Sandbox) -> Sandbox:
        if self.opts.record is None:
            self.opts.record = exchanges
        return start(self)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Sandbox, "start", recording_start)
        yield
    failures = check_all(load_spec(SPEC_PATH), exchanges)
    if failures:
        shown = "\n".join(failures[:50])
        pytest.fail(f"{len(failures)} of {len(exchanges)} sandbox answers diverge from "
                    f"Webflow's OpenAPI description:\n{shown}", pytrace=False)  # fmt: skip

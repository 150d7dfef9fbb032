"""The editor's flow in a real browser: Playwright driving Debian's Chromium against the page on
loopback, the page against the sandbox. Upload a sheet with one bad row, see the counts and the
bad row's message, confirm, download the workbook and check it, undo the run and see the values
back.

Chromium comes from Debian (``apt-get install chromium``, as ``.ci/run`` does); never from
``playwright install``. Without it the test skips, and under ``CI=true`` a skip fails.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import uvicorn
from support import Workspace, make_workspace

from csvsync.ops.demo import DEMO_MAPPING, DEMO_TOKEN
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import LOCALE_EN
from csvsync.web.app import create_app
from csvsync.web.config import WebConfig

pytestmark = pytest.mark.slow
CHROMIUM = Path("/usr/lib/chromium/chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000)) as sb:
        yield make_workspace(sb, tmp_path)


@pytest.fixture
def page_url(ws: Workspace) -> Iterator[str]:
    mappings = ws.dir / "mappings"
    mappings.mkdir()
    (mappings / "products.yaml").write_text(DEMO_MAPPING, encoding="utf-8")
    app = create_app(WebConfig(mappings, ws.dir / "data", ws.sb.base_url, DEMO_TOKEN))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):  # bounded: up to 10 s for the server to listen
        if server.started:
            break
        threading.Event().wait(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_upload_plan_confirm_and_download_in_chromium(
    ws: Workspace, page_url: str, tmp_path: Path
) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's Chromium is not installed ({CHROMIUM}): apt-get install chromium")
    from playwright.sync_api import sync_playwright

    f = ws.frame.astype({"Price": object})
    f.loc[0, "Summary"] = "Changed in the browser"
    f.loc[2, "Price"] = "lots"
    sheet = tmp_path / "edited.csv"
    f.to_csv(sheet, index=False)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            page = browser.new_page(accept_downloads=True)
            page.goto(page_url + "/")
            page.get_by_role("link", name="products").click()
            page.get_by_label("Sheet (CSV, TSV, XLSX, ODS or XLS)").set_input_files(str(sheet))
            page.get_by_role("button", name="Show what would change").click()
            page.wait_for_selector("text=What would change")
            assert page.get_by_text("Rows to fix first (3)").is_visible()
            assert "lots" in page.content()
            assert page.get_by_role("cell", name="Changed in the browser").first.is_visible()
            page.get_by_role("button", name="Confirm: send exactly these changes").click()
            page.wait_for_selector("h1:text('Done')", timeout=30_000)
            assert page.get_by_text("1 updated").count() + page.locator(".o-updated").count()
            with page.expect_download() as download:
                page.get_by_role("link", name="Download the results workbook").click()
            book = tmp_path / "results.xlsx"
            download.value.save_as(book)
            assert DEMO_TOKEN not in page.content()
            item = ws.frame.loc[0, "Item ID"]
            assert ws.live(item, LOCALE_EN)["summary"] == "Changed in the browser"
            # Undo: the dry run first, then the values are back in the sandbox.
            page.get_by_role("link", name="← products").click()
            page.get_by_role("link", name="Undo…").first.click()
            page.wait_for_selector("text=Nothing has been sent yet")
            page.get_by_role("button", name="Undo: put these values back").click()
            page.wait_for_selector("h1:text('Done')", timeout=30_000)
            assert ws.live(item, LOCALE_EN)["summary"] == ws.frame.loc[0, "Summary"]
        finally:
            browser.close()
    rows = pd.read_excel(book, sheet_name="Rows", engine="openpyxl")
    assert (rows["Outcome"] == "updated").sum() == 1 and (rows["Outcome"] == "invalid").sum() == 3

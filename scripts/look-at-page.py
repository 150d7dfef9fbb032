"""Screenshots of every step of the editor's page, at desktop and phone widths, for a person to
look at (nothing is asserted): the sandbox, the page on loopback, Debian's Chromium.

    python scripts/look-at-page.py [OUT_DIR]     # default: /tmp/csvsync-page-shots

Needs `pip install -e '.[test]'` and Debian's chromium (/usr/lib/chromium/chromium).
"""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from csvsync.ops.demo import DEMO_MAPPING, DEMO_TOKEN, live_demo_items, sample_frame
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.web.app import create_app
from csvsync.web.config import WebConfig

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp())
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN)) as sb:
        (work / "mappings").mkdir()
        (work / "mappings" / "products.yaml").write_text(DEMO_MAPPING, encoding="utf-8")
        frame = sample_frame(live_demo_items(sb)).astype({"Price": object})
        frame.loc[3, "Price"] = "lots"
        sheet = work / "products.csv"
        frame.to_csv(sheet, index=False)
        short = work / "short.csv"  # two live items left out: the unpublish list
        frame.iloc[2:].to_csv(short, index=False)
        app = create_app(WebConfig(work / "mappings", work / "data", sb.base_url, DEMO_TOKEN))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            threading.Event().wait(0.05)
        base = f"http://127.0.0.1:{port}"
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path="/usr/lib/chromium/chromium", args=FLAGS
                )
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                shots: list[tuple[str, str]] = [
                    ("1-collections", base + "/"),
                    ("2-collection", base + "/c/products"),
                ]
                page.goto(base + "/c/products")
                page.get_by_label("Sheet (CSV, TSV, XLSX, ODS or XLS)").set_input_files(str(sheet))
                page.get_by_role("button", name="Show what would change").click()
                page.wait_for_selector("text=What would change")
                shots.append(("3-plan", page.url))
                page.get_by_role("button", name="Confirm: send exactly these changes").click()
                page.wait_for_selector("h1:text('Done')", timeout=60_000)
                shots.append(("4-results", page.url))
                page.goto(base + "/c/products")
                page.get_by_label("Sheet (CSV, TSV, XLSX, ODS or XLS)").set_input_files(str(short))
                page.get_by_label("Also take items that are not in the sheet").check()
                page.get_by_role("button", name="Show what would change").click()
                page.wait_for_selector("text=Items to take off the live site")
                shots.append(("5-unpublish-plan", page.url))
                shots.append(("6-history", base + "/c/products"))
                for name, (w, h) in SIZES.items():
                    page.set_viewport_size({"width": w, "height": h})
                    for label, url in shots:
                        page.goto(url)
                        page.screenshot(path=str(out / f"{label}-{name}.png"), full_page=True)
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/csvsync-page-shots"))

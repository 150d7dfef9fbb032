"""The editor's page over HTTP (Starlette's TestClient) against the sandbox: the whole flow and
every refusal, and the token in no page or download."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from starlette.testclient import TestClient
from support import Workspace, make_workspace

from csvsync.ops.demo import DEMO_MAPPING, DEMO_TOKEN
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import DEMO_COLLECTION_ID, LOCALE_EN
from csvsync.web.app import create_app
from csvsync.web.config import WebConfig
from csvsync.webflow import ClientOptions, WebflowClient


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with Sandbox(SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000)) as sb:
        yield make_workspace(sb, tmp_path)


def page_client(ws: Workspace, **config: object) -> TestClient:
    mappings = ws.dir / "mappings"
    mappings.mkdir(exist_ok=True)
    (mappings / "products.yaml").write_text(DEMO_MAPPING, encoding="utf-8")
    (mappings / "broken.yaml").write_text("site: [unclosed\n", encoding="utf-8")
    cfg = WebConfig(mappings, ws.dir / "data", ws.sb.base_url, DEMO_TOKEN, **config)  # type: ignore[arg-type]
    return TestClient(create_app(cfg), base_url="http://127.0.0.1:8000")


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def edited_sheet(ws: Workspace, bad: bool = True) -> bytes:
    f = ws.frame.astype({"Price": object})
    f.loc[0, "Summary"] = "Edited on the page"
    f.loc[1, "Summary [fr]"] = "Modifié sur la page"
    if bad:
        f.loc[2, "Price"] = "lots"
    return f.to_csv(index=False).encode("utf-8")


def plan(client: TestClient, sheet: bytes, target: str = "live") -> str:
    token = csrf_of(client.get("/c/products").text)
    res = client.post(
        "/c/products/plan",
        data={"csrf": token, "target": target},
        files={"sheet": ("products.csv", sheet, "text/csv")},
        follow_redirects=False,
    )
    assert res.status_code == 303, res.text
    return str(res.headers["location"])


def wait_done(client: TestClient, url: str) -> str:
    for _ in range(600):  # bounded: 30 s
        html = client.get(url).text
        if "Sending" not in html:
            return html
        time.sleep(0.05)
    raise AssertionError("the run did not finish")


def test_the_whole_flow_from_cards_to_results(ws: Workspace) -> None:
    client = page_client(ws)
    pages = []
    index = client.get("/")
    pages.append(index.text)
    assert index.status_code == 200 and "products" in index.text
    assert "This mapping does not load" in index.text  # broken.yaml: its error, not a crash
    assert "default-src 'self'" in index.headers["content-security-policy"]
    export = client.get("/c/products/export.xlsx")
    assert export.status_code == 200
    assert len(pd.read_excel(io.BytesIO(export.content), engine="openpyxl")) == 300
    url = plan(client, edited_sheet(ws))
    html = client.get(url).text
    pages.append(html)
    assert "Rows to fix first (3)" in html and "lots" in html  # Price: one value, three locales
    assert "Edited on the page" in html and "A sync would send <strong>1</strong>" in html
    fr = client.get(url, params={"locale": "fr-FR"}).text  # filtered on the server
    assert "Modifié sur la page" in fr and "Edited on the page" not in fr
    confirm = client.post(url + "/confirm", data={"csrf": csrf_of(html)}, follow_redirects=False)
    assert confirm.status_code == 303
    done = wait_done(client, confirm.headers["location"])
    pages.append(done)
    assert "Done" in done and "2</strong> updated" in done and "3</strong> invalid" in done
    book = client.get(confirm.headers["location"] + "/results.xlsx")
    rows = pd.read_excel(io.BytesIO(book.content), sheet_name="Rows", engine="openpyxl")
    assert (rows["Outcome"] == "updated").sum() == 2
    assert ws.live(ws.frame.loc[0, "Item ID"], LOCALE_EN)["summary"] == "Edited on the page"
    history = client.get("/c/products").text
    pages.append(history)
    assert "sync" in history
    # Undo: its dry run first, then the values go back.
    link = re.search(r'href="(/c/products/undo/[^"]+)"', history)
    assert link, history
    preview = client.get(link.group(1)).text
    pages.append(preview)
    assert "2</strong> would revert" in preview and "Edited on the page" in preview
    assert ws.live(ws.frame.loc[0, "Item ID"], LOCALE_EN)["summary"] == "Edited on the page"
    undo = client.post(link.group(1), data={"csrf": csrf_of(preview)}, follow_redirects=False)
    undone = wait_done(client, undo.headers["location"])
    pages.append(undone)
    assert "2</strong> reverted" in undone, undone
    assert ws.live(ws.frame.loc[0, "Item ID"], LOCALE_EN)["summary"] == ws.frame.loc[0, "Summary"]
    downloads = [export.content, book.content, client.get(url + "/plan.xlsx").content]
    assert all(DEMO_TOKEN not in p for p in pages)
    assert all(DEMO_TOKEN.encode() not in d for d in downloads)


def test_forms_without_token_from_elsewhere_or_too_big_are_refused(ws: Workspace) -> None:
    client = page_client(ws, max_upload=10_000)
    sheet = {"sheet": ("products.csv", edited_sheet(ws), "text/csv")}
    assert client.post("/c/products/plan", files=sheet).status_code in (403, 413)
    token = csrf_of(client.get("/c/products").text)
    small = {"sheet": ("p.csv", b"Item ID\n", "text/csv")}
    res = client.post("/c/products/plan", data={"csrf": "forged"}, files=small)
    assert res.status_code == 403
    res = client.post("/c/products/plan", data={"csrf": token}, files=small,
                      headers={"origin": "http://evil.example"})  # fmt: skip
    assert res.status_code == 403
    res = client.post("/c/products/plan", data={"csrf": token}, files=sheet)
    assert res.status_code == 413
    assert client.get("/c/..%2Fetc").status_code == 404  # mappings by name only
    assert client.get("/c/nope").status_code == 404
    assert ws.writes() == []


def test_a_plan_that_moved_sends_nothing_and_says_what_moved(ws: Workspace) -> None:
    client = page_client(ws)
    url = plan(client, edited_sheet(ws, bad=False))
    html = client.get(url).text
    with WebflowClient(ClientOptions(api_base=ws.sb.base_url, token=DEMO_TOKEN)) as c:
        c.update_items_live(
            DEMO_COLLECTION_ID, [{"id": ws.frame.loc[0, "Item ID"], "fieldData": {"summary": "x"}}]
        )
    ws.sb.clear_log()
    confirm = client.post(url + "/confirm", data={"csrf": csrf_of(html)}, follow_redirects=False)
    moved = wait_done(client, confirm.headers["location"])  # the run page sends to the new plan
    assert "Nothing was sent" in moved and "changed in Webflow since the plan" in moved
    assert "What would change" in moved and "<strong>1</strong> conflict" in moved, moved
    assert ws.writes() == []
    # The new plan is confirmable in turn: its conflict is reported, the other change is sent.
    again = client.post(url + "/confirm", data={"csrf": csrf_of(moved)}, follow_redirects=False)
    done = wait_done(client, again.headers["location"])
    assert "Done" in done and "1</strong> updated" in done and "1</strong> conflict" in done, done
    assert ws.live(ws.frame.loc[0, "Item ID"], LOCALE_EN)["summary"] == "x"


def test_the_run_page_of_a_plan_not_confirmed_yet_is_its_plan(ws: Workspace) -> None:
    client = page_client(ws)
    url = plan(client, edited_sheet(ws, bad=False))
    early = client.get(url.replace("/p/", "/r/"), follow_redirects=False)
    assert early.status_code == 303 and early.headers["location"] == url


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_run_that_crashes_says_so_rather_than_an_empty_page(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not a Webflow answer (those are errors with a message): a bug, stood in for here.
    from csvsync.ops import saved_plan

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    client = page_client(ws)
    url = plan(client, edited_sheet(ws, bad=False))
    monkeypatch.setattr(saved_plan, "sync_saved", crash)
    confirm = client.post(url + "/confirm", data={"csrf": csrf_of(client.get(url).text)},
                          follow_redirects=False)  # fmt: skip
    page = wait_done(client, confirm.headers["location"])
    assert "The run ended without a result" in page and "csvsync status" in page, page
    assert ws.writes() == []


def test_a_second_run_of_a_busy_collection_is_refused(ws: Workspace) -> None:
    client = page_client(ws)
    first = plan(client, edited_sheet(ws, bad=False))
    second = plan(client, edited_sheet(ws, bad=False))
    token = csrf_of(client.get(first).text)
    ws.sb.set_faults(latency=0.5)
    try:
        res = client.post(first + "/confirm", data={"csrf": token}, follow_redirects=False)
        assert res.status_code == 303
        busy = client.post(second + "/confirm", data={"csrf": token})
        assert busy.status_code == 409 and "is still sending" in busy.text
    finally:
        ws.sb.reset_faults()
    wait_done(client, res.headers["location"])


def test_serve_refuses_an_address_beyond_this_machine(ws: Workspace) -> None:
    res = ws.run("serve", "--host", "0.0.0.0", "--mappings", ws.dir,
                 env={"CSVSYNC_WEB_PASSWORD": ""})  # fmt: skip
    assert res.exit_code == 2 and res.stderr.count("\n") == 1
    assert "without sign-in" in res.stderr and DEMO_TOKEN not in res.output


@pytest.mark.slow
def test_demo_serve_shows_the_page_with_the_demo_collection(tmp_path: Path) -> None:
    import os
    import signal
    import socket
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "csvsync", "demo", "--serve", "--dir", str(tmp_path / "d"),
         "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={k: v for k, v in os.environ.items() if k != "WEBFLOW_API_TOKEN"},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = []
        for _ in range(50):  # bounded: the first lines, up to the page's address
            line = proc.stdout.readline()
            lines.append(line)
            if "page is at" in line or not line:
                break
        assert any(f"http://127.0.0.1:{port}/" in x for x in lines), lines
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as answer:
            html = answer.read().decode("utf-8")
        assert "products" in html and DEMO_COLLECTION_ID in html
        assert DEMO_TOKEN not in html
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)


def test_an_upload_that_needs_too_much_memory_is_refused_without_harm(ws: Workspace) -> None:
    client = page_client(ws, parse_memory=64 * 1024**2)  # too little for the reader at all
    token = csrf_of(client.get("/c/products").text)
    res = client.post("/c/products/plan", data={"csrf": token},
                      files={"sheet": ("p.csv", edited_sheet(ws), "text/csv")})  # fmt: skip
    assert res.status_code == 400 and "MB to read" in res.text
    assert ws.writes() == []
    assert client.get("/").status_code == 200  # the server is fine


def test_a_mapping_names_its_own_token(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    client = page_client(ws)
    path = ws.dir / "mappings" / "products.yaml"
    path.write_text("token_env: SHOP_TOKEN\n" + DEMO_MAPPING, encoding="utf-8")
    res = client.get("/c/products/export.xlsx")
    assert res.status_code == 400 and "SHOP_TOKEN, which is not set" in res.text
    monkeypatch.setenv("SHOP_TOKEN", DEMO_TOKEN)
    assert client.get("/c/products/export.xlsx").status_code == 200
    monkeypatch.setenv("SHOP_TOKEN", "wrong-site-token")
    res = client.get("/c/products/export.xlsx")
    assert res.status_code == 400 and "wrong-site-token" not in res.text


def test_sign_in_guards_every_page_and_throttles_failures(ws: Workspace) -> None:
    from csvsync.web.auth import COOKIE, hash_password

    client = page_client(ws, users={"ana": hash_password("correct horse")})
    res = client.get("/", follow_redirects=False)
    assert res.status_code == 303 and res.headers["location"] == "/login"
    assert client.post("/c/products/plan").status_code == 403
    assert client.get("/static/app.css").status_code == 200
    login = client.get("/login").text
    token = csrf_of(login)
    bad = client.post("/login", data={"csrf": token, "name": "ana", "password": "wrong"})
    assert bad.status_code == 401 and COOKIE not in client.cookies
    ok = client.post("/login", data={"csrf": token, "name": "ana", "password": "correct horse"},
                     follow_redirects=False)  # fmt: skip
    assert ok.status_code == 303
    cookie = ok.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert client.get("/").status_code == 200 and "products" in client.get("/").text
    client.cookies.set(COOKIE, client.cookies[COOKIE][:-2] + "00")  # forged signature
    assert client.get("/", follow_redirects=False).status_code == 303
    other = page_client(ws, users={"ana": hash_password("correct horse")})
    for _ in range(5):
        other.post("/login", data={"csrf": token, "name": "ana", "password": "nope"})
    locked = other.post("/login", data={"csrf": token, "name": "ana", "password": "correct horse"})
    assert locked.status_code in (403, 429)


def test_serve_beyond_loopback_needs_sign_in(ws: Workspace, tmp_path: Path) -> None:
    from csvsync.web.server import check_host

    check_host("0.0.0.0", signs_in=True)  # allowed with sign-in
    users = tmp_path / "users"
    users.write_text("ana:not-a-hash\n", encoding="utf-8")
    res = ws.run("serve", "--host", "0.0.0.0", "--users", users, "--mappings", ws.dir)
    assert res.exit_code == 2 and "not a 'name:hash' line" in res.stderr
    from click.testing import CliRunner

    from csvsync.cli import cli

    res = CliRunner().invoke(cli, ["serve", "--hash-password", "ana"], input="pw\npw\n")
    assert res.exit_code == 0 and res.stdout.strip().splitlines()[-1].startswith("ana:scrypt$")


def test_a_card_counts_the_live_items_before_the_first_pull(ws: Workspace) -> None:
    client = page_client(ws)
    before = len(ws.sb.log())
    html = client.get("/").text
    assert "300 items" in html  # no state file yet: one read of the live listing
    assert len(ws.sb.log()) - before == 1
    assert not (ws.dir / "mappings" / ".csvsync").exists()  # nothing pulled, no state


def test_unpublish_missing_from_the_page_lists_the_items_first(ws: Workspace) -> None:
    client = page_client(ws)
    gone = ws.frame.iloc[:3]
    sheet = ws.frame.iloc[3:].to_csv(index=False).encode("utf-8")
    token = csrf_of(client.get("/c/products").text)
    res = client.post(
        "/c/products/plan",
        data={"csrf": token, "target": "live", "unpublish_missing": "on"},
        files={"sheet": ("products.csv", sheet, "text/csv")},
        follow_redirects=False,
    )
    assert res.status_code == 303, res.text
    url = res.headers["location"]
    html = client.get(url).text
    assert "Items to take off the live site (3)" in html
    assert all(str(i) in html for i in gone["Item ID"])
    assert not ws.writes()
    confirm = client.post(url + "/confirm", data={"csrf": csrf_of(html)}, follow_redirects=False)
    done = wait_done(client, confirm.headers["location"])
    assert "3</strong> unpublished" in done, done
    with WebflowClient(ClientOptions(api_base=ws.sb.base_url, token=DEMO_TOKEN)) as c:
        live = {it["id"] for it in c.iter_items_live(DEMO_COLLECTION_ID)}
    assert live.isdisjoint(set(gone["Item ID"])) and len(live) == 297
    # Without the box, the same sheet unpublishes nothing.
    plain = client.get(plan(client, sheet)).text
    assert "Items to take off" not in plain


def test_history_says_who_ran_what(ws: Workspace) -> None:
    from csvsync.web.auth import hash_password

    client = page_client(ws, users={"ana": hash_password("correct horse")})
    token = csrf_of(client.get("/login").text)
    client.post("/login", data={"csrf": token, "name": "ana", "password": "correct horse"})
    url = plan(client, edited_sheet(ws, bad=False))
    html = client.get(url).text
    confirm = client.post(url + "/confirm", data={"csrf": csrf_of(html)}, follow_redirects=False)
    wait_done(client, confirm.headers["location"])
    history = client.get("/c/products").text
    assert "<td>ana (page)</td>" in history, history
    cli_mapping = ws.dir / "mappings" / "products.yaml"
    listed = ws.run("revert", "--list", "-m", cli_mapping, "--json")
    runs = __import__("json").loads(listed.stdout)
    assert runs[0]["actor"] == "ana (page)"
    # A run from the CLI records the login name of the process.
    f = ws.frame.copy()
    f.loc[5, "Summary"] = "From the terminal"
    ws.run(
        "sync",
        ws.write_sheet(f),
        "-m",
        cli_mapping,
        env={"USER": "cron-bot", "LOGNAME": "cron-bot"},
    )
    text = ws.run("revert", "--list", "-m", cli_mapping).stdout
    assert "cron-bot" in text and "ana (page)" in text


def test_a_users_file_takes_argon2_hashes(ws: Workspace, tmp_path: Path) -> None:
    from argon2 import PasswordHasher

    from csvsync.web.auth import load_users

    users = tmp_path / "users"
    users.write_text(f"bo:{PasswordHasher().hash('tea for two')}\n", encoding="utf-8")
    client = page_client(ws, users=load_users(users))
    token = csrf_of(client.get("/login").text)
    bad = client.post("/login", data={"csrf": token, "name": "bo", "password": "tea for one"})
    assert bad.status_code == 401
    ok = client.post("/login", data={"csrf": token, "name": "bo", "password": "tea for two"},
                     follow_redirects=False)  # fmt: skip
    assert ok.status_code == 303 and client.get("/").status_code == 200


def test_progress_rate_and_time_left_follow_throttling(tmp_path: Path) -> None:
    from csvsync.web.runs import PageRun

    now = [100.0]
    run = PageRun("k", "products", tmp_path, tmp_path / "s.csv", clock=lambda: now[0])
    run.on_progress("push", 0, 1000)
    assert run.pace() == (0.0, None) and run.pace_text() == ""
    run.on_progress("push", 100, 1000)  # the first answer: the rate starts here, not at infinity
    assert run.pace_text() == ""
    now[0] += 2.0
    run.on_progress("push", 300, 1000)
    assert run.pace() == (100.0, 7.0) and run.pace_text() == "100 a second, about 7 s left"
    now[0] += 10.0  # a 429's Retry-After: nothing answered for 10 s
    rate, left = run.pace()
    assert round(rate, 1) == 16.7 and left is not None and round(left) == 42
    now[0] += 30.0
    run.on_progress("push", 320, 1000)
    assert run.pace_text() == "5.2 a second, about 2 min left"  # 220 in 42 s

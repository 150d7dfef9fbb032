"""Sandbox rate limiting, fault knobs, control API, request log, persistence and lifecycle."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from csvsync.sandbox import Sandbox, SandboxOptions, run_forever
from csvsync.sandbox.seed import DEMO_COLLECTION_ID, product_id

ITEMS_LIVE = f"/collections/{DEMO_COLLECTION_ID}/items/live"
AUTH = {"Authorization": "Bearer sandbox-token"}
TOO_MANY: dict[str, Any] = {
    "message": "Too Many Requests",
    "code": "too_many_requests",
    "externalReference": None,
    "details": [],
}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limit_and_window_reset() -> None:
    clock = FakeClock()
    opts = SandboxOptions(seed="empty", rate_limit=3, window=60.0, clock=clock)
    with Sandbox(opts) as sb, requests.Session() as s:
        s.headers.update(AUTH)
        remaining = [
            s.get(sb.base_url + "/sites").headers["X-RateLimit-Remaining"] for _ in range(3)
        ]
        assert remaining == ["2", "1", "0"]
        clock.now += 20.5
        r = s.get(sb.base_url + "/sites")
        assert r.status_code == 429
        assert r.json() == TOO_MANY
        assert r.headers["Retry-After"] == "40"
        assert r.headers["X-RateLimit-Limit"] == "3"
        assert r.headers["X-RateLimit-Remaining"] == "0"
        # the control API is never limited
        assert requests.get(sb.control_url + "/faults", timeout=5).status_code == 200
        clock.now += 40
        r = s.get(sb.base_url + "/sites")
        assert r.status_code == 200 and r.headers["X-RateLimit-Remaining"] == "2"
        # changeable at run time
        sb.set_faults(rate_limit=10)
        assert s.get(sb.base_url + "/sites").headers["X-RateLimit-Limit"] == "10"
        assert s.get(sb.base_url + "/token/introspect").json()["authorization"]["rateLimit"] == 10


def test_rate_window_real_time_short_window() -> None:
    import time

    with Sandbox(SandboxOptions(seed="empty", rate_limit=1, window=0.3)) as sb:
        assert requests.get(sb.base_url + "/sites", headers=AUTH, timeout=5).status_code == 200
        r = requests.get(sb.base_url + "/sites", headers=AUTH, timeout=5)
        assert r.status_code == 429 and r.headers["Retry-After"] == "1"
        time.sleep(0.35)
        assert requests.get(sb.base_url + "/sites", headers=AUTH, timeout=5).status_code == 200


def test_control_api_faults_roundtrip(sandbox: Sandbox) -> None:
    r = requests.post(sandbox.control_url + "/faults", json={"latency": 0.01, "seed": 7}, timeout=5)
    assert r.status_code == 200
    state = requests.get(sandbox.control_url + "/faults", timeout=5).json()
    assert state["latency"] == 0.01 and state["seed"] == 7 and state["rate_limit"] == 120
    r = requests.post(sandbox.control_url + "/faults", json={"bogus": 1}, timeout=5)
    assert r.status_code == 400
    r = requests.delete(sandbox.control_url + "/faults", timeout=5)
    assert r.json()["latency"] == 0.0


def test_error_rate_answers_500_without_applying(sandbox: Sandbox, wf: Any) -> None:
    sandbox.set_faults(error_rate=1.0)
    r = wf.patch(ITEMS_LIVE, json={"items": [{"id": product_id(1), "fieldData": {"stock": 1}}]})
    assert r.status_code == 500
    assert r.json() == {
        "message": "An Internal Error occurred",
        "code": "internal_error",
        "externalReference": None,
        "details": [],
    }
    assert "X-RateLimit-Remaining" in r.headers
    sandbox.set_faults(error_rate=0.0)
    r = wf.patch(ITEMS_LIVE, json={"items": [{"id": product_id(1), "fieldData": {"stock": 1}}]})
    assert r.json()["items"][0]["lastUpdated"] > "2024-06-01T12:00:00.000Z"
    assert [e["status"] for e in sandbox.log()] == [500, 200]


def stock(sandbox: Sandbox) -> Any:
    variant = sandbox.store.variant(DEMO_COLLECTION_ID, product_id(1))
    assert variant is not None
    return variant["fieldData"]["stock"]


def test_drops_before_and_after_apply(sandbox: Sandbox, wf: Any) -> None:
    sandbox.set_faults(drop_rate=1.0)
    body = {"items": [{"id": product_id(1), "fieldData": {"stock": 777}}]}
    with pytest.raises(requests.ConnectionError):
        wf.patch(ITEMS_LIVE, json=body)
    assert stock(sandbox) != 777
    sandbox.set_faults(drop_after_apply=True)
    with pytest.raises(requests.ConnectionError):
        wf.patch(ITEMS_LIVE, json=body)
    assert stock(sandbox) == 777
    assert [e.get("dropped") for e in sandbox.log()] == [True, True]
    sandbox.set_faults(drop_rate=0.0)
    assert wf.get("/sites").status_code == 200


def test_fault_decisions_are_seeded(sandbox: Sandbox, wf: Any) -> None:
    def run() -> list[int]:
        sandbox.set_faults(error_rate=0.5, seed=123)
        return [wf.get("/sites").status_code for _ in range(12)]

    first = run()
    assert first == run()
    assert set(first) == {200, 500}


def test_reject_rules(sandbox: Sandbox, wf: Any) -> None:
    sandbox.set_faults(
        reject=[
            {"item_id": product_id(2), "field": "stock"},
            {"field": "name", "value": "Forbidden"},
        ]
    )
    r = wf.patch(ITEMS_LIVE, json={"items": [{"id": product_id(2), "fieldData": {"stock": 4}}]})
    assert r.status_code == 400
    assert r.json()["code"] == "validation_error"
    assert [d["param"] for d in r.json()["details"]] == ["stock"]
    r = wf.patch(ITEMS_LIVE, json={"items": [{"id": product_id(2), "fieldData": {"price": 4}}]})
    assert r.status_code == 200
    r = wf.post(ITEMS_LIVE, json={"fieldData": {"name": "Forbidden", "slug": "forbidden"}})
    assert r.status_code == 400 and r.json()["details"][0]["param"] == "name"


def test_burst_429(sandbox: Sandbox, wf: Any) -> None:
    sandbox.set_faults(burst_429=2, retry_after=3)
    first, second, third = (wf.get("/sites") for _ in range(3))
    assert first.status_code == second.status_code == 429
    assert first.json() == TOO_MANY and first.headers["Retry-After"] == "3"
    assert "X-RateLimit-Limit" in first.headers
    assert third.status_code == 200
    assert sandbox.faults_state()["burst_429"] == 0


def test_latency_and_spikes_show_in_log(sandbox: Sandbox, wf: Any) -> None:
    sandbox.set_faults(latency=0.05, spike_rate=1.0, spike_latency=0.05)
    wf.get("/sites")
    assert sandbox.log()[-1]["duration"] >= 0.1


def test_request_log(sandbox: Sandbox, wf: Any) -> None:
    wf.get(ITEMS_LIVE, params={"limit": 7})
    wf.patch(
        ITEMS_LIVE,
        json={"items": [{"id": product_id(n), "fieldData": {"stock": 1}} for n in (1, 2, 3)]},
    )
    requests.get(sandbox.control_url + "/log", timeout=5)  # control calls are not logged
    log = requests.get(sandbox.control_url + "/log", timeout=5).json()
    assert [(e["method"], e["path"], e["status"], e["items"]) for e in log] == [
        ("GET", f"/v2{ITEMS_LIVE}", 200, 7),
        ("PATCH", f"/v2{ITEMS_LIVE}", 200, 3),
    ]
    assert log[0]["query"] == "limit=7"
    assert isinstance(log[0]["time"], float) and log[0]["duration"] >= 0
    assert requests.delete(sandbox.control_url + "/log", timeout=5).status_code == 204
    assert sandbox.log() == []


def test_persistence_across_restart(tmp_path: Path) -> None:
    data = tmp_path / "sandbox.db"
    body = {"items": [{"id": product_id(9), "fieldData": {"name": "Persisted"}}]}
    with Sandbox(SandboxOptions(data=data)) as sb:
        r = requests.patch(sb.base_url + ITEMS_LIVE, json=body, headers=AUTH, timeout=5)
        assert r.status_code == 200
    assert data.exists()
    with Sandbox(SandboxOptions(data=data, seed="demo")) as sb:
        item = requests.get(
            f"{sb.base_url}/collections/{DEMO_COLLECTION_ID}/items/{product_id(9)}/live",
            headers=AUTH,
            timeout=5,
        ).json()
        assert item["fieldData"]["name"] == "Persisted"
        assert item["fieldData"]["image"]["url"].startswith(sb.asset_base)
        assert sb.store.count(DEMO_COLLECTION_ID) == 900  # not seeded twice


def test_stop_closes_keepalive_connections() -> None:
    sb = Sandbox(SandboxOptions(seed="empty")).start()
    url = sb.base_url + "/sites"
    with requests.Session() as s:
        s.headers.update(AUTH)
        assert s.get(url).status_code == 200  # leaves a keep-alive connection open
        sb.stop()
        with pytest.raises(requests.ConnectionError):
            s.get(url, timeout=2)


def test_run_forever_stops_on_keyboard_interrupt() -> None:
    urls: list[str] = []

    def on_ready(url: str) -> None:
        urls.append(url)
        assert requests.get(url + "/sites", headers=AUTH, timeout=5).status_code == 200
        raise KeyboardInterrupt

    done = threading.Event()

    def target() -> None:
        run_forever(SandboxOptions(seed="empty"), on_ready)
        done.set()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=10)
    assert done.is_set() and urls[0].endswith("/v2")
    with pytest.raises(requests.ConnectionError):
        requests.get(urls[0] + "/sites", headers=AUTH, timeout=2)


def test_wait_idle_waits_for_the_request_in_flight_and_for_open_connections(
    sandbox: Sandbox,
) -> None:
    sandbox.set_faults(latency=0.3)
    session = requests.Session()
    answer: list[int] = []
    sender = threading.Thread(
        target=lambda: answer.append(
            session.get(sandbox.base_url + "/sites", headers=AUTH, timeout=5).status_code
        )
    )
    sender.start()
    try:
        deadline = time.monotonic() + 5
        while sandbox.in_flight() == 0:
            assert time.monotonic() < deadline, "the request never arrived"
            time.sleep(0.005)
        with pytest.raises(TimeoutError, match="1 request"):
            sandbox.wait_idle(timeout=0.01)
        sandbox.wait_idle(timeout=5)
        assert sandbox.in_flight() == 0 and [e["status"] for e in sandbox.log()] == [200]
        sender.join(timeout=5)
        assert answer == [200] and sandbox.open_connections() == 1  # kept alive
        with pytest.raises(TimeoutError, match="1 connection"):
            sandbox.wait_idle(timeout=0.01, connections=True)
    finally:
        session.close()
    sandbox.wait_idle(timeout=5, connections=True)
    assert sandbox.open_connections() == 0

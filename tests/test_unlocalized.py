"""A site without localization: no ``locales`` in the site, no ``cmsLocaleId`` in its items.
The sandbox serves one, and init, export, plan and sync work against it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests
from click.testing import CliRunner, Result

from csvsync.cli import cli
from csvsync.ops.demo import DEMO_TOKEN
from csvsync.sandbox import Sandbox, SandboxOptions
from csvsync.sandbox.seed import DEMO_COLLECTION_ID, DEMO_SITE_ID, LOCALE_EN, product_id

AUTH = {"Authorization": f"Bearer {DEMO_TOKEN}"}


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    opts = SandboxOptions(seed="demo", token=DEMO_TOKEN, rate_limit=100_000, localization=False)
    with Sandbox(opts) as sandbox:
        yield sandbox


def _get(sb: Sandbox, path: str, **params: str) -> requests.Response:
    return requests.get(sb.base_url + path, params=params, headers=AUTH, timeout=10)


def _send(sb: Sandbox, method: str, path: str, body: Any) -> requests.Response:
    return requests.request(method, sb.base_url + path, json=body, headers=AUTH, timeout=10)


def test_the_sandbox_serves_a_site_without_localization(sb: Sandbox) -> None:
    site = _get(sb, f"/sites/{DEMO_SITE_ID}").json()
    assert "locales" not in site and site["id"] == DEMO_SITE_ID
    assert all("locales" not in s for s in _get(sb, "/sites").json()["sites"])
    items = f"/collections/{DEMO_COLLECTION_ID}/items"
    page = _get(sb, items + "/live", limit="100").json()
    assert page["pagination"]["total"] == 300
    assert all("cmsLocaleId" not in it for it in page["items"])
    assert page["items"][0]["fieldData"]["name"] == "Smart Chair 001"  # the English values
    # No cmsLocaleId is one of this site's: naming any is refused, reading and writing.
    assert _get(sb, items + "/live", cmsLocaleId=LOCALE_EN).status_code == 400
    one = product_id(1)
    named = {"items": [{"id": one, "cmsLocaleId": LOCALE_EN, "fieldData": {"summary": "x"}}]}
    refused = _send(sb, "PATCH", items + "/live", named)
    assert refused.status_code == 400 and refused.json()["code"] == "validation_error"
    publish = {"items": [{"id": one, "cmsLocaleIds": [LOCALE_EN]}]}
    assert _send(sb, "POST", items + "/publish", publish).status_code == 400
    plain = {"items": [{"id": one, "fieldData": {"summary": "plain"}}]}
    done = _send(sb, "PATCH", items + "/live", plain)
    assert done.status_code == 200 and "cmsLocaleId" not in done.json()["items"][0]
    bulk = {"isDraft": False, "fieldData": [{"name": "Bulk", "slug": "bulk"}]}
    made = _send(sb, "POST", items + "/bulk", bulk)
    assert made.status_code == 202 and "cmsLocaleId" not in made.json()["items"][0]


def _run(sb: Sandbox, *args: Any) -> Result:
    env = {"CSVSYNC_API_BASE": sb.base_url, "WEBFLOW_API_TOKEN": DEMO_TOKEN}
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def test_init_export_plan_and_sync_against_a_site_without_localization(
    sb: Sandbox, tmp_path: Path
) -> None:
    mapping, sheet = tmp_path / "products.yaml", tmp_path / "products.csv"
    res = _run(sb, "init", "--site", DEMO_SITE_ID, "--collection", DEMO_COLLECTION_ID,
               "-o", mapping)  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "\nlocales:" not in mapping.read_text()
    res = _run(sb, "export", "-m", mapping, sheet)
    assert res.exit_code == 0, res.output
    frame = pd.read_csv(sheet, dtype=str, keep_default_na=False)
    assert len(frame) == 300 and not [c for c in frame.columns if c.endswith("]")]
    plan = _run(sb, "plan", sheet, "-m", mapping, "--json")
    assert plan.exit_code == 0, plan.output
    assert json.loads(plan.stdout)["counts"] == {"unchanged": 300}

    frame.loc[0, "Summary"] = "Edited without a locale"
    new = frame.iloc[[1]].copy()
    new["Item ID"], new["Name"], new["Slug"] = "", "Brand New", "brand-new"
    pd.concat([frame, new], ignore_index=True).to_csv(sheet, index=False)
    sb.clear_log()
    res = _run(sb, "sync", sheet, "-m", mapping, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["counts"] == {"unchanged": 299, "updated": 1, "created": 1}, out
    assert not [e for e in sb.log() if "cmsLocaleId" in (e.get("query") or "")]
    edited = sb.store.variant(DEMO_COLLECTION_ID, frame.loc[0, "Item ID"])
    assert edited is not None and edited["fieldData"]["summary"] == "Edited without a locale"
    created = sb.store.variant(DEMO_COLLECTION_ID, out["created"]["302"])
    assert created is not None and created["fieldData"]["slug"] == "brand-new"

    sb.clear_log()
    again = _run(sb, "sync", sheet, "-m", mapping, "--json")
    assert again.exit_code == 0, again.output
    rerun = json.loads(again.stdout)
    assert rerun["write_requests"] == 0 and rerun["counts"] == {"unchanged": 301}, rerun

"""KPIs against the local stack with its demo data: the report agrees with a brute-force
recomputation from the raw items (read straight from the moto server), and the dashboard
command (`make report`) writes the page and its screenshot from the running API."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer

pytestmark = pytest.mark.e2e
TIERS = ("regular", "silver", "gold", "diamond")


def _table_items(stack, logical_prefix: str) -> list[dict]:
    endpoint = next(m.group(1) for line in stack.output if (m := re.search(r"AWS \(moto\)\s+(http://\S+)", line)))
    # moto's access control is on: the scan is signed with the administrator key the stack prints
    key_id, secret = next(m.groups() for line in stack.output if (m := re.search(r"AWS key\s+(\S+) (\S+)", line)))
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id=key_id, aws_secret_access_key=secret)
    plain = TypeDeserializer()
    return [{k: plain.deserialize(v) for k, v in item.items()}
            for page in client.get_paginator("scan").paginate(TableName=f"vipcare-{logical_prefix}")
            for item in page["Items"]]


def _recomputed(stack, period: str) -> dict:
    """The brand's figures for `period` from the raw items (a test may Scan; the product never does)."""
    zone = ZoneInfo("Asia/Shanghai")
    members = [i for i in _table_items(stack, "MembersTable")
               if i["sk"] == "PROFILE" and i["pk"].startswith("BRAND#demo#")]
    live = [m for m in members if not m.get("erased_at")]
    by_tier = {t: sum(1 for m in live if m.get("tier", "regular") == t) for t in TIERS}
    enrolled = sum(1 for m in members
                   if datetime.fromisoformat(str(m["enrolled_at"]).replace("Z", "+00:00")).astimezone(zone)
                   .strftime("%Y-%m") == period)
    care = [i for i in _table_items(stack, "CareTable") if i.get("brand_id") == "demo"]
    contacts = [c for c in care if c["sk"].startswith("CONTACT#") and c["contacted_on"].startswith(period)]
    # contact coverage's base: the gold+ members of the month's opening snapshot (docs/kpis.md),
    # whatever their tier since
    gold_plus = {i["sk"] for i in _table_items(stack, "KpiTable")
                 if i["pk"] == f"BRAND#demo#SNAP#{period}" and i.get("tier") in ("gold", "diamond")}
    cases = [c for c in _table_items(stack, "ComplaintsTable")
             if c["sk"] == "CASE" and c.get("brand_id") == "demo" and c["period"] == period]
    return {"members_by_tier": by_tier, "enrolled": enrolled, "closed": len(members) - len(live),
            "contacts_logged": len(contacts), "gold_plus": len(gold_plus),
            "complaints_opened": len(cases)}


def test_the_kpi_report_agrees_with_the_raw_data_of_the_demo(stack):
    token = stack.token(store_id=None)
    period = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    deadline = time.monotonic() + 30
    while True:  # tier changes reach the stock through the bus: wait until the queues are empty
        doc = stack.request("GET", f"/reports/kpis?period={period}", token).json()
        expected = _recomputed(stack, period)
        figures = {"members_by_tier": doc["members_by_tier"], "enrolled": doc["enrolled"], "closed": doc["closed"],
                   "contacts_logged": doc["contacts"]["logged"], "gold_plus": doc["contacts"]["gold_plus"],
                   "complaints_opened": doc["complaints"]["opened"]}
        if figures == expected or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert figures == expected
    assert sum(expected["members_by_tier"].values()) > 0 and expected["complaints_opened"] > 0


def test_make_report_writes_the_dashboard_and_its_screenshot_from_the_running_api(stack, tmp_path):
    from infra.report.__main__ import main as report_main

    assert report_main(["--url", stack.url, "--out", str(tmp_path)]) == 0
    html = (tmp_path / "dashboard.html").read_text()
    png = (tmp_path / "dashboard.png").read_bytes()
    assert html.count('class="chart"') >= 5 and "Brand demo" in html
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000

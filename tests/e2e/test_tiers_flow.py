"""Tiers over plain HTTP against the local stack: purchases crossing gold upgrade at once and
assign a dedicated manager; the job run for a moment 13 months later warns, and once the
announced date has come, drops the member one step, each decision with its explanation."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.e2e


def _drained(stack, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        depth = stack.request("GET", "/_local/queues").json()
        if all(q["visible"] == 0 and q["in_flight"] == 0 for q in depth.values()):
            return
        time.sleep(0.3)
    raise AssertionError(f"queues did not drain: {depth}")


def test_gold_at_once_with_a_manager_then_warned_and_downgraded_by_the_job(stack):
    admin = stack.token()
    # the session's stack is shared (the API fuzzer may have stored a policy): back to the defaults
    policy = {"combinator": "any", "tiers": [
        {"tier": t, "upgrade_spend_12m": s, "upgrade_purchases_6m": n, "points_multiplier": m,
         "dedicated_manager": t in ("gold", "diamond")}
        for t, s, n, m in (("regular", "0", 0, "1.0"), ("silver", "5000", 6, "1.2"), ("gold", "20000", 12, "1.5"),
                           ("diamond", "50000", 24, "2.0"))]}
    assert stack.request("PUT", "/brands/demo/tier-policy", admin, json=policy).status_code == 200
    member = stack.request("POST", "/members", admin, json={
        "name": "E2E Gold", "phone": "+86 137 0000 0801", "store_id": "demo-001"})
    assert member.status_code == 201, member.text
    member_id = member.json()["member_id"]
    now = datetime.now(UTC)
    sales = [{"transaction_id": f"e2e-tier-{i}", "store_id": "demo-001", "member_id": member_id, "kind": "sale",
              "amount": amount, "currency": "CNY", "items": 2,
              "occurred_at": (now - timedelta(minutes=10 - i)).isoformat()}
             for i, amount in enumerate(("8000.00", "12500.00"))]
    r = stack.request("POST", "/purchases", admin, json={"purchases": sales})
    assert r.status_code == 202, r.text
    _drained(stack)

    view = stack.request("GET", f"/members/{member_id}/tier", admin).json()
    assert view["tier"] == "gold", view
    assert view["decisions"][0]["actor"] == "purchase" and view["decisions"][0]["tier_to"] == "gold"
    card = stack.request("GET", f"/members/{member_id}", admin).json()
    assert card["manager_id"] == "demo-001-manager"  # the store's manager, capacity 60

    later = now + timedelta(days=396)  # 13 months on, nothing bought since
    run = stack.request("POST", "/_local/jobs/tier_reevaluation", json={"time": later.isoformat()})
    assert run.status_code == 200 and run.json()["result"]["shards"] == 16, run.text
    _drained(stack)
    view = stack.request("GET", f"/members/{member_id}/tier", admin).json()
    warn = view["decisions"][0]
    assert view["tier"] == "gold" and warn["outcome"] == "warn"
    assert warn["explanation"]["text"].startswith("will drop to silver on ")
    assert "unless you spend 16000.00 more" in warn["explanation"]["text"]

    on = datetime.fromisoformat(warn["explanation"]["downgrade_on"]).replace(hour=12, tzinfo=UTC)
    stack.request("POST", "/_local/jobs/tier_reevaluation", json={"time": on.isoformat()})
    _drained(stack)
    view = stack.request("GET", f"/members/{member_id}/tier", admin).json()
    down = view["decisions"][0]
    assert view["tier"] == "silver" and down["outcome"] == "downgrade"
    assert down["explanation"]["thresholds"]["keep_spend_12m"] == "16000.0"

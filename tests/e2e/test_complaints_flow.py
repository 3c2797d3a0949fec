"""Complaints over plain HTTP against the local stack: intake -> job two hours later ->
escalation -> not satisfied reopens and escalates."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

pytestmark = pytest.mark.e2e


def _make_diamond(stack, member_id: str, manager_id: str) -> None:
    """Diamond through the product's own path (a manual upgrade, approved), so the tier change
    is announced and counted like any other; diamond brings the store's manager along."""
    applied = stack.request("POST", f"/members/{member_id}/tier-applications", stack.token(role="manager"),
                            json={"target_tier": "diamond", "reason": "flagship client"})
    assert applied.status_code == 201, applied.text
    decided = stack.request("POST", f"/tier-applications/{applied.json()['application_id']}/decision",
                            stack.token(role="supervisor"), json={"decision": "approve", "note": "agreed"})
    assert decided.status_code == 200, decided.text
    card = stack.request("GET", f"/members/{member_id}", stack.token()).json()
    assert (card["tier"], card["manager_id"]) == ("diamond", manager_id)


def _wait_for_message(stack, token: str, member_id: str, kind: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in stack.request("GET", f"/members/{member_id}/messages", token).json()["messages"]
                 if m["kind"] == kind and m["status"] != "sending"]  # settled: sent or deferred
        if found:
            return found[0]
        time.sleep(0.3)
    raise AssertionError(f"no {kind} message for the member within {timeout}s")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_diamond_critical_complaint_escalates_once_after_two_hours_over_http(stack):
    admin = stack.token()
    member = stack.request("POST", "/members", admin, json={
        "name": "E2E Diamond", "phone": "+86 137 0000 0601", "store_id": "demo-001"})
    assert member.status_code == 201, member.text
    member_id = member.json()["member_id"]
    _make_diamond(stack, member_id, "demo-001-manager")

    hotline = stack.token(role="store_staff")
    filed = stack.request("POST", "/complaints", hotline, headers={"Idempotency-Key": "e2e-complaint-1"}, json={
        "member_id": member_id, "store_id": "demo-001", "channel": "hotline", "category": "service_attitude",
        "severity": "critical", "description": "Kept waiting for an hour at the counter."})
    assert filed.status_code == 201, filed.text
    case = filed.json()
    cid, opened = case["complaint_id"], _at(case["opened_at"])
    assert case["priority"] == "P1" and case["assignee"] == "demo-001-manager"
    assert _at(case["respond_by"]) - opened == timedelta(hours=1)
    assert _at(case["resolve_by"]) - opened == timedelta(hours=24)

    # ComplaintFiled travels bus -> CareEventsQueue -> reminder_dispatch, which texts the member
    # (or, in quiet hours where the brand is, defers the text to 09:00).
    received = _wait_for_message(stack, admin, member_id, "complaint_received")
    if received["status"] == "sent":
        outbox = stack.request("GET", "/_local/outbox").json()["messages"]
        assert any(m["phone"] == "+8613700000601" and cid in m["message"] for m in outbox)
    else:
        assert (received["status"], received["reason"]) == ("deferred", "quiet_hours")

    later = (opened + timedelta(hours=2)).isoformat()
    run = stack.request("POST", "/_local/jobs/complaint_routing", json={"time": later})
    assert run.status_code == 200, run.text
    assert run.json()["result"]["escalated"] >= 1
    manager = stack.token(role="manager")
    escalated = stack.request("GET", f"/complaints/{cid}", manager).json()
    assert (escalated["assignee"], escalated["level"]) == ("demo-001-supervisor", 1)
    assert escalated["history"][-1]["actor"] == "system:escalation"

    rerun = stack.request("POST", "/_local/jobs/complaint_routing", json={"time": later})
    assert rerun.json()["result"]["escalated"] == 0
    assert stack.request("GET", f"/complaints/{cid}", manager).json() == escalated

    supervisor = stack.token(role="supervisor")
    assert stack.request("POST", f"/complaints/{cid}/acknowledge", supervisor, json={}).status_code == 200
    assert stack.request("POST", f"/complaints/{cid}/resolve", supervisor,
                         json={"resolution": "Apologised, voucher"}).status_code == 200
    reopened = stack.request("POST", f"/complaints/{cid}/feedback", supervisor, json={"satisfied": False, "nps": 4})
    assert reopened.status_code == 200, reopened.text
    body = reopened.json()
    assert (body["status"], body["assignee"], body["level"]) == ("reopened", "demo-001-department-head", 2)

    clerk_other_store = stack.token(role="store_staff", store_id="demo-002")
    assert stack.request("POST", f"/complaints/{cid}/notes", clerk_other_store, json={"text": "x"}).status_code \
        == 404  # outside their store and not on the case's ladder: not even visible
    acme = stack.token(brand_id="acme", store_id="acme-001")
    assert stack.request("GET", f"/complaints/{cid}", acme).status_code == 404

"""Purchases, returns and points through the local stack: HTTP -> queue -> consumer."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.e2e


def wait_for(stack, token, txn: str, status: str | None = None, timeout: float = 30.0) -> dict:
    """The poller applies queued purchases within a second or two; poll the status API."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = stack.request("GET", f"/purchases/demo-001/{txn}", token)
        if r.status_code == 200 and (status is None or r.json()["status"] == status):
            return r.json()
        time.sleep(0.2)
    raise AssertionError(f"{txn} did not reach {status or 'any status'}")


def row(txn: str, amount: str, member_id: str, **extra) -> dict:
    return {"transaction_id": txn, "store_id": "demo-001", "member_id": member_id, "kind": "sale",
            "amount": amount, "currency": "CNY", "items": 1,
            "occurred_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(), **extra}


@pytest.fixture
def member(stack):
    token = stack.token(role="store_staff")
    phone = f"137{int(time.time() * 1000) % 10**8:08d}"
    r = stack.request("POST", "/members", token, json={"name": "Buyer", "phone": phone, "store_id": "demo-001"})
    assert r.status_code == 201, r.text
    return token, r.json()["member_id"]


def test_sale_duplicate_and_partial_return_leave_spend_and_points_right(stack, member):
    token, member_id = member
    txn = f"E2E-{member_id}-1"
    assert stack.request("POST", "/purchases", token, json=row(txn, "1000.00", member_id)).status_code == 202
    assert stack.request("POST", "/purchases", token, json=row(txn, "1000.00", member_id)).status_code == 202
    wait_for(stack, token, txn, "applied")
    ret = row(f"{txn}-R", "400.00", member_id, kind="return", original_transaction_id=txn)
    assert stack.request("POST", "/purchases", token, json=ret).status_code == 202
    wait_for(stack, token, f"{txn}-R", "applied")
    card = stack.request("GET", f"/members/{member_id}", token).json()
    assert (card["spend_12m"], card["points_balance"], card["purchases_6m"]) == ("600.00", 600, 1)


def test_batch_with_one_bad_row_applies_the_others(stack, member):
    token, member_id = member
    rows = [row(f"B-{member_id}-{i}", amount, member_id) for i, amount in enumerate(["10.00", "0", "20.00"])]
    r = stack.request("POST", "/purchases", token, json={"purchases": rows})
    assert r.status_code == 202
    assert [x["status"] for x in r.json()["results"]] == ["accepted", "invalid", "accepted"]
    wait_for(stack, token, rows[0]["transaction_id"])
    wait_for(stack, token, rows[2]["transaction_id"])
    assert stack.request("GET", f"/members/{member_id}", token).json()["spend_12m"] == "30.00"


def test_return_sent_before_its_sale_is_applied_once_the_sale_comes(stack, member):
    token, member_id = member
    sale_id = f"H-{member_id}"
    ret = row(f"{sale_id}-R", "100.00", member_id, kind="return", original_transaction_id=sale_id)
    stack.request("POST", "/purchases", token, json=ret)
    assert wait_for(stack, token, f"{sale_id}-R", "held")["reason"]
    stack.request("POST", "/purchases", token, json=row(sale_id, "300.00", member_id))
    wait_for(stack, token, f"{sale_id}-R", "applied")
    card = stack.request("GET", f"/members/{member_id}", token).json()
    assert (card["spend_12m"], card["points_balance"]) == ("200.00", 200)


def test_redemption_twice_spends_once(stack, member):
    token, member_id = member
    txn = f"P-{member_id}"
    stack.request("POST", "/purchases", token, json=row(txn, "500.00", member_id))
    wait_for(stack, token, txn, "applied")
    body = {"redemption_id": f"RD-{member_id}", "points": 120, "reason": "gift"}
    first = stack.request("POST", f"/members/{member_id}/redemptions", token, json=body)
    again = stack.request("POST", f"/members/{member_id}/redemptions", token, json=body)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert stack.request("GET", f"/members/{member_id}/points", token).json()["balance"] == 380

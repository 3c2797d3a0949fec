"""Purchases end to end in-process: API intake -> SQS -> ingestion handler -> ledger and figures."""

from __future__ import annotations

import json
from datetime import timedelta

import boto3
import pytest

from infra.local import resources
from tests.support import clock
from tests.support.api import ADMIN, CLERK_002, OTHER_BRAND_ADMIN, call, enrol
from tests.support.queues import drain, queue_depth

pytestmark = pytest.mark.usefixtures("directory")

NOW = clock.now()


def sale(txn: str, amount: str, member_id: str, **extra) -> dict:
    return {"transaction_id": txn, "store_id": "demo-001", "member_id": member_id, "kind": "sale",
            "amount": amount, "currency": "CNY", "items": 1,
            "occurred_at": (NOW - timedelta(minutes=5)).isoformat(), **extra}


def ret(txn: str, amount: str, member_id: str, original: str, **extra) -> dict:
    return {**sale(txn, amount, member_id), "kind": "return", "original_transaction_id": original, **extra}


def post(*rows: dict, claims=ADMIN):
    body = rows[0] if len(rows) == 1 else {"purchases": list(rows)}
    return call("POST", "/purchases", body, claims=claims)


def card(member_id: str) -> dict:
    return call("GET", f"/members/{member_id}", claims=ADMIN).body


def status(txn: str) -> dict:
    return call("GET", f"/purchases/demo-001/{txn}", claims=ADMIN).body


@pytest.fixture
def member_id() -> str:
    return enrol().body["member_id"]


def test_sale_is_applied_once_with_points_and_spend(member_id):
    assert post(sale("T1", "1288.50", member_id)).status == 202
    drain()
    c = card(member_id)
    assert (c["spend_12m"], c["purchases_6m"], c["points_balance"]) == ("1288.50", 1, 1288)
    s = status("T1")
    assert s["status"] == "applied" and s["points"] == 1288


def test_duplicate_submission_and_redelivery_count_once(member_id):
    for _ in range(3):
        post(sale("T1", "100.00", member_id))
    drain()
    post(sale("T1", "100.00", member_id))
    drain()
    assert card(member_id)["spend_12m"] == "100.00" and card(member_id)["points_balance"] == 100


def test_same_id_with_another_payload_is_reported_not_applied(member_id):
    post(sale("T1", "100.00", member_id))
    drain()
    post(sale("T1", "999.00", member_id))
    drain()
    assert card(member_id)["spend_12m"] == "100.00"
    s = status("T1")
    assert s["amount"] == "100.00" and s["conflicting_submissions"] == 1


def test_partial_returns_reduce_spend_and_claw_back_points_in_proportion(member_id):
    post(sale("T1", "1000.00", member_id))
    drain()
    post(ret("R1", "250.00", member_id, "T1"))
    drain()
    c = card(member_id)
    assert (c["spend_12m"], c["points_balance"], c["purchases_6m"]) == ("750.00", 750, 1)
    post(ret("R2", "800.00", member_id, "T1"))
    drain()
    assert status("R2")["status"] == "rejected" and "exceed" in status("R2")["reason"]
    post(ret("R3", "750.00", member_id, "T1"))
    drain()
    c = card(member_id)
    assert (c["spend_12m"], c["points_balance"], c["purchases_6m"]) == ("0.00", 0, 0)
    assert status("T1")["returned"] == "1000.00"


def test_return_before_its_sale_is_held_then_applied_once(member_id):
    post(ret("R1", "300.00", member_id, "T1"))
    drain()
    assert status("R1")["status"] == "held"
    assert card(member_id)["spend_12m"] == "0.00"
    post(sale("T1", "1000.00", member_id))
    drain()
    assert status("R1")["status"] == "applied" and status("R1")["points"] == 300
    c = card(member_id)
    assert (c["spend_12m"], c["points_balance"]) == ("700.00", 700)
    post(sale("T1", "1000.00", member_id), ret("R1", "300.00", member_id, "T1"))  # redelivered
    drain()
    assert card(member_id)["spend_12m"] == "700.00"


def test_held_return_whose_sale_never_comes_is_rejected_after_the_window(member_id):
    from vipcare import wiring
    from vipcare.domain.access import Caller, Role
    from vipcare.services.purchases import status_of

    post(ret("R1", "300.00", member_id, "T404"))
    drain()
    caller = Caller(staff_id="a", brand_id="demo", store_id=None, role=Role.ADMIN)
    later = clock.now() + timedelta(days=8)
    wired = wiring.purchase_api()
    entry = status_of(caller, "demo-001", "R1", now=later, ledger=wired.ledger, directory=wired.directory)
    assert entry.status.value == "rejected" and "hold window" in (entry.reason or "")


def test_return_citing_another_members_sale_is_rejected(member_id):
    other = enrol(phone="13900000001").body["member_id"]
    post(sale("T1", "100.00", other))
    post(ret("R1", "50.00", member_id, "T1"))
    drain()
    assert status("R1")["status"] == "rejected"
    assert card(other)["spend_12m"] == "100.00"


def test_batch_with_a_bad_row_applies_the_others(member_id):
    r = post(sale("T1", "100.00", member_id), sale("T2", "-5", member_id), sale("T3", "50.00", member_id),
             sale("T4", "10.00", "m_nobody"))
    assert r.status == 202
    assert r.body["accepted"] == 2 and r.body["invalid"] == 2
    by_index = {row["index"]: row for row in r.body["results"]}
    assert by_index[1]["status"] == "invalid" and by_index[1]["fields"][0]["field"] == "amount"
    assert by_index[3]["fields"][0]["field"] == "member_id"
    drain()
    assert card(member_id)["spend_12m"] == "150.00"


@pytest.mark.parametrize("changes,field", [
    ({"amount": "0"}, "amount"), ({"amount": "NaN"}, "amount"), ({"amount": "Infinity"}, "amount"),
    ({"amount": "1.005"}, "amount"), ({"amount": 12.5}, "amount"), ({"amount": "1000000.01"}, "amount"),
    ({"currency": "USD"}, "currency"), ({"store_id": "demo-404"}, "store_id"), ({"items": 0}, "items"),
    ({"occurred_at": "2026-11-23T10:00:00"}, "occurred_at"),
    ({"occurred_at": (NOW + timedelta(days=1)).isoformat()}, "occurred_at"),
    ({"occurred_at": (NOW - timedelta(days=120)).isoformat()}, "occurred_at"),
    ({"kind": "refund"}, "kind"), ({"tier": "gold"}, "tier"),
    ({"member_id": None, "phone": "13912345678"}, "phone"),
    ({"phone": "13800138000"}, "member_id"),
])
def test_bad_purchase_is_4xx_naming_the_field_and_nothing_is_queued(member_id, changes, field):
    r = post({**sale("T1", "10.00", member_id), **changes})
    assert r.status == 422, r.body
    assert field in r.field_names(), r.body
    assert queue_depth("PurchasesQueue") == 0


def test_batch_over_100_rows_and_non_json_are_refused(member_id):
    r = call("POST", "/purchases", {"purchases": [sale(f"T{i}", "1.00", member_id) for i in range(101)]},
             claims=ADMIN)
    assert r.status == 422 and r.field_names() == ["purchases"]
    assert call("POST", "/purchases", raw_body="[oops", claims=ADMIN).status == 400
    assert queue_depth("PurchasesQueue") == 0


def test_purchase_by_phone_in_any_format(member_id):
    row = sale("T1", "20.00", member_id)
    row.pop("member_id")
    assert post({**row, "phone": "+86 138-0013-8000"}).status == 202
    drain()
    assert card(member_id)["spend_12m"] == "20.00"


def test_store_staff_record_purchases_only_for_their_store(member_id):
    r = post(sale("T1", "20.00", member_id), claims=CLERK_002)
    assert r.status == 403


def test_another_brand_cannot_see_status_or_points(member_id):
    post(sale("T1", "20.00", member_id))
    drain()
    assert call("GET", "/purchases/demo-001/T1", claims=OTHER_BRAND_ADMIN).status == 404
    assert call("GET", f"/members/{member_id}/points", claims=OTHER_BRAND_ADMIN).status == 404
    r = call("POST", f"/members/{member_id}/redemptions", {"redemption_id": "x", "points": 1, "reason": "r"},
             claims=OTHER_BRAND_ADMIN)
    assert r.status == 404


def test_crossing_the_gold_threshold_upgrades_at_once_and_tells_the_bus(member_id):
    sqs = boto3.client("sqs", region_name="us-east-1")
    events = boto3.client("events", region_name="us-east-1")
    url = sqs.create_queue(QueueName="tier-events-test")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = resources.physical_names()["VipBus"]
    events.put_rule(Name="tier-test", EventBusName=bus, EventPattern=json.dumps({"detail-type": ["TierChanged"]}))
    events.put_targets(Rule="tier-test", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])

    post(sale("T1", "4999.99", member_id))
    drain()
    assert card(member_id)["tier"] == "regular"
    post(sale("T2", "15000.01", member_id))
    drain()
    assert card(member_id)["tier"] == "gold"
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    detail = json.loads(messages[0]["Body"])["detail"]
    assert (detail["from"], detail["to"], detail["member_id"]) == ("regular", "gold", member_id)
    assert len(messages) == 1
    post(sale("T3", "1000.00", member_id))
    drain()
    assert card(member_id)["points_balance"] == 4999 + 15000 + 1500  # gold earns x1.5 from T3 on


def test_a_return_never_downgrades_at_once(member_id):
    post(sale("T1", "20000.00", member_id))
    drain()
    post(ret("R1", "20000.00", member_id, "T1"))
    drain()
    c = card(member_id)
    assert c["tier"] == "gold" and c["spend_12m"] == "0.00"


def test_redemption_twice_spends_once_and_overdraft_is_409(member_id):
    post(sale("T1", "500.00", member_id))
    drain()
    body = {"redemption_id": "RD1", "points": 200, "reason": "gift card"}
    first = call("POST", f"/members/{member_id}/redemptions", body, claims=ADMIN)
    again = call("POST", f"/members/{member_id}/redemptions", body, claims=ADMIN)
    assert first.status == again.status == 201 and first.body == again.body
    assert card(member_id)["points_balance"] == 300
    other = call("POST", f"/members/{member_id}/redemptions", {**body, "points": 50}, claims=ADMIN)
    assert other.status == 409 and other.field_names() == ["redemption_id"]
    short = call("POST", f"/members/{member_id}/redemptions", {**body, "redemption_id": "RD2", "points": 301},
                 claims=ADMIN)
    assert short.status == 409 and short.body["error"] == "insufficient_points"
    view = call("GET", f"/members/{member_id}/points", claims=ADMIN).body
    assert view["balance"] == 300
    assert [m["kind"] for m in view["recent"]] == ["redemption", "sale"]
    assert [m["points"] for m in view["recent"]] == [-200, 500]


def test_purchase_events_from_the_bus_join_the_same_queue(member_id):
    from vipcare.domain.purchases import Kind, Purchase

    detail = Purchase(brand_id="demo", store_id="demo-001", transaction_id="POS-1", member_id=member_id,
                      kind=Kind.SALE, amount=__import__("decimal").Decimal("88.00"), currency="CNY", items=1,
                      occurred_at=NOW - timedelta(minutes=1)).to_message()
    boto3.client("events", region_name="us-east-1").put_events(Entries=[{
        "Source": "pos.demo", "DetailType": "Purchase", "Detail": json.dumps(detail),
        "EventBusName": resources.physical_names()["VipBus"]}])
    drain()
    assert card(member_id)["spend_12m"] == "88.00"
    assert status("POS-1")["status"] == "applied"


def test_rows_the_queue_refuses_answer_retry_and_the_others_are_accepted(member_id, monkeypatch):
    """SQS refusing part of a batch: those rows say 'retry' (the response once failed on them)."""
    from dataclasses import replace
    from typing import Any

    from infra.local.lambdas import load_module

    class RefusesTheSecond:
        def send(self, messages: list[dict[str, Any]]) -> list[int]:
            return [1]

    api = load_module("functions/purchase_api/")
    monkeypatch.setattr(api, "wired", replace(api.wired, queue=RefusesTheSecond()))
    r = post(sale("Q1", "10.00", member_id), sale("Q2", "20.00", member_id))
    assert r.status == 202 and r.body["accepted"] == 1
    assert [(row["transaction_id"], row["status"]) for row in r.body["results"]] == [("Q1", "accepted"),
                                                                                    ("Q2", "retry")]
    assert r.body["results"][1]["fields"] == [{"field": "body", "message": "could not be queued; send it again"}]

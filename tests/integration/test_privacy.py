"""Data rights (docs/domain.md §7, docs/privacy.md): export everything held about a member;
erase the personal fields while the ledger stays, anonymous, and the figures stay right."""

from __future__ import annotations

import json

import pytest

from tests.support import clock
from tests.support.api import ADMIN, CLERK_001, OTHER_BRAND_ADMIN, call, claims_for, enrol
from tests.support.aws import all_items

pytestmark = pytest.mark.usefixtures("directory")
SUPERVISOR = claims_for(role="supervisor", staff_id="sup-1")
PHONE, NAME, EMAIL = "13800138900", "欧阳娜娜", "nana@example.com"


def rich_member() -> str:
    """A member with a purchase, a contact with notes, a complaint and a message."""
    from tests.integration.test_exactly_once import ingestor, purchase
    from tests.support.fakes import RecordingBus
    from vipcare.domain.purchases import Kind

    r = enrol(phone=PHONE, name=NAME, email=EMAIL, birthday="1990-05-01", consent={"sms_marketing": True},
              notes="prefers silk")
    assert r.status == 201, r.body
    mid = r.body["member_id"]
    now = clock.now()
    ingestor(RecordingBus()).ingest(purchase(mid, "P-1", Kind.SALE, 120_000, 0, now=now), received_at=now, now=now)
    today = clock.local_day(now).isoformat()
    assert call("POST", f"/members/{mid}/contacts", {"contacted_on": today, "channel": "visit",
                                                     "notes": f"called {NAME} about the silk scarf"},
                claims=ADMIN).status == 201
    body = {"member_id": mid, "store_id": "demo-001", "channel": "store", "category": "billing",
            "severity": "low", "description": f"{NAME} was charged twice"}
    assert call("POST", "/complaints", body, claims=ADMIN).status == 201
    return mid


def test_export_holds_everything_about_the_member_and_is_audited():
    mid = rich_member()
    r = call("GET", f"/members/{mid}/export", claims=SUPERVISOR)
    assert r.status == 200, r.body
    doc = r.body
    assert doc["profile"]["name"] == NAME and doc["profile"]["email"] == EMAIL
    assert doc["figures"]["spend_by_month"] and doc["figures"]["point_lots"]
    assert [p["transaction_id"] for p in doc["purchases"]] == ["P-1"]
    assert "silk scarf" in doc["contacts"][0]["notes"]
    assert doc["complaints"][0]["description"].endswith("charged twice")
    assert [(a["action"], a["by"]) for a in doc["audit"]] == [("export", "staff:sup-1")]


def test_export_holds_the_whole_purchase_history_with_lines():
    """Not only the card's 8 latest movements: every applied sale and return, across pages."""
    import dataclasses
    from datetime import timedelta
    from decimal import Decimal

    from tests.integration.test_exactly_once import ingestor, purchase
    from tests.support.fakes import RecordingBus
    from vipcare.domain.purchases import Kind, Line

    mid = enrol(phone="13800138901").body["member_id"]
    now = clock.now()
    consumer = ingestor(RecordingBus())
    for n in range(104):  # more than a page of history (100)
        consumer.ingest(purchase(mid, f"E-{n}", Kind.SALE, 1_000, 0, now=now - timedelta(minutes=n)),
                        received_at=now, now=now)
    lined = dataclasses.replace(purchase(mid, "E-LINES", Kind.SALE, 1_000, 0, now=now),
                                lines=(Line(sku="SCARF", quantity=1, unit_price=Decimal("10.00")),))
    consumer.ingest(lined, received_at=now, now=now)
    assert call("POST", f"/members/{mid}/redemptions", {"redemption_id": "X-1", "points": 50, "reason": "gift"},
                claims=SUPERVISOR).status == 201
    doc = call("GET", f"/members/{mid}/export", claims=SUPERVISOR).body
    assert [(r["redemption_id"], r["points"], r["by"]) for r in doc["redemptions"]] == [("X-1", 50, "sup-1")]
    assert len(doc["purchases"]) == 105 and len({p["transaction_id"] for p in doc["purchases"]}) == 105
    (entry,) = [p for p in doc["purchases"] if p["transaction_id"] == "E-LINES"]
    assert entry["lines"] == [{"sku": "SCARF", "quantity": 1, "unit_price": "10.00", "discount_amount": "0",
                               "name": None, "category": None}]


def test_export_and_erasure_are_for_senior_staff_of_the_brand_only():
    mid = rich_member()
    assert call("GET", f"/members/{mid}/export", claims=CLERK_001).status == 403
    assert call("GET", f"/members/{mid}/export", claims=OTHER_BRAND_ADMIN).status == 404
    assert call("DELETE", f"/members/{mid}", claims=SUPERVISOR).status == 403
    assert call("DELETE", f"/members/{mid}", claims=OTHER_BRAND_ADMIN).status == 404
    assert call("GET", f"/members/{mid}", claims=ADMIN).status == 200  # nothing happened


def test_erasure_removes_every_personal_field_keeps_the_ledger_and_frees_the_phone():
    from vipcare.store.ledger import LedgerRepository

    mid = rich_member()
    spend_before = LedgerRepository().stats("demo", mid).spend
    r = call("DELETE", f"/members/{mid}", claims=ADMIN)
    assert r.status == 200, r.body
    assert (r.body["contacts_cleaned"], r.body["complaints_cleaned"]) == (1, 1)
    assert call("GET", f"/members/{mid}", claims=ADMIN).status == 404
    assert call("GET", f"/members?phone={PHONE}", claims=ADMIN).status == 404
    # no personal value left anywhere in the tables (the ledger stays: anonymous)
    everything = json.dumps([all_items(t) for t in ("MembersTable", "CareTable", "ComplaintsTable")], default=str,
                            ensure_ascii=False)
    for personal in (NAME, EMAIL, "8613800138900", "silk", "1990-05-01"):
        assert personal not in everything, personal
    assert LedgerRepository().stats("demo", mid).spend == spend_before
    assert any(i["sk"] == "TXN" and i.get("member_id") == mid for i in all_items("MembersTable"))
    # the phone enrols again, as a new member
    again = enrol(phone=PHONE, name="Someone Else")
    assert again.status == 201 and again.body["member_id"] != mid
    # audited; a second DELETE finishes nothing new and reports it
    second = call("DELETE", f"/members/{mid}", claims=ADMIN)
    assert second.status == 200 and second.body["contacts_cleaned"] == 0
    from vipcare.store.members import MemberRepository

    assert [a.action for a in MemberRepository().audits("demo", mid)] == ["erasure"]


def test_erasure_frees_the_managers_slot_and_counts_the_member_closed():
    from vipcare.store.models import MemberItem, member_pk
    from vipcare.store.tiers import TierRepository

    mid = enrol(phone="13800138901").body["member_id"]
    assert TierRepository().assign_manager("demo", mid, "mgr-1", 10, clock.now())
    assert TierRepository().manager_loads("demo", ["mgr-1"]) == {"mgr-1": 1}
    assert call("DELETE", f"/members/{mid}", claims=ADMIN).status == 200
    assert TierRepository().manager_loads("demo", ["mgr-1"]) == {"mgr-1": 0}
    assert MemberItem.get(member_pk("demo", mid), "PROFILE").manager_key is None
    period = clock.brand_month(clock.now())
    report = call("GET", f"/reports/kpis?period={period}", claims=ADMIN).body
    assert (report["enrolled"], report["closed"], report["members_by_tier"]["regular"]) == (1, 1, 0)

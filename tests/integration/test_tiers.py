"""Tiers in-process against moto: the policy document, purchase-time upgrades with a dedicated
manager, the daily job (warn, then downgrade one step; reruns write nothing), manual tiers
with approval, the member's tier view. Every route, and the bad inputs, through the handlers."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest

from infra.local import resources
from infra.local.lambdas import LambdaContext, handler_for
from infra.local.local_routes import scheduled_event
from tests.support import clock
from tests.support.api import ADMIN, CLERK_001, OTHER_BRAND_ADMIN, call, claims_for, enrol
from tests.support.aws import count_items
from tests.support.queues import drain
from vipcare import wiring
from vipcare.domain.purchases import Kind, Purchase
from vipcare.services.limits import forget_cached_policies
from vipcare.store.ledger import LedgerRepository
from vipcare.store.models import MemberItem, member_pk

pytestmark = pytest.mark.usefixtures("directory")

# This module's chosen `now`: every purchase, job run and API call below says its moment,
# relative to T0 (requests through `call(..., at=...)`), so no test reads the real clock.
T0 = clock.at_local(date(2026, 11, 23), 12)  # noon on the brand's clock (04:00Z in Shanghai)
SUPERVISOR = claims_for(role="supervisor", store_id="demo-001", staff_id="sup-1")
MANAGER = claims_for(role="manager", store_id="demo-001", staff_id="mgr-1")


def months_later(n: int, days: int = 0) -> datetime:
    year, month = divmod(T0.month - 1 + n, 12)
    return T0.replace(year=T0.year + year, month=month + 1) + timedelta(days=days)


def buy(member_id: str, amount: str, *, at: datetime = T0, txn: str | None = None) -> None:
    p = Purchase(brand_id="demo", store_id="demo-001", transaction_id=txn or uuid.uuid4().hex[:12],
                 member_id=member_id, kind=Kind.SALE, amount=Decimal(amount), currency="CNY", items=2,
                 occurred_at=at - timedelta(minutes=5))
    wiring.purchase_ingestion().ingestor().ingest(p, received_at=at, now=at)


def run_job(at: datetime) -> dict:
    result = handler_for("functions/tier_reevaluation/", "app.handler")(scheduled_event(at), LambdaContext())
    drain()
    return result


def tier(member_id: str, claims=ADMIN, *, at: datetime = T0) -> dict:
    r = call("GET", f"/members/{member_id}/tier", claims=claims, at=at)
    assert r.status == 200, r.body
    return r.body


def profile(member_id: str) -> MemberItem:
    return MemberItem.get(member_pk("demo", member_id), "PROFILE")


@pytest.fixture
def bus_events():
    """Everything the project's bus receives, through a rule into a test queue."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    events = boto3.client("events", region_name="us-east-1")
    url = sqs.create_queue(QueueName="tier-bus-test")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = resources.physical_names()["VipBus"]
    events.put_rule(Name="tier-bus-test", EventBusName=bus,
                    EventPattern=json.dumps({"detail-type": ["TierChanged", "TierDowngradeWarning"]}))
    events.put_targets(Rule="tier-bus-test", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])

    def read() -> list[tuple[str, dict]]:
        out = []
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return out
            for m in got:
                body = json.loads(m["Body"])
                out.append((body["detail-type"], body["detail"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return read


@pytest.fixture
def member_id() -> str:
    return enrol(at=T0).body["member_id"]


def add_manager(staff_id: str, capacity: int) -> None:
    body = {"staff_id": staff_id, "name": staff_id, "role": "manager", "store_id": "demo-001",
            "supervisor_id": "sup-1", "capacity": capacity}
    assert call("POST", "/staff", body, claims=ADMIN).status == 201


# ---- policy -----------------------------------------------------------------------------------


def policy_body(**changes) -> dict:
    tiers = [
        {"tier": "regular", "upgrade_spend_12m": "0", "upgrade_purchases_6m": 0, "points_multiplier": "1.0"},
        {"tier": "silver", "upgrade_spend_12m": "3000", "upgrade_purchases_6m": 5, "points_multiplier": "1.2"},
        {"tier": "gold", "upgrade_spend_12m": "10000", "upgrade_purchases_6m": 10, "points_multiplier": "1.5",
         "dedicated_manager": True},
        {"tier": "diamond", "upgrade_spend_12m": "30000", "upgrade_purchases_6m": 20, "points_multiplier": "2.0",
         "dedicated_manager": True, "keep_spend_12m": "20000"},
    ]
    body = {"combinator": "any", "tiers": tiers, "validity_months": 12, "warning_days": 30}
    for path, value in changes.items():
        if path.startswith("tier"):
            index, name = path[4:].split("__")
            tiers[int(index)][name] = value
        else:
            body[path] = value
    return body


def test_default_policy_is_version_one_from_domain_defaults():
    r = call("GET", "/brands/demo/tier-policy", claims=ADMIN)
    assert r.status == 200 and r.body["version"] == 1
    gold = r.body["tiers"][2]
    assert (gold["upgrade_spend_12m"], gold["keep_spend_12m"], gold["points_multiplier"]) == ("20000", "16000.0",
                                                                                              "1.5")


def test_put_policy_creates_a_new_version_and_keeps_the_old(member_id):
    r = call("PUT", "/brands/demo/tier-policy", policy_body(), claims=ADMIN)
    assert r.status == 200, r.body
    assert r.body["version"] == 2 and r.body["tiers"][3]["keep_spend_12m"] == "20000"
    assert r.body["created_by"] == "staff:demo-001-admin"
    r = call("PUT", "/brands/demo/tier-policy", policy_body(warning_days=14), claims=ADMIN)
    assert r.body["version"] == 3
    got = call("GET", "/brands/demo/tier-policy", claims=ADMIN).body
    # v1, the defaults the brand ran on until the first PUT, is stored with it
    assert (got["version"], got["warning_days"], got["versions"]) == (3, 14, [1, 2, 3])
    from vipcare.domain.tiers import DEFAULT_POLICY
    from vipcare.store.tiers import PolicyItem

    v1 = PolicyItem.get("BRAND#demo", "TIERPOLICY#000001")
    stored = {k: v for k, v in json.loads(v1.document).items() if k not in ("created_at", "created_by")}
    defaults = {k: v for k, v in DEFAULT_POLICY.as_document().items() if k not in ("created_at", "created_by")}
    assert stored == defaults and v1.created_by == "defaults"
    # the new thresholds apply to purchases, and the decision names the version
    buy(member_id, "10000")
    decisions = tier(member_id)["decisions"]
    assert tier(member_id)["tier"] == "gold" and decisions[0]["policy_version"] == 3


@pytest.mark.parametrize("changes,field", [
    ({"tier2__upgrade_spend_12m": "2000"}, "tiers.2.upgrade_spend_12m"),
    ({"tier1__keep_spend_12m": "3500"}, "tiers.1.keep_spend_12m"),
    ({"tier1__upgrade_purchases_6m": -1}, "tiers.1.upgrade_purchases_6m"),
    ({"tier2__tier": "platinum"}, "tiers.2.tier"),
    ({"tier3__tier": "gold"}, "tiers"),
    ({"warning_days": -3}, "warning_days"),
    ({"combinator": "most"}, "combinator"),
])
def test_bad_policies_are_422_naming_the_field_and_store_nothing(changes, field):
    r = call("PUT", "/brands/demo/tier-policy", policy_body(**changes), claims=ADMIN)
    assert r.status == 422, r.body
    assert field in r.field_names()
    assert call("GET", "/brands/demo/tier-policy", claims=ADMIN).body["version"] == 1


def test_policy_is_admin_only_and_own_brand_only():
    assert call("GET", "/brands/demo/tier-policy", claims=CLERK_001).status == 403
    assert call("PUT", "/brands/demo/tier-policy", policy_body(), claims=SUPERVISOR).status == 403
    assert call("GET", "/brands/demo/tier-policy", claims=OTHER_BRAND_ADMIN).status == 404
    assert call("PUT", "/brands/demo/tier-policy", policy_body(), claims=OTHER_BRAND_ADMIN).status == 404


# ---- purchase-time upgrade ------------------------------------------------------------------------


def test_crossing_gold_upgrades_at_once_assigns_the_least_loaded_manager(member_id, bus_events):
    add_manager("mgr-a", capacity=1)
    add_manager("mgr-b", capacity=5)
    other = enrol(phone="13900139000", at=T0).body["member_id"]
    buy(other, "20000")  # takes mgr-a (both empty; ties go by id)
    buy(member_id, "4999.99")
    buy(member_id, "15000.01")
    assert profile(other).manager_id == "mgr-a"
    assert profile(member_id).manager_id == "mgr-b"  # mgr-a is full
    view = tier(member_id)
    assert view["tier"] == "gold" and view["valid_until"] == "2027-11-23"
    assert view["next_review"] == "2027-10-24"  # the warning date
    d = view["decisions"][0]
    assert (d["outcome"], d["actor"], d["tier_to"]) == ("upgrade", "purchase", "gold")
    assert d["explanation"]["inputs"]["spend_12m"] == "20000.00"
    changed = [e for kind, e in bus_events() if kind == "TierChanged" and e["member_id"] == member_id]
    assert len(changed) == 1 and changed[0]["manager_id"] == "mgr-b"


def test_no_manager_free_tells_the_store_supervisor(member_id):
    sns = boto3.client("sns", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="staff-test")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=resources.physical_names()["StaffNotificationsTopic"], Protocol="sqs", Endpoint=arn)
    buy(member_id, "20000")  # mgr-1 has capacity 0
    assert profile(member_id).manager_id is None
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    told = [json.loads(json.loads(m["Body"])["Message"]) for m in messages]
    assert [(t["event"], t["assignee"], t["member_id"]) for t in told] == [
        ("tier.manager_needed", "sup-1", member_id)]


# ---- the job -------------------------------------------------------------------------------------


def test_thirteen_months_without_purchases_warns_then_downgrades_one_step(member_id, bus_events):
    buy(member_id, "20000")
    bus_events()
    run_job(months_later(13))
    view = tier(member_id)
    assert view["tier"] == "gold"
    warn = view["decisions"][0]
    assert warn["outcome"] == "warn" and warn["actor"] == "schedule"
    assert warn["explanation"]["text"] == ("will drop to silver on 2028-01-22 unless you spend 16000.00 more "
                                           "or make 10 more purchases")
    assert warn["explanation"]["thresholds"] == {"tier": "gold", "keep_spend_12m": "16000.0", "keep_purchases_6m": 10}
    warnings = [e for kind, e in bus_events() if kind == "TierDowngradeWarning"]
    assert [(w["to"], w["downgrade_on"], w["spend_needed"]) for w in warnings] == [("silver", "2028-01-22",
                                                                                    "16000.00")]
    # the care consumer reads the warning as the tier job wrote it: the SMS names the date and the
    # amount (it once read other field names and left both blank). Replayed at the job's moment
    # under a new event id (the drain above already handled the original, at the bus's time).
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    from vipcare.services.reminders import Dispatcher
    from vipcare.wiring import care

    replay = {**warnings[0], "event_id": "contract-check"}
    assert Dispatcher(months_later(13), care()).on_event("TierDowngradeWarning", replay) == "sent"
    texts = [m for _, m in sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages.values()]
    assert any("2028-01-22" in t and "16000.00" in t for t in texts), texts

    before = count_items("MembersTable")
    run_job(months_later(13, days=1))  # a run before the announced date changes nothing
    assert count_items("MembersTable") == before and tier(member_id)["tier"] == "gold"

    run_job(months_later(14))  # 2028-01-23
    view = tier(member_id)
    assert view["tier"] == "silver" and view["valid_until"] == "2029-01-23"
    down = view["decisions"][0]
    assert (down["outcome"], down["tier_from"], down["tier_to"]) == ("downgrade", "gold", "silver")
    assert "below the keep thresholds" in down["explanation"]["text"]
    assert [(e["from"], e["to"], e["actor"]) for k, e in bus_events() if k == "TierChanged"] == [
        ("gold", "silver", "schedule")]


def test_rerun_of_the_same_day_writes_nothing(member_id):
    buy(member_id, "20000")
    run_job(months_later(13))
    before = count_items("MembersTable")
    decisions = len(tier(member_id)["decisions"])
    result = run_job(months_later(13))
    assert result["shards"] == 16
    assert count_items("MembersTable") == before and len(tier(member_id)["decisions"]) == decisions


def test_a_member_who_kept_buying_keeps_the_tier(member_id):
    buy(member_id, "20000")
    for month in range(1, 12):
        buy(member_id, "1500", at=months_later(month), txn=f"k{month}")
    run_job(months_later(11, days=2))  # the warning date has come: the figures still keep gold
    view = tier(member_id, at=months_later(11, days=2))
    assert view["tier"] == "gold" and view["decisions"][0]["outcome"] == "keep"
    # with no more purchases, December 2027 drops below keep (2026-12 leaves the window)
    keep = view["progress"]["keep"]
    assert (keep["spend_needed"], keep["purchases_needed"], keep["keep_until_at_least"]) == (
        "1000.00", 6, "2027-12-01")
    assert view["next_review"] == "2027-11-01"


# ---- manual tiers ---------------------------------------------------------------------------------


def test_approved_manual_tier_holds_until_its_expiry(member_id):
    r = call("POST", f"/members/{member_id}/tier-applications", {"target_tier": "gold", "reason": "key account"},
             claims=MANAGER, at=T0)
    assert r.status == 201 and r.body["status"] == "pending"
    app_id = r.body["application_id"]
    assert tier(member_id)["tier"] == "regular"
    r = call("POST", f"/tier-applications/{app_id}/decision",
             {"decision": "approve", "note": "agreed", "expires_on": "2027-06-01"}, claims=SUPERVISOR, at=T0)
    assert r.status == 200, r.body
    assert (r.body["status"], r.body["decided_by"], r.body["expires_on"]) == ("approved", "sup-1", "2027-06-01")
    view = tier(member_id)
    assert (view["tier"], view["manual_floor"], view["manual_floor_until"]) == ("gold", "gold", "2027-06-01")
    assert view["decisions"][0]["actor"] == "supervisor:sup-1"

    for day, tier_then, outcome in ((date(2027, 3, 1), "gold", "manual"),  # nothing bought: the floor holds
                                    (date(2027, 5, 2), "gold", "warn"),  # 30 days before the expiry: warned
                                    (date(2027, 6, 1), "silver", "downgrade")):  # expired: one step down
        moment = clock.at_local(day, 0)  # the job's run at the brand's midnight
        run_job(moment)
        view = tier(member_id, at=moment)
        assert view["tier"] == tier_then, day
        if outcome == "warn":
            warn = view["decisions"][0]
            assert warn["outcome"] == "warn" and warn["explanation"]["downgrade_on"] == "2027-06-01"


def test_manual_tier_is_a_floor_but_merit_upgrades_above_it(member_id):
    app_id = call("POST", f"/members/{member_id}/tier-applications", {"target_tier": "silver", "reason": "vip"},
                  claims=MANAGER, at=T0).body["application_id"]
    assert call("POST", f"/tier-applications/{app_id}/decision", {"decision": "approve", "note": "ok"},
                claims=SUPERVISOR, at=T0).status == 200
    buy(member_id, "20000", at=T0 + timedelta(hours=1))
    assert tier(member_id)["tier"] == "gold"


def test_bad_applications_and_decisions_are_refused_and_change_nothing(member_id):
    buy(member_id, "5000", at=clock.now())  # silver
    r = call("POST", f"/members/{member_id}/tier-applications", {"target_tier": "silver", "reason": "x"},
             claims=MANAGER)
    assert r.status == 422 and r.field_names() == ["target_tier"]
    r = call("POST", f"/members/{member_id}/tier-applications", {"target_tier": "regular", "reason": "x"},
             claims=MANAGER)
    assert r.status == 422 and r.field_names() == ["target_tier"]
    r = call("POST", f"/members/{member_id}/tier-applications", {"target_tier": "platinum", "reason": "x"},
             claims=MANAGER)
    assert r.status == 422 and r.field_names() == ["target_tier"]
    assert call("POST", f"/members/{member_id}/tier-applications", {"target_tier": "gold", "reason": "x"},
                claims=OTHER_BRAND_ADMIN).status == 404

    app_id = call("POST", f"/members/{member_id}/tier-applications", {"target_tier": "gold", "reason": "x"},
                  claims=SUPERVISOR).body["application_id"]
    decide = f"/tier-applications/{app_id}/decision"
    r = call("POST", decide, {"decision": "approve", "note": "me"}, claims=SUPERVISOR)
    assert r.status == 403 and r.field_names() == ["decided_by"]  # the requester
    assert call("POST", decide, {"decision": "approve", "note": "n"}, claims=MANAGER).status == 403  # below
    assert call("POST", decide, {"decision": "approve", "note": "n"}, claims=OTHER_BRAND_ADMIN).status == 404
    assert tier(member_id)["tier"] == "silver"
    assert call("POST", decide, {"decision": "reject", "note": "no"}, claims=ADMIN).status == 200
    r = call("POST", decide, {"decision": "approve", "note": "again"}, claims=ADMIN)
    assert r.status == 409 and r.field_names() == ["status"]
    assert tier(member_id)["tier"] == "silver"


def test_member_tier_view_is_scoped_like_the_card(member_id):
    assert call("GET", f"/members/{member_id}/tier", claims=OTHER_BRAND_ADMIN).status == 404
    other_store = claims_for(role="store_staff", store_id="demo-002", staff_id="clerk-2")
    assert call("GET", f"/members/{member_id}/tier", claims=other_store).status == 404
    view = tier(member_id, claims=CLERK_001)
    assert view["tier"] == "regular" and view["next_review"] is None
    assert view["progress"]["next_tier"]["spend_needed"] == "5000"


def give_back(member_id: str, amount: str, original: str, *, at: datetime = T0) -> None:
    p = Purchase(brand_id="demo", store_id="demo-001", transaction_id=uuid.uuid4().hex[:12], member_id=member_id,
                 kind=Kind.RETURN, amount=Decimal(amount), currency="CNY", items=1,
                 occurred_at=at - timedelta(minutes=4), original_transaction_id=original)
    wiring.purchase_ingestion().ingestor().ingest(p, received_at=at, now=at)


def test_returns_are_tracked_and_a_high_return_rate_blocks_the_upgrade(member_id):
    assert call("PUT", "/brands/demo/tier-policy", policy_body(max_return_rate="0.3"), claims=ADMIN).status == 200
    forget_cached_policies()
    buy(member_id, "4000", txn="S1")  # silver (3,000)
    give_back(member_id, "3500", "S1")  # 3,500 of 4,000 back
    stats = LedgerRepository().stats("demo", member_id)
    assert stats.returned == {"2026-11": Decimal("3500")} and stats.spend == {"2026-11": Decimal("500")}
    buy(member_id, "9500")  # net 10,000 = gold's threshold, but 3,500 of 13,500 sold came back (26%)
    assert tier(member_id)["tier"] == "gold"
    other = enrol(phone="13900139001").body["member_id"]
    buy(other, "2000", txn="S2")
    give_back(other, "1500", "S2")  # 1,500 of 2,000 back
    buy(other, "9500")  # net 10,000 again, 1,500 of 11,500 sold came back (13%): upgrades
    assert tier(other)["tier"] == "gold"
    third = enrol(phone="13900139002").body["member_id"]
    buy(third, "8000", txn="S3")
    give_back(third, "6000", "S3")  # 6,000 of 8,000 back
    buy(third, "8000")  # net 10,000, 6,000 of 16,000 sold came back (37.5%): blocked
    view = tier(third)
    assert view["tier"] == "silver" and [d["tier_to"] for d in view["decisions"]] == ["silver"]
    assert LedgerRepository().stats("demo", third).returned == {"2026-11": Decimal("6000")}


def test_a_referral_is_credited_once_to_the_referrer_as_qualifying_spend(member_id):
    assert call("PUT", "/brands/demo/tier-policy", policy_body(referral_credit="1000"), claims=ADMIN).status == 200
    forget_cached_policies()
    buy(member_id, "1000")
    for i in range(2):
        r = enrol(phone=f"1390013910{i}", referrer_member_id=member_id, at=T0)
        assert r.status == 201
    stats = LedgerRepository().stats("demo", member_id)
    assert len(stats.referrals) == 2 and stats.spend == {"2026-11": Decimal("1000")}
    assert stats.version == 4  # enrolment, the sale, then each credit: a purchase that read before retries
    again = enrol(phone="13900139100", referrer_member_id=member_id, at=T0)  # the same phone: 409, no new credit
    assert again.status == 409 and len(LedgerRepository().stats("demo", member_id).referrals) == 2
    # 1,100 spent + 2 x 1,000 credit = 3,100: silver (the credits count in the month the
    # referred members enrolled, T0's).
    buy(member_id, "100", at=T0 + timedelta(hours=1))
    view = tier(member_id)
    assert view["tier"] == "silver"
    assert view["decisions"][0]["explanation"]["inputs"]["referrals_12m"] == 2
    assert enrol(phone="13900139200", referrer_member_id="m_nobody", at=T0).status == 422


def test_a_downgrade_below_gold_hands_the_member_back_and_frees_the_managers_slot(member_id):
    from vipcare.store.tiers import TierRepository

    add_manager("mgr-a", capacity=1)
    buy(member_id, "20000")
    assert profile(member_id).manager_id == "mgr-a"
    assert TierRepository().manager_loads("demo", ["mgr-a"]) == {"mgr-a": 1}
    run_job(months_later(13))  # warned
    run_job(months_later(14))  # dropped to silver: no dedicated manager at silver
    assert tier(member_id)["tier"] == "silver"
    assert profile(member_id).manager_id is None
    assert TierRepository().manager_loads("demo", ["mgr-a"]) == {"mgr-a": 0}
    newcomer = enrol(phone="13900139300").body["member_id"]
    buy(newcomer, "20000", at=months_later(14))
    assert profile(newcomer).manager_id == "mgr-a"  # the freed slot is used again


def test_a_refused_publish_keeps_the_event_in_the_outbox_for_the_next_run(member_id, bus_events):
    from vipcare.services import tiers as tier_service

    buy(member_id, "20000")
    bus_events()

    class RefusingBus:
        def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
            raise RuntimeError("EventBridge is down")

    moment = months_later(13)
    w = replace(wiring.tier_reevaluation(), events=RefusingBus())
    runs = [tier_service.review_shard(moment, s, repo=w.tiers, events=w.events, directory=w.directory,
                                      notifier=w.notifier, queue=w.queue) for s in range(16)]
    assert sum(r.events_kept for r in runs) == 1 and tier(member_id)["decisions"][0]["outcome"] == "warn"
    assert [k for k, _ in bus_events()] == []  # nothing reached the bus, the decision is stored

    run_job(months_later(13, days=1))  # the next run publishes what was kept, once
    warnings = [e for kind, e in bus_events() if kind == "TierDowngradeWarning"]
    assert len(warnings) == 1 and warnings[0]["member_id"] == member_id
    run_job(months_later(13, days=2))
    assert [k for k, _ in bus_events()] == []


def test_a_managers_book_lists_their_members_with_the_next_contact_due_page_by_page(member_id):
    add_manager("mgr-a", capacity=5)
    other = enrol(phone="13900139400").body["member_id"]
    buy(member_id, "20000")
    buy(other, "25000")
    drain()  # TierChanged -> the care consumer starts each member's contact cadence
    r = call("GET", "/staff/mgr-a/members", claims=ADMIN)
    assert r.status == 200, r.body
    book = r.body["members"]
    assert sorted(e["member_id"] for e in book) == sorted([member_id, other]) and r.body["next"] is None
    assert all(e["tier"] == "gold" and e["next_contact_due"] and e["last_contact_on"] is None for e in book)

    first = call("GET", "/staff/mgr-a/members?limit=1", claims=ADMIN).body
    assert len(first["members"]) == 1 and first["next"] == first["members"][0]["member_id"]
    second = call("GET", f"/staff/mgr-a/members?limit=1&after={first['next']}", claims=ADMIN).body
    assert [e["member_id"] for e in second["members"]] == sorted([member_id, other])[1:]

    mine = claims_for(role="manager", store_id="demo-001", staff_id="mgr-a")
    assert call("GET", "/staff/mgr-a/members", claims=mine).status == 200  # their own book
    assert call("GET", "/staff/mgr-a/members", claims=MANAGER).status == 404  # another manager's
    assert call("GET", "/staff/mgr-a/members", claims=OTHER_BRAND_ADMIN).status == 404


def test_the_managers_book_says_overdue_by_the_brands_day_not_utcs(member_id):
    """01:00 on the brand's clock is still the day before in UTC (in Shanghai): a contact due
    the day before is overdue then. The book used UTC's date and said it was not."""
    from vipcare.domain.tasks import Cadence
    from vipcare.wiring import care

    add_manager("mgr-a", capacity=5)
    buy(member_id, "20000")
    drain()
    today = clock.local_day(clock.now())
    due = today - timedelta(days=1)
    care().cadence.put(Cadence("demo", member_id, "gold", due))
    [entry] = call("GET", "/staff/mgr-a/members", claims=ADMIN, at=clock.at_local(today, 1)).body["members"]
    assert (entry["next_contact_due"], entry["overdue"]) == (due.isoformat(), True)
    [entry] = call("GET", "/staff/mgr-a/members", claims=ADMIN, at=clock.at_local(due, 23)).body["members"]
    assert entry["overdue"] is False  # due today is not overdue yet

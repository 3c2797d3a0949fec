"""Faults across the use cases, with the table printed at the end (`make test` shows it with
-s; `make soak` prints it): a crash before and after every DynamoDB request of each use case
(then the retry a client, SQS or the next scheduled run makes), DynamoDB throttling and
transaction conflicts, SNS errors, a message delivered twice, a Lambda timeout in the middle
of a batch. After each: nothing lost, nothing applied twice."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from contextlib import suppress
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.test_exactly_once import ingestor, purchase
from tests.support import clock
from tests.support.api import ADMIN, call, enrol
from tests.support.fakes import RecordingBus
from tests.support.faults import Crash, count_calls, crash_at
from vipcare import wiring

pytestmark = pytest.mark.usefixtures("directory")
ROWS: list[tuple[str, str, str]] = []
NOW = clock.now()
PHONES = (f"1390{n:07d}" for n in itertools.count())  # a fresh phone for every setup


def caller(role: str = "admin"):
    from vipcare.domain.access import Caller, Role

    return Caller(staff_id="admin-1", brand_id="demo", store_id="demo-001", role=Role(role))


def sweep(use_case: str, setup: Callable[[], Any], act: Callable[[Any], Any], check: Callable[[Any], None]) -> None:
    """Crash before and after each request of `act` (counted on a clean run), retry, check."""
    ctx = setup()
    with count_calls() as seen:
        act(ctx)
    check(ctx)
    for k in range(1, len(seen) + 1):
        for after in (False, True):
            ctx = setup()
            with suppress(Crash), crash_at(k, after=after):
                act(ctx)
            act(ctx)  # the retry
            check(ctx)
    ROWS.append(("crash before/after each request, then retry", use_case,
                 f"{2 * len(seen)} crash points ({', '.join(dict.fromkeys(seen))}): applied once"))


def _quiet(fn: Callable[[], Any]) -> Any:
    """A retry answers with the domain's 'already done' (409 conflict) rather than a repeat."""
    from vipcare.domain.errors import Conflict

    try:
        return fn()
    except Conflict as exc:
        return exc


# ---- crash points, use case by use case ----------------------------------------------------------


def test_enrolment_survives_a_crash_anywhere():
    from vipcare.api.models.members import EnrolRequest
    from vipcare.services.members import enroll
    from vipcare.store.members import MemberRepository

    used: list[str] = []

    def setup():
        used.append(f"+86{next(PHONES)}")
        return used[-1]

    def act(phone):
        wired = wiring.enrollment()
        _quiet(lambda: enroll(caller(), EnrolRequest(name="F", phone=phone, store_id="demo-001"), now=NOW,
                              members=wired.members, directory=wired.directory))

    def check(phone):
        assert MemberRepository().member_id_for_phone("demo", phone) is not None

    sweep("enrolment", setup, act, check)
    from vipcare.store.kpis import KpiRepository

    enrolled = sum(c["enrolled"] for c in KpiRepository().counters("demo", clock.brand_month(NOW)).values())
    assert enrolled == len(used)  # one member, and one count, per phone


def test_purchase_ingestion_survives_a_crash_anywhere():
    from vipcare.store.ledger import LedgerRepository

    def setup():
        return enrol(phone=next(PHONES)).body["member_id"]

    def act(mid):
        # the transaction id is unique per store: one per member here
        p = purchase(mid, f"F-{mid}", __import__("vipcare.domain.purchases", fromlist=["Kind"]).Kind.SALE, 50_000, 0,
                     now=NOW)
        ingestor(RecordingBus()).ingest(p, received_at=NOW, now=NOW)

    def check(mid):
        stats = LedgerRepository().stats("demo", mid)
        assert sum(stats.spend.values()) == Decimal("500") and sum(stats.points.lots.values()) == 500

    sweep("purchase ingestion", setup, act, check)


def test_redemption_survives_a_crash_anywhere():
    from vipcare.api.models.purchases import RedemptionIn
    from vipcare.domain.purchases import Kind
    from vipcare.services.points import redeem
    from vipcare.store.ledger import LedgerRepository

    wired = wiring.purchase_api()

    def setup():
        mid = enrol(phone=next(PHONES)).body["member_id"]
        ingestor(RecordingBus()).ingest(purchase(mid, f"R-{mid}", Kind.SALE, 50_000, 0, now=NOW),
                                        received_at=NOW, now=NOW)
        return mid

    def act(mid):
        redeem(caller(), mid, RedemptionIn(redemption_id="gift-1", points=200, reason="gift"), now=NOW,
               members=wired.members, ledger=wired.ledger, directory=wired.directory, rewards=wired.rewards)

    def check(mid):
        assert sum(LedgerRepository().stats("demo", mid).points.lots.values()) == 300

    sweep("points redemption", setup, act, check)


def test_complaint_filing_with_a_key_survives_a_crash_anywhere():
    from vipcare.api.models.complaints import ComplaintCreate
    from vipcare.services.complaints import file_complaint
    from vipcare.store.complaints import ComplaintRepository

    member_id = enrol(phone="13500000001").body["member_id"]
    keys = iter(f"key-{n}" for n in range(10_000))
    events = RecordingBus()
    wired = replace(wiring.complaint_routing(), events=events)

    def setup():
        return next(keys)

    def act(key):
        file_complaint(caller(), ComplaintCreate(member_id=member_id, store_id="demo-001", channel="store",
                                                 category="billing", severity="low", description="twice"),
                       request_key=key, now=NOW, members=wired.members, directory=wired.directory,
                       complaints=wired.complaints, notifier=wired.notifier, events=wired.events)

    def check(key):
        from vipcare.domain.complaints import keyed_complaint_id

        assert ComplaintRepository().get("demo", keyed_complaint_id("demo", key)) is not None

    sweep("complaint intake (Idempotency-Key)", setup, act, check)
    repo = ComplaintRepository()
    opened = repo.member_counts("demo", member_id)["OPEN"]
    filed = {d["complaint_id"] for d in events.published}
    left = {p.detail["complaint_id"] for s in range(10) for p in repo.pending_events(s)}
    assert opened == len(filed | left)  # one case, one count and one event (sent or kept) per key


def test_tier_job_decisions_survive_a_crash_anywhere():
    from vipcare.services.tiers import review_shard as run_shard
    from vipcare.store.models import MemberItem, member_pk
    from vipcare.store.tiers import TierRepository, review_keys, review_shard

    def setup():
        mid = enrol(phone=next(PHONES)).body["member_id"]
        MemberItem(member_pk("demo", mid), "PROFILE").update(actions=[
            MemberItem.tier.set("gold"), MemberItem.tier_since.set(NOW.date() - timedelta(days=400)),
            MemberItem.tier_valid_until.set(NOW.date() - timedelta(days=35)),
            MemberItem.review_pk.set(review_keys("demo", mid, NOW - timedelta(days=1))[0]),
            MemberItem.review_sk.set(review_keys("demo", mid, NOW - timedelta(days=1))[1])])
        return mid

    wired = replace(wiring.tier_reevaluation(), events=RecordingBus())

    def act(mid):
        run_shard(NOW, review_shard(mid), repo=wired.tiers, events=wired.events, directory=wired.directory,
                  notifier=wired.notifier, queue=wired.queue)

    def check(mid):
        decisions = TierRepository().decisions("demo", mid)
        assert len(decisions) == 1, decisions  # one decision (a downgrade step), once

    sweep("tier re-evaluation (job shard)", setup, act, check)


def test_contact_with_coverage_survives_a_crash_anywhere():
    from vipcare.api.models.care import ContactCreate
    from vipcare.services.contacts import log_contact
    from vipcare.store.kpis import KpiRepository, SnapshotMember
    from vipcare.store.models import MemberItem, member_pk
    from vipcare.wiring import care

    used: list[str] = []

    def setup():
        mid = enrol(phone=next(PHONES)).body["member_id"]
        MemberItem(member_pk("demo", mid), "PROFILE").update(actions=[MemberItem.tier.set("gold")])
        # gold in the month's opening snapshot, so a contact counts towards coverage
        KpiRepository().put_snapshot("demo", clock.brand_month(NOW), [SnapshotMember(mid, "gold", "demo-001")], NOW)
        used.append(mid)
        return mid

    def act(mid):
        log_contact(caller(), mid, ContactCreate(contacted_on=clock.local_day(NOW), channel="phone"),
                    request_key=f"visit-{mid}", now=NOW, deps=care())

    def check(mid):
        assert len(care().contacts.recent("demo", mid, limit=10).items) == 1

    sweep("contact log (Idempotency-Key)", setup, act, check)
    covered = sum(c["gold_plus_contacted"] for c in KpiRepository().counters("demo", clock.brand_month(NOW))
                  .values())
    assert covered == len(used)  # coverage counts each member once, whatever the retries


def test_departure_survives_a_crash_anywhere():
    from vipcare.services.staffing import depart
    from vipcare.store.models import MemberItem, member_pk
    from vipcare.store.tiers import TierRepository
    from vipcare.wiring import directory

    staff_ids = iter(f"gone-{n}" for n in range(1000))

    def setup():
        sid = next(staff_ids)
        call("POST", "/staff", {"staff_id": sid, "name": sid, "role": "manager", "store_id": "demo-001",
                                "supervisor_id": "sup-1", "capacity": 10}, claims=ADMIN)
        mids = [enrol(phone=next(PHONES)).body["member_id"] for _ in range(2)]
        for m in mids:
            TierRepository().assign_manager("demo", m, sid, 10, NOW)
        return sid, mids

    def act(ctx):
        depart(caller(), ctx[0], now=NOW, deps=directory().staffing)

    def check(ctx):
        sid, mids = ctx
        assert all(MemberItem.get(member_pk("demo", m), "PROFILE").manager_id not in (None, sid) for m in mids)
        assert TierRepository().manager_loads("demo", [sid]).get(sid, 0) == 0

    sweep("manager departure", setup, act, check)


# ---- other faults ----------------------------------------------------------------------------


def _client_error(code: str, operation: str, reasons: list[dict] | None = None) -> ClientError:
    body: dict[str, Any] = {"Error": {"Code": code, "Message": code}}
    if reasons is not None:
        body["CancellationReasons"] = reasons
    return ClientError(body, operation)


def _fail_first(operation: str, error: ClientError):
    """Raise `error` on the first `operation` request sent through the shared DynamoDB client."""
    from vipcare.store.clients import dynamodb_client

    client = dynamodb_client()
    state = {"left": 1}

    def hook(model, **_: object) -> None:
        if model.name == operation and state["left"]:
            state["left"] -= 1
            raise error

    event = "before-call.dynamodb.*"
    client.meta.events.register(event, hook, unique_id="fail-first")
    return client, event


def test_throttling_and_transaction_conflicts_are_retried_without_double_counting():
    from vipcare.domain.purchases import Kind
    from vipcare.store.ledger import LedgerRepository

    for code, reasons, label in (
        ("ProvisionedThroughputExceededException", None, "DynamoDB throttling"),
        ("TransactionCanceledException", [{"Code": "TransactionConflict"}, {"Code": "None"}], "transaction conflict"),
    ):
        mid = enrol(phone=next(PHONES)).body["member_id"]
        client, event = _fail_first("TransactWriteItems", _client_error(code, "TransactWriteItems", reasons))
        try:
            with suppress(Exception):  # the consumer fails the message: SQS redelivers it
                ingestor(RecordingBus()).ingest(purchase(mid, f"T-{mid}", Kind.SALE, 10_000, 0, now=NOW),
                                                received_at=NOW, now=NOW)
        finally:
            client.meta.events.unregister(event, unique_id="fail-first")
        ingestor(RecordingBus()).ingest(purchase(mid, f"T-{mid}", Kind.SALE, 10_000, 0, now=NOW),
                                        received_at=NOW, now=NOW)
        assert sum(LedgerRepository().stats("demo", mid).spend.values()) == Decimal("100")
        ROWS.append((label, "purchase ingestion", "failed attempt wrote nothing; redelivery applied once"))


def test_sns_errors_leave_the_effect_and_retry_the_message():
    from vipcare.services.reminders import Dispatcher
    from vipcare.wiring import care

    class Failing:
        def __init__(self) -> None:
            self.calls = 0

        def opted_out(self, phone: str) -> bool:
            return False

        def send_sms(self, phone: str, text: str, *, marketing: bool = False) -> str:
            self.calls += 1
            raise RuntimeError("SNS throttled")

        def tell_staff(self, event: dict[str, Any]) -> str:
            raise RuntimeError("SNS down")

    mid = enrol(phone="13100009999").body["member_id"]
    ten = clock.at_local(clock.local_day(NOW), 10)  # daytime on the brand's clock
    detail = {"event_id": "sns-1", "brand_id": "demo", "member_id": mid, "from": "regular", "to": "silver"}
    sns = Failing()
    assert Dispatcher(ten, care(sms=sns)).on_event("TierChanged", detail) == "failed"
    assert Dispatcher(ten, care(sms=sns)).on_event("TierChanged", detail) == "duplicate"  # the redelivery
    ROWS.append(("SNS Publish error", "member SMS (reminder dispatch)",
                 "record failed, retried by a later run (<= 5 attempts), never sent twice"))
    r = call("POST", "/complaints", {"member_id": mid, "store_id": "demo-001", "channel": "store",
                                     "category": "billing", "severity": "low", "description": "x"}, claims=ADMIN)
    assert r.status == 201  # the topic publish is best effort after the committed case
    ROWS.append(("SNS topic error", "complaint intake", "case stands (201); the staff notice is logged as failed"))


def test_a_message_delivered_twice_counts_once():
    from tests.integration.test_kpis import tier_changed

    mid = enrol(phone="13100008888").body["member_id"]
    tier_changed(mid, "regular", "silver", "dup-1")
    tier_changed(mid, "regular", "silver", "dup-1")
    period = clock.brand_month(NOW)
    r = call("GET", f"/reports/kpis?period={period}", claims=ADMIN).body
    assert r["upgrades"] == 1
    ROWS.append(("SQS delivers a message twice", "KPI counting (TierChanged)", "counted once (event marker)"))
    ROWS.append(("SQS delivers a message twice", "purchase ingestion", "applied once (transaction-id item; "
                                                                       "test_exactly_once, 1000 examples in soak)"))


def test_a_lambda_timeout_in_the_middle_of_a_batch_loses_nothing():
    from infra.local.lambdas import LambdaContext, load_module
    from vipcare.store.ledger import LedgerRepository

    mid = enrol(phone="13100007777").body["member_id"]
    module = load_module("functions/purchase_ingestion/")

    def body(txn: str) -> dict:
        return {"messageId": txn, "receiptHandle": txn, "attributes": {}, "messageAttributes": {}, "md5OfBody": "",
                "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
                "awsRegion": "us-east-1",
                "body": json.dumps({"brand_id": "demo", "store_id": "demo-001", "transaction_id": txn,
                                    "member_id": mid, "kind": "sale", "amount": "10.00", "currency": "CNY",
                                    "items": 1, "occurred_at": NOW.isoformat(), "received_at": NOW.isoformat()})}

    batch = {"Records": [body(f"B-{i}") for i in range(4)]}
    with suppress(Crash), crash_at(6, after=True):  # the function dies during the batch's 3rd record
        module.handler(batch, LambdaContext())
    module.handler(batch, LambdaContext())  # SQS makes the whole batch visible again
    assert sum(LedgerRepository().stats("demo", mid).spend.values()) == Decimal("40")
    ROWS.append(("Lambda timeout mid-batch", "purchase ingestion", "whole batch redelivered; 4 sales applied once"))
    ROWS.append(("some records of a batch fail", "SQS consumers (3)", "partial batch response: only those retried "
                                                                       "(test_ingestion_faults)"))


def test_zz_the_fault_table_is_complete_and_printed():
    from tests.support.report import table

    assert len(ROWS) >= 14, ROWS  # every test above added its rows (they ran, and passed)
    width, uc = max(len(r[0]) for r in ROWS), max(len(r[1]) for r in ROWS)
    table(f"fault table ({len(ROWS)} rows)", [f"{'fault':<{width}}  {'use case':<{uc}}  outcome"]
          + [f"{f:<{width}}  {u:<{uc}}  {o}" for f, u, o in ROWS])

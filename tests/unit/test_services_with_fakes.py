"""Service behaviour with in-memory collaborators (tests/support/fakes.py): what the services
publish, tell and queue, without DynamoDB. The same flows run against moto in
tests/integration; these check the services' own part, in milliseconds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.support.fakes import (
    InMemoryComplaints,
    InMemoryDirectory,
    InMemoryLedger,
    InMemoryMembers,
    InMemoryTiers,
    RecordingBus,
    RecordingNotifier,
    Refused,
)
from vipcare.api.models.complaints import ComplaintCreate
from vipcare.domain.access import Caller, Role
from vipcare.domain.complaints import Category, Channel, Complaint, Severity, Status
from vipcare.domain.directory import BrandSettings, Staff, Store
from vipcare.domain.members import Consent, Member, Tier
from vipcare.domain.purchases import Kind, Purchase
from vipcare.services import complaints, purchases
from vipcare.services.brands import forget_cached_brands
from vipcare.services.ingestion import Ingestor, Outcome
from vipcare.store.ledger import LedgerEntry

BRAND, STORE = "unit", "unit-001"


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Brand settings and tier policies are cached per process: none from another test."""
    forget_cached_brands()
    yield
    forget_cached_brands()


def staff(staff_id: str, role: Role, supervisor_id: str | None = None, *, capacity: int = 0,
          at: datetime) -> Staff:
    return Staff(brand_id=BRAND, staff_id=staff_id, name=staff_id, role=role, store_id=STORE,
                 supervisor_id=supervisor_id, capacity=capacity, created_at=at, updated_at=at)


def directory(at: datetime) -> InMemoryDirectory:
    """One store: a supervisor and a manager reporting to them."""
    return InMemoryDirectory(
        brands=[BrandSettings(brand_id=BRAND, name="Unit", timezone="Asia/Shanghai")],
        stores=[Store(brand_id=BRAND, store_id=STORE, name="Unit 1", code="U01", timezone="Asia/Shanghai",
                      created_at=at)],
        staff=[staff("sup-1", Role.SUPERVISOR, at=at), staff("mgr-1", Role.MANAGER, "sup-1", capacity=2, at=at)])


def member(member_id: str, at: datetime, *, tier: Tier = Tier.REGULAR, manager_id: str | None = None) -> Member:
    return Member(member_id=member_id, brand_id=BRAND, store_id=STORE, member_no="UNIT-U01-000001", name="Li Na",
                  phone="+8613800138000", enrolled_at=at, updated_at=at,
                  consent=Consent(sms_marketing=False, updated_at=at, source="test"), tier=tier,
                  manager_id=manager_id)


MANAGER = Caller(staff_id="mgr-1", brand_id=BRAND, store_id=STORE, role=Role.MANAGER)


# ---- complaints ---------------------------------------------------------------------------


class Case:
    """A gold member's complaint filed with fakes, and the fakes, for the lifecycle tests."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.members = InMemoryMembers(member("m-1", now, tier=Tier.GOLD, manager_id="mgr-1"))
        self.directory = directory(now)
        self.complaints = InMemoryComplaints()
        self.notifier = RecordingNotifier()
        self.bus = RecordingBus()

    def file(self, *, notifier: RecordingNotifier | None = None) -> complaints.Filed:
        request = ComplaintCreate(member_id="m-1", store_id=STORE, channel=Channel.STORE, category=Category.BILLING,
                                  severity=Severity.MEDIUM, description="Charged twice.")
        return complaints.file_complaint(
            MANAGER, request, now=self.now, members=self.members, directory=self.directory,
            complaints=self.complaints, notifier=notifier or self.notifier, events=self.bus)

    def stored(self, complaint_id: str) -> Complaint:
        found = self.complaints.get(BRAND, complaint_id)
        assert found is not None
        return found

    def resolve(self, complaint_id: str, bus: RecordingBus) -> None:
        later = self.now + timedelta(minutes=30)
        complaints.acknowledge(MANAGER, complaint_id, now=later, complaints=self.complaints, directory=self.directory)
        complaints.resolve(MANAGER, complaint_id, "refunded", now=later, complaints=self.complaints,
                           directory=self.directory, events=bus)


def test_filing_routes_to_the_dedicated_manager_announces_the_case_once_and_tells_the_assignee(now: datetime) -> None:
    case = Case(now)
    filed = case.file()
    cid = filed.complaint.complaint_id
    assert (filed.complaint.assignee, filed.reason) == ("mgr-1", "dedicated manager")
    assert filed.event_published and filed.staff_told
    assert [(kind, d["event_id"], d["member_id"]) for kind, d in case.bus.sent] == [
        ("ComplaintFiled", f"{cid}.filed", "m-1")]
    assert case.complaints.outbox == {}  # published, then dropped from the outbox
    assert [(t["event"], t["assignee"]) for t in case.notifier.told] == [("complaint.assigned", "mgr-1")]


def test_a_staff_topic_failure_leaves_the_case_filed(now: datetime) -> None:
    case = Case(now)
    filed = case.file(notifier=RecordingNotifier(refuse=True))
    assert filed.event_published and not filed.staff_told
    assert case.stored(filed.complaint.complaint_id).assignee == "mgr-1"


def test_resolving_publishes_complaint_resolved_once_with_the_revisit_date(now: datetime) -> None:
    case = Case(now)
    cid = case.file().complaint.complaint_id
    bus = RecordingBus()
    case.resolve(cid, bus)
    [resolved] = bus.of_type("ComplaintResolved")
    assert resolved["complaint_id"] == cid and resolved["event_id"].startswith(f"{cid}.resolved.v")
    assert datetime.fromisoformat(resolved["revisit_on"]) > now
    assert case.complaints.outbox == {}
    assert case.stored(cid).status == Status.RESOLVED


def test_a_refused_resolution_event_stays_in_the_outbox_until_the_escalation_job_sends_it(now: datetime) -> None:
    case = Case(now)
    cid = case.file().complaint.complaint_id
    case.resolve(cid, RecordingBus(refuse=1))
    assert case.stored(cid).status == Status.RESOLVED
    [kept] = case.complaints.outbox.values()
    assert kept.detail_type == "ComplaintResolved"

    job_bus = RecordingBus()
    run = complaints.run_escalations(now + timedelta(hours=1), complaints=case.complaints,
                                     directory=case.directory, notifier=case.notifier, events=job_bus)
    assert (run.events_resent, run.events_kept) == (1, 0)
    assert [d["event_id"] for d in job_bus.of_type("ComplaintResolved")] == [kept.detail["event_id"]]
    again = complaints.run_escalations(now + timedelta(hours=2), complaints=case.complaints,
                                       directory=case.directory, notifier=case.notifier, events=job_bus)
    assert again.events_resent == 0 and len(job_bus.sent) == 1


def test_an_unsatisfied_member_reopens_the_case_one_level_up_and_the_supervisor_is_told(now: datetime) -> None:
    case = Case(now)
    cid = case.file().complaint.complaint_id
    case.resolve(cid, RecordingBus())
    bus = RecordingBus()
    after = complaints.record_feedback(MANAGER, cid, False, 3, now=now + timedelta(hours=1),
                                       complaints=case.complaints, directory=case.directory, notifier=case.notifier,
                                       events=bus)
    assert [(t, d["event_id"], d["nps"]) for t, d in bus.sent] == [("ComplaintFeedback", f"{cid}.feedback.v3", 3)]
    assert (after.status, after.assignee) == (Status.REOPENED, "sup-1")
    assert [(t["event"], t["assignee"]) for t in case.notifier.told][-1] == ("complaint.escalated", "sup-1")
    counts = complaints.complaint_report(MANAGER, case.stored(cid).period, complaints=case.complaints)["totals"]
    assert (counts["reopened"], counts["escalations"], counts["nps_responses"]) == (1, 1, 1)


# ---- ingestion ----------------------------------------------------------------------------


class Consumer:
    """The purchase consumer's service with fakes: one regular member in the store."""

    def __init__(self, now: datetime, bus: RecordingBus) -> None:
        self.now = now
        self.ledger = InMemoryLedger()
        self.ledger.add_member(BRAND, "m-1", store_id=STORE)
        self.tiers = InMemoryTiers()
        self.bus = bus
        self.notifier = RecordingNotifier()
        self.ingestor = Ingestor(ledger=self.ledger, events=bus, tiers=self.tiers, directory=directory(now),
                                 notifier=self.notifier)

    def sale(self, txn: str, amount: str) -> Purchase:
        return Purchase(brand_id=BRAND, store_id=STORE, transaction_id=txn, member_id="m-1", kind=Kind.SALE,
                        amount=Decimal(amount), currency="CNY", items=1, occurred_at=self.now - timedelta(hours=1))

    def deliver(self, p: Purchase) -> Outcome:
        return self.ingestor.ingest(p, received_at=self.now, now=self.now).outcome

    def entry(self, transaction_id: str) -> LedgerEntry:
        found = self.ledger.entry(BRAND, STORE, transaction_id)
        assert found is not None
        return found


def test_an_upgrading_sale_announces_the_tier_change_once_however_often_it_is_delivered(now: datetime) -> None:
    consumer = Consumer(now, RecordingBus())
    assert consumer.deliver(consumer.sale("S1", "100.00")) == Outcome.APPLIED
    assert consumer.bus.sent == []  # no tier change, no event

    big = consumer.sale("S2", "20000.00")
    assert consumer.deliver(big) == Outcome.APPLIED
    assert [consumer.deliver(big) for _ in range(3)] == [Outcome.DUPLICATE] * 3
    [change] = consumer.bus.of_type("TierChanged")
    assert (change["from"], change["to"], change["transaction_id"]) == ("regular", "gold", "S2")
    assert change["manager_id"] == "mgr-1"  # gold has a dedicated manager: assigned before the event
    assert consumer.tiers.managers == {(BRAND, "m-1"): "mgr-1"}
    assert len(consumer.bus.sent) == 1


def test_a_refused_tier_event_is_published_by_the_redelivery_exactly_once(now: datetime) -> None:
    consumer = Consumer(now, RecordingBus(refuse=1))
    big = consumer.sale("S1", "20000.00")
    with pytest.raises(Refused):  # the record fails: SQS delivers it again
        consumer.deliver(big)
    assert consumer.bus.sent == [] and consumer.entry("S1").event_pending
    assert consumer.deliver(big) == Outcome.DUPLICATE  # applied once; the pending event goes out now
    assert consumer.deliver(big) == Outcome.DUPLICATE
    assert [d["to"] for d in consumer.bus.of_type("TierChanged")] == ["gold"]
    assert not consumer.entry("S1").event_pending
    assert consumer.ledger.stats(BRAND, "m-1").spend_12m(consumer.entry("S1").month or "") == Decimal("20000.00")


# ---- purchase intake ------------------------------------------------------------------------


class RefusingQueue:
    """The purchases queue, refusing the messages at the given positions."""

    def __init__(self, *refused: int) -> None:
        self.refused = list(refused)
        self.sent: list[dict[str, Any]] = []

    def send(self, messages: list[dict[str, Any]]) -> list[int]:
        self.sent += [m for i, m in enumerate(messages) if i not in self.refused]
        return self.refused


def test_rows_the_queue_refuses_answer_retry_and_the_rest_are_queued(now: datetime) -> None:
    members = InMemoryMembers(member("m-1", now))
    queue = RefusingQueue(1)
    rows = [{"transaction_id": f"T{i}", "store_id": STORE, "member_id": "m-1", "kind": "sale", "amount": "10.00",
             "currency": "CNY", "items": 1, "occurred_at": (now - timedelta(hours=1)).isoformat()} for i in range(3)]
    results = purchases.submit(MANAGER, {"purchases": rows}, now=now, members=members, directory=directory(now),
                               queue=queue)
    assert [(r.transaction_id, r.status) for r in results] == [("T0", "accepted"), ("T1", "retry"),
                                                               ("T2", "accepted")]
    assert [m["transaction_id"] for m in queue.sent] == ["T0", "T2"]

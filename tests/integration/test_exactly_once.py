"""Every transaction counts exactly once: duplicates, reordering and crashes between any two
DynamoDB requests, checked against a recomputation from the unique transactions."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.aws import mocked_aws
from tests.support.fakes import RecordingBus
from tests.support.faults import Crash, count_calls, crash_at
from vipcare import wiring
from vipcare.domain.access import Caller, Role
from vipcare.domain.errors import Conflict as DomainConflict
from vipcare.domain.members import Consent, Member
from vipcare.domain.purchases import Kind, Purchase, Status
from vipcare.services.ingestion import Ingestor
from vipcare.store.ledger import LedgerRepository, member_pk, redemption_sk
from vipcare.store.members import MemberRepository

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
EXAMPLES = int(os.environ.get("VIPCARE_PROPERTY_EXAMPLES", "200"))


def ingestor(events: RecordingBus) -> Ingestor:
    """The real ingestion (DynamoDB through moto) with a bus that records what it is given."""
    return replace(wiring.purchase_ingestion(), events=events).ingestor()


def new_member() -> str:
    member_id = "m_" + uuid.uuid4().hex[:16]
    MemberRepository().add(Member(
        member_id=member_id, brand_id="demo", store_id="demo-001", member_no="X", name="P",
        phone=f"+86139{uuid.uuid4().int % 10**8:08d}", enrolled_at=NOW, updated_at=NOW,
        consent=Consent(sms_marketing=False, updated_at=NOW, source="test")))
    return member_id


def purchase(member_id: str, txn: str, kind: Kind, cents: int, days_ago: int, original: str | None = None, *,
             now: datetime = NOW):
    return Purchase(brand_id="demo", store_id="demo-001", transaction_id=txn, member_id=member_id, kind=kind,
                    amount=Decimal(cents) / 100, currency="CNY", items=1,
                    occurred_at=now - timedelta(days=days_ago, minutes=1), original_transaction_id=original)


@st.composite
def histories(draw):
    """Sales, partial returns (some before their sale arrives), redemptions; each delivered
    1-3 times in a shuffled order, some deliveries crashing at a chosen request."""
    n_sales = draw(st.integers(1, 5))
    sales = [("sale", f"S{i}", draw(st.integers(100, 3_000_000)), draw(st.integers(0, 80)), None)
             for i in range(n_sales)]
    returns = []
    for j in range(draw(st.integers(0, 4))):
        sale_index = draw(st.integers(0, n_sales - 1))
        share = draw(st.sampled_from([10, 25, 50, 60, 100]))
        returns.append(("return", f"R{j}", max(1, sales[sale_index][2] * share // 100), 0, f"S{sale_index}"))
    redemptions = [("redeem", f"D{k}", draw(st.integers(1, 5000)), 0, None) for k in range(draw(st.integers(0, 2)))]
    ops = sales + returns + redemptions
    deliveries = [op for op in ops for _ in range(draw(st.integers(1, 3)))]
    deliveries = draw(st.permutations(deliveries))
    crashes = [draw(st.one_of(st.none(), st.tuples(st.integers(1, 4), st.booleans()))) for _ in deliveries]
    return list(zip(deliveries, crashes, strict=True))


def deliver(ingestor: Ingestor, member_id: str, op, crash) -> None:
    """One delivery; a crash means the message (or the API call) is retried until it succeeds.
    Ids are prefixed with the member id: transaction ids are unique per store, across examples."""
    kind, ident, amount, days_ago, original = op
    ident = f"{member_id}-{ident}"
    original = f"{member_id}-{original}" if original else None
    caller = Caller(staff_id="pos", brand_id="demo", store_id="demo-001", role=Role.ADMIN)

    def run() -> None:
        if kind == "redeem":
            from vipcare.api.models.purchases import RedemptionIn
            from vipcare.services.points import redeem

            with contextlib.suppress(DomainConflict):  # insufficient points: refused, nothing spent
                wired = wiring.purchase_api()
                redeem(caller, member_id, RedemptionIn(redemption_id=ident, points=amount, reason="test"), now=NOW,
                       members=wired.members, ledger=wired.ledger, directory=wired.directory, rewards=wired.rewards)
            return
        p = purchase(member_id, ident, Kind(kind), amount, days_ago, original)
        ingestor.ingest(p, received_at=NOW, now=NOW)

    if crash is not None:
        try:
            with crash_at(crash[0], after=crash[1]):
                run()
        except Crash:
            pass
    run()  # the redelivery (or the first delivery when no crash was injected)


def check_against_recomputation(member_id: str, history) -> None:
    ledger = LedgerRepository()
    stats = ledger.stats("demo", member_id)
    txn_ids = sorted({f"{member_id}-{op[1]}" for op, _ in history if op[0] != "redeem"})
    entries = {e.transaction_id: e for e in ledger.entries("demo", [("demo-001", t) for t in txn_ids])}
    applied = [e for e in entries.values() if e.status == Status.APPLIED]
    sales = {e.transaction_id: e for e in applied if e.kind == Kind.SALE}
    rets = [e for e in applied if e.kind == Kind.RETURN]

    # every sale applied exactly once; no return left held once its sale arrived
    assert set(sales) == {f"{member_id}-{op[1]}" for op, _ in history if op[0] == "sale"}
    assert not [e for e in entries.values() if e.status == Status.HELD]

    spend: dict[str, Decimal] = defaultdict(Decimal)
    count: dict[str, int] = defaultdict(int)
    for s in sales.values():
        spend[s.month] += s.amount
        returned = sum((r.amount for r in rets if r.original_transaction_id == s.transaction_id), Decimal(0))
        clawed = sum(int(r.points or 0) for r in rets if r.original_transaction_id == s.transaction_id)
        assert s.returned == returned <= s.amount
        assert s.points_clawed == clawed <= s.points
        if returned == s.amount:
            assert clawed == s.points
        else:
            count[s.month] += 1
        assert s.points == int(s.amount * s.multiplier)  # floor: amounts and multipliers are positive
    for r in rets:
        spend[sales[r.original_transaction_id].month] -= r.amount
    redeemed = sum(int(i.points) for i in ledger.redemptions(
        "demo", member_id, sorted({f"{member_id}-{op[1]}" for op, _ in history if op[0] == "redeem"})))

    assert {m: v for m, v in stats.spend.items() if v} == {m: v for m, v in spend.items() if v}
    assert {m: v for m, v in stats.purchases.items() if v} == {m: v for m, v in count.items() if v}
    earned = sum(s.points for s in sales.values()) - sum(int(r.points or 0) for r in rets)
    assert stats.points.balance("2026-11", 24) == earned - redeemed
    assert stats.points.debt >= 0 and all(v > 0 for v in stats.points.lots.values())


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories())
def test_any_history_counts_each_transaction_once(history):
    # A fresh moto per example: moto copies every table on each transaction, so a table that
    # grew over hundreds of examples would make each one slower than the last.
    with mocked_aws():
        run_history(history)


def run_history(history) -> None:
    member_id = new_member()
    events = RecordingBus()
    consumer = ingestor(events)
    for op, crash in history:
        deliver(consumer, member_id, op, crash)
    check_against_recomputation(member_id, history)
    # delivering everything once more changes nothing
    before = LedgerRepository().stats("demo", member_id)
    for op, _ in history:
        if op[0] != "redeem":
            deliver(consumer, member_id, op, None)
    after = LedgerRepository().stats("demo", member_id)
    assert (after.spend, after.purchases, after.points) == (before.spend, before.purchases, before.points)
    # a tier change is announced once per change, however often it was retried
    assert len({e["event_id"] for e in events.published}) == len({e["to"] for e in events.published})


@pytest.mark.usefixtures("directory")
@pytest.mark.parametrize("lines", [0, 3], ids=["no lines", "three lines"])
def test_a_sale_costs_two_requests_and_at_most_five_write_units(lines):
    """Two requests and five write units with the member's history index (the sale's entry,
    its figures, both in the transaction, and one keys-only index entry); lines add bytes to
    the entry, not requests."""
    import dataclasses

    from tests.bench.ddb_meter import metered
    from vipcare.domain.purchases import Line
    from vipcare.store.clients import dynamodb_client

    member_id = new_member()
    consumer = ingestor(RecordingBus())
    consumer.ingest(purchase(member_id, "W1", Kind.SALE, 10_000, 1), received_at=NOW, now=NOW)
    prices = ["20.00", "30.00", "50.00"] if lines else []  # the sale's 100.00
    basket = tuple(Line(sku=f"SKU-{n}", name=f"Silk scarf, colour {n}", category="accessories", quantity=1,
                        unit_price=Decimal(price)) for n, price in enumerate(prices))
    sale = dataclasses.replace(purchase(member_id, "W2", Kind.SALE, 10_000, 1), lines=basket, items=max(1, lines))
    with count_calls() as calls, metered(dynamodb_client()) as meter:
        consumer.ingest(sale, received_at=NOW, now=NOW)
    assert calls == ["BatchGetItem", "TransactWriteItems"]
    assert meter.write_units <= 5, meter
    with count_calls() as calls:
        consumer.ingest(sale, received_at=NOW, now=NOW)
    assert calls == ["BatchGetItem"]  # a duplicate is recognised with one read and writes nothing


@pytest.mark.usefixtures("directory")
def test_crash_after_the_write_then_redelivery_applies_once():
    member_id = new_member()
    consumer = ingestor(RecordingBus())
    p = purchase(member_id, "C1", Kind.SALE, 50_000, 1)
    with pytest.raises(Crash), crash_at(2, after=True):
        consumer.ingest(p, received_at=NOW, now=NOW)
    consumer.ingest(p, received_at=NOW, now=NOW)
    stats = LedgerRepository().stats("demo", member_id)
    assert stats.spend_12m("2026-11") == Decimal("500.00") and stats.points.balance("2026-11", 24) == 500
    assert LedgerRepository().redemptions("demo", member_id, []) == []
    assert member_pk("demo", member_id) and redemption_sk("x")

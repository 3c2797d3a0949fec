"""Threshold advice from every purchase of the brand: the daily basket aggregate over the roll
(KPI function's hourly schedule) and GET /reports/threshold-advice reading it."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from infra.local.lambdas import LambdaContext, handler_for
from infra.local.local_routes import scheduled_event
from tests.support import clock
from tests.support.api import ADMIN, CLERK_001, OTHER_BRAND_ADMIN, call, claims_for, enrol
from vipcare import wiring
from vipcare.domain.months import shift
from vipcare.domain.purchases import Kind, Purchase

pytestmark = pytest.mark.usefixtures("directory")
SUPERVISOR = claims_for(role="supervisor", store_id="demo-001", staff_id="sup-1")
NOW = clock.now()


def sell(member_id: str, amount: str, items: int, *, brand: str = "demo", store: str = "demo-001",
         txn: str | None = None, at: datetime = NOW) -> str:
    txn = txn or uuid.uuid4().hex[:12]
    p = Purchase(brand_id=brand, store_id=store, transaction_id=txn, member_id=member_id, kind=Kind.SALE,
                 amount=Decimal(amount), currency="CNY", items=items, occurred_at=at - timedelta(minutes=5))
    wiring.purchase_ingestion().ingestor().ingest(p, received_at=at, now=at)
    return txn


def give_back(member_id: str, amount: str, original: str, at: datetime = NOW) -> None:
    p = Purchase(brand_id="demo", store_id="demo-001", transaction_id=uuid.uuid4().hex[:12], member_id=member_id,
                 kind=Kind.RETURN, amount=Decimal(amount), currency="CNY", items=1,
                 occurred_at=at - timedelta(minutes=4), original_transaction_id=original)
    wiring.purchase_ingestion().ingestor().ingest(p, received_at=at, now=at)


def hourly(at: datetime = NOW) -> dict:
    """The KPI function's schedule: the monthly snapshot check, then the basket aggregate."""
    return handler_for("functions/kpi_reports/", "app.handler")(scheduled_event(at), LambdaContext())


def advice(claims=SUPERVISOR, growth: str = "0.2") -> dict:
    r = call("GET", f"/reports/threshold-advice?growth={growth}", claims=claims)
    assert r.status == 200, r.body
    return r.body


def test_before_the_first_aggregate_every_figure_is_null():
    a = advice()
    assert a["source"]["as_of"] is None and a["source"]["members"] == 0
    assert set(a["base_line"].values()) == {None}
    assert all(t["average_spend_12m"] is None and t["members"] == 0 for t in a["tiers"])


def test_advice_counts_every_purchase_of_the_brand_and_nothing_of_another():
    gold = enrol(phone="13900139000").body["member_id"]
    silver = enrol(phone="13900139001").body["member_id"]
    regular = enrol(phone="13900139002").body["member_id"]
    sell(gold, "12000", 2)
    sell(gold, "12000", 2)  # gold: 24,000 over 12 months
    sale = sell(silver, "6000", 3)  # silver
    sell(regular, "300", 1)
    give_back(silver, "1000", sale)  # as sold, the basket keeps the 6,000; the spend is 5,000
    other = enrol(phone="13900139003", claims=OTHER_BRAND_ADMIN, store_id="acme-001").body["member_id"]
    sell(other, "99999", 9, brand="acme", store="acme-001")

    run = hourly()
    assert sorted(run["basket"]["finished"]) == ["acme", "demo"]
    a = advice()
    assert a["source"]["members"] == 3 and a["source"]["transactions"] == 4
    assert a["source"]["as_of"] == NOW.replace(microsecond=0).isoformat()  # the schedule's time
    assert a["source"]["window"] == [shift(clock.brand_month(NOW), -11), clock.brand_month(NOW)]
    # 30,300 over 8 items in 4 sales: item price 3,787.50, 2 items a sale, ticket 7,575
    assert a["base_line"] == {"average_item_price": "3787.50", "items_per_transaction": "2.00",
                              "average_ticket": "7575.00", "suggested": "9090.00"}
    by_tier = {t["tier"]: t for t in a["tiers"]}
    assert by_tier["gold"]["members"] == 1 and by_tier["gold"]["average_spend_12m"] == "24000.00"
    assert by_tier["gold"]["average_ticket"] == "12000.00"
    assert by_tier["gold"]["suggested_upgrade_spend_12m"] == "28800.00"
    assert by_tier["gold"]["suggested_range"] == ["27600.00", "31200.00"]
    assert by_tier["silver"]["average_spend_12m"] == "5000.00"  # net of the return
    assert by_tier["silver"]["average_ticket"] == "6000.00"  # as sold
    assert by_tier["diamond"]["members"] == 0 and by_tier["diamond"]["average_spend_12m"] is None
    assert advice(growth="0.15")["base_line"]["suggested"] == "8711.25"


def test_an_interrupted_run_resumes_where_it_stopped_and_counts_each_member_once():
    from vipcare.services import basket

    ids = [enrol(phone=f"1390013{n:04d}").body["member_id"] for n in range(40)]
    for n, member_id in enumerate(ids):
        sell(member_id, f"{100 + n}.00", 1 + n % 3)
    kpi = wiring.kpi_reports()
    directory = wiring.care().directory
    expected_amount = sum(Decimal(100 + n) for n in range(40))
    expected_items = sum(1 + n % 3 for n in range(40))

    # three runs an hour apart on one local day, whatever the hour the test runs at
    day_start = datetime.combine(clock.local_day(NOW), time(1), clock.brand_zone()).astimezone(UTC)
    calls = itertools.count()
    first = basket.run_basket(day_start, store=kpi.basket, directory=directory, out_of_time=lambda: next(calls) >= 6,
                              page=5)
    assert first.stopped == "time" and "demo" not in first.finished
    assert advice()["source"]["as_of"] is None  # nothing published from half a roll
    second = basket.run_basket(day_start + timedelta(hours=1), store=kpi.basket, directory=directory, page=5)
    assert "demo" in second.finished and first.members + second.members == 40
    day = kpi.basket.latest_day("demo")
    assert day is not None and (day.totals.members, day.totals.sales) == (40, 40)
    assert (day.totals.amount, day.totals.items) == (expected_amount, expected_items)
    again = basket.run_basket(day_start + timedelta(hours=2), store=kpi.basket, directory=directory)
    assert again.pages == 0 and again.finished == []  # the day is done: nothing read again


def test_growth_must_be_15_to_30_percent_and_the_report_needs_a_supervisor():
    r = call("GET", "/reports/threshold-advice?growth=0.5", claims=SUPERVISOR)
    assert r.status == 422 and r.field_names() == ["growth"]
    assert call("GET", "/reports/threshold-advice", claims=CLERK_001).status == 403
    assert call("GET", "/reports/threshold-advice", claims=ADMIN).status == 200

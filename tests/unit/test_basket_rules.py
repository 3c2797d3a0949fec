"""The basket totals and the threshold advice drawn from them (domain/basket.py)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tests.support import clock
from vipcare.domain.basket import BasketTotals, threshold_advice
from vipcare.domain.months import shift
from vipcare.domain.stats import MemberStats

THIS_MONTH = clock.brand_month(clock.now())
MONTHS = [shift(THIS_MONTH, -2), shift(THIS_MONTH, -1), THIS_MONTH]  # a window ending this month
TIERS = [("silver", Decimal("5000")), ("gold", Decimal("20000")), ("diamond", Decimal("50000"))]

sales = st.lists(st.tuples(st.sampled_from(MONTHS), st.integers(1, 500_00), st.integers(1, 9)), max_size=6)
members = st.lists(st.tuples(st.sampled_from(["regular", "silver", "gold"]), sales), max_size=8)


def stats_of(rows: list[tuple[str, int, int]]) -> MemberStats:
    s = MemberStats()
    for month, cents, items in rows:
        s.spend[month] = s.spend.get(month, Decimal(0)) + Decimal(cents) / 100
        s.sales[month] = s.sales.get(month, 0) + 1
        s.items[month] = s.items.get(month, 0) + items
    return s


@given(members)
def test_averages_lie_between_the_smallest_and_largest_ticket_and_nothing_divides_by_zero(roll):
    totals = BasketTotals()
    for tier, rows in roll:
        totals.add(tier, stats_of(rows), MONTHS)
    advice = threshold_advice(totals, TIERS, Decimal("0.2"))
    tickets = [Decimal(c) / 100 for _, rows in roll for _, c, _ in rows]
    ticket = advice["base_line"]["average_ticket"]
    if not tickets:
        assert ticket is None and advice["base_line"]["suggested"] is None
        return
    assert min(tickets) - Decimal("0.01") <= Decimal(ticket) <= max(tickets) + Decimal("0.01")
    assert Decimal(advice["base_line"]["items_per_transaction"]) >= 1


@given(members, members)
def test_shards_merged_equal_one_fold_over_everyone(left, right):
    def fold(roll):
        t = BasketTotals()
        for tier, rows in roll:
            t.add(tier, stats_of(rows), MONTHS)
        return t

    merged = fold(left).merge(fold(right))
    assert merged.to_json() == fold(left + right).to_json()
    assert BasketTotals.from_json(merged.to_json()).to_json() == merged.to_json()


def test_months_without_basket_counts_and_erased_members():
    old = MemberStats(spend={MONTHS[0]: Decimal("900")})  # figures from before the basket counts
    gone = stats_of([(MONTHS[1], 10_000, 2)])
    totals = BasketTotals()
    totals.add("gold", old, MONTHS)
    totals.add("silver", gone, MONTHS, on_card=False)
    assert (totals.sales, totals.items, totals.amount) == (1, 2, Decimal("100"))  # the erased member's sale counts
    assert totals.members == 1 and "silver" not in totals.tiers  # but is in no tier's averages
    assert totals.tiers["gold"].spend_12m == Decimal("900") and totals.tiers["gold"].sales == 0

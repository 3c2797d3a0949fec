from __future__ import annotations

from datetime import UTC
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vipcare.domain.members import Tier
from vipcare.domain.months import month_of, months_between, shift, window
from vipcare.domain.points import PointsLedger, clawback_for, expires_after, points_for
from vipcare.domain.tiers import DEFAULT_POLICY, qualifying_tier, upgrade_on_purchase


def test_months_shift_across_years_and_windows_end_with_current():
    assert shift("2026-01", -1) == "2025-12"
    assert shift("2025-12", 13) == "2027-01"
    assert window("2026-03", 3) == ("2026-01", "2026-02", "2026-03")
    assert months_between("2024-11", "2026-11") == 24


def test_business_month_follows_the_brand_time_zone():
    from datetime import datetime

    late_utc = datetime(2026, 1, 31, 20, 0, tzinfo=UTC)  # 04:00 on Feb 1st in Shanghai
    assert month_of(late_utc, "Asia/Shanghai") == "2026-02"
    assert month_of(late_utc, "UTC") == "2026-01"


def test_points_round_down_and_use_the_multiplier():
    assert points_for(Decimal("99.99"), Decimal("1.0")) == 99
    assert points_for(Decimal("100.00"), Decimal("1.5")) == 150
    assert points_for(Decimal("0.99"), Decimal("1.2")) == 1


def test_points_expire_at_the_end_of_the_24th_month():
    assert not expires_after("2024-11", "2026-11", 24)
    assert expires_after("2024-11", "2026-12", 24)


def test_spending_takes_oldest_lots_first_and_refuses_overdraft():
    ledger = PointsLedger(lots={"2026-01": 100, "2026-03": 50})
    assert ledger.spend(120, "2026-04", 24)
    assert ledger.lots == {"2026-03": 30}
    assert not ledger.spend(31, "2026-04", 24)
    assert ledger.lots == {"2026-03": 30}


def test_expired_points_leave_the_balance_without_any_job():
    ledger = PointsLedger(lots={"2024-01": 100, "2025-06": 40})
    assert ledger.balance("2025-12", 24) == 140
    assert ledger.balance("2026-02", 24) == 40
    assert ledger.expiring_by("2026-02", "2026-01", 24) == 100


def test_clawback_beyond_what_is_left_becomes_debt_paid_by_later_points():
    ledger = PointsLedger(lots={"2026-01": 10})
    ledger.claw_back(30, "2026-01")
    assert ledger.lots == {} and ledger.debt == 20
    ledger.earn("2026-02", 50)
    assert ledger.lots == {"2026-02": 30} and ledger.debt == 0


@given(st.integers(1, 100_000), st.lists(st.integers(1, 10_000), min_size=1, max_size=8))
def test_partial_returns_claw_back_exactly_the_sale_points_in_total(sale_cents, parts):
    amount = Decimal(sale_cents) / 100
    sale_points = points_for(amount, Decimal("1.5"))
    total_parts = sum(parts)
    # split the sale into returns proportional to `parts`, the last one completing it
    returns, returned = [], Decimal(0)
    for i, part in enumerate(parts):
        r = amount - returned if i == len(parts) - 1 else (amount * part / total_parts).quantize(Decimal("0.01"))
        r = min(r, amount - returned)
        if r > 0:
            returns.append(r)
            returned += r
    clawed = 0
    returned = Decimal(0)
    for r in returns:
        step = clawback_for(sale_points, amount, returned, r, clawed)
        assert step >= 0
        clawed += step
        returned += r
        assert clawed <= sale_points
    if returned == amount:
        assert clawed == sale_points


@pytest.mark.parametrize("spend,count,tier", [
    ("0", 0, Tier.REGULAR), ("4999.99", 5, Tier.REGULAR), ("5000", 0, Tier.SILVER), ("0", 6, Tier.SILVER),
    ("20000", 0, Tier.GOLD), ("19999", 12, Tier.GOLD), ("50000", 0, Tier.DIAMOND), ("0", 24, Tier.DIAMOND),
])
def test_default_policy_thresholds_with_rule_any(spend, count, tier):
    assert qualifying_tier(DEFAULT_POLICY, Decimal(spend), count) == tier


def test_a_purchase_only_ever_upgrades():
    assert upgrade_on_purchase(Tier.SILVER, Tier.GOLD) == Tier.GOLD
    assert upgrade_on_purchase(Tier.GOLD, Tier.SILVER) is None
    assert upgrade_on_purchase(Tier.GOLD, Tier.GOLD) is None


def test_points_notice_is_30_days_before_the_last_valid_day_of_the_oldest_live_lot():
    from datetime import date

    from vipcare.domain.points import expiry_notice_day

    # earned in Dec 2024, valid through Dec 2026: told on 1 Dec 2026 (31 Dec - 30 days)
    assert expiry_notice_day("2024-12", 24) == date(2026, 12, 1)
    assert expiry_notice_day("2024-03", 24) == date(2026, 3, 1)  # 31 Mar - 30 days
    ledger = PointsLedger(lots={"2024-12": 500, "2025-03": 200})
    assert ledger.next_notice(date(2026, 11, 20), 24) == date(2026, 12, 1)
    # the oldest lot's notice has passed: the next lot's is the one ahead
    assert ledger.next_notice(date(2026, 12, 2), 24) == date(2027, 3, 1)
    assert PointsLedger().next_notice(date(2026, 12, 2), 24) is None

"""The brand's KPI policy (docs/kpis.md): the retention window, the two lost rules, and the
validation of a stored document."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from vipcare.domain.errors import ValidationFailed
from vipcare.domain.kpi_policy import DEFAULT, LostRule, from_doc
from vipcare.domain.months import month_of, shift
from vipcare.domain.stats import MemberStats


@pytest.mark.parametrize(("months", "period", "start"), [
    (12, "2026-01", "2026-01"), (12, "2026-12", "2026-01"), (3, "2026-03", "2026-01"), (3, "2026-04", "2026-04"),
    (3, "2026-12", "2026-10"), (6, "2026-07", "2026-07"), (1, "2026-05", "2026-05"),
])
def test_the_window_is_aligned_on_the_calendar_year(months, period, start):
    policy = from_doc({"retention_months": months, "months_below_floor": 1})
    assert policy.window_start(period) == start


def test_months_below_the_floor_count_in_total_not_in_a_row(now):
    p = DEFAULT  # 3 months in total below 50 within the year
    year = month_of(now, "Asia/Shanghai")[:4]
    months = [f"{year}-{m:02d}" for m in range(1, 13)]
    # above the floor in every other month: never 3 in a row below it
    stats = MemberStats(spend={m: Decimal("200") for m in months[::2]})
    assert not p.is_lost(stats, window_start=months[0], period=months[3], at=now, closed=False)  # 2 below
    assert p.is_lost(stats, window_start=months[0], period=months[5], at=now, closed=False)  # 3 below
    # a month with no spend at all is below the floor; spend exactly at the floor is not
    at_floor = MemberStats(spend={m: Decimal("50") for m in months})
    assert not p.is_lost(at_floor, window_start=months[0], period=months[11], at=now, closed=False)
    assert p.is_lost(None, window_start=months[0], period=months[2], at=now, closed=False)
    assert p.is_lost(at_floor, window_start=months[0], period=months[0], at=now, closed=True)


def test_the_window_bounds_the_count(now):
    p = from_doc({"retention_months": 3})
    year = month_of(now, "Asia/Shanghai")[:4]
    # below the floor in Jan-Mar, then buying from April: the April window starts afresh
    stats = MemberStats(spend={f"{year}-{m:02d}": Decimal("500") for m in range(4, 7)})
    assert p.is_lost(stats, window_start=f"{year}-01", period=f"{year}-03", at=now, closed=False)
    assert not p.is_lost(stats, window_start=f"{year}-04", period=f"{year}-06", at=now, closed=False)


def test_no_purchase_for_n_days(now):
    p = from_doc({"lost_rule": "no_purchase_days", "no_purchase_days": 90})
    period = month_of(now, "Asia/Shanghai")
    recent = MemberStats(last_purchase_at=now - timedelta(days=89))
    old = MemberStats(last_purchase_at=now - timedelta(days=90))
    enrolled_only = MemberStats(since=now - timedelta(days=10))
    assert not p.is_lost(recent, window_start=period, period=period, at=now, closed=False)
    assert p.is_lost(old, window_start=period, period=period, at=now, closed=False)
    assert not p.is_lost(enrolled_only, window_start=period, period=period, at=now, closed=False)
    assert p.is_lost(None, window_start=shift(period, -1), period=period, at=now, closed=False)
    assert p.lost_rule is LostRule.NO_PURCHASE_DAYS and "90 days" in p.rule_text()


@pytest.mark.parametrize(("doc", "field"), [
    ({"retention_months": 5}, "retention_months"),
    ({"retention_months": "12"}, "retention_months"),
    ({"months_below_floor": 0}, "months_below_floor"),
    ({"retention_months": 3, "months_below_floor": 4}, "months_below_floor"),
    ({"no_purchase_days": 0}, "no_purchase_days"),
    ({"floor": "-1"}, "floor"),
    ({"floor": "fifty"}, "floor"),
    ({"floor": "NaN"}, "floor"),
    ({"churn_target": "1.5"}, "churn_target"),
    ({"retention_target_basic": "0.9", "retention_target_challenge": "0.8"}, "retention_target_basic"),
    ({"lost_rule": "ever"}, "lost_rule"),
    ({"colour": "red"}, "colour"),
])
def test_a_bad_field_is_named(doc, field):
    with pytest.raises(ValidationFailed) as e:
        from_doc(doc)
    assert e.value.field == field


def test_fields_left_out_keep_the_base():
    p = from_doc({"floor": "80"})
    assert p.floor == Decimal("80") and p.retention_months == 12 and p.retention_target_basic == Decimal("0.77")
    q = from_doc({"retention_months": 6}, base=p)
    assert q.floor == Decimal("80") and q.retention_months == 6
    stored = {k: v for k, v in p.as_doc().items() if k not in ("version", "created_at", "created_by")}
    assert from_doc(stored) == p  # the stored document reads back as the same policy

"""The benefit rules alone: periods (calendar year, month, membership year across 29
February), the largest discount, what an upgrade and a downgrade do to what is left."""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal

import pytest

from tests.support import clock
from vipcare.domain import benefits as rules
from vipcare.domain.benefits import Benefit, BenefitKind, Catalogue, Grant, Period
from vipcare.domain.errors import ValidationFailed
from vipcare.domain.members import Tier

# Days built from the test's today: Y is this year where the brand is, L the next leap year.
Y = clock.local_day(clock.now()).year
L = next(y for y in range(Y, Y + 8) if calendar.isleap(y))


@pytest.mark.parametrize(("period", "today", "since", "label", "ends"), [
    (Period.CALENDAR_YEAR, date(Y, 12, 31), None, f"{Y}", date(Y, 12, 31)),
    (Period.CALENDAR_YEAR, date(Y + 1, 1, 1), None, f"{Y + 1}", date(Y + 1, 12, 31)),
    (Period.MONTH, date(L, 2, 29), None, f"{L}-02", date(L, 2, 29)),
    (Period.MONTH, date(Y, 1, 31), None, f"{Y}-01", date(Y, 1, 31)),
    (Period.MEMBERSHIP_YEAR, date(Y + 1, 6, 1), date(Y, 9, 15), f"M{Y}-09-15", date(Y + 1, 9, 14)),
    (Period.MEMBERSHIP_YEAR, date(Y + 1, 9, 15), date(Y, 9, 15), f"M{Y + 1}-09-15", date(Y + 2, 9, 14)),
    # reached the tier on a leap day: the year starts on 28 February in common years
    (Period.MEMBERSHIP_YEAR, date(L + 1, 2, 28), date(L, 2, 29), f"M{L + 1}-02-28", date(L + 2, 2, 27)),
    (Period.MEMBERSHIP_YEAR, date(L + 1, 2, 27), date(L, 2, 29), f"M{L}-02-29", date(L + 1, 2, 27)),
    (Period.MEMBERSHIP_YEAR, date(Y, 6, 1), None, f"{Y}", date(Y, 12, 31)),  # no start known
])
def test_the_period_a_day_falls_in(period, today, since, label, ends):
    assert rules.window(period, today, tier_since=since) == rules.PeriodWindow(label, ends)


def catalogue() -> Catalogue:
    return Catalogue("b", 1, (
        Benefit("d5", "Discount", BenefitKind.DISCOUNT, Period.CALENDAR_YEAR,
                {Tier.SILVER: Grant(discount_percent=Decimal("5")), Tier.GOLD: Grant(discount_percent=Decimal("8"))}),
        Benefit("d-extra", "Gold day", BenefitKind.DISCOUNT, Period.CALENDAR_YEAR,
                {Tier.GOLD: Grant(discount_percent=Decimal("12.5"))}),
        Benefit("parking", "Parking", BenefitKind.ALLOWANCE, Period.CALENDAR_YEAR,
                {Tier.SILVER: Grant(quota=5), Tier.GOLD: Grant(quota=20)}),
        Benefit("gift", "Gift", BenefitKind.BIRTHDAY_GIFT, Period.CALENDAR_YEAR, {Tier.GOLD: Grant()}),
    ))


def test_the_largest_discount_applies_and_none_is_zero():
    c = catalogue()
    assert (c.discount_percent(Tier.GOLD), c.discount_percent(Tier.SILVER), c.discount_percent(Tier.REGULAR)) == (
        Decimal("12.5"), Decimal("5"), Decimal("0"))


def test_uses_are_counted_per_period_not_per_tier():
    used = {("parking", f"{Y}"): 7, ("parking", f"{Y - 1}"): 20}
    day = date(Y, 3, 1)
    gold = rules.entitlements(catalogue(), Tier.GOLD, day, tier_since=None, birthday=None, used=used)
    silver = rules.entitlements(catalogue(), Tier.SILVER, day, tier_since=None, birthday=None, used=used)
    assert [(a.quota, a.used, a.remaining) for a in gold.allowances] == [(20, 7, 13)]
    assert [(a.quota, a.used, a.remaining) for a in silver.allowances] == [(5, 7, 0)]  # never negative


def test_the_birthday_gift_is_there_in_the_birthday_month_until_used():
    c = catalogue()
    march = date(Y, 3, 10)
    born = date(1990, 3, 31)  # a birth date: only its month matters
    gift = rules.entitlements(c, Tier.GOLD, march, tier_since=None, birthday=born, used={}).birthday_gift
    assert (gift.available, gift.until) == (True, date(Y, 3, 31))
    taken = rules.entitlements(c, Tier.GOLD, march, tier_since=None, birthday=born,
                               used={("gift", f"{Y}"): 1}).birthday_gift
    assert taken.available is False
    silver = rules.entitlements(c, Tier.SILVER, march, tier_since=None, birthday=born, used={}).birthday_gift
    assert (silver.available, silver.until) == (False, None)


@pytest.mark.parametrize(("raw", "field"), [
    ({"kind": "allowance", "tiers": {"gold": {"quota": True}}}, "benefits.0.tiers.gold.quota"),
    ({"kind": "discount", "tiers": {"gold": {"discount_percent": "abc"}}}, "benefits.0.tiers.gold.discount_percent"),
    ({"kind": "discount", "tiers": {"gold": {"discount_percent": "5.125"}}},
     "benefits.0.tiers.gold.discount_percent"),
    ({"kind": "service", "tiers": {"gold": {"quota": 1}}}, "benefits.0.tiers.gold.quota"),
    ({"kind": "discount", "tiers": {"gold": {"discount_percent": "NaN"}}}, "benefits.0.tiers.gold.discount_percent"),
    ({"kind": "discount", "tiers": {"gold": {"discount_percent": "Infinity"}}},
     "benefits.0.tiers.gold.discount_percent"),
])
def test_a_bad_entry_names_its_field(raw, field):
    with pytest.raises(ValidationFailed) as err:
        rules.benefit_from_document({"benefit_id": "x", "name": "X", "period": "calendar_year", **raw}, 0)
    assert err.value.field == field

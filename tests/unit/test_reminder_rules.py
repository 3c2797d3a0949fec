"""Pure care rules: SMS segments, templates, quiet hours, cap and priority, lunar and holidays,
cadence periods, dormancy and the churn score."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vipcare.domain import reminders as r
from vipcare.domain import tasks as t
from vipcare.domain.errors import ValidationFailed

# ---- segments -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("", 0), ("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3),
    ("生" * 70, 1), ("生" * 71, 2), ("生" * 134, 2), ("生" * 135, 3),
    ("{" * 80, 1), ("{" * 81, 2),  # extension characters take two septets
    ("a" * 69 + "生", 1), ("a" * 159 + "生", 3), ("a" * 70 + "é", 1),  # one Chinese character makes it UCS-2
])
def test_segments_count_gsm7_and_ucs2(text, expected):
    assert r.segments(text) == expected


def test_emoji_counts_two_ucs2_units():
    assert r.segments("😀" * 35) == 1 and r.segments("😀" * 36) == 2


# ---- templates ------------------------------------------------------------------------------------


def test_default_templates_are_valid_in_every_language():
    for kind, by_lang in r.DEFAULT_TEMPLATES.items():
        for lang, text in by_lang.items():
            r.validate_template(text, lang)  # raises if not
            assert kind in r.PRIORITY


@pytest.mark.parametrize("text", ["{name} {coupon}", "{0} hi", "{name", "hi {name.upper}"])
def test_unknown_or_malformed_placeholders_are_refused(text):
    with pytest.raises(ValidationFailed) as exc:
        r.validate_template(text, "en")
    assert exc.value.field == "text"


def test_template_over_two_segments_with_long_values_is_refused():
    r.validate_template("生" * 120, "zh")
    with pytest.raises(ValidationFailed, match="segments"):
        r.validate_template("生" * 130 + "{name}", "zh")  # a 5-character name tips it over 134
    with pytest.raises(ValidationFailed, match="language"):
        r.validate_template("hi", "fr")


def test_render_fills_known_placeholders():
    assert r.render("{name} is {tier}", {"name": "Li", "tier": "gold"}) == "Li is gold"


# ---- quiet hours ----------------------------------------------------------------------------------

SH, NY, LON = ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York"), ZoneInfo("Europe/London")


@pytest.mark.parametrize(("utc_hour", "tz", "quiet"), [
    (2, SH, False),   # 10:00 Shanghai
    (13, SH, True),   # 21:00 Shanghai
    (0, SH, True),    # 08:00 Shanghai
    (1, SH, False),   # 09:00 Shanghai
    (14, NY, False),  # 09:00 New York (EST)
    (2, NY, True),    # 21:00 New York
    (20, LON, False), (21, LON, True),
])
def test_quiet_hours_in_the_members_zone(utc_hour, tz, quiet):
    assert r.in_quiet_hours(datetime(2026, 11, 23, utc_hour, tzinfo=UTC), tz) is quiet


def test_deferred_to_the_next_nine_oclock_local():
    late = datetime(2026, 11, 23, 15, tzinfo=UTC)  # 23:00 Shanghai
    assert r.next_allowed(late, SH) == datetime(2026, 11, 24, 9, tzinfo=SH)
    early = datetime(2026, 11, 23, 22, tzinfo=UTC)  # 06:00 Shanghai on the 24th
    assert r.next_allowed(early, SH) == datetime(2026, 11, 24, 9, tzinfo=SH)
    noon = datetime(2026, 11, 23, 4, tzinfo=UTC)
    assert r.next_allowed(noon, SH) == noon


def test_next_allowed_across_a_dst_change():
    # 2026-03-08: New York springs forward; 23:00 on the 7th -> 09:00 EDT (13:00 UTC) on the 8th
    late = datetime(2026, 3, 8, 4, tzinfo=UTC)
    assert r.next_allowed(late, NY).astimezone(UTC) == datetime(2026, 3, 8, 13, tzinfo=UTC)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
       st.sampled_from([SH, NY, LON, ZoneInfo("Pacific/Auckland")]))
def test_next_allowed_is_never_quiet_and_never_earlier(moment, tz):
    out = r.next_allowed(moment, tz)
    assert out >= moment and not r.in_quiet_hours(out, tz)
    assert out - moment <= timedelta(hours=13)


def test_invalid_time_zone_is_a_validation_error():
    with pytest.raises(ValidationFailed) as exc:
        r.zone("Mars/Olympus")
    assert exc.value.field == "timezone"


# ---- cap and priority ------------------------------------------------------------------------------


def test_cap_counts_the_rolling_seven_days():
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    assert r.within_cap([now - timedelta(days=1)], now)
    assert not r.within_cap([now - timedelta(days=1), now - timedelta(days=6)], now)
    assert r.within_cap([now - timedelta(days=1), now - timedelta(days=7)], now)
    assert not r.within_cap([], now, cap=0)


def test_priority_service_birthday_anniversary_holiday_promotion():
    c = [r.Candidate(k, k.value, {}) for k in (r.Kind.PROMOTION, r.Kind.HOLIDAY, r.Kind.ANNIVERSARY,
                                                r.Kind.BIRTHDAY, r.Kind.TIER_UPGRADE)]
    assert [x.kind for x in r.by_priority(c)] == [r.Kind.TIER_UPGRADE, r.Kind.BIRTHDAY, r.Kind.ANNIVERSARY,
                                                  r.Kind.HOLIDAY, r.Kind.PROMOTION]
    assert r.is_service(r.Kind.DOWNGRADE_WARNING) and not r.is_service(r.Kind.BIRTHDAY)


# ---- lunar and holidays ------------------------------------------------------------------------------


def test_lunar_birthday_maps_to_this_years_solar_date():
    from lunardate import LunarDate

    born = date(1990, 10, 3)  # lunar 1990-08-15 (Mid-Autumn)
    assert r.lunar_mmdd(born) == "0815"
    assert r.lunar_birthday_this_year(born, 2026) == date(2026, 9, 25)
    # born on lunar 02-30 (1990): 2026's 2nd month has 29 days -> celebrated on 02-29
    born_30 = LunarDate(1990, 2, 30).to_solar_date()
    assert r.lunar_birthday_this_year(born_30, 2026) == LunarDate(2026, 2, 29).to_solar_date()
    assert "0815" in r.lunar_keys_for(date(2026, 9, 25))


def test_lunar_day_30_is_celebrated_on_day_29_of_a_short_month():
    from lunardate import LunarDate

    # find a 29-day lunar month in 2026 and check its last day also answers for day 30
    for month in range(1, 13):
        try:
            LunarDate(2026, month, 30).to_solar_date()
        except ValueError:
            last = LunarDate(2026, month, 29).to_solar_date()
            assert f"{month:02d}30" in r.lunar_keys_for(last)
            return
    pytest.fail("no 29-day month in 2026")


def test_feb_29_birthdays_are_celebrated_on_feb_28_in_common_years():
    assert r.solar_keys_for(date(2027, 2, 28)) == ["0228", "0229"]
    assert r.solar_keys_for(date(2028, 2, 28)) == ["0228"]


def test_holidays_of_the_brands_country_and_brand_dates():
    assert r.holiday_today(date(2026, 10, 1), "CN") == "National Day"
    assert r.holiday_today(date(2026, 10, 1), "CN", language="zh") == "国庆节"
    assert r.holiday_today(date(2026, 10, 2), "CN") is None  # only the first day of Golden Week
    assert r.holiday_today(date(2026, 11, 23), "CN") is None
    assert r.holiday_today(date(2026, 11, 23), "CN", {"11-23": "会员日"}) == "会员日"
    assert r.holiday_today(date(2026, 7, 4), "US") is not None
    with pytest.raises(ValidationFailed):
        r.public_holidays("XX", 2026)


# ---- tasks ------------------------------------------------------------------------------------------


def test_cadence_periods_month_and_quarter():
    assert t.period_label(date(2026, 11, 23), 1) == "2026-11"
    assert t.period_label(date(2026, 11, 23), 3) == "2026-Q4"
    assert t.next_period_start(date(2026, 12, 5), 1) == date(2027, 1, 1)
    assert t.next_period_start(date(2026, 11, 5), 3) == date(2027, 1, 1)
    assert t.period_end(date(2026, 11, 5), 3) == date(2026, 12, 31)
    assert t.period_end(date(2026, 2, 5), 1) == date(2026, 2, 28)


def test_dormancy_is_gold_plus_without_purchase_for_90_days():
    now = datetime(2026, 11, 23, tzinfo=UTC)
    assert t.is_dormant("gold", now - timedelta(days=90), None, now)
    assert not t.is_dormant("gold", now - timedelta(days=89), None, now)
    assert not t.is_dormant("silver", now - timedelta(days=200), None, now)


def test_churn_score_spend_drop_complaints_and_dormancy():
    spend = {"2026-06": Decimal(1000), "2026-07": Decimal(1000), "2026-08": Decimal(1000)}
    full_drop = t.churn_score(spend, "2026-11", 0, False)
    assert full_drop.score == 50 and full_drop.high
    steady = {**spend, "2026-09": Decimal(1000), "2026-10": Decimal(1000), "2026-11": Decimal(1000)}
    assert t.churn_score(steady, "2026-11", 0, False).score == 0
    assert t.churn_score(steady, "2026-11", 1, True).score == 35
    assert t.churn_score({}, "2026-11", 5, True).score == 50

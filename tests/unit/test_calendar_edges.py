"""The rules at the calendar's edges: the UTC year end that is already the new year in
Shanghai, 29 February, the 31st of a month before a short one, and the day New York's
clocks change. Each test names the behaviour; the moments are chosen here, not read."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from vipcare.domain.months import month_of, window
from vipcare.domain.points import PointsLedger, expiry_month, expiry_notice_day, last_day
from vipcare.domain.reminders import in_quiet_hours, next_allowed, solar_keys_for
from vipcare.domain.tiers import DEFAULT_POLICY, Tier, TierState, add_months, local_day, renewed

NEW_YORK = ZoneInfo("America/New_York")
YEAR_END_UTC = datetime(2027, 12, 31, 23, 30, tzinfo=UTC)


def test_a_moment_in_utcs_last_half_hour_of_the_year_is_january_in_shanghai_and_december_in_new_york():
    assert month_of(YEAR_END_UTC, "Asia/Shanghai") == "2028-01"
    assert local_day(YEAR_END_UTC, "Asia/Shanghai") == date(2028, 1, 1)
    assert month_of(YEAR_END_UTC, "America/New_York") == "2027-12"


def test_the_12_month_window_from_january_reaches_back_into_the_previous_year():
    assert window("2028-01", 12) == tuple(f"2027-{m:02d}" for m in range(2, 13)) + ("2028-01",)


def test_points_earned_on_29_february_expire_at_the_end_of_the_24th_month():
    earned = month_of(datetime(2028, 2, 29, 12, tzinfo=UTC), "Asia/Shanghai")
    assert earned == "2028-02"
    assert expiry_month(earned, 24) == "2030-02"
    assert last_day("2030-02") == date(2030, 2, 28)  # 2030 is a common year
    assert expiry_notice_day(earned, 24) == date(2030, 1, 29)  # 30 days before
    lots = PointsLedger(lots={earned: 100})
    assert lots.balance("2030-02", 24) == 100 and lots.balance("2030-03", 24) == 0


def test_a_tier_won_on_29_february_is_valid_until_28_february_of_the_next_year():
    state = renewed(DEFAULT_POLICY, TierState(tier=Tier.REGULAR), Tier.GOLD, date(2028, 2, 29))
    assert state.valid_until == date(2029, 2, 28)


def test_a_month_after_the_31st_of_january_is_the_last_day_of_february():
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2027, 3, 31), -1) == date(2027, 2, 28)
    assert add_months(date(2027, 1, 31), 12) == date(2028, 1, 31)


def test_a_29_february_birthday_is_celebrated_on_28_february_in_a_common_year_and_once_in_a_leap_year():
    assert "0229" in solar_keys_for(date(2027, 2, 28))
    assert solar_keys_for(date(2028, 2, 28)) == ["0228"]
    assert solar_keys_for(date(2028, 2, 29)) == ["0229"]


def test_quiet_hours_end_at_nine_local_on_the_day_new_york_springs_forward():
    # 01:30 EST, half an hour before 02:00 becomes 03:00 EDT
    night = datetime(2027, 3, 14, 6, 30, tzinfo=UTC)
    assert in_quiet_hours(night, NEW_YORK)
    morning = next_allowed(night, NEW_YORK)
    assert morning.astimezone(NEW_YORK).hour == 9
    assert morning.astimezone(UTC) == datetime(2027, 3, 14, 13, 0, tzinfo=UTC)  # 09:00 EDT is UTC-4
    assert morning - night == timedelta(hours=6, minutes=30)  # not 7h30: the day has 23 hours


def test_quiet_hours_end_at_nine_local_on_the_day_new_york_falls_back():
    night = datetime(2027, 11, 7, 5, 30, tzinfo=UTC)  # 01:30 EDT, the first of two 01:30s
    morning = next_allowed(night, NEW_YORK)
    assert morning.astimezone(UTC) == datetime(2027, 11, 7, 14, 0, tzinfo=UTC)  # 09:00 EST is UTC-5

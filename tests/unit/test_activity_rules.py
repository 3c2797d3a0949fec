"""Activity rules (domain/activities.py): working days, the feedback's due day and lateness, what a
valid plan is, who may reply; and the KPI block's rates stay shares."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vipcare.domain import activities as rules
from vipcare.domain.activities import ActivityKind, Counts, Feedback
from vipcare.domain.errors import Conflict, ValidationFailed
from vipcare.domain.kpis import COUNTERS, activity_figures
from vipcare.domain.segments import MemberFilters

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_working_days_skip_weekends():
    friday = date(2026, 11, 20)
    assert friday.weekday() == 4
    assert rules.add_working_days(friday, 1, "CN") == date(2026, 11, 23)  # Monday
    assert rules.add_working_days(friday, 5, "CN") == date(2026, 11, 27)


def test_working_days_skip_the_national_day_holidays():
    # 1-7 October are public holidays in China: feedback on a salon of 30 September is due
    # on the 5th working day after them
    due = rules.feedback_due(datetime(2026, 9, 30, 18, tzinfo=SHANGHAI), SHANGHAI, "CN")
    assert due > date(2026, 10, 7)
    assert all(not rules.is_working_day(date(2026, 10, d), "CN") for d in range(1, 6))
    between = [date(2026, 10, 1) + timedelta(days=i) for i in range((due - date(2026, 10, 1)).days)]
    assert sum(rules.is_working_day(d, "CN") for d in between) == 4  # the due day is the 5th


def test_the_end_counts_in_brand_time():
    # 17:30 UTC on a Friday is already Saturday in Shanghai: the count starts from Saturday
    end = datetime(2026, 11, 20, 17, 30, tzinfo=UTC)
    assert rules.feedback_due(end, SHANGHAI, "CN") == rules.add_working_days(date(2026, 11, 21), 5, "CN")


def test_late_means_after_the_due_day_in_brand_time():
    due = date(2026, 11, 27)
    assert not rules.is_late(due, datetime(2026, 11, 27, 23, 59, tzinfo=SHANGHAI), SHANGHAI)
    assert rules.is_late(due, datetime(2026, 11, 28, 0, 0, tzinfo=SHANGHAI), SHANGHAI)
    assert rules.end_of_day(due, SHANGHAI) == datetime(2026, 11, 28, tzinfo=SHANGHAI)


NOW = datetime(2026, 11, 2, 10, tzinfo=UTC)
START = NOW + timedelta(days=10)


@pytest.mark.parametrize(("change", "field"), [
    ({"name": "  "}, "name"),
    ({"name": "x" * 81}, "name"),
    ({"ends_at": START}, "ends_at"),
    ({"ends_at": NOW - timedelta(hours=1), "starts_at": NOW - timedelta(hours=3),
      "send_at": NOW - timedelta(days=1)}, "ends_at"),
    ({"starts_at": NOW + timedelta(days=400), "ends_at": NOW + timedelta(days=401)}, "starts_at"),
    ({"send_at": START}, "invitation.send_at"),
    ({"capacity": 0}, "capacity"),
    ({"starts_at": START.replace(tzinfo=None)}, "starts_at"),
])
def test_a_bad_plan_names_its_field(change, field):
    plan = {"name": "Salon", "starts_at": START, "ends_at": START + timedelta(hours=2),
            "send_at": NOW + timedelta(days=1), "capacity": None, **change}
    with pytest.raises(ValidationFailed) as err:
        rules.validate(plan["name"], plan["starts_at"], plan["ends_at"], plan["send_at"], plan["capacity"], NOW)
    assert err.value.field == field


def activity(kind: ActivityKind = ActivityKind.SALON) -> rules.Activity:
    return rules.Activity(brand_id="b", activity_id="a", name="x", kind=kind, store_id=None, starts_at=START,
                          ends_at=START + timedelta(hours=2), capacity=None, filters=MemberFilters(),
                          segment_id=None, text="hi", send_at=NOW, organiser_id="s", created_at=NOW, period="2026-11",
                          feedback=Feedback(due_on=date(2026, 11, 20)))


def test_a_notice_takes_no_replies_and_nobody_replies_after_the_end():
    with pytest.raises(Conflict):
        rules.check_reply(activity(ActivityKind.NOTICE), NOW)
    with pytest.raises(Conflict):
        rules.check_reply(activity(), START + timedelta(hours=3))
    rules.check_reply(activity(), NOW)


def test_satisfied_guests_are_at_most_those_who_came():
    rules.check_satisfied(3, 3)
    with pytest.raises(ValidationFailed) as err:
        rules.check_satisfied(4, 3)
    assert err.value.field == "satisfied_count"


def test_the_invitation_key_names_the_activity():
    assert rules.activity_of(rules.occasion_key("act-1")) == "act-1"
    assert rules.activity_of("birthday#2026") is None
    assert Counts().sent == 0


@given(vips=st.integers(0, 10_000), invited_share=st.floats(0, 1), carried_share=st.floats(0, 1),
       sent=st.integers(0, 10_000), came_share=st.floats(0, 1), ended=st.integers(0, 50), on_time_share=st.floats(0, 1))
def test_activity_rates_are_shares_of_a_set_holding_their_numerator(vips, invited_share, carried_share, sent,
                                                                   came_share, ended, on_time_share):
    carried = int(vips * carried_share)
    newly = int((vips - carried) * invited_share)  # each VIP is flagged once: carried or new
    c = {n: 0 for n in COUNTERS} | {
        "vips_at_start": vips, "activity_vips_carried": carried, "activity_vips_invited": newly,
        "activity_invited": sent, "activity_attended": int(sent * came_share), "activities_ended": ended,
        "activity_feedback_on_time": int(ended * on_time_share)}
    block = activity_figures(c)
    for name in ("coverage", "participation", "feedback_on_time_rate"):
        value = block[name]
        assert value is None or 0 <= float(str(value)) <= 1, (name, value)
    assert (block["coverage"] is None) == (vips == 0)

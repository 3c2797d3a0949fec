"""The care use cases against in-memory collaborators (tests/support/care_fakes.py): the
decisions of the reminder job and the task escalation, without DynamoDB or SNS. The same
flows through moto are in tests/integration/test_reminders.py; these run in milliseconds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import pytest

from tests.support import clock
from tests.support.care_fakes import FakeAudiences, FakeKpis, FakeMembers, FakeMessages, RecordingSms, fake_care
from vipcare.domain import reminders as rules
from vipcare.domain.access import Role
from vipcare.domain.directory import BrandSettings, Staff
from vipcare.domain.members import Consent, Member, Tier
from vipcare.domain.reminders import Kind, Message, Status
from vipcare.domain.tasks import TaskKind
from vipcare.services.brands import forget_cached_brands
from vipcare.services.care_ports import CareDeps
from vipcare.services.reminders import Dispatcher, run_dispatch
from vipcare.services.tasks import TaskRun

BRAND = "fakes"


@pytest.fixture(autouse=True)
def _fresh_brand_cache():
    forget_cached_brands()
    yield
    forget_cached_brands()


def ordinary_day() -> date:
    """The first day from the test's today on that is no holiday where the brand is (a holiday
    would add greetings to every run)."""
    today = clock.local_day(clock.now())
    holidays = rules.public_holidays("CN", today.year) | rules.public_holidays("CN", today.year + 1)
    return next(today + timedelta(days=n) for n in range(30) if today + timedelta(days=n) not in holidays)


DAY = ordinary_day()


def at(hour: int, day: date = DAY) -> datetime:
    return clock.at_local(day, hour).astimezone(UTC)


def member(n: int, *, consent: bool = True, tier: Tier = Tier.REGULAR, manager: str | None = None) -> Member:
    moment = at(9) - timedelta(days=400)
    return Member(member_id=f"m{n}", brand_id=BRAND, store_id="s1", member_no=f"N{n}", name=f"Member {n}",
                  phone=f"+86138000000{n:02d}", enrolled_at=moment, updated_at=moment,
                  consent=Consent(sms_marketing=consent, updated_at=moment, source="test"),
                  birthday=DAY.replace(year=1990) if (DAY.month, DAY.day) != (2, 29) else date(1992, 2, 29),
                  tier=tier, manager_id=manager)


def care(*members: Member, staff: tuple[Staff, ...] = (), **settings: Any) -> CareDeps:
    brand = BrandSettings(brand_id=BRAND, name="Fake Brand", timezone=str(clock.brand_zone()))
    deps = fake_care(brand, *members, staff=staff, settings={"country": "CN", **settings})
    audiences = cast(FakeAudiences, deps.audiences)
    for m in members:  # everyone's birthday is DAY
        assert m.birthday is not None
        audiences.birthday.setdefault((rules.mmdd(m.birthday), False), []).append((BRAND, m.member_id))
    return deps


def records(deps: CareDeps, kind: Kind = Kind.BIRTHDAY) -> list[Message]:
    return [m for m in cast(FakeMessages, deps.messages).records.values() if m.kind is kind]


def texts(deps: CareDeps) -> list[tuple[str, str]]:
    return cast(RecordingSms, deps.sms).texts


def test_a_birthday_is_sent_once_however_often_the_job_runs():
    deps = care(member(1))
    first = run_dispatch(at(10), deps)
    again = run_dispatch(at(11), deps)
    [record] = records(deps)
    assert (record.status, record.attempts, record.due_at) == (Status.SENT, 1, None)
    assert record.text is not None and "Member 1" in record.text
    assert (first.outcomes["sent"], again.outcomes["duplicate"], len(texts(deps))) == (1, 1, 1)
    period = f"{DAY.year}-{DAY.month:02d}"
    assert cast(FakeKpis, deps.kpis).counts[(BRAND, period, "s1")] == {"sms_sent": 1}


def test_quiet_hours_defer_to_nine_and_the_morning_run_sends():
    deps = care(member(1))
    late = at(22, DAY - timedelta(days=1)) + timedelta(hours=3)  # 01:00 on DAY, brand time
    run_dispatch(late, deps)
    [deferred] = records(deps)
    nine = clock.at_local(DAY, 9)
    assert (deferred.status, deferred.reason, deferred.due_at) == (Status.DEFERRED, "quiet_hours", nine)
    assert texts(deps) == []
    run_dispatch(nine + timedelta(minutes=5), deps)
    [sent] = records(deps)
    assert sent.status is Status.SENT and len(texts(deps)) == 1


def test_marketing_needs_consent_but_a_tier_upgrade_notice_does_not():
    silent = member(1, consent=False)
    deps = care(silent)
    run_dispatch(at(10), deps)
    [birthday] = records(deps)
    assert (birthday.status, birthday.reason) == (Status.SUPPRESSED, "no_consent")
    event = {"event_id": "e1", "brand_id": BRAND, "member_id": "m1", "from": "regular", "to": "silver"}
    assert Dispatcher(at(10), deps).on_event("TierChanged", event) == "sent"
    assert [t for _, t in texts(deps)] == [records(deps, Kind.TIER_UPGRADE)[0].text]


def test_a_stop_reply_suppresses_marketing_and_is_kept_on_the_member():
    deps = care(member(1))
    cast(RecordingSms, deps.sms).opted_out_phones.add("+8613800000001")
    run_dispatch(at(10), deps)
    [record] = records(deps)
    assert (record.status, record.reason) == (Status.SUPPRESSED, "opted_out")
    assert cast(FakeMembers, deps.members).opted_out == [(BRAND, "m1")]


def test_the_weekly_cap_counts_marketing_sent_in_the_last_seven_days():
    deps = care(member(1), weekly_cap=1)
    earlier = at(10) - timedelta(days=3)
    deps.messages.add(Message(brand_id=BRAND, member_id="m1", kind=Kind.PROMOTION, occasion_key="promotion#p1",
                              status=Status.SENT, created_at=earlier, updated_at=earlier, sent_at=earlier))
    run_dispatch(at(10), deps)
    [record] = records(deps)
    assert (record.status, record.reason) == (Status.CAPPED, "weekly_cap_1")


def test_the_daily_budget_defers_the_rest_to_the_next_morning():
    deps = care(member(1), member(2), daily_budget=1)
    run_dispatch(at(10), deps)
    statuses = sorted((m.status.value, m.reason or "") for m in records(deps))
    assert statuses == [("deferred", "daily_budget"), ("sent", "")]
    run_dispatch(at(10) + timedelta(hours=2), deps)  # same day: still spent
    assert len(texts(deps)) == 1
    run_dispatch(at(9, DAY + timedelta(days=1)) + timedelta(minutes=5), deps)
    assert [m.status for m in records(deps)] == [Status.SENT, Status.SENT] and len(texts(deps)) == 2


def test_a_failed_send_is_retried_hourly_and_given_up_after_five_attempts():
    deps = care(member(1))
    sms = cast(RecordingSms, deps.sms)
    sms.fail = True
    moment = at(10)
    run_dispatch(moment, deps)
    for hour in range(1, 6):
        run_dispatch(moment + timedelta(hours=hour, minutes=1), deps)
    [record] = records(deps)
    assert (record.status, record.reason, record.attempts, record.due_at) == (Status.FAILED, "publish_failed", 5,
                                                                              None)
    sms.fail = False
    run_dispatch(moment + timedelta(hours=7), deps)
    assert texts(deps) == []  # never a sixth attempt


def test_an_open_task_goes_up_to_the_supervisor_after_seven_days_once():
    made = at(9) - timedelta(days=30)
    boss = Staff(brand_id=BRAND, staff_id="boss", name="Boss", role=Role.SUPERVISOR, store_id="s1",
                 created_at=made, updated_at=made)
    mgr = Staff(brand_id=BRAND, staff_id="mgr", name="Mgr", role=Role.MANAGER, store_id="s1", created_at=made,
                updated_at=made, supervisor_id="boss", capacity=10)
    deps = care(member(1, tier=Tier.GOLD, manager="mgr"), staff=(boss, mgr))
    start = at(10)
    runner = TaskRun(start, deps)
    gold = deps.members.get(BRAND, "m1")
    assert gold is not None
    assert runner.raise_task(gold, TaskKind.CADENCE, "p1", "monthly contact")
    assert not runner.raise_task(gold, TaskKind.CADENCE, "p1", "again")
    assert TaskRun(start + timedelta(days=6), deps).escalate() == 0
    assert TaskRun(start + timedelta(days=7, minutes=1), deps).escalate() == 1
    assert TaskRun(start + timedelta(days=15), deps).escalate() == 0  # one step per task
    [task] = deps.tasks.of_member(BRAND, "m1")
    assert (task.assignee, task.escalated) == ("boss", 1)
    sms = cast(RecordingSms, deps.sms)
    assert [(e["event"], e["assignee"]) for e in sms.staff] == [("task_assigned", "mgr"), ("task_escalated", "boss")]


def test_a_holiday_greets_every_consenting_member_once_across_pages_and_runs():
    people = [member(n) for n in range(1, 251)]
    deps = care(*people, brand_dates={DAY.strftime("%m-%d"): "Brand Day"})
    cast(FakeAudiences, deps.audiences).birthday.clear()  # only the holiday today
    cast(FakeAudiences, deps.audiences).consenting[BRAND] = [(BRAND, p.member_id) for p in people]
    stopped = Dispatcher(at(10), deps, deadline=0.0).dispatch()  # out of time before the first page
    assert stopped.outcomes.get("sent", 0) == 0
    first = run_dispatch(at(11), deps)
    again = run_dispatch(at(12), deps)
    assert (first.outcomes["sent"], again.outcomes.get("sent", 0)) == (250, 0)
    assert len(records(deps, Kind.HOLIDAY)) == 250 and len(texts(deps)) == 250
    assert deps.messages.holiday_run(BRAND, DAY).done

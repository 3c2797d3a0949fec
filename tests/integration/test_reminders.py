"""The reminder job, tier notices from the bus, and the care routes, against moto."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import boto3
import pytest

from infra.local import resources
from infra.local.lambdas import LambdaContext, handler_for
from tests.support import clock
from tests.support.api import ADMIN, OTHER_BRAND_ADMIN, call, claims_for, enrol, listed
from tests.support.queues import drain


def at_local(year: int, month: int, day: int, hour: int) -> datetime:
    """`hour` o'clock of a day on the test brand's clock (Shanghai, or New York on the DST run)."""
    return clock.at_local(date(year, month, day), hour)


def sms() -> list[tuple[str, str]]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    return list(sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages.values())


def run_job(moment: datetime) -> dict:
    from vipcare.services.reminders import run_dispatch
    from vipcare.wiring import care

    return run_dispatch(moment, care()).as_dict()


def scheduled(moment: datetime) -> dict:
    event = {"source": "aws.events", "detail-type": "Scheduled Event",
             "time": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "detail": {}}
    return handler_for("functions/reminder_dispatch/", "app.handler")(event, LambdaContext())


def messages(member_id: str, claims=ADMIN) -> list[dict]:
    return listed(f"/members/{member_id}/messages", "messages", claims=claims)


def member(phone: str, *, consent: bool = True, **fields) -> str:
    r = enrol(phone=phone, consent={"sms_marketing": consent}, **fields)
    assert r.status == 201, r.body
    return r.body["member_id"]


def set_profile(member_id: str, **values) -> None:
    from vipcare.store.models import MemberItem, member_pk

    item = MemberItem(member_pk("demo", member_id), "PROFILE")
    item.update(actions=[getattr(MemberItem, k).set(v) for k, v in values.items()])


def tier_event(member_id: str, to: str, moment: datetime, frm: str = "regular", event_id: str = "e-1") -> dict:
    body = {"detail-type": "TierChanged", "time": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "detail": {"event_id": event_id, "from": frm, "to": to, "member_id": member_id, "brand_id": "demo"}}
    return {"Records": [{"messageId": "m-1", "receiptHandle": "r", "body": json.dumps(body), "attributes": {},
                         "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                         "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1"}]}


def consume(event: dict) -> dict:
    return handler_for("functions/reminder_dispatch/", "app.handler")(event, LambdaContext())


# ---- birthdays ------------------------------------------------------------------------------------


def test_birthday_sends_exactly_one_sms_at_ten_even_when_the_job_runs_twice(directory):
    mid = member("13800138001", birthday="1990-11-23")
    scheduled(at_local(2026, 11, 23, 10))
    scheduled(at_local(2026, 11, 23, 10))
    scheduled(at_local(2026, 11, 23, 11))
    sent = [m for p, m in sms() if p == "+8613800138001"]
    assert len(sent) == 1 and "Li Na" in sent[0]
    [record] = messages(mid)
    assert record["status"] == "sent" and record["kind"] == "birthday" and record["occasion_key"] == "birthday#2026"


def test_birthday_found_at_23h_is_deferred_and_sent_next_morning(directory):
    mid = member("13800138002", birthday="1985-11-23")
    out = run_job(at_local(2026, 11, 23, 23))
    assert out.get("deferred") == 1 and sms() == []
    [record] = messages(mid)
    assert record["status"] == "deferred" and record["reason"] == "quiet_hours"
    assert datetime.fromisoformat(record["next_attempt_at"]) == at_local(2026, 11, 24, 9)  # quiet hours end
    run_job(at_local(2026, 11, 24, 8))  # still quiet
    assert sms() == []
    run_job(at_local(2026, 11, 24, 9))
    run_job(at_local(2026, 11, 24, 10))
    assert len(sms()) == 1
    assert messages(mid)[0]["status"] == "sent"


def test_birthday_of_another_day_or_before_nine_sends_nothing(directory):
    member("13800138003", birthday="1990-11-24")
    run_job(at_local(2026, 11, 23, 12))
    assert sms() == []


def test_no_consent_suppresses_greetings_but_the_tier_upgrade_notice_is_sent(directory):
    mid = member("13800138004", consent=False, birthday="1990-11-23")
    run_job(at_local(2026, 11, 23, 10))
    assert sms() == []
    [record] = messages(mid)
    assert (record["status"], record["reason"]) == ("suppressed", "no_consent")
    result = consume(tier_event(mid, "silver", at_local(2026, 11, 23, 12)))
    assert result == {"batchItemFailures": []}
    [(phone, text)] = sms()
    assert phone == "+8613800138004" and "银卡" in text
    upgrade = [m for m in messages(mid) if m["kind"] == "tier_upgrade"]
    assert upgrade[0]["status"] == "sent" and upgrade[0]["category"] == "service"
    consume(tier_event(mid, "silver", at_local(2026, 11, 23, 12)))  # redelivered event
    assert len(sms()) == 1


def test_service_sms_is_transactional_and_marketing_promotional(directory, monkeypatch):
    from vipcare.notify.sns import SnsNotifier

    seen: list[str] = []
    original = SnsNotifier.send_sms

    def spy(self, phone, text, *, marketing=False):
        seen.append("Promotional" if marketing else "Transactional")
        return original(self, phone, text, marketing=marketing)

    monkeypatch.setattr(SnsNotifier, "send_sms", spy)
    mid = member("13800138005", birthday="1990-11-23")
    run_job(at_local(2026, 11, 23, 10))
    consume(tier_event(mid, "gold", at_local(2026, 11, 23, 12)))
    assert seen == ["Promotional", "Transactional"]


def test_third_marketing_message_in_seven_days_is_capped(directory):
    # Birthday on the 21st, anniversary on the 22nd, both sent; a holiday-and-birthday member
    # shows the priority below. Here: the third occasion (brand date on the 23rd) is capped.
    call("PUT", "/care/settings", {"brand_dates": {"11-23": "会员日"}}, claims=ADMIN)
    mid = member("13800138006", birthday="1990-11-21", anniversary="2015-11-22")
    run_job(at_local(2026, 11, 21, 10))
    run_job(at_local(2026, 11, 22, 10))
    assert len(sms()) == 2
    set_profile(mid, birthday=date(1990, 11, 23), bday_key="BDAY#S#1123")
    run_job(at_local(2026, 11, 23, 10))
    assert len(sms()) == 2
    by_kind = {m["occasion_key"]: m for m in messages(mid)}
    assert by_kind["birthday#2026"]["status"] == "sent"  # the first birthday record stands
    capped = by_kind["holiday#2026-11-23"]
    assert (capped["status"], capped["reason"]) == ("capped", "weekly_cap_2")
    run_job(at_local(2026, 11, 30, 10))  # a week later the window has room again (nothing due)


def test_when_capped_birthday_wins_over_holiday(directory):
    from vipcare.domain.reminders import Kind, Message, Status
    from vipcare.wiring import care

    mid = member("13800138007", birthday="1990-10-01")  # National Day in CN
    earlier = at_local(2026, 9, 28, 10)
    care().messages.add(Message(brand_id="demo", member_id=mid, kind=Kind.PROMOTION, occasion_key="promotion#x",
                                status=Status.SENT, created_at=earlier, updated_at=earlier, sent_at=earlier))
    run_job(at_local(2026, 10, 1, 10))
    status = {m["kind"]: m["status"] for m in messages(mid)}
    assert status == {"promotion": "sent", "birthday": "sent", "holiday": "capped"}
    assert len(sms()) == 1


def test_lunar_birthday_is_celebrated_on_this_years_solar_date(directory):
    from lunardate import LunarDate

    born = LunarDate(1990, 8, 15).to_solar_date()  # Mid-Autumn 1990
    this_year = LunarDate(2026, 8, 15).to_solar_date()
    mid = member("13800138008", birthday=born.isoformat(), birthday_lunar=True)
    run_job(at_local(born.replace(year=2026).year, born.month, born.day, 10) if born.replace(year=2026)
            != this_year else at_local(2026, 1, 1, 10))
    assert [m for m in messages(mid) if m["kind"] == "birthday"] == []
    run_job(at_local(this_year.year, this_year.month, this_year.day, 10))
    assert [m["status"] for m in messages(mid) if m["kind"] == "birthday"] == ["sent"]


def test_profile_edit_moves_the_birthday_index(directory):
    mid = member("13800138009", birthday="1990-01-01")
    assert call("PATCH", f"/members/{mid}", {"birthday": "1990-11-23"}, claims=ADMIN).status == 200
    run_job(at_local(2026, 11, 23, 10))
    assert len(sms()) == 1
    assert call("PATCH", f"/members/{mid}", {"birthday": None}, claims=ADMIN).status == 200
    run_job(at_local(2027, 11, 23, 10))
    assert len(sms()) == 1


def test_opted_out_phone_is_suppressed_and_recorded_on_the_member(directory):
    from vipcare.store.models import MemberItem, member_pk

    mid = member("13800138099", birthday="1990-11-23")  # moto: numbers ending 99 opted out
    run_job(at_local(2026, 11, 23, 10))
    assert sms() == []
    assert (messages(mid)[0]["status"], messages(mid)[0]["reason"]) == ("suppressed", "opted_out")
    assert MemberItem.get(member_pk("demo", mid), "PROFILE").sms_opted_out is True


def test_daily_budget_defers_the_rest_to_tomorrow(directory):
    assert call("PUT", "/care/settings", {"daily_budget": 1}, claims=ADMIN).status == 200
    a = member("13800138010", birthday="1990-11-23")
    b = member("13800138011", birthday="1991-11-23")
    run_job(at_local(2026, 11, 23, 10))
    assert len(sms()) == 1
    statuses = sorted(messages(a)[0]["status"] for _ in [0]) + [messages(b)[0]["status"]]
    assert sorted(statuses) == ["deferred", "sent"]
    run_job(at_local(2026, 11, 24, 10))
    assert len(sms()) == 2


def test_failed_publish_is_retried_on_a_later_run_without_duplicating(directory):
    from vipcare.notify.sns import SnsNotifier
    from vipcare.services.reminders import run_dispatch
    from vipcare.wiring import care

    class Broken(SnsNotifier):
        def send_sms(self, phone, text, *, marketing=False):
            raise RuntimeError("throttled")

    mid = member("13800138012", birthday="1990-11-23")
    run_dispatch(at_local(2026, 11, 23, 10), care(sms=Broken()))
    assert sms() == [] and messages(mid)[0]["status"] == "failed"
    run_job(at_local(2026, 11, 23, 10) + timedelta(minutes=30))  # not yet due
    assert sms() == []
    run_job(at_local(2026, 11, 23, 11))
    run_job(at_local(2026, 11, 23, 12))
    assert len(sms()) == 1
    [record] = messages(mid)
    assert record["status"] == "sent" and record["attempts"] == 2


def test_a_run_that_died_after_publishing_is_marked_unconfirmed_and_never_sent_again(directory):
    from vipcare.notify.sns import SnsNotifier
    from vipcare.services.reminders import run_dispatch
    from vipcare.wiring import care

    class Crash(BaseException):
        """The function's process ends (timeout, OOM): nothing after Publish is recorded."""

    class DiesAfterPublish(SnsNotifier):
        def send_sms(self, phone, text, *, marketing=False):
            super().send_sms(phone, text, marketing=marketing)
            raise Crash()

    mid = member("13800138013", birthday="1990-11-23")
    with pytest.raises(Crash):
        run_dispatch(at_local(2026, 11, 23, 10), care(sms=DiesAfterPublish()))
    assert len(sms()) == 1 and messages(mid)[0]["status"] == "sending"
    run_job(at_local(2026, 11, 23, 10) + timedelta(minutes=5))  # still within the function's time
    assert messages(mid)[0]["status"] == "sending"
    outcome = run_job(at_local(2026, 11, 23, 11))
    [record] = messages(mid)
    assert (record["status"], record["reason"]) == ("failed", "unconfirmed")
    assert outcome.get("unconfirmed") == 1
    run_job(at_local(2026, 11, 23, 12))
    assert len(sms()) == 1  # at most once: the SMS may have gone out, a second would be worse


def test_tier_events_reach_the_function_through_the_bus_and_queue(directory):
    mid = member("13800138013", consent=False)
    events = boto3.client("events", region_name="us-east-1")
    events.put_events(Entries=[{"Source": "vipcare", "DetailType": "TierChanged",
                                "EventBusName": resources.physical_names()["VipBus"],
                                "Detail": json.dumps({"event_id": "bus-1", "from": "regular", "to": "silver",
                                                      "member_id": mid, "brand_id": "demo"})}])
    assert drain() >= 1
    kinds = [m["kind"] for m in messages(mid)]
    assert kinds == ["tier_upgrade"]


def test_downgrade_warning_is_a_service_message(directory):
    mid = member("13800138014", consent=False)
    body = {"detail-type": "TierDowngradeWarning", "time": at_local(2026, 11, 23, 12).isoformat(),
            "detail": {"event_id": "w-1", "member_id": mid, "brand_id": "demo", "tier": "gold", "to": "silver",
                       "downgrade_on": "2026-12-23", "spend_needed": "1200.00"}}
    event = tier_event(mid, "gold", at_local(2026, 11, 23, 12))
    event["Records"][0]["body"] = json.dumps(body)
    consume(event)
    [(_, text)] = sms()
    assert "2026-12-23" in text and "1200.00" in text


# ---- templates and settings -----------------------------------------------------------------------


def test_template_with_unknown_placeholder_or_over_two_segments_is_refused(directory):
    r = call("PUT", "/care/templates/birthday/zh", {"text": "{name}，生日快乐 {coupon}"}, claims=ADMIN)
    assert r.status == 422 and r.field_names() == ["text"]
    r = call("PUT", "/care/templates/birthday/zh", {"text": "生日快乐" * 35}, claims=ADMIN)
    assert r.status == 422 and "segments" in r.body["message"]
    r = call("PUT", "/care/templates/birthday/xx", {"text": "hi {name}"}, claims=ADMIN)
    assert r.status == 422
    r = call("PUT", "/care/templates/birthday/en", {"text": "Happy birthday {name}, from {brand}"}, claims=ADMIN)
    assert r.status == 200 and r.body["segments"] == 1
    clerk = claims_for(role="store_staff", store_id="demo-001", staff_id="clerk-1")
    assert call("PUT", "/care/templates/birthday/en", {"text": "x {name}"}, claims=clerk).status == 403


def test_brand_template_and_language_are_used(directory):
    assert call("PUT", "/care/settings", {"language": "en"}, claims=ADMIN).status == 200
    assert call("PUT", "/care/templates/birthday/en", {"text": "Dear {name}, happy birthday ({tier})"},
                claims=ADMIN).status == 200
    member("13800138015", birthday="1990-11-23")
    run_job(at_local(2026, 11, 23, 10))
    assert [t for _, t in sms()] == ["Dear Li Na, happy birthday (regular)"]


def test_invalid_time_zone_is_refused_and_nothing_written(directory):
    r = call("PUT", "/care/settings", {"timezone": "Mars/Olympus", "daily_budget": 0}, claims=ADMIN)
    assert r.status == 422 and r.field_names() == ["timezone"]
    member("13800138016", birthday="1990-11-23")
    run_job(at_local(2026, 11, 23, 10))
    assert len(sms()) == 1  # the budget of 0 was not stored


def test_quiet_hours_follow_the_brands_time_zone(directory):
    assert call("PUT", "/care/settings", {"timezone": "America/New_York"}, claims=ADMIN).status == 200
    mid = member("13800138017", birthday="1990-11-23")
    # 10:00 in Shanghai is 21:00 the day before in New York: not the birthday there yet.
    run_job(datetime(2026, 11, 23, 2, tzinfo=UTC))
    assert messages(mid) == []
    run_job(datetime(2026, 11, 23, 15, tzinfo=UTC))  # 10:00 New York
    assert [m["status"] for m in messages(mid)] == ["sent"]


def test_messages_of_another_brands_member_are_not_found(directory):
    mid = member("13800138018")
    assert call("GET", f"/members/{mid}/messages", claims=OTHER_BRAND_ADMIN).status == 404


# ---- manager tasks ---------------------------------------------------------------------------------


def gold_member(phone: str, manager: str = "mgr-1", moment: datetime | None = None) -> str:
    mid = member(phone)
    set_profile(mid, tier="gold", manager_id=manager)
    consume(tier_event(mid, "gold", moment or at_local(2026, 11, 2, 12), event_id=f"t-{mid}"))
    return mid


def tasks_of(staff_id: str) -> list[dict]:
    return listed(f"/staff/{staff_id}/tasks", "tasks")


def test_gold_member_without_contact_this_month_gives_one_task_to_the_manager(directory):
    mid = gold_member("13800138020")
    run_job(at_local(2026, 11, 2, 13))
    run_job(at_local(2026, 11, 2, 14))
    run_job(at_local(2026, 11, 5, 10))
    cadence = [t for t in tasks_of("mgr-1") if t["kind"] == "cadence"]
    assert len(cadence) == 1
    assert (cadence[0]["member_id"], cadence[0]["task_id"], cadence[0]["status"]) == (mid, "cadence.2026-11", "open")


def test_contact_completes_the_cadence_task_and_a_second_completion_is_a_conflict(directory):
    mid = gold_member("13800138021")
    run_job(at_local(2026, 11, 2, 13))
    r = call("POST", f"/members/{mid}/contacts", {"contacted_on": "2026-11-23", "channel": "phone",
                                                    "notes": "called", "next_action": "invite to event"},
             claims=ADMIN)
    assert r.status == 201 and r.body["completed_task_id"] == "cadence.2026-11"
    assert [t["status"] for t in tasks_of("mgr-1")] == ["done"]
    r = call("POST", f"/members/{mid}/tasks/cadence.2026-11/complete", claims=ADMIN)
    assert r.status == 409
    contacts = listed(f"/members/{mid}/contacts", "contacts")
    assert [c["channel"] for c in contacts] == ["phone"]
    # Next month's review raises next month's task.
    run_job(at_local(2026, 12, 1, 10))
    assert sorted(t["task_id"] for t in tasks_of("mgr-1")) == ["cadence.2026-11", "cadence.2026-12"]


def test_contact_before_the_review_means_no_task_that_month(directory):
    from vipcare.domain.tasks import next_period_start

    now = clock.now()
    mid = gold_member("13800138022", moment=now)  # review due today
    today = clock.local_day(now)
    r = call("POST", f"/members/{mid}/contacts", {"contacted_on": today.isoformat(), "channel": "visit"},
             claims=ADMIN)
    assert r.status == 201 and r.body["completed_task_id"] is None
    run_job(now)
    assert tasks_of("mgr-1") == []
    following = next_period_start(today, 1)
    run_job(at_local(following.year, following.month, following.day, 10))
    assert [t["task_id"] for t in tasks_of("mgr-1")] == [f"cadence.{following.year}-{following.month:02d}"]


def test_contact_in_the_future_or_for_another_brand_is_refused(directory):
    mid = member("13800138023")
    future = (clock.now() + timedelta(days=3)).date().isoformat()
    r = call("POST", f"/members/{mid}/contacts", {"contacted_on": future, "channel": "visit"}, claims=ADMIN)
    assert r.status == 422 and r.field_names() == ["contacted_on"]
    r = call("POST", f"/members/{mid}/contacts", {"contacted_on": "2026-01-01", "channel": "visit"},
             claims=OTHER_BRAND_ADMIN)
    assert r.status == 404
    assert listed(f"/members/{mid}/contacts", "contacts") == []


def test_task_goes_to_the_supervisor_when_the_manager_is_on_leave(directory):
    assert call("PATCH", "/staff/mgr-1", {"on_leave": True}, claims=ADMIN).status == 200
    gold_member("13800138024")
    run_job(at_local(2026, 11, 2, 13))
    assert tasks_of("mgr-1") == []
    assert [t["kind"] for t in tasks_of("sup-1")] == ["cadence"]


def test_open_task_escalates_to_the_supervisor_after_seven_days(directory):
    gold_member("13800138025")
    run_job(at_local(2026, 11, 2, 13))
    run_job(at_local(2026, 11, 8, 13))
    assert len(tasks_of("mgr-1")) == 1
    run_job(at_local(2026, 11, 9, 14))
    assert tasks_of("mgr-1") == []
    [task] = tasks_of("sup-1")
    assert task["escalated"] == 1 and task["assignee"] == "sup-1"


def test_dormant_gold_member_raises_dormancy_and_retention_tasks(directory):
    gold_member("13800138026")  # enrolled now, no purchase since: dormant 90 days on
    later = clock.now() + timedelta(days=120)
    from vipcare.domain.tasks import Cadence
    from vipcare.wiring import care

    mid = call("GET", "/members?phone=13800138026", claims=ADMIN).body["member_id"]
    care().cadence.put(Cadence("demo", mid, "gold", later.date()))
    run_job(later)
    kinds = sorted(t["kind"] for t in tasks_of("mgr-1"))
    assert "dormancy" in kinds and "cadence" in kinds


def test_tasks_of_unknown_or_other_brand_staff_are_not_found(directory):
    assert call("GET", "/staff/nobody/tasks", claims=ADMIN).status == 404
    assert call("GET", "/staff/mgr-1/tasks", claims=OTHER_BRAND_ADMIN).status == 404


def test_completing_an_unknown_task_is_not_found(directory):
    mid = member("13800138027")
    assert call("POST", f"/members/{mid}/tasks/cadence.2026-11/complete", claims=ADMIN).status == 404


@pytest.mark.parametrize("payload", [{"contacted_on": "2026-01-01", "channel": "pigeon"},
                                     {"contacted_on": "nope", "channel": "visit"}])
def test_bad_contact_payload_is_422(directory, payload):
    mid = member("13800138028")
    assert call("POST", f"/members/{mid}/contacts", payload, claims=ADMIN).status == 422


def test_a_resolved_complaint_raises_one_revisit_task_for_the_manager_and_texts_the_member(directory):
    mid = member("13800138029", consent=False)
    set_profile(mid, manager_id="mgr-1")
    body = {"member_id": mid, "store_id": "demo-001", "channel": "hotline", "category": "service_attitude",
            "severity": "medium", "description": "Rude."}
    r = call("POST", "/complaints", body, claims=ADMIN)
    assert r.status == 201, r.body
    cid = r.body["complaint_id"]
    staff = claims_for(role="manager", store_id="demo-001", staff_id=r.body["assignee"])
    assert call("POST", f"/complaints/{cid}/acknowledge", claims=staff).status == 200
    assert call("POST", f"/complaints/{cid}/resolve", {"resolution": "Apologised"}, claims=staff).status == 200
    resolved = {"detail-type": "ComplaintResolved", "time": at_local(2026, 11, 23, 12).isoformat(),
                "detail": {"event_id": f"{cid}.resolved.v4", "brand_id": "demo", "member_id": mid,
                           "complaint_id": cid, "revisit_on": at_local(2026, 11, 25, 12).isoformat()}}
    event = tier_event(mid, "gold", at_local(2026, 11, 23, 12))
    event["Records"][0]["body"] = json.dumps(resolved)
    consume(event)
    consume(event)  # redelivered: still one task, one SMS
    revisits = [t for t in tasks_of("mgr-1") if t["kind"] == "revisit"]
    assert [(t["task_id"], t["member_id"], t["status"]) for t in revisits] == [(f"revisit.{cid}", mid, "open")]
    resolved_sms = [m for m in messages(mid) if m["kind"] == "complaint_resolved"]
    assert [(m["status"], m["category"]) for m in resolved_sms] == [("sent", "service")]  # no consent needed
    done = call("POST", f"/members/{mid}/tasks/revisit.{cid}/complete", claims=ADMIN)
    assert done.status == 200 and done.body["status"] == "done"
    assert call("POST", f"/members/{mid}/tasks/revisit.{cid}/complete", claims=ADMIN).status == 409


def test_settings_updates_keep_the_fields_not_sent(directory):
    assert call("PUT", "/care/settings", {"language": "en"}, claims=ADMIN).status == 200
    r = call("PUT", "/care/settings", {"daily_budget": 5}, claims=ADMIN)
    assert r.status == 200 and r.body["language"] == "en" and r.body["daily_budget"] == 5


def test_event_without_event_id_is_dropped_not_retried(directory):
    mid = member("13800138030")
    event = tier_event(mid, "silver", at_local(2026, 11, 23, 12))
    body = json.loads(event["Records"][0]["body"])
    del body["detail"]["event_id"]
    event["Records"][0]["body"] = json.dumps(body)
    assert consume(event) == {"batchItemFailures": []}
    assert messages(mid) == []


def test_concurrent_runs_send_an_occasion_once(directory):
    from concurrent.futures import ThreadPoolExecutor

    mids = [member(f"1380013805{i}", birthday="1990-11-23") for i in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda _: run_job(at_local(2026, 11, 23, 10)), range(4)))
    assert sorted(p for p, _ in sms()) == sorted(f"+861380013805{i}" for i in range(4))
    assert all([m["status"] for m in messages(mid)] == ["sent"] for mid in mids)


# ---- points expiring --------------------------------------------------------------------------


def give_points(member_id: str, lots: dict[str, int], today: date) -> None:
    """The member's STATS as a purchase history would leave them (prune() keeps the index key)."""
    from vipcare.domain.points import PointsLedger
    from vipcare.store.ledger import LedgerRepository

    stats = LedgerRepository().stats("demo", member_id)  # as enrolment left them
    stats.points = PointsLedger(lots=dict(lots))
    stats.prune(today, 24)
    LedgerRepository().commit(brand_id="demo", member_id=member_id, stats=stats, entries=[])


def test_points_expiring_in_30_days_are_announced_once_then_the_next_lot_is_scheduled(directory):
    from vipcare.store.ledger import LedgerRepository

    mid = member("13800138040")
    give_points(mid, {"2024-12": 500, "2025-03": 200}, date(2026, 11, 20))
    assert LedgerRepository().stats("demo", mid).points_notice_on == date(2026, 12, 1)
    run_job(at_local(2026, 11, 30, 10))  # the day before: nothing
    assert messages(mid) == []
    run_job(at_local(2026, 12, 1, 10))
    run_job(at_local(2026, 12, 1, 11))  # an hour later: the same notice is not sent again
    [record] = messages(mid)
    assert (record["kind"], record["status"], record["occasion_key"]) == ("points_expiring", "sent",
                                                                          "points_expiring#2026-12")
    assert "500" in record["text"] and "2026-12-31" in record["text"]
    assert LedgerRepository().stats("demo", mid).points_notice_on == date(2027, 3, 1)


def test_points_notice_is_skipped_when_the_points_were_spent_meanwhile(directory):
    mid = member("13800138041")
    give_points(mid, {"2024-12": 500}, date(2026, 11, 20))
    from vipcare.store.ledger import LedgerRepository, StatsItem, member_pk

    # spent since, by a path that did not recompute the key: the job reads the lots and says nothing
    StatsItem(member_pk("demo", mid), "STATS").update(actions=[StatsItem.lots.set({})])
    run_job(at_local(2026, 12, 1, 10))
    assert messages(mid) == []
    assert LedgerRepository().stats("demo", mid).points_notice_on is None


# ---- holiday greetings ------------------------------------------------------------------------


def test_holiday_greets_every_consenting_member_once_and_a_run_out_of_time_is_resumed(directory):
    from vipcare.services.reminders import Dispatcher
    from vipcare.wiring import care

    consenting = [member(f"138001381{i:02d}") for i in range(12)]
    silent = member("13800138199", consent=False)
    ten = at_local(2026, 10, 1, 10)  # National Day
    stopped = Dispatcher(ten, care(), deadline=0.0).dispatch()  # no time at all: nothing greeted yet
    assert stopped.outcomes.get("sent", 0) == 0
    evening = at_local(2026, 10, 1, 22)
    assert run_job(evening).get("sent", 0) == 0  # quiet hours: the run waits for daytime
    first = run_job(at_local(2026, 10, 1, 11))
    again = run_job(at_local(2026, 10, 1, 12))
    assert first["sent"] == 12 and again.get("sent", 0) == 0
    for mid in consenting:
        [record] = messages(mid)
        assert (record["occasion_key"], record["status"]) == ("holiday#2026-10-01", "sent")
    assert messages(silent) == []
    assert len(sms()) == 12


def test_withdrawing_consent_takes_the_member_out_of_the_holiday_audience(directory):
    mid = member("13800138200")
    assert call("PATCH", f"/members/{mid}", {"consent": {"sms_marketing": False}}, claims=ADMIN).status == 200
    run_job(at_local(2026, 10, 1, 10))
    assert messages(mid) == []


# ---- backfill for members from before this release ----------------------------------------------


def test_backfill_gives_existing_members_their_audience_key_cadence_review_and_points_notice(directory):
    from vipcare.cli import main
    from vipcare.domain.months import shift
    from vipcare.store.ledger import LedgerRepository, StatsItem, member_pk
    from vipcare.store.models import MemberItem
    from vipcare.wiring import care

    now = clock.now()
    old = member("13800138300")
    # points earned a year ago: they expire in a year, so a notice day is due
    give_points(old, {shift(clock.brand_month(now), -12): 500}, clock.local_day(now))
    # as a member written by the previous release: no audience key, no cadence, no notice key
    set_profile(old, tier="gold")
    MemberItem(member_pk("demo", old), "PROFILE").update(actions=[MemberItem.audience_pk.remove()])
    StatsItem(member_pk("demo", old), "STATS").update(actions=[StatsItem.audience_pk.remove()])
    MemberItem(member_pk("demo", old), "PROFILE").update(actions=[MemberItem.listing_pk.remove(),
                                                                 MemberItem.listing_sk.remove()])
    as_of = ["--now", now.isoformat()]
    assert main(["backfill-care", "--segments", "2", *as_of]) == 0
    assert MemberItem.get(member_pk("demo", old), "PROFILE").audience_pk.startswith("CONSENT#demo#")
    assert MemberItem.get(member_pk("demo", old), "PROFILE").listing_pk.startswith("ROLL#demo#")
    assert care().cadence.get("demo", old) is not None
    assert LedgerRepository().stats("demo", old).points_notice_on is not None
    before = care().cadence.get("demo", old).review_on
    assert main(["backfill-care", "--segments", "1", *as_of]) == 0  # again: nothing changes
    assert care().cadence.get("demo", old).review_on == before

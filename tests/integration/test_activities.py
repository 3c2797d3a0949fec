"""Member activities (docs/activities.md) against moto: the invitations' fan-out in slices (once per
member whatever reruns, redeliveries or crashes), quiet hours, replies, capacity, attendance,
the organiser's feedback and task, and the KPI block."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest

from tests.support import clock
from tests.support.api import ADMIN, CLERK_001, call, claims_for, enrol
from tests.support.queues import take_messages
from vipcare import wiring
from vipcare.domain.tasks import TaskKind
from vipcare.services import activities
from vipcare.services.tasks import TaskRun

NOW = clock.now()
SUPERVISOR = claims_for(role="supervisor", staff_id="sup-1")
# The invitations go out at 10:00 brand time the day after NOW; the activity starts 3 days later.
SEND = clock.at_local(clock.local_day(NOW) + timedelta(days=1), 10)
START = SEND + timedelta(days=3)
END = START + timedelta(hours=3)


def sms() -> list[tuple[str, str]]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    return list(sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages.values())


def plan(claims: dict = SUPERVISOR, **fields) -> dict:
    body = {"name": "Autumn tea salon", "kind": "salon", "store_id": "demo-001", "starts_at": START.isoformat(),
            "ends_at": END.isoformat(), "audience": {"filters": {}},
            "invitation": {"text": "{name}, join our tea salon on {date}", "send_at": SEND.isoformat()}, **fields}
    return call("POST", "/activities", body, claims=claims, at=NOW).body


def members(n: int, *, store: str = "demo-001", no_consent: tuple[int, ...] = ()) -> list[str]:
    out = []
    for i in range(n):
        r = enrol(phone=f"1390066{len(out) + (0 if store == 'demo-001' else 500):04d}", name=f"Guest {i}",
                  store_id=store, consent={"sms_marketing": i not in no_consent}, at=NOW)
        assert r.status == 201, r.body
        out.append(r.body["member_id"])
    return out


def deps(**swap) -> activities.ActivityDeps:
    return dataclasses.replace(wiring.activities(), **swap)


def run_slices(size: int = 3, d: activities.ActivityDeps | None = None) -> list[str]:
    """Deliver the invitation queue's slices until it is empty (as the worker would)."""
    d = d or deps()
    outcomes = []
    while batch := take_messages("InvitationsQueue"):
        for body in batch:
            run = activities.invite_slice(body, now=datetime.fromisoformat(body["time"]), deps=d, size=size)
            outcomes.append(run.outcome)
    return outcomes


def view(activity_id: str, at: datetime | None = None, claims: dict = SUPERVISOR) -> dict:
    r = call("GET", f"/activities/{activity_id}", claims=claims, at=at or NOW)
    assert r.status == 200, r.body
    return r.body


def test_invitations_go_out_in_slices_once_per_member(directory):
    ids = members(8, no_consent=(2, 5))
    members(2, store="demo-002")  # another store's members are not in a store's activity
    a = plan()
    assert a["stage"] == "scheduled" and a["feedback"]["due_on"] > clock.local_day(END).isoformat()
    assert activities.run_due(SEND - timedelta(hours=1), deps()) == {}  # not due yet
    assert activities.run_due(SEND, deps()) == {"started": 1}
    assert activities.run_due(SEND, deps()) == {}  # started: out of the due index until it stalls
    outcomes = run_slices(size=3)
    assert outcomes == ["landed", "landed", "done"]
    v = view(a["activity_id"], SEND)
    assert (v["stage"], v["audience"], v["invited"], v["suppressed"], v["capped"]) == ("invited", 8, 6, 2, 0)
    assert len(sms()) == 6 and all("tea salon" in text for _, text in sms())
    # a rerun of the job, a redelivered slice: nobody is invited twice
    activities.invite_slice({"brand_id": "demo", "activity_id": a["activity_id"], "slice": 1,
                             "time": SEND.isoformat()}, now=SEND, deps=deps(), size=3)
    assert activities.run_due(SEND + timedelta(hours=1), deps()) == {}
    assert len(sms()) == 6 and view(a["activity_id"], SEND)["invited"] == 6
    assert {m["status"] for i in ids for m in call("GET", f"/members/{i}/messages", claims=ADMIN).body["messages"]} == {
        "sent", "suppressed"}


def test_a_slice_that_died_before_landing_is_resumed_without_double_sends_or_counts(directory):
    members(7)
    a = plan()
    activities.run_due(SEND, deps())

    class DiesOnce:
        """The worker dies after sending, before the slice lands."""

        def __init__(self, real):
            self.real, self.died = real, False

        def __getattr__(self, name):
            return getattr(self.real, name)

        def advance(self, *args, **kwargs):
            if not self.died:
                self.died = True
                raise RuntimeError("the worker timed out")
            return self.real.advance(*args, **kwargs)

    dying = deps(activities=DiesOnce(wiring.activities().activities))
    [body] = take_messages("InvitationsQueue")
    with pytest.raises(RuntimeError):
        activities.invite_slice(body, now=SEND, deps=dying, size=3)
    assert len(sms()) == 3
    # nothing queued the next slice: the hourly job hands the fan-out on once it stalls
    assert activities.run_due(SEND + timedelta(minutes=10), deps()) == {}
    later = SEND + timedelta(minutes=25)
    assert activities.run_due(later, deps()) == {"resumed": 1}
    assert run_slices(size=3) == ["landed", "landed", "done"]
    v = view(a["activity_id"], later)
    assert (v["audience"], v["invited"]) == (7, 7) and len(sms()) == 7


def test_quiet_hours_hold_the_fan_out_until_nine(directory):
    members(2)
    late = clock.at_local(clock.local_day(NOW) + timedelta(days=1), 22)
    a = plan(invitation={"text": "{name}, see you at the salon", "send_at": late.isoformat()})
    assert activities.run_due(late, deps()) == {"quiet_hours": 1}
    assert sms() == [] and view(a["activity_id"])["stage"] == "scheduled"
    morning = clock.at_local(clock.local_day(late) + timedelta(days=1), 9)
    assert activities.run_due(morning, deps()) == {"started": 1}
    assert run_slices() == ["done"] and len(sms()) == 2


def test_the_weekly_cap_and_a_birthday_take_precedence(directory):
    [capped] = members(1)
    from vipcare.domain.reminders import Candidate, Kind
    from vipcare.services.care_settings import Policies
    from vipcare.services.messaging import Messenger

    care = wiring.care()
    messenger = Messenger(SEND - timedelta(days=1), care, Policies(care.settings, care.directory))
    member = care.members.get("demo", capped)
    for key in ("promo#1", "promo#2"):  # two marketing SMS this week already: the cap (2) is reached
        assert messenger.offer(member, Candidate(Kind.PROMOTION, key, {})) == "sent"
    a = plan()
    activities.run_due(SEND, deps())
    run_slices()
    v = view(a["activity_id"], SEND)
    assert (v["invited"], v["capped"]) == (0, 1) and len(sms()) == 2


def test_replies_capacity_attendance_feedback_and_the_kpi_block(directory):
    yes, no, third, silent = members(4, no_consent=(3,))
    a = plan(capacity=2)
    aid = a["activity_id"]
    activities.run_due(SEND, deps())
    run_slices()

    def rsvp(member_id: str, response: str, claims: dict = CLERK_001):
        return call("POST", f"/activities/{aid}/rsvps", {"member_id": member_id, "response": response},
                    claims=claims, at=SEND + timedelta(hours=2))

    assert rsvp(yes, "yes").body["outcome"] == "recorded"
    assert rsvp(yes, "yes").body["outcome"] == "unchanged"  # a retry counts once
    assert rsvp(no, "yes").status == 200
    full = rsvp(third, "yes")
    assert full.status == 409 and full.body["error"] == "activity_full"
    assert rsvp(no, "no").body["outcome"] == "recorded"  # a changed mind frees the place
    assert rsvp(third, "yes").status == 200
    uninvited = rsvp(silent, "yes")  # no consent: never invited
    assert uninvited.status == 422 and uninvited.field_names() == ["member_id"]
    assert rsvp(yes, "yes", claims_for(role="store_staff", store_id="demo-002", staff_id="clerk-2")).status == 404
    v = view(aid, SEND + timedelta(hours=2))
    assert (v["rsvp_yes"], v["rsvp_no"]) == (2, 1)

    early = call("POST", f"/activities/{aid}/attendance", {"member_ids": [yes]}, claims=CLERK_001,
                 at=START - timedelta(hours=1))
    assert early.status == 409
    came = call("POST", f"/activities/{aid}/attendance", {"member_ids": [yes, third, silent, "m-nobody"]},
                claims=CLERK_001, at=START + timedelta(hours=1)).body
    assert (came["recorded"], came["not_invited"], came["unknown"], came["attended"]) == (
        [yes, third], [silent], ["m-nobody"], 2)
    again = call("POST", f"/activities/{aid}/attendance", {"member_ids": [yes]}, claims=CLERK_001,
                 at=START + timedelta(hours=2)).body
    assert (again["already"], again["attended"]) == ([yes], 2)

    too_soon = call("POST", f"/activities/{aid}/feedback", {"summary": "lovely"}, claims=SUPERVISOR,
                    at=END - timedelta(minutes=5))
    assert too_soon.status == 409
    # the end: the organiser (sup-1) gets the feedback task
    assert activities.run_due(END + timedelta(hours=1), deps()) == {"ended": 1}
    [task] = [t for t in call("GET", "/staff/sup-1/tasks", claims=SUPERVISOR).body["tasks"]
              if t["kind"] == "activity_feedback"]
    assert (task["activity_id"], task["status"], task["member_id"]) == (aid, "open", None)
    over = call("POST", f"/activities/{aid}/feedback", {"summary": "ok", "satisfied_count": 3}, claims=SUPERVISOR,
                at=END + timedelta(hours=2))
    assert over.status == 422 and over.field_names() == ["satisfied_count"]
    filed = call("POST", f"/activities/{aid}/feedback", {"summary": "Lovely afternoon", "satisfied_count": 2},
                 claims=SUPERVISOR, at=END + timedelta(hours=2))
    assert filed.status == 200, filed.body
    assert (filed.body["stage"], filed.body["feedback"]["late"]) == ("closed", False)
    assert call("POST", f"/activities/{aid}/feedback", {"summary": "again"}, claims=SUPERVISOR,
                at=END + timedelta(hours=3)).status == 409
    [task] = [t for t in call("GET", "/staff/sup-1/tasks", claims=SUPERVISOR).body["tasks"]
              if t["kind"] == "activity_feedback"]
    assert task["status"] == "done"

    period = clock.brand_month(END)
    report = call("GET", f"/reports/kpis?period={period}&store_id=demo-001", claims=ADMIN, at=END).body
    block = report["activities"]
    assert (block["invited"], block["attended"], block["participation"]) == (3, 2, "0.6667")
    assert (block["ended"], block["feedback_on_time"], block["feedback_on_time_rate"]) == (1, 1, "1.0000")


def test_late_feedback_escalates_the_organisers_task_and_is_marked_late(directory):
    for staff_id, role, supervisor in (("head-1", "department_head", None), ("sup-2", "supervisor", "head-1")):
        assert call("POST", "/staff", {"staff_id": staff_id, "name": staff_id, "role": role, "store_id": "demo-001",
                                       "supervisor_id": supervisor}, claims=ADMIN).status == 201
    organiser = claims_for(role="supervisor", staff_id="sup-2")
    members(1)
    a = plan(claims=organiser, kind="launch")
    activities.run_due(SEND, deps())
    run_slices()
    activities.run_due(END + timedelta(minutes=5), deps())
    due_on = datetime.fromisoformat(a["feedback"]["due_on"]).date()
    after_due = clock.at_local(due_on + timedelta(days=1), 10)
    assert view(a["activity_id"], after_due)["feedback"]["late"] is True
    care = wiring.care()
    assert TaskRun(after_due, care).escalate() == 1
    [task] = [t for t in care.tasks.assigned_to("demo", "head-1", limit=10).items
              if t.kind is TaskKind.ACTIVITY_FEEDBACK]
    assert task.escalated == 1
    filed = call("POST", f"/activities/{a['activity_id']}/feedback", {"summary": "Late, sorry"},
                 claims=organiser, at=after_due)
    assert filed.status == 200 and filed.body["feedback"]["late"] is True
    report = call("GET", f"/reports/kpis?period={clock.brand_month(END)}", claims=ADMIN, at=after_due).body
    assert (report["activities"]["ended"], report["activities"]["feedback_on_time"]) == (1, 0)


def test_a_notice_takes_no_replies(directory):
    [m] = members(1)
    a = plan(kind="notice", name="New arrivals first")
    activities.run_due(SEND, deps())
    run_slices()
    r = call("POST", f"/activities/{a['activity_id']}/rsvps", {"member_id": m, "response": "yes"},
             claims=CLERK_001, at=SEND + timedelta(hours=1))
    assert r.status == 409 and r.body["error"] == "no_replies"


def test_a_segment_audience_and_a_brand_wide_activity(directory):
    members(2)
    members(2, store="demo-002")
    segment = call("POST", "/segments", {"name": "Everyone", "filters": {}}, claims=ADMIN).body["segment_id"]
    a = plan(store_id=None, audience={"segment_id": segment})
    activities.run_due(SEND, deps())
    run_slices(size=1)
    v = view(a["activity_id"], SEND)
    assert (v["segment_id"], v["audience"], v["invited"]) == (segment, 4, 4)
    # store staff see brand-wide activities and their own store's, never another store's
    other = plan(store_id="demo-002")
    assert call("GET", f"/activities/{other['activity_id']}", claims=CLERK_001).status == 404
    listed = {x["activity_id"] for x in call("GET", "/activities", claims=CLERK_001).body["activities"]}
    assert a["activity_id"] in listed and other["activity_id"] not in listed


@pytest.mark.parametrize(("fields", "field"), [
    ({"ends_at": (START - timedelta(hours=1)).isoformat()}, "ends_at"),
    ({"invitation": {"text": "hi {name}", "send_at": (START + timedelta(hours=1)).isoformat()}},
     "invitation.send_at"),
    ({"invitation": {"text": "hi {nom}", "send_at": SEND.isoformat()}}, "invitation.text"),
    ({"audience": {"segment_id": "seg-nothere"}}, "audience.segment_id"),
    ({"audience": {"segment_id": "seg-x", "filters": {}}}, "audience"),
    ({"audience": {"filters": {"store_id": "demo-002"}}}, "audience.store_id"),
    ({"store_id": "demo-404"}, "store_id"),
    ({"kind": "party"}, "kind"),
    ({"capacity": 0}, "capacity"),
])
def test_a_bad_plan_is_a_422_naming_the_field_and_nothing_is_stored(directory, fields, field):
    body = {"name": "Salon", "kind": "salon", "store_id": "demo-001", "starts_at": START.isoformat(),
            "ends_at": END.isoformat(), "audience": {"filters": {}},
            "invitation": {"text": "{name}, join us on {date}", "send_at": SEND.isoformat()}, **fields}
    r = call("POST", "/activities", body, claims=SUPERVISOR, at=NOW)
    assert r.status == 422, r.body
    assert any(n == field or n.endswith(field) or n.startswith(field) for n in r.field_names()), r.body
    assert call("GET", "/activities", claims=SUPERVISOR).body["activities"] == []


def test_only_supervisors_and_above_plan_activities_and_a_retry_plans_one(directory):
    assert call("POST", "/activities", {}, claims=claims_for(role="manager", staff_id="mgr-1")).status in (403, 422)
    body = {"name": "Trip", "kind": "trip", "starts_at": START.isoformat(), "ends_at": END.isoformat(),
            "audience": {"filters": {"tier": "gold"}},
            "invitation": {"text": "{name}: a trip for you", "send_at": SEND.isoformat()}}
    refused = call("POST", "/activities", body, claims=claims_for(role="manager", staff_id="mgr-1"), at=NOW)
    assert refused.status == 403
    key = {"Idempotency-Key": "plan-trip-1"}
    first = call("POST", "/activities", body, claims=SUPERVISOR, headers=key, at=NOW)
    second = call("POST", "/activities", body, claims=SUPERVISOR, headers=key, at=NOW)
    assert first.status == second.status == 201 and first.body["activity_id"] == second.body["activity_id"]
    assert len(call("GET", "/activities", claims=SUPERVISOR).body["activities"]) == 1


def test_an_activity_ending_before_its_fan_out_finished_stops_inviting(directory):
    members(4)
    a = plan()
    activities.run_due(SEND, deps())
    [body] = take_messages("InvitationsQueue")
    activities.invite_slice(body, now=SEND, deps=deps(), size=2)
    take_messages("InvitationsQueue")  # the next slice is lost; the activity ends meanwhile
    assert activities.run_due(END + timedelta(minutes=1), deps()) == {"ended": 1}
    v = view(a["activity_id"], END + timedelta(minutes=1))
    assert (v["stage"], v["invited"]) == ("ended", 2) and len(sms()) == 2
    late = activities.invite_slice({**body, "slice": 1}, now=END + timedelta(minutes=2), deps=deps(), size=2)
    assert late.outcome == "stale" and len(sms()) == 2


def test_vips_invited_this_year_count_towards_coverage_of_the_months_snapshot(directory):
    from vipcare.services.kpis import run_snapshot
    from vipcare.store.kpis import KpiRepository, SnapshotMember

    vip, other_vip, regular = members(3)
    kpis = KpiRepository()
    period = clock.brand_month(SEND)
    # the month's opening snapshot: two VIPs (as the monthly snapshot job records them)
    kpis.put_snapshot("demo", period, [SnapshotMember(vip, "gold", "demo-001"),
                                       SnapshotMember(other_vip, "silver", "demo-001")], SEND)
    kpis.set_opening_figures("demo", period, {"demo-001": {"vips_at_start": 2}})
    from vipcare.store.models import MemberItem, member_pk

    for member_id, tier in ((vip, "gold"), (other_vip, "silver")):
        MemberItem(member_pk("demo", member_id), "PROFILE").update(actions=[MemberItem.tier.set(tier)])
    a = plan(audience={"filters": {}})
    activities.run_due(SEND, deps())
    run_slices()
    assert view(a["activity_id"], SEND)["invited"] == 3
    report = call("GET", f"/reports/kpis?period={period}", claims=ADMIN, at=SEND).body["activities"]
    assert (report["vips"], report["vips_invited"], report["coverage"]) == (2, 2, "1.0000")
    # the next month's snapshot (taken from the VIPs' cadence reviews) carries the invitation
    # within the same year; in a new year coverage starts again from nobody
    from vipcare.domain.tasks import Cadence

    care = wiring.care()
    for member_id, tier in ((vip, "gold"), (other_vip, "silver")):
        care.cadence.put(Cadence("demo", member_id, tier, clock.local_day(SEND) + timedelta(days=60)))
    first_of_next = (clock.local_day(SEND).replace(day=28) + timedelta(days=7)).replace(day=1)
    taken_at = clock.at_local(first_of_next, 0, 30)
    next_period = clock.brand_month(taken_at)
    run_snapshot(taken_at, care=care, kpis=kpis, ledger=wiring.kpi_reports().ledger)
    carried = {m.member_id: m.invited_year for m in kpis.snapshot_members("demo", next_period)}
    expected = first_of_next.year if first_of_next.year == int(period[:4]) else None
    assert carried == {vip: expected, other_vip: expected}
    later = call("GET", f"/reports/kpis?period={next_period}", claims=ADMIN, at=taken_at).body["activities"]
    assert (later["vips"], later["vips_invited"]) == (2, 2 if expected else 0)

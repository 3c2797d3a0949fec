"""Complaint routing against moto: intake and routing, every lifecycle transition, the ladder,
the escalation job, the SMS and topic messages, queue views, figures and bad input."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from infra.local.lambdas import LambdaContext, handler_for
from infra.local.local_routes import scheduled_event
from tests.support import clock
from tests.support.api import ADMIN, CLERK_001, OTHER_BRAND_ADMIN, call, claims_for, enrol, listed
from tests.support.aws import count_items
from tests.support.queues import take_messages

pytestmark = pytest.mark.usefixtures("ladder")

MANAGER = claims_for(role="manager", store_id="demo-001", staff_id="mgr-1")
SUPERVISOR = claims_for(role="supervisor", store_id="demo-001", staff_id="sup-1")
DEPT_HEAD = claims_for(role="department_head", store_id="demo-001", staff_id="dept-1")
TECH = claims_for(role="technical_support", store_id="demo-001", staff_id="tech-1")
OTHER_MANAGER = claims_for(role="manager", store_id="demo-002", staff_id="mgr-2")
CLERK_2 = claims_for(role="store_staff", store_id="demo-001", staff_id="clerk-2")


@pytest.fixture
def ladder(directory):
    """demo-001: clerk-1 -> mgr-1 -> sup-1 -> dept-1 -> vp-1, tech-1 -> sup-1; demo-002: mgr-2."""
    for staff_id, role, store, supervisor in (
        ("vp-1", "vice_president", "demo-001", None),
        ("dept-1", "department_head", "demo-001", "vp-1"),
        ("tech-1", "technical_support", "demo-001", "sup-1"),
        ("clerk-2", "store_staff", "demo-001", "mgr-1"),
        ("mgr-2", "manager", "demo-002", None),
    ):
        body = {"staff_id": staff_id, "name": staff_id, "role": role, "store_id": store, "supervisor_id": supervisor}
        assert call("POST", "/staff", body, claims=ADMIN).status == 201
    assert call("PATCH", "/staff/sup-1", {"supervisor_id": "dept-1"}, claims=ADMIN).status == 200


def member(tier: str = "regular", manager_id: str | None = None, phone: str = "13800138000",
           store_id: str = "demo-001", claims=ADMIN) -> str:
    """Enrol, then set tier and manager directly (the tier issue owns those fields)."""
    from vipcare.store.models import PROFILE_SK, MemberItem, member_pk

    r = enrol(claims, phone=phone, store_id=store_id)
    assert r.status == 201, r.body
    member_id = r.body["member_id"]
    brand = claims["custom:brand_id"]
    actions = [MemberItem.tier.set(tier)]
    if manager_id:
        actions.append(MemberItem.manager_id.set(manager_id))
    MemberItem(member_pk(brand, member_id), PROFILE_SK).update(actions=actions)
    return member_id


def file(member_id: str, claims=ADMIN, headers=None, at: datetime | None = None, **fields):
    body = {"member_id": member_id, "store_id": "demo-001", "channel": "hotline", "category": "service_attitude",
            "severity": "medium", "description": "The sales associate was rude.", **fields}
    return call("POST", "/complaints", body, claims=claims, headers=headers, at=at)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def run_job(moment: datetime) -> dict:
    handler = handler_for("functions/complaint_routing/", "app.handler")
    return handler(scheduled_event(moment), LambdaContext())


def sms_messages() -> list[tuple[str, str]]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    return [(phone, text) for phone, text, *_ in sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages.values()]


def care_events() -> list[dict]:
    """What the case steps put on the bus for care (the CareEventsQueue), taken off the queue."""
    return take_messages("CareEventsQueue")


def staff_messages() -> list[dict]:
    import os

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    topic = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].topics[os.environ["STAFF_TOPIC_ARN"]]
    return [json.loads(message) for _, message, *_ in topic.sent_notifications]


def get(complaint_id: str, claims=ADMIN) -> dict:
    r = call("GET", f"/complaints/{complaint_id}", claims=claims)
    assert r.status == 200, r.body
    return r.body


def act(complaint_id: str, action: str, body=None, claims=ADMIN):
    return call("POST", f"/complaints/{complaint_id}/{action}", body if body is not None else {}, claims=claims)


# ---- intake and routing --------------------------------------------------------------------


def test_diamond_members_critical_complaint_is_p1_due_in_1h_and_24h_and_goes_to_their_manager():
    member_id = member("diamond", "mgr-1")
    r = file(member_id, severity="critical")
    assert r.status == 201, r.body
    case = r.body
    opened = at(case["opened_at"])
    assert case["priority"] == "P1"
    assert at(case["respond_by"]) - opened == timedelta(hours=1)
    assert at(case["resolve_by"]) - opened == timedelta(hours=24)
    assert (case["assignee"], case["level"], case["status"]) == ("mgr-1", 0, "assigned")
    assert [h["action"] for h in case["history"]] == ["open", "assign"]
    assert case["history"][1]["text"] == "dedicated manager"


def test_intake_puts_complaint_filed_on_the_bus_and_care_texts_the_case_and_local_deadline():
    from vipcare.services.reminders import Dispatcher
    from vipcare.wiring import care

    member_id = member("gold", "mgr-1")
    case = file(member_id, severity="high").body
    [event] = care_events()
    assert event["detail-type"] == "ComplaintFiled" and event["source"] == "vipcare"
    detail = event["detail"]
    assert (detail["complaint_id"], detail["member_id"], detail["event_id"]) == (
        case["complaint_id"], member_id, f"{case['complaint_id']}.filed")
    assert sms_messages() == []  # the complaint service no longer texts the member itself
    ten_local = clock.at_local(clock.local_day(clock.now()), 10)  # daytime on the brand's clock
    assert Dispatcher(ten_local, care()).on_event("ComplaintFiled", detail) == "sent"
    assert Dispatcher(ten_local, care()).on_event("ComplaintFiled", detail) == "duplicate"
    [(phone, text)] = sms_messages()
    local = at(case["respond_by"]).astimezone(clock.brand_zone())
    assert phone == "+8613800138000"
    assert case["complaint_id"] in text and local.strftime("%Y-%m-%d %H:%M") in text


def test_a_refused_event_publish_stays_in_the_outbox_until_the_escalation_job_sends_it():
    from vipcare import wiring
    from vipcare.api.models.complaints import ComplaintCreate
    from vipcare.domain.access import Caller, Role
    from vipcare.services import complaints
    from vipcare.store.complaints import ComplaintRepository

    class Refusing:
        def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
            raise RuntimeError("EventBridge throttled")

    member_id = member("gold", "mgr-1")
    request = ComplaintCreate(member_id=member_id, store_id="demo-001", channel="store", category="billing",
                              severity="medium", description="Charged twice.")
    admin = Caller(brand_id="demo", role=Role.ADMIN, staff_id="admin-1", store_id=None)
    w = replace(wiring.complaint_routing(), events=Refusing())
    filed = complaints.file_complaint(admin, request, now=clock.now(), members=w.members, directory=w.directory,
                                      complaints=w.complaints, notifier=w.notifier, events=w.events)
    assert filed.event_published is False and filed.complaint.complaint_id
    assert care_events() == []
    repo = ComplaintRepository()
    assert sum(len(repo.pending_events(s)) for s in range(10)) == 1
    first = run_job(filed.complaint.opened_at + timedelta(minutes=1))
    assert (first["events_resent"], first["events_kept"]) == (1, 0)
    [event] = care_events()
    assert event["detail"]["event_id"] == f"{filed.complaint.complaint_id}.filed"
    assert run_job(filed.complaint.opened_at + timedelta(minutes=16))["events_resent"] == 0


def test_intake_tells_the_assignee_through_the_staff_topic():
    member_id = member("gold", "mgr-1")
    case = file(member_id).body
    [message] = staff_messages()
    assert message["event"] == "complaint.assigned"
    assert (message["complaint_id"], message["assignee"], message["priority"]) == (
        case["complaint_id"], "mgr-1", "P2")
    assert "+86" not in json.dumps(message)  # no phone numbers on the staff topic


def test_manager_on_leave_routes_to_their_supervisor():
    call("PATCH", "/staff/mgr-1", {"on_leave": True}, claims=ADMIN)
    case = file(member("diamond", "mgr-1"), severity="critical").body
    assert (case["assignee"], case["level"]) == ("sup-1", 1)


@pytest.mark.parametrize("category", ["repair", "delivery_installation", "product_quality"])
def test_technical_categories_go_to_technical_support(category):
    case = file(member("silver"), category=category).body
    assert case["assignee"] == "tech-1"


def test_technical_case_goes_to_the_technical_queue_when_no_technician_is_on_duty():
    call("PATCH", "/staff/tech-1", {"on_leave": True}, claims=ADMIN)
    assert file(member(), category="repair").body["assignee"] == "queue:demo-001:technical"


def test_other_cases_go_to_the_stores_service_queue():
    assert file(member("regular")).body["assignee"] == "queue:demo-001:service"
    # gold without a manager yet: nobody dedicated, so the queue
    assert file(member("gold", phone="13800138001")).body["assignee"] == "queue:demo-001:service"


@pytest.mark.parametrize(("value", "assignee", "level"), [
    ("9999.99", "queue:demo-001:service", 0), ("10000", "sup-1", 1), ("50000.00", "dept-1", 2)])
def test_high_order_values_start_higher_up_the_ladder(value, assignee, level):
    case = file(member(), order_value=value).body
    assert (case["assignee"], case["level"], case["order_value"]) == (assignee, level, f"{Decimal(value):.2f}")


def test_priority_follows_tier_and_severity():
    regular_low = file(member("regular"), severity="low").body
    gold_high = file(member("gold", phone="13800138001"), severity="high").body
    assert (regular_low["priority"], gold_high["priority"]) == ("P4", "P2")
    assert at(regular_low["respond_by"]) - at(regular_low["opened_at"]) == timedelta(hours=24)
    assert at(regular_low["resolve_by"]) - at(regular_low["opened_at"]) == timedelta(days=5)


def test_idempotency_key_makes_a_retried_intake_return_the_first_case():
    member_id = member()
    first = file(member_id, headers={"Idempotency-Key": "k-1"})
    again = file(member_id, headers={"Idempotency-Key": "k-1"})
    assert first.status == again.status == 201
    assert first.body["complaint_id"] == again.body["complaint_id"]
    assert len(care_events()) == 1
    other = file(member_id, headers={"Idempotency-Key": "k-1"}, description="something else")
    assert other.status == 409 and other.field_names() == ["Idempotency-Key"]


# ---- bad input: clear 4xx, nothing written -----------------------------------------------------


@pytest.mark.parametrize(("fields", "field"), [
    ({"member_id": "m_nope"}, "member_id"),
    ({"store_id": "demo-999"}, "store_id"),
    ({"category": "weather"}, "category"),
    ({"channel": "pigeon"}, "channel"),
    ({"severity": "urgent"}, "severity"),
    ({"description": ""}, "description"),
    ({"description": "   "}, "description"),
    ({"description": "x" * 2001}, "description"),
    ({"order_value": "12.345"}, "order_value"),
    ({"order_value": 100.5}, "order_value"),
    ({"priority": "P1"}, "priority"),
])
def test_bad_intake_is_refused_naming_the_field_and_writes_nothing(fields, field):
    r = file(**{"member_id": member(), **fields})
    assert r.status == 422, r.body
    assert field in r.field_names()
    assert count_items("ComplaintsTable") == 0
    assert care_events() == [] and staff_messages() == []


def test_another_brands_member_is_an_unknown_member():
    acme_member = member(phone="13800138009", store_id="acme-001", claims=OTHER_BRAND_ADMIN)
    r = file(acme_member)
    assert r.status == 422 and r.field_names() == ["member_id"]
    assert count_items("ComplaintsTable") == 0


def test_store_staff_cannot_file_for_another_store():
    r = file(member(), claims=CLERK_001, store_id="demo-002")
    assert r.status == 403 and count_items("ComplaintsTable") == 0


# ---- the lifecycle ----------------------------------------------------------------------------


def test_full_lifecycle_acknowledge_note_resolve_satisfied_closes_with_history():
    member_id = member("gold", "mgr-1")
    cid = file(member_id).body["complaint_id"]
    ack = act(cid, "acknowledge", {"note": "Called the member"}, claims=MANAGER)
    assert ack.status == 200 and ack.body["status"] == "in_progress" and ack.body["acknowledged_at"]
    assert act(cid, "notes", {"text": "Offered an exchange"}, claims=MANAGER).body["status"] == "in_progress"
    resolved = act(cid, "resolve", {"resolution": "Exchanged the item"}, claims=MANAGER).body
    assert resolved["status"] == "resolved" and resolved["resolution"] == "Exchanged the item"
    assert resolved["next_escalation_check_at"] is None
    closed = act(cid, "feedback", {"satisfied": True, "nps": 9}, claims=MANAGER).body
    assert (closed["status"], closed["satisfied"], closed["nps"]) == ("closed", True, 9)

    history = get(cid)["history"]
    assert [h["action"] for h in history] == ["open", "assign", "acknowledge", "note", "resolve", "close"]
    assert [h["status"] for h in history] == ["open", "assigned", "in_progress", "in_progress", "resolved",
                                              "closed"]
    assert {h["actor"] for h in history[2:]} == {"staff:mgr-1"}
    assert history[3]["text"] == "Offered an exchange"
    assert all(h["at"] for h in history)
    resolved_events = [e["detail"] for e in care_events() if e["detail-type"] == "ComplaintResolved"]
    assert [(e["complaint_id"], e["member_id"]) for e in resolved_events] == [(cid, member_id)]
    assert at(resolved_events[0]["revisit_on"]) - at(resolved["resolved_at"]) == timedelta(days=2)


def test_not_satisfied_reopens_and_escalates_one_level():
    cid = file(member("gold", "mgr-1")).body["complaint_id"]
    act(cid, "acknowledge", claims=MANAGER)
    act(cid, "resolve", {"resolution": "Refunded"}, claims=MANAGER)
    reopened = act(cid, "feedback", {"satisfied": False, "nps": 3, "comment": "Too slow"}, claims=MANAGER)
    assert reopened.status == 200
    body = reopened.body
    assert (body["status"], body["assignee"], body["level"], body["satisfied"]) == ("reopened", "sup-1", 1, False)
    assert body["history"][-1]["action"] == "reopen" and "Too slow" in body["history"][-1]["text"]
    assert staff_messages()[-1]["event"] == "complaint.escalated"
    assert staff_messages()[-1]["assignee"] == "sup-1"
    # The supervisor takes it up again and resolves it.
    assert act(cid, "acknowledge", claims=SUPERVISOR).body["status"] == "in_progress"
    assert act(cid, "resolve", {"resolution": "Replaced"}, claims=SUPERVISOR).body["status"] == "resolved"
    assert act(cid, "feedback", {"satisfied": True}, claims=SUPERVISOR).body["status"] == "closed"


def test_a_queue_case_is_taken_by_the_store_staff_member_who_acknowledges_it():
    cid = file(member()).body["complaint_id"]
    taken = act(cid, "acknowledge", claims=CLERK_2).body
    assert taken["assignee"] == "clerk-2"
    assert act(cid, "notes", {"text": "mine now"}, claims=CLERK_001).status == 403  # clerk-1 is not above clerk-2


def _resolved_case() -> str:
    cid = file(member("gold", "mgr-1")).body["complaint_id"]
    act(cid, "acknowledge", claims=MANAGER)
    act(cid, "resolve", {"resolution": "done"}, claims=MANAGER)
    return cid


@pytest.mark.parametrize(("setup", "action", "body"), [
    ("assigned", "resolve", {"resolution": "too early"}),
    ("assigned", "feedback", {"satisfied": True}),
    ("in_progress", "acknowledge", {}),
    ("in_progress", "feedback", {"satisfied": False}),
    ("resolved", "acknowledge", {}),
    ("resolved", "resolve", {"resolution": "again"}),
    ("closed", "resolve", {"resolution": "again"}),
    ("closed", "notes", {"text": "late"}),
    ("closed", "feedback", {"satisfied": True}),
    ("closed", "acknowledge", {}),
])
def test_illegal_transitions_are_409_and_change_nothing(setup, action, body):
    cid = file(member("gold", "mgr-1")).body["complaint_id"]
    if setup in ("in_progress", "resolved", "closed"):
        act(cid, "acknowledge", claims=MANAGER)
    if setup in ("resolved", "closed"):
        act(cid, "resolve", {"resolution": "done"}, claims=MANAGER)
    if setup == "closed":
        act(cid, "feedback", {"satisfied": True}, claims=MANAGER)
    before = get(cid)
    assert before["status"] == setup
    r = act(cid, action, body, claims=MANAGER)
    assert r.status == 409, r.body
    assert r.body["error"] == "illegal_transition" and r.field_names() == ["status"]
    assert get(cid) == before


@pytest.mark.parametrize("claims", [CLERK_001, TECH, OTHER_MANAGER])
def test_staff_not_on_the_ladder_above_the_assignee_get_403_and_change_nothing(claims):
    cid = file(member("gold", "mgr-1")).body["complaint_id"]
    before = get(cid)
    r = act(cid, "acknowledge", claims=claims)
    if claims is OTHER_MANAGER:  # another store's manager cannot even see it
        assert r.status == 404
    else:
        assert r.status == 403 and r.field_names() == ["assignee"]
    assert get(cid) == before


@pytest.mark.parametrize("claims", [SUPERVISOR, DEPT_HEAD, claims_for(role="vice_president", staff_id="vp-1"),
                                    ADMIN])
def test_anyone_above_the_assignee_on_the_ladder_may_act(claims):
    cid = file(member("gold", "mgr-1")).body["complaint_id"]
    assert act(cid, "acknowledge", claims=claims).status == 200


def test_another_brand_gets_404_for_every_complaint_route():
    cid = file(member("gold", "mgr-1")).body["complaint_id"]
    before = get(cid)
    assert call("GET", f"/complaints/{cid}", claims=OTHER_BRAND_ADMIN).status == 404
    for action, body in (("acknowledge", {}), ("notes", {"text": "x"}), ("resolve", {"resolution": "x"}),
                         ("feedback", {"satisfied": True})):
        assert act(cid, action, body, claims=OTHER_BRAND_ADMIN).status == 404
    assert get(cid) == before


def test_unknown_complaint_is_404():
    assert call("GET", "/complaints/c_0000000000000000", claims=ADMIN).status == 404
    assert act("c_0000000000000000", "acknowledge").status == 404


@pytest.mark.parametrize(("action", "body", "field"), [
    ("notes", {"text": ""}, "text"), ("notes", {"text": "x" * 2001}, "text"),
    ("resolve", {}, "resolution"), ("feedback", {"satisfied": False, "nps": 11}, "nps"),
    ("feedback", {"nps": 5}, "satisfied"), ("acknowledge", {"status": "closed"}, "status")])
def test_bad_lifecycle_bodies_are_422_naming_the_field(action, body, field):
    cid = file(member("gold", "mgr-1")).body["complaint_id"]
    before = get(cid)
    r = act(cid, action, body, claims=MANAGER)
    assert r.status == 422 and field in r.field_names(), r.body
    assert get(cid) == before


# ---- the escalation job -------------------------------------------------------------------


def test_job_two_hours_later_escalates_once_to_the_supervisor_and_a_rerun_changes_nothing():
    case = file(member("diamond", "mgr-1"), severity="critical").body
    cid, opened = case["complaint_id"], at(case["opened_at"])
    assert run_job(opened + timedelta(minutes=59))["escalated"] == 0

    result = run_job(opened + timedelta(hours=2))
    assert result["escalated"] == 1
    after = get(cid)
    assert (after["assignee"], after["level"], after["status"]) == ("sup-1", 1, "assigned")
    assert after["history"][-1]["actor"] == "system:escalation"
    assert after["respond_by"] == case["respond_by"] and after["resolve_by"] == case["resolve_by"]  # fixed
    assert staff_messages()[-1] == {**staff_messages()[-1], "event": "complaint.escalated", "assignee": "sup-1"}

    again = run_job(opened + timedelta(hours=2))
    assert again["escalated"] == 0 and again["due"] == 0
    assert get(cid) == after


def test_overlapping_runs_escalate_each_case_and_level_once():
    """Two job runs read the same due case before either writes: one wins, one is refused."""
    from vipcare import wiring
    from vipcare.services import complaints
    from vipcare.store.complaints import ComplaintRepository

    case = file(member("diamond", "mgr-1"), severity="critical").body
    moment = at(case["opened_at"]) + timedelta(hours=2)
    stale = ComplaintRepository().due(moment, __import__("vipcare.domain.complaints", fromlist=["x"]).due_shard(
        case["complaint_id"]))

    class Frozen(ComplaintRepository):
        def due(self, now, shard, *, limit=500):
            return [c for c in stale if __import__("vipcare.domain.complaints", fromlist=["x"]).due_shard(
                c.complaint_id) == shard]

    w = wiring.complaint_routing()
    first = complaints.run_escalations(moment, complaints=Frozen(), directory=w.directory, notifier=w.notifier,
                                       events=w.events)
    second = complaints.run_escalations(moment, complaints=Frozen(), directory=w.directory, notifier=w.notifier,
                                        events=w.events)
    assert (first.escalated, second.escalated, second.already_moved) == (1, 0, 1)
    history = get(case["complaint_id"])["history"]
    assert [h["action"] for h in history].count("escalate") == 1


def test_unanswered_case_climbs_the_ladder_to_the_vice_president_then_stops():
    case = file(member("diamond", "mgr-1"), severity="critical").body
    cid, opened = case["complaint_id"], at(case["opened_at"])
    seen = []
    moment = opened
    for _ in range(6):
        moment += timedelta(hours=2)
        run_job(moment)
        seen.append(get(cid)["assignee"])
    assert seen[:3] == ["sup-1", "dept-1", "vp-1"]
    assert seen[3:] == ["vp-1"] * 3
    final = get(cid)
    assert final["level"] == 3 and final["next_escalation_check_at"] is None


def test_acknowledged_case_is_not_escalated_for_response_but_is_when_resolution_is_late():
    case = file(member("diamond", "mgr-1"), severity="critical").body
    cid, opened = case["complaint_id"], at(case["opened_at"])
    act(cid, "acknowledge", claims=MANAGER)
    assert run_job(opened + timedelta(hours=2))["escalated"] == 0
    assert get(cid)["assignee"] == "mgr-1"
    assert run_job(opened + timedelta(hours=25))["escalated"] == 1
    assert (get(cid)["assignee"], get(cid)["status"]) == ("sup-1", "in_progress")


def test_resolved_cases_leave_the_escalation_index():
    from vipcare.store.complaints import ComplaintRepository

    case = file(member("diamond", "mgr-1"), severity="critical").body
    cid, opened = case["complaint_id"], at(case["opened_at"])
    act(cid, "acknowledge", claims=MANAGER)
    act(cid, "resolve", {"resolution": "done"}, claims=MANAGER)
    repo = ComplaintRepository()
    far = opened + timedelta(days=30)
    assert all(c.complaint_id != cid for shard in range(10) for c in repo.due(far, shard))
    assert run_job(far)["escalated"] == 0


def test_queue_case_escalates_to_the_stores_supervisor():
    case = file(member(), severity="critical").body  # regular + critical = P2: 4 h to respond
    assert case["priority"] == "P2"
    run_job(at(case["opened_at"]) + timedelta(hours=5))
    assert get(case["complaint_id"])["assignee"] == "sup-1"


def test_the_job_ignores_a_non_scheduled_event():
    handler = handler_for("functions/complaint_routing/", "app.handler")
    with pytest.raises(ValueError):
        handler({"source": "aws.s3", "detail-type": "Object Created"}, LambdaContext())


# ---- queue views --------------------------------------------------------------------------


def test_queue_views_by_assignee_store_and_status_newest_deadline_first():
    p1 = file(member("diamond", "mgr-1"), severity="critical").body  # resolve in 24 h
    p2 = file(member("gold", "mgr-1", phone="13800138001"), severity="high").body  # 48 h
    queued = file(member(phone="13800138002")).body  # P3: 72 h, service queue
    mine = call("GET", "/complaints?assignee=mgr-1", claims=MANAGER)
    assert mine.status == 200
    assert [c["complaint_id"] for c in mine.body["complaints"]] == [p2["complaint_id"], p1["complaint_id"]]
    store = listed("/complaints?store_id=demo-001", "complaints", claims=SUPERVISOR)
    assert [c["complaint_id"] for c in store] == [queued["complaint_id"], p2["complaint_id"], p1["complaint_id"]]
    act(p1["complaint_id"], "acknowledge", claims=MANAGER)
    in_progress = listed("/complaints?status=in_progress", "complaints", claims=SUPERVISOR)
    assert [c["complaint_id"] for c in in_progress] == [p1["complaint_id"]]
    both = listed("/complaints?assignee=mgr-1&status=assigned", "complaints", claims=MANAGER)
    assert [c["complaint_id"] for c in both] == [p2["complaint_id"]]
    # a page at a time, in the same order, and a store queue's cursor is no good for a status view
    first = call("GET", "/complaints?store_id=demo-001&limit=1", claims=ADMIN).body
    assert [c["complaint_id"] for c in first["complaints"]] == [queued["complaint_id"]]
    assert [c["complaint_id"] for c in listed("/complaints?store_id=demo-001", "complaints", claims=ADMIN,
                                              limit=1)] == [c["complaint_id"] for c in store]
    r = call("GET", f"/complaints?status=assigned&after={first['next']}", claims=ADMIN)
    assert r.status == 422 and r.field_names() == ["after"]


def test_queue_views_need_a_filter_and_keep_store_staff_in_their_store():
    file(member())
    r = call("GET", "/complaints", claims=ADMIN)
    assert r.status == 422 and r.field_names() == ["status"]
    assert call("GET", "/complaints?store_id=demo-002", claims=CLERK_001).status == 403
    assert len(listed("/complaints?status=assigned", "complaints", claims=CLERK_001)) == 1
    assert listed("/complaints?status=assigned", "complaints", claims=OTHER_MANAGER) == []
    assert call("GET", "/complaints?status=weird", claims=ADMIN).status == 422
    assert listed("/complaints?status=assigned", "complaints", claims=OTHER_BRAND_ADMIN) == []


# ---- figures and counts -------------------------------------------------------------------


def test_report_counts_timeliness_per_store_and_month_from_counters():

    on_time = file(member("gold", "mgr-1")).body
    late = file(member("gold", "mgr-1", phone="13800138001")).body
    file(member(phone="13800138002"))
    act(on_time["complaint_id"], "acknowledge", claims=MANAGER)
    act(on_time["complaint_id"], "resolve", {"resolution": "ok"}, claims=MANAGER)
    act(on_time["complaint_id"], "feedback", {"satisfied": True, "nps": 10}, claims=MANAGER)
    run_job(at(late["opened_at"]) + timedelta(hours=5))  # P2 respond 4 h: escalated
    period = clock.brand_month(at(on_time["opened_at"]))

    r = call("GET", f"/reports/complaints?period={period}", claims=ADMIN)
    assert r.status == 200, r.body
    totals = r.body["totals"]
    assert (totals["opened"], totals["responded"], totals["responded_within_deadline"]) == (3, 1, 1)
    assert (totals["resolved"], totals["resolved_within_deadline"], totals["resolved_within_deadline_rate"]) == (
        1, 1, "0.3333")
    assert (totals["feedback"], totals["satisfied"], totals["satisfaction_rate"]) == (1, 1, "1.0000")
    assert totals["escalations"] == 1 and totals["nps"] == 100.0
    assert totals["mean_first_response_minutes"] is not None and totals["mean_first_response_minutes"] < 5
    assert [s["store_id"] for s in r.body["stores"]] == ["demo-001"]

    empty = call("GET", f"/reports/complaints?period={period}&store_id=demo-002", claims=ADMIN).body
    assert empty["totals"]["opened"] == 0 and empty["totals"]["satisfaction_rate"] is None
    assert call("GET", "/reports/complaints?period=2026-13", claims=ADMIN).status == 422
    assert call("GET", f"/reports/complaints?period={period}&store_id=demo-002", claims=CLERK_001).status == 403



def complaint_counts(member_id: str, moment: datetime):
    from vipcare.services.complaints import member_complaint_counts
    from vipcare.wiring import complaint_routing

    wired = complaint_routing()
    return member_complaint_counts("demo", member_id, moment, complaints=wired.complaints, directory=wired.directory)


def test_member_complaint_counts_for_the_tier_policy_and_churn_score():
    member_id = member("gold", "mgr-1")
    first = file(member_id).body
    file(member_id)
    act(first["complaint_id"], "acknowledge", claims=MANAGER)
    act(first["complaint_id"], "resolve", {"resolution": "ok"}, claims=MANAGER)
    act(first["complaint_id"], "feedback", {"satisfied": True}, claims=MANAGER)
    counts = complaint_counts(member_id, at(first["opened_at"]))
    assert (counts.open, counts.last_12_months) == (1, 2)
    a_year_later = complaint_counts(member_id, at(first["opened_at"]) + timedelta(days=400))
    assert a_year_later.last_12_months == 0


def test_a_complaint_filed_in_utcs_last_half_hour_of_the_year_counts_in_the_new_years_12_months():
    """Cases are counted under their store's local month: at 23:30 UTC on 31 December it is
    already January in Shanghai, and the 12-month window must be January's, not UTC's December's
    (it was, and the case counted nowhere until February)."""
    year_end = datetime(2027, 12, 31, 23, 30, tzinfo=UTC)
    member_id = member("gold", "mgr-1")
    case = file(member_id, at=year_end).body
    assert case["opened_at"].startswith("2027-12-31T23:30")
    assert complaint_counts(member_id, year_end).last_12_months == 1
    assert complaint_counts(member_id, year_end + timedelta(days=300)).last_12_months == 1
    assert complaint_counts(member_id, year_end + timedelta(days=400)).last_12_months == 0


def test_notes_stop_at_the_history_limit_with_a_clear_409(monkeypatch):
    from vipcare.services import complaints

    monkeypatch.setattr(complaints, "MAX_HISTORY", 4)
    cid = file(member("gold", "mgr-1")).body["complaint_id"]
    assert act(cid, "notes", {"text": "one"}, claims=MANAGER).status == 200
    assert act(cid, "notes", {"text": "two"}, claims=MANAGER).status == 200
    r = act(cid, "notes", {"text": "three"}, claims=MANAGER)
    assert r.status == 409 and r.body["error"] == "history_full"
    assert len(get(cid)["history"]) == 4

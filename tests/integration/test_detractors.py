"""A detractor's NPS answer (0-6), from the contact log or a complaint's feedback, raises one
follow-up task due in 3 days: for the member's manager, or the store's service queue when the
member has none (docs/reminders.md "Detractor follow-up")."""

from __future__ import annotations

from datetime import timedelta

from tests.support import clock
from tests.support.api import ADMIN, CLERK_002, call, claims_for, enrol, listed
from tests.support.queues import drain

QUEUE = "queue:demo-001:service"


def member(phone: str, manager: str | None = "mgr-1") -> str:
    from vipcare.store.models import MemberItem, member_pk

    mid = enrol(phone=phone).body["member_id"]
    if manager:
        MemberItem(member_pk("demo", mid), "PROFILE").update(actions=[MemberItem.manager_id.set(manager)])
    return mid


def detractor_tasks(staff_id: str) -> list[dict]:
    return [t for t in listed(f"/staff/{staff_id}/tasks", "tasks") if t["kind"] == "detractor"]


def contact(mid: str, nps: int, key: str | None = None):
    body = {"contacted_on": clock.local_day(clock.now()).isoformat(), "channel": "phone", "nps": nps}
    r = call("POST", f"/members/{mid}/contacts", body, claims=ADMIN, headers={"Idempotency-Key": key} if key else None)
    assert r.status == 201, r.body
    return r.body


def test_a_detractor_answer_in_the_contact_log_raises_one_follow_up_due_in_3_days(directory):
    mid = member("13800138401")
    first = contact(mid, 6, key="call-1")
    again = contact(mid, 6, key="call-1")  # a retry: one contact, one task
    assert first == again
    [task] = detractor_tasks("mgr-1")
    due = clock.local_day(clock.now() + timedelta(days=3)).isoformat()
    assert (task["member_id"], task["status"], task["due_on"]) == (mid, "open", due)
    assert task["task_id"] == f"detractor.contact.{first['contact_id']}"
    contact(mid, 7)  # passive: no task
    contact(mid, 10)
    assert len(detractor_tasks("mgr-1")) == 1
    contact(mid, 0)  # another answer, another task
    assert len(detractor_tasks("mgr-1")) == 2


def test_without_a_manager_the_stores_service_queue_gets_it(directory):
    mid = member("13800138402", manager=None)
    contact(mid, 2)
    [task] = detractor_tasks(QUEUE)
    assert task["assignee"] == QUEUE and task["member_id"] == mid
    assert call("GET", f"/staff/{QUEUE}/tasks", claims=CLERK_002).status == 404  # another store's queue
    assert call("GET", "/staff/queue:demo-404:service/tasks", claims=ADMIN).status == 404


def test_a_detractor_answer_to_a_complaint_raises_one_follow_up(directory):
    mid = member("13800138403")
    body = {"member_id": mid, "store_id": "demo-001", "channel": "hotline", "category": "service_attitude",
            "severity": "medium", "description": "Rude."}
    r = call("POST", "/complaints", body, claims=ADMIN)
    cid, holder = r.body["complaint_id"], r.body["assignee"]
    staff = claims_for(role="manager", staff_id=holder)
    assert call("POST", f"/complaints/{cid}/acknowledge", claims=staff).status == 200
    assert call("POST", f"/complaints/{cid}/resolve", {"resolution": "Apologised"}, claims=staff).status == 200
    r = call("POST", f"/complaints/{cid}/feedback", {"satisfied": True, "nps": 4}, claims=ADMIN)
    assert r.status == 200, r.body
    drain()
    drain()  # nothing left: still one task
    tasks = detractor_tasks("mgr-1")
    assert [t["member_id"] for t in tasks] == [mid]
    assert tasks[0]["task_id"].startswith(f"detractor.complaint.{cid}.feedback.v")  # one per answer (step)

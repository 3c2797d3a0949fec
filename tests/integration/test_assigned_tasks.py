"""Tasks given by hand (docs/reminders.md "Assigned tasks"): POST /tasks, passed down the
supervisor chain with every hand-over in the history, completed with an outcome, exactly once
under retries. Chain of the `directory` fixture: sup-1 > mgr-1 > clerk-1; mgr-2 (added here)
reports to sup-1 too, beside mgr-1."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support import clock
from tests.support.api import ADMIN, OTHER_BRAND_ADMIN, call, claims_for, enrol, listed

SUPERVISOR = claims_for(role="supervisor", staff_id="sup-1")
MANAGER = claims_for(role="manager", staff_id="mgr-1")
OTHER_MANAGER = claims_for(role="manager", staff_id="mgr-2")
CLERK = claims_for(role="store_staff", staff_id="clerk-1")


@pytest.fixture
def chain(directory):
    body = {"staff_id": "mgr-2", "name": "mgr-2", "role": "manager", "store_id": "demo-001", "supervisor_id": "sup-1"}
    assert call("POST", "/staff", body, claims=ADMIN).status == 201


def today() -> str:
    return clock.local_day(clock.now()).isoformat()


def give(claims=SUPERVISOR, key: str | None = None, **fields):
    body = {"assignee_id": "mgr-1", "title": "Call about the anniversary gift", "due_on": today(), **fields}
    return call("POST", "/tasks", body, claims=claims, headers={"Idempotency-Key": key} if key else None)


def pass_on(task_id: str, to: str, claims, key: str | None = None):
    return call("POST", f"/tasks/{task_id}/assign", {"assignee_id": to}, claims=claims,
                headers={"Idempotency-Key": key} if key else None)


def open_tasks(staff_id: str) -> list[dict]:
    return [t for t in listed(f"/staff/{staff_id}/tasks", "tasks") if t["status"] == "open"]


def test_a_task_given_by_hand_is_in_the_assignees_list_once_under_retries(chain):
    mid = enrol(phone="13800138201").body["member_id"]
    first = give(key="give-1", member_id=mid, note="she mentioned a trip")
    again = give(key="give-1", member_id=mid, note="she mentioned a trip")
    assert first.status == again.status == 201 and first.body == again.body
    task = first.body
    assert (task["kind"], task["assignee"], task["member_id"], task["due_on"]) == ("assigned", "mgr-1", mid, today())
    assert [(h["event"], h["by"], h["to_id"]) for h in task["history"]] == [("created", "sup-1", "mgr-1")]
    assert [t["task_id"] for t in open_tasks("mgr-1")] == [task["task_id"]]
    other = give(key="give-1", member_id=mid, note="another body")  # the key with another body
    assert other.status == 409 and other.field_names() == ["Idempotency-Key"]


def test_passed_down_the_chain_with_every_hand_over_kept(chain):
    tid = give().body["task_id"]
    r = pass_on(tid, "clerk-1", MANAGER, key="pass-1")
    again = pass_on(tid, "clerk-1", MANAGER, key="pass-1")
    assert r.status == again.status == 200 and r.body == again.body
    assert r.body["assignee"] == "clerk-1"
    assert [(h["event"], h["by"], h["from_id"], h["to_id"]) for h in r.body["history"]] == [
        ("created", "sup-1", None, "mgr-1"), ("assigned", "mgr-1", "mgr-1", "clerk-1")]
    assert open_tasks("mgr-1") == [] and [t["task_id"] for t in open_tasks("clerk-1")] == [tid]
    # without a key, the same hand-over again moves nothing and adds no history
    assert len(pass_on(tid, "clerk-1", MANAGER).body["history"]) == 2


def test_never_sideways_or_up_except_by_admins(chain):
    tid = give().body["task_id"]  # held by mgr-1
    r = pass_on(tid, "mgr-2", MANAGER)  # sideways
    assert r.status == 403 and r.field_names() == ["assignee_id"]
    r = pass_on(tid, "sup-1", MANAGER)  # up
    assert r.status == 403 and r.field_names() == ["assignee_id"]
    assert pass_on(tid, "clerk-1", OTHER_MANAGER).status == 403  # not the holder nor above them
    assert pass_on(tid, "clerk-1", CLERK).status == 403
    assert pass_on(tid, "clerk-1", SUPERVISOR).status == 200  # above the holder, down the chain
    r = pass_on(tid, "mgr-2", ADMIN)  # admins: anyone
    assert r.status == 200 and r.body["assignee"] == "mgr-2" and len(r.body["history"]) == 3
    assert pass_on(tid, "clerk-1", OTHER_BRAND_ADMIN).status == 404


def test_who_may_give_a_task(chain):
    assert give(MANAGER, assignee_id="clerk-1").status == 201  # below the manager
    r = give(MANAGER, assignee_id="sup-1")
    assert r.status == 403 and r.field_names() == ["assignee_id"]
    assert give(MANAGER, assignee_id="mgr-2").status == 403
    assert give(CLERK, assignee_id="clerk-1").status == 403
    assert give(SUPERVISOR, assignee_id="mgr-2").status == 201


def test_bad_input_names_the_field_and_writes_nothing(chain):
    yesterday = (clock.local_day(clock.now()) - timedelta(days=1)).isoformat()
    foreign = enrol(OTHER_BRAND_ADMIN, phone="13800138202", store_id="acme-001").body["member_id"]
    for fields, status, field in (({"assignee_id": "nobody"}, 422, "assignee_id"),
                                  ({"due_on": yesterday}, 422, "due_on"),
                                  ({"title": ""}, 422, "title"),
                                  ({"due_on": "tomorrow"}, 422, "due_on"),
                                  ({"member_id": foreign}, 404, None)):
        r = give(**fields)
        assert r.status == status, (fields, r.body)
        assert field is None or r.field_names() == [field]
    assert open_tasks("mgr-1") == []


def test_completion_takes_an_outcome_once(chain):
    tid = give().body["task_id"]
    r = call("POST", f"/tasks/{tid}/complete", {}, claims=MANAGER)
    assert r.status == 422 and r.field_names() == ["outcome"]
    assert call("POST", f"/tasks/{tid}/complete", {"outcome": "x"}, claims=OTHER_MANAGER).status == 403
    r = call("POST", f"/tasks/{tid}/complete", {"outcome": "gift chosen, delivery on Friday"}, claims=MANAGER)
    assert r.status == 200 and (r.body["status"], r.body["outcome"], r.body["completed_by"]) == (
        "done", "gift chosen, delivery on Friday", "mgr-1")
    assert call("POST", f"/tasks/{tid}/complete", {"outcome": "again"}, claims=MANAGER).status == 409
    assert pass_on(tid, "clerk-1", MANAGER).status == 409
    assert call("POST", "/tasks/cadence.2026-01/complete", {"outcome": "x"}, claims=ADMIN).status == 404

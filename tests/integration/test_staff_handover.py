"""Account managers (docs/domain.md §1, docs/kpis.md "Account managers"): leave, return and
departure hand over members, open tasks and open complaints; nothing is left orphaned."""

from __future__ import annotations

import pytest

from tests.support import clock
from tests.support.api import ADMIN, CLERK_001, OTHER_BRAND_ADMIN, call, claims_for, enrol, listed

pytestmark = pytest.mark.usefixtures("directory")


def staff(staff_id: str, role: str = "manager", capacity: int = 3, supervisor: str | None = "sup-1") -> None:
    body = {"staff_id": staff_id, "name": staff_id, "role": role, "store_id": "demo-001",
            "supervisor_id": supervisor, "capacity": capacity}
    assert call("POST", "/staff", body, claims=ADMIN).status == 201


def gold_member(phone: str, manager: str) -> str:
    """A gold member of `manager`'s book, assigned as the tier service does (count included)."""
    from vipcare.store.models import MemberItem, member_pk
    from vipcare.store.tiers import TierRepository

    mid = enrol(phone=phone).body["member_id"]
    MemberItem(member_pk("demo", mid), "PROFILE").update(actions=[MemberItem.tier.set("gold")])
    assert TierRepository().assign_manager("demo", mid, manager, 100, clock.now())
    return mid


def raise_task(member_id: str) -> str:
    from vipcare.domain.tasks import TaskKind
    from vipcare.services.tasks import TaskRun
    from vipcare.wiring import care

    deps = care()
    profile = deps.members.get("demo", member_id)
    assert profile is not None
    assert TaskRun(clock.now(), deps).raise_task(profile, TaskKind.CADENCE, clock.brand_month(clock.now()),
                                                 "monthly contact")
    return "cadence.2026-12"


def file_complaint(member_id: str) -> dict:
    body = {"member_id": member_id, "store_id": "demo-001", "channel": "store", "category": "billing",
            "severity": "low", "description": "Charged twice."}
    r = call("POST", "/complaints", body, claims=ADMIN)
    assert r.status == 201, r.body
    return r.body


def tasks_of(staff_id: str) -> list[dict]:
    return [t for t in listed(f"/staff/{staff_id}/tasks", "tasks") if t["status"] == "open"]


def book(staff_id: str) -> list[str]:
    r = call("GET", f"/staff/{staff_id}/members?limit=100", claims=ADMIN)
    assert r.status == 200, r.body
    return [m["member_id"] for m in r.body["members"]]


def test_leave_sends_open_tasks_and_complaints_to_the_supervisor_and_return_brings_the_tasks_back():
    mid = gold_member("13800138600", "mgr-1")
    raise_task(mid)
    case = file_complaint(mid)
    assert case["assignee"] == "mgr-1"
    r = call("POST", "/staff/mgr-1/leave", claims=ADMIN)
    assert r.status == 200, r.body
    assert (r.body["tasks"], r.body["complaints"], r.body["to"]) == (1, 1, {"sup-1": 2})
    assert [t["member_id"] for t in tasks_of("sup-1")] == [mid] and tasks_of("mgr-1") == []
    moved = call("GET", f"/complaints/{case['complaint_id']}", claims=ADMIN).body
    assert moved["assignee"] == "sup-1" and "on leave" in moved["history"][-1]["text"]
    # while on leave, a new case for their member goes to the supervisor too
    assert file_complaint(mid)["assignee"] == "sup-1"
    back = call("POST", "/staff/mgr-1/return", claims=ADMIN)
    assert back.status == 200 and back.body["tasks"] == 1
    assert [t["member_id"] for t in tasks_of("mgr-1")] == [mid]
    assert call("GET", "/staff/mgr-1", claims=ADMIN).body["on_leave"] is False


def test_departure_reassigns_every_member_task_and_case_to_the_least_loaded_managers():
    staff("mgr-2", capacity=2)
    staff("mgr-3", capacity=10)
    members = [gold_member(f"1380013870{i}", "mgr-1") for i in range(4)]
    gold_member("13800138710", "mgr-3")  # mgr-3 starts with one, mgr-2 with none
    for mid in members[:2]:
        raise_task(mid)
    case = file_complaint(members[0])
    r = call("POST", "/staff/mgr-1/departure", claims=ADMIN)
    assert r.status == 200, r.body
    assert (r.body["members"], r.body["tasks"], r.body["complaints"]) == (4, 2, 1)
    assert book("mgr-1") == [] and tasks_of("mgr-1") == []
    # balanced within capacity: mgr-2 (0 of 2) and mgr-3 (1 of 10) end with 2 and 3
    assert sorted(len(book(s)) for s in ("mgr-2", "mgr-3")) == [2, 3]
    assert len(book("mgr-2")) == 2
    from vipcare.store.models import MemberItem, member_pk

    for mid in members:
        manager = MemberItem.get(member_pk("demo", mid), "PROFILE").manager_id
        assert manager in ("mgr-2", "mgr-3")
    owner = MemberItem.get(member_pk("demo", members[0]), "PROFILE").manager_id
    assert call("GET", f"/complaints/{case['complaint_id']}", claims=ADMIN).body["assignee"] == owner
    assert call("GET", "/staff/mgr-1", claims=ADMIN).body["active"] is False
    again = call("POST", "/staff/mgr-1/departure", claims=ADMIN)  # a rerun finds nothing left
    assert (again.body["members"], again.body["tasks"], again.body["complaints"]) == (0, 0, 0)
    from vipcare.store.directory import DirectoryRepository

    log = DirectoryRepository().staff_log("demo", "mgr-1")
    assert [e["action"] for e in log] == ["departure", "departure"] and log[0]["by"] == "staff:demo-001-admin"


def test_when_nobody_has_room_members_still_get_a_manager_and_it_is_reported():
    staff("mgr-2", capacity=1)
    members = [gold_member(f"1380013880{i}", "mgr-1") for i in range(3)]
    r = call("POST", "/staff/mgr-1/departure", claims=ADMIN).body
    assert r["members"] == 3 and r["over_capacity"] == 2
    assert sorted(book("mgr-2")) == sorted(members)


def test_handover_rules_roles_and_brands():
    assert call("POST", "/staff/mgr-1/leave", claims=CLERK_001).status == 403
    assert call("POST", "/staff/mgr-1/leave", claims=OTHER_BRAND_ADMIN).status == 404
    assert call("POST", "/staff/nobody/departure", claims=ADMIN).status == 404
    assert call("POST", "/staff/sup-1/leave", claims=ADMIN).status == 409  # no supervisor to cover
    # the manager's own supervisor may record it
    supervisor = claims_for(role="supervisor", staff_id="sup-1")
    assert call("POST", "/staff/mgr-1/leave", claims=supervisor).status == 200

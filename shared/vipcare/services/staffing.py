"""The account-manager workflow (docs/domain.md §1: the company owns the customer, not the
salesperson): leave, return and departure.

- Leave: the staff member is marked on leave; their open tasks and open complaints go to
  their supervisor (new ones are routed there too while the leave lasts).
- Return: the tasks of their own members come back from the supervisor; complaints stay with
  whoever took them over (a case in progress is not bounced back).
- Departure: the staff member is deactivated; every member of their book goes to the
  least-loaded manager of the member's store (within capacity when anyone has room, otherwise
  the least loaded; the store's supervisor when the store has no manager), every open task to
  the member's new manager and every open complaint likewise (or to the supervisor). Nothing
  is left orphaned; a rerun finishes an interrupted departure.
Each run is audited (who, when, what moved where) in DirectoryTable and logged (ids only).
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..domain.access import Caller, Role
from ..domain.complaints import Action, Complaint, HistoryEntry, Status
from ..domain.directory import Staff
from ..domain.errors import Conflict, Forbidden, NotFound
from ..domain.tasks import Task
from ..store.complaints import StaleCase, Step
from ..store.models import Taken
from ..store.paging import every
from .care_ports import CareMembers, TaskStore
from .ports import ComplaintStore, ManagerMoves, StaffAdmin, StaffNotifier

log = logging.getLogger("vipcare.staffing")
OPEN_CASES = (Status.OPEN, Status.ASSIGNED, Status.IN_PROGRESS, Status.REOPENED)
PAGE = 100


@dataclass
class Handover:
    staff_id: str
    action: str
    members: int = 0
    tasks: int = 0
    complaints: int = 0
    to: Counter[str] = field(default_factory=Counter)  # staff id -> items received
    over_capacity: int = 0  # members given to a manager already at capacity (nobody had room)

    def as_dict(self) -> dict[str, Any]:
        return {"staff_id": self.staff_id, "action": self.action, "members": self.members, "tasks": self.tasks,
                "complaints": self.complaints, "to": dict(sorted(self.to.items())),
                "over_capacity": self.over_capacity}


def _may_manage(caller: Caller, staff: Staff) -> None:
    """Admins, and the staff member's own supervisor, may record leave and departures."""
    if caller.role == Role.ADMIN or (staff.supervisor_id and staff.supervisor_id == caller.staff_id):
        return
    raise Forbidden("only an administrator or the staff member's supervisor may do this")


def _staff(caller: Caller, staff_id: str, directory: StaffAdmin) -> Staff:
    staff = directory.staff(caller.brand_id, staff_id)
    if staff is None:
        raise NotFound("staff not found")
    _may_manage(caller, staff)
    return staff


@dataclass(frozen=True)
class StaffingDeps:
    """What a handover moves and tells: tasks, cases, managed members, the audit, the staff."""

    directory: StaffAdmin
    tasks: TaskStore
    complaints: ComplaintStore
    tiers: ManagerMoves
    members: CareMembers
    notifier: StaffNotifier


class _Mover:
    def __init__(self, caller: Caller, now: datetime, deps: StaffingDeps) -> None:
        self.caller, self.now = caller, now
        self.directory, self.tasks, self.complaints = deps.directory, deps.tasks, deps.complaints
        self.tiers, self.members, self.notifier = deps.tiers, deps.members, deps.notifier

    # ---- tasks and cases
    def open_tasks(self, staff_id: str) -> list[Task]:
        found: list[Task] = []
        for t in every(lambda after: self.tasks.assigned_to(self.caller.brand_id, staff_id, limit=200, after=after)):
            if not t.open:
                break  # open tasks come first: the rest are done
            found.append(t)
        return found

    def give_task(self, task: Task, to: str, run: Handover) -> None:
        try:
            self.tasks.hand_over(task, to)
        except Taken:
            return  # completed meanwhile
        run.tasks += 1
        run.to[to] += 1
        log.info("task handed over", extra={"task_id": task.task_id, "member_id": task.member_id, "to": to,
                                            "action": run.action})

    def open_cases(self, staff_id: str) -> list[Complaint]:
        cases = every(lambda after: self.complaints.queue(self.caller.brand_id, status=None, assignee=staff_id,
                                                          store_id=None, limit=200, after=after))
        return [c for c in cases if c.status in OPEN_CASES]

    def give_case(self, case: Complaint, to: str, why: str, run: Handover) -> None:
        after = dataclasses.replace(case, assignee=to, history=[])
        entry = HistoryEntry(at=self.now, actor=self.caller.source, action=Action.ASSIGN, status=case.status,
                             assignee=to, text=f"handed over from {case.assignee}: {why}")
        try:
            self.complaints.apply(Step(before=case, after=after, entry=entry, kpi={}))
        except StaleCase:
            return  # moved meanwhile: the next run sees where it is now
        run.complaints += 1
        run.to[to] += 1

    def tell(self, run: Handover) -> None:
        for staff_id, count in run.to.items():
            try:
                self.notifier.tell_staff({"event": f"staff.{run.action}", "brand_id": self.caller.brand_id,
                                          "assignee": staff_id, "from": run.staff_id, "items": count})
            except Exception:  # noqa: BLE001 - the handover stands; the notification is best effort
                log.warning("handover notification failed", extra={"to": staff_id})

    def audit(self, run: Handover) -> None:
        self.directory.log_staff_change(self.caller.brand_id, run.staff_id, run.action, self.caller.source, self.now,
                                        run.as_dict())
        log.info("staff handover", extra=run.as_dict())


def _has_cover(staff: Staff) -> None:
    if not staff.supervisor_id:
        raise Conflict("nobody covers: the staff member has no supervisor", field="supervisor_id",
                       code="no_supervisor")


def _set_leave(mover: _Mover, staff_id: str, *, on_leave: bool,
               check: Callable[[Staff], None] | None = None) -> Staff:
    """An active staff member the caller may manage, with `on_leave` set (checked first)."""
    staff = _staff(mover.caller, staff_id, mover.directory)
    if not staff.active:
        raise Conflict("the staff member has left", field="staff_id", code="inactive")
    if check is not None:
        check(staff)
    if staff.on_leave != on_leave:
        mover.directory.update_staff(dataclasses.replace(staff, on_leave=on_leave), {"on_leave": on_leave},
                                     now=mover.now)
    return staff


def go_on_leave(caller: Caller, staff_id: str, *, now: datetime, deps: StaffingDeps) -> Handover:
    mover = _Mover(caller, now, deps)
    staff = _set_leave(mover, staff_id, on_leave=True, check=_has_cover)
    cover = staff.supervisor_id or ""  # never empty: _has_cover refused a staff member without one
    run = Handover(staff_id, "leave")
    for task in mover.open_tasks(staff_id):
        mover.give_task(task, cover, run)
    for case in mover.open_cases(staff_id):
        mover.give_case(case, cover, f"{staff_id} is on leave", run)
    mover.tell(run)
    mover.audit(run)
    return run


def come_back(caller: Caller, staff_id: str, *, now: datetime, deps: StaffingDeps) -> Handover:
    mover = _Mover(caller, now, deps)
    staff = _set_leave(mover, staff_id, on_leave=False)
    run = Handover(staff_id, "return")
    if staff.supervisor_id:
        for task in mover.open_tasks(staff.supervisor_id):
            if task.manager_id == staff_id:  # a task about one of their own members
                mover.give_task(task, staff_id, run)
    mover.tell(run)
    mover.audit(run)
    return run


def depart(caller: Caller, staff_id: str, *, now: datetime, deps: StaffingDeps) -> Handover:
    mover = _Mover(caller, now, deps)
    staff = _staff(caller, staff_id, mover.directory)
    if staff.active or staff.on_leave:  # first: nothing new is routed to them from now on
        mover.directory.update_staff(dataclasses.replace(staff, active=False, on_leave=False),
                                     {"active": False, "on_leave": False}, now=mover.now)
    run = Handover(staff_id, "departure")
    new_manager: dict[str, str] = {}  # member -> who took them
    while True:
        ids, _ = mover.members.book_page(caller.brand_id, staff_id, limit=PAGE)
        if not ids:
            break
        moved_any = False
        for profile in mover.members.profiles((caller.brand_id, m) for m in ids):
            target = _least_loaded(mover, profile.store_id, staff_id, run)
            if mover.tiers.move_member(caller.brand_id, profile.member_id, staff_id, target, mover.now):
                new_manager[profile.member_id] = target
                run.members += 1
                run.to[target] += 1
                moved_any = True
                log.info("member reassigned", extra={"member_id": profile.member_id, "to": target})
        if not moved_any:
            break  # the index lags the writes: what is left is picked up by a rerun
    fallback = staff.supervisor_id or _store_supervisor(mover, staff.store_id)
    for task in mover.open_tasks(staff_id):
        mover.give_task(task, new_manager.get(task.member_id) or _member_manager(mover, task.member_id) or fallback,
                        run)
    for case in mover.open_cases(staff_id):
        to = new_manager.get(case.member_id) or _least_loaded(mover, case.store_id, staff_id, run, count=False)
        mover.give_case(case, to, f"{staff_id} left", run)
    mover.tell(run)
    mover.audit(run)
    return run


def _member_manager(mover: _Mover, member_id: str) -> str | None:
    profile = mover.members.get(mover.caller.brand_id, member_id)
    return profile.manager_id if profile is not None and profile.manager_id else None


def _store_supervisor(mover: _Mover, store_id: str | None) -> str:
    supervisors = [s for s in mover.directory.staff_of_store(mover.caller.brand_id, store_id or "", Role.SUPERVISOR)
                   if s.active] if store_id else []
    if not supervisors:
        raise Conflict("nobody to hand over to: the store has no active manager or supervisor", field="staff_id",
                       code="no_successor")
    return supervisors[0].staff_id


def _least_loaded(mover: _Mover, store_id: str, leaving: str, run: Handover, *, count: bool = True) -> str:
    """The store's manager with the fewest dedicated members, preferring those with capacity
    left; the store's supervisor when it has no manager."""
    managers = [s for s in mover.directory.staff_of_store(mover.caller.brand_id, store_id, Role.MANAGER)
                if s.active and not s.on_leave and s.staff_id != leaving]
    if not managers:
        return _store_supervisor(mover, store_id)
    loads = mover.tiers.manager_loads(mover.caller.brand_id, [s.staff_id for s in managers])
    with_room = [s for s in managers if loads.get(s.staff_id, 0) < s.capacity]
    pool = with_room or managers
    chosen = min(pool, key=lambda s: (loads.get(s.staff_id, 0), s.staff_id))
    if count and not with_room:
        run.over_capacity += 1
    return chosen.staff_id

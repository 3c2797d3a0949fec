"""Tasks given by hand and passed down the supervisor chain (docs/reminders.md "Assigned
tasks"): `POST /tasks`, `POST /tasks/{task_id}/assign`, `POST /tasks/{task_id}/complete`.
The rules are domain/assignments.py; this reads the directory and writes the task.

Exactly once: with an `Idempotency-Key` the task id derives from the key (a retry after a crash
finds the task instead of giving it twice); a hand-over already done to the same person by the
same caller answers the task as it is (no second history entry).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..domain import assignments as rules
from ..domain.access import Caller
from ..domain.errors import Conflict, NotFound, ValidationFailed
from ..domain.tasks import Task, TaskKind, TaskStatus, task_id
from ..store.models import Taken
from .care_ports import CareDeps
from .tasks import TaskRun, brand_today, visible_member


@dataclass(frozen=True)
class NewTask:
    assignee_id: str
    title: str
    due_on: date
    member_id: str | None = None
    note: str | None = None


def _chain(caller: Caller, deps: CareDeps) -> rules.SupervisorOf:
    def supervisor_of(staff_id: str) -> str | None:
        staff = deps.directory.staff(caller.brand_id, staff_id)
        return staff.supervisor_id if staff else None
    return supervisor_of


def _assignee(caller: Caller, staff_id: str, deps: CareDeps) -> None:
    staff = deps.directory.staff(caller.brand_id, staff_id)
    if staff is None or not staff.active:
        raise ValidationFailed("no active staff member of the brand has this id", field="assignee_id")


def _entry(event: str, caller: Caller, now: datetime, to: str, frm: str | None = None) -> dict[str, Any]:
    return {"event": event, "at": now.isoformat(), "by": caller.staff_id, "from_id": frm, "to_id": to}


def create_task(caller: Caller, new: NewTask, *, now: datetime, deps: CareDeps,
                request_key: str | None = None) -> Task:
    _assignee(caller, new.assignee_id, deps)
    rules.check_create(caller, new.assignee_id, _chain(caller, deps))
    member = visible_member(caller, new.member_id, deps) if new.member_id else None
    if new.due_on < brand_today(caller.brand_id, now, deps):
        raise ValidationFailed("must not be in the past", field="due_on")
    ident = (hashlib.sha256(f"{caller.brand_id}#task#{request_key}".encode()).hexdigest()[:32] if request_key
             else uuid.uuid4().hex)
    tid = task_id(TaskKind.ASSIGNED, ident)
    task = Task(brand_id=caller.brand_id, member_id=member.member_id if member else "", task_id=tid,
                kind=TaskKind.ASSIGNED, period=ident, status=TaskStatus.OPEN, assignee=new.assignee_id,
                created_at=now, manager_id=member.manager_id if member else None, reason=new.title,
                title=new.title, note=new.note, due_on=new.due_on,
                history=[_entry("created", caller, now, new.assignee_id)])
    if deps.tasks.add(task):
        TaskRun(now, deps).tell(task, "task_assigned")
        return task
    found = deps.tasks.assigned(caller.brand_id, tid)  # a retry after a crash: the first one
    assert found is not None
    return found


def _visible_task(caller: Caller, tid: str, deps: CareDeps) -> Task:
    task = deps.tasks.assigned(caller.brand_id, tid) if tid.startswith(f"{TaskKind.ASSIGNED.value}.") else None
    if task is None:
        raise NotFound("task not found")
    return task


def pass_on(caller: Caller, tid: str, assignee_id: str, *, now: datetime, deps: CareDeps) -> Task:
    task = _visible_task(caller, tid, deps)
    last = task.history[-1] if task.history else {}
    if task.assignee == assignee_id and last.get("by") == caller.staff_id and last.get("event") == "assigned":
        return task  # the same hand-over again (a retry): nothing moves twice
    if not task.open:
        raise Conflict("the task is already completed", code="task_done")
    _assignee(caller, assignee_id, deps)
    rules.check_pass_on(caller, task.assignee, assignee_id, _chain(caller, deps))
    entry = _entry("assigned", caller, now, assignee_id, task.assignee)
    try:
        deps.tasks.pass_on(task, assignee_id, entry)
    except Taken:
        raise Conflict("the task was completed or passed on meanwhile; reload it", code="task_changed") from None
    moved = deps.tasks.assigned(caller.brand_id, tid)
    assert moved is not None
    TaskRun(now, deps).tell(moved, "task_assigned")
    return moved


def complete_assigned(caller: Caller, tid: str, outcome: str, *, now: datetime, deps: CareDeps) -> Task:
    task = _visible_task(caller, tid, deps)
    if not task.open:
        raise Conflict("the task is already completed", code="task_done")
    rules.check_complete(caller, task.assignee, _chain(caller, deps))
    try:
        deps.tasks.complete(task, now, caller.staff_id, outcome)
    except Taken:
        raise Conflict("the task is already completed", code="task_done") from None
    done = deps.tasks.assigned(caller.brand_id, tid)
    assert done is not None
    return done

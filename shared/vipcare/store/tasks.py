"""Manager tasks (CareTable, under the member, or under the activity for an organiser's task):
`TASK#<kind>.<period>`, written only if new, so a rerun of the job never raises a task twice.

Two sparse indexes find them: `by_assignee` (BRAND#<brand>#STAFF#<staff>, open tasks first in
the order raised, then done ones) for a staff member's list, and `due` (TASKESC#<shard>,
the moment the task is escalated if still open) for the escalation job.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from ..domain.tasks import Task, TaskKind, TaskStatus
from .care_table import CareTableModel, due_partitions, due_pk, utc_text
from .models import DueIndex, Taken, member_pk, taken_on_condition
from .paging import KeyedQuery, Page

TASK_PREFIX = "TASK#"
DUE_PREFIX = "TASKESC"


class AssigneeIndex(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "by_assignee"
        projection = AllProjection()

    assignee_pk = UnicodeAttribute(hash_key=True)
    assignee_sk = UnicodeAttribute(range_key=True)


class TaskItem(CareTableModel):
    """sk TASK#<kind>.<period>: one task per member, kind and period (the dedup key)."""

    class Meta(CareTableModel.Meta):
        pass

    due_pk = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)
    assignee_pk = UnicodeAttribute(null=True)
    assignee_sk = UnicodeAttribute(null=True)
    due = DueIndex()
    by_assignee = AssigneeIndex()
    brand_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    task_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    period = UnicodeAttribute()
    status = UnicodeAttribute()
    assignee = UnicodeAttribute()
    manager_id = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    detail = MapAttribute[str, Any](null=True)
    escalated = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    completed_at = UTCDateTimeAttribute(null=True)
    completed_by = UnicodeAttribute(null=True)
    activity_id = UnicodeAttribute(null=True)
    title = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)
    due_on = UnicodeAttribute(null=True)
    outcome = UnicodeAttribute(null=True)
    lost_reason = UnicodeAttribute(null=True)  # a retention task closed `lost`: why
    history = ListAttribute[dict[str, Any]](null=True)


def assigned_task_pk(brand_id: str, task_id: str) -> str:
    """A task given by hand lives under its own key, found by its id alone (POST /tasks/{id}/...)."""
    return f"BRAND#{brand_id}#TASK#{task_id}"


def activity_task_pk(brand_id: str, activity_id: str) -> str:
    return f"BRAND#{brand_id}#ACTIVITY#{activity_id}"


def _task_pk(t: Task) -> str:
    if t.kind is TaskKind.ASSIGNED:
        return assigned_task_pk(t.brand_id, t.task_id)
    return activity_task_pk(t.brand_id, t.activity_id) if t.activity_id else member_pk(t.brand_id, t.member_id)


def task_sk(task_id: str) -> str:
    return TASK_PREFIX + task_id


def assignee_pk(brand_id: str, staff_id: str) -> str:
    return f"BRAND#{brand_id}#STAFF#{staff_id}"


def _assignee_sk(t: Task) -> str:
    """Open tasks sort before done ones; open by when raised, done by when completed."""
    if t.status is TaskStatus.OPEN:
        return f"1OPEN#{t.created_at.isoformat()}#{t.member_id or t.activity_id or t.task_id}"
    return f"2DONE#{(t.completed_at or t.created_at).isoformat()}"


def _to_item(t: Task) -> TaskItem:
    return TaskItem(_task_pk(t), task_sk(t.task_id), brand_id=t.brand_id,
                    member_id=t.member_id, task_id=t.task_id, kind=t.kind.value, period=t.period,
                    status=t.status.value, assignee=t.assignee, manager_id=t.manager_id, reason=t.reason,
                    detail=t.detail or None, escalated=t.escalated, created_at=t.created_at,
                    completed_at=t.completed_at, completed_by=t.completed_by, activity_id=t.activity_id,
                    title=t.title, note=t.note, due_on=t.due_on.isoformat() if t.due_on else None,
                    outcome=t.outcome, lost_reason=t.lost_reason, history=t.history or None,
                    assignee_pk=assignee_pk(t.brand_id, t.assignee), assignee_sk=_assignee_sk(t),
                    due_pk=due_pk(DUE_PREFIX, t.member_id or t.activity_id or "") if t.escalate_at else None,
                    due_sk=utc_text(t.escalate_at) if t.escalate_at else None)


def _from_item(item: TaskItem) -> Task:
    return Task(brand_id=item.brand_id, member_id=item.member_id, task_id=item.task_id, kind=TaskKind(item.kind),
                period=item.period, status=TaskStatus(item.status), assignee=item.assignee,
                created_at=item.created_at, manager_id=item.manager_id, reason=item.reason,
                detail=item.detail.as_dict() if item.detail else {}, escalated=int(item.escalated or 0),
                completed_at=item.completed_at, completed_by=item.completed_by,
                escalate_at=datetime.fromisoformat(item.due_sk) if item.due_sk else None,
                activity_id=item.activity_id, title=item.title, note=item.note,
                due_on=date.fromisoformat(item.due_on) if item.due_on else None, outcome=item.outcome,
                lost_reason=item.lost_reason,
                history=[dict(h) for h in item.history or []])


def done_actions(task: Task, now: datetime, staff_id: str,
                 outcome: str | None = None) -> tuple[TaskItem, list[Any]]:
    """The update that completes an open task (also used inside the contact transaction)."""
    done = replace(task, status=TaskStatus.DONE, completed_at=now, completed_by=staff_id, escalate_at=None)
    return _to_item(task), [TaskItem.status.set(TaskStatus.DONE.value), TaskItem.completed_at.set(now),
                            TaskItem.completed_by.set(staff_id), TaskItem.assignee_sk.set(_assignee_sk(done)),
                            TaskItem.due_pk.remove(), TaskItem.due_sk.remove(),
                            *([TaskItem.outcome.set(outcome)] if outcome else [])]


def still_missing(task: Task, missing: list[dict[str, Any]]) -> tuple[TaskItem, list[Any]]:
    """The update that keeps a cadence task open with what its period still misses."""
    return _to_item(task), [TaskItem.detail.set({**task.detail, "missing": missing})]


OPEN_ONLY = TaskItem.status == TaskStatus.OPEN.value


class TaskRepository:
    def get(self, brand_id: str, member_id: str, task_id: str) -> Task | None:
        try:
            return _from_item(TaskItem.get(member_pk(brand_id, member_id), task_sk(task_id)))
        except DoesNotExist:
            return None

    def assigned(self, brand_id: str, task_id: str) -> Task | None:
        """A task given by hand, by its id."""
        try:
            return _from_item(TaskItem.get(assigned_task_pk(brand_id, task_id), task_sk(task_id)))
        except DoesNotExist:
            return None

    def pass_on(self, task: Task, to: str, entry: dict[str, Any]) -> None:
        """Hand an open task from its holder to `to`, the hand-over appended to its history.
        Taken when it was completed or passed on meanwhile (the holder read is the condition)."""
        with taken_on_condition():
            _to_item(task).update(actions=[TaskItem.assignee.set(to),
                                           TaskItem.assignee_pk.set(assignee_pk(task.brand_id, to)),
                                           TaskItem.history.set((TaskItem.history | []).append([entry]))],
                                  condition=OPEN_ONLY & (TaskItem.assignee == task.assignee))

    def of_activity(self, brand_id: str, activity_id: str, task_id: str) -> Task | None:
        try:
            return _from_item(TaskItem.get(activity_task_pk(brand_id, activity_id), task_sk(task_id)))
        except DoesNotExist:
            return None

    def add(self, task: Task) -> bool:
        """Write a new task; False when the member already has it (same kind and period)."""
        try:
            with taken_on_condition():
                _to_item(task).save(condition=TaskItem.pk.does_not_exist())
        except Taken:
            return False
        return True

    def of_member(self, brand_id: str, member_id: str) -> list[Task]:
        return [_from_item(i) for i in TaskItem.query(member_pk(brand_id, member_id),
                                                      TaskItem.sk.startswith(TASK_PREFIX))]

    def assigned_to(self, brand_id: str, staff_id: str, *, limit: int, after: str | None = None) -> Page[Task]:
        """A page of a staff member's tasks, open first (oldest first), then done ones."""
        q = KeyedQuery("tasks", {"assignee_pk": assignee_pk(brand_id, staff_id)}, ("assignee_sk", "pk", "sk"))
        items, more = q.take(TaskItem.by_assignee.query(assignee_pk(brand_id, staff_id), scan_index_forward=True,
                                                        page_size=limit, last_evaluated_key=q.start(after)), limit)
        return Page([_from_item(i) for i in items], more)

    def due(self, now: datetime) -> list[Task]:
        """Tasks whose escalation moment has come (open ones; done tasks leave the index)."""
        bound = utc_text(now)
        return [_from_item(i) for p in due_partitions(DUE_PREFIX) for i in TaskItem.due.query(
            p, TaskItem.due_sk <= bound)]

    def escalate(self, task: Task, to: str) -> None:
        """Hand an open task up to `to`, counted as an escalation; it leaves the escalation
        index (one step per task). Taken when it was completed meanwhile."""
        with taken_on_condition():
            _to_item(task).update(actions=[TaskItem.assignee.set(to), TaskItem.assignee_pk.set(assignee_pk(
                task.brand_id, to)), TaskItem.escalated.add(1), TaskItem.due_pk.remove(), TaskItem.due_sk.remove()],
                condition=OPEN_ONLY)

    def hand_over(self, task: Task, to: str) -> None:
        """Give an open task to someone else (leave, return, departure): not an escalation, so
        its escalation clock keeps running. Taken when it was completed meanwhile."""
        with taken_on_condition():
            _to_item(task).update(actions=[TaskItem.assignee.set(to),
                                           TaskItem.assignee_pk.set(assignee_pk(task.brand_id, to))],
                                  condition=OPEN_ONLY)

    def complete(self, task: Task, now: datetime, staff_id: str, outcome: str | None = None) -> None:
        """Mark an open task done (with how it ended); Taken when it was done already."""
        item, actions = done_actions(task, now, staff_id, outcome)
        with taken_on_condition():
            item.update(actions=actions, condition=OPEN_ONLY)

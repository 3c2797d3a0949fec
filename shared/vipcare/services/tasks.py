"""Manager tasks (docs/domain.md §4, docs/reminders.md): raised by the job, escalated when left
open, listed and completed through the API.

- A silver+ member has a cadence review whose date sits in a sparse index; the job reads only
  reviews due today. A review raises the period's cadence task (one per member, kind and
  period: the task's id is the dedup), plus dormancy and retention tasks when they apply,
  then moves the review to the next period.
- Tasks go to the member's manager, to the manager's supervisor when on leave; an open task
  is handed to the assignee's supervisor after 7 days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from ..domain import cadence as rules_c
from ..domain import reminders as rules
from ..domain import tasks as rules_t
from ..domain.access import Caller, Role, ensure_visible
from ..domain.errors import Conflict, NotFound, ValidationFailed
from ..domain.members import Member
from ..domain.months import month_of
from ..domain.tasks import Cadence, Task, TaskKind, TaskStatus, task_id
from ..store.models import Taken
from ..store.paging import Page
from .brands import brand_settings
from .care_ports import CareDeps
from .limits import tier_policy


def brand_today(brand_id: str, now: datetime, deps: CareDeps) -> date:
    return now.astimezone(rules.zone(brand_settings(brand_id, deps.directory).timezone)).date()


def tier_cadence(brand_id: str, tier: str, deps: CareDeps) -> rules_c.Cadence:
    """What the brand's tier policy asks per period for a member of `tier` (empty: nothing)."""
    return tier_policy(brand_id, repo=deps.policies).cadence(tier)


def period_missing(brand_id: str, member_id: str, cadence: rules_c.Cadence, day: date, deps: CareDeps,
                   *, plus: str | None = None) -> list[dict[str, Any]]:
    """What the period of `day` still misses, from the contact log of that period (plus the
    channel of a contact being logged): the one place a period is judged done."""
    months = rules_c.period_months(cadence)
    assert months is not None
    logged = deps.contacts.between(brand_id, member_id, rules_t.period_start(day, months),
                                   rules_t.period_end(day, months))
    return rules_c.missing(cadence, [c.channel for c in logged] + ([plus] if plus else []))


def cadence_detail(cadence: rules_c.Cadence, missing: list[dict[str, Any]]) -> dict[str, Any]:
    """A cadence task's detail: the requirements and what the period still misses."""
    return {"requirements": [r.as_document() for r in cadence], "missing": missing}


class TaskRun:
    """The task side of one job run (or one bus event)."""

    def __init__(self, now: datetime, deps: CareDeps) -> None:
        self.now = now
        self.deps = deps

    # ---- who gets it -----------------------------------------------------------------------
    def owner(self, member: Member) -> str | None:
        """The member's manager; their supervisor when on leave; the store's manager when the
        member has none."""
        directory = self.deps.directory
        staff = directory.staff(member.brand_id, member.manager_id) if member.manager_id else None
        if staff is None or not staff.active:
            managers = [s for s in directory.staff_of_store(member.brand_id, member.store_id, Role.MANAGER)
                        if s.active and not s.on_leave]
            return managers[0].staff_id if managers else None
        if staff.on_leave and staff.supervisor_id:
            return staff.supervisor_id
        return staff.staff_id

    def raise_task(self, member: Member, kind: TaskKind, period: str, reason: str,
                   detail: dict[str, Any] | None = None, *, assignee: str | None = None,
                   due_on: date | None = None) -> bool:
        """One task per member, kind and period: False when it exists (or nobody can take it)."""
        from ..domain.complaints import is_queue

        assignee = assignee or self.owner(member)
        if assignee is None:
            return False
        # a queue has nobody above it: it would sit in the escalation index, read every hour
        escalate_at = None if is_queue(assignee) else self.now + rules_t.ESCALATE_AFTER
        task = Task(brand_id=member.brand_id, member_id=member.member_id, task_id=task_id(kind, period), kind=kind,
                    period=period, status=TaskStatus.OPEN, assignee=assignee, created_at=self.now,
                    manager_id=member.manager_id, reason=reason, detail=detail or {},
                    escalate_at=escalate_at, due_on=due_on)
        if not self.deps.tasks.add(task):
            return False
        self.tell(task, "task_assigned")
        return True

    def detractor(self, member: Member, nps: int | None, source: str) -> bool:
        """An NPS answer of 0-6 (a contact or complaint feedback): a follow-up due in 3 days for
        the member's manager (their supervisor while on leave), or the store's service queue
        when the member has none. One per answer: `source` names it and is the task's period."""
        if not rules_t.is_detractor(nps):
            return False
        due = brand_today(member.brand_id, self.now + rules_t.DETRACTOR_FOLLOW_UP, self.deps)
        return self.raise_task(member, TaskKind.DETRACTOR, source, f"NPS {nps}: follow up by {due.isoformat()}",
                               {"nps": nps, "source": source}, assignee=self._manager_or_queue(member),
                               due_on=due)

    def _manager_or_queue(self, member: Member) -> str:
        from ..domain.complaints import service_queue

        staff = self.deps.directory.staff(member.brand_id, member.manager_id) if member.manager_id else None
        if staff is None or not staff.active:
            return service_queue(member.store_id)
        return staff.supervisor_id if staff.on_leave and staff.supervisor_id else staff.staff_id

    def revisit(self, member: Member, complaint_id: str, revisit_on: str) -> bool:
        """From ComplaintResolved: call the member back about the case (one task per case: the
        case id is the task's period, so a redelivered event adds nothing)."""
        return self.raise_task(member, TaskKind.REVISIT, complaint_id,
                               f"revisit after complaint {complaint_id} was resolved",
                               {"complaint_id": complaint_id, "revisit_on": revisit_on})

    def tell(self, task: Task, event: str) -> None:
        self.deps.sms.tell_staff({"event": event, "brand_id": task.brand_id, "assignee": task.assignee,
                                  "member_id": task.member_id, "task_id": task.task_id, "kind": task.kind.value,
                                  "reason": task.reason})

    # ---- cadence reviews ---------------------------------------------------------------------
    def tier_changed(self, member: Member, tier: str) -> None:
        """From a TierChanged event: silver+ members get (or keep) a cadence review; the first
        one is due today (their period has had no contact yet)."""
        months = rules_c.period_months(tier_cadence(member.brand_id, tier, self.deps))
        cadence = self.deps.cadence
        existing = cadence.get(member.brand_id, member.member_id)
        if months is None:
            if existing is not None:
                cadence.drop(member.brand_id, member.member_id)
            return
        today = brand_today(member.brand_id, self.now, self.deps)
        review = today
        last = existing.last_contact_on if existing else None
        if last is not None and rules_t.period_start(last, months) == rules_t.period_start(today, months):
            review = rules_t.next_period_start(today, months)
        cadence.put(Cadence(member.brand_id, member.member_id, tier, review, last))

    def review_cadence(self) -> int:
        # UTC tomorrow covers every zone's today; each review is then checked in its brand's zone.
        due = self.deps.cadence.due((self.now.astimezone(UTC) + timedelta(days=1)).date())
        if not due:
            return 0
        members = {(p.brand_id, p.member_id): p for p in self.deps.members.profiles(
            (c.brand_id, c.member_id) for c in due)}
        created = 0
        for review in due:
            today = brand_today(review.brand_id, self.now, self.deps)
            if review.review_on > today:
                continue  # due in UTC terms but not yet where the brand is
            member = members.get((review.brand_id, review.member_id))
            cadence = tier_cadence(member.brand_id, member.tier.value, self.deps) if member else ()
            months = rules_c.period_months(cadence)
            if member is None or months is None:
                self.deps.cadence.drop(review.brand_id, review.member_id)
                continue
            missing = period_missing(member.brand_id, member.member_id, cadence, today, self.deps)
            if missing:  # contacts logged before the review may have met the period already
                created += self.raise_task(member, TaskKind.CADENCE, rules_t.period_label(today, months),
                                           f"{member.tier.value}: {rules_c.describe(cadence)}",
                                           cadence_detail(cadence, missing))
            created += self._risk(member, today)
            self.deps.cadence.put(Cadence(member.brand_id, member.member_id, member.tier.value,
                                          rules_t.next_period_start(today, months), review.last_contact_on))
        return created

    def _risk(self, member: Member, today: date) -> int:
        from .complaints import member_complaint_counts

        stats = self.deps.figures.stats(member.brand_id, member.member_id)
        dormant = rules_t.is_dormant(member.tier, stats.last_purchase_at, member.enrolled_at, self.now)
        created = 0
        period = f"{today.year}-{today.month:02d}"
        if dormant:
            created += self.raise_task(member, TaskKind.DORMANCY, period, "gold+ with no purchase for 90 days")
        open_complaints = member_complaint_counts(member.brand_id, member.member_id, self.now,
                                                  complaints=self.deps.complaints, directory=self.deps.directory).open
        month = month_of(self.now, brand_settings(member.brand_id, self.deps.directory).timezone)
        score = rules_t.churn_score(stats.spend, month, open_complaints, dormant)
        if score.high:
            created += self.raise_task(member, TaskKind.RETENTION, period, f"churn risk score {score.score}",
                                       {"score": score.score, "spend_recent": str(score.spend_recent),
                                        "spend_before": str(score.spend_before),
                                        "open_complaints": score.open_complaints, "dormant": score.dormant})
        return created

    # ---- escalation ------------------------------------------------------------------------------
    def escalate(self) -> int:
        moved = 0
        for task in self.deps.tasks.due(self.now):
            if not task.open:
                continue
            current = self.deps.directory.staff(task.brand_id, task.assignee)
            target = current.supervisor_id if current else None
            if not target:
                continue
            try:
                self.deps.tasks.escalate(task, target)
            except Taken:
                continue
            task.assignee = target
            self.tell(task, "task_escalated")
            moved += 1
        return moved


# ---- API use cases ----------------------------------------------------------------------------


def visible_member(caller: Caller, member_id: str, deps: CareDeps) -> Member:
    """The caller's member (404 for another brand's, or another store's for store staff)."""
    member = deps.members.get(caller.brand_id, member_id)
    if member is None:
        raise NotFound("member not found")
    ensure_visible(caller, brand_id=member.brand_id, store_id=member.store_id, what="member")
    return member


def visible_staff(caller: Caller, staff_id: str, deps: CareDeps) -> None:
    """Staff see their own work; supervisors and admins anyone's in the brand (else 404). A
    store's queue (`queue:<store>:service`) is seen by its store's staff and by the brand-wide."""
    from ..domain.complaints import is_queue, queue_store

    if is_queue(staff_id):
        store = queue_store(staff_id)
        if not any(s.store_id == store for s in deps.directory.stores(caller.brand_id)) or \
                (caller.store_scoped and store != caller.store_id):
            raise NotFound("staff member not found")
        return
    if deps.directory.staff(caller.brand_id, staff_id) is None:
        raise NotFound("staff member not found")
    if caller.staff_id != staff_id and caller.store_scoped:
        raise NotFound("staff member not found")


def staff_tasks(caller: Caller, staff_id: str, *, limit: int, after: str | None, deps: CareDeps) -> Page[Task]:
    """A page of a staff member's tasks, open first."""
    visible_staff(caller, staff_id, deps)
    return deps.tasks.assigned_to(caller.brand_id, staff_id, limit=limit, after=after)


def complete_task(caller: Caller, member_id: str, task_id: str, *, now: datetime, deps: CareDeps,
                  outcome: str | None = None, reason: str | None = None) -> Task:
    """Complete a member's task; a retention task closes retained or lost (with the reason),
    counted in the churn-reasons report (services/churn_reasons.py)."""
    from .churn_reasons import close_retention

    member = visible_member(caller, member_id, deps)
    task = deps.tasks.get(caller.brand_id, member_id, task_id)
    if task is None:
        raise NotFound("task not found")
    if not task.open:
        raise Conflict("the task is already completed", code="task_done")
    if task.kind is TaskKind.RETENTION:
        close_retention(caller, member, task, outcome, reason, now=now, deps=deps)
        return _reread(caller, member_id, task_id, deps)
    if reason is not None:
        raise ValidationFailed("only a retention task closed lost has a reason", field="reason")
    try:
        deps.tasks.complete(task, now, caller.staff_id, outcome)
    except Taken:
        raise Conflict("the task is already completed", code="task_done") from None
    return _reread(caller, member_id, task_id, deps)


def _reread(caller: Caller, member_id: str, task_id: str, deps: CareDeps) -> Task:
    refreshed = deps.tasks.get(caller.brand_id, member_id, task_id)
    assert refreshed is not None
    return refreshed

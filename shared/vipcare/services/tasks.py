"""Manager tasks and the contact log (docs/domain.md §4, docs/reminders.md).

- A silver+ member has a CADENCE item whose review date sits in a sparse index; the job reads
  only reviews due today. A review raises the period's cadence task (one per member, kind and
  period: the task's key is the dedup), plus dormancy and retention tasks when they apply,
  then moves the review to the next period.
- Logging a contact completes the open cadence task of the period and moves the review on,
  in one transaction.
- Tasks go to the member's manager, to the manager's supervisor when on leave; an open task
  is handed to the assignee's supervisor after 7 days.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ..domain import reminders as rules
from ..domain import tasks as rules_t
from ..domain.access import Caller, Role, ensure_visible
from ..domain.errors import Conflict, NotFound, ValidationFailed
from ..domain.kpis import GOLD_PLUS
from ..domain.months import month_of, month_of_day
from ..domain.tasks import TaskKind
from ..domain.tiers import local_day
from ..notify.sns import SnsNotifier
from ..store.care import (
    CareRepository,
    ContactItem,
    ContactKpi,
    Taken,
    TaskItem,
    assignee_pk,
    contact_sk,
    task_due_pk,
    task_sk,
)
from ..store.directory import DirectoryRepository
from ..store.ledger import LedgerRepository
from ..store.members import MemberRepository
from ..store.models import MemberItem, member_pk
from .brands import brand_settings


def _tz(brand_id: str) -> str:
    return brand_settings(brand_id).timezone


def _today(brand_id: str, now: datetime) -> date:
    return now.astimezone(rules.zone(_tz(brand_id))).date()


class TaskRun:
    def __init__(self, now: datetime, *, care: CareRepository | None = None, sms: SnsNotifier | None = None,
                 directory: DirectoryRepository | None = None, ledger: LedgerRepository | None = None) -> None:
        self.now = now
        self.care = care or CareRepository()
        self.sms = sms or SnsNotifier()
        self.directory = directory or DirectoryRepository()
        self.ledger = ledger or LedgerRepository()

    # ---- who gets it -----------------------------------------------------------------------
    def owner(self, profile: MemberItem) -> str | None:
        """The member's manager; their supervisor when on leave; the store's manager when the
        member has none."""
        staff = self.directory.staff(profile.brand_id, profile.manager_id) if profile.manager_id else None
        if staff is None or not staff.active:
            managers = [s for s in self.directory.staff_of_store(profile.brand_id, profile.store_id, Role.MANAGER)
                        if s.active and not s.on_leave]
            return managers[0].staff_id if managers else None
        if staff.on_leave and staff.supervisor_id:
            return staff.supervisor_id
        return staff.staff_id

    def raise_task(self, profile: MemberItem, kind: TaskKind, period: str, reason: str,
                   detail: dict[str, Any] | None = None) -> bool:
        assignee = self.owner(profile)
        if assignee is None:
            return False
        task_id = f"{kind.value}.{period}"
        task = TaskItem(member_pk(profile.brand_id, profile.member_id), task_sk(task_id),
                        brand_id=profile.brand_id, member_id=profile.member_id, task_id=task_id, kind=kind.value,
                        period=period, status=rules_t.TaskStatus.OPEN.value, assignee=assignee,
                        manager_id=profile.manager_id, reason=reason, detail=detail or None,
                        assignee_pk=assignee_pk(profile.brand_id, assignee),
                        assignee_sk=f"1OPEN#{self.now.isoformat()}#{profile.member_id}",
                        due_pk=task_due_pk(profile.member_id),
                        due_sk=(self.now + rules_t.ESCALATE_AFTER).isoformat(), created_at=self.now, escalated=0)
        if not self.care.add_task(task):
            return False
        self._tell(task, "task_assigned")
        return True

    def revisit(self, profile: MemberItem, complaint_id: str, revisit_on: str) -> bool:
        """From ComplaintResolved: call the member back about the case (one task per case: the
        case id is the task's period, so a redelivered event adds nothing)."""
        return self.raise_task(profile, TaskKind.REVISIT, complaint_id,
                               f"revisit after complaint {complaint_id} was resolved",
                               {"complaint_id": complaint_id, "revisit_on": revisit_on})

    def _tell(self, task: TaskItem, event: str) -> None:
        self.sms.tell_staff({"event": event, "brand_id": task.brand_id, "assignee": task.assignee,
                             "member_id": task.member_id, "task_id": task.task_id, "kind": task.kind,
                             "reason": task.reason})

    # ---- cadence reviews ---------------------------------------------------------------------
    def tier_changed(self, profile: MemberItem, tier: str) -> None:
        """From a TierChanged event: silver+ members get (or keep) a cadence review; the first
        one is due today (their period has had no contact yet)."""
        months = rules_t.cadence_months(tier)
        existing = self.care.cadence(profile.brand_id, profile.member_id)
        if months is None:
            if existing is not None:
                self.care.drop_cadence(profile.brand_id, profile.member_id)
            return
        today = _today(profile.brand_id, self.now)
        review = today
        if existing is not None and existing.last_contact_on:
            last = date.fromisoformat(existing.last_contact_on)
            if rules_t.period_start(last, months) == rules_t.period_start(today, months):
                review = rules_t.next_period_start(today, months)
        self.care.put_cadence(profile.brand_id, profile.member_id, tier, review,
                              existing.last_contact_on if existing else None)

    def review_cadence(self) -> int:
        # UTC tomorrow covers every zone's today; each review is then checked in its brand's zone.
        due = self.care.due_cadence((self.now.astimezone(UTC) + timedelta(days=1)).date())
        if not due:
            return 0
        profiles = {(p.brand_id, p.member_id): p for p in self.care.profiles((c.brand_id, c.member_id) for c in due)}
        created = 0
        for cadence in due:
            today = _today(cadence.brand_id, self.now)
            if date.fromisoformat(cadence.review_on) > today:
                continue  # due in UTC terms but not yet where the brand is
            profile = profiles.get((cadence.brand_id, cadence.member_id))
            months = rules_t.cadence_months(profile.tier) if profile else None
            if profile is None or months is None:
                self.care.drop_cadence(cadence.brand_id, cadence.member_id)
                continue
            period = rules_t.period_label(today, months)
            created += self.raise_task(profile, TaskKind.CADENCE, period,
                                       f"{profile.tier}: at least one contact per "
                                       f"{'month' if months == 1 else 'quarter'}")
            created += self._risk(profile, today)
            self.care.put_cadence(profile.brand_id, profile.member_id, profile.tier,
                                  rules_t.next_period_start(today, months), cadence.last_contact_on)
        return created

    def _risk(self, profile: MemberItem, today: date) -> int:
        from .complaints import member_complaint_counts

        stats = self.ledger.stats(profile.brand_id, profile.member_id)
        dormant = rules_t.is_dormant(profile.tier, stats.last_purchase_at, profile.enrolled_at, self.now)
        created = 0
        period = f"{today.year}-{today.month:02d}"
        if dormant:
            created += self.raise_task(profile, TaskKind.DORMANCY, period, "gold+ with no purchase for 90 days")
        open_complaints = member_complaint_counts(profile.brand_id, profile.member_id, self.now).open
        score = rules_t.churn_score(stats.spend, month_of(self.now, _tz(profile.brand_id)), open_complaints,
                                    dormant)
        if score.high:
            created += self.raise_task(profile, TaskKind.RETENTION, period, f"churn risk score {score.score}",
                                       {"score": score.score, "spend_recent": str(score.spend_recent),
                                        "spend_before": str(score.spend_before),
                                        "open_complaints": score.open_complaints, "dormant": score.dormant})
        return created

    # ---- escalation ------------------------------------------------------------------------------
    def escalate(self) -> int:
        moved = 0
        for task in self.care.due_tasks(self.now):
            if task.status != rules_t.TaskStatus.OPEN.value:
                continue
            current = self.directory.staff(task.brand_id, task.assignee)
            target = current.supervisor_id if current else None
            if not target:
                continue
            try:
                self.care.reassign(task, target, self.now)
            except Taken:
                continue
            task.assignee = target
            self._tell(task, "task_escalated")
            moved += 1
        return moved


# ---- API use cases ----------------------------------------------------------------------------


def _member(caller: Caller, member_id: str, care: CareRepository) -> MemberItem:
    profile = care.profile(caller.brand_id, member_id)
    if profile is None:
        raise NotFound("member not found")
    ensure_visible(caller, brand_id=profile.brand_id, store_id=profile.store_id, what="member")
    return profile


@dataclass(frozen=True)
class ContactIn:
    contacted_on: date
    channel: str
    notes: str | None
    next_action: str | None
    nps: int | None = None


def log_contact(caller: Caller, member_id: str, contact: ContactIn, *, now: datetime,
                care: CareRepository | None = None, request_key: str | None = None) -> tuple[ContactItem, str | None]:
    """Record a contact; completes the open cadence task of its period. Returns the contact and
    the completed task's id (or None). With `request_key` (the Idempotency-Key) the contact id
    is derived from it, so a retry after a crash finds the contact instead of logging it twice."""
    care = care or CareRepository()
    profile = _member(caller, member_id, care)
    contact_id = _keyed_id(caller.brand_id, member_id, request_key) if request_key else uuid.uuid4().hex
    if request_key and (existing := care.contact_by_id(caller.brand_id, member_id, contact_id)) is not None:
        return existing, None
    today = _today(caller.brand_id, now)
    if contact.contacted_on > today:
        raise ValidationFailed("a contact cannot be in the future", field="contacted_on")
    cadence = care.cadence(caller.brand_id, member_id)
    months = rules_t.cadence_months(profile.tier)
    task = None
    next_review = None
    if months is not None:
        period = rules_t.period_label(contact.contacted_on, months)
        found = care.task(caller.brand_id, member_id, f"{TaskKind.CADENCE.value}.{period}")
        task = found if found is not None and found.status == rules_t.TaskStatus.OPEN.value else None
        if cadence is not None and rules_t.period_start(contact.contacted_on, months) == \
                rules_t.period_start(today, months):
            next_review = rules_t.next_period_start(today, months)
    item = ContactItem(member_pk(caller.brand_id, member_id), contact_sk(contact.contacted_on, now, contact_id),
                       brand_id=caller.brand_id, member_id=member_id,
                       contact_id=contact_id, contacted_on=contact.contacted_on.isoformat(), channel=contact.channel,
                       notes=contact.notes, next_action=contact.next_action, nps=contact.nps,
                       staff_id=caller.staff_id, created_at=now)
    kpi = ContactKpi(period=month_of_day(contact.contacted_on), store_id=profile.store_id,
                     coverage=profile.tier in GOLD_PLUS, nps=contact.nps)
    try:
        care.log_contact(item, task=task, cadence=cadence if next_review else None, next_review=next_review,
                         now=now, staff_id=caller.staff_id, kpi=kpi)
    except Taken:
        raise Conflict("the cadence task changed meanwhile; retry", code="task_changed") from None
    return item, task.task_id if task else None


def _keyed_id(brand_id: str, member_id: str, request_key: str) -> str:
    return hashlib.sha256(f"{brand_id}#{member_id}#contact#{request_key}".encode()).hexdigest()[:32]


def contacts(caller: Caller, member_id: str, *, care: CareRepository | None = None) -> list[ContactItem]:
    care = care or CareRepository()
    _member(caller, member_id, care)
    return care.contacts(caller.brand_id, member_id)


def staff_tasks(caller: Caller, staff_id: str, *, limit: int = 100, care: CareRepository | None = None,
                directory: DirectoryRepository | None = None) -> list[TaskItem]:
    """A staff member's tasks, open first. Staff see their own; supervisors and admins anyone's
    in the brand (another brand's staff: 404)."""
    directory = directory or DirectoryRepository()
    staff = directory.staff(caller.brand_id, staff_id)
    if staff is None:
        raise NotFound("staff member not found")
    if caller.staff_id != staff_id and caller.store_scoped:
        raise NotFound("staff member not found")
    care = care or CareRepository()
    return care.tasks_of(caller.brand_id, staff_id, limit)


@dataclass(frozen=True)
class BookEntry:
    member_id: str
    member_no: str
    name: str
    tier: str
    store_id: str
    last_contact_on: str | None
    next_contact_due: str | None  # the cadence review date: a contact is due by then
    overdue: bool


def manager_book(caller: Caller, staff_id: str, *, limit: int = 50, after: str | None = None,
                 now: datetime, care: CareRepository | None = None,
                 directory: DirectoryRepository | None = None,
                 members: MemberRepository | None = None) -> tuple[list[BookEntry], str | None]:
    """A dedicated manager's members with the last logged contact and the next contact due
    (from the cadence), one page at a time, through the by_manager index. Scoped like the task
    list: managers see their own book, supervisors and admins anyone's in the brand."""
    directory = directory or DirectoryRepository()
    if directory.staff(caller.brand_id, staff_id) is None:
        raise NotFound("staff member not found")
    if caller.staff_id != staff_id and caller.store_scoped:
        raise NotFound("staff member not found")
    care = care or CareRepository()
    ids, more = (members or MemberRepository()).book_page(caller.brand_id, staff_id, limit=limit, after=after)
    profiles = {p.member_id: p for p in care.profiles([(caller.brand_id, m) for m in ids])}
    cadences = care.cadences(caller.brand_id, ids)
    # "overdue" is judged on the brand's calendar, not UTC's (they differ 8 hours a day in Shanghai)
    today_text = local_day(now, brand_settings(caller.brand_id, directory).timezone).isoformat()
    out = []
    for member_id in ids:
        p, c = profiles.get(member_id), cadences.get(member_id)
        if p is None:
            continue
        due = c.review_on if c else None
        out.append(BookEntry(member_id=member_id, member_no=p.member_no, name=p.name, tier=p.tier,
                             store_id=p.store_id, last_contact_on=c.last_contact_on if c else None,
                             next_contact_due=due, overdue=due is not None and due < today_text))
    return out, more


def complete_task(caller: Caller, member_id: str, task_id: str, *, now: datetime,
                  care: CareRepository | None = None) -> TaskItem:
    care = care or CareRepository()
    _member(caller, member_id, care)
    task = care.task(caller.brand_id, member_id, task_id)
    if task is None:
        raise NotFound("task not found")
    if task.status != rules_t.TaskStatus.OPEN.value:
        raise Conflict("the task is already completed", code="task_done")
    try:
        care.complete_task(task, now, caller.staff_id)
    except Taken:
        raise Conflict("the task is already completed", code="task_done") from None
    refreshed = care.task(caller.brand_id, member_id, task_id)
    assert refreshed is not None
    return refreshed

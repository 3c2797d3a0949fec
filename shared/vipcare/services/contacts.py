"""The contact log and a manager's book (docs/reminders.md "Contacts").

Logging a contact completes the open cadence task of its period and moves the review on, in
one transaction with the KPI counts (contacts, gold+ coverage, NPS).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..domain import cadence as rules_c
from ..domain import tasks as rules_t
from ..domain.access import Caller
from ..domain.errors import Conflict, ValidationFailed
from ..domain.months import month_of_day
from ..domain.tasks import Contact, TaskKind, task_id
from ..domain.tiers import local_day
from ..store.contacts import ContactKpi, ReviewMove
from ..store.models import Taken
from ..store.paging import Page
from .brands import brand_settings
from .care_ports import CareDeps
from .tasks import TaskRun, brand_today, period_missing, tier_cadence, visible_member, visible_staff

if TYPE_CHECKING:
    from ..api.models.care import ContactCreate


def log_contact(caller: Caller, member_id: str, request: ContactCreate, *, now: datetime, deps: CareDeps,
                request_key: str | None = None) -> tuple[Contact, str | None]:
    """Record a contact; completes the open cadence task of its period. Returns the contact and
    the completed task's id (or None). With `request_key` (the Idempotency-Key) the contact id
    is derived from it, so a retry after a crash finds the contact instead of logging it twice."""
    member = visible_member(caller, member_id, deps)
    contact_id = _keyed_id(caller.brand_id, member_id, request_key) if request_key else uuid.uuid4().hex
    if request_key and (existing := deps.contacts.find(caller.brand_id, member_id, contact_id)) is not None:
        TaskRun(now, deps).detractor(member, existing.nps, f"contact.{contact_id}")  # a crash before it
        return existing, None
    today = brand_today(caller.brand_id, now, deps)
    if request.contacted_on > today:
        raise ValidationFailed("a contact cannot be in the future", field="contacted_on")
    cadence = tier_cadence(caller.brand_id, member.tier.value, deps)
    months = rules_c.period_months(cadence)
    task = None
    review = None
    missing: list[dict[str, Any]] = []
    if months is not None:
        missing = period_missing(caller.brand_id, member_id, cadence, request.contacted_on, deps,
                                 plus=str(request.channel))
        period = rules_t.period_label(request.contacted_on, months)
        found = deps.tasks.get(caller.brand_id, member_id, task_id(TaskKind.CADENCE, period))
        task = found if found is not None and found.open else None
        if deps.cadence.get(caller.brand_id, member_id) is not None and \
                rules_t.period_start(request.contacted_on, months) == rules_t.period_start(today, months):
            # the review moves on only once the period is done; until then it stays due
            review = ReviewMove(None if missing else rules_t.next_period_start(today, months))
    contact = Contact(brand_id=caller.brand_id, member_id=member_id, contact_id=contact_id,
                      contacted_on=request.contacted_on, channel=str(request.channel), staff_id=caller.staff_id,
                      created_at=now, notes=request.notes, next_action=request.next_action, nps=request.nps)
    kpi = ContactKpi(period=month_of_day(request.contacted_on), store_id=member.store_id, nps=request.nps)
    try:
        deps.contacts.log(contact, task=task, review=review, now=now, kpi=kpi, missing=missing or None)
    except Taken:
        raise Conflict("the cadence task changed meanwhile; retry", code="task_changed") from None
    TaskRun(now, deps).detractor(member, request.nps, f"contact.{contact_id}")
    return contact, task.task_id if task and not missing else None


def _keyed_id(brand_id: str, member_id: str, request_key: str) -> str:
    return hashlib.sha256(f"{brand_id}#{member_id}#contact#{request_key}".encode()).hexdigest()[:32]


def contacts(caller: Caller, member_id: str, *, limit: int, after: str | None, deps: CareDeps) -> Page[Contact]:
    """A page of the member's contact log, newest first."""
    visible_member(caller, member_id, deps)
    return deps.contacts.recent(caller.brand_id, member_id, limit=limit, after=after)


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
                 now: datetime, deps: CareDeps) -> tuple[list[BookEntry], str | None]:
    """A dedicated manager's members with the last logged contact and the next contact due
    (from the cadence), one page at a time. Scoped like the task list: managers see their own
    book, supervisors and admins anyone's in the brand."""
    visible_staff(caller, staff_id, deps)
    ids, more = deps.members.book_page(caller.brand_id, staff_id, limit=limit, after=after)
    members = {p.member_id: p for p in deps.members.profiles([(caller.brand_id, m) for m in ids])}
    reviews = deps.cadence.many(caller.brand_id, ids)
    # "overdue" is judged on the brand's calendar, not UTC's (they differ 8 hours a day in Shanghai)
    today = local_day(now, brand_settings(caller.brand_id, deps.directory).timezone)
    out = []
    for member_id in ids:
        p, c = members.get(member_id), reviews.get(member_id)
        if p is None:
            continue
        out.append(BookEntry(member_id=member_id, member_no=p.member_no, name=p.name, tier=p.tier.value,
                             store_id=p.store_id,
                             last_contact_on=c.last_contact_on.isoformat() if c and c.last_contact_on else None,
                             next_contact_due=c.review_on.isoformat() if c else None,
                             overdue=c is not None and c.review_on < today))
    return out, more

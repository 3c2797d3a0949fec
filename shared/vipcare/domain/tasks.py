"""Manager tasks (docs/domain.md §4): contact cadence, dormancy, churn risk, revisit. Pure rules.

Churn score (0-100), documented in docs/reminders.md:
- spend drop: last 3 months against the 3 before; a 100% drop scores 50, proportionally less;
- open complaints: 15 each, at most 30;
- dormancy (no purchase for 90 days): 20.
A score of 50 or more is high risk and raises a retention task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from .months import window


class TaskKind(StrEnum):
    CADENCE = "cadence"
    DORMANCY = "dormancy"
    RETENTION = "retention"
    REVISIT = "revisit"
    ACTIVITY_FEEDBACK = "activity_feedback"  # the organiser's feedback on an ended activity
    ASSIGNED = "assigned"  # given by hand (POST /tasks), passed down the supervisor chain
    DETRACTOR = "detractor"  # an NPS answer of 0-6: follow up within 3 days


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


@dataclass(slots=True)
class Task:
    """A manager's task about one member (or, with `activity_id` and no member, about an
    activity); `task_id` is `<kind>.<period>`, one per member (activity), kind and period, so a
    rerun of the job never raises it twice."""

    brand_id: str
    member_id: str
    task_id: str
    kind: TaskKind
    period: str
    status: TaskStatus
    assignee: str
    created_at: datetime
    manager_id: str | None = None
    reason: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    escalated: int = 0
    completed_at: datetime | None = None
    completed_by: str | None = None
    escalate_at: datetime | None = None  # None once done or escalated (the escalation index)
    activity_id: str | None = None  # a task about an activity, not a member (member_id "")
    # a task given by hand: what to do, by when, each hand-over, and how it ended
    title: str | None = None
    note: str | None = None
    due_on: date | None = None
    outcome: str | None = None
    lost_reason: str | None = None  # a retention task closed lost: why (domain/churn_reasons.py)
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.status is TaskStatus.OPEN


def task_id(kind: TaskKind, period: str) -> str:
    return f"{kind.value}.{period}"


@dataclass(slots=True)
class Contact:
    """One logged contact with a member (call, visit, ...) and, when asked, their NPS answer."""

    brand_id: str
    member_id: str
    contact_id: str
    contacted_on: date
    channel: str
    staff_id: str
    created_at: datetime
    notes: str | None = None
    next_action: str | None = None
    nps: int | None = None


@dataclass(slots=True)
class Cadence:
    """A silver+ member's next contact review (the day the job checks the period's contact)."""

    brand_id: str
    member_id: str
    tier: str
    review_on: date
    last_contact_on: date | None = None


DORMANT_AFTER = timedelta(days=90)
ESCALATE_AFTER = timedelta(days=7)
HIGH_RISK = 50
DETRACTOR_MAX = 6  # NPS 0-6 is a detractor (docs/domain.md §6)
DETRACTOR_FOLLOW_UP = timedelta(days=3)
DORMANCY_TIERS = frozenset({"gold", "diamond"})


def period_end(day: date, months: int) -> date:
    """Last day of the cadence period containing `day`."""
    return next_period_start(day, months) - timedelta(days=1)


def period_start(day: date, months: int) -> date:
    """First day of the cadence period containing `day` (months 1: the month; 3: the quarter)."""
    month = ((day.month - 1) // months) * months + 1
    return date(day.year, month, 1)


def next_period_start(day: date, months: int) -> date:
    start = period_start(day, months)
    month = start.month - 1 + months
    return date(start.year + month // 12, month % 12 + 1, 1)


def period_label(day: date, months: int) -> str:
    start = period_start(day, months)
    return f"{start.year}-{start.month:02d}" if months == 1 else f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def is_detractor(nps: int | None) -> bool:
    return nps is not None and 0 <= nps <= DETRACTOR_MAX


def is_dormant(tier: str, last_purchase_at: datetime | None, enrolled_at: datetime | None, now: datetime) -> bool:
    if tier not in DORMANCY_TIERS:
        return False
    since = last_purchase_at or enrolled_at
    return since is not None and now - since >= DORMANT_AFTER


@dataclass(frozen=True)
class ChurnScore:
    score: int
    spend_recent: Decimal
    spend_before: Decimal
    open_complaints: int
    dormant: bool

    @property
    def high(self) -> bool:
        return self.score >= HIGH_RISK


def churn_score(spend_by_month: dict[str, Decimal], current_month: str, open_complaints: int,
                dormant: bool) -> ChurnScore:
    months = window(current_month, 6)  # newest first or oldest first: split by sort
    ordered = sorted(months)
    before = sum((spend_by_month.get(m, Decimal(0)) for m in ordered[:3]), Decimal(0))
    recent = sum((spend_by_month.get(m, Decimal(0)) for m in ordered[3:]), Decimal(0))
    drop = Decimal(0)
    if before > 0 and recent < before:
        drop = (before - recent) / before
    score = int((drop * 50).to_integral_value()) + min(open_complaints, 2) * 15 + (20 if dormant else 0)
    return ChurnScore(min(score, 100), recent, before, open_complaints, dormant)


def escalation_due(created_at: datetime, now: datetime) -> bool:
    return now - created_at >= ESCALATE_AFTER

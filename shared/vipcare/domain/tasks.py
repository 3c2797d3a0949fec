"""Manager tasks (docs/domain.md §4): contact cadence, dormancy, churn risk, revisit. Pure rules.

Churn score (0-100), documented in docs/reminders.md:
- spend drop: last 3 months against the 3 before; a 100% drop scores 50, proportionally less;
- open complaints: 15 each, at most 30;
- dormancy (no purchase for 90 days): 20.
A score of 50 or more is high risk and raises a retention task.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from .months import window


class TaskKind(StrEnum):
    CADENCE = "cadence"
    DORMANCY = "dormancy"
    RETENTION = "retention"
    REVISIT = "revisit"


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


CADENCE_MONTHS = {"diamond": 1, "gold": 1, "silver": 3}
DORMANT_AFTER = timedelta(days=90)
ESCALATE_AFTER = timedelta(days=7)
HIGH_RISK = 50
DORMANCY_TIERS = frozenset({"gold", "diamond"})


def cadence_months(tier: str) -> int | None:
    return CADENCE_MONTHS.get(tier)


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

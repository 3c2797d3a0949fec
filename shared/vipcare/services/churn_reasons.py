"""Retention tasks closed with an outcome, and the churn-reasons report (docs/kpis.md "Churn
reasons"). The rules are domain/churn_reasons.py; the counters store/churn_reasons.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain import churn_reasons as rules
from ..domain.access import Caller
from ..domain.errors import Conflict, Forbidden
from ..domain.members import Member
from ..domain.months import month_of
from ..domain.tasks import Task
from ..store.models import Taken
from .brands import brand_settings
from .care_ports import CareDeps


def close_retention(caller: Caller, member: Member, task: Task, outcome: str | None, reason: str | None, *,
                    now: datetime, deps: CareDeps) -> None:
    """Close a retention task retained or lost (with the reason), counted once in the brand's
    month of closing, under the member's store."""
    rules.check_retention_close(outcome, reason)
    assert outcome is not None
    period = month_of(now, brand_settings(caller.brand_id, deps.directory).timezone)
    try:
        deps.churn_reasons.close(task, now=now, staff_id=caller.staff_id, outcome=outcome, reason=reason,
                                 period=period, store_id=member.store_id, counts=rules.counts_of(outcome, reason))
    except Taken:
        raise Conflict("the task is already completed", code="task_done") from None


def report(caller: Caller, period: str, store_id: str | None, *, deps: CareDeps) -> dict[str, Any]:
    """The month's closed retention tasks by outcome and reason; store staff and managers see
    their own store."""
    if caller.store_scoped:
        if store_id is not None and store_id != caller.store_id:
            raise Forbidden("you can only see your own store's figures", field="store_id")
        store_id = caller.store_id
    figures = rules.ChurnReasons.of(deps.churn_reasons.month(caller.brand_id, period, store_id))
    return {"period": period, "store_id": store_id, "closed": figures.closed, "retained": figures.retained,
            "lost": figures.lost, "retained_rate": figures.rate(figures.retained),
            "lost_rate": figures.rate(figures.lost),
            "reasons": [{"reason": r, "count": n, "rate": figures.rate(n)} for r, n in figures.reasons.items()]}

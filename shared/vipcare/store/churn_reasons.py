"""Churn-reason counters (CareTable, pk BRAND#<b>#CHURN#<YYYY-MM>, sk STORE#<store>): what the
month's closed retention tasks ended with, ADDed in the transaction that closes the task, so
the report is one Query (or one GetItem for a store), never a scan of tasks, and a close counts
once (the task's `status = open` condition fails for a second one).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from ..domain.churn_reasons import REASONS
from ..domain.tasks import Task
from .care_table import CareTableModel
from .models import Taken, condition_failed
from .tasks import OPEN_ONLY, TaskItem, done_actions


class ChurnCountersItem(CareTableModel):
    class Meta(CareTableModel.Meta):
        pass

    store_id = UnicodeAttribute(null=True)
    closed = NumberAttribute(default=0)
    retained = NumberAttribute(default=0)
    lost = NumberAttribute(default=0)
    reason_moved = NumberAttribute(default=0)
    reason_competitor = NumberAttribute(default=0)
    reason_price = NumberAttribute(default=0)
    reason_service = NumberAttribute(default=0)
    reason_product = NumberAttribute(default=0)
    reason_other = NumberAttribute(default=0)


FIELDS = ("closed", "retained", "lost", *(f"reason_{r}" for r in REASONS))


def churn_pk(brand_id: str, period: str) -> str:
    return f"BRAND#{brand_id}#CHURN#{period}"


def _counts(item: ChurnCountersItem) -> dict[str, int]:
    return {f: int(getattr(item, f) or 0) for f in FIELDS}


class ChurnReasonRepository:
    def close(self, task: Task, *, now: datetime, staff_id: str, outcome: str, reason: str | None,
              period: str, store_id: str, counts: dict[str, int]) -> None:
        """The retention task done with its outcome and the month's counters, in one
        transaction; Taken when the task was closed already."""
        item, actions = done_actions(task, now, staff_id, outcome)
        if reason:
            actions.append(TaskItem.lost_reason.set(reason))
        try:
            with TransactWrite(connection=TaskItem._get_connection().connection) as tx:
                tx.update(item, actions=actions, condition=OPEN_ONLY)
                tx.update(ChurnCountersItem(churn_pk(task.brand_id, period), f"STORE#{store_id}"),
                          actions=[ChurnCountersItem.store_id.set(store_id),
                                   *(getattr(ChurnCountersItem, k).add(v) for k, v in counts.items())])
        except TransactWriteError as exc:
            if condition_failed(exc):
                raise Taken() from None
            raise

    def month(self, brand_id: str, period: str, store_id: str | None = None) -> list[dict[str, Any]]:
        """The month's counters: every store's (one Query), or one store's (one GetItem)."""
        if store_id is not None:
            try:
                return [_counts(ChurnCountersItem.get(churn_pk(brand_id, period), f"STORE#{store_id}"))]
            except DoesNotExist:
                return []
        return [_counts(i) for i in ChurnCountersItem.query(churn_pk(brand_id, period))]

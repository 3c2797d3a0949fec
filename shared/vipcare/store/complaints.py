"""ComplaintsTable: cases with their history, queue views, the escalation index, timeliness
counters, per-member complaint counts and the outbox of bus events. Layout in
docs/data-model.md."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action as UpdateAction
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.transactions import TransactWrite

from ..config import settings
from ..domain.complaints import (
    Action,
    Category,
    Channel,
    Complaint,
    HistoryEntry,
    Priority,
    Severity,
    Status,
    due_shard,
)
from .attributes import DecimalAttribute
from .clients import REGION as _REGION
from .models import DueIndex, _SharedClientModel, condition_failed_at
from .outbox import Outbox, PendingEvent
from .paging import KeyedQuery, Page

DUE_SHARDS = 10
CASE_SK = "CASE"
OPEN_SK = "COMPLAINTS#OPEN"
OUTBOX_PREFIX = "COMPLAINTOUTBOX#"
ERASED_TEXT = "[erased]"

# Counters kept per (brand, month, store) as cases move (docs/complaints.md "Figures").
KPI_COUNTERS = ("opened", "responded", "responded_in_time", "first_response_seconds", "resolved",
                "resolved_in_time", "feedback", "satisfied", "reopened", "escalations", "nps_responses",
                "nps_promoters", "nps_detractors", "nps_passives")


def case_pk(brand_id: str, complaint_id: str) -> str:
    return f"BRAND#{brand_id}#COMPLAINT#{complaint_id}"


def assignee_key(brand_id: str, assignee: str) -> str:
    return f"BRAND#{brand_id}#ASSIGNEE#{assignee}"


def store_key(brand_id: str, store_id: str) -> str:
    return f"BRAND#{brand_id}#STORE#{store_id}"


def status_key(brand_id: str, status: str) -> str:
    return f"BRAND#{brand_id}#STATUS#{status}"


def due_key(shard: int) -> str:
    return f"DUE#{shard}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def deadline_key(c: Complaint) -> str:
    return f"{_iso(c.resolve_by)}#{c.complaint_id}"


def kpi_pk(brand_id: str, period: str) -> str:
    return f"BRAND#{brand_id}#KPI#{period}"


def member_pk(brand_id: str, member_id: str) -> str:
    return f"BRAND#{brand_id}#MEMBER#{member_id}"


def staff_tasks_pk(brand_id: str, staff_id: str) -> str:
    return f"BRAND#{brand_id}#STAFF#{staff_id}#TASKS"


# ---- models ------------------------------------------------------------------------------


class _Index(GlobalSecondaryIndex["ComplaintItem"]):
    pass


class ByAssignee(_Index):
    class Meta:
        index_name = "by_assignee"
        projection = AllProjection()

    assignee_pk = UnicodeAttribute(hash_key=True)
    deadline_sk = UnicodeAttribute(range_key=True)


class ByStore(_Index):
    class Meta:
        index_name = "by_store"
        projection = AllProjection()

    store_pk = UnicodeAttribute(hash_key=True)
    deadline_sk = UnicodeAttribute(range_key=True)


class ByStatus(_Index):
    class Meta:
        index_name = "by_status"
        projection = AllProjection()

    status_pk = UnicodeAttribute(hash_key=True)
    deadline_sk = UnicodeAttribute(range_key=True)


class HistoryMap(MapAttribute):
    at = UTCDateTimeAttribute()
    actor = UnicodeAttribute()
    action = UnicodeAttribute()
    status = UnicodeAttribute()
    assignee = UnicodeAttribute(null=True)
    text = UnicodeAttribute(null=True)


class ComplaintsTableModel(_SharedClientModel):
    """Base of every item type stored in ComplaintsTable (keys pk/sk)."""

    class Meta:
        table_name = settings().complaints_table
        region = _REGION

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class ComplaintItem(ComplaintsTableModel):
    assignee_pk = UnicodeAttribute()
    store_pk = UnicodeAttribute()
    status_pk = UnicodeAttribute()
    deadline_sk = UnicodeAttribute()
    due_pk = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)
    by_assignee = ByAssignee()
    by_store = ByStore()
    by_status = ByStatus()
    due = DueIndex()

    complaint_id = UnicodeAttribute()
    brand_id = UnicodeAttribute()
    store_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    channel = UnicodeAttribute()
    category = UnicodeAttribute()
    severity = UnicodeAttribute()
    description = UnicodeAttribute()
    priority = UnicodeAttribute()
    status = UnicodeAttribute()
    assignee = UnicodeAttribute()
    level = NumberAttribute()
    opened_at = UTCDateTimeAttribute()
    respond_by = UTCDateTimeAttribute()
    resolve_by = UTCDateTimeAttribute()
    period = UnicodeAttribute()
    order_value = DecimalAttribute(null=True)
    acknowledged_at = UTCDateTimeAttribute(null=True)
    resolved_at = UTCDateTimeAttribute(null=True)
    reopened_at = UTCDateTimeAttribute(null=True)
    closed_at = UTCDateTimeAttribute(null=True)
    resolution = UnicodeAttribute(null=True)
    satisfied = BooleanAttribute(null=True)
    nps = NumberAttribute(null=True)
    next_check_at = UTCDateTimeAttribute(null=True)
    version = NumberAttribute()
    history = ListAttribute(of=HistoryMap, default=list)


class KpiItem(ComplaintsTableModel):
    """Timeliness counters of one store's cases opened in one month (atomic ADDs)."""

    store_id = UnicodeAttribute(null=True)
    opened = NumberAttribute(null=True)
    responded = NumberAttribute(null=True)
    responded_in_time = NumberAttribute(null=True)
    first_response_seconds = NumberAttribute(null=True)
    resolved = NumberAttribute(null=True)
    resolved_in_time = NumberAttribute(null=True)
    feedback = NumberAttribute(null=True)
    satisfied = NumberAttribute(null=True)
    reopened = NumberAttribute(null=True)
    escalations = NumberAttribute(null=True)
    nps_responses = NumberAttribute(null=True)
    nps_promoters = NumberAttribute(null=True)
    nps_detractors = NumberAttribute(null=True)
    nps_passives = NumberAttribute(null=True)


class MemberComplaintsItem(ComplaintsTableModel):
    """A member's complaint counts: `COMPLAINTS#OPEN` (open now) and `COMPLAINTS#<YYYY-MM>`."""

    total = NumberAttribute(null=True)


class OutboxItem(ComplaintsTableModel):
    """A case's bus event (ComplaintFiled, ComplaintResolved), written in the case's transaction
    and deleted once published: a crash or a refused publish in between leaves it for the
    escalation job, which runs every 15 minutes."""

    detail_type = UnicodeAttribute()
    detail = UnicodeAttribute()  # JSON
    created_at = UTCDateTimeAttribute()


_OUTBOX = Outbox(OutboxItem, OUTBOX_PREFIX)


def outbox_pk(complaint_id: str) -> str:
    return _OUTBOX.partition(due_shard(complaint_id, DUE_SHARDS))


# ---- conversions ---------------------------------------------------------------------------


def _history(entry: HistoryEntry) -> HistoryMap:
    return HistoryMap(at=entry.at, actor=entry.actor, action=entry.action.value, status=entry.status.value,
                      assignee=entry.assignee, text=entry.text)


def _from_item(item: ComplaintItem) -> Complaint:
    return Complaint(
        complaint_id=item.complaint_id,
        brand_id=item.brand_id,
        store_id=item.store_id,
        member_id=item.member_id,
        channel=Channel(item.channel),
        category=Category(item.category),
        severity=Severity(item.severity),
        description=item.description,
        priority=Priority(item.priority),
        status=Status(item.status),
        assignee=item.assignee,
        level=int(item.level),
        opened_at=item.opened_at,
        respond_by=item.respond_by,
        resolve_by=item.resolve_by,
        period=item.period,
        order_value=item.order_value,
        acknowledged_at=item.acknowledged_at,
        resolved_at=item.resolved_at,
        reopened_at=item.reopened_at,
        closed_at=item.closed_at,
        resolution=item.resolution,
        satisfied=item.satisfied,
        nps=int(item.nps) if item.nps is not None else None,
        next_check_at=item.next_check_at,
        version=int(item.version),
        history=[HistoryEntry(at=h.at, actor=h.actor, action=Action(h.action), status=Status(h.status),
                              assignee=h.assignee, text=h.text) for h in item.history or []],
    )


def _due_keys(c: Complaint) -> tuple[str, str] | None:
    if c.next_check_at is None:
        return None
    return due_key(due_shard(c.complaint_id, DUE_SHARDS)), f"{_iso(c.next_check_at)}#{c.complaint_id}"


# Fields a step may change (everything else is fixed at intake).
_MUTABLE = ("status", "assignee", "level", "acknowledged_at", "resolved_at", "reopened_at", "closed_at",
            "resolution", "satisfied", "nps", "next_check_at")


class CaseExists(Exception):
    """A case with this id was filed already (a keyed request's retry)."""


class StaleCase(Exception):
    """The case changed between read and write (the conditional update failed)."""


@dataclass(slots=True)
class Step:
    """One change to a case, written atomically with its side effects."""

    before: Complaint
    after: Complaint
    entry: HistoryEntry
    kpi: dict[str, int]
    member_open_delta: int = 0
    # Bus events of this step: (detail type, detail with an `event_id`), kept in the outbox.
    events: tuple[tuple[str, dict[str, Any]], ...] = ()
    # Escalations condition on the level (and the pending check) instead of the version:
    # each (case, level) moves once, however many job runs overlap.
    escalation: bool = False


def _connection() -> Connection:
    return ComplaintItem._get_connection().connection


def _kpi_update(tx: TransactWrite, brand_id: str, period: str, store_id: str, counts: dict[str, int]) -> None:
    actions: list[UpdateAction] = [KpiItem.store_id.set(store_id)]
    actions += [getattr(KpiItem, name).add(value) for name, value in counts.items() if value]
    tx.update(KpiItem(kpi_pk(brand_id, period), f"STORE#{store_id}"), actions=actions)


def _outbox(tx: TransactWrite, c: Complaint, events: tuple[tuple[str, dict[str, Any]], ...],
            now: datetime) -> list[PendingEvent]:
    pending = []
    for detail_type, detail in events:
        e = PendingEvent(outbox_pk(c.complaint_id), str(detail["event_id"]), detail_type, detail)
        tx.save(OutboxItem(e.pk, e.sk, detail_type=detail_type, detail=json.dumps(detail, default=str),
                           created_at=now), condition=OutboxItem.pk.does_not_exist())
        pending.append(e)
    return pending


def _member_count(tx: TransactWrite, brand_id: str, member_id: str, sk: str, delta: int) -> None:
    tx.update(MemberComplaintsItem(member_pk(brand_id, member_id), sk),
              actions=[MemberComplaintsItem.total.add(delta)])


class ComplaintRepository:
    def add(self, c: Complaint, *, member_month: str,
            events: tuple[tuple[str, dict[str, Any]], ...] = ()) -> list[PendingEvent]:
        """The case, the member's counts, the month's `opened` counter and the case's bus events
        (outbox), in one transaction. Returns the events to publish."""
        item = ComplaintItem(
            case_pk(c.brand_id, c.complaint_id), CASE_SK,
            assignee_pk=assignee_key(c.brand_id, c.assignee),
            store_pk=store_key(c.brand_id, c.store_id),
            status_pk=status_key(c.brand_id, c.status.value),
            deadline_sk=deadline_key(c),
            complaint_id=c.complaint_id, brand_id=c.brand_id, store_id=c.store_id, member_id=c.member_id,
            channel=c.channel.value, category=c.category.value, severity=c.severity.value,
            description=c.description, priority=c.priority.value, status=c.status.value, assignee=c.assignee,
            level=c.level, opened_at=c.opened_at, respond_by=c.respond_by, resolve_by=c.resolve_by,
            period=c.period, order_value=c.order_value, next_check_at=c.next_check_at, version=c.version,
            history=[_history(h) for h in c.history],
        )
        due = _due_keys(c)
        if due:
            item.due_pk, item.due_sk = due
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.save(item, condition=ComplaintItem.pk.does_not_exist())  # the first put of the request
                _member_count(tx, c.brand_id, c.member_id, OPEN_SK, 1)
                _member_count(tx, c.brand_id, c.member_id, f"COMPLAINTS#{member_month}", 1)
                _kpi_update(tx, c.brand_id, c.period, c.store_id, {"opened": 1})
                pending = _outbox(tx, c, events, c.opened_at)
        except TransactWriteError as exc:
            if condition_failed_at(exc, 0):
                raise CaseExists(c.complaint_id) from None
            raise
        return pending

    def get(self, brand_id: str, complaint_id: str) -> Complaint | None:
        try:
            return _from_item(ComplaintItem.get(case_pk(brand_id, complaint_id), CASE_SK, consistent_read=True))
        except DoesNotExist:
            return None

    def apply(self, step: Step) -> list[PendingEvent]:
        """Write one step; StaleCase when the case moved on since it was read. Returns the
        step's bus events to publish."""
        before, after = step.before, step.after
        item = ComplaintItem(case_pk(after.brand_id, after.complaint_id), CASE_SK)
        actions: list[UpdateAction] = [ComplaintItem.version.set(before.version + 1),
                                       ComplaintItem.history.set(ComplaintItem.history.append([_history(step.entry)]))]
        for name in _MUTABLE:
            value = getattr(after, name)
            if value == getattr(before, name):
                continue
            stored = value.value if isinstance(value, Status) else value
            attr = getattr(ComplaintItem, name)
            actions.append(attr.remove() if stored is None else attr.set(stored))
        if after.assignee != before.assignee:
            actions.append(ComplaintItem.assignee_pk.set(assignee_key(after.brand_id, after.assignee)))
        if after.status != before.status:
            actions.append(ComplaintItem.status_pk.set(status_key(after.brand_id, after.status.value)))
        old_due, new_due = _due_keys(before), _due_keys(after)
        if new_due != old_due:
            if new_due is None:
                actions += [ComplaintItem.due_pk.remove(), ComplaintItem.due_sk.remove()]
            else:
                actions += [ComplaintItem.due_pk.set(new_due[0]), ComplaintItem.due_sk.set(new_due[1])]
        condition: Condition
        if step.escalation:
            condition = ComplaintItem.level == before.level
            condition &= (ComplaintItem.due_sk == old_due[1]) if old_due else ComplaintItem.due_sk.does_not_exist()
        else:
            condition = ComplaintItem.version == before.version
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.update(item, actions=actions, condition=condition)
                if any(step.kpi.values()):
                    _kpi_update(tx, after.brand_id, after.period, after.store_id, step.kpi)
                if step.member_open_delta:
                    _member_count(tx, after.brand_id, after.member_id, OPEN_SK, step.member_open_delta)
                pending = _outbox(tx, after, step.events, step.entry.at)
        except TransactWriteError as exc:
            if condition_failed_at(exc, 0):
                raise StaleCase(after.complaint_id) from None
            raise
        return pending

    # ---- reads
    def due(self, now: datetime, shard: int, *, limit: int = 500) -> list[Complaint]:
        """Cases whose escalation check is at or before `now` in one shard of the sparse index."""
        upper = f"{_iso(now)}#~"
        return [_from_item(i) for i in ComplaintItem.due.query(due_key(shard), ComplaintItem.due_sk <= upper,
                                                              limit=limit)]

    def queue(self, brand_id: str, *, status: str | None, assignee: str | None, store_id: str | None,
              limit: int, after: str | None = None) -> Page[Complaint]:
        """A page of cases, newest deadline first, through the most selective index; other
        filters on top (a page may read past cases they drop)."""
        filters: list[Condition] = []
        if assignee is not None:
            index: Any = ComplaintItem.by_assignee
            key, key_name = assignee_key(brand_id, assignee), "assignee_pk"
            if store_id is not None:
                filters.append(ComplaintItem.store_id == store_id)
            if status is not None:
                filters.append(ComplaintItem.status == status)
        elif store_id is not None:
            index, key, key_name = ComplaintItem.by_store, store_key(brand_id, store_id), "store_pk"
            if status is not None:
                filters.append(ComplaintItem.status == status)
        else:
            assert status is not None
            index, key, key_name = ComplaintItem.by_status, status_key(brand_id, status), "status_pk"
        condition: Condition | None = None
        for f in filters:
            condition = f if condition is None else condition & f
        # the cursor names its index: one of the store's queue cannot go on an assignee's
        q = KeyedQuery(f"complaints.{key_name}", {key_name: key}, ("deadline_sk", "pk", "sk"))
        items, more = q.take(index.query(key, filter_condition=condition, scan_index_forward=False, page_size=limit,
                                         last_evaluated_key=q.start(after)), limit)
        return Page([_from_item(i) for i in items], more)

    def kpis(self, brand_id: str, period: str, store_id: str | None) -> dict[str, dict[str, int]]:
        """Counters per store for the month (one Query, or one GetItem for a store)."""
        pk = kpi_pk(brand_id, period)
        if store_id is not None:
            items = [i for i in KpiItem.query(pk, KpiItem.sk == f"STORE#{store_id}")]
        else:
            items = list(KpiItem.query(pk, KpiItem.sk.startswith("STORE#")))
        return {i.sk.removeprefix("STORE#"): {name: int(getattr(i, name) or 0) for name in KPI_COUNTERS}
                for i in items}

    def member_counts(self, brand_id: str, member_id: str) -> dict[str, int]:
        """`OPEN` -> open now; `YYYY-MM` -> complaints opened that month."""
        return {i.sk.removeprefix("COMPLAINTS#"): int(i.total or 0)
                for i in MemberComplaintsItem.query(member_pk(brand_id, member_id),
                                                    MemberComplaintsItem.sk.startswith("COMPLAINTS#"))}

    # ---- a member's cases (export, erasure: rare requests)
    def cases_of_member(self, brand_id: str, member_id: str, store_ids: list[str]) -> list[Complaint]:
        """Every case of a member: the brand's stores' `by_store` partitions filtered on the
        member (cases have no member index; export and erasure are rare and read each store's
        cases once, docs/privacy.md)."""
        out: list[Complaint] = []
        for store_id in store_ids:
            out += [_from_item(i) for i in ComplaintItem.by_store.query(
                store_key(brand_id, store_id), filter_condition=ComplaintItem.member_id == member_id)]
        return out

    def erase_case_texts(self, brand_id: str, complaint_id: str) -> bool:
        """The member's words and the staff's notes go; the case's times, priority, statuses and
        who acted stay (the timeliness figures). False when there was nothing left to erase."""
        item = ComplaintItem.get(case_pk(brand_id, complaint_id), CASE_SK, consistent_read=True)
        if item.description == ERASED_TEXT and not any(h.text for h in item.history or []):
            return False
        history = [HistoryMap(at=h.at, actor=h.actor, action=h.action, status=h.status, assignee=h.assignee,
                              text=None) for h in item.history or []]
        item.update(actions=[ComplaintItem.description.set(ERASED_TEXT), ComplaintItem.resolution.remove(),
                             ComplaintItem.history.set(history), ComplaintItem.version.add(1)])
        return True

    # ---- the outbox of bus events
    def pending_events(self, shard: int) -> list[PendingEvent]:
        return _OUTBOX.pending(shard)

    def event_published(self, e: PendingEvent) -> None:
        _OUTBOX.published(e)


def as_decimal(value: Decimal | None) -> str | None:
    return f"{value:.2f}" if value is not None else None

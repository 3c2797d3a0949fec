"""CareTable: message records (one per member and occasion: the record IS the dedup key),
the daily SMS budget per brand, contact log, manager tasks, cadence reviews, brand templates
and care settings. Layout and access patterns in docs/data-model.md."""

from __future__ import annotations

import contextlib
import dataclasses
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.transactions import TransactWrite

from ..config import settings
from ..domain.kpis import nps_counts
from .clients import REGION as _REGION
from .clients import dynamodb_client
from .kpis import add_counters
from .models import DueIndex, MemberItem, _SharedClientModel, brand_pk, condition_failed, condition_failed_at, member_pk

SHARDS = 4
# Hash key attribute of each sparse MembersTable index the reminder job reads.
_INDEX_KEYS = {"by_birthday": "bday_key", "by_anniversary": "anniv_key", "by_audience": "audience_pk"}


def shard(member_id: str) -> int:
    return zlib.crc32(member_id.encode()) % SHARDS


class AssigneeIndex(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "by_assignee"
        projection = AllProjection()

    assignee_pk = UnicodeAttribute(hash_key=True)
    assignee_sk = UnicodeAttribute(range_key=True)


class _CareModel(_SharedClientModel):
    class Meta:
        table_name = settings().care_table
        region = _REGION

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class MessageItem(_CareModel):
    """sk MSG#<occasion_key>. due_pk/due_sk only while waiting for a later run."""

    class Meta(_CareModel.Meta):
        pass

    due_pk = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)
    due = DueIndex()
    brand_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    occasion_key = UnicodeAttribute()
    category = UnicodeAttribute()  # service | marketing
    status = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    text = UnicodeAttribute(null=True)
    values = MapAttribute[str, Any](null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    sent_at = UTCDateTimeAttribute(null=True)
    next_attempt_at = UTCDateTimeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    sns_message_id = UnicodeAttribute(null=True)


class HolidayRunItem(_CareModel):
    """sk HOLIDAY#<local date> under the brand: how far the day's greeting run got through the
    consenting members (shard, and the index position within it), so each hourly run resumes."""

    class Meta(_CareModel.Meta):
        pass

    shard = NumberAttribute(default=0)
    cursor = UnicodeAttribute(null=True)  # JSON of the index query's LastEvaluatedKey
    offered = NumberAttribute(default=0)
    done = BooleanAttribute(default=False)
    updated_at = UTCDateTimeAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # TTL: a month after the day


class BudgetItem(_CareModel):
    class Meta(_CareModel.Meta):
        pass

    sent = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)


class ContactItem(_CareModel):
    class Meta(_CareModel.Meta):
        pass

    brand_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    contact_id = UnicodeAttribute()
    contacted_on = UnicodeAttribute()
    channel = UnicodeAttribute()
    notes = UnicodeAttribute(null=True)
    next_action = UnicodeAttribute(null=True)
    nps = NumberAttribute(null=True)
    staff_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class TaskItem(_CareModel):
    """sk TASK#<kind>#<period>: one task per member, kind and period (the dedup key)."""

    class Meta(_CareModel.Meta):
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


@dataclass(frozen=True)
class ContactKpi:
    """What a logged contact counts: the month (brand time) and store; `coverage` when the
    member is gold+ (their first contact of the month counts towards contact coverage)."""

    period: str
    store_id: str
    coverage: bool
    nps: int | None = None


class ContactedItem(_CareModel):
    """sk CONTACTED#<month>: the member was contacted that month (counted once for coverage)."""

    class Meta(_CareModel.Meta):
        pass


class CadenceItem(_CareModel):
    """sk CADENCE: the member's next contact review date (silver+ only)."""

    class Meta(_CareModel.Meta):
        pass

    due_pk = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)
    due = DueIndex()
    brand_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    tier = UnicodeAttribute()
    review_on = UnicodeAttribute()
    last_contact_on = UnicodeAttribute(null=True)


class BrandCareItem(_CareModel):
    """pk BRAND#<brand>, sk CARE#TEMPLATE#<kind>#<language> (text) or CARE#SETTINGS (map)."""

    class Meta(_CareModel.Meta):
        pass

    text = UnicodeAttribute(null=True)
    settings = MapAttribute[str, Any](null=True)
    updated_at = UTCDateTimeAttribute()


MSG_PREFIX = "MSG#"
TASK_PREFIX = "TASK#"
CONTACT_PREFIX = "CONTACT#"
CARE_SETTINGS_SK = "CARE#SETTINGS"
CARE_TEMPLATE_PREFIX = "CARE#TEMPLATE#"


def message_sk(occasion_key: str) -> str:
    return MSG_PREFIX + occasion_key


def task_sk(task_id: str) -> str:
    return TASK_PREFIX + task_id


def contact_sk(contacted_on: date, logged_at: datetime, contact_id: str) -> str:
    """Newest day last, and within a day in the order logged: the log reads back in order."""
    return f"{CONTACT_PREFIX}{contacted_on.isoformat()}#{logged_at.isoformat()}#{contact_id}"


def msg_due_pk(member_id: str) -> str:
    return f"MSGDUE#{shard(member_id)}"


def cadence_due_pk(member_id: str) -> str:
    return f"CADENCE#{shard(member_id)}"


def task_due_pk(member_id: str) -> str:
    return f"TASKESC#{shard(member_id)}"


def assignee_pk(brand_id: str, staff_id: str) -> str:
    return f"BRAND#{brand_id}#STAFF#{staff_id}"


class Taken(Exception):
    """The conditional write lost: the record exists or moved on."""


class OverBudget(Exception):
    """The brand's daily SMS budget is spent."""




class CareRepository:
    # ---- occasions (MembersTable sparse indexes) -------------------------------------
    def member_keys_for(self, index: str, key: str) -> list[tuple[str, str]]:
        """(brand_id, member_id) of the items under one key of a sparse MembersTable index
        (by_birthday, by_anniversary, by_audience), every page."""
        out: list[tuple[str, str]] = []
        start: dict[str, Any] | None = None
        while True:
            keys, start = self.member_keys_page(index, key, start=start, limit=None)
            out += keys
            if start is None:
                return out

    def member_keys_page(self, index: str, key: str, *, start: dict[str, Any] | None,
                         limit: int | None) -> tuple[list[tuple[str, str]], dict[str, Any] | None]:
        """One page of keys under `key` (up to `limit`, or DynamoDB's 1 MB page) and where the
        next page starts. The low-level client, not pynamodb's query: only the keys are read,
        nothing is deserialised into a model (the indexes project keys only)."""
        kwargs: dict[str, Any] = {"TableName": MemberItem.Meta.table_name, "IndexName": index,
                                  "KeyConditionExpression": "#k = :k",
                                  "ExpressionAttributeNames": {"#k": _INDEX_KEYS[index]},
                                  "ExpressionAttributeValues": {":k": {"S": key}}}
        if limit is not None:
            kwargs["Limit"] = limit
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = dynamodb_client().query(**kwargs)
        keys = []
        for item in page.get("Items", []):
            _, brand, _, member = item["pk"]["S"].split("#", 3)  # BRAND#<brand>#MEMBER#<member>
            keys.append((brand, member))
        return keys, page.get("LastEvaluatedKey")

    def holiday_run(self, brand_id: str, day: date) -> HolidayRunItem:
        try:
            return HolidayRunItem.get(brand_pk(brand_id), f"HOLIDAY#{day.isoformat()}", consistent_read=True)
        except DoesNotExist:
            return HolidayRunItem(brand_pk(brand_id), f"HOLIDAY#{day.isoformat()}", shard=0, offered=0, done=False)

    def save_holiday_run(self, run: HolidayRunItem, now: datetime) -> None:
        run.updated_at = now
        run.expires_at = int(now.timestamp()) + 31 * 86400
        run.save()

    def profiles(self, keys: Iterable[tuple[str, str]]) -> list[MemberItem]:
        """The profiles of these members (erased ones left out)."""
        wanted = [(member_pk(b, m), "PROFILE") for b, m in dict.fromkeys(keys)]
        return [p for p in MemberItem.batch_get(wanted) if p.erased_at is None] if wanted else []

    def profile(self, brand_id: str, member_id: str) -> MemberItem | None:
        """The member's profile; None when unknown or erased."""
        try:
            item = MemberItem.get(member_pk(brand_id, member_id), "PROFILE")
        except DoesNotExist:
            return None
        return None if item.erased_at is not None else item

    def record_opt_out(self, brand_id: str, member_id: str) -> None:
        item = MemberItem(member_pk(brand_id, member_id), "PROFILE")
        with contextlib.suppress(UpdateError):
            item.update(actions=[MemberItem.sms_opted_out.set(True), MemberItem.audience_pk.remove()],
                        condition=MemberItem.pk.exists())

    # ---- messages ------------------------------------------------------------------------
    def messages(self, brand_id: str, member_id: str) -> list[MessageItem]:
        return list(MessageItem.query(member_pk(brand_id, member_id), MessageItem.sk.startswith(MSG_PREFIX)))

    def message(self, brand_id: str, member_id: str, occasion_key: str) -> MessageItem | None:
        try:
            return MessageItem.get(member_pk(brand_id, member_id), message_sk(occasion_key))
        except DoesNotExist:
            return None

    def new_message(self, m: MessageItem, *, budget: tuple[str, int] | None = None) -> None:
        """Write a new record (fails with Taken if the occasion already has one). With
        `budget` (date, limit) the brand's daily counter is bumped in the same transaction
        (OverBudget when spent)."""
        cond = MessageItem.pk.does_not_exist()
        if budget is None:
            try:
                m.save(condition=cond)
            except PutError as exc:
                if condition_failed(exc):
                    raise Taken() from None
                raise
            return
        day, limit = budget
        counter = BudgetItem(brand_pk(m.brand_id), f"BUDGET#{day}")
        try:
            with TransactWrite(connection=MessageItem._get_connection().connection) as tx:
                tx.save(m, condition=cond)
                tx.update(counter, actions=[BudgetItem.sent.add(1)],
                          condition=BudgetItem.sent.does_not_exist() | (BudgetItem.sent < limit))
        except TransactWriteError as exc:
            if condition_failed_at(exc, 0):
                raise Taken() from None
            if condition_failed_at(exc, 1):
                raise OverBudget() from None
            raise

    def claim_due(self, m: MessageItem, *, now: datetime, budget: tuple[str, int], watch_until: datetime) -> None:
        """Move a deferred/failed record to `sending` (conditioned on the status read), with
        the budget counter in the same transaction. It stays in the due index until
        `watch_until`, so a run that dies before recording the result is noticed."""
        day, limit = budget
        counter = BudgetItem(brand_pk(m.brand_id), f"BUDGET#{day}")
        try:
            with TransactWrite(connection=MessageItem._get_connection().connection) as tx:
                tx.update(m, actions=[MessageItem.status.set("sending"), MessageItem.updated_at.set(now),
                                      MessageItem.due_sk.set(watch_until.astimezone(UTC).isoformat())],
                          condition=MessageItem.status == m.status)
                tx.update(counter, actions=[BudgetItem.sent.add(1)],
                          condition=BudgetItem.sent.does_not_exist() | (BudgetItem.sent < limit))
        except TransactWriteError as exc:
            if condition_failed_at(exc, 1):
                raise OverBudget() from None
            if condition_failed(exc):
                raise Taken() from None
            raise

    def update_message(self, m: MessageItem, *, expect: str | None = None, **values: Any) -> None:
        actions = []
        for name, value in values.items():
            attr = getattr(MessageItem, name)
            actions.append(attr.remove() if value is None else attr.set(value))
        cond = (MessageItem.status == expect) if expect else MessageItem.pk.exists()
        try:
            m.update(actions=actions, condition=cond)
        except UpdateError as exc:
            if condition_failed(exc):
                raise Taken() from None
            raise

    def due_messages(self, now: datetime) -> list[MessageItem]:
        bound = now.isoformat()
        out: list[MessageItem] = []
        for s in range(SHARDS):
            out.extend(MessageItem.due.query(f"MSGDUE#{s}", MessageItem.due_sk <= bound))
        return out

    # ---- brand templates and settings -----------------------------------------------------
    def care_settings(self, brand_id: str) -> tuple[dict[str, Any], dict[tuple[str, str], str]]:
        """The brand's care settings (as stored, {} when none) and its templates by (kind, language)."""
        values: dict[str, Any] = {}
        templates: dict[tuple[str, str], str] = {}
        for item in self.brand_items(brand_id):
            if item.sk == CARE_SETTINGS_SK and item.settings is not None:
                values = item.settings.as_dict()
            elif item.sk.startswith(CARE_TEMPLATE_PREFIX) and item.text:
                kind, language = item.sk.removeprefix(CARE_TEMPLATE_PREFIX).split("#", 1)
                templates[(kind, language)] = item.text
        return values, templates

    def put_care_settings(self, brand_id: str, values: dict[str, Any], now: datetime) -> None:
        self.put_brand_item(BrandCareItem(brand_pk(brand_id), CARE_SETTINGS_SK, settings=values, updated_at=now))

    def put_template(self, brand_id: str, kind: str, language: str, text: str, now: datetime) -> None:
        self.put_brand_item(BrandCareItem(brand_pk(brand_id), f"{CARE_TEMPLATE_PREFIX}{kind}#{language}", text=text,
                                          updated_at=now))

    def brand_items(self, brand_id: str) -> list[BrandCareItem]:
        return list(BrandCareItem.query(brand_pk(brand_id), BrandCareItem.sk.startswith("CARE#")))

    def put_brand_item(self, item: BrandCareItem) -> None:
        item.save()

    # ---- contacts, tasks, cadence --------------------------------------------------------
    def contacts(self, brand_id: str, member_id: str, limit: int = 100) -> list[ContactItem]:
        return list(ContactItem.query(member_pk(brand_id, member_id), ContactItem.sk.startswith(CONTACT_PREFIX),
                                      scan_index_forward=False, limit=limit))

    def contact_by_id(self, brand_id: str, member_id: str, contact_id: str) -> ContactItem | None:
        """One Query of the member's contact log (a member has few)."""
        found = ContactItem.query(member_pk(brand_id, member_id), ContactItem.sk.startswith(CONTACT_PREFIX),
                                  filter_condition=ContactItem.contact_id == contact_id)
        return next(iter(found), None)

    def task(self, brand_id: str, member_id: str, task_id: str) -> TaskItem | None:
        try:
            return TaskItem.get(member_pk(brand_id, member_id), task_sk(task_id))
        except DoesNotExist:
            return None

    def add_task(self, task: TaskItem) -> bool:
        try:
            task.save(condition=TaskItem.pk.does_not_exist())
        except PutError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def tasks_of(self, brand_id: str, staff_id: str, limit: int) -> list[TaskItem]:
        return list(TaskItem.by_assignee.query(assignee_pk(brand_id, staff_id), scan_index_forward=True,
                                               limit=limit))

    def reassign(self, task: TaskItem, staff_id: str, now: datetime) -> None:
        try:
            task.update(actions=[TaskItem.assignee.set(staff_id),
                                 TaskItem.assignee_pk.set(assignee_pk(task.brand_id, staff_id)),
                                 TaskItem.escalated.add(1), TaskItem.due_pk.remove(), TaskItem.due_sk.remove()],
                        condition=TaskItem.status == "open")
        except UpdateError as exc:
            if condition_failed(exc):
                raise Taken() from None
            raise

    def hand_over(self, task: TaskItem, staff_id: str) -> None:
        """Give an open task to someone else (leave, return, departure): not an escalation, so
        its escalation clock keeps running. Taken when it was completed meanwhile."""
        try:
            task.update(actions=[TaskItem.assignee.set(staff_id),
                                 TaskItem.assignee_pk.set(assignee_pk(task.brand_id, staff_id))],
                        condition=TaskItem.status == "open")
        except UpdateError as exc:
            if condition_failed(exc):
                raise Taken() from None
            raise

    def due_tasks(self, now: datetime) -> list[TaskItem]:
        bound = now.isoformat()
        out: list[TaskItem] = []
        for s in range(SHARDS):
            out.extend(TaskItem.due.query(f"TASKESC#{s}", TaskItem.due_sk <= bound))
        return out

    def cadence(self, brand_id: str, member_id: str) -> CadenceItem | None:
        try:
            return CadenceItem.get(member_pk(brand_id, member_id), "CADENCE")
        except DoesNotExist:
            return None

    def cadences(self, brand_id: str, member_ids: list[str]) -> dict[str, CadenceItem]:
        """Cadence records of many members (BatchGetItem); members without one are left out."""
        if not member_ids:
            return {}
        found = CadenceItem.batch_get([(member_pk(brand_id, m), "CADENCE") for m in dict.fromkeys(member_ids)])
        return {c.member_id: c for c in found}

    def put_cadence(self, brand_id: str, member_id: str, tier: str, review_on: date,
                    last_contact_on: str | None = None) -> None:
        CadenceItem(member_pk(brand_id, member_id), "CADENCE", due_pk=cadence_due_pk(member_id),
                    due_sk=review_on.isoformat(), brand_id=brand_id, member_id=member_id, tier=tier,
                    review_on=review_on.isoformat(), last_contact_on=last_contact_on).save()

    def member_tasks(self, brand_id: str, member_id: str) -> list[TaskItem]:
        return list(TaskItem.query(member_pk(brand_id, member_id), TaskItem.sk.startswith(TASK_PREFIX)))

    def erase_member(self, brand_id: str, member_id: str, now: datetime) -> dict[str, int]:
        """After an erasure: contact notes and message texts removed (dates, channels and
        outcomes stay for the figures), the cadence review dropped, open tasks closed. Each
        step is idempotent: a rerun finds nothing more to do."""
        done = {"contacts": 0, "messages": 0, "tasks": 0}
        for c in self.contacts(brand_id, member_id, limit=10_000):
            if c.notes is not None or c.next_action is not None:
                c.update(actions=[ContactItem.notes.remove(), ContactItem.next_action.remove()])
                done["contacts"] += 1
        for m in self.messages(brand_id, member_id):
            if m.text is not None or m.values is not None:
                m.update(actions=[MessageItem.text.remove(), MessageItem.values.remove(), MessageItem.due_pk.remove(),
                                  MessageItem.due_sk.remove()])
                done["messages"] += 1
        self.drop_cadence(brand_id, member_id)
        for t in self.member_tasks(brand_id, member_id):
            if t.status == "open":
                with contextlib.suppress(Taken):
                    self.complete_task(t, now, "erasure")
                    done["tasks"] += 1
        return done

    def drop_cadence(self, brand_id: str, member_id: str) -> None:
        CadenceItem(member_pk(brand_id, member_id), "CADENCE").delete()

    def all_cadences(self) -> list[CadenceItem]:
        """Every silver+ member's review (the VIP set of every brand): the CADENCE#<n> shards
        of the sparse `due` index, read whole (the KPI snapshot, once a month)."""
        out: list[CadenceItem] = []
        for s in range(SHARDS):
            out.extend(CadenceItem.due.query(f"CADENCE#{s}"))
        return out

    def due_cadence(self, day: date) -> list[CadenceItem]:
        out: list[CadenceItem] = []
        for s in range(SHARDS):
            out.extend(CadenceItem.due.query(f"CADENCE#{s}", CadenceItem.due_sk <= day.isoformat()))
        return out

    def log_contact(self, contact: ContactItem, *, task: TaskItem | None, cadence: CadenceItem | None,
                    next_review: date | None, now: datetime, staff_id: str, kpi: ContactKpi | None = None) -> bool:
        """The contact, the matching open cadence task done, the next review date and the KPI
        counts, in one transaction: a task completed concurrently makes the whole request fail
        (Taken). With `kpi.coverage`, the member's first contact of the month also counts a
        gold+ member contacted, once: a marker `CONTACTED#<month>` is put with the counts; when
        it exists already, the contact is written again without them. Returns whether the
        contact counted towards coverage."""
        try:
            self._log_contact(contact, task, cadence, next_review, now, staff_id, kpi)
            return bool(kpi and kpi.coverage)
        except TransactWriteError as exc:
            marker_taken = kpi is not None and kpi.coverage and condition_failed_at(exc, 1)
            if not marker_taken:
                if condition_failed(exc):
                    raise Taken() from None
                raise
        assert kpi is not None
        self.log_contact(contact, task=task, cadence=cadence, next_review=next_review, now=now, staff_id=staff_id,
                         kpi=dataclasses.replace(kpi, coverage=False))
        return False

    def _log_contact(self, contact: ContactItem, task: TaskItem | None, cadence: CadenceItem | None,
                     next_review: date | None, now: datetime, staff_id: str, kpi: ContactKpi | None) -> None:
        with TransactWrite(connection=ContactItem._get_connection().connection) as tx:
            tx.save(contact, condition=ContactItem.pk.does_not_exist())
            if kpi is not None and kpi.coverage:  # the second put of the request (see above)
                tx.save(ContactedItem(contact.pk, f"CONTACTED#{kpi.period}"),
                        condition=ContactedItem.pk.does_not_exist())
            if kpi is not None:
                counts = {"contacts": 1, "gold_plus_contacted": int(kpi.coverage), **nps_counts(kpi.nps)}
                add_counters(tx, contact.brand_id, kpi.period, kpi.store_id, counts)
            if task is not None:
                tx.update(task, actions=_done(now, staff_id), condition=TaskItem.status == "open")
            if cadence is not None and next_review is not None:
                tx.update(cadence, actions=[CadenceItem.review_on.set(next_review.isoformat()),
                                            CadenceItem.due_sk.set(next_review.isoformat()),
                                            CadenceItem.last_contact_on.set(contact.contacted_on)],
                          condition=CadenceItem.pk.exists())

    def complete_task(self, task: TaskItem, now: datetime, staff_id: str) -> None:
        try:
            task.update(actions=_done(now, staff_id), condition=TaskItem.status == "open")
        except UpdateError as exc:
            if condition_failed(exc):
                raise Taken() from None
            raise


def _done(now: datetime, staff_id: str) -> list[Any]:
    return [TaskItem.status.set("done"), TaskItem.completed_at.set(now), TaskItem.completed_by.set(staff_id),
            TaskItem.assignee_sk.set(f"2DONE#{now.isoformat()}"), TaskItem.due_pk.remove(),
            TaskItem.due_sk.remove()]

"""Message records, the brand's daily SMS budget and holiday runs (CareTable).

A member's message for an occasion is the item `MSG#<occasion_key>`, written only if it does
not exist: the record IS the dedup key, so an occasion is decided once however often or
concurrently the job runs. A send takes one unit of the brand's `BUDGET#<day>` counter in the
same transaction. While a message waits for a later run it sits in the sparse `due` index
under MSGDUE#<shard>.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pynamodb.attributes import BooleanAttribute, MapAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from ..domain.reminders import DailyBudget, HolidayRun, Kind, Message, Status
from .care_table import CareTableModel, due_partitions, due_pk, utc_text
from .models import DueIndex, Taken, brand_pk, condition_failed, condition_failed_at, member_pk, taken_on_condition

MSG_PREFIX = "MSG#"
DUE_PREFIX = "MSGDUE"
HOLIDAY_RUN_KEPT_SECONDS = 31 * 86400


class OverBudget(Exception):
    """The brand's daily SMS budget is spent."""


class MessageItem(CareTableModel):
    """sk MSG#<occasion_key>. due_pk/due_sk only while waiting for a later run."""

    class Meta(CareTableModel.Meta):
        pass

    due_pk = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)
    due = DueIndex()
    brand_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    occasion_key = UnicodeAttribute()
    category = UnicodeAttribute()  # service | marketing (kept for readers of the raw table)
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
    template = UnicodeAttribute(null=True)  # the occasion's own text (an activity's invitation)


class BudgetItem(CareTableModel):
    """pk BRAND#<brand>, sk BUDGET#<local day>: SMS sent that day."""

    class Meta(CareTableModel.Meta):
        pass

    sent = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)


class HolidayRunItem(CareTableModel):
    """pk BRAND#<brand>, sk HOLIDAY#<local date>: how far the day's greeting run got through
    the consenting members (shard, and the index position within it), so each hourly run
    resumes where the last stopped."""

    class Meta(CareTableModel.Meta):
        pass

    shard = NumberAttribute(default=0)
    cursor = UnicodeAttribute(null=True)  # JSON of the index query's LastEvaluatedKey
    offered = NumberAttribute(default=0)
    done = BooleanAttribute(default=False)
    updated_at = UTCDateTimeAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # TTL: a month after the day


def message_sk(occasion_key: str) -> str:
    return MSG_PREFIX + occasion_key


def _holiday_sk(day: date) -> str:
    return f"HOLIDAY#{day.isoformat()}"


# What a later write of a message may change (everything else is fixed at creation).
_MUTABLE = ("status", "reason", "text", "sent_at", "next_attempt_at", "attempts", "sns_message_id", "updated_at")


def _to_item(m: Message) -> MessageItem:
    return MessageItem(member_pk(m.brand_id, m.member_id), message_sk(m.occasion_key), brand_id=m.brand_id,
                       member_id=m.member_id, kind=m.kind.value, occasion_key=m.occasion_key, category=m.category,
                       status=m.status.value, reason=m.reason, text=m.text, values=m.values or None,
                       created_at=m.created_at, updated_at=m.updated_at, sent_at=m.sent_at,
                       next_attempt_at=m.next_attempt_at, attempts=m.attempts, sns_message_id=m.sns_message_id,
                       template=m.template,
                       due_pk=due_pk(DUE_PREFIX, m.member_id) if m.due_at else None,
                       due_sk=utc_text(m.due_at) if m.due_at else None)


def _from_item(item: MessageItem) -> Message:
    return Message(brand_id=item.brand_id, member_id=item.member_id, kind=Kind(item.kind),
                   occasion_key=item.occasion_key, status=Status(item.status), created_at=item.created_at,
                   updated_at=item.updated_at,
                   values={str(k): str(v) for k, v in item.values.as_dict().items()} if item.values else {},
                   reason=item.reason, text=item.text, sent_at=item.sent_at, next_attempt_at=item.next_attempt_at,
                   attempts=int(item.attempts or 0), sns_message_id=item.sns_message_id,
                   due_at=datetime.fromisoformat(item.due_sk) if item.due_sk else None, template=item.template)


def _changes(m: Message) -> list[Any]:
    """Update actions writing the message's mutable fields and its place in the due index."""
    item = _to_item(m)
    actions = [getattr(MessageItem, name).set(getattr(item, name)) if getattr(item, name) is not None
               else getattr(MessageItem, name).remove() for name in _MUTABLE]
    if m.due_at is None:
        return [*actions, MessageItem.due_pk.remove(), MessageItem.due_sk.remove()]
    return [*actions, MessageItem.due_pk.set(item.due_pk), MessageItem.due_sk.set(item.due_sk)]


def _budget_update(tx: TransactWrite, brand_id: str, budget: DailyBudget) -> None:
    counter = BudgetItem(brand_pk(brand_id), f"BUDGET#{budget.day.isoformat()}")
    tx.update(counter, actions=[BudgetItem.sent.add(1)],
              condition=BudgetItem.sent.does_not_exist() | (BudgetItem.sent < budget.limit))


class MessageRepository:
    def history(self, brand_id: str, member_id: str) -> list[Message]:
        """Every message of the member (one Query)."""
        return [_from_item(i) for i in MessageItem.query(member_pk(brand_id, member_id),
                                                         MessageItem.sk.startswith(MSG_PREFIX))]

    def get(self, brand_id: str, member_id: str, occasion_key: str) -> Message | None:
        try:
            return _from_item(MessageItem.get(member_pk(brand_id, member_id), message_sk(occasion_key)))
        except DoesNotExist:
            return None

    def add(self, m: Message, *, budget: DailyBudget | None = None) -> None:
        """Write the occasion's record; Taken if it has one already. With `budget`, the
        brand's counter for the day takes one unit in the same transaction (OverBudget when
        spent, and then nothing is written)."""
        item = _to_item(m)
        if budget is None:
            with taken_on_condition():
                item.save(condition=MessageItem.pk.does_not_exist())
            return
        try:
            with TransactWrite(connection=MessageItem._get_connection().connection) as tx:
                tx.save(item, condition=MessageItem.pk.does_not_exist())
                _budget_update(tx, m.brand_id, budget)
        except TransactWriteError as exc:
            if condition_failed_at(exc, 0):
                raise Taken() from None
            if condition_failed_at(exc, 1):
                raise OverBudget() from None
            raise

    def claim(self, m: Message, *, expect: Status, budget: DailyBudget) -> None:
        """Write `m` (now `sending`, watched until its due_at) if its status is still `expect`,
        with one unit of the day's budget in the same transaction: OverBudget when spent,
        Taken when another run moved the message on."""
        try:
            with TransactWrite(connection=MessageItem._get_connection().connection) as tx:
                tx.update(_to_item(m), actions=_changes(m), condition=MessageItem.status == expect.value)
                _budget_update(tx, m.brand_id, budget)
        except TransactWriteError as exc:
            if condition_failed_at(exc, 1):
                raise OverBudget() from None
            if condition_failed(exc):
                raise Taken() from None
            raise

    def save(self, m: Message, *, expect: Status | None = None) -> None:
        """Write what changed on an existing message; with `expect`, only if its status still
        is that (Taken otherwise)."""
        condition = (MessageItem.status == expect.value) if expect else MessageItem.pk.exists()
        with taken_on_condition():
            _to_item(m).update(actions=_changes(m), condition=condition)

    def due(self, now: datetime) -> list[Message]:
        """Messages whose next look is due by `now` (deferred, failed, or stuck in sending)."""
        bound = utc_text(now)
        return [_from_item(i) for p in due_partitions(DUE_PREFIX) for i in MessageItem.due.query(
            p, MessageItem.due_sk <= bound)]

    def erase_texts(self, brand_id: str, member_id: str) -> int:
        """After an erasure: every message's text and values removed (kind, dates and outcome
        stay for the figures), and none waits for a run any more. Returns how many changed."""
        changed = 0
        for item in MessageItem.query(member_pk(brand_id, member_id), MessageItem.sk.startswith(MSG_PREFIX)):
            if item.text is not None or item.values is not None:
                item.update(actions=[MessageItem.text.remove(), MessageItem.values.remove(),
                                     MessageItem.due_pk.remove(), MessageItem.due_sk.remove()])
                changed += 1
        return changed

    # ---- holiday runs ---------------------------------------------------------------------
    def holiday_run(self, brand_id: str, day: date) -> HolidayRun:
        """Where the brand's greeting run of `day` stands (a fresh run when none started)."""
        try:
            item = HolidayRunItem.get(brand_pk(brand_id), _holiday_sk(day), consistent_read=True)
        except DoesNotExist:
            return HolidayRun(brand_id, day)
        return HolidayRun(brand_id, day, shard=int(item.shard or 0), cursor=item.cursor,
                          offered=int(item.offered or 0), done=bool(item.done))

    def save_holiday_run(self, run: HolidayRun, now: datetime) -> None:
        HolidayRunItem(brand_pk(run.brand_id), _holiday_sk(run.day), shard=run.shard, cursor=run.cursor,
                       offered=run.offered, done=run.done, updated_at=now,
                       expires_at=int(now.timestamp()) + HOLIDAY_RUN_KEPT_SECONDS).save()


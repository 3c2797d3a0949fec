"""Member activities (CareTable) and their guests' replies and attendance.

  BRAND#<b>#ACTIVITIES / ACTIVITY#<activity_id>   the activity, its stage, the fan-out's
                                                  position and its counters
  BRAND#<b>#MEMBER#<m> / ACTIVITY#<activity_id>   one guest: reply and attendance
  BRAND#<b>#ACTIVITY#<id> / TASK#activity_feedback.<id>   the organiser's task (store/tasks.py)

The invitation itself is the member's message record `MSG#activity:<id>` (store/messages.py):
it is what makes each member invited once. While the activity waits for the hourly job (the
invitations' send_at, a stalled fan-out, its end) it sits in the sparse `due` index under
ACTDUE#<shard>.

Every counter moves in the same transaction as the change it counts, conditioned on the state
it read: a fan-out slice lands once (condition on the slice number), a guest replies or attends
once (conditions on the guest item), feedback is filed once. The month's KPI counters of the
activity's store move in those transactions too (store/kpis.py).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from ..domain.activities import Activity, ActivityKind, Counts, Feedback, Reply, Stage, occasion_key
from ..domain.segments import MemberFilters
from .care_table import CareTableModel, due_partitions, due_pk, utc_text
from .kpis import SnapshotMemberItem, add_counters, snapshot_pk
from .messages import MessageItem, message_sk
from .models import DueIndex, Taken, condition_failed, condition_failed_at, member_pk, taken_on_condition
from .paging import KeyedQuery, Page

ACTIVITY_PREFIX = "ACTIVITY#"
DUE_PREFIX = "ACTDUE"
COUNT_NAMES = tuple(Counts.__dataclass_fields__)


def activities_pk(brand_id: str) -> str:
    return f"BRAND#{brand_id}#ACTIVITIES"


def activity_sk(activity_id: str) -> str:
    return ACTIVITY_PREFIX + activity_id


class ActivityItem(CareTableModel):
    class Meta(CareTableModel.Meta):
        pass

    due_pk = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)
    due = DueIndex()
    brand_id = UnicodeAttribute()
    activity_id = UnicodeAttribute()
    name = UnicodeAttribute()
    kind = UnicodeAttribute()
    store_id = UnicodeAttribute(null=True)
    starts_at = UTCDateTimeAttribute()
    ends_at = UTCDateTimeAttribute()
    capacity = NumberAttribute(null=True)
    filters = UnicodeAttribute()  # MemberFilters.as_document(), JSON
    segment_id = UnicodeAttribute(null=True)
    text = UnicodeAttribute()
    send_at = UTCDateTimeAttribute()
    organiser_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    period = UnicodeAttribute()
    stage = UnicodeAttribute()
    slice = NumberAttribute(default=0)
    cursor = UnicodeAttribute(null=True)
    progress_at = UTCDateTimeAttribute(null=True)
    due_on = UnicodeAttribute()
    filed_at = UTCDateTimeAttribute(null=True)
    filed_by = UnicodeAttribute(null=True)
    summary = UnicodeAttribute(null=True)
    satisfied_count = NumberAttribute(null=True)
    late = NumberAttribute(null=True)  # 1 late, 0 on time (set when filed)
    audience = NumberAttribute(default=0)
    sent = NumberAttribute(default=0)
    deferred = NumberAttribute(default=0)
    capped = NumberAttribute(default=0)
    suppressed = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    rsvp_yes = NumberAttribute(default=0)
    rsvp_no = NumberAttribute(default=0)
    attended = NumberAttribute(default=0)


class GuestItem(CareTableModel):
    """Under the member: their reply to one activity and whether they came."""

    class Meta(CareTableModel.Meta):
        pass

    activity_id = UnicodeAttribute()
    rsvp = UnicodeAttribute(null=True)
    rsvp_at = UTCDateTimeAttribute(null=True)
    rsvp_by = UnicodeAttribute(null=True)
    attended_at = UTCDateTimeAttribute(null=True)
    attended_by = UnicodeAttribute(null=True)


class NotInvited(Exception):
    """The member has no sent invitation to the activity."""


class Full(Exception):
    """The activity's capacity is taken."""


def _due(a: Activity, at: datetime | None) -> dict[str, Any]:
    return {"due_pk": due_pk(DUE_PREFIX, a.activity_id) if at else None, "due_sk": utc_text(at) if at else None}


def _to_item(a: Activity, due_at: datetime | None) -> ActivityItem:
    f = a.feedback
    return ActivityItem(
        activities_pk(a.brand_id), activity_sk(a.activity_id), brand_id=a.brand_id, activity_id=a.activity_id,
        name=a.name, kind=a.kind.value, store_id=a.store_id, starts_at=a.starts_at, ends_at=a.ends_at,
        capacity=a.capacity, filters=json.dumps(a.filters.as_document(), sort_keys=True), segment_id=a.segment_id,
        text=a.text, send_at=a.send_at, organiser_id=a.organiser_id, created_at=a.created_at, period=a.period,
        stage=a.stage.value, slice=a.slice, cursor=a.cursor, progress_at=a.progress_at, due_on=f.due_on.isoformat(),
        filed_at=f.filed_at, filed_by=f.filed_by, summary=f.summary, satisfied_count=f.satisfied_count,
        **{n: getattr(a.counts, n) for n in COUNT_NAMES}, **_due(a, due_at))


def _from_item(i: ActivityItem) -> Activity:
    late = None if i.late is None else bool(i.late)
    return Activity(
        brand_id=i.brand_id, activity_id=i.activity_id, name=i.name, kind=ActivityKind(i.kind), store_id=i.store_id,
        starts_at=i.starts_at, ends_at=i.ends_at, capacity=int(i.capacity) if i.capacity is not None else None,
        filters=MemberFilters.from_document(json.loads(i.filters)), segment_id=i.segment_id, text=i.text,
        send_at=i.send_at, organiser_id=i.organiser_id, created_at=i.created_at, period=i.period,
        feedback=Feedback(due_on=date.fromisoformat(i.due_on), filed_at=i.filed_at, filed_by=i.filed_by,
                          summary=i.summary,
                          satisfied_count=int(i.satisfied_count) if i.satisfied_count is not None else None,
                          late=late),
        stage=Stage(i.stage), counts=Counts(**{n: int(getattr(i, n) or 0) for n in COUNT_NAMES}),
        slice=int(i.slice or 0), cursor=i.cursor, progress_at=i.progress_at)


def _key(a: Activity) -> ActivityItem:
    return ActivityItem(activities_pk(a.brand_id), activity_sk(a.activity_id))


def _due_actions(a: Activity, at: datetime | None) -> list[Any]:
    if at is None:
        return [ActivityItem.due_pk.remove(), ActivityItem.due_sk.remove()]
    return [ActivityItem.due_pk.set(due_pk(DUE_PREFIX, a.activity_id)), ActivityItem.due_sk.set(utc_text(at))]


def _adds(counts: dict[str, int]) -> list[Any]:
    return [getattr(ActivityItem, n).add(v) for n, v in counts.items() if v]


def _kpi_store(a: Activity) -> str:
    """An activity's figures count in its store's report; a brand-wide one's in the brand's."""
    return a.store_id or ""


def _tx() -> TransactWrite:
    return TransactWrite(connection=ActivityItem._get_connection().connection)


def _stage_in(*stages: Stage) -> Condition:
    return ActivityItem.stage.is_in(*[s.value for s in stages])


class ActivityRepository:
    def add(self, a: Activity) -> None:
        """A new activity, due at its send_at. Taken when the id exists."""
        with taken_on_condition():
            _to_item(a, a.send_at).save(condition=ActivityItem.pk.does_not_exist())

    def get(self, brand_id: str, activity_id: str) -> Activity | None:
        try:
            return _from_item(ActivityItem.get(activities_pk(brand_id), activity_sk(activity_id),
                                               consistent_read=True))
        except DoesNotExist:
            return None

    def recent(self, brand_id: str, *, limit: int, after: str | None = None,
               store_id: str | None = None) -> Page[Activity]:
        """A page of the brand's activities, newest id first (ids start with their creation
        day); with `store_id`, those of that store and the brand-wide ones."""
        q = KeyedQuery("activities", {"pk": activities_pk(brand_id)}, ("sk",))
        items, more = q.take(ActivityItem.query(activities_pk(brand_id), ActivityItem.sk.startswith(ACTIVITY_PREFIX),
                                                scan_index_forward=False, page_size=limit,
                                                last_evaluated_key=q.start(after)), limit,
                             keep=None if store_id is None else lambda i: i.store_id in (None, store_id))
        return Page([_from_item(i) for i in items], more)

    def due(self, now: datetime) -> list[Activity]:
        """Activities the hourly job has to look at by `now` (one Query per due shard)."""
        bound = utc_text(now)
        return [_from_item(i) for p in due_partitions(DUE_PREFIX)
                for i in ActivityItem.due.query(p, ActivityItem.due_sk <= bound)]

    # ---- the fan-out ----------------------------------------------------------------------
    def start(self, a: Activity, now: datetime, watch_until: datetime) -> None:
        """scheduled -> inviting (watched until `watch_until`); Taken when another run did it."""
        with taken_on_condition():
            _key(a).update(actions=[ActivityItem.stage.set(Stage.INVITING.value), ActivityItem.progress_at.set(now),
                                    *_due_actions(a, watch_until)],
                           condition=ActivityItem.stage == Stage.SCHEDULED.value)

    def watch(self, a: Activity, until: datetime) -> None:
        """A stalled fan-out handed on again: watched until `until`. Taken when it moved meanwhile."""
        with taken_on_condition():
            _key(a).update(actions=_due_actions(a, until),
                           condition=(ActivityItem.stage == Stage.INVITING.value) & (ActivityItem.slice == a.slice))

    def advance(self, a: Activity, slice_no: int, counts: dict[str, int], cursor: str | None, now: datetime,
                watch_until: datetime | None) -> None:
        """Land one slice: its counts, the next position, slice+1; `cursor` None means the audience
        is done (invited, due at the end). The activity's store's KPI counters take the slice's
        invitations in the same transaction. Taken when this slice landed already."""
        done = cursor is None
        actions = [*_adds(counts), ActivityItem.slice.set(slice_no + 1), ActivityItem.progress_at.set(now),
                   ActivityItem.cursor.set(cursor) if cursor else ActivityItem.cursor.remove(),
                   *_due_actions(a, a.ends_at if done else watch_until)]
        if done:
            actions.append(ActivityItem.stage.set(Stage.INVITED.value))
        with taken_on_condition(), _tx() as tx:
            tx.update(_key(a), actions=actions,
                      condition=(ActivityItem.stage == Stage.INVITING.value) & (ActivityItem.slice == slice_no))
            add_counters(tx, a.brand_id, a.period, _kpi_store(a), {"activity_invited": counts.get("sent", 0)})

    def moved(self, a: Activity, was: str, now_is: str) -> None:
        """A retried invitation changed outcome (deferred -> sent, say): move one count. Called
        right after the message's own conditional write, so it runs once per change; a crash in
        between loses one count (docs/activities.md)."""
        counts = {n: 0 for n in (was, now_is)}
        counts[was] -= 1
        counts[now_is] += 1
        with _tx() as tx:
            tx.update(_key(a), actions=_adds(counts), condition=ActivityItem.pk.exists())
            if now_is == "sent":
                add_counters(tx, a.brand_id, a.period, _kpi_store(a), {"activity_invited": 1})

    def mark_vip_invited(self, brand_id: str, period: str, store_id: str, member_id: str, year: int) -> bool:
        """The member, a VIP of the month's snapshot, had an invitation this year: flag their
        snapshot entry and count them for the month's activity coverage, once (False when not in
        the snapshot or flagged already)."""
        try:
            with _tx() as tx:
                tx.update(SnapshotMemberItem(snapshot_pk(brand_id, period), member_id),
                          actions=[SnapshotMemberItem.invited_year.set(year)],
                          condition=SnapshotMemberItem.pk.exists()
                          & (SnapshotMemberItem.invited_year.does_not_exist()
                             | (SnapshotMemberItem.invited_year < year)))
                add_counters(tx, brand_id, period, store_id, {"activity_vips_invited": 1})
        except TransactWriteError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def end(self, a: Activity) -> None:
        """invited (or a fan-out overtaken by the end) -> ended, counted as ended in its month.
        Taken when it ended already (or its feedback was filed first)."""
        with taken_on_condition(), _tx() as tx:
            tx.update(_key(a), actions=[ActivityItem.stage.set(Stage.ENDED.value), *_due_actions(a, None)],
                      condition=_stage_in(Stage.SCHEDULED, Stage.INVITING, Stage.INVITED))
            add_counters(tx, a.brand_id, a.period, _kpi_store(a), {"activities_ended": 1})

    # ---- guests ---------------------------------------------------------------------------
    def guest(self, brand_id: str, member_id: str, activity_id: str) -> GuestItem | None:
        try:
            return GuestItem.get(member_pk(brand_id, member_id), activity_sk(activity_id), consistent_read=True)
        except DoesNotExist:
            return None

    def reply(self, a: Activity, member_id: str, reply: Reply, was: str | None, now: datetime, by: str) -> None:
        """Record (or change) a guest's reply: the invitation must have been sent; a yes needs a
        free place. NotInvited / Full / Taken (the reply changed meanwhile)."""
        guest = GuestItem(member_pk(a.brand_id, member_id), activity_sk(a.activity_id))
        counts = {f"rsvp_{reply.value}": 1}
        if was:
            counts[f"rsvp_{was}"] = -1
        activity_condition: Condition = ActivityItem.pk.exists()
        if reply is Reply.YES and a.capacity is not None:
            activity_condition = ActivityItem.rsvp_yes < a.capacity
        try:
            with _tx() as tx:
                tx.condition_check(MessageItem, member_pk(a.brand_id, member_id),
                                   message_sk(occasion_key(a.activity_id)), condition=MessageItem.status == "sent")
                tx.update(guest, actions=[GuestItem.activity_id.set(a.activity_id), GuestItem.rsvp.set(reply.value),
                                          GuestItem.rsvp_at.set(now), GuestItem.rsvp_by.set(by)],
                          condition=(GuestItem.rsvp == was) if was else GuestItem.rsvp.does_not_exist())
                tx.update(_key(a), actions=_adds(counts), condition=activity_condition)
        except TransactWriteError as exc:
            if condition_failed_at(exc, 0):
                raise NotInvited() from None
            if condition_failed_at(exc, 2):
                raise Full() from None
            if condition_failed(exc):
                raise Taken() from None
            raise

    def attend(self, a: Activity, member_id: str, now: datetime, by: str) -> bool:
        """A guest came: counted once (False when recorded before). NotInvited when the member
        had no sent invitation (participation is a share of the invited)."""
        guest = GuestItem(member_pk(a.brand_id, member_id), activity_sk(a.activity_id))
        try:
            with _tx() as tx:
                tx.condition_check(MessageItem, member_pk(a.brand_id, member_id),
                                   message_sk(occasion_key(a.activity_id)), condition=MessageItem.status == "sent")
                tx.update(guest, actions=[GuestItem.activity_id.set(a.activity_id), GuestItem.attended_at.set(now),
                                          GuestItem.attended_by.set(by)],
                          condition=GuestItem.attended_at.does_not_exist())
                tx.update(_key(a), actions=_adds({"attended": 1}), condition=ActivityItem.pk.exists())
                add_counters(tx, a.brand_id, a.period, _kpi_store(a), {"activity_attended": 1})
        except TransactWriteError as exc:
            if condition_failed_at(exc, 0):
                raise NotInvited() from None
            if condition_failed_at(exc, 1):
                return False
            raise
        return True

    # ---- feedback -------------------------------------------------------------------------
    def file_feedback(self, a: Activity, summary: str, satisfied_count: int | None, now: datetime, by: str,
                      late: bool) -> None:
        """The organiser's feedback, once: the activity closes (counted as ended now if the job
        had not ended it yet) and the month counts it filed, and on time unless late. Taken
        when filed already."""
        counts = {"activity_feedback_filed": 1, "activity_feedback_on_time": int(not late)}
        if not a.ended:
            counts["activities_ended"] = 1
        with taken_on_condition(), _tx() as tx:
            tx.update(_key(a), actions=[
                ActivityItem.stage.set(Stage.CLOSED.value), ActivityItem.filed_at.set(now),
                ActivityItem.filed_by.set(by), ActivityItem.summary.set(summary),
                ActivityItem.satisfied_count.set(satisfied_count) if satisfied_count is not None
                else ActivityItem.satisfied_count.remove(), ActivityItem.late.set(int(late)), *_due_actions(a, None)],
                condition=ActivityItem.filed_at.does_not_exist() & ActivityItem.stage.is_in(a.stage.value))
            add_counters(tx, a.brand_id, a.period, _kpi_store(a), counts)

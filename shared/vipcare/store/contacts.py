"""The contact log (CareTable, under the member): `CONTACT#<day>#<logged at>#<id>`, so the log
reads back newest day last, and in the order logged within a day. Logging a contact also
closes the period's cadence task, moves the review on and counts the KPIs, in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from ..domain.kpis import nps_counts
from ..domain.tasks import Contact, Task
from .cadence import EXISTS as CADENCE_EXISTS
from .cadence import cadence_key, moved_on
from .care_table import CareTableModel
from .kpis import SnapshotMember, add_counters, flag_contacted, gold_plus_entry
from .models import Taken, condition_failed, condition_failed_at, member_pk
from .paging import KeyedQuery, Page
from .tasks import OPEN_ONLY, done_actions, still_missing

CONTACT_PREFIX = "CONTACT#"


class ContactItem(CareTableModel):
    class Meta(CareTableModel.Meta):
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


@dataclass(frozen=True)
class ContactKpi:
    """What a logged contact counts: the month (brand time, of the day contacted) and the
    member's store now; `nps` when an answer was given. Coverage is decided by the month's
    opening snapshot (KpiTable), not by the member's tier now."""

    period: str
    store_id: str
    nps: int | None = None


@dataclass(frozen=True)
class ReviewMove:
    """A contact of the current period: the review moves to `review_on` when it completes the
    period (None while requirements are missing: only the last contact is recorded)."""

    review_on: date | None


def contact_sk(c: Contact) -> str:
    return f"{CONTACT_PREFIX}{c.contacted_on.isoformat()}#{c.created_at.isoformat()}#{c.contact_id}"


def _to_item(c: Contact) -> ContactItem:
    return ContactItem(member_pk(c.brand_id, c.member_id), contact_sk(c), brand_id=c.brand_id,
                       member_id=c.member_id, contact_id=c.contact_id, contacted_on=c.contacted_on.isoformat(),
                       channel=c.channel, notes=c.notes, next_action=c.next_action, nps=c.nps,
                       staff_id=c.staff_id, created_at=c.created_at)


def _from_item(item: ContactItem) -> Contact:
    return Contact(brand_id=item.brand_id, member_id=item.member_id, contact_id=item.contact_id,
                   contacted_on=date.fromisoformat(item.contacted_on), channel=item.channel,
                   staff_id=item.staff_id, created_at=item.created_at, notes=item.notes,
                   next_action=item.next_action, nps=int(item.nps) if item.nps is not None else None)


class ContactRepository:
    def recent(self, brand_id: str, member_id: str, *, limit: int, after: str | None = None) -> Page[Contact]:
        """A page of the member's contacts, newest first."""
        pk = member_pk(brand_id, member_id)
        q = KeyedQuery("contacts", {"pk": pk}, ("sk",))
        items, more = q.take(ContactItem.query(pk, ContactItem.sk.startswith(CONTACT_PREFIX),
                                               scan_index_forward=False, page_size=limit,
                                               last_evaluated_key=q.start(after)), limit)
        return Page([_from_item(i) for i in items], more)

    def find(self, brand_id: str, member_id: str, contact_id: str) -> Contact | None:
        """One Query of the member's contact log (a member has few)."""
        found = ContactItem.query(member_pk(brand_id, member_id), ContactItem.sk.startswith(CONTACT_PREFIX),
                                  filter_condition=ContactItem.contact_id == contact_id)
        item = next(iter(found), None)
        return _from_item(item) if item is not None else None

    def between(self, brand_id: str, member_id: str, first: date, last: date) -> list[Contact]:
        """The member's contacts dated `first` to `last` (one period: one key-range Query)."""
        return [_from_item(i) for i in ContactItem.query(member_pk(brand_id, member_id), ContactItem.sk.between(
            f"{CONTACT_PREFIX}{first.isoformat()}", f"{CONTACT_PREFIX}{last.isoformat()}~"))]

    def log(self, contact: Contact, *, task: Task | None, review: ReviewMove | None, now: datetime,
            kpi: ContactKpi | None = None, missing: list[dict[str, Any]] | None = None) -> bool:
        """The contact, the matching open cadence task done, the review moved on and the KPI
        counts, in one transaction: a task completed concurrently makes the whole request fail
        (Taken). A member of the month's opening gold+ set (the snapshot, docs/kpis.md) counts
        as contacted once: their snapshot entry is flagged `contacted` in the same transaction,
        and the count goes to their store in the snapshot, so the numerator is a part of the
        set the denominator counts. When the flag is set already, the contact is written again
        without it. With `missing` the cadence task stays open and shows what its period still
        misses. Returns whether the contact counted towards coverage."""
        entry = gold_plus_entry(contact.brand_id, kpi.period, contact.member_id) if kpi is not None else None
        try:
            self._log(contact, task, review, now, kpi, entry, missing)
            return entry is not None
        except TransactWriteError as exc:
            flag_taken = entry is not None and condition_failed_at(exc, 1)
            if not flag_taken:
                if condition_failed(exc):
                    raise Taken() from None
                raise
        try:
            self._log(contact, task, review, now, kpi, None, missing)
        except TransactWriteError as exc:
            if condition_failed(exc):
                raise Taken() from None
            raise
        return False

    def _log(self, contact: Contact, task: Task | None, review: ReviewMove | None, now: datetime,
             kpi: ContactKpi | None, entry: SnapshotMember | None, missing: list[dict[str, Any]] | None) -> None:
        item = _to_item(contact)
        with TransactWrite(connection=ContactItem._get_connection().connection) as tx:
            tx.save(item, condition=ContactItem.pk.does_not_exist())
            if kpi is not None:
                per_store: dict[str, dict[str, int]] = {kpi.store_id: {"contacts": 1, **nps_counts(kpi.nps)}}
                if entry is not None:  # the second item of the request (see above)
                    flag_contacted(tx, contact.brand_id, kpi.period, entry)
                    per_store.setdefault(entry.store_id, {})["gold_plus_contacted"] = 1
                for store_id, counts in per_store.items():
                    add_counters(tx, contact.brand_id, kpi.period, store_id, counts)
            if task is not None:
                task_item, actions = (still_missing(task, missing) if missing else
                                      done_actions(task, now, contact.staff_id))
                tx.update(task_item, actions=actions, condition=OPEN_ONLY)
            if review is not None:
                tx.update(cadence_key(contact.brand_id, contact.member_id),
                          actions=moved_on(review.review_on, contact.contacted_on), condition=CADENCE_EXISTS)

    def erase_notes(self, brand_id: str, member_id: str) -> int:
        """After an erasure: notes and next actions removed (dates, channels and NPS stay for
        the figures). Returns how many contacts changed."""
        changed = 0
        for item in ContactItem.query(member_pk(brand_id, member_id), ContactItem.sk.startswith(CONTACT_PREFIX)):
            if item.notes is not None or item.next_action is not None:
                item.update(actions=[ContactItem.notes.remove(), ContactItem.next_action.remove()])
                changed += 1
        return changed

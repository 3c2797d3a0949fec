"""Cadence reviews (CareTable, sk CADENCE under a silver+ member): the day the job next checks
that the member was contacted in the period. The review date is the member's place in the
sparse `due` index (CADENCE#<shard>), so the job reads only reviews that are due; the index
read whole is also the VIP set of every brand (the monthly KPI snapshot).
"""

from __future__ import annotations

from datetime import date

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action

from ..domain.tasks import Cadence
from .care_table import CareTableModel, due_partitions, due_pk
from .models import DueIndex, member_pk

CADENCE_SK = "CADENCE"
DUE_PREFIX = "CADENCE"


class CadenceItem(CareTableModel):
    class Meta(CareTableModel.Meta):
        pass

    due_pk = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)
    due = DueIndex()
    brand_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    tier = UnicodeAttribute()
    review_on = UnicodeAttribute()
    last_contact_on = UnicodeAttribute(null=True)


def _from_item(item: CadenceItem) -> Cadence:
    return Cadence(brand_id=item.brand_id, member_id=item.member_id, tier=item.tier,
                   review_on=date.fromisoformat(item.review_on),
                   last_contact_on=date.fromisoformat(item.last_contact_on) if item.last_contact_on else None)


def cadence_key(brand_id: str, member_id: str) -> CadenceItem:
    """The item to update inside a transaction (the contact log moves the review on)."""
    return CadenceItem(member_pk(brand_id, member_id), CADENCE_SK)


def moved_on(review_on: date | None, last_contact_on: date) -> list[Action]:
    """Update actions: the contact, and the next review when it completed this period."""
    moved = [] if review_on is None else [CadenceItem.review_on.set(review_on.isoformat()),
                                          CadenceItem.due_sk.set(review_on.isoformat())]
    return [*moved, CadenceItem.last_contact_on.set(last_contact_on.isoformat())]


EXISTS = CadenceItem.pk.exists()


class CadenceRepository:
    def get(self, brand_id: str, member_id: str) -> Cadence | None:
        try:
            return _from_item(CadenceItem.get(member_pk(brand_id, member_id), CADENCE_SK))
        except DoesNotExist:
            return None

    def many(self, brand_id: str, member_ids: list[str]) -> dict[str, Cadence]:
        """Reviews of many members (BatchGetItem), by member id; members without one left out."""
        if not member_ids:
            return {}
        found = CadenceItem.batch_get([(member_pk(brand_id, m), CADENCE_SK) for m in dict.fromkeys(member_ids)])
        return {c.member_id: _from_item(c) for c in found}

    def put(self, c: Cadence) -> None:
        CadenceItem(member_pk(c.brand_id, c.member_id), CADENCE_SK, due_pk=due_pk(DUE_PREFIX, c.member_id),
                    due_sk=c.review_on.isoformat(), brand_id=c.brand_id, member_id=c.member_id, tier=c.tier,
                    review_on=c.review_on.isoformat(),
                    last_contact_on=c.last_contact_on.isoformat() if c.last_contact_on else None).save()

    def drop(self, brand_id: str, member_id: str) -> None:
        CadenceItem(member_pk(brand_id, member_id), CADENCE_SK).delete()

    def due(self, day: date) -> list[Cadence]:
        """Reviews due on or before `day`."""
        return [_from_item(i) for p in due_partitions(DUE_PREFIX)
                for i in CadenceItem.due.query(p, CadenceItem.due_sk <= day.isoformat())]

    def every(self) -> list[Cadence]:
        """Every silver+ member's review, of every brand (the KPI snapshot, once a month)."""
        return [_from_item(i) for p in due_partitions(DUE_PREFIX) for i in CadenceItem.due.query(p)]

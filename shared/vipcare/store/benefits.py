"""Tier benefits in MembersTable (docs/data-model.md "Benefits"):

  BRAND#<b>            / BENEFITS#<version:06d>          one item per document version (never changed)
  BRAND#<b>#MEMBER#<m> / BENEFIT#<benefit_id>#<period>   uses counted in that period (`used`, ADD)
  BRAND#<b>#MEMBER#<m> / BENEFITUSE#<use_id>             one use: the idempotency key and its answer

A use is one transaction: the use item (only if new) and the counter's ADD, conditioned on the
quota still having room, so concurrent uses never pass it (no read-then-write).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from ..domain.benefits import Benefit, BenefitKind, Catalogue, Grant, Period
from ..domain.members import Member, Tier
from ..domain.stats import MemberStats
from .attributes import DateAttribute
from .clients import dynamodb_client
from .ledger import STATS_SK, StatsItem, stats_of
from .members import _from_item as member_from_item
from .models import (
    PROFILE_SK,
    MemberItem,
    MembersTableModel,
    Taken,
    brand_pk,
    condition_failed_at,
    member_pk,
    taken_on_condition,
)

DOC_PREFIX = "BENEFITS#"
COUNTER_PREFIX = "BENEFIT#"
USE_PREFIX = "BENEFITUSE#"


class BenefitsDocItem(MembersTableModel):
    version = NumberAttribute()
    document = UnicodeAttribute()  # JSON: {"benefits": [...]} as the PUT gave it, normalised
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()


class BenefitCounterItem(MembersTableModel):
    used = NumberAttribute(default=0)


class BenefitUseItem(MembersTableModel):
    use_id = UnicodeAttribute()
    benefit_id = UnicodeAttribute()
    store_id = UnicodeAttribute()
    quantity = NumberAttribute()
    note = UnicodeAttribute(null=True)
    period = UnicodeAttribute()
    period_ends = DateAttribute()
    remaining = NumberAttribute()  # what was left right after this use
    used_at = UTCDateTimeAttribute()
    by = UnicodeAttribute()
    fingerprint = UnicodeAttribute()


class QuotaExhausted(Exception):
    """The period's quota has no room for this use."""


@dataclass(frozen=True)
class BenefitUse:
    brand_id: str
    member_id: str
    use_id: str
    benefit_id: str
    store_id: str
    quantity: int
    period: str
    period_ends: date
    remaining: int
    used_at: datetime
    by: str
    fingerprint: str
    note: str | None = None


@dataclass(frozen=True)
class Holder:
    """What the till needs of the member: the card, the figures (points), the tier's first day."""

    member: Member
    stats: MemberStats
    tier_since: date | None


def _document(c: Catalogue) -> str:
    return json.dumps({"benefits": [{
        "benefit_id": b.benefit_id, "name": b.name, "kind": b.kind.value, "period": b.period.value,
        "tiers": {t.value: {k: (str(v) if isinstance(v, Decimal) else v) for k, v in
                            (("discount_percent", g.discount_percent), ("quota", g.quota)) if v is not None}
                  for t, g in b.tiers.items()}} for b in c.benefits]}, ensure_ascii=False)


def _catalogue(brand_id: str, item: BenefitsDocItem) -> Catalogue:
    benefits = []
    for raw in json.loads(item.document)["benefits"]:
        tiers = {Tier(t): Grant(discount_percent=Decimal(g["discount_percent"]) if "discount_percent" in g else None,
                                quota=g.get("quota")) for t, g in raw["tiers"].items()}
        benefits.append(Benefit(raw["benefit_id"], raw["name"], BenefitKind(raw["kind"]), Period(raw["period"]),
                                tiers))
    return Catalogue(brand_id, int(item.version), tuple(benefits), item.created_at, item.created_by)


def _use(item: BenefitUseItem, brand_id: str, member_id: str) -> BenefitUse:
    return BenefitUse(brand_id, member_id, item.use_id, item.benefit_id, item.store_id, int(item.quantity),
                      item.period, item.period_ends, int(item.remaining), item.used_at, item.by, item.fingerprint,
                      item.note)


class BenefitRepository:
    # ---- the document
    def current(self, brand_id: str) -> Catalogue:
        """The newest version (version 0, no benefits, before the first PUT)."""
        for item in BenefitsDocItem.query(brand_pk(brand_id), BenefitsDocItem.sk.startswith(DOC_PREFIX),
                                          scan_index_forward=False, limit=1):
            return _catalogue(brand_id, item)
        return Catalogue(brand_id)

    def version(self, brand_id: str, version: int) -> Catalogue | None:
        try:
            return _catalogue(brand_id, BenefitsDocItem.get(brand_pk(brand_id), f"{DOC_PREFIX}{version:06d}"))
        except DoesNotExist:
            return None

    def add(self, c: Catalogue) -> None:
        """Store a new version; Taken when that version exists (a concurrent PUT won)."""
        assert c.created_at is not None and c.created_by is not None
        with taken_on_condition():
            BenefitsDocItem(brand_pk(c.brand_id), f"{DOC_PREFIX}{c.version:06d}", version=c.version,
                            document=_document(c), created_at=c.created_at, created_by=c.created_by).save(
                condition=BenefitsDocItem.pk.does_not_exist())

    # ---- a member's side
    def holder(self, brand_id: str, member_id: str) -> Holder | None:
        """Card and figures in one BatchGetItem; None for an unknown or erased member."""
        pk = member_pk(brand_id, member_id)
        table = MemberItem.Meta.table_name
        request: dict[str, Any] = {table: {"Keys": [{"pk": {"S": pk}, "sk": {"S": PROFILE_SK}},
                                                    {"pk": {"S": pk}, "sk": {"S": STATS_SK}}]}}
        found: dict[str, dict[str, Any]] = {}
        while request:
            response = dynamodb_client().batch_get_item(RequestItems=request)
            for raw in response["Responses"].get(table, []):
                found[raw["sk"]["S"]] = raw
            request = response.get("UnprocessedKeys") or {}
        if PROFILE_SK not in found:
            return None
        profile = MemberItem.from_raw_data(found[PROFILE_SK])
        if profile.erased_at is not None:
            return None
        stats = StatsItem.from_raw_data(found[STATS_SK]) if STATS_SK in found else None
        return Holder(member_from_item(profile), stats_of(stats), profile.tier_since)

    def used(self, brand_id: str, member_id: str) -> dict[tuple[str, str], int]:
        """(benefit_id, period label) -> uses so far (one Query)."""
        out: dict[tuple[str, str], int] = {}
        for item in BenefitCounterItem.query(member_pk(brand_id, member_id),
                                             BenefitCounterItem.sk.startswith(COUNTER_PREFIX)):
            benefit_id, period = item.sk.removeprefix(COUNTER_PREFIX).rsplit("#", 1)
            out[(benefit_id, period)] = int(item.used or 0)
        return out

    def use_of(self, brand_id: str, member_id: str, use_id: str) -> BenefitUse | None:
        try:
            return _use(BenefitUseItem.get(member_pk(brand_id, member_id), USE_PREFIX + use_id, consistent_read=True),
                        brand_id, member_id)
        except DoesNotExist:
            return None

    def uses_of_member(self, brand_id: str, member_id: str) -> list[BenefitUse]:
        """Every use the member made (the export), oldest id first."""
        return [_use(i, brand_id, member_id) for i in BenefitUseItem.query(
            member_pk(brand_id, member_id), BenefitUseItem.sk.startswith(USE_PREFIX))]

    def erase_notes(self, brand_id: str, member_id: str) -> int:
        """After an erasure: the staff's free-text notes removed (counts and dates stay)."""
        changed = 0
        for item in BenefitUseItem.query(member_pk(brand_id, member_id), BenefitUseItem.sk.startswith(USE_PREFIX)):
            if item.note is not None:
                item.update(actions=[BenefitUseItem.note.remove()])
                changed += 1
        return changed

    def record_use(self, u: BenefitUse, *, quota: int) -> None:
        """The use and the period's counter in one transaction. Taken when the use id exists,
        QuotaExhausted when fewer than `u.quantity` uses are left of `quota`."""
        pk = member_pk(u.brand_id, u.member_id)
        counter = BenefitCounterItem(pk, f"{COUNTER_PREFIX}{u.benefit_id}#{u.period}")
        try:
            with TransactWrite(connection=MemberItem._get_connection().connection) as tx:
                tx.save(BenefitUseItem(pk, USE_PREFIX + u.use_id, use_id=u.use_id, benefit_id=u.benefit_id,
                                       store_id=u.store_id, quantity=u.quantity, note=u.note, period=u.period,
                                       period_ends=u.period_ends, remaining=u.remaining, used_at=u.used_at,
                                       by=u.by, fingerprint=u.fingerprint),
                        condition=BenefitUseItem.pk.does_not_exist())
                room = quota - u.quantity  # `used` may be at most this before the use
                tx.update(counter, actions=[BenefitCounterItem.used.add(u.quantity)],
                          condition=BenefitCounterItem.used.does_not_exist() | (BenefitCounterItem.used <= room))
        except TransactWriteError as exc:
            if condition_failed_at(exc, 0):
                raise Taken() from None
            if condition_failed_at(exc, 1):
                raise QuotaExhausted() from None
            raise


"""Lists of members: the filters staff combine to find who to call or invite (a saved set of
filters is a segment), which index a list starts from, and whether a member belongs.

A list is never a Scan: it starts from one index on its leading filter (the most selective
one given, in the order of `lead_of`) and every other filter is checked on the members that
index yields (docs/data-model.md, "Member lists")."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from .errors import ValidationFailed
from .members import Member, Tier
from .reminders import lunar_keys_for, mmdd, solar_keys_for
from .stats import MemberStats


class Lead(StrEnum):
    """The index a list starts from."""

    MANAGER = "manager"  # by_manager: one manager's book
    ROLL = "roll"  # listing: the stores' rolls, by tier (one store, or every store of the brand)
    BIRTHDAY = "birthday"  # by_birthday: the days of the month, solar and lunar keys
    ACTIVITY = "activity"  # listing: the brand's members by the month of their last activity


FILTER_NAMES = ("tier", "store_id", "manager_id", "birthday_month", "no_purchase_days", "spend_12m_min",
                "spend_12m_max", "hobby", "sms_consent")


@dataclass(frozen=True)
class MemberFilters:
    tier: Tier | None = None
    store_id: str | None = None
    manager_id: str | None = None
    birthday_month: int | None = None  # 1-12: the birthday falls in this month this year (solar or lunar)
    no_purchase_days: int | None = None  # no purchase for at least this many days (nor since enrolling)
    spend_12m_min: Decimal | None = None
    spend_12m_max: Decimal | None = None
    hobby: str | None = None  # one of the member's hobbies, any case
    sms_consent: bool | None = None  # True: takes marketing SMS (consented, not opted out)

    def __post_init__(self) -> None:
        if self.birthday_month is not None and not 1 <= self.birthday_month <= 12:
            raise ValidationFailed("must be a month, 1-12", field="birthday_month")
        if self.no_purchase_days is not None and not 1 <= self.no_purchase_days <= 3660:
            raise ValidationFailed("must be 1-3660 days", field="no_purchase_days")
        for name in ("spend_12m_min", "spend_12m_max"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValidationFailed("must not be negative", field=name)
        if (self.spend_12m_min is not None and self.spend_12m_max is not None
                and self.spend_12m_min > self.spend_12m_max):
            raise ValidationFailed("must not be below spend_12m_min", field="spend_12m_max")
        if self.hobby is not None and not self.hobby.strip():
            raise ValidationFailed("must not be blank", field="hobby")

    def as_document(self) -> dict[str, Any]:
        """The filters that are set, as JSON values (a segment stores this)."""
        out: dict[str, Any] = {}
        for name in FILTER_NAMES:
            value = getattr(self, name)
            if value is None:
                continue
            out[name] = value.value if isinstance(value, Tier) else str(value) if isinstance(value, Decimal) else value
        return out

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> MemberFilters:
        def dec(name: str) -> Decimal | None:
            return Decimal(str(doc[name])) if doc.get(name) is not None else None

        return cls(tier=Tier(doc["tier"]) if doc.get("tier") else None, store_id=doc.get("store_id"),
                   manager_id=doc.get("manager_id"), birthday_month=doc.get("birthday_month"),
                   no_purchase_days=doc.get("no_purchase_days"), spend_12m_min=dec("spend_12m_min"),
                   spend_12m_max=dec("spend_12m_max"), hobby=doc.get("hobby"), sms_consent=doc.get("sms_consent"))

    def within_store(self, store_id: str) -> MemberFilters:
        """The same filters for a caller who sees one store only."""
        return replace(self, store_id=store_id)


def lead_of(f: MemberFilters) -> Lead:
    """The leading filter: a manager's book is the smallest set; then a store's roll (by tier
    when given), which every store-scoped caller has; a brand-wide birthday month (about a
    twelfth of the members); members inactive for a while; and else the rolls of every store."""
    if f.manager_id is not None:
        return Lead.MANAGER
    if f.store_id is not None or f.tier is not None:
        return Lead.ROLL
    if f.birthday_month is not None:
        return Lead.BIRTHDAY
    if f.no_purchase_days is not None:
        return Lead.ACTIVITY
    return Lead.ROLL


@dataclass(frozen=True)
class ListContext:
    """What the filters are judged against, fixed once per request."""

    current_month: str  # the brand's month (the 12-month spend window ends here)
    birthday_keys: frozenset[str]  # "S<MMDD>" / "L<MMDD>" keys celebrated in the birthday month
    inactive_since: datetime | None  # last activity at or before this: no purchase for N days


def birthday_keys(year: int, month: int) -> frozenset[str]:
    """Every birthday celebrated on a day of `month` in `year`: the solar MMDD (Feb 29 on Feb 28
    in common years) and the lunar MMDD of each day, the same rules as the birthday SMS."""
    keys: set[str] = set()
    for day in range(1, calendar.monthrange(year, month)[1] + 1):
        d = date(year, month, day)
        keys.update(f"S{k}" for k in solar_keys_for(d))
        keys.update(f"L{k}" for k in lunar_keys_for(d))
    return frozenset(keys)


def context_for(f: MemberFilters, *, now: datetime, today: date, current_month: str) -> ListContext:
    return ListContext(
        current_month=current_month,
        birthday_keys=birthday_keys(today.year, f.birthday_month) if f.birthday_month else frozenset(),
        inactive_since=now - timedelta(days=f.no_purchase_days) if f.no_purchase_days else None)


def celebrated_key(member: Member) -> str | None:
    """The member's birthday as birthday_keys names it (None: no birthday on the card)."""
    if member.birthday is None:
        return None
    if member.birthday_lunar:
        from .reminders import lunar_mmdd

        return f"L{lunar_mmdd(member.birthday)}"
    return f"S{mmdd(member.birthday)}"


def takes_marketing(member: Member) -> bool:
    return member.consent.sms_marketing and not member.sms_opted_out


def matches(f: MemberFilters, member: Member, stats: MemberStats, ctx: ListContext) -> bool:
    """Whether the member belongs to the list (every filter that is set)."""
    if f.tier is not None and member.tier != f.tier:
        return False
    if f.store_id is not None and member.store_id != f.store_id:
        return False
    if f.manager_id is not None and member.manager_id != f.manager_id:
        return False
    if f.birthday_month is not None and celebrated_key(member) not in ctx.birthday_keys:
        return False
    if ctx.inactive_since is not None:
        last = stats.last_active_at or member.enrolled_at
        if last > ctx.inactive_since:
            return False
    if f.spend_12m_min is not None or f.spend_12m_max is not None:
        spend = stats.spend_12m(ctx.current_month)
        if f.spend_12m_min is not None and spend < f.spend_12m_min:
            return False
        if f.spend_12m_max is not None and spend > f.spend_12m_max:
            return False
    if f.hobby is not None and f.hobby.strip().casefold() not in {h.strip().casefold() for h in member.hobbies}:
        return False
    return f.sms_consent is None or takes_marketing(member) == f.sms_consent

"""Tier benefits (docs/domain.md §8): what each tier is entitled to at the till. Pure rules.

A brand's benefits are one versioned document. Each benefit is of a kind:
- discount: `discount_percent` off for the tier (the till applies the largest one);
- allowance: `quota` uses per period (free parking 20 times a year, ...);
- birthday_gift: once a year, in the member's birthday month;
- service: something the tier may ask for (a dedicated service team), no count.
A tier missing from a benefit's `tiers` is not entitled to it. Uses are counted per benefit and
period, not per tier: after an upgrade mid-period the new quota counts what was already used,
and after a downgrade `remaining` is never negative.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from .errors import ValidationFailed
from .members import Tier


class BenefitKind(StrEnum):
    DISCOUNT = "discount"
    ALLOWANCE = "allowance"
    BIRTHDAY_GIFT = "birthday_gift"
    SERVICE = "service"


class Period(StrEnum):
    CALENDAR_YEAR = "calendar_year"  # in the brand's time zone
    MEMBERSHIP_YEAR = "membership_year"  # from the day the member reached the tier
    MONTH = "month"


COUNTED = frozenset({BenefitKind.ALLOWANCE, BenefitKind.BIRTHDAY_GIFT})
MAX_BENEFITS = 50
MAX_QUOTA = 10_000


@dataclass(frozen=True)
class Grant:
    """What one tier gets of a benefit."""

    discount_percent: Decimal | None = None
    quota: int | None = None


@dataclass(frozen=True)
class Benefit:
    benefit_id: str
    name: str
    kind: BenefitKind
    period: Period
    tiers: dict[Tier, Grant]

    def grant(self, tier: Tier) -> Grant | None:
        return self.tiers.get(tier)

    def quota(self, tier: Tier) -> int | None:
        """Uses per period for the tier (a birthday gift: one); None when not counted or not entitled."""
        g = self.grant(tier)
        if g is None or self.kind not in COUNTED:
            return None
        return 1 if self.kind is BenefitKind.BIRTHDAY_GIFT else g.quota


@dataclass(frozen=True)
class Catalogue:
    """A brand's benefits, one version of the document; version 0: none defined yet."""

    brand_id: str
    version: int = 0
    benefits: tuple[Benefit, ...] = ()
    created_at: datetime | None = None
    created_by: str | None = None

    def benefit(self, benefit_id: str) -> Benefit | None:
        return next((b for b in self.benefits if b.benefit_id == benefit_id), None)

    def discount_percent(self, tier: Tier) -> Decimal:
        """The largest discount the tier has (discounts do not add up)."""
        found = [g.discount_percent for b in self.benefits if b.kind is BenefitKind.DISCOUNT
                 if (g := b.grant(tier)) is not None and g.discount_percent is not None]
        return max(found, default=Decimal("0"))


def benefit_from_document(raw: dict[str, Any], index: int) -> Benefit:
    """One entry of the PUT body (already shaped by the API model) -> a Benefit; 422 naming
    the field (`benefits.2.tiers.gold.quota`) for what only the rules can tell."""
    where = f"benefits.{index}"
    kind = BenefitKind(str(raw["kind"]))
    tiers: dict[Tier, Grant] = {}
    for tier_name, values in (raw.get("tiers") or {}).items():
        tiers[Tier(tier_name)] = _grant(kind, dict(values or {}), f"{where}.tiers.{tier_name}")
    return Benefit(benefit_id=str(raw["benefit_id"]), name=str(raw["name"]), kind=kind,
                   period=Period(str(raw.get("period") or Period.CALENDAR_YEAR)), tiers=tiers)


def _grant(kind: BenefitKind, values: dict[str, object], at: str) -> Grant:
    allowed = {BenefitKind.DISCOUNT: {"discount_percent"}, BenefitKind.ALLOWANCE: {"quota"}}.get(kind, set())
    for name in values:
        if name not in allowed:
            raise ValidationFailed(f"a {kind.value} benefit takes no {name!r}", field=f"{at}.{name}")
    if kind is BenefitKind.DISCOUNT:
        if "discount_percent" not in values:
            raise ValidationFailed("a discount needs discount_percent", field=f"{at}.discount_percent")
        try:
            pct = Decimal(str(values["discount_percent"]))
        except InvalidOperation:
            raise ValidationFailed("discount_percent must be a number", field=f"{at}.discount_percent") from None
        if not pct.is_finite() or not (Decimal("0") < pct <= Decimal("100")) or pct.as_tuple().exponent < -2:  # type: ignore[operator]
            raise ValidationFailed("discount_percent is more than 0, at most 100, 2 decimals",
                                   field=f"{at}.discount_percent")
        return Grant(discount_percent=pct)
    if kind is BenefitKind.ALLOWANCE:
        quota = values.get("quota")
        if not isinstance(quota, int) or isinstance(quota, bool) or not 1 <= quota <= MAX_QUOTA:
            raise ValidationFailed(f"an allowance needs a whole quota from 1 to {MAX_QUOTA}", field=f"{at}.quota")
        return Grant(quota=quota)
    return Grant()


def validate(benefits: list[Benefit]) -> None:
    if len(benefits) > MAX_BENEFITS:
        raise ValidationFailed(f"at most {MAX_BENEFITS} benefits", field="benefits")
    seen: set[str] = set()
    for i, b in enumerate(benefits):
        if b.benefit_id in seen:
            raise ValidationFailed(f"benefit_id {b.benefit_id!r} appears twice", field=f"benefits.{i}.benefit_id")
        seen.add(b.benefit_id)
        if b.kind is BenefitKind.BIRTHDAY_GIFT and b.period is not Period.CALENDAR_YEAR:
            raise ValidationFailed("a birthday gift comes once a calendar year", field=f"benefits.{i}.period")


# ---- periods -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodWindow:
    label: str  # the counter's key: "2026", "2026-12", or the membership year's first day
    ends: date  # its last day


def _anniversary(start: date, year: int) -> date:
    """`start`'s month and day in `year` (29 February: the 28th in common years)."""
    day = min(start.day, calendar.monthrange(year, start.month)[1])
    return date(year, start.month, day)


def window(period: Period, today: date, *, tier_since: date | None) -> PeriodWindow:
    """The period `today` falls in. A membership year without a known start (a member from
    before tiers were dated) runs as the calendar year."""
    if period is Period.MONTH:
        last = calendar.monthrange(today.year, today.month)[1]
        return PeriodWindow(f"{today.year}-{today.month:02d}", date(today.year, today.month, last))
    if period is Period.MEMBERSHIP_YEAR and tier_since is not None:
        start = _anniversary(tier_since, today.year)
        if start > today:
            start = _anniversary(tier_since, today.year - 1)
        following = _anniversary(tier_since, start.year + 1)
        return PeriodWindow(f"M{start.isoformat()}", date.fromordinal(following.toordinal() - 1))
    return PeriodWindow(str(today.year), date(today.year, 12, 31))


@dataclass(frozen=True)
class BirthdayGift:
    available: bool
    until: date | None  # the last day of this year's birthday month


def birthday_gift(birthday: date | None, today: date, *, entitled: bool, used: int) -> BirthdayGift:
    """In the birthday month, once a year (the solar month of the date of birth)."""
    if not entitled or birthday is None:
        return BirthdayGift(False, None)
    until = date(today.year, birthday.month, calendar.monthrange(today.year, birthday.month)[1])
    return BirthdayGift(available=today.month == birthday.month and used < 1, until=until)


@dataclass(frozen=True)
class Allowance:
    benefit_id: str
    name: str
    quota: int
    used: int
    remaining: int
    period_ends: date


@dataclass(frozen=True)
class Entitlements:
    """What the till shows for one member now."""

    tier: Tier
    discount_percent: Decimal
    allowances: list[Allowance]
    birthday_gift: BirthdayGift
    services: list[str] = field(default_factory=list)


def entitlements(catalogue: Catalogue, tier: Tier, today: date, *, tier_since: date | None,
                 birthday: date | None, used: dict[tuple[str, str], int]) -> Entitlements:
    """`used`: (benefit_id, period label) -> uses counted so far."""
    allowances: list[Allowance] = []
    gift = BirthdayGift(False, None)
    services: list[str] = []
    for b in catalogue.benefits:
        g = b.grant(tier)
        w = window(b.period, today, tier_since=tier_since)
        so_far = used.get((b.benefit_id, w.label), 0)
        if b.kind is BenefitKind.ALLOWANCE and g is not None and g.quota is not None:
            allowances.append(Allowance(b.benefit_id, b.name, g.quota, so_far, max(0, g.quota - so_far), w.ends))
        elif b.kind is BenefitKind.BIRTHDAY_GIFT and not gift.available:
            gift = birthday_gift(birthday, today, entitled=g is not None, used=so_far)
        elif b.kind is BenefitKind.SERVICE and g is not None:
            services.append(b.benefit_id)
    return Entitlements(tier=tier, discount_percent=catalogue.discount_percent(tier), allowances=allowances,
                        birthday_gift=gift, services=services)

"""Tier benefits: the brand's document, what a member has at the till, a use of an allowance."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from ...domain.members import Tier
from .base import Id, NextCursor, _Input, _Model

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
UseId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")]


class BenefitIn(_Input):
    benefit_id: Id
    name: Name
    kind: Literal["discount", "allowance", "birthday_gift", "service"]
    tiers: dict[Tier, dict[str, Any]] = Field(
        description='Per tier: {"discount_percent": "5"} (discount), {"quota": 20} (allowance) or {} '
                    "(birthday gift, service). A tier left out is not entitled.")
    period: Literal["calendar_year", "membership_year", "month"] = Field(
        "calendar_year", description="When uses start again: the calendar year (brand time), the year from the "
                                     "day the member reached the tier, or the month")


class BenefitsIn(_Input):
    benefits: list[BenefitIn] = Field(max_length=50)


class BenefitOut(_Model):
    benefit_id: str
    name: str
    kind: str
    tiers: dict[str, dict[str, Any]]
    period: str


class BenefitsOut(_Model):
    brand_id: str
    version: int = Field(description="0 until the brand stores its first document")
    benefits: list[BenefitOut]
    created_at: datetime | None = None
    created_by: str | None = None


class AllowanceOut(_Model):
    benefit_id: str
    name: str
    quota: int
    used: int
    remaining: int
    period_ends: date


class BirthdayGiftOut(_Model):
    available: bool
    until: date | None = Field(description="The last day of this year's birthday month (null: not entitled)")


class MemberBenefits(_Model):
    member_id: str
    tier: Tier
    discount_percent: str = Field(description="The largest discount of the tier, percent as a decimal string")
    points_balance: int
    allowances: list[AllowanceOut]
    birthday_gift: BirthdayGiftOut
    services: list[str] = Field(description="Benefit ids of the services the tier may ask for")


class BenefitUseIn(_Input):
    use_id: UseId = Field(description="Idempotency key: the same use twice counts once")
    benefit_id: Id
    store_id: Id
    quantity: int = Field(1, ge=1, le=100)
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None


class BenefitUseOut(_Model):
    member_id: str
    use_id: str
    benefit_id: str
    quantity: int
    used_at: datetime
    period_ends: date
    remaining: int


class RewardIn(_Input):
    name: Name
    kind: Literal["gift", "coupon", "service"]
    points: int = Field(gt=0, le=10_000_000, description="The points price")
    stock: int | None = Field(None, ge=0, le=10_000_000, description="How many are left; null: unlimited")
    min_tier: Tier | None = Field(None, description="The lowest tier that may take it; null: every member")
    active: bool = True


class RewardOut(_Model):
    reward_id: str
    name: str
    kind: str
    points: int
    stock: int | None
    min_tier: Tier | None
    active: bool
    affordable: bool | None = Field(None, description="With member_id: whether the member's points cover it")
    updated_at: datetime


class RewardListOut(_Model):
    rewards: list[RewardOut] = Field(description="By reward id")
    next: NextCursor = None

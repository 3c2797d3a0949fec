"""Tier policy, the member's tier view, manual-tier applications, threshold advice."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    Field,
    StringConstraints,
)

from ...domain.members import Tier
from .base import (
    _Input,
    _Model,
)


class CadenceIn(_Input):
    """Contacts a member of the tier is owed: `count` of `channel` per month or quarter."""

    channel: Literal["visit", "phone", "sms", "wechat", "email", "event", "other", "any"] = Field(
        description="A contact-log channel, or `any` (every contact counts)")
    count: int = Field(ge=1, le=31)
    per: Literal["month", "quarter"]


class CadenceOut(_Model):
    channel: str
    count: int
    per: str


class TierRuleIn(_Input):
    """One tier of the policy. Thresholds are checked by the service (increase with the tier,
    keep <= upgrade, nothing negative) so that each error names its field."""

    tier: Tier
    upgrade_spend_12m: Decimal = Field(description="12-month net spend that reaches this tier (decimal string)")
    upgrade_purchases_6m: int = Field(description="6-month purchase count that reaches this tier")
    keep_spend_12m: Decimal | None = Field(None, description="Spend that keeps the tier; default 80% of upgrade")
    keep_purchases_6m: int | None = Field(None, description="Purchases that keep the tier; default 80% of upgrade")
    points_multiplier: Decimal = Decimal("1.0")
    dedicated_manager: bool = False
    cadence: list[CadenceIn] | None = Field(
        None, max_length=8, description="Contact cadence; every requirement must be met for the period's cadence "
        "task to be done (a phone call is not a visit); one period per tier. Default: gold and diamond 1 contact "
        "a month, silver 1 a quarter, regular none")


class TierPolicyIn(_Input):
    combinator: Literal["any", "all"] = "any"
    tiers: list[TierRuleIn] = Field(min_length=1, max_length=10)
    validity_months: int = 12
    warning_days: int = 30
    max_return_rate: Decimal | None = Field(None, description="Returns / sales over 12 months above this block "
                                                               "upgrades (0-1); null: no block")
    referral_credit: Decimal = Field(Decimal("0"), description="Qualifying spend credited per successful referral")
    manual_tier_months: int = Field(12, ge=1, le=36, description="Default expiry of an approved manual tier")


class TierRuleOut(_Model):
    tier: Tier
    upgrade_spend_12m: str
    upgrade_purchases_6m: int
    keep_spend_12m: str
    keep_purchases_6m: int
    points_multiplier: str
    dedicated_manager: bool
    cadence: list[CadenceOut] = Field(default_factory=list)


class TierPolicyOut(_Model):
    brand_id: str
    version: int
    combinator: str
    tiers: list[TierRuleOut]
    validity_months: int
    warning_days: int
    max_return_rate: str | None = None
    referral_credit: str
    manual_tier_months: int
    created_at: datetime | None = None
    created_by: str | None = None
    versions: list[int] = Field(default_factory=list, description="Every stored version (kept for the record)")


class TierApplicationIn(_Input):
    target_tier: Tier
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class TierApplicationDecisionIn(_Input):
    decision: Literal["approve", "reject"]
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    expires_on: date | None = Field(None, description="End of the manual tier (exclusive); default from the policy")


class TierApplicationOut(_Model):
    application_id: str
    member_id: str
    target_tier: Tier
    reason: str
    status: Literal["pending", "approved", "rejected"]
    requested_by: str
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str | None = None
    expires_on: date | None = None


class TierDecisionOut(_Model):
    outcome: str
    tier_from: str
    tier_to: str
    actor: str
    policy_version: int
    at: datetime
    explanation: dict[str, object]


class MemberTierOut(_Model):
    member_id: str
    tier: Tier
    since: date | None = None
    valid_until: date | None = None
    manual_floor: Tier | None = None
    manual_floor_until: date | None = None
    next_review: date | None = None
    policy_version: int
    progress: dict[str, object] = Field(description="spend_12m, purchases_6m, next_tier {spend_needed, "
                                                    "purchases_needed}, keep {spend_needed, purchases_needed, "
                                                    "keep_until_at_least, days_left}")
    decisions: list[TierDecisionOut]


class ThresholdAdviceOut(_Model):
    brand_id: str
    growth: str
    policy_version: int
    source: dict[str, object] = Field(description="kind, as_of (when the daily aggregate was taken; null before "
                                                  "the first), window [first, last month], members, transactions")
    base_line: dict[str, str | None] = Field(description="average_item_price, items_per_transaction, "
                                                         "average_ticket, suggested (with the growth)")
    tiers: list[dict[str, object]] = Field(description="per tier: members, average_spend_12m, average_ticket, "
                                                       "current and suggested upgrade spend, suggested_range")

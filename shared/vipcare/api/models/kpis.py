"""The KPI report (GET /reports/kpis and its history). Rates are decimal strings with 4
places (null when there is nothing to divide by), never floats."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field

from .base import Rate, _Input, _Model


class MembersByTier(_Model):
    regular: int
    silver: int
    gold: int
    diamond: int


class TierChurn(_Model):
    snapshot: int = Field(description="VIPs of this tier at the start of the month")
    left: int = Field(description="of them: left the programme (closed) during the month")
    rate: Rate
    annualised_rate: Rate


class Churn(_Model):
    snapshot: int = Field(description="VIPs at the start of the month (the snapshot)")
    left: int = Field(description="of them: left the programme (closed) during the month")
    rate: Rate = Field(description="left / snapshot, this month")
    annualised_rate: Rate = Field(description="1 - (1 - rate)^12: what the yearly targets are about")
    gold_plus_snapshot: int
    gold_plus_left: int
    gold_plus_rate: Rate
    gold_plus_annualised_rate: Rate
    target: str = Field(description="yearly VIP churn target (the brand's KPI policy; 3.5% by default)")
    gold_plus_target: str = Field(description="yearly diamond+gold churn target (2% by default)")
    by_tier: dict[str, TierChurn] = Field(description="silver, gold, diamond: by the tier at the month's start")


class Retention(_Model):
    """Retention at the month's end, of the snapshot taken at its retention window's start
    (figures appear once the next month's snapshot has run)."""

    window_start: str = Field(description="YYYY-MM: the window's first month, whose opening VIP set is the snapshot")
    window_months: int = Field(description="1, 3, 6 or 12: the brand's retention window")
    rule: str = Field(description="what counts as lost, in words (the brand's KPI policy)")
    snapshot: int
    lost: int = Field(description="of the snapshot: lost by the brand's rule as of the month's end")
    rate: Rate = Field(description="1 - lost / snapshot")
    gold_plus_snapshot: int
    gold_plus_lost: int
    gold_plus_rate: Rate
    target_basic: str = Field(description="77% by default")
    target_challenge: str = Field(description="83% by default")


class KpiComplaintFigures(_Model):
    opened: int
    resolved: int
    resolved_on_time: int
    timeliness: Rate = Field(description="resolved within deadline / opened")
    first_responses: int
    mean_first_response_minutes: str | None
    rated: int
    satisfied: int
    satisfaction: Rate


class Nps(_Model):
    responses: int
    promoters: int
    passives: int
    detractors: int
    score: int | None = Field(description="% promoters - % detractors (complaint feedback and contacts)")


class ContactFigures(_Model):
    gold_plus: int
    contacted: int = Field(description="gold+ members with a logged contact this month")
    coverage: Rate
    logged: int


class SmsFigures(_Model):
    sent: int
    capped: int
    deferred: int
    suppressed: int
    failed: int


class ActivityFigures(_Model):
    """Member activities (docs/activities.md): each rate's numerator is counted within its base."""

    vips: int = Field(description="VIPs of the month's snapshot (the VIPs at its start)")
    vips_invited: int = Field(description="Of them, those invited to at least one activity this year")
    coverage: Rate = Field(description="vips_invited / vips (target 1.0)")
    coverage_target: str
    invited: int = Field(description="Invitations sent for the activities ending this month")
    attended: int = Field(description="Invited guests who came")
    participation: Rate = Field(description="attended / invited (target 0.85)")
    participation_target: str
    ended: int = Field(description="Activities that ended this month")
    feedback_filed: int
    feedback_on_time: int = Field(description="Feedback filed by its due day (5th working day after the end)")
    feedback_on_time_rate: Rate = Field(description="feedback_on_time / ended")


class KpiReport(_Model):
    brand_id: str
    level: str = Field(description="brand, region or store")
    scope_id: str
    period: str
    members_as_of: str = Field(description="now (the month is running) or period_end (recorded by the snapshot)")
    members_by_tier: MembersByTier
    vips: int
    enrolled: int
    closed: int = Field(description="members erased this month (they leave the tier mix)")
    new_vips: int
    upgrades: int
    downgrades: int
    churn: Churn
    retention: Retention
    complaints: KpiComplaintFigures
    nps: Nps
    contacts: ContactFigures
    sms: SmsFigures
    activities: ActivityFigures


class KpiHistory(_Model):
    periods: list[KpiReport]


class KpiPolicyIn(_Input):
    """Fields left out keep the values of the policy in force (the defaults at first)."""

    retention_months: int | None = Field(None, description="the retention window: 1, 3, 6 or 12 months, "
                                                          "aligned on the calendar year (default 12)")
    lost_rule: Literal["months_below_floor", "no_purchase_days"] | None = Field(
        None, description="months_below_floor (default) or no_purchase_days")
    floor: Decimal | None = Field(None, description="monthly net spend below which a month counts (default 50)")
    months_below_floor: int | None = Field(None, description="months in total below the floor that make a "
                                                            "member lost (default 3)")
    no_purchase_days: int | None = Field(None, description="days without a purchase that make a member lost "
                                                          "under no_purchase_days (default 180)")
    churn_target: Decimal | None = Field(None, description="yearly, all VIPs (default 0.035)")
    gold_plus_churn_target: Decimal | None = Field(None, description="yearly, diamond + gold (default 0.02)")
    retention_target_basic: Decimal | None = Field(None, description="default 0.77")
    retention_target_challenge: Decimal | None = Field(None, description="default 0.83")
    activity_coverage_target: Decimal | None = Field(None, description="default 1")
    participation_target: Decimal | None = Field(None, description="default 0.85")


class KpiPolicyOut(_Model):
    brand_id: str
    version: int = Field(description="0: the defaults (nothing stored yet)")
    retention_months: int
    lost_rule: str
    floor: str
    months_below_floor: int
    no_purchase_days: int
    churn_target: str
    gold_plus_churn_target: str
    retention_target_basic: str
    retention_target_challenge: str
    activity_coverage_target: str
    participation_target: str
    created_at: str | None
    created_by: str | None
    versions: list[int] = Field(description="every stored version, oldest first")

"""The KPI report (GET /reports/kpis and its history). Rates are decimal strings with 4
places (null when there is nothing to divide by), never floats."""

from __future__ import annotations

from pydantic import Field

from .base import Rate, _Model


class MembersByTier(_Model):
    regular: int
    silver: int
    gold: int
    diamond: int


class TierChurn(_Model):
    snapshot: int = Field(description="VIPs of this tier at the start of the month")
    lost: int
    rate: Rate
    annualised_rate: Rate


class Churn(_Model):
    snapshot: int = Field(description="VIPs at the start of the month (the snapshot)")
    lost: int = Field(description="of them: closed, or 3 months of spend below the floor")
    rate: Rate = Field(description="lost / snapshot, this month")
    annualised_rate: Rate = Field(description="1 - (1 - rate)^12: what the yearly targets are about")
    gold_plus_snapshot: int
    gold_plus_lost: int
    gold_plus_rate: Rate
    gold_plus_annualised_rate: Rate
    target: str = Field(description="yearly VIP churn target (3.5%)")
    gold_plus_target: str = Field(description="yearly diamond+gold churn target (2%)")
    by_tier: dict[str, TierChurn] = Field(description="silver, gold, diamond: by the tier at the month's start")


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
    retention_rate: Rate = Field(description="1 - lost / snapshot")
    complaints: KpiComplaintFigures
    nps: Nps
    contacts: ContactFigures
    sms: SmsFigures
    activities: ActivityFigures


class KpiHistory(_Model):
    periods: list[KpiReport]

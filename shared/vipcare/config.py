"""Settings from the environment (set by template.yaml, the local stack or the tests).

A frozen dataclass read once per process: cheaper at cold start than pydantic-settings and
all we need, since every value arrives as an environment variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True, slots=True)
class Settings:
    members_table: str
    directory_table: str
    idempotency_table: str
    complaints_table: str
    # SNS topic that tells staff about cases assigned or escalated to them.
    staff_topic_arn: str
    # Brand defaults used when a brand has no settings document of its own.
    default_phone_region: str
    default_timezone: str
    default_currency: str
    max_body_bytes: int
    idempotency_ttl_seconds: int
    purchases_queue_url: str
    event_bus_name: str
    # Purchase limits (brand defaults; docs/domain.md §8: where the numbers are set)
    max_purchase_amount: str
    backdating_days: int
    return_hold_days: int
    points_lifetime_months: int
    # Care: reminders and manager tasks (brand defaults; a brand's care settings override them)
    care_table: str = "vipcare-care"
    sms_weekly_marketing_cap: int = 2
    sms_daily_budget: int = 10000
    holiday_country: str = "CN"
    # KPIs: the counters table, and the monthly spend under which a VIP counts towards "lost"
    # (3 consecutive months below it; docs/domain.md §6).
    kpi_table: str = "vipcare-kpis"
    # Optional JSON overrides of the complaint policy (SLA, value bands, technical categories).
    complaint_policy_json: str | None = None
    # Tier re-evaluation: the queue that fans a run out into shard workers, and how many due
    # members one worker invocation takes before it hands the rest of its shard on.
    tier_review_queue_url: str = ""
    tier_review_page: int = 200
    invitations_queue_url: str = ""


@cache
def settings() -> Settings:
    env = os.environ.get
    return Settings(
        members_table=env("MEMBERS_TABLE", "vipcare-members"),
        directory_table=env("DIRECTORY_TABLE", "vipcare-directory"),
        idempotency_table=env("IDEMPOTENCY_TABLE", "vipcare-idempotency"),
        complaints_table=env("COMPLAINTS_TABLE", "vipcare-complaints"),
        staff_topic_arn=env("STAFF_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:vipcare-staff"),
        default_phone_region=env("DEFAULT_PHONE_REGION", "CN"),
        default_timezone=env("DEFAULT_TIMEZONE", "Asia/Shanghai"),
        default_currency=env("DEFAULT_CURRENCY", "CNY"),
        max_body_bytes=int(env("MAX_BODY_BYTES", "65536")),
        idempotency_ttl_seconds=int(env("IDEMPOTENCY_TTL_SECONDS", "86400")),
        purchases_queue_url=env("PURCHASES_QUEUE_URL", ""),
        event_bus_name=env("EVENT_BUS_NAME", "default"),
        max_purchase_amount=env("MAX_PURCHASE_AMOUNT", "1000000"),
        backdating_days=int(env("PURCHASE_BACKDATING_DAYS", "90")),
        return_hold_days=int(env("RETURN_HOLD_DAYS", "7")),
        points_lifetime_months=int(env("POINTS_LIFETIME_MONTHS", "24")),
        complaint_policy_json=env("COMPLAINT_POLICY") or None,
        tier_review_queue_url=env("TIER_REVIEW_QUEUE_URL", ""),
        tier_review_page=int(env("TIER_REVIEW_PAGE", "200")),
        invitations_queue_url=env("INVITATIONS_QUEUE_URL", ""),
        care_table=env("CARE_TABLE", "vipcare-care"),
        sms_weekly_marketing_cap=int(env("SMS_WEEKLY_MARKETING_CAP", "2")),
        sms_daily_budget=int(env("SMS_DAILY_BUDGET", "10000")),
        holiday_country=env("HOLIDAY_COUNTRY", "CN"),
        kpi_table=env("KPI_TABLE", "vipcare-kpis"),
    )

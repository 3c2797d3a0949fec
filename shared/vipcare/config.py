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
    # Optional JSON overrides of the complaint policy (SLA, value bands, technical categories).
    complaint_policy_json: str | None = None


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
        complaint_policy_json=env("COMPLAINT_POLICY") or None,
    )

"""A brand's care policy (time zone, language, holiday country, caps, budget, templates) and
the admin use cases that change it (docs/reminders.md "Brand settings")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..config import settings
from ..domain import reminders as rules
from ..domain.access import Caller, Role
from ..domain.errors import Forbidden, ValidationFailed
from ..domain.reminders import Kind
from .brands import brand_settings
from .care_ports import CareSettingsStore
from .ports import BrandSource

if TYPE_CHECKING:  # the request models: only the API passes them (the job never loads pydantic's)
    from ..api.models.care import CareSettingsIn, TemplateIn

# How the member reads a tier in an SMS, per language (the id when none is given).
TIER_NAMES = {"zh": {"regular": "普通", "silver": "银卡", "gold": "金卡", "diamond": "钻石"}}


@dataclass(frozen=True)
class CarePolicy:
    """A brand's care settings (the deployment's defaults where the brand set none)."""

    brand_id: str
    brand_name: str
    timezone: str
    language: str
    country: str
    weekly_cap: int
    daily_budget: int
    brand_dates: dict[str, str]
    templates: dict[tuple[str, str], str]

    def template(self, kind: Kind) -> str:
        own = self.templates.get((kind.value, self.language))
        return own or rules.DEFAULT_TEMPLATES[kind][self.language]

    def tier_name(self, tier: str) -> str:
        return TIER_NAMES.get(self.language, {}).get(tier, tier)


def care_policy(brand_id: str, store: CareSettingsStore, directory: BrandSource) -> CarePolicy:
    brand = brand_settings(brand_id, directory)
    cfg = settings()
    stored = store.get(brand_id)
    values = stored.values
    return CarePolicy(
        brand_id=brand_id, brand_name=brand.name, timezone=values.get("timezone") or brand.timezone,
        language=values.get("language") or "zh", country=values.get("country") or cfg.holiday_country,
        weekly_cap=int(values.get("weekly_cap", cfg.sms_weekly_marketing_cap)),
        daily_budget=int(values.get("daily_budget", cfg.sms_daily_budget)),
        brand_dates=dict(values.get("brand_dates") or {}), templates=stored.templates)


class Policies:
    """Brand policies read once per run (a run touches few brands, many members)."""

    def __init__(self, store: CareSettingsStore, directory: BrandSource) -> None:
        self._store, self._directory = store, directory
        self._seen: dict[str, CarePolicy] = {}

    def __call__(self, brand_id: str) -> CarePolicy:
        if brand_id not in self._seen:
            self._seen[brand_id] = care_policy(brand_id, self._store, self._directory)
        return self._seen[brand_id]


# ---- admin use cases ----------------------------------------------------------------------


def _admin(caller: Caller) -> None:
    if caller.role is not Role.ADMIN:
        raise Forbidden("only an administrator may change care templates and settings")


def put_template(caller: Caller, kind: str, language: str, request: TemplateIn, *, now: datetime,
                 store: CareSettingsStore) -> dict[str, str]:
    _admin(caller)
    text = request.text
    try:
        k = Kind(kind)
    except ValueError:
        raise ValidationFailed(f"unknown message kind {kind!r}", field="kind") from None
    rules.validate_template(text, language)
    store.put_template(caller.brand_id, k.value, language, text, now)
    return {"kind": k.value, "language": language, "text": text, "segments": str(rules.segments(text))}


def put_settings(caller: Caller, request: CareSettingsIn, *, now: datetime, store: CareSettingsStore) -> dict[str, Any]:
    """Store the fields sent over the brand's current settings; unknown zones and countries 422."""
    _admin(caller)
    values = request.model_dump(mode="json")
    if values.get("timezone") is not None:
        rules.zone(values["timezone"])
    if values.get("country") is not None:
        rules.public_holidays(values["country"], now.year)
    current = store.get(caller.brand_id).values
    stored = {**current, **{k: v for k, v in values.items() if v is not None}}  # fields sent replace
    store.put_settings(caller.brand_id, stored, now)
    return stored

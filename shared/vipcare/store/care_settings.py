"""A brand's care settings and its own SMS templates (CareTable, pk BRAND#<brand>):
sk CARE#SETTINGS (a map, as the brand's admin set it) and CARE#TEMPLATE#<kind>#<language>."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pynamodb.attributes import MapAttribute, UnicodeAttribute, UTCDateTimeAttribute

from .care_table import CareTableModel
from .models import brand_pk

SETTINGS_SK = "CARE#SETTINGS"
TEMPLATE_PREFIX = "CARE#TEMPLATE#"


class BrandCareItem(CareTableModel):
    class Meta(CareTableModel.Meta):
        pass

    text = UnicodeAttribute(null=True)
    settings = MapAttribute[str, Any](null=True)
    updated_at = UTCDateTimeAttribute()


@dataclass(frozen=True)
class StoredCareSettings:
    """What the brand stored: its settings ({} when none) and its templates by (kind, language)."""

    values: dict[str, Any] = field(default_factory=dict)
    templates: dict[tuple[str, str], str] = field(default_factory=dict)


class CareSettingsRepository:
    def get(self, brand_id: str) -> StoredCareSettings:
        """Settings and templates in one Query."""
        values: dict[str, Any] = {}
        templates: dict[tuple[str, str], str] = {}
        for item in BrandCareItem.query(brand_pk(brand_id), BrandCareItem.sk.startswith("CARE#")):
            if item.sk == SETTINGS_SK and item.settings is not None:
                values = item.settings.as_dict()
            elif item.sk.startswith(TEMPLATE_PREFIX) and item.text:
                kind, language = item.sk.removeprefix(TEMPLATE_PREFIX).split("#", 1)
                templates[(kind, language)] = item.text
        return StoredCareSettings(values, templates)

    def put_settings(self, brand_id: str, values: dict[str, Any], now: datetime) -> None:
        BrandCareItem(brand_pk(brand_id), SETTINGS_SK, settings=values, updated_at=now).save()

    def put_template(self, brand_id: str, kind: str, language: str, text: str, now: datetime) -> None:
        BrandCareItem(brand_pk(brand_id), f"{TEMPLATE_PREFIX}{kind}#{language}", text=text, updated_at=now).save()

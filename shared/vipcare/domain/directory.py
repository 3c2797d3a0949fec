"""Brands, stores and staff: the directory later issues route work through."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .access import Role


@dataclass(slots=True)
class BrandSettings:
    """Per-brand policy defaults (docs/domain.md §8: where each number is set)."""

    brand_id: str
    name: str
    phone_region: str = "CN"
    timezone: str = "Asia/Shanghai"
    currency: str = "CNY"


@dataclass(slots=True)
class Store:
    brand_id: str
    store_id: str
    name: str
    code: str
    timezone: str
    created_at: datetime
    address: str | None = None
    region: str | None = None  # reporting region: KPIs roll up store -> region -> brand


@dataclass(slots=True)
class Staff:
    brand_id: str
    staff_id: str
    name: str
    role: Role
    store_id: str | None
    created_at: datetime
    updated_at: datetime
    supervisor_id: str | None = None
    on_leave: bool = False
    capacity: int = 0  # members a manager can own; 0 = not an account manager
    active: bool = True
    extra: dict[str, str] = field(default_factory=dict)

"""Stores and staff."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    Field,
    StringConstraints,
    field_validator,
)

from ...domain.access import Role
from .base import (
    Id,
    Name,
    NextCursor,
    Text,
    _Input,
    _Model,
)


class StoreCreate(_Input):
    store_id: Id
    name: Name
    code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9]{1,8}$")] | None = None
    timezone: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, description="IANA time zone; defaults to the brand's"
    )
    address: Text | None = None
    region: Id | None = Field(default=None, description="Reporting region (KPIs by region)")


class StoreOut(_Model):
    brand_id: str
    store_id: str
    name: str
    code: str
    timezone: str
    address: str | None
    region: str | None = None
    created_at: datetime


class StaffCreate(_Input):
    staff_id: Id | None = Field(default=None, description="Generated when absent")
    name: Name
    role: Role
    store_id: Id | None = None
    supervisor_id: Id | None = None
    on_leave: bool = False
    capacity: int = Field(default=0, ge=0, le=10_000, description="Members an account manager can own")


class HandoverOut(_Model):
    staff_id: str
    action: str = Field(description="leave, return or departure")
    members: int = Field(description="dedicated members handed to other managers")
    tasks: int
    complaints: int
    to: dict[str, int] = Field(description="who received how many items")
    over_capacity: int = Field(description="members given to a manager already at capacity (nobody had room)")


class StaffPatch(_Input):
    name: Name | None = None
    role: Role | None = None
    store_id: Id | None = None
    supervisor_id: Id | None = None
    on_leave: bool | None = None
    capacity: int | None = Field(default=None, ge=0, le=10_000)
    active: bool | None = None

    @field_validator("name", "role", "on_leave", "capacity", "active")
    @classmethod
    def _not_null(cls, value: object, info):  # type: ignore[no-untyped-def]
        if value is None:
            raise ValueError(f"{info.field_name} cannot be cleared")
        return value


class StaffOut(_Model):
    brand_id: str
    staff_id: str
    name: str
    role: Role
    store_id: str | None
    supervisor_id: str | None
    on_leave: bool
    capacity: int
    active: bool
    created_at: datetime
    updated_at: datetime


class StoreListOut(_Model):
    stores: list[StoreOut] = Field(description="By store id")
    next: NextCursor = None

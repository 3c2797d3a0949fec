"""Stores and the staff directory. Administration needs the `admin` role."""

from __future__ import annotations

import dataclasses
import secrets
from datetime import datetime
from typing import Any

from ..api.models.directory import StaffCreate, StaffPatch, StoreCreate
from ..domain.access import Caller, Role, require_role
from ..domain.directory import Staff, Store
from ..domain.errors import Conflict, NotFound, ValidationFailed
from ..domain.members import store_code_for
from ..store.directory import AlreadyExists, Missing
from ..store.paging import Page
from .brands import brand_settings
from .ports import Directory, DirectoryReader

# Roles that work in one store and therefore must name it.
STORE_BOUND_ROLES = frozenset({Role.STORE_STAFF, Role.MANAGER})


def _check_timezone(name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"unknown IANA time zone {name!r}", field="timezone") from None


def create_store(caller: Caller, request: StoreCreate, *, now: datetime, directory: Directory) -> Store:
    require_role(caller, Role.ADMIN)
    timezone = request.timezone or brand_settings(caller.brand_id, directory).timezone
    _check_timezone(timezone)
    store = Store(
        brand_id=caller.brand_id,
        store_id=request.store_id,
        name=request.name,
        code=(request.code or store_code_for(request.store_id, caller.brand_id)).upper(),
        timezone=timezone,
        address=request.address,
        region=request.region,
        created_at=now,
    )
    try:
        directory.add_store(store)
    except AlreadyExists:
        raise Conflict(f"store {store.store_id} already exists", field="store_id") from None
    return store


def list_stores(caller: Caller, *, limit: int, after: str | None, directory: Directory) -> Page[Store]:
    return directory.stores_page(caller.brand_id, limit=limit, after=after)


def _check_links(caller: Caller, directory: DirectoryReader, *, role: Role, store_id: str | None,
                 supervisor_id: str | None, staff_id: str) -> None:
    if role in STORE_BOUND_ROLES and not store_id:
        raise ValidationFailed(f"a {role.value} must belong to a store", field="store_id")
    if store_id and directory.store(caller.brand_id, store_id) is None:
        raise ValidationFailed(f"unknown store {store_id}", field="store_id")
    if supervisor_id:
        if supervisor_id == staff_id:
            raise ValidationFailed("staff cannot supervise themselves", field="supervisor_id")
        if directory.staff(caller.brand_id, supervisor_id) is None:
            raise ValidationFailed(f"unknown staff {supervisor_id}", field="supervisor_id")


def create_staff(caller: Caller, request: StaffCreate, *, now: datetime, directory: Directory) -> Staff:
    require_role(caller, Role.ADMIN)
    staff_id = request.staff_id or "s_" + secrets.token_hex(6)
    _check_links(caller, directory, role=request.role, store_id=request.store_id,
                 supervisor_id=request.supervisor_id, staff_id=staff_id)
    staff = Staff(
        brand_id=caller.brand_id,
        staff_id=staff_id,
        name=request.name,
        role=request.role,
        store_id=request.store_id,
        supervisor_id=request.supervisor_id,
        on_leave=request.on_leave,
        capacity=request.capacity,
        created_at=now,
        updated_at=now,
    )
    try:
        directory.add_staff(staff)
    except AlreadyExists:
        raise Conflict(f"staff {staff_id} already exists", field="staff_id") from None
    return staff


def get_staff(caller: Caller, staff_id: str, *, directory: DirectoryReader) -> Staff:
    """Any signed-in staff of the brand may read the directory (it holds no customer data)."""
    staff = directory.staff(caller.brand_id, staff_id)
    if staff is None:
        raise NotFound("staff not found")
    return staff


def update_staff(caller: Caller, staff_id: str, patch: StaffPatch, *, now: datetime, directory: Directory) -> Staff:
    require_role(caller, Role.ADMIN)
    staff = get_staff(caller, staff_id, directory=directory)
    changes: dict[str, Any] = {name: getattr(patch, name) for name in patch.model_fields_set}
    if not changes:
        return staff
    updated = dataclasses.replace(staff, updated_at=now, **changes)
    _check_links(caller, directory, role=updated.role, store_id=updated.store_id,
                 supervisor_id=updated.supervisor_id if "supervisor_id" in changes else None,
                 staff_id=staff_id)
    try:
        directory.update_staff(updated, changes, now=now)
    except Missing:
        raise NotFound("staff not found") from None
    return updated

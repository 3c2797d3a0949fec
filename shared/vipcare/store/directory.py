"""Directory repository: brand settings, stores (with the member-number sequence), staff."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.expressions.update import Action

from ..domain.access import Role
from ..domain.directory import BrandSettings, Staff, Store
from .models import (
    BRAND_SK,
    BrandItem,
    BrandRegistryItem,
    StaffItem,
    StaffLogItem,
    StoreItem,
    brand_pk,
    condition_failed,
    staff_index_keys,
    staff_sk,
    store_sk,
)
from .paging import KeyedQuery, Page


class AlreadyExists(Exception):
    pass


class Missing(Exception):
    pass




def _store(item: StoreItem) -> Store:
    return Store(
        brand_id=item.brand_id,
        store_id=item.store_id,
        name=item.name,
        code=item.code,
        timezone=item.timezone,
        address=item.address,
        region=item.region,
        created_at=item.created_at,
    )


def _staff(item: StaffItem) -> Staff:
    return Staff(
        brand_id=item.brand_id,
        staff_id=item.staff_id,
        name=item.name,
        role=Role(item.role),
        store_id=item.store_id,
        supervisor_id=item.supervisor_id,
        on_leave=bool(item.on_leave),
        capacity=int(item.capacity or 0),
        active=bool(item.active),
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


BRANDS_PK = "BRANDS"


class DirectoryRepository:
    # ---- brands
    def brand(self, brand_id: str) -> BrandSettings | None:
        try:
            item = BrandItem.get(brand_pk(brand_id), BRAND_SK)
        except DoesNotExist:
            return None
        return BrandSettings(
            brand_id=item.brand_id,
            name=item.name,
            phone_region=item.phone_region,
            timezone=item.timezone,
            currency=item.currency,
        )

    def put_brand(self, brand: BrandSettings) -> None:
        BrandItem(
            brand_pk(brand.brand_id),
            BRAND_SK,
            brand_id=brand.brand_id,
            name=brand.name,
            phone_region=brand.phone_region,
            timezone=brand.timezone,
            currency=brand.currency,
        ).save()
        BrandRegistryItem(BRANDS_PK, brand.brand_id).save()

    # ---- stores
    def add_store(self, store: Store) -> None:
        item = StoreItem(
            brand_pk(store.brand_id),
            store_sk(store.store_id),
            brand_id=store.brand_id,
            store_id=store.store_id,
            name=store.name,
            code=store.code,
            timezone=store.timezone,
            address=store.address,
            region=store.region,
            created_at=store.created_at,
        )
        try:
            item.save(condition=StoreItem.pk.does_not_exist())
        except PutError as exc:
            if condition_failed(exc):
                raise AlreadyExists(store.store_id) from None
            raise
        BrandRegistryItem(BRANDS_PK, store.brand_id).save()  # idempotent: the brand is listed

    def log_staff_change(self, brand_id: str, staff_id: str, action: str, by: str, at: datetime,
                         detail: dict[str, Any]) -> None:
        """Audit: a leave, return or departure and what moved where (ids and counts only)."""
        StaffLogItem(brand_pk(brand_id), f"STAFFLOG#{staff_id}#{at.isoformat()}#{action}", action=action, by=by,
                     at=at, detail=json.dumps(detail, sort_keys=True)).save()

    def staff_log(self, brand_id: str, staff_id: str) -> list[dict[str, Any]]:
        return [{"action": i.action, "by": i.by, "at": i.at.isoformat(), **json.loads(i.detail)}
                for i in StaffLogItem.query(brand_pk(brand_id), StaffLogItem.sk.startswith(f"STAFFLOG#{staff_id}#"))]

    def brand_ids(self) -> list[str]:
        """Every brand with a store (one Query of the registry partition)."""
        return [i.sk for i in BrandRegistryItem.query(BRANDS_PK)]

    def store(self, brand_id: str, store_id: str) -> Store | None:
        try:
            return _store(StoreItem.get(brand_pk(brand_id), store_sk(store_id)))
        except DoesNotExist:
            return None

    def stores(self, brand_id: str) -> list[Store]:
        return [_store(i) for i in StoreItem.query(brand_pk(brand_id), StoreItem.sk.startswith("STORE#"))]

    def stores_page(self, brand_id: str, *, limit: int, after: str | None = None) -> Page[Store]:
        """A page of the brand's stores, by store id."""
        q = KeyedQuery("stores", {"pk": brand_pk(brand_id)}, ("sk",))
        items, more = q.take(StoreItem.query(brand_pk(brand_id), StoreItem.sk.startswith("STORE#"), page_size=limit,
                                             last_evaluated_key=q.start(after)), limit)
        return Page([_store(i) for i in items], more)

    def next_member_seq(self, brand_id: str, store_id: str) -> tuple[int, str]:
        """Atomically take the store's next enrolment number; also proves the store exists.

        Returns (sequence, store code). Raises Missing for an unknown store.
        """
        item = StoreItem(brand_pk(brand_id), store_sk(store_id))
        try:
            item.update(actions=[StoreItem.member_seq.add(1)], condition=StoreItem.pk.exists())
        except UpdateError as exc:
            if condition_failed(exc):
                raise Missing(store_id) from None
            raise
        # update() reads back ALL_NEW into `item`: the new sequence and the store's code.
        return int(item.member_seq), item.code

    # ---- staff
    def add_staff(self, staff: Staff) -> None:
        gsi1pk, gsi1sk = staff_index_keys(staff.brand_id, staff.store_id, staff.role.value, staff.staff_id)
        item = StaffItem(
            brand_pk(staff.brand_id),
            staff_sk(staff.staff_id),
            gsi1pk=gsi1pk,
            gsi1sk=gsi1sk,
            brand_id=staff.brand_id,
            staff_id=staff.staff_id,
            name=staff.name,
            role=staff.role.value,
            store_id=staff.store_id,
            supervisor_id=staff.supervisor_id,
            on_leave=staff.on_leave,
            capacity=staff.capacity,
            active=staff.active,
            created_at=staff.created_at,
            updated_at=staff.updated_at,
        )
        try:
            item.save(condition=StaffItem.pk.does_not_exist())
        except PutError as exc:
            if condition_failed(exc):
                raise AlreadyExists(staff.staff_id) from None
            raise

    def staff(self, brand_id: str, staff_id: str) -> Staff | None:
        try:
            return _staff(StaffItem.get(brand_pk(brand_id), staff_sk(staff_id)))
        except DoesNotExist:
            return None

    def staff_of_store(self, brand_id: str, store_id: str, role: Role | None = None) -> list[Staff]:
        gsi1pk, _ = staff_index_keys(brand_id, store_id, "", "")
        prefix = f"ROLE#{role.value}#" if role else "ROLE#"
        return [_staff(i) for i in StaffItem.by_store.query(gsi1pk, StaffItem.gsi1sk.startswith(prefix))]

    def update_staff(self, staff: Staff, changes: dict[str, Any], *, now: datetime) -> None:
        """Set the changed fields; role or store changes move the staff member in gsi1."""
        item = StaffItem(brand_pk(staff.brand_id), staff_sk(staff.staff_id))
        actions: list[Action] = [StaffItem.updated_at.set(now)]
        for name, value in changes.items():
            attr = getattr(StaffItem, name)
            stored = value.value if isinstance(value, Role) else value
            actions.append(attr.remove() if stored is None else attr.set(stored))
        if "role" in changes or "store_id" in changes:
            gsi1pk, gsi1sk = staff_index_keys(staff.brand_id, staff.store_id, staff.role.value, staff.staff_id)
            actions += [StaffItem.gsi1pk.set(gsi1pk), StaffItem.gsi1sk.set(gsi1sk)]
        try:
            item.update(actions=actions, condition=StaffItem.pk.exists())
        except UpdateError as exc:
            if condition_failed(exc):
                raise Missing(staff.staff_id) from None
            raise

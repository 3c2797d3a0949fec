"""Stores and staff directory: admin-only changes, brand scope, supervisor links."""

from __future__ import annotations

import pytest

from tests.support import clock
from tests.support.api import ADMIN, CLERK_001, OTHER_BRAND_ADMIN, call, claims_for, listed

pytestmark = pytest.mark.usefixtures("directory")

SUPERVISOR = claims_for(role="supervisor", store_id="demo-001", staff_id="sup-1")


def test_admin_adds_a_store_with_brand_timezone_and_derived_code():
    r = call("POST", "/stores", {"store_id": "demo-010", "name": "Riverside"}, claims=ADMIN)
    assert r.status == 201, r.body
    assert r.body["code"] == "010" and r.body["timezone"] == clock.brand_zone().key
    assert [s["store_id"] for s in listed("/stores", "stores", limit=2)] == ["demo-001", "demo-002", "demo-010"]


def test_stores_of_another_brand_are_invisible():
    assert [s["store_id"] for s in listed("/stores", "stores", claims=OTHER_BRAND_ADMIN)] == ["acme-001"]


def test_duplicate_store_is_409():
    r = call("POST", "/stores", {"store_id": "demo-001", "name": "again"}, claims=ADMIN)
    assert r.status == 409 and r.field_names() == ["store_id"]


def test_store_with_unknown_timezone_is_422():
    r = call("POST", "/stores", {"store_id": "demo-011", "name": "x", "timezone": "Mars/Olympus"}, claims=ADMIN)
    assert r.status == 422 and r.field_names() == ["timezone"]


@pytest.mark.parametrize("claims", [CLERK_001, SUPERVISOR])
def test_only_admins_change_stores_and_staff(claims):
    assert call("POST", "/stores", {"store_id": "demo-012", "name": "x"}, claims=claims).status == 403
    assert call("POST", "/staff", {"name": "x", "role": "manager", "store_id": "demo-001"}, claims=claims).status == 403
    assert call("PATCH", "/staff/mgr-1", {"on_leave": True}, claims=claims).status == 403
    assert call("GET", "/staff/mgr-1", claims=ADMIN).body["on_leave"] is False


def test_staff_record_shows_role_store_supervisor_and_leave():
    r = call("GET", "/staff/mgr-1", claims=CLERK_001)
    assert r.status == 200
    assert (r.body["role"], r.body["store_id"], r.body["supervisor_id"]) == ("manager", "demo-001", "sup-1")


def test_patch_staff_sets_leave_and_capacity():
    r = call("PATCH", "/staff/mgr-1", {"on_leave": True, "capacity": 40}, claims=ADMIN)
    assert r.status == 200 and r.body["on_leave"] is True and r.body["capacity"] == 40
    assert call("GET", "/staff/mgr-1", claims=ADMIN).body["capacity"] == 40


def test_staff_of_another_brand_is_404():
    assert call("GET", "/staff/mgr-1", claims=OTHER_BRAND_ADMIN).status == 404
    assert call("PATCH", "/staff/mgr-1", {"on_leave": True}, claims=OTHER_BRAND_ADMIN).status == 404


@pytest.mark.parametrize("body,field", [
    ({"name": "x", "role": "manager"}, "store_id"),
    ({"name": "x", "role": "manager", "store_id": "demo-404"}, "store_id"),
    ({"name": "x", "role": "manager", "store_id": "demo-001", "supervisor_id": "nobody"}, "supervisor_id"),
    ({"name": "x", "role": "emperor", "store_id": "demo-001"}, "role"),
    ({"name": "x", "role": "manager", "store_id": "demo-001", "capacity": -1}, "capacity"),
    ({"name": "", "role": "manager", "store_id": "demo-001"}, "name"),
])
def test_bad_staff_is_4xx_naming_the_field(body, field):
    r = call("POST", "/staff", body, claims=ADMIN)
    assert 400 <= r.status < 500 and field in r.field_names(), r.body


def test_staff_cannot_supervise_themselves():
    r = call("PATCH", "/staff/mgr-1", {"supervisor_id": "mgr-1"}, claims=ADMIN)
    assert r.status == 422 and r.field_names() == ["supervisor_id"]


def test_role_change_moves_staff_between_role_lists():
    from vipcare.domain.access import Role
    from vipcare.store.directory import DirectoryRepository

    assert call("PATCH", "/staff/clerk-1", {"role": "manager"}, claims=ADMIN).status == 200
    managers = DirectoryRepository().staff_of_store("demo", "demo-001", Role.MANAGER)
    assert sorted(s.staff_id for s in managers) == ["clerk-1", "mgr-1"]
    assert DirectoryRepository().staff_of_store("demo", "demo-001", Role.STORE_STAFF) == []

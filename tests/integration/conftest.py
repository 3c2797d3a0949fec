from __future__ import annotations

import pytest

from tests.support.api import ADMIN, OTHER_BRAND_ADMIN, call
from tests.support.aws import mocked_aws


@pytest.fixture
def aws():
    with mocked_aws():
        yield


@pytest.fixture
def directory(aws):
    """Brand demo with stores demo-001 and demo-002 and a small staff; brand acme with one store."""
    for claims, stores in ((ADMIN, ("demo-001", "demo-002")), (OTHER_BRAND_ADMIN, ("acme-001",))):
        for store_id in stores:
            assert call("POST", "/stores", {"store_id": store_id, "name": store_id}, claims=claims).status == 201
    for staff_id, role, store, supervisor in (
        ("sup-1", "supervisor", "demo-001", None),
        ("mgr-1", "manager", "demo-001", "sup-1"),
        ("clerk-1", "store_staff", "demo-001", "mgr-1"),
    ):
        body = {"staff_id": staff_id, "name": staff_id, "role": role, "store_id": store, "supervisor_id": supervisor}
        assert call("POST", "/staff", body, claims=ADMIN).status == 201


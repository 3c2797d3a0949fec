from __future__ import annotations

import pytest

from vipcare.api.auth import caller_from_event
from vipcare.domain.access import Caller, Role, ensure_can_act_for_store, ensure_visible, require_role
from vipcare.domain.errors import Forbidden, NotFound, Unauthorized


def caller(role: Role, store: str | None = "s1", brand: str = "b1") -> Caller:
    return Caller(staff_id="x", brand_id=brand, store_id=store, role=role)


def test_other_brand_is_not_found_for_every_role():
    for role in Role:
        with pytest.raises(NotFound):
            ensure_visible(caller(role), brand_id="b2", store_id="s1", what="member")


@pytest.mark.parametrize("role", [Role.STORE_STAFF, Role.MANAGER])
def test_store_scoped_roles_see_only_their_store(role):
    ensure_visible(caller(role), brand_id="b1", store_id="s1", what="member")
    with pytest.raises(NotFound):
        ensure_visible(caller(role), brand_id="b1", store_id="s2", what="member")
    with pytest.raises(Forbidden):
        ensure_can_act_for_store(caller(role), "s2")


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.DEPARTMENT_HEAD, Role.VICE_PRESIDENT, Role.ADMIN])
def test_brand_wide_roles_see_every_store(role):
    ensure_visible(caller(role), brand_id="b1", store_id="s2", what="member")
    ensure_can_act_for_store(caller(role), "s2")


def test_require_role():
    require_role(caller(Role.ADMIN), Role.ADMIN)
    with pytest.raises(Forbidden):
        require_role(caller(Role.SUPERVISOR), Role.ADMIN)


def _event(claims):
    return {"requestContext": {"authorizer": {"claims": claims}}}


def test_caller_comes_from_authorizer_claims():
    c = caller_from_event(_event({"custom:brand_id": "demo", "custom:role": "manager",
                                  "custom:store_id": "demo-001", "custom:staff_id": "m1"}))
    assert c == Caller(staff_id="m1", brand_id="demo", store_id="demo-001", role=Role.MANAGER)


@pytest.mark.parametrize("event", [{}, _event(None), _event({"custom:role": "admin"}),
                                   _event({"custom:brand_id": "demo"})])
def test_missing_claims_are_unauthorized(event):
    with pytest.raises(Unauthorized):
        caller_from_event(event)


def test_unknown_role_is_forbidden():
    with pytest.raises(Forbidden):
        caller_from_event(_event({"custom:brand_id": "demo", "custom:role": "emperor", "custom:staff_id": "x"}))

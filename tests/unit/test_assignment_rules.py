"""Who may give, pass on and complete a task given by hand (domain/assignments.py)."""

from __future__ import annotations

import pytest

from vipcare.domain import assignments as a
from vipcare.domain.access import Caller, Role
from vipcare.domain.errors import Forbidden

# vp > head > sup > mgr > clerk; mgr-2 beside mgr (under sup)
CHAIN = {"head": "vp", "sup": "head", "mgr": "sup", "mgr-2": "sup", "clerk": "mgr"}


def up(staff_id: str) -> str | None:
    return CHAIN.get(staff_id)


def caller(staff_id: str, role: Role) -> Caller:
    return Caller(staff_id=staff_id, brand_id="demo", store_id="demo-001", role=role)


def test_above_walks_the_chain_and_survives_a_cycle():
    assert a.above("vp", "clerk", up) and a.above("mgr", "clerk", up)
    assert not a.above("mgr-2", "clerk", up) and not a.above("clerk", "mgr", up) and not a.above("mgr", "mgr", up)
    assert not a.above("x", "p", {"p": "q", "q": "p"}.get)  # a loop in the directory ends


def test_passing_on_goes_down_only_except_for_admins():
    a.check_pass_on(caller("mgr", Role.MANAGER), "mgr", "clerk", up)
    a.check_pass_on(caller("head", Role.DEPARTMENT_HEAD), "mgr", "clerk", up)  # above the holder
    for who, holder, to in (("mgr", "mgr", "mgr-2"), ("mgr", "mgr", "sup"), ("mgr-2", "mgr", "clerk"),
                            ("clerk", "clerk", "mgr")):
        with pytest.raises(Forbidden):
            a.check_pass_on(caller(who, Role.MANAGER), holder, to, up)
    a.check_pass_on(caller("root", Role.ADMIN), "clerk", "vp", up)


def test_creating_needs_a_supervisor_or_a_manager_above_the_assignee():
    a.check_create(caller("sup", Role.SUPERVISOR), "mgr-2", up)
    a.check_create(caller("mgr", Role.MANAGER), "clerk", up)
    with pytest.raises(Forbidden) as err:
        a.check_create(caller("mgr", Role.MANAGER), "mgr-2", up)
    assert err.value.field == "assignee_id"
    with pytest.raises(Forbidden):
        a.check_create(caller("clerk", Role.STORE_STAFF), "clerk", up)

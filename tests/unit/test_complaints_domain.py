"""Complaint rules, pure: priority table, SLA deadlines, routing, the state machine, the ladder."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vipcare.domain.access import LADDER, Role
from vipcare.domain.complaints import (
    DEFAULT_POLICY,
    ESCALATION_LEVELS,
    TOP_LEVEL,
    TRANSITIONS,
    Action,
    Category,
    Channel,
    Complaint,
    ComplaintPolicy,
    HistoryEntry,
    Priority,
    Severity,
    StaffView,
    Status,
    breach,
    check_order_value,
    deadlines,
    due_shard,
    escalation_target,
    level_of_role,
    next_check,
    priority_for,
    route,
    transition,
)
from vipcare.domain.errors import Conflict, ValidationFailed
from vipcare.domain.members import Tier

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


# ---- priority and deadlines ---------------------------------------------------------------


@pytest.mark.parametrize(("tier", "severity", "priority"), [
    (Tier.DIAMOND, Severity.CRITICAL, Priority.P1), (Tier.DIAMOND, Severity.HIGH, Priority.P1),
    (Tier.DIAMOND, Severity.MEDIUM, Priority.P2), (Tier.DIAMOND, Severity.LOW, Priority.P3),
    (Tier.GOLD, Severity.CRITICAL, Priority.P1), (Tier.GOLD, Severity.HIGH, Priority.P2),
    (Tier.GOLD, Severity.MEDIUM, Priority.P2), (Tier.GOLD, Severity.LOW, Priority.P3),
    (Tier.SILVER, Severity.CRITICAL, Priority.P2), (Tier.SILVER, Severity.HIGH, Priority.P2),
    (Tier.SILVER, Severity.MEDIUM, Priority.P3), (Tier.SILVER, Severity.LOW, Priority.P4),
    (Tier.REGULAR, Severity.CRITICAL, Priority.P2), (Tier.REGULAR, Severity.HIGH, Priority.P3),
    (Tier.REGULAR, Severity.MEDIUM, Priority.P3), (Tier.REGULAR, Severity.LOW, Priority.P4),
])
def test_priority_table(tier, severity, priority):
    assert priority_for(tier, severity) == priority


def test_a_better_tier_never_gets_a_lower_priority_for_the_same_severity():
    order = [Tier.REGULAR, Tier.SILVER, Tier.GOLD, Tier.DIAMOND]
    for severity in Severity:
        ranks = [int(priority_for(t, severity).value[1]) for t in order]
        assert ranks == sorted(ranks, reverse=True), severity


@pytest.mark.parametrize(("priority", "respond", "resolve"), [
    (Priority.P1, timedelta(hours=1), timedelta(hours=24)), (Priority.P2, timedelta(hours=4), timedelta(hours=48)),
    (Priority.P3, timedelta(hours=8), timedelta(hours=72)), (Priority.P4, timedelta(hours=24), timedelta(days=5))])
def test_sla_deadlines_by_priority(priority, respond, resolve):
    assert deadlines(priority, T0) == (T0 + respond, T0 + resolve)


def test_deadlines_need_an_aware_time():
    with pytest.raises(ValueError):
        deadlines(Priority.P1, datetime(2026, 1, 1))


def test_policy_overrides_come_from_configuration():
    policy = ComplaintPolicy.from_mapping({
        "sla": {"P1": {"respond_minutes": 30, "resolve_minutes": 600}},
        "value_bands": [{"min_value": "2000", "role": "supervisor"}],
        "technical_categories": ["repair"], "revisit_after_hours": 12})
    assert deadlines(Priority.P1, T0, policy) == (T0 + timedelta(minutes=30), T0 + timedelta(hours=10))
    assert deadlines(Priority.P2, T0, policy) == deadlines(Priority.P2, T0)
    assert policy.technical_categories == {Category.REPAIR}
    assert policy.revisit_after == timedelta(hours=12)
    decision = route(store_id="s", tier=Tier.REGULAR, category=Category.OTHER, order_value=Decimal("2000"),
                     manager=None, manager_supervisor=None, technical_staff=[],
                     staff_by_role={Role.SUPERVISOR: [StaffView("sup", Role.SUPERVISOR)]}, policy=policy)
    assert decision.assignee == "sup"


@pytest.mark.parametrize(("raw", "ok"), [("0", True), ("1299.90", True), ("12.345", False), ("-1", False),
                                         ("abc", False), ("NaN", False), (None, True)])
def test_order_value_is_a_non_negative_decimal_with_cents(raw, ok):
    if ok:
        value = check_order_value(raw)
        assert value is None or isinstance(value, Decimal)
    else:
        with pytest.raises(ValidationFailed) as err:
            check_order_value(raw)
        assert err.value.field == "order_value"


# ---- routing -----------------------------------------------------------------------------

MGR = StaffView("mgr", Role.MANAGER, supervisor_id="sup")
SUP = StaffView("sup", Role.SUPERVISOR, supervisor_id="dept")
TECH = StaffView("tech", Role.TECHNICAL_SUPPORT)
BY_ROLE = {Role.SUPERVISOR: [SUP], Role.DEPARTMENT_HEAD: [StaffView("dept", Role.DEPARTMENT_HEAD)],
           Role.TECHNICAL_SUPPORT: [TECH]}


def decide(tier=Tier.GOLD, category=Category.SERVICE_ATTITUDE, order_value=None, manager=MGR, sup=SUP,
           tech=(TECH,), by_role=None):
    return route(store_id="s1", tier=tier, category=category, order_value=order_value, manager=manager,
                 manager_supervisor=sup, technical_staff=list(tech), staff_by_role=by_role or BY_ROLE)


def test_gold_and_diamond_go_to_their_manager_on_duty():
    assert decide(Tier.GOLD).assignee == "mgr"
    assert decide(Tier.DIAMOND, category=Category.REPAIR).assignee == "mgr"  # the manager owns the member


def test_manager_on_leave_hands_to_their_supervisor():
    d = decide(manager=dataclasses.replace(MGR, on_leave=True))
    assert (d.assignee, d.level) == ("sup", 1)


def test_silver_and_regular_do_not_go_to_a_manager():
    assert decide(Tier.SILVER).assignee == "queue:s1:service"
    assert decide(Tier.REGULAR).assignee == "queue:s1:service"


@pytest.mark.parametrize("category", sorted(DEFAULT_POLICY.technical_categories))
def test_technical_categories_go_to_technical_support(category):
    assert decide(Tier.SILVER, category=category).assignee == "tech"


def test_technical_without_technician_on_duty_goes_to_the_technical_queue():
    d = decide(Tier.SILVER, category=Category.REPAIR, tech=(dataclasses.replace(TECH, on_leave=True),))
    assert d.assignee == "queue:s1:technical"


@pytest.mark.parametrize(("value", "assignee", "level"), [
    ("9999.99", "mgr", 0), ("10000", "sup", 1), ("49999", "sup", 1), ("50000", "dept", 2), ("1000000", "dept", 2)])
def test_order_value_bands_start_higher_up(value, assignee, level):
    d = decide(order_value=Decimal(value))
    assert (d.assignee, d.level) == (assignee, level)


def test_a_band_with_nobody_in_it_falls_back_to_the_normal_rules():
    assert decide(Tier.SILVER, order_value=Decimal("60000"), by_role={Role.TECHNICAL_SUPPORT: [TECH]}).assignee \
        == "queue:s1:service"


# ---- the ladder ----------------------------------------------------------------------------


def test_escalation_levels_follow_the_ladder_above_the_agent():
    assert ESCALATION_LEVELS[1:] == LADDER[2:]
    assert [level_of_role(r) for r in LADDER] == [0, 0, 1, 2, 3]
    assert level_of_role(Role.TECHNICAL_SUPPORT) == 0


def test_escalation_walks_the_supervisor_chain_first():
    chain = [SUP, StaffView("dept", Role.DEPARTMENT_HEAD), StaffView("vp", Role.VICE_PRESIDENT)]
    assert escalation_target(0, chain, {}) == (1, SUP)
    assert escalation_target(1, chain[1:], {}) == (2, chain[1])
    assert escalation_target(2, chain[2:], {}) == (3, chain[2])
    assert escalation_target(TOP_LEVEL, [], BY_ROLE) is None


def test_escalation_from_a_queue_uses_the_stores_staff_of_the_next_role():
    assert escalation_target(0, [], BY_ROLE) == (1, SUP)


def test_escalation_skips_a_level_with_nobody_in_it():
    vp = StaffView("vp", Role.VICE_PRESIDENT)
    assert escalation_target(0, [], {Role.VICE_PRESIDENT: [vp]}) == (3, vp)
    assert escalation_target(0, [], {}) is None


def test_escalation_jumps_to_whoever_in_the_chain_is_at_least_the_next_level():
    dept = StaffView("dept", Role.DEPARTMENT_HEAD)
    assert escalation_target(0, [dept], {}) == (2, dept)


# ---- the state machine ----------------------------------------------------------------------

LEGAL = [
    (Status.OPEN, Action.ASSIGN, Status.ASSIGNED),
    (Status.ASSIGNED, Action.ACKNOWLEDGE, Status.IN_PROGRESS),
    (Status.REOPENED, Action.ACKNOWLEDGE, Status.IN_PROGRESS),
    (Status.IN_PROGRESS, Action.RESOLVE, Status.RESOLVED),
    (Status.RESOLVED, Action.CLOSE, Status.CLOSED),
    (Status.RESOLVED, Action.REOPEN, Status.REOPENED),
    (Status.IN_PROGRESS, Action.NOTE, Status.IN_PROGRESS),
    (Status.ASSIGNED, Action.ESCALATE, Status.ASSIGNED),
    (Status.IN_PROGRESS, Action.ESCALATE, Status.IN_PROGRESS),
    (Status.REOPENED, Action.ESCALATE, Status.REOPENED),
]


@pytest.mark.parametrize(("before", "action", "after"), LEGAL)
def test_legal_transitions(before, action, after):
    assert transition(before, action) == after


@pytest.mark.parametrize(("before", "action"), [
    (Status.CLOSED, Action.RESOLVE), (Status.CLOSED, Action.NOTE), (Status.CLOSED, Action.REOPEN),
    (Status.ASSIGNED, Action.RESOLVE), (Status.ASSIGNED, Action.CLOSE), (Status.IN_PROGRESS, Action.CLOSE),
    (Status.IN_PROGRESS, Action.ACKNOWLEDGE), (Status.RESOLVED, Action.RESOLVE), (Status.RESOLVED, Action.ESCALATE),
    (Status.CLOSED, Action.ESCALATE), (Status.ASSIGNED, Action.REOPEN)])
def test_illegal_transitions_are_conflicts(before, action):
    with pytest.raises(Conflict) as err:
        transition(before, action)
    assert err.value.code == "illegal_transition"


@given(st.lists(st.sampled_from(list(Action)), max_size=30))
def test_closed_is_final_and_every_path_follows_the_table(actions):
    status = Status.OPEN
    for action in actions:
        try:
            after = transition(status, action)
        except Conflict:
            assert status not in TRANSITIONS[action][0]
            continue
        assert status != Status.CLOSED
        assert after == (TRANSITIONS[action][1] or status)
        status = after


# ---- escalation clock --------------------------------------------------------------------------


def case(**changes) -> Complaint:
    respond_by, resolve_by = deadlines(Priority.P1, T0)
    c = Complaint(complaint_id="c_1", brand_id="b", store_id="s", member_id="m", channel=Channel.APP,
                  category=Category.OTHER, severity=Severity.CRITICAL, description="d", priority=Priority.P1,
                  status=Status.ASSIGNED, assignee="mgr", level=0, opened_at=T0, respond_by=respond_by,
                  resolve_by=resolve_by, period="2026-11",
                  history=[HistoryEntry(at=T0, actor="staff:x", action=Action.ASSIGN, status=Status.ASSIGNED)])
    c = dataclasses.replace(c, **changes)
    if "next_check_at" not in changes:
        c.next_check_at = next_check(c, T0)
    return c


def test_unacknowledged_case_is_checked_at_respond_by_and_breaches_after_it():
    c = case()
    assert c.next_check_at == T0 + timedelta(hours=1)
    assert breach(c, T0 + timedelta(minutes=59)) is None
    assert breach(c, T0 + timedelta(hours=1)) == "no_response"


def test_acknowledged_case_is_checked_at_resolve_by():
    c = case(status=Status.IN_PROGRESS, acknowledged_at=T0)
    assert c.next_check_at == T0 + timedelta(hours=24)
    assert breach(c, T0 + timedelta(hours=2)) is None
    assert breach(c, T0 + timedelta(hours=24)) == "not_resolved"


def test_after_an_escalation_the_new_holder_gets_one_response_window():
    c = case(level=1, assignee="sup")
    moment = T0 + timedelta(hours=2)
    assert next_check(c, moment, after_escalation=True) == moment + timedelta(hours=1)


def test_a_reopened_case_restarts_the_clock_but_keeps_its_deadlines():
    reopened = T0 + timedelta(days=3)
    c = case(status=Status.REOPENED, acknowledged_at=T0, resolved_at=T0, reopened_at=reopened)
    assert next_check(c, reopened) == reopened + timedelta(hours=1)
    assert c.respond_by == T0 + timedelta(hours=1)


@pytest.mark.parametrize("changes", [{"status": Status.RESOLVED}, {"status": Status.CLOSED},
                                     {"level": TOP_LEVEL}])
def test_nothing_is_pending_when_resolved_closed_or_at_the_top(changes):
    c = case(**changes)
    assert c.next_check_at is None
    assert breach(dataclasses.replace(c, next_check_at=T0), T0 + timedelta(days=9)) is None


def test_due_shards_are_stable_and_spread():
    shards = {due_shard(f"c_{i:016x}") for i in range(200)}
    assert shards == set(range(10))
    assert due_shard("c_1") == due_shard("c_1")

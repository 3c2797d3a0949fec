"""Complaints (docs/domain.md §5): priority, deadlines, routing, the lifecycle and escalation.

Pure rules: no I/O, `now` is always passed in. Every number lives in one configuration
object, `ComplaintPolicy` (defaults in `DEFAULT_POLICY`, documented in docs/complaints.md),
never as a constant scattered through the code.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from .access import Role
from .errors import Conflict, ValidationFailed
from .members import Tier


class Channel(StrEnum):
    STORE = "store"
    HOTLINE = "hotline"
    APP = "app"
    EMAIL = "email"


class Category(StrEnum):
    PRODUCT_QUALITY = "product_quality"
    SERVICE_ATTITUDE = "service_attitude"
    BILLING = "billing"
    DELIVERY_INSTALLATION = "delivery_installation"
    REPAIR = "repair"
    OTHER = "other"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Priority(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Status(StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"


class Action(StrEnum):
    OPEN = "open"
    ASSIGN = "assign"
    ACKNOWLEDGE = "acknowledge"
    NOTE = "note"
    RESOLVE = "resolve"
    CLOSE = "close"  # feedback: satisfied
    REOPEN = "reopen"  # feedback: not satisfied
    ESCALATE = "escalate"


# ---- priority ------------------------------------------------------------------------------

# tier x severity -> priority. The better the tier, the sooner; a critical complaint is never
# below P2 and a low one never above P3.
PRIORITY_TABLE: dict[Tier, dict[Severity, Priority]] = {
    Tier.DIAMOND: {Severity.CRITICAL: Priority.P1, Severity.HIGH: Priority.P1,
                   Severity.MEDIUM: Priority.P2, Severity.LOW: Priority.P3},
    Tier.GOLD: {Severity.CRITICAL: Priority.P1, Severity.HIGH: Priority.P2,
                Severity.MEDIUM: Priority.P2, Severity.LOW: Priority.P3},
    Tier.SILVER: {Severity.CRITICAL: Priority.P2, Severity.HIGH: Priority.P2,
                  Severity.MEDIUM: Priority.P3, Severity.LOW: Priority.P4},
    Tier.REGULAR: {Severity.CRITICAL: Priority.P2, Severity.HIGH: Priority.P3,
                   Severity.MEDIUM: Priority.P3, Severity.LOW: Priority.P4},
}


def priority_for(tier: Tier, severity: Severity, policy: ComplaintPolicy | None = None) -> Priority:
    table = (policy or DEFAULT_POLICY).priority_table
    return table[tier][severity]


# ---- the policy (configuration) --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sla:
    respond: timedelta
    resolve: timedelta


# Where escalation goes, level by level: 0 is the agent who holds the case (a manager, a
# store clerk, technical support or a queue), then up the ladder of docs/domain.md §5.
ESCALATION_LEVELS: tuple[Role | None, ...] = (None, Role.SUPERVISOR, Role.DEPARTMENT_HEAD, Role.VICE_PRESIDENT)
TOP_LEVEL = len(ESCALATION_LEVELS) - 1


def level_of_role(role: Role) -> int:
    """The escalation level a staff member of `role` works at (agents are level 0)."""
    return ESCALATION_LEVELS.index(role) if role in ESCALATION_LEVELS else 0


@dataclass(frozen=True, slots=True)
class ValueBand:
    """A case whose order value is at least `min_value` starts at `role`'s level."""

    min_value: Decimal
    role: Role


@dataclass(frozen=True, slots=True)
class ComplaintPolicy:
    sla: dict[Priority, Sla]
    priority_table: dict[Tier, dict[Severity, Priority]]
    # Highest band first wins.
    value_bands: tuple[ValueBand, ...]
    technical_categories: frozenset[Category]
    # Tiers whose members have a dedicated account manager to route to.
    managed_tiers: frozenset[Tier]
    # A revisit task for the member's manager, due this long after resolution.
    revisit_after: timedelta

    @classmethod
    def from_mapping(cls, raw: dict[str, Any], base: ComplaintPolicy | None = None) -> ComplaintPolicy:
        """Overrides from a JSON document (env COMPLAINT_POLICY), e.g.
        {"sla": {"P1": {"respond_minutes": 30, "resolve_minutes": 720}},
         "value_bands": [{"min_value": "20000", "role": "supervisor"}],
         "technical_categories": ["repair"], "revisit_after_hours": 24}"""
        base = base or DEFAULT_POLICY
        sla = dict(base.sla)
        for name, spec in (raw.get("sla") or {}).items():
            sla[Priority(name)] = Sla(respond=timedelta(minutes=int(spec["respond_minutes"])),
                                      resolve=timedelta(minutes=int(spec["resolve_minutes"])))
        bands = base.value_bands
        if "value_bands" in raw:
            bands = tuple(sorted((ValueBand(Decimal(str(b["min_value"])), Role(b["role"]))
                                  for b in raw["value_bands"]), key=lambda b: b.min_value, reverse=True))
        technical = base.technical_categories
        if "technical_categories" in raw:
            technical = frozenset(Category(c) for c in raw["technical_categories"])
        revisit = base.revisit_after
        if "revisit_after_hours" in raw:
            revisit = timedelta(hours=float(raw["revisit_after_hours"]))
        return cls(sla=sla, priority_table=base.priority_table, value_bands=bands, technical_categories=technical,
                   managed_tiers=base.managed_tiers, revisit_after=revisit)


DEFAULT_POLICY = ComplaintPolicy(
    sla={
        Priority.P1: Sla(respond=timedelta(hours=1), resolve=timedelta(hours=24)),
        Priority.P2: Sla(respond=timedelta(hours=4), resolve=timedelta(hours=48)),
        Priority.P3: Sla(respond=timedelta(hours=8), resolve=timedelta(hours=72)),
        Priority.P4: Sla(respond=timedelta(hours=24), resolve=timedelta(days=5)),
    },
    priority_table=PRIORITY_TABLE,
    value_bands=(ValueBand(Decimal("50000"), Role.DEPARTMENT_HEAD), ValueBand(Decimal("10000"), Role.SUPERVISOR)),
    # Faults in the goods or their fitting need a technician, not a sales associate.
    technical_categories=frozenset({Category.PRODUCT_QUALITY, Category.DELIVERY_INSTALLATION, Category.REPAIR}),
    managed_tiers=frozenset({Tier.GOLD, Tier.DIAMOND}),
    revisit_after=timedelta(days=2),
)


def deadlines(priority: Priority, opened_at: datetime, policy: ComplaintPolicy | None = None) -> tuple[datetime,
                                                                                                   datetime]:
    """(respond_by, resolve_by): fixed when the case opens, never recomputed."""
    if opened_at.tzinfo is None:
        raise ValueError("opened_at must be timezone-aware")
    sla = (policy or DEFAULT_POLICY).sla[priority]
    return opened_at + sla.respond, opened_at + sla.resolve


# ---- routing -------------------------------------------------------------------------------


def service_queue(store_id: str) -> str:
    """The store's service queue: an assignee any staff member of the store can pick up."""
    return f"queue:{store_id}:service"


def technical_queue(store_id: str) -> str:
    return f"queue:{store_id}:technical"


def is_queue(assignee: str) -> bool:
    return assignee.startswith("queue:")


def queue_store(assignee: str) -> str | None:
    return assignee.split(":")[1] if is_queue(assignee) else None


@dataclass(frozen=True, slots=True)
class StaffView:
    """What routing needs to know about a staff member."""

    staff_id: str
    role: Role
    on_leave: bool = False
    active: bool = True
    supervisor_id: str | None = None

    @property
    def on_duty(self) -> bool:
        return self.active and not self.on_leave


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    assignee: str  # a staff id or a queue id
    level: int
    reason: str


def _first_on_duty(candidates: list[StaffView]) -> StaffView | None:
    on_duty = [s for s in candidates if s.on_duty]
    return min(on_duty, key=lambda s: s.staff_id) if on_duty else None


def value_band_role(order_value: Decimal | None, policy: ComplaintPolicy) -> Role | None:
    if order_value is None:
        return None
    for band in policy.value_bands:
        if order_value >= band.min_value:
            return band.role
    return None


def route(
    *,
    store_id: str,
    tier: Tier,
    category: Category,
    order_value: Decimal | None,
    manager: StaffView | None,
    manager_supervisor: StaffView | None,
    technical_staff: list[StaffView],
    staff_by_role: dict[Role, list[StaffView]],
    policy: ComplaintPolicy | None = None,
) -> RoutingDecision:
    """Who gets a new case (rules in the order they are tried):

    1. order value in a band -> a staff member of that ladder role (the manager's chain first);
    2. gold+ with a dedicated manager -> the manager when on duty, else the manager's supervisor;
    3. a technical category -> the store's technical support (on duty), else its technical queue;
    4. otherwise the store's service queue.
    """
    policy = policy or DEFAULT_POLICY
    band_role = value_band_role(order_value, policy)
    if band_role is not None:
        chain_hit = manager_supervisor if manager_supervisor and manager_supervisor.role == band_role else None
        person = chain_hit if chain_hit and chain_hit.on_duty else _first_on_duty(staff_by_role.get(band_role, []))
        if person is not None:
            return RoutingDecision(person.staff_id, level_of_role(band_role), f"order value band {band_role.value}")
    if tier in policy.managed_tiers and manager is not None:
        if manager.on_duty:
            return RoutingDecision(manager.staff_id, 0, "dedicated manager")
        if manager_supervisor is not None and manager_supervisor.active:
            return RoutingDecision(manager_supervisor.staff_id, level_of_role(manager_supervisor.role),
                                   "manager on leave: their supervisor")
    if category in policy.technical_categories:
        tech = _first_on_duty(technical_staff)
        if tech is not None:
            return RoutingDecision(tech.staff_id, 0, "technical support")
        return RoutingDecision(technical_queue(store_id), 0, "technical queue (no technician on duty)")
    return RoutingDecision(service_queue(store_id), 0, "store service queue")


def escalation_target(level: int, chain: list[StaffView], store_staff_by_role: dict[Role, list[StaffView]]
                      ) -> tuple[int, StaffView] | None:
    """The person who takes a case escalated from `level` (None at the top of the ladder).

    `chain` is the current assignee's supervisors, nearest first (walked through the
    directory's supervisor links). The first one at the next level's role or above wins; a
    queue or a broken chain falls back to the store's staff of that role. A level with nobody
    in it is skipped.
    """
    for next_level in range(level + 1, TOP_LEVEL + 1):
        role = ESCALATION_LEVELS[next_level]
        assert role is not None
        for person in chain:
            if level_of_role(person.role) >= next_level and person.active:
                return level_of_role(person.role), person
        person_in_store = _first_on_duty(store_staff_by_role.get(role, [])) or next(
            (s for s in store_staff_by_role.get(role, []) if s.active), None)
        if person_in_store is not None:
            return next_level, person_in_store
    return None


# ---- the lifecycle (state machine) --------------------------------------------------------

# action -> (statuses it may start from, status it leads to; None = unchanged)
TRANSITIONS: dict[Action, tuple[frozenset[Status], Status | None]] = {
    Action.OPEN: (frozenset(), Status.OPEN),
    Action.ASSIGN: (frozenset({Status.OPEN}), Status.ASSIGNED),
    Action.ACKNOWLEDGE: (frozenset({Status.ASSIGNED, Status.REOPENED}), Status.IN_PROGRESS),
    Action.NOTE: (frozenset({Status.OPEN, Status.ASSIGNED, Status.IN_PROGRESS, Status.RESOLVED, Status.REOPENED}),
                  None),
    Action.RESOLVE: (frozenset({Status.IN_PROGRESS}), Status.RESOLVED),
    Action.CLOSE: (frozenset({Status.RESOLVED}), Status.CLOSED),
    Action.REOPEN: (frozenset({Status.RESOLVED}), Status.REOPENED),
    Action.ESCALATE: (frozenset({Status.ASSIGNED, Status.IN_PROGRESS, Status.REOPENED}), None),
}


def transition(status: Status, action: Action) -> Status:
    """The status after `action`, or Conflict (409) when the action is illegal now."""
    allowed, after = TRANSITIONS[action]
    if status not in allowed:
        raise Conflict(f"cannot {action.value} a complaint that is {status.value}", field="status",
                       code="illegal_transition")
    return after or status


# ---- the case ----------------------------------------------------------------------------


@dataclass(slots=True)
class HistoryEntry:
    at: datetime
    actor: str  # "staff:<id>" or "system:escalation"
    action: Action
    status: Status  # after the step
    assignee: str | None = None
    text: str | None = None


@dataclass(slots=True)
class Complaint:
    complaint_id: str
    brand_id: str
    store_id: str
    member_id: str
    channel: Channel
    category: Category
    severity: Severity
    description: str
    priority: Priority
    status: Status
    assignee: str
    level: int
    opened_at: datetime
    respond_by: datetime
    resolve_by: datetime
    # The month (brand time zone) whose figures this case counts in.
    period: str
    order_value: Decimal | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    reopened_at: datetime | None = None
    closed_at: datetime | None = None
    resolution: str | None = None
    satisfied: bool | None = None
    nps: int | None = None
    # When the escalation job looks at this case next (None: nothing pending).
    next_check_at: datetime | None = None
    version: int = 0
    history: list[HistoryEntry] = field(default_factory=list)


def new_complaint_id() -> str:
    return "c_" + secrets.token_hex(8)


def keyed_complaint_id(brand_id: str, request_key: str) -> str:
    """The case id of a request sent with an Idempotency-Key: the same key, the same case."""
    return "c_" + hashlib.sha256(f"{brand_id}#complaint#{request_key}".encode()).hexdigest()[:16]


def due_shard(complaint_id: str, shards: int = 10) -> int:
    """Stable shard of the escalation index partition (spreads one brand's due cases)."""
    return int(hashlib.sha256(complaint_id.encode()).hexdigest(), 16) % shards


def next_check(c: Complaint, now: datetime, *, after_escalation: bool = False,
               policy: ComplaintPolicy | None = None) -> datetime | None:
    """When the escalation job must look at the case next, after a step taken at `now`.

    Waiting for a first response (assigned, or reopened and not yet taken up again): the
    response deadline. Being worked on: the resolution deadline. A reopened case's clock
    restarts at the reopening (its reported deadlines stay as fixed at intake). After an
    escalation the new holder gets one response window of the case's priority before the
    next level is called. Resolved, closed, or at the top of the ladder: nothing pending.
    """
    policy = policy or DEFAULT_POLICY
    if c.status in (Status.OPEN, Status.RESOLVED, Status.CLOSED) or c.level >= TOP_LEVEL:
        return None
    sla = policy.sla[c.priority]
    if c.reopened_at is not None:
        respond_clock, resolve_clock = c.reopened_at + sla.respond, c.reopened_at + sla.resolve
    else:
        respond_clock, resolve_clock = c.respond_by, c.resolve_by
    pending = respond_clock if c.status in (Status.ASSIGNED, Status.REOPENED) else resolve_clock
    if after_escalation:
        pending = max(pending, now + sla.respond)
    return pending


def breach(c: Complaint, now: datetime) -> str | None:
    """Why the case must move up a level now ("no_response" / "not_resolved"), or None."""
    if c.status not in TRANSITIONS[Action.ESCALATE][0] or c.level >= TOP_LEVEL:
        return None
    if c.next_check_at is None or c.next_check_at > now:
        return None
    return "no_response" if c.status in (Status.ASSIGNED, Status.REOPENED) else "not_resolved"


def check_order_value(raw: str | None) -> Decimal | None:
    if raw is None:
        return None
    from decimal import InvalidOperation

    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValidationFailed("order_value must be a decimal string like \"1299.00\"", field="order_value") from None
    if not value.is_finite() or value < 0:
        raise ValidationFailed("order_value must be a non-negative amount", field="order_value")
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationFailed("order_value has more than 2 decimals", field="order_value")
    return value

"""Complaint use cases: intake and routing, the lifecycle, the escalation job, figures.

The domain (vipcare.domain.complaints) decides; the repository persists; the notifier tells
the assignee (staff topic) and the member (service SMS).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from ..api.models.complaints import ComplaintCreate
from ..config import settings
from ..domain.access import Caller, Role, ensure_can_act_for_store
from ..domain.complaints import (
    DEFAULT_POLICY,
    Action,
    Complaint,
    ComplaintPolicy,
    HistoryEntry,
    StaffView,
    Status,
    breach,
    check_order_value,
    deadlines,
    escalation_target,
    is_queue,
    keyed_complaint_id,
    new_complaint_id,
    next_check,
    priority_for,
    queue_store,
    route,
    transition,
    value_band_role,
)
from ..domain.directory import BrandSettings, Staff, Store
from ..domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..domain.kpis import nps_counts, rate
from ..domain.members import Member
from ..domain.months import month_of, window
from ..domain.privacy import redact
from ..domain.tasks import is_detractor
from ..store.complaints import DUE_SHARDS, CaseExists, StaleCase, Step
from ..store.outbox import PendingEvent
from ..store.paging import Page
from .brands import brand_settings
from .outbox import deliver
from .ports import (
    BrandSource,
    CaseStore,
    ComplaintCounts,
    ComplaintStore,
    DirectoryReader,
    EventBus,
    MemberLookup,
    StaffNotifier,
)

log = logging.getLogger("vipcare.complaints")

MAX_CHAIN = 10
# Notes stop here so a case item stays far below DynamoDB's 400 KB (2,000-character notes).
MAX_HISTORY = 150
SYSTEM = "system:escalation"


@cache
def complaint_policy() -> ComplaintPolicy:
    raw = settings().complaint_policy_json
    return ComplaintPolicy.from_mapping(json.loads(raw)) if raw else DEFAULT_POLICY


def _view(s: Staff) -> StaffView:
    return StaffView(staff_id=s.staff_id, role=s.role, on_leave=s.on_leave, active=s.active,
                     supervisor_id=s.supervisor_id)


def _chain(directory: DirectoryReader, brand_id: str, staff_id: str) -> list[StaffView]:
    """`staff_id`'s supervisors, nearest first, through the directory's supervisor links."""
    out: list[StaffView] = []
    seen = {staff_id}
    current = directory.staff(brand_id, staff_id)
    while current is not None and current.supervisor_id and len(out) < MAX_CHAIN:
        if current.supervisor_id in seen:
            break
        seen.add(current.supervisor_id)
        current = directory.staff(brand_id, current.supervisor_id)
        if current is not None:
            out.append(_view(current))
    return out


def _store_staff_by_role(directory: DirectoryReader, brand_id: str, store_id: str) -> dict[Role, list[StaffView]]:
    grouped: dict[Role, list[StaffView]] = {}
    for s in directory.staff_of_store(brand_id, store_id):
        grouped.setdefault(s.role, []).append(_view(s))
    return grouped


def _local(moment: datetime, tz: str) -> datetime:
    return moment.astimezone(ZoneInfo(tz))


def _assigned_event(c: Complaint, event: str, reason: str) -> dict[str, Any]:
    return {"event": event, "brand_id": c.brand_id, "complaint_id": c.complaint_id, "store_id": c.store_id,
            "member_id": c.member_id, "assignee": c.assignee, "level": c.level, "priority": c.priority.value,
            "status": c.status.value, "category": c.category.value, "respond_by": c.respond_by.isoformat(),
            "resolve_by": c.resolve_by.isoformat(), "reason": reason}


def _tell_staff(notifier: StaffNotifier, c: Complaint, event: str, reason: str) -> bool:
    """Notifications follow the committed write; a failure is logged, never undoes the case."""
    try:
        notifier.tell_staff(_assigned_event(c, event, reason))
        return True
    except Exception as exc:  # noqa: BLE001 - the case is recorded; delivery is best effort
        log.warning("staff notification failed", extra={"complaint_id": c.complaint_id,
                                                        "error": redact(str(exc))})
        return False


# ---- bus events (through the outbox) ------------------------------------------------------


def _event(detail_type: str, c: Complaint, at: datetime, **extra: Any) -> tuple[str, dict[str, Any]]:
    """A case's bus event. The event id names the case and the step, so a redelivery or a
    resend from the outbox is recognised by the consumers."""
    step = {"ComplaintFiled": "filed", "ComplaintResolved": f"resolved.v{c.version + 1}",
            "ComplaintFeedback": f"feedback.v{c.version + 1}"}[detail_type]
    return detail_type, {"event_id": f"{c.complaint_id}.{step}", "brand_id": c.brand_id,
                         "member_id": c.member_id, "store_id": c.store_id, "complaint_id": c.complaint_id,
                         "priority": c.priority.value, "respond_by": c.respond_by.isoformat(),
                         "at": at.isoformat(), **extra}


def _publish(pending: list[PendingEvent], complaints: CaseStore, events: EventBus) -> bool:
    """Publish what a step left in the outbox; a failure leaves it for the escalation job."""
    return all([deliver(events, e, complaints.event_published) for e in pending])


# ---- intake ------------------------------------------------------------------------------


@dataclass(slots=True)
class Filed:
    complaint: Complaint
    reason: str
    event_published: bool  # ComplaintFiled on the bus (the member's SMS comes from care)
    staff_told: bool


def file_complaint(
    caller: Caller,
    request: ComplaintCreate,
    *,
    now: datetime,
    members: MemberLookup,
    directory: DirectoryReader,
    complaints: ComplaintStore,
    notifier: StaffNotifier,
    events: EventBus,
    policy: ComplaintPolicy | None = None,
    request_key: str | None = None,
) -> Filed:
    """`request_key` (the Idempotency-Key) fixes the case id, so a retry after a crash that
    outlived the idempotency record finds the case instead of filing it twice."""
    policy = policy or complaint_policy()
    complaint_id = keyed_complaint_id(caller.brand_id, request_key) if request_key else new_complaint_id()
    if request_key and (existing := complaints.get(caller.brand_id, complaint_id)) is not None:
        return Filed(existing, "already filed with this Idempotency-Key", True, False)

    # Validate everything before the first write: a refused request writes nothing.
    ensure_can_act_for_store(caller, request.store_id)
    order_value = check_order_value(request.order_value)
    member: Member | None = members.get(caller.brand_id, request.member_id)
    if member is None:  # another brand's member does not resolve either (keys carry the brand)
        raise ValidationFailed(f"unknown member {request.member_id}", field="member_id")
    store = directory.store(caller.brand_id, request.store_id)
    if store is None:
        raise ValidationFailed(f"unknown store {request.store_id}", field="store_id")

    priority = priority_for(member.tier, request.severity, policy)
    respond_by, resolve_by = deadlines(priority, now, policy)

    manager = directory.staff(caller.brand_id, member.manager_id) if member.manager_id else None
    manager_supervisor = (directory.staff(caller.brand_id, manager.supervisor_id)
                          if manager is not None and manager.supervisor_id else None)
    needs_store_staff = (request.category in policy.technical_categories
                         or value_band_role(order_value, policy) is not None)
    by_role = _store_staff_by_role(directory, caller.brand_id, store.store_id) if needs_store_staff else {}
    decision = route(
        store_id=store.store_id, tier=member.tier, category=request.category, order_value=order_value,
        manager=_view(manager) if manager else None,
        manager_supervisor=_view(manager_supervisor) if manager_supervisor else None,
        technical_staff=by_role.get(Role.TECHNICAL_SUPPORT, []), staff_by_role=by_role, policy=policy,
    )

    assigned = transition(Status.OPEN, Action.ASSIGN)  # opened and assigned in the same step
    case = Complaint(
        complaint_id=complaint_id, brand_id=caller.brand_id, store_id=store.store_id,
        member_id=member.member_id, channel=request.channel, category=request.category,
        severity=request.severity, description=request.description, priority=priority, status=assigned,
        assignee=decision.assignee, level=decision.level, opened_at=now, respond_by=respond_by,
        resolve_by=resolve_by, period=month_of(now, store.timezone), order_value=order_value,
        history=[
            HistoryEntry(at=now, actor=caller.source, action=Action.OPEN, status=Status.OPEN,
                         text=f"{request.channel.value} / {request.category.value} / {request.severity.value}"),
            HistoryEntry(at=now, actor=caller.source, action=Action.ASSIGN, status=assigned,
                         assignee=decision.assignee, text=decision.reason),
        ],
    )
    case.next_check_at = next_check(case, now, policy=policy)
    try:
        pending = complaints.add(case, member_month=case.period, events=(_event("ComplaintFiled", case, now),))
    except CaseExists:  # the same key, concurrently or after a crash: the first case stands
        existing = complaints.get(caller.brand_id, complaint_id)
        assert existing is not None
        return Filed(existing, "already filed with this Idempotency-Key", True, False)

    published = _publish(pending, complaints, events)
    staff_told = _tell_staff(notifier, case, "complaint.assigned", decision.reason)
    return Filed(case, decision.reason, published, staff_told)


# ---- who may see and act -----------------------------------------------------------------


def _get(caller: Caller, complaint_id: str, complaints: CaseStore) -> Complaint:
    case = complaints.get(caller.brand_id, complaint_id)  # another brand's id does not resolve: 404
    if case is None:
        raise NotFound("complaint not found")
    return case


def _may_see(caller: Caller, case: Complaint) -> bool:
    return (not caller.store_scoped or caller.store_id == case.store_id or caller.staff_id == case.assignee)


def may_act(caller: Caller, case: Complaint, directory: DirectoryReader) -> bool:
    """The assignee, anyone above them through supervisor links, or an admin. A queue
    belongs to its store: any staff member of that store may take it."""
    if caller.role == Role.ADMIN:
        return True
    if is_queue(case.assignee):
        return caller.store_id == queue_store(case.assignee)
    if caller.staff_id == case.assignee:
        return True
    return any(s.staff_id == caller.staff_id for s in _chain(directory, case.brand_id, case.assignee))


def get_complaint(caller: Caller, complaint_id: str, *, complaints: CaseStore,
                  directory: DirectoryReader) -> Complaint:
    case = _get(caller, complaint_id, complaints)
    if not _may_see(caller, case) and not may_act(caller, case, directory):
        raise NotFound("complaint not found")
    return case


def _for_action(caller: Caller, complaint_id: str, complaints: CaseStore,
                directory: DirectoryReader) -> Complaint:
    case = _get(caller, complaint_id, complaints)
    if not may_act(caller, case, directory):
        if not _may_see(caller, case):
            raise NotFound("complaint not found")
        raise Forbidden("only the assignee or someone above them on the ladder may act on this complaint",
                        field="assignee")
    return case


def _write(complaints: CaseStore, step: Step) -> list[PendingEvent]:
    try:
        return complaints.apply(step)
    except StaleCase:
        raise Conflict("the complaint changed meanwhile; read it again and retry", field="version",
                       code="stale") from None


# ---- lifecycle ---------------------------------------------------------------------------


def acknowledge(caller: Caller, complaint_id: str, note: str | None = None, *, now: datetime,
                complaints: CaseStore, directory: DirectoryReader, policy: ComplaintPolicy | None = None) -> Complaint:
    """First response: records when; a queue case is taken by the caller."""
    policy = policy or complaint_policy()
    case = _for_action(caller, complaint_id, complaints, directory)
    status = transition(case.status, Action.ACKNOWLEDGE)
    after = dataclasses.replace(case, status=status, history=[])
    if is_queue(case.assignee):
        after.assignee = caller.staff_id
    kpi: dict[str, int] = {}
    if case.acknowledged_at is None:
        after.acknowledged_at = now
        kpi = {"responded": 1, "responded_in_time": int(now <= case.respond_by),
               "first_response_seconds": int((now - case.opened_at).total_seconds())}
    after.next_check_at = next_check(after, now, policy=policy)
    entry = HistoryEntry(at=now, actor=caller.source, action=Action.ACKNOWLEDGE, status=status,
                         assignee=after.assignee, text=note)
    _write(complaints, Step(before=case, after=after, entry=entry, kpi=kpi))
    return _with(after, case, entry)


def add_note(caller: Caller, complaint_id: str, text: str, *, now: datetime,
             complaints: CaseStore, directory: DirectoryReader) -> Complaint:
    case = _for_action(caller, complaint_id, complaints, directory)
    status = transition(case.status, Action.NOTE)
    if len(case.history) >= MAX_HISTORY:
        raise Conflict(f"this case has {MAX_HISTORY} history entries; no more notes can be added",
                       field="text", code="history_full")
    after = dataclasses.replace(case, history=[])
    entry = HistoryEntry(at=now, actor=caller.source, action=Action.NOTE, status=status, assignee=case.assignee,
                         text=text)
    _write(complaints, Step(before=case, after=after, entry=entry, kpi={}))
    return _with(after, case, entry)


def resolve(caller: Caller, complaint_id: str, resolution: str, *, now: datetime,
            complaints: CaseStore, directory: DirectoryReader, events: EventBus,
            policy: ComplaintPolicy | None = None) -> Complaint:
    """Resolution text. `ComplaintResolved` goes on the bus: care texts the member and raises
    the revisit task for the member's manager, due `revisit_after` later."""
    policy = policy or complaint_policy()
    case = _for_action(caller, complaint_id, complaints, directory)
    status = transition(case.status, Action.RESOLVE)
    after = dataclasses.replace(case, status=status, resolved_at=now, resolution=resolution, history=[])
    after.next_check_at = next_check(after, now, policy=policy)
    kpi: dict[str, int] = {}
    if case.resolved_at is None:  # the first resolution is the one the figures judge
        kpi = {"resolved": 1, "resolved_in_time": int(now <= case.resolve_by)}
    entry = HistoryEntry(at=now, actor=caller.source, action=Action.RESOLVE, status=status,
                         assignee=case.assignee, text=resolution)
    event = _event("ComplaintResolved", case, now, revisit_on=(now + policy.revisit_after).isoformat())
    pending = _write(complaints, Step(before=case, after=after, entry=entry, kpi=kpi, events=(event,)))
    _publish(pending, complaints, events)
    return _with(after, case, entry)


def record_feedback(caller: Caller, complaint_id: str, satisfied: bool, nps: int | None = None,
                    comment: str | None = None, *, now: datetime,
                    complaints: CaseStore, directory: DirectoryReader, notifier: StaffNotifier, events: EventBus,
                    policy: ComplaintPolicy | None = None) -> Complaint:
    """The member's answer: satisfied closes; not satisfied reopens and escalates one level. A
    detractor's answer (NPS 0-6) goes on the bus (`ComplaintFeedback`, through the outbox with
    the step): care raises the follow-up task, once per answer."""
    policy = policy or complaint_policy()
    case = _for_action(caller, complaint_id, complaints, directory)
    said = (_event("ComplaintFeedback", case, now, nps=nps),) if is_detractor(nps) else ()
    kpi = {"feedback": 1, **nps_counts(nps)}
    answer = ("satisfied" if satisfied else "not satisfied") + (f" (NPS {nps})" if nps is not None else "")
    text = f"{answer}: {comment}" if comment else answer
    if satisfied:
        status = transition(case.status, Action.CLOSE)
        after = dataclasses.replace(case, status=status, closed_at=now, satisfied=True, history=[],
                                    nps=nps if nps is not None else case.nps)
        after.next_check_at = None
        entry = HistoryEntry(at=now, actor=caller.source, action=Action.CLOSE, status=status,
                             assignee=case.assignee, text=text)
        pending = _write(complaints, Step(before=case, after=after, entry=entry, kpi={**kpi, "satisfied": 1},
                                          member_open_delta=-1, events=said))
        _publish(pending, complaints, events)
        return _with(after, case, entry)

    status = transition(case.status, Action.REOPEN)
    after = dataclasses.replace(case, status=status, reopened_at=now, satisfied=False, history=[],
                                nps=nps if nps is not None else case.nps)
    target = escalation_target(case.level, _chain(directory, case.brand_id, case.assignee),
                               _store_staff_by_role(directory, case.brand_id, case.store_id))
    reason = "member not satisfied"
    if target is not None:
        after.level, after.assignee = target[0], target[1].staff_id
        kpi["escalations"] = 1
        reason = f"member not satisfied: escalated from {case.assignee} to {after.assignee}"
    after.next_check_at = next_check(after, now, policy=policy)
    entry = HistoryEntry(at=now, actor=caller.source, action=Action.REOPEN, status=status, assignee=after.assignee,
                         text=f"{text}; {reason}")
    pending = _write(complaints, Step(before=case, after=after, entry=entry, kpi={**kpi, "reopened": 1},
                                      events=said))
    _publish(pending, complaints, events)
    if target is not None:
        _tell_staff(notifier, after, "complaint.escalated", "member not satisfied")
    return _with(after, case, entry)


def _with(after: Complaint, before: Complaint, entry: HistoryEntry) -> Complaint:
    """The case as written: the old history plus the new entry, the version bumped."""
    return dataclasses.replace(after, history=[*before.history, entry], version=before.version + 1)


# ---- the escalation job --------------------------------------------------------------------


class _RunDirectory:
    """The directory as one job run sees it: staff and store rosters read once per run (many
    due cases share a supervisor chain and a store)."""

    def __init__(self, inner: DirectoryReader) -> None:
        self._inner = inner
        self._staff: dict[tuple[str, str], Staff | None] = {}
        self._rosters: dict[tuple[str, str, Role | None], list[Staff]] = {}

    def brand(self, brand_id: str) -> BrandSettings | None:
        return self._inner.brand(brand_id)

    def store(self, brand_id: str, store_id: str) -> Store | None:
        return self._inner.store(brand_id, store_id)

    def staff(self, brand_id: str, staff_id: str) -> Staff | None:
        key = (brand_id, staff_id)
        if key not in self._staff:
            self._staff[key] = self._inner.staff(brand_id, staff_id)
        return self._staff[key]

    def staff_of_store(self, brand_id: str, store_id: str, role: Role | None = None) -> list[Staff]:
        key = (brand_id, store_id, role)
        if key not in self._rosters:
            self._rosters[key] = self._inner.staff_of_store(brand_id, store_id, role)
        return self._rosters[key]


@dataclass(slots=True)
class EscalationRun:
    now: datetime
    due: int = 0
    escalated: int = 0
    already_moved: int = 0
    top_of_ladder: int = 0
    events_resent: int = 0  # left in the outbox by a crash or a refused publish, published now
    events_kept: int = 0  # refused again, still in the outbox

    def as_dict(self) -> dict[str, Any]:
        return {"time": self.now.isoformat(), "due": self.due, "escalated": self.escalated,
                "already_moved": self.already_moved, "top_of_ladder": self.top_of_ladder,
                "events_resent": self.events_resent, "events_kept": self.events_kept}


def run_escalations(now: datetime, *, complaints: ComplaintStore, directory: DirectoryReader,
                    notifier: StaffNotifier, events: EventBus, policy: ComplaintPolicy | None = None) -> EscalationRun:
    """Move every case past its pending deadline one level up (at most one level per run).

    Reads only what is due, from the sparse index (one Query per shard). Each (case, level)
    escalates once: the write is conditional on the level and the pending check it read.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    directory = _RunDirectory(directory)  # one read per staff/store per run
    policy = policy or complaint_policy()
    run = EscalationRun(now=now)
    for shard in range(DUE_SHARDS):
        for pending in complaints.pending_events(shard):
            if deliver(events, pending, complaints.event_published):
                run.events_resent += 1
            else:
                run.events_kept += 1
        for case in complaints.due(now, shard):
            why = breach(case, now)
            if why is None:
                continue
            run.due += 1
            target = escalation_target(case.level, _chain(directory, case.brand_id, case.assignee),
                                       _store_staff_by_role(directory, case.brand_id, case.store_id))
            after = dataclasses.replace(case, history=[])
            if target is None:
                after.next_check_at = None
                entry = HistoryEntry(at=now, actor=SYSTEM, action=Action.ESCALATE, status=case.status,
                                     assignee=case.assignee, text=f"{why}: nobody above {case.assignee} to take it")
                kpi: dict[str, int] = {}
            else:
                after.level, after.assignee = target[0], target[1].staff_id
                after.next_check_at = next_check(after, now, after_escalation=True, policy=policy)
                entry = HistoryEntry(at=now, actor=SYSTEM, action=Action.ESCALATE, status=case.status,
                                     assignee=after.assignee,
                                     text=f"{why}: level {case.level} -> {after.level}, "
                                          f"{case.assignee} -> {after.assignee}")
                kpi = {"escalations": 1}
            try:
                complaints.apply(Step(before=case, after=after, entry=entry, kpi=kpi, escalation=True))
            except StaleCase:  # an overlapping run (or a person) moved it first
                run.already_moved += 1
                continue
            if target is None:
                run.top_of_ladder += 1
                continue
            run.escalated += 1
            _tell_staff(notifier, _with(after, case, entry), "complaint.escalated", why)
    return run


# ---- queues, figures and counts ----------------------------------------------------------


def list_complaints(caller: Caller, *, status: Status | None, assignee: str | None, store_id: str | None,
                    limit: int = 50, after: str | None = None, complaints: ComplaintStore) -> Page[Complaint]:
    if status is None and assignee is None and store_id is None:
        raise ValidationFailed("give at least one of status, assignee or store_id", field="status")
    if caller.store_scoped and not (assignee == caller.staff_id and store_id is None):
        if store_id is not None and store_id != caller.store_id:
            raise Forbidden("you can only list your own store's complaints", field="store_id")
        store_id = caller.store_id
    return complaints.queue(
        caller.brand_id, status=status.value if status else None, assignee=assignee, store_id=store_id, limit=limit,
        after=after)


def figures(c: dict[str, int]) -> dict[str, Any]:
    """Counters -> the KPI report's figures (docs/domain.md §6)."""
    nps_n = c["nps_responses"]
    return {
        "opened": c["opened"], "responded": c["responded"], "responded_within_deadline": c["responded_in_time"],
        "responded_within_deadline_rate": rate(c["responded_in_time"], c["responded"]),
        "mean_first_response_minutes": (round(c["first_response_seconds"] / c["responded"] / 60, 1)
                                        if c["responded"] else None),
        "resolved": c["resolved"], "resolved_within_deadline": c["resolved_in_time"],
        "resolved_within_deadline_rate": rate(c["resolved_in_time"], c["opened"]),
        "feedback": c["feedback"], "satisfied": c["satisfied"], "satisfaction_rate": rate(c["satisfied"],
                                                                                          c["feedback"]),
        "reopened": c["reopened"], "escalations": c["escalations"], "nps_responses": nps_n,
        "nps": round(100 * (c["nps_promoters"] - c["nps_detractors"]) / nps_n, 1) if nps_n else None,
    }


def complaint_report(caller: Caller, period: str, store_id: str | None = None, *,
                     complaints: ComplaintStore) -> dict[str, Any]:
    """Timeliness figures of the cases opened in `period` (YYYY-MM, store time), from counters."""
    if caller.store_scoped:
        if store_id is not None and store_id != caller.store_id:
            raise Forbidden("you can only see your own store's figures", field="store_id")
        store_id = caller.store_id
    per_store = complaints.kpis(caller.brand_id, period, store_id)
    from ..store.complaints import KPI_COUNTERS

    totals = {name: sum(c[name] for c in per_store.values()) for name in KPI_COUNTERS}
    return {"period": period, "store_id": store_id, "totals": figures(totals),
            "stores": [{"store_id": s, **figures(c)} for s, c in sorted(per_store.items())]}


@dataclass(frozen=True, slots=True)
class MemberComplaintCounts:
    open: int
    last_12_months: int


def member_complaint_counts(brand_id: str, member_id: str, now: datetime, *,
                            complaints: ComplaintCounts, directory: BrandSource) -> MemberComplaintCounts:
    """For the tier policy's optional factor and the churn-risk score: complaints open now
    and opened in the 12 months up to `now`'s month (one Query)."""
    counts = complaints.member_counts(brand_id, member_id)
    # Cases are counted under their store's local month: the window is the brand's, not UTC's.
    months = set(window(month_of(now, brand_settings(brand_id, directory).timezone), 12))
    return MemberComplaintCounts(open=max(0, counts.get("OPEN", 0)),
                                 last_12_months=sum(n for k, n in counts.items() if k in months))

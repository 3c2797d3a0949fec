"""Tier use cases: the brand's policy document, the scheduled re-evaluation (fanned out per
review shard), dedicated managers, manual-tier applications and the member's tier view.

The domain (vipcare.domain.tiers) decides; TierRepository persists each decision with its
explanation in one conditional transaction; events go to the bus after the write, with ids
derived from the decision so a retried publish is recognised by consumers.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from ..domain.access import SUPERVISOR_OR_ABOVE, Caller, Role, ensure_visible, require_role
from ..domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..domain.members import Tier
from ..domain.privacy import redact
from ..domain.tiers import (
    Decision,
    Outcome,
    TierPolicy,
    add_months,
    evaluate,
    local_day,
    next_review,
    progress,
    rank,
    renewed,
    start_of,
    validate_policy,
)
from ..store.tiers import (
    REVIEW_SHARDS,
    Application,
    MemberTier,
    PendingEvent,
    PolicyVersionTaken,
    StaleMember,
    StoredDecision,
    review_keys,
)
from .brands import brand_settings
from .limits import forget_cached_policies, tier_policy
from .outbox import deliver
from .ports import (
    BrandSource,
    DirectoryReader,
    EventBus,
    ManagerBook,
    MemberLookup,
    ReviewQueue,
    StaffNotifier,
    TierStore,
)

log = logging.getLogger("vipcare.tiers")



def review_instant(brand_id: str, day: date | None, directory: BrandSource) -> datetime | None:
    return start_of(day, brand_settings(brand_id, directory).timezone) if day else None


# ---- the policy document --------------------------------------------------------------------


def get_policy(caller: Caller, brand_id: str, *, repo: TierStore) -> tuple[TierPolicy, list[int]]:
    require_role(caller, Role.ADMIN)
    if brand_id != caller.brand_id:
        raise NotFound("brand not found")
    return tier_policy(brand_id, repo=repo, cached=False), repo.policy_versions(brand_id)


def put_policy(caller: Caller, brand_id: str, policy: TierPolicy, *, now: datetime, repo: TierStore) -> TierPolicy:
    """Validate, then store as the next version (old versions stay; decisions name theirs)."""
    require_role(caller, Role.ADMIN)
    if brand_id != caller.brand_id:
        raise NotFound("brand not found")
    validate_policy(policy)
    current = tier_policy(brand_id, repo=repo, cached=False)
    if repo.current_policy(brand_id) is None:
        # Until now the brand ran on the code's defaults as version 1: store them as they are
        # today, so decisions that name version 1 keep meaning it when the defaults change.
        with contextlib.suppress(PolicyVersionTaken):  # a concurrent first PUT stored it already
            repo.add_policy(brand_id, replace(current, created_at=now, created_by="defaults"))
    stored = replace(policy, version=current.version + 1, created_at=now,
                     created_by=caller.source)
    try:
        repo.add_policy(brand_id, stored)
    except PolicyVersionTaken:
        raise Conflict("the policy was changed meanwhile; read it again", field="version") from None
    forget_cached_policies()
    return stored


# ---- events ---------------------------------------------------------------------------------


def _event_id(member_id: str, review: str | None, outcome: str, at: datetime) -> str:
    """Stable per decision: a retried publish carries the same id (consumers de-duplicate)."""
    return hashlib.sha256(f"{member_id}|{review}|{outcome}|{at.isoformat()}".encode()).hexdigest()[:32]


def _event_of(m: MemberTier, d: Decision, event_id: str, now: datetime) -> tuple[str, dict[str, Any]] | None:
    """The bus event a decision announces (TierChanged or TierDowngradeWarning), if any."""
    x = d.explanation
    common = {"event_id": event_id, "brand_id": m.brand_id, "member_id": m.member_id, "store_id": m.store_id,
              "manager_id": m.manager_id, "policy_version": x.get("policy_version"), "actor": x.get("actor"),
              "at": now.isoformat(), "explanation": x.get("text")}
    if d.changes_tier:
        return "TierChanged", {**common, "from": d.before.tier.value, "to": d.after.tier.value,
                               "spend_12m": x["inputs"]["spend_12m"], "purchases_6m": x["inputs"]["purchases_6m"],
                               "outcome": d.outcome.value}
    if d.outcome == Outcome.WARN:
        return "TierDowngradeWarning", {**common, "tier": d.before.tier.value, "to": x["to"],
                                        "downgrade_on": x["downgrade_on"], "spend_needed": x["spend_needed"],
                                        "purchases_needed": x["purchases_needed"]}
    return None


def _deliver(events: EventBus, repo: TierStore, pending: PendingEvent | None) -> bool:
    return deliver(events, pending, repo.event_published)


# ---- dedicated managers -------------------------------------------------------------------


@dataclass
class Assignment:
    manager_id: str | None
    told_supervisor: str | None = None


def ensure_manager(brand_id: str, member_id: str, store_id: str, tier: Tier, *, now: datetime,
                   repo: ManagerBook, directory: DirectoryReader, notifier: StaffNotifier,
                   policy: TierPolicy | None = None, current_manager: str | None = None) -> Assignment | None:
    """From the tier the policy gives a dedicated manager: the least-loaded manager of the
    member's store with capacity left (count updated in the same transaction as the
    assignment); none free -> the store's supervisor is told. None when nothing to do."""
    policy = policy or tier_policy(brand_id, repo=repo)
    if not policy.rule(tier).dedicated_manager or current_manager:
        return None
    managers = [s for s in directory.staff_of_store(brand_id, store_id, Role.MANAGER)
                if s.active and not s.on_leave and s.capacity > 0]
    loads = repo.manager_loads(brand_id, [s.staff_id for s in managers])
    for s in sorted(managers, key=lambda s: (loads.get(s.staff_id, 0), s.staff_id)):
        if loads.get(s.staff_id, 0) >= s.capacity:
            continue
        if repo.assign_manager(brand_id, member_id, s.staff_id, s.capacity, now):
            return Assignment(s.staff_id)
        current = repo.one(brand_id, member_id)
        if current is not None and current.manager_id:
            return Assignment(current.manager_id)  # someone else assigned one meanwhile
    supervisors = [s for s in directory.staff_of_store(brand_id, store_id, Role.SUPERVISOR) if s.active]
    target = supervisors[0].staff_id if supervisors else f"store:{store_id}"
    try:
        notifier.tell_staff({
            "event": "tier.manager_needed", "brand_id": brand_id, "assignee": target, "member_id": member_id,
            "store_id": store_id, "tier": tier.value,
            "reason": "no manager of the store has capacity left for a new dedicated member"})
    except Exception as exc:  # noqa: BLE001 - the tier stands; the notification is best effort
        log.warning("manager-needed notification failed", extra={"error": redact(str(exc))})
    return Assignment(None, told_supervisor=target)


# ---- the scheduled run ----------------------------------------------------------------------


@dataclass
class ShardRun:
    shard: int
    due: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    stale: int = 0
    managers_assigned: int = 0
    events_resent: int = 0  # left in the outbox by an earlier run, published now
    events_kept: int = 0  # refused by the bus this run, left in the outbox
    more: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"shard": self.shard, "due": self.due, "outcomes": self.outcomes, "stale": self.stale,
                "managers_assigned": self.managers_assigned, "events_resent": self.events_resent,
                "events_kept": self.events_kept, "more": self.more}


def start_run(now: datetime, *, queue: ReviewQueue) -> dict[str, Any]:
    """The scheduled event: one message per review shard; workers process shards in parallel."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    messages = [{"time": now.isoformat(), "shard": s} for s in range(REVIEW_SHARDS)]
    queue.send(messages)
    return {"time": now.isoformat(), "shards": REVIEW_SHARDS}


def review_shard(now: datetime, shard: int, *, page: int = 200, repo: TierStore, events: EventBus,
                 directory: DirectoryReader, notifier: StaffNotifier, queue: ReviewQueue) -> ShardRun:
    """Evaluate up to `page` due members of one shard. Decided members leave the due range
    (their review moves on), so when the page was full the rest of the shard is handed on
    as another message for the same shard."""
    run = ShardRun(shard=shard)
    for pending in repo.pending_events(shard):  # what a crash or a refused publish left behind
        if _deliver(events, repo, pending):
            run.events_resent += 1
    due = repo.due(shard, now, limit=page)
    run.due = len(due)
    members = repo.load([(b, m) for b, m, _ in due])
    for brand_id, member_id, review in due:
        m = members.get((brand_id, member_id))
        if m is None or m.review_sk != review:
            run.stale += 1  # erased, or moved by a purchase since the index was read
            continue
        outcome = evaluate_member(m, now, repo=repo, events=events, directory=directory, notifier=notifier, run=run)
        if outcome is not None:
            run.outcomes[outcome] = run.outcomes.get(outcome, 0) + 1
    if len(due) >= page:
        run.more = True
        queue.send([{"time": now.isoformat(), "shard": shard}])
    return run


def evaluate_member(m: MemberTier, now: datetime, *, actor: str = "schedule", repo: TierStore, events: EventBus,
                    directory: DirectoryReader, notifier: StaffNotifier, run: ShardRun | None = None) -> str | None:
    policy = tier_policy(m.brand_id, repo=repo)
    today = local_day(now, brand_settings(m.brand_id, directory).timezone)
    decision = evaluate(policy, m.state, m.figures, today, actor=actor)
    keys = review_keys(m.brand_id, m.member_id, review_instant(m.brand_id, decision.review_on, directory))
    # dropping below the tiers with a dedicated manager hands the member back (docs/domain.md §2)
    release = (m.manager_id is not None and policy.rule(decision.before.tier).dedicated_manager
               and not policy.rule(decision.after.tier).dedicated_manager)
    event = _event_of(m, decision, _event_id(m.member_id, m.review_sk, decision.outcome.value, now), now)
    try:
        pending = repo.apply(m, decision, policy, keys, now, release_manager=release, event=event)
    except StaleMember:
        if run is not None:
            run.stale += 1
        return None
    if not _deliver(events, repo, pending) and run is not None:
        run.events_kept += 1
    if rank(decision.after.tier) > rank(decision.before.tier):
        assigned = ensure_manager(m.brand_id, m.member_id, m.store_id, decision.after.tier, now=now, policy=policy,
                                  repo=repo, directory=directory, notifier=notifier, current_manager=m.manager_id)
        if run is not None and assigned is not None and assigned.manager_id:
            run.managers_assigned += 1
    return decision.outcome.value


# ---- the member's view ------------------------------------------------------------------------


@dataclass
class TierView:
    member_id: str
    tier: Tier
    since: date | None
    valid_until: date | None
    floor: Tier | None
    floor_until: date | None
    next_review: date | None
    policy_version: int
    progress: dict[str, Any]
    decisions: list[StoredDecision]


def tier_view(caller: Caller, member_id: str, *, now: datetime, repo: TierStore, members: MemberLookup,
              directory: BrandSource) -> TierView:
    member = members.get(caller.brand_id, member_id)
    if member is None:
        raise NotFound("member not found")
    ensure_visible(caller, brand_id=member.brand_id, store_id=member.store_id, what="member")
    m = repo.one(caller.brand_id, member_id)
    assert m is not None
    policy = tier_policy(caller.brand_id, repo=repo)
    today = local_day(now, brand_settings(caller.brand_id, directory).timezone)
    return TierView(member_id=member_id, tier=m.state.tier, since=m.state.since, valid_until=m.state.valid_until,
                    floor=m.state.floor if m.state.active_floor(today) != Tier.REGULAR else None,
                    floor_until=m.state.floor_until if m.state.active_floor(today) != Tier.REGULAR else None,
                    next_review=next_review(policy, m.state, m.figures, today), policy_version=policy.version,
                    progress=progress(policy, m.state, m.figures, today),
                    decisions=repo.decisions(caller.brand_id, member_id))


# ---- manual-tier applications -------------------------------------------------------------------


def apply_for_tier(caller: Caller, member_id: str, target: Tier, reason: str, *, now: datetime, repo: TierStore,
                   members: MemberLookup) -> Application:
    member = members.get(caller.brand_id, member_id)
    if member is None:
        raise NotFound("member not found")
    ensure_visible(caller, brand_id=member.brand_id, store_id=member.store_id, what="member")
    if rank(target) <= rank(member.tier):
        raise ValidationFailed(f"must be above the member's current tier ({member.tier.value})", field="target_tier")
    application = Application(application_id="ta_" + uuid.uuid4().hex[:16], brand_id=caller.brand_id,
                              member_id=member_id, store_id=member.store_id, target=target, reason=reason,
                              requested_by=caller.staff_id, requested_at=now, status="pending")
    repo.add_application(application)
    return application


def get_application(caller: Caller, application_id: str, repo: TierStore) -> Application:
    a = repo.application(caller.brand_id, application_id)
    if a is None:
        raise NotFound("application not found")
    ensure_visible(caller, brand_id=a.brand_id, store_id=a.store_id, what="application")
    return a


def decide_application(caller: Caller, application_id: str, approve: bool, note: str, *,
                       expires_on: date | None = None, now: datetime, repo: TierStore, events: EventBus,
                       directory: DirectoryReader, notifier: StaffNotifier) -> Application:
    """Approve or reject (supervisor or above, never the requester, once). An approval sets
    the manual tier as a floor until `expires_on` and raises the member to it now."""
    a = get_application(caller, application_id, repo)
    require_role(caller, *SUPERVISOR_OR_ABOVE)
    if a.requested_by == caller.staff_id:
        raise Forbidden("the requester cannot decide their own application", field="decided_by")
    if a.status != "pending":
        raise Conflict(f"the application was already {a.status}", field="status", code="already_decided")
    timezone = brand_settings(caller.brand_id, directory).timezone
    today = local_day(now, timezone)
    policy = tier_policy(caller.brand_id, repo=repo)
    decided = replace(a, status="approved" if approve else "rejected", decided_by=caller.staff_id, decided_at=now,
                      note=note)
    if not approve:
        if not repo.reject_application(decided):
            raise Conflict("the application was already decided", field="status", code="already_decided")
        return decided
    expiry = expires_on or add_months(today, policy.manual_tier_months)
    if expiry <= today:
        raise ValidationFailed("must be after today", field="expires_on")
    decided.expires_on = expiry
    m = repo.one(caller.brand_id, a.member_id)
    if m is None:
        raise NotFound("member not found")
    state = replace(m.state, floor=a.target, floor_until=expiry)
    if rank(a.target) > rank(m.state.tier):
        # a manual tier is valid until its expiry; then the ordinary rules apply
        after = replace(renewed(policy, state, a.target, today), valid_until=expiry)
        outcome = Outcome.FLOOR
    else:
        after, outcome = state, Outcome.KEEP
    # The approval is a decision like any other: stored with its explanation.
    from ..domain.tiers import explain

    base = explain(policy, m.state, m.figures, today, f"supervisor:{caller.staff_id}")
    explanation = {**base, "outcome": outcome.value, "from": m.state.tier.value, "to": after.tier.value,
                   "application_id": a.application_id, "reason": a.reason, "note": note,
                   "text": f"manual tier {a.target.value} approved until {expiry.isoformat()} (a floor until then)"}
    decision = Decision(outcome, m.state, after, next_review(policy, after, m.figures, today), explanation)
    keys = review_keys(m.brand_id, m.member_id, review_instant(m.brand_id, decision.review_on, directory))
    event = _event_of(m, decision, _event_id(m.member_id, m.review_sk, "floor", now), now)
    try:
        pending = repo.apply(m, decision, policy, keys, now, extra=[("application", repo.application_item(decided))],
                             event=event)
    except StaleMember:
        raise Conflict("the application or the member changed meanwhile; try again", field="status",
                       code="already_decided") from None
    _deliver(events, repo, pending)
    if decision.changes_tier:
        ensure_manager(m.brand_id, m.member_id, m.store_id, after.tier, now=now, policy=policy, repo=repo,
                       directory=directory, notifier=notifier, current_manager=m.manager_id)
    return decided

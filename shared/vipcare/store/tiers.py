"""Tiers in DynamoDB: policy versions, the member's tier state and review keys, decisions,
manual-tier applications and account managers' member counts. Layout in docs/data-model.md.

  DirectoryTable  BRAND#<b> / TIERPOLICY#<version:06d>   one item per policy version (never changed)
  DirectoryTable  BRAND#<b> / MGRLOAD#<staff_id>          members a manager owns (`members`, ADD)
  MembersTable    BRAND#<b>#MEMBER#<m> / PROFILE          tier state + review_pk/review_sk (sparse GSI)
  MembersTable    BRAND#<b>#MEMBER#<m> / TIER#<at>#<kind> one decision with its explanation
  MembersTable    BRAND#<b>#TIERAPP#<id> / APPLICATION    a manual-tier application
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from ..domain.members import Tier
from ..domain.tiers import (
    Application,
    Decision,
    Figures,
    TierPolicy,
    TierState,
    application_status,
    figures_of,
    policy_from_document,
)
from .attributes import DateAttribute
from .ledger import STATS_SK, StatsItem, stats_of
from .models import (
    PROFILE_SK,
    DirectoryTableModel,
    MemberItem,
    MembersTableModel,
    brand_pk,
    condition_failed,
    lost_race,
    manager_key,
    member_pk,
    read_members_table,
    roll_key,
)
from .outbox import Outbox, PendingEvent

REVIEW_SHARDS = 16
POLICY_PREFIX = "TIERPOLICY#"
DECISION_PREFIX = "TIER#"
APPLICATION_SK = "APPLICATION"
OUTBOX_PREFIX = "TIEROUTBOX#"


def review_shard(member_id: str) -> int:
    return int(hashlib.sha256(member_id.encode()).hexdigest()[:8], 16) % REVIEW_SHARDS


def review_pk(shard: int) -> str:
    return f"REVIEW#{shard}"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def review_keys(brand_id: str, member_id: str, at: datetime | None) -> tuple[str, str] | None:
    if at is None:
        return None
    return review_pk(review_shard(member_id)), f"{iso(at)}#{brand_id}#{member_id}"


def outbox_pk(member_id: str) -> str:
    """Events of a decision wait here until published, in the member's review shard."""
    return f"{OUTBOX_PREFIX}{review_shard(member_id)}"


def application_pk(brand_id: str, application_id: str) -> str:
    return f"BRAND#{brand_id}#TIERAPP#{application_id}"


class PolicyItem(DirectoryTableModel):
    version = NumberAttribute()
    document = UnicodeAttribute()  # the policy document as JSON (domain.tiers.as_document)
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()


class OutboxItem(MembersTableModel):
    """A decision's bus event, written in the decision's transaction and deleted once
    published: a crash or a refused publish in between leaves it for the next run."""

    detail_type = UnicodeAttribute()
    detail = UnicodeAttribute()  # JSON


_OUTBOX = Outbox(OutboxItem, OUTBOX_PREFIX)


class ManagerLoadItem(DirectoryTableModel):
    members = NumberAttribute(default=0)


def manager_load(brand_id: str, staff_id: str) -> ManagerLoadItem:
    """The counter of members a manager owns (DirectoryTable BRAND#<b> / MGRLOAD#<staff>)."""
    return ManagerLoadItem(brand_pk(brand_id), f"MGRLOAD#{staff_id}")


class DecisionItem(MembersTableModel):
    outcome = UnicodeAttribute()
    tier_from = UnicodeAttribute()
    tier_to = UnicodeAttribute()
    actor = UnicodeAttribute()
    policy_version = NumberAttribute()
    at = UTCDateTimeAttribute()
    explanation = UnicodeAttribute()  # JSON: inputs, window, thresholds, text


class ApplicationItem(MembersTableModel):
    application_id = UnicodeAttribute()
    brand_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    store_id = UnicodeAttribute()
    target = UnicodeAttribute()
    reason = UnicodeAttribute()
    requested_by = UnicodeAttribute()
    requested_at = UTCDateTimeAttribute()
    status = UnicodeAttribute()
    expires_on = DateAttribute(null=True)
    decided_by = UnicodeAttribute(null=True)
    decided_at = UTCDateTimeAttribute(null=True)
    note = UnicodeAttribute(null=True)


# ---- plain records ------------------------------------------------------------------------


@dataclass
class MemberTier:
    """What a tier decision needs of one member (PROFILE + STATS, read together)."""

    brand_id: str
    member_id: str
    store_id: str
    manager_id: str | None
    state: TierState
    figures: Figures
    review_sk: str | None


@dataclass
class StoredDecision:
    outcome: str
    tier_from: str
    tier_to: str
    actor: str
    policy_version: int
    at: datetime
    explanation: dict[str, Any]


class StaleMember(Exception):
    """The member's tier or review moved since it was read (another run or a purchase won)."""


class PolicyVersionTaken(Exception):
    """Two policy updates raced for the same version number."""


_TIER_FIELDS = ("tier", "tier_since", "tier_valid_until", "tier_floor", "tier_floor_until", "tier_warned_for")


def state_from_raw(raw: dict[str, Any]) -> TierState:
    """The tier fields of a raw PROFILE item. Only these six are decoded: building the whole
    MemberItem for them was a fifth of a purchase's CPU (tests/bench/handler_cpu.py)."""
    attributes = MemberItem.get_attributes()
    values: dict[str, Any] = {}
    for name in _TIER_FIELDS:
        attr = attributes[name]
        cell = raw.get(attr.attr_name)
        values[name] = attr.deserialize(cell[attr.attr_type]) if cell and attr.attr_type in cell else None
    return TierState(tier=Tier(values["tier"] or "regular"), since=values["tier_since"],
                     valid_until=values["tier_valid_until"],
                     floor=Tier(values["tier_floor"]) if values["tier_floor"] else None,
                     floor_until=values["tier_floor_until"], warned_for=values["tier_warned_for"])


def tier_actions(before: TierState, after: TierState, keys: tuple[str, str] | None, now: datetime, *,
                 member: tuple[str, str, str]) -> list[Action]:
    """Update actions for the PROFILE: the tier fields that changed, the review keys, and on a
    new tier the member's place on the store's roll. `member`: (brand, store, member id)."""
    actions: list[Action] = [MemberItem.updated_at.set(now)]
    if before.tier != after.tier:
        roll_pk_, roll_sk = roll_key(member[0], member[1], after.tier.value, member[2])
        actions += [MemberItem.listing_pk.set(roll_pk_), MemberItem.listing_sk.set(roll_sk)]
    pairs = (("tier", before.tier, after.tier), ("tier_since", before.since, after.since),
             ("tier_valid_until", before.valid_until, after.valid_until),
             ("tier_floor", before.floor, after.floor), ("tier_floor_until", before.floor_until, after.floor_until),
             ("tier_warned_for", before.warned_for, after.warned_for))
    for name, old, new in pairs:
        if old == new and name != "tier":
            continue
        attr = getattr(MemberItem, name)
        value = new.value if isinstance(new, Tier) else new
        actions.append(attr.remove() if value is None else attr.set(value))
    if keys is None:
        actions += [MemberItem.review_pk.remove(), MemberItem.review_sk.remove()]
    else:
        actions += [MemberItem.review_pk.set(keys[0]), MemberItem.review_sk.set(keys[1])]
    return actions


def decision_item(brand_id: str, member_id: str, decision: Decision, policy: TierPolicy, now: datetime) -> DecisionItem:
    # Unique even for two decisions in the same instant; once-only comes from the PROFILE
    # update's condition in the same transaction, not from this key.
    sk = f"{DECISION_PREFIX}{now.astimezone(UTC).isoformat()}#{decision.outcome.value}#{uuid.uuid4().hex[:8]}"
    return DecisionItem(member_pk(brand_id, member_id), sk,
                        outcome=decision.outcome.value, tier_from=decision.before.tier.value,
                        tier_to=decision.after.tier.value, actor=str(decision.explanation.get("actor", "schedule")),
                        policy_version=policy.version, at=now,
                        explanation=json.dumps(decision.explanation, sort_keys=True, default=str))


def _connection() -> Any:
    return MemberItem._get_connection().connection




class TierRepository:
    # ---- policy versions
    def current_policy(self, brand_id: str) -> TierPolicy | None:
        for item in PolicyItem.query(brand_pk(brand_id), PolicyItem.sk.startswith(POLICY_PREFIX),
                                     scan_index_forward=False, limit=1):
            return policy_from_document(json.loads(item.document))
        return None

    def policy_versions(self, brand_id: str) -> list[int]:
        return [int(i.version) for i in PolicyItem.query(brand_pk(brand_id), PolicyItem.sk.startswith(POLICY_PREFIX),
                                                         attributes_to_get=["version"])]

    def add_policy(self, brand_id: str, policy: TierPolicy) -> None:
        if policy.created_at is None:
            raise ValueError("a stored policy version says when it was made (created_at)")
        item = PolicyItem(brand_pk(brand_id), f"{POLICY_PREFIX}{policy.version:06d}", version=policy.version,
                          document=json.dumps(policy.as_document()), created_at=policy.created_at,
                          created_by=policy.created_by or "system")
        try:
            item.save(condition=PolicyItem.pk.does_not_exist())
        except PutError as exc:
            if condition_failed(exc):
                raise PolicyVersionTaken() from None
            raise

    # ---- the review index
    def due(self, shard: int, now: datetime, *, limit: int) -> list[tuple[str, str, str]]:
        """(brand, member, review_sk) of members due at `now` in one shard (keys only)."""
        out = []
        for item in MemberItem.review.query(review_pk(shard), MemberItem.review_sk <= f"{iso(now)}#~", limit=limit):
            rest = item.pk.removeprefix("BRAND#")
            brand_id, _, member_id = rest.partition("#MEMBER#")
            out.append((brand_id, member_id, item.review_sk or ""))
        return out

    def load(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], MemberTier]:
        """PROFILE and STATS of many members: BatchGetItem, 100 keys (50 members) per request."""
        found = read_members_table([(member_pk(b, m), sk) for b, m in dict.fromkeys(keys)
                                    for sk in (PROFILE_SK, STATS_SK)])
        out = {}
        for brand_id, member_id in dict.fromkeys(keys):
            profile = found.get((member_pk(brand_id, member_id), PROFILE_SK))
            if profile is None:
                continue
            stats_raw = found.get((member_pk(brand_id, member_id), STATS_SK))
            stats = stats_of(StatsItem.from_raw_data(stats_raw) if stats_raw else None)
            out[(brand_id, member_id)] = MemberTier(
                brand_id=brand_id, member_id=member_id, store_id=profile["store_id"]["S"],
                manager_id=profile.get("manager_id", {}).get("S"), state=state_from_raw(profile),
                figures=figures_of(stats),
                review_sk=profile.get("review_sk", {}).get("S"))
        return out

    def one(self, brand_id: str, member_id: str) -> MemberTier | None:
        return self.load([(brand_id, member_id)]).get((brand_id, member_id))

    # ---- decisions
    def apply(self, m: MemberTier, decision: Decision, policy: TierPolicy, keys: tuple[str, str] | None,
              now: datetime, *, extra: list[tuple[str, Any]] | None = None, release_manager: bool = False,
              event: tuple[str, dict[str, Any]] | None = None) -> PendingEvent | None:
        """The decision, the new state and the next review, in one transaction, conditioned on
        the tier and review the decision was made from (a rerun or a racing run changes nothing).
        `release_manager`: the new tier has no dedicated manager, so the member leaves the
        manager's book and frees a slot of their capacity in the same transaction. `event`:
        (detail type, detail) put in the outbox in the same transaction; returned for publishing."""
        condition: Condition = MemberItem.tier == m.state.tier.value
        condition &= (MemberItem.review_sk == m.review_sk) if m.review_sk else MemberItem.review_sk.does_not_exist()
        actions = tier_actions(decision.before, decision.after, keys, now,
                               member=(m.brand_id, m.store_id, m.member_id))
        if release_manager and m.manager_id:
            actions += [MemberItem.manager_id.remove(), MemberItem.manager_key.remove()]
            condition &= MemberItem.manager_id == m.manager_id
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.update(MemberItem(member_pk(m.brand_id, m.member_id), PROFILE_SK),
                          actions=actions, condition=condition)
                if release_manager and m.manager_id:
                    tx.update(ManagerLoadItem(brand_pk(m.brand_id), f"MGRLOAD#{m.manager_id}"),
                              actions=[ManagerLoadItem.members.add(-1)])
                pending = None
                if event is not None:
                    detail_type, detail = event
                    pending = PendingEvent(outbox_pk(m.member_id), str(detail["event_id"]), detail_type, detail)
                    tx.save(OutboxItem(pending.pk, pending.sk, detail_type=detail_type,
                                       detail=json.dumps(detail, default=str)),
                            condition=OutboxItem.pk.does_not_exist())
                tx.save(decision_item(m.brand_id, m.member_id, decision, policy, now),
                        condition=DecisionItem.pk.does_not_exist())
                for kind, item in extra or []:
                    if kind == "application":
                        tx.update(item, actions=[ApplicationItem.status.set(item.status),
                                                 ApplicationItem.decided_by.set(item.decided_by),
                                                 ApplicationItem.decided_at.set(item.decided_at),
                                                 ApplicationItem.note.set(item.note),
                                                 ApplicationItem.expires_on.set(item.expires_on)],
                                  condition=ApplicationItem.status == "pending")
        except TransactWriteError as exc:
            if lost_race(exc):
                raise StaleMember(m.member_id) from None
            raise
        return pending

    # ---- the outbox of bus events
    def pending_events(self, shard: int) -> list[PendingEvent]:
        return _OUTBOX.pending(shard)

    def event_published(self, e: PendingEvent) -> None:
        _OUTBOX.published(e)

    def decisions(self, brand_id: str, member_id: str, *, limit: int = 20) -> list[StoredDecision]:
        items = DecisionItem.query(member_pk(brand_id, member_id), DecisionItem.sk.startswith(DECISION_PREFIX),
                                   scan_index_forward=False, limit=limit)
        return [StoredDecision(outcome=i.outcome, tier_from=i.tier_from, tier_to=i.tier_to, actor=i.actor,
                               policy_version=int(i.policy_version), at=i.at, explanation=json.loads(i.explanation))
                for i in items]

    # ---- account managers
    def manager_loads(self, brand_id: str, staff_ids: list[str]) -> dict[str, int]:
        if not staff_ids:
            return {}
        found = ManagerLoadItem.batch_get([(brand_pk(brand_id), f"MGRLOAD#{s}") for s in staff_ids])
        return {i.sk.removeprefix("MGRLOAD#"): int(i.members or 0) for i in found}

    def assign_manager(self, brand_id: str, member_id: str, staff_id: str, capacity: int, now: datetime) -> bool:
        """Set the member's manager (only if it has none) and count the member against the
        manager's capacity, in one transaction. False when the member already has one or the
        manager filled up meanwhile."""
        load = ManagerLoadItem(brand_pk(brand_id), f"MGRLOAD#{staff_id}")
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.update(MemberItem(member_pk(brand_id, member_id), PROFILE_SK),
                          actions=[MemberItem.manager_id.set(staff_id),
                                   MemberItem.manager_key.set(manager_key(brand_id, staff_id)),
                                   MemberItem.updated_at.set(now)],
                          condition=MemberItem.pk.exists() & MemberItem.manager_id.does_not_exist())
                tx.update(load, actions=[ManagerLoadItem.members.add(1)],
                          condition=ManagerLoadItem.members.does_not_exist() | (ManagerLoadItem.members < capacity))
        except TransactWriteError as exc:
            if lost_race(exc):
                return False
            raise
        return True

    def move_member(self, brand_id: str, member_id: str, frm: str, to: str, now: datetime) -> bool:
        """Hand a member from one dedicated manager to another (a departure): the member's
        manager and book key, both managers' counts, in one transaction conditioned on the
        member still being `frm`'s. False when it no longer is (moved meanwhile)."""
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.update(MemberItem(member_pk(brand_id, member_id), PROFILE_SK),
                          actions=[MemberItem.manager_id.set(to), MemberItem.manager_key.set(manager_key(brand_id, to)),
                                   MemberItem.updated_at.set(now)],
                          condition=MemberItem.manager_id == frm)
                tx.update(ManagerLoadItem(brand_pk(brand_id), f"MGRLOAD#{frm}"),
                          actions=[ManagerLoadItem.members.add(-1)])
                tx.update(ManagerLoadItem(brand_pk(brand_id), f"MGRLOAD#{to}"),
                          actions=[ManagerLoadItem.members.add(1)])
        except TransactWriteError as exc:
            if lost_race(exc):
                return False
            raise
        return True

    # ---- manual-tier applications
    def add_application(self, a: Application) -> None:
        ApplicationItem(application_pk(a.brand_id, a.application_id), APPLICATION_SK, application_id=a.application_id,
                        brand_id=a.brand_id, member_id=a.member_id, store_id=a.store_id, target=a.target.value,
                        reason=a.reason, requested_by=a.requested_by, requested_at=a.requested_at,
                        status=a.status).save(condition=ApplicationItem.pk.does_not_exist())

    def application(self, brand_id: str, application_id: str) -> Application | None:
        try:
            i = ApplicationItem.get(application_pk(brand_id, application_id), APPLICATION_SK, consistent_read=True)
        except DoesNotExist:
            return None
        return Application(application_id=i.application_id, brand_id=i.brand_id, member_id=i.member_id,
                           store_id=i.store_id, target=Tier(i.target), reason=i.reason, requested_by=i.requested_by,
                           requested_at=i.requested_at, status=application_status(i.status), expires_on=i.expires_on,
                           decided_by=i.decided_by, decided_at=i.decided_at, note=i.note)

    def reject_application(self, a: Application) -> bool:
        assert a.decided_by is not None and a.decided_at is not None
        item = ApplicationItem(application_pk(a.brand_id, a.application_id), APPLICATION_SK)
        try:
            item.update(actions=[ApplicationItem.status.set(a.status), ApplicationItem.decided_by.set(a.decided_by),
                                 ApplicationItem.decided_at.set(a.decided_at), ApplicationItem.note.set(a.note or "")],
                        condition=ApplicationItem.status == "pending")
        except UpdateError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    @staticmethod
    def application_item(a: Application) -> ApplicationItem:
        return ApplicationItem(application_pk(a.brand_id, a.application_id), APPLICATION_SK, status=a.status,
                               decided_by=a.decided_by, decided_at=a.decided_at, note=a.note,
                               expires_on=a.expires_on)

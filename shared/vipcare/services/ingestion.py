"""Applying a purchase exactly once, whatever the delivery: duplicates, retries, crashes
between writes, out-of-order arrival.

Each attempt reads everything it needs in one BatchGetItem and writes every effect in one
TransactWriteItems conditioned on what it read (the transaction id is new, the member's
figures are at the version read). A crash before the write leaves nothing; a crash after it
leaves the complete effect, and the redelivery finds the transaction id and does nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from ..domain.errors import ValidationFailed
from ..domain.members import Tier
from ..domain.months import month_of
from ..domain.purchases import (
    Kind,
    Purchase,
    PurchaseLimits,
    Status,
    apply_return,
    apply_sale,
    hold_expired,
    returned_lines_after,
)
from ..domain.tiers import TierPolicy, TierState, figures_of, local_day, next_review, purchase_upgrade, start_of
from ..store.ledger import Conflict, LedgerEntry, PurchaseSnapshot, entry_from_purchase, txn_key
from ..store.models import MemberItem
from ..store.tiers import decision_item, review_keys, state_from_raw, tier_actions
from .brands import brand_settings
from .limits import purchase_limits, tier_policy
from .ports import DirectoryReader, EventBus, ManagerBook, PurchaseLedger, StaffNotifier

MAX_ATTEMPTS = 6  # optimistic retries when another writer touched the same member


class Outcome(StrEnum):
    APPLIED = "applied"
    HELD = "held"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    CONFLICTING = "conflicting"  # same id, different payload: reported, not applied


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    reason: str | None = None
    tier_changed_to: str | None = None


class TooMuchContention(Exception):
    """Still losing races after MAX_ATTEMPTS: let the queue redeliver later."""


def _ref(store_id: str, transaction_id: str) -> str:
    return f"{store_id}#{transaction_id}"


def original_store(p: Purchase) -> str:
    """Returns cite a sale of the same store (transaction ids are unique per brand + store)."""
    return p.store_id


class Ingestor:
    """`tiers`, `directory` and `notifier` serve the brand's settings and policy and, when a
    sale upgrades a member to a tier with a dedicated manager, the assignment. `limits`,
    `policy` and `timezone` fix those instead of reading them (the CPU benchmark)."""

    def __init__(self, *, ledger: PurchaseLedger, events: EventBus, tiers: ManagerBook, directory: DirectoryReader,
                 notifier: StaffNotifier, limits: PurchaseLimits | None = None, policy: TierPolicy | None = None,
                 timezone: str | None = None, assign_managers: bool = True) -> None:
        self.assign_managers = assign_managers
        self.ledger = ledger
        self.events = events
        self.tiers = tiers
        self.directory = directory
        self.notifier = notifier
        self._limits = limits
        self._policy = policy
        self._timezone = timezone

    def ingest(self, p: Purchase, *, received_at: datetime, now: datetime) -> Result:
        limits = self._limits or purchase_limits(p.brand_id, self.directory)
        policy = self._policy or tier_policy(p.brand_id, repo=self.tiers)
        timezone = self._timezone or brand_settings(p.brand_id, self.directory).timezone
        for _ in range(MAX_ATTEMPTS):
            try:
                return self._attempt(p, received_at, now, limits, policy, timezone)
            except Conflict:
                continue
        raise TooMuchContention(f"{p.store_id}/{p.transaction_id}")

    # ---- one attempt ------------------------------------------------------------------

    def _attempt(self, p: Purchase, received_at: datetime, now: datetime, limits: PurchaseLimits,
                 policy: TierPolicy, timezone: str) -> Result:
        keys = [(p.store_id, p.transaction_id)]
        if p.kind == Kind.RETURN and p.original_transaction_id:
            keys.append((original_store(p), p.original_transaction_id))
        snap = self.ledger.snapshot(p.brand_id, p.member_id, keys)
        existing = snap.entries[(p.store_id, p.transaction_id)]
        seen = self._already_seen(p, existing, now)
        if seen is not None:
            return seen
        if not snap.member_exists:
            return self._reject(p, existing, received_at, now, "unknown member")
        if p.kind == Kind.SALE:
            return self._apply_sale(p, snap, existing, received_at, now, limits, policy, timezone)
        return self._apply_return(p, snap, existing, received_at, now, limits, timezone)

    def _already_seen(self, p: Purchase, existing: LedgerEntry | None, now: datetime) -> Result | None:
        """The dedup check. None means: go on and apply."""
        if existing is None or existing.status == Status.AWAITING:
            return None
        if existing.fingerprint == p.fingerprint():
            if existing.event_pending:  # a crash left the TierChanged event unpublished
                self._publish_tier_change(existing, now)
            if existing.status == Status.REJECTED:
                return Result(Outcome.DUPLICATE, existing.reason)
            return Result(Outcome.DUPLICATE)
        if existing.status == Status.REJECTED:
            return None  # a corrected resubmission replaces a rejection
        self.ledger.add_rejection(p.brand_id, p.store_id, p.transaction_id, p.fingerprint(),
                                  "transaction id already used with a different payload", now)
        return Result(Outcome.CONFLICTING, "transaction id already used with a different payload")

    def _reject(self, p: Purchase, existing: LedgerEntry | None, received_at: datetime, now: datetime,
                reason: str) -> Result:
        entry = entry_from_purchase(p, Status.REJECTED, reason=reason, received_at=received_at, applied_at=now)
        entry.revision = existing.revision if existing else 0
        self.ledger.commit(brand_id=p.brand_id, entries=[entry])
        return Result(Outcome.REJECTED, reason)

    def _apply_sale(self, p: Purchase, snap: PurchaseSnapshot, existing: LedgerEntry | None,
                    received_at: datetime, now: datetime, limits: PurchaseLimits, policy: TierPolicy,
                    timezone: str) -> Result:
        stats = snap.stats
        tier = Tier(snap.tier or Tier.REGULAR)
        multiplier = policy.multiplier(tier)
        effect = apply_sale(stats, p, multiplier, timezone)
        sale = entry_from_purchase(p, Status.APPLIED, received_at=received_at, applied_at=now, month=effect.month,
                                   points=effect.points, multiplier=multiplier, tier=tier.value)
        sale.revision = existing.revision if existing else 0
        entries = [sale]
        stats.remember(f"txn:{_ref(p.store_id, p.transaction_id)}")

        if existing is not None and existing.status == Status.AWAITING:
            entries += self._settle_held_returns(p, sale, existing.held_returns, stats, now, limits)

        current_month = month_of(now, timezone)
        state = state_from_raw(snap.profile) if snap.profile else TierState(tier=tier)
        today = local_day(now, timezone)
        decision = purchase_upgrade(policy, state, figures_of(stats), today)
        upgrade = decision.after.tier if decision is not None else None
        profile_update = None
        extra = []
        if decision is not None and upgrade is not None:
            sale.tier_change = {
                "event_id": str(uuid.uuid4()), "from": tier.value, "to": upgrade.value,
                "spend_12m": str(stats.spend_12m(current_month)), "purchases_6m": stats.purchases_6m(current_month),
                "policy_version": policy.version, "actor": "purchase", "at": now.isoformat(),
                "store_id": str((snap.profile or {}).get("store_id", {}).get("S", "")),
                "manager_id": (snap.profile or {}).get("manager_id", {}).get("S"),
            }
            sale.event_pending = True
            keys = review_keys(p.brand_id, p.member_id,
                               start_of(decision.review_on, timezone) if decision.review_on else None)
            profile_update = (tier_actions(state, decision.after, keys, now, member=_roll_of(p, snap.profile)),
                              MemberItem.tier == tier.value)
            decision.explanation["transaction_id"] = p.transaction_id
            extra.append(decision_item(p.brand_id, p.member_id, decision, policy, now))
        stats.prune(local_day(now, timezone), limits.points_lifetime_months)
        self.ledger.commit(brand_id=p.brand_id, member_id=p.member_id, stats=stats, entries=entries,
                           profile_update=profile_update, extra_puts=extra)
        if upgrade is not None:
            self._publish_tier_change(sale, now)
        return Result(Outcome.APPLIED, tier_changed_to=upgrade.value if upgrade else None)

    def _settle_held_returns(self, p: Purchase, sale: LedgerEntry, held_refs: list[str], stats, now: datetime,
                             limits: PurchaseLimits) -> list[LedgerEntry]:
        """Returns that arrived before this sale: apply them now, or reject those whose hold
        window ran out. Same transaction as the sale: all or nothing."""
        settled = []
        held = {(e.store_id, e.transaction_id): e
                for e in self.ledger.entries(p.brand_id, [txn_key(r) for r in held_refs])}
        for ref in held_refs:
            entry = held.get(txn_key(ref))
            if entry is None or entry.status != Status.HELD:
                continue
            ret = entry.as_purchase()
            if entry.received_at and hold_expired(entry.received_at, now, limits):
                entry.status, entry.reason = Status.REJECTED, "the sale did not arrive within the hold window"
            else:
                record = sale.as_sale_record()
                try:
                    effect = apply_return(stats, ret, record)
                except ValidationFailed as exc:
                    entry.status, entry.reason = Status.REJECTED, exc.message
                else:
                    sale.credit_return(ret, effect.points_clawed, returned_lines_after(ret, record))
                    entry.status, entry.points, entry.month = Status.APPLIED, effect.points_clawed, effect.month
                    entry.applied_at, entry.reason = now, None
                    stats.remember(f"txn:{ref}")
            settled.append(entry)
        return settled

    def _apply_return(self, p: Purchase, snap: PurchaseSnapshot, existing: LedgerEntry | None,
                      received_at: datetime, now: datetime, limits: PurchaseLimits, timezone: str) -> Result:
        assert p.original_transaction_id
        sale = snap.entries[(original_store(p), p.original_transaction_id)]
        if sale is None or sale.status == Status.AWAITING:
            if hold_expired(received_at, now, limits):
                return self._reject(p, existing, received_at, now, "the sale did not arrive within the hold window")
            return self._hold(p, sale, existing, received_at, now)
        if sale.status != Status.APPLIED:
            return self._reject(p, existing, received_at, now, f"the original sale is {sale.status.value}")
        if sale.kind != Kind.SALE:
            return self._reject(p, existing, received_at, now, "the original transaction is not a sale")
        stats = snap.stats
        record = sale.as_sale_record()
        try:
            effect = apply_return(stats, p, record)
        except ValidationFailed as exc:
            return self._reject(p, existing, received_at, now, exc.message)
        sale.credit_return(p, effect.points_clawed, returned_lines_after(p, record))
        ret = entry_from_purchase(p, Status.APPLIED, received_at=received_at, applied_at=now, month=effect.month,
                                  points=effect.points_clawed)
        ret.revision = existing.revision if existing else 0
        stats.remember(f"txn:{_ref(p.store_id, p.transaction_id)}")
        stats.prune(local_day(now, timezone), limits.points_lifetime_months)
        self.ledger.commit(brand_id=p.brand_id, member_id=p.member_id, stats=stats, entries=[ret, sale],
                           profile_update=self._review_moved(p, snap, stats, now, timezone))
        return Result(Outcome.APPLIED)

    def _review_moved(self, p: Purchase, snap: PurchaseSnapshot, stats, now: datetime,
                      timezone: str) -> tuple[list[Action], Condition] | None:
        """A return lowers the figures, so a downgrade (or its warning) may come sooner: move
        the member's review date when it changes (one more item in the same transaction, only
        then). Never a tier change: returns cannot downgrade at once."""
        if not snap.profile:
            return None
        state = state_from_raw(snap.profile)
        if state.tier.value == "regular":
            return None
        policy = self._policy or tier_policy(p.brand_id, repo=self.tiers)
        day = next_review(policy, state, figures_of(stats),
                          local_day(now, timezone))
        keys = review_keys(p.brand_id, p.member_id, start_of(day, timezone) if day else None)
        current = snap.profile.get("review_sk", {}).get("S")
        if (keys[1] if keys else None) == current:
            return None
        return (tier_actions(state, state, keys, now, member=_roll_of(p, snap.profile)),
                MemberItem.tier == state.tier.value)

    def _hold(self, p: Purchase, sale: LedgerEntry | None, existing: LedgerEntry | None, received_at: datetime,
              now: datetime) -> Result:
        """Keep the return until its sale arrives: the held entry plus a placeholder under the
        sale's id listing it, both in one transaction."""
        assert p.original_transaction_id
        held = entry_from_purchase(p, Status.HELD, received_at=received_at,
                                   reason="waiting for the original sale")
        held.revision = existing.revision if existing else 0
        placeholder = sale or LedgerEntry(brand_id=p.brand_id, store_id=original_store(p),
                                          transaction_id=p.original_transaction_id, status=Status.AWAITING)
        ref = _ref(p.store_id, p.transaction_id)
        if ref not in placeholder.held_returns:
            placeholder.held_returns = [*placeholder.held_returns, ref]
        self.ledger.commit(brand_id=p.brand_id, entries=[held, placeholder])
        return Result(Outcome.HELD, "waiting for the original sale")

    def _publish_tier_change(self, entry: LedgerEntry, now: datetime) -> None:
        """After the sale's transaction: the dedicated manager (when the new tier has one), then
        the TierChanged event, then the pending flag is cleared. A crash anywhere here leaves
        the flag, and the redelivery finishes the job (the assignment is conditional on the
        member having no manager, so it happens once)."""
        change = entry.tier_change or {}
        if self.assign_managers and entry.member_id and change.get("to"):
            from .tiers import ensure_manager

            assigned = ensure_manager(entry.brand_id, entry.member_id, str(change.get("store_id") or entry.store_id),
                                      Tier(change["to"]), now=now, repo=self.tiers, directory=self.directory,
                                      notifier=self.notifier, current_manager=change.get("manager_id"))
            if assigned is not None and assigned.manager_id:
                change = {**change, "manager_id": assigned.manager_id}
        self.events.publish("TierChanged", {**change, "brand_id": entry.brand_id, "member_id": entry.member_id,
                                            "transaction_id": entry.transaction_id,
                                            "store_id": change.get("store_id") or entry.store_id})
        self.ledger.clear_event_pending(entry.brand_id, entry.store_id, entry.transaction_id)


def _roll_of(p: Purchase, profile: dict[str, Any] | None) -> tuple[str, str, str]:
    """(brand, member's store, member): where a tier change moves the member on the roll (the
    member's enrolment store, not the store of the sale)."""
    return p.brand_id, str((profile or {}).get("store_id", {}).get("S", "")), str(p.member_id)

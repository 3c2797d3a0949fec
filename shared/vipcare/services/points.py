"""A member's points: balance, what expires soon, recent movements, redemptions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..api.models.purchases import MovementKind, RedemptionIn
from ..domain.access import Caller
from ..domain.errors import Conflict, ValidationFailed
from ..domain.members import Member
from ..domain.months import month_of
from ..domain.purchases import Kind
from ..domain.rewards import Reward
from ..domain.stats import MemberStats
from ..domain.tiers import local_day
from ..store.ledger import Conflict as WriteConflict
from ..store.ledger import RedemptionItem, member_pk, redemption_sk, txn_key
from .brands import brand_settings
from .limits import purchase_limits
from .members import visible_member
from .ports import BrandSource, Ledger, MemberLookup, RewardBook

MAX_ATTEMPTS = 6


@dataclass
class Movement:
    at: datetime | None
    kind: MovementKind
    points: int
    reference: str


@dataclass
class PointsView:
    member_id: str
    balance: int
    expiring_30d: int
    lots: dict[str, int]
    recent: list[Movement]


def points_view(caller: Caller, member_id: str, *, now: datetime, members: MemberLookup, ledger: Ledger,
                directory: BrandSource) -> PointsView:
    visible_member(caller, member_id, members=members)  # scope: 404 outside the caller's brand or store
    stats = ledger.stats(caller.brand_id, member_id)
    timezone = brand_settings(caller.brand_id, directory).timezone
    lifetime = purchase_limits(caller.brand_id, directory).points_lifetime_months
    month = month_of(now, timezone)
    stats.points.drop_expired(month, lifetime)
    soon = month_of(now + timedelta(days=30), timezone)
    return PointsView(
        member_id=member_id,
        balance=stats.points.balance(month, lifetime),
        expiring_30d=stats.points.expiring_by(soon, month, lifetime),
        lots=dict(sorted(stats.points.lots.items())),
        recent=_movements(caller.brand_id, member_id, stats, ledger),
    )


def _movements(brand_id: str, member_id: str, stats: MemberStats, ledger: Ledger) -> list[Movement]:
    txn_refs = [r.removeprefix("txn:") for r in stats.recent if r.startswith("txn:")]
    redeem_ids = [r.removeprefix("redeem:") for r in stats.recent if r.startswith("redeem:")]
    by_ref: dict[str, Movement] = {}
    for e in ledger.entries(brand_id, [txn_key(r) for r in txn_refs]):
        sign = 1 if e.kind == Kind.SALE else -1
        kind: MovementKind = "return" if e.kind == Kind.RETURN else "sale"
        by_ref[f"txn:{e.store_id}#{e.transaction_id}"] = Movement(
            e.occurred_at, kind, sign * int(e.points or 0), f"{e.store_id}/{e.transaction_id}")
    for r in ledger.redemptions(brand_id, member_id, redeem_ids):
        by_ref[f"redeem:{r.redemption_id}"] = Movement(r.redeemed_at, "redemption", -int(r.points), r.redemption_id)
    return [by_ref[r] for r in stats.recent if r in by_ref]


@dataclass
class Redemption:
    member_id: str
    redemption_id: str
    points: int
    balance: int
    redeemed_at: datetime
    reward_id: str | None = None


def redeem(caller: Caller, member_id: str, request: RedemptionIn, *, now: datetime, members: MemberLookup,
           ledger: Ledger, directory: BrandSource, rewards: RewardBook) -> Redemption:
    """Spend points oldest first, on a reward of the catalogue or a bare amount. The redemption
    id makes it happen once: a repeat returns the first result; the same id with another body
    is a 409. A reward's stock is taken in the points' own transaction: out of stock 409
    `out_of_stock`, below its lowest tier 409 `not_entitled`."""
    member = visible_member(caller, member_id, members=members)
    timezone = brand_settings(caller.brand_id, directory).timezone
    lifetime = purchase_limits(caller.brand_id, directory).points_lifetime_months
    month = month_of(now, timezone)
    fingerprint = f"reward:{request.reward_id}" if request.reward_id else f"{request.points}|{request.reason}"
    for _ in range(MAX_ATTEMPTS):
        previous = ledger.redemptions(caller.brand_id, member_id, [request.redemption_id])
        stats = ledger.stats(caller.brand_id, member_id)
        if previous:
            done = previous[0]
            if done.fingerprint != fingerprint:
                raise Conflict("this redemption_id was already used for another redemption",
                               field="redemption_id", code="redemption_id_reused")
            return Redemption(member_id, done.redemption_id, int(done.points), stats.points.balance(month, lifetime),
                              done.redeemed_at, done.reward_id)
        reward = _reward(caller, request.reward_id, member, rewards) if request.reward_id else None
        spend = reward.points if reward else int(request.points or 0)
        reason = f"reward {reward.reward_id}: {reward.name}" if reward else str(request.reason)
        if not stats.points.spend(spend, month, lifetime):
            raise Conflict(f"insufficient points: balance {stats.points.balance(month, lifetime)}",
                           field="points", code="insufficient_points")
        stats.remember(f"redeem:{request.redemption_id}")
        stats.prune(local_day(now, timezone), lifetime)
        item = RedemptionItem(member_pk(caller.brand_id, member_id), redemption_sk(request.redemption_id),
                              redemption_id=request.redemption_id, reward_id=request.reward_id, points=spend,
                              reason=reason, redeemed_at=now, by=caller.staff_id, fingerprint=fingerprint)
        stock = rewards.take_one(reward) if reward else None
        try:
            ledger.commit(brand_id=caller.brand_id, member_id=member_id, stats=stats, entries=[], redemption=item,
                          extra_updates=[stock] if stock else None)
        except WriteConflict:
            continue  # a concurrent purchase, the same redemption or the last of the stock won: decide again
        return Redemption(member_id, request.redemption_id, spend, stats.points.balance(month, lifetime), now,
                          request.reward_id)
    raise Conflict("the member's points are changing too fast; retry", code="busy")


def _reward(caller: Caller, reward_id: str, member: Member, rewards: RewardBook) -> Reward:
    """The reward as it stands now (read again on every attempt: the stock may just have gone)."""
    reward = rewards.get(caller.brand_id, reward_id)
    if reward is None:
        raise ValidationFailed(f"the brand has no reward {reward_id!r}", field="reward_id")
    if not reward.active:
        raise Conflict(f"{reward.name} is not offered any more", field="reward_id", code="not_available")
    if not reward.open_to(member.tier):
        raise Conflict(f"{reward.name} is for {reward.min_tier} members and above", field="reward_id",
                       code="not_entitled")
    if not reward.in_stock():
        raise Conflict(f"{reward.name} is out of stock", field="reward_id", code="out_of_stock")
    return reward

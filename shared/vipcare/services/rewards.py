"""The rewards catalogue (docs/benefits.md "Rewards"): the admin sets what points buy; staff
see what a member can take. Redeeming one is services/points.redeem."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ..domain.access import Caller, Role, require_role
from ..domain.errors import NotFound
from ..domain.months import month_of
from ..domain.rewards import Reward, RewardKind
from ..store.paging import Page
from .brands import brand_settings
from .limits import purchase_limits
from .members import visible_member
from .ports import BrandSource, MemberFigures, MemberLookup, RewardBook

if TYPE_CHECKING:
    from ..api.models.benefits import RewardIn


def put_reward(caller: Caller, brand_id: str, reward_id: str, request: RewardIn, *, now: datetime,
               rewards: RewardBook) -> Reward:
    """Create or replace one reward (admin of the brand). Taking a reward off the shelf is
    `active: false`; its past redemptions keep their points."""
    if brand_id != caller.brand_id:
        raise NotFound("brand not found")
    require_role(caller, Role.ADMIN)
    reward = Reward(brand_id, reward_id, request.name, RewardKind(request.kind), request.points, request.active, now,
                    caller.source, stock=request.stock, min_tier=request.min_tier)
    rewards.put(reward)
    return reward


@dataclass(frozen=True)
class Offer:
    reward: Reward
    affordable: bool | None  # None: no member asked about


def catalogue(caller: Caller, *, member_id: str | None, now: datetime, members: MemberLookup,
              ledger: MemberFigures, directory: BrandSource, rewards: RewardBook, limit: int = 50,
              after: str | None = None) -> Page[Offer]:
    """A page of the brand's active rewards in stock, by id; with a member, only those their
    tier reaches, each saying whether their points cover it now."""
    if member_id is None:
        page = rewards.page(caller.brand_id, limit=limit, after=after, keep=lambda r: r.active and r.in_stock())
        return Page([Offer(r, None) for r in page.items], page.next)
    member = visible_member(caller, member_id, members=members)
    month = month_of(now, brand_settings(caller.brand_id, directory).timezone)
    balance = ledger.stats(caller.brand_id, member_id).points.balance(
        month, purchase_limits(caller.brand_id, directory).points_lifetime_months)
    page = rewards.page(caller.brand_id, limit=limit, after=after,
                        keep=lambda r: r.active and r.in_stock() and r.open_to(member.tier))
    return Page([Offer(r, balance >= r.points) for r in page.items], page.next)

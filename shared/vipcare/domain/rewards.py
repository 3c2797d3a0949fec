"""The rewards catalogue (docs/benefits.md "Rewards"): what points buy. Pure rules.

A reward has a points price, an optional stock (none: unlimited), an optional lowest tier and
an active flag. A member may take it when it is active, in stock and their tier reaches it;
whether they can afford it is their points balance's matter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .members import Tier
from .tiers import rank_of


class RewardKind(StrEnum):
    GIFT = "gift"
    COUPON = "coupon"
    SERVICE = "service"


@dataclass(frozen=True)
class Reward:
    brand_id: str
    reward_id: str
    name: str
    kind: RewardKind
    points: int
    active: bool
    updated_at: datetime
    updated_by: str
    stock: int | None = None  # None: unlimited
    min_tier: Tier | None = None

    def in_stock(self) -> bool:
        return self.stock is None or self.stock > 0

    def open_to(self, tier: Tier) -> bool:
        return self.min_tier is None or rank_of(tier.value) >= rank_of(self.min_tier.value)

    def takeable_by(self, tier: Tier) -> bool:
        return self.active and self.in_stock() and self.open_to(tier)

"""Tiers (DOMAIN.md §2): the ladder, the default policy and what a purchase may do.

Upgrades happen at once when a purchase crosses a threshold; downgrades only in the
scheduled evaluation (the tier issue). The policy is data; these are the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from .members import Tier

LADDER: tuple[Tier, ...] = (Tier.REGULAR, Tier.SILVER, Tier.GOLD, Tier.DIAMOND)


class Combinator(StrEnum):
    ANY = "any"
    ALL = "all"


@dataclass(frozen=True)
class TierRule:
    tier: Tier
    spend_12m: Decimal  # upgrade threshold on net spend over 12 months
    purchases_6m: int  # upgrade threshold on purchases over 6 months
    points_multiplier: Decimal


@dataclass(frozen=True)
class TierPolicy:
    version: int
    combinator: Combinator
    rules: tuple[TierRule, ...]  # regular first, in ladder order

    def rule(self, tier: Tier) -> TierRule:
        return next(r for r in self.rules if r.tier == tier)

    def multiplier(self, tier: Tier) -> Decimal:
        return self.rule(tier).points_multiplier


DEFAULT_POLICY = TierPolicy(
    version=1,
    combinator=Combinator.ANY,
    rules=(
        TierRule(Tier.REGULAR, Decimal("0"), 0, Decimal("1.0")),
        TierRule(Tier.SILVER, Decimal("5000"), 6, Decimal("1.2")),
        TierRule(Tier.GOLD, Decimal("20000"), 12, Decimal("1.5")),
        TierRule(Tier.DIAMOND, Decimal("50000"), 24, Decimal("2.0")),
    ),
)


def rank(tier: Tier) -> int:
    return LADDER.index(tier)


def qualifying_tier(policy: TierPolicy, spend_12m: Decimal, purchases_6m: int) -> Tier:
    """The highest tier whose upgrade thresholds the figures meet."""
    best = Tier.REGULAR
    for rule in policy.rules[1:]:
        checks = (spend_12m >= rule.spend_12m, purchases_6m >= rule.purchases_6m)
        met = any(checks) if policy.combinator == Combinator.ANY else all(checks)
        if met:
            best = rule.tier
    return best


def upgrade_on_purchase(current: Tier, qualifying: Tier) -> Tier | None:
    """A purchase may only raise the tier; None when nothing changes."""
    return qualifying if rank(qualifying) > rank(current) else None

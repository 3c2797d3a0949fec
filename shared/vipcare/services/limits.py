"""Purchase limits and tier policy for a brand: brand settings first, deployment defaults after."""

from __future__ import annotations

import time
from decimal import Decimal

from ..config import settings
from ..domain.purchases import PurchaseLimits
from ..domain.tiers import DEFAULT_POLICY, TierPolicy
from .brands import brand_settings
from .ports import BrandSource, PolicySource


def purchase_limits(brand_id: str, directory: BrandSource) -> PurchaseLimits:
    cfg = settings()
    return PurchaseLimits(
        max_amount=Decimal(cfg.max_purchase_amount),
        backdating_days=cfg.backdating_days,
        hold_days=cfg.return_hold_days,
        points_lifetime_months=cfg.points_lifetime_months,
        currency=brand_settings(brand_id, directory).currency,
    )


_POLICY_TTL_SECONDS = 60.0
_policies: dict[str, tuple[float, TierPolicy]] = {}


def tier_policy(brand_id: str, *, repo: PolicySource, cached: bool = True) -> TierPolicy:
    """The brand's current tier policy document (the defaults, version 1, until an admin
    stores one), cached briefly per process like the brand settings."""
    hit = _policies.get(brand_id)
    if cached and hit and hit[0] > time.monotonic():
        return hit[1]
    found = repo.current_policy(brand_id) or DEFAULT_POLICY
    _policies[brand_id] = (time.monotonic() + _POLICY_TTL_SECONDS, found)
    return found


def forget_cached_policies() -> None:
    _policies.clear()

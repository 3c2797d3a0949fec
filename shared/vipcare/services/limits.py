"""Purchase limits and tier policy for a brand: brand settings first, deployment defaults after."""

from __future__ import annotations

from decimal import Decimal

from ..config import settings
from ..domain.purchases import PurchaseLimits
from ..domain.tiers import DEFAULT_POLICY, TierPolicy
from .brands import brand_settings


def purchase_limits(brand_id: str) -> PurchaseLimits:
    cfg = settings()
    return PurchaseLimits(
        max_amount=Decimal(cfg.max_purchase_amount),
        backdating_days=cfg.backdating_days,
        hold_days=cfg.return_hold_days,
        points_lifetime_months=cfg.points_lifetime_months,
        currency=brand_settings(brand_id).currency,
    )


def tier_policy(brand_id: str) -> TierPolicy:
    """The brand's tier policy (per-brand versioned documents arrive with the tier issue)."""
    return DEFAULT_POLICY

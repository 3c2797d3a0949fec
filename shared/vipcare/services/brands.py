"""Brand settings with the deployment's defaults as fallback, cached briefly per process."""

from __future__ import annotations

import time

from ..config import settings
from ..domain.directory import BrandSettings
from .ports import BrandSource

_TTL_SECONDS = 60.0
_cache: dict[str, tuple[float, BrandSettings]] = {}


def brand_settings(brand_id: str, directory: BrandSource) -> BrandSettings:
    hit = _cache.get(brand_id)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    found = directory.brand(brand_id)
    if found is None:
        cfg = settings()
        found = BrandSettings(
            brand_id=brand_id,
            name=brand_id,
            phone_region=cfg.default_phone_region,
            timezone=cfg.default_timezone,
            currency=cfg.default_currency,
        )
    _cache[brand_id] = (time.monotonic() + _TTL_SECONDS, found)
    return found


def forget_cached_brands() -> None:
    """For tests and the local stack after reseeding (tier policies and benefits too)."""
    _cache.clear()
    from .benefits import forget_cached_benefits
    from .limits import forget_cached_policies

    forget_cached_policies()
    forget_cached_benefits()

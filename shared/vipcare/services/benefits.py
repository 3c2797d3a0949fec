"""Tier benefits at the till (docs/benefits.md): the brand's benefits document, what a member
has now, and using an allowance or the birthday gift once per use id."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from ..domain import benefits as rules
from ..domain.access import Caller, Role, ensure_visible, require_role
from ..domain.benefits import BenefitKind, Catalogue, Entitlements
from ..domain.errors import Conflict, NotFound, ValidationFailed
from ..domain.tiers import local_day
from ..store.benefits import BenefitUse, Holder, QuotaExhausted
from ..store.models import Taken
from .brands import brand_settings
from .figures import with_figures
from .ports import BenefitStore, BrandSource

if TYPE_CHECKING:
    from ..api.models.benefits import BenefitsIn, BenefitUseIn


_TTL_SECONDS = 60.0
_cache: dict[str, tuple[float, Catalogue]] = {}


def catalogue(brand_id: str, store: BenefitStore, *, cached: bool = True) -> Catalogue:
    """The brand's current benefits, cached a minute per process (a till reads them on every
    member it serves; a change reaches every container within the minute)."""
    hit = _cache.get(brand_id)
    if cached and hit and hit[0] > time.monotonic():
        return hit[1]
    found = store.current(brand_id)
    _cache[brand_id] = (time.monotonic() + _TTL_SECONDS, found)
    return found


def forget_cached_benefits() -> None:
    _cache.clear()


# ---- the document ---------------------------------------------------------------------------


def _own_brand(caller: Caller, brand_id: str) -> None:
    if brand_id != caller.brand_id:
        raise NotFound("brand not found")


def get_benefits(caller: Caller, brand_id: str, *, store: BenefitStore) -> Catalogue:
    _own_brand(caller, brand_id)
    return catalogue(brand_id, store, cached=False)


def put_benefits(caller: Caller, brand_id: str, request: BenefitsIn, *, now: datetime,
                 store: BenefitStore) -> Catalogue:
    """Validate, then store as the next version (old versions stay readable)."""
    _own_brand(caller, brand_id)
    require_role(caller, Role.ADMIN)
    benefits = [rules.benefit_from_document(b.model_dump(mode="json"), i) for i, b in enumerate(request.benefits)]
    rules.validate(benefits)
    current = catalogue(brand_id, store, cached=False)
    stored = Catalogue(brand_id, current.version + 1, tuple(benefits), now, caller.source)
    try:
        store.add(stored)
    except Taken:
        raise Conflict("the benefits were changed meanwhile; read them again", field="version") from None
    _cache.pop(brand_id, None)
    return stored


# ---- a member at the till ---------------------------------------------------------------------


@dataclass(frozen=True)
class MemberBenefits:
    member_id: str
    points_balance: int
    entitlements: Entitlements


def _holder(caller: Caller, member_id: str, store: BenefitStore) -> Holder:
    holder = store.holder(caller.brand_id, member_id)
    if holder is None:
        raise NotFound("member not found")
    ensure_visible(caller, brand_id=holder.member.brand_id, store_id=holder.member.store_id, what="member")
    return holder


def _today(brand_id: str, now: datetime, directory: BrandSource) -> date:
    return local_day(now, brand_settings(brand_id, directory).timezone)


def member_benefits(caller: Caller, member_id: str, *, now: datetime, store: BenefitStore,
                    directory: BrandSource) -> MemberBenefits:
    """Two reads once the document is cached: the card with its figures, and the uses."""
    holder = _holder(caller, member_id, store)
    member = with_figures(holder.member, holder.stats, now, directory)
    today = _today(caller.brand_id, now, directory)
    found = rules.entitlements(catalogue(caller.brand_id, store), member.tier, today, tier_since=holder.tier_since,
                               birthday=member.birthday, used=store.used(caller.brand_id, member_id))
    return MemberBenefits(member_id, member.points_balance, found)


def use_benefit(caller: Caller, member_id: str, request: BenefitUseIn, *, now: datetime, store: BenefitStore,
                directory: BrandSource) -> BenefitUse:
    """Count one use. The same use id again answers the first result; with another body 409
    `use_id_reused`. Past the quota 409 `quota_exhausted`; a benefit the tier lacks 409
    `not_entitled`; a birthday gift outside the birthday month 409 `not_available`."""
    fingerprint = f"{request.benefit_id}|{request.store_id}|{request.quantity}|{request.note or ''}"
    previous = store.use_of(caller.brand_id, member_id, request.use_id)
    if previous is not None:
        return _same(previous, fingerprint)
    holder = _holder(caller, member_id, store)
    benefit = catalogue(caller.brand_id, store).benefit(request.benefit_id)
    if benefit is None:
        raise ValidationFailed(f"the brand has no benefit {request.benefit_id!r}", field="benefit_id")
    if benefit.kind not in rules.COUNTED:
        raise ValidationFailed(f"a {benefit.kind.value} is not used by count", field="benefit_id")
    tier = holder.member.tier
    quota = benefit.quota(tier)
    if quota is None:
        raise Conflict(f"the {tier.value} tier has no {benefit.name}", field="benefit_id", code="not_entitled")
    today = _today(caller.brand_id, now, directory)
    if benefit.kind is BenefitKind.BIRTHDAY_GIFT and (holder.member.birthday is None
                                                       or holder.member.birthday.month != today.month):
        raise Conflict("the birthday gift is given in the member's birthday month", field="benefit_id",
                       code="not_available")
    window = rules.window(benefit.period, today, tier_since=holder.tier_since)
    used = store.used(caller.brand_id, member_id).get((benefit.benefit_id, window.label), 0)
    if used + request.quantity > quota:
        raise _exhausted(quota, used)
    use = BenefitUse(caller.brand_id, member_id, request.use_id, benefit.benefit_id, request.store_id,
                     request.quantity, window.label, window.ends, quota - used - request.quantity, now,
                     caller.staff_id, fingerprint, request.note)
    try:
        store.record_use(use, quota=quota)
    except Taken:  # the same use id, concurrently
        previous = store.use_of(caller.brand_id, member_id, request.use_id)
        assert previous is not None
        return _same(previous, fingerprint)
    except QuotaExhausted:  # a concurrent use took the room
        raise _exhausted(quota, store.used(caller.brand_id, member_id).get((benefit.benefit_id, window.label),
                                                                           quota)) from None
    return use


def _same(previous: BenefitUse, fingerprint: str) -> BenefitUse:
    if previous.fingerprint != fingerprint:
        raise Conflict("this use_id was already used for another use", field="use_id", code="use_id_reused")
    return previous


def _exhausted(quota: int, used: int) -> Conflict:
    return Conflict(f"no uses left this period: {used} of {quota} used", field="quantity", code="quota_exhausted")

"""Tiers (docs/domain.md §2): the ladder, the policy document and the decision rules.

Upgrades happen at once when a purchase crosses a threshold (and in the scheduled
evaluation); downgrades only in the scheduled evaluation, one step at a time, after the
tier's validity ended and the member is below the keep threshold, with a warning
`warning_days` before. The policy is data (one versioned document per brand); these are the
defaults. Every function here is pure: `now` and the figures are passed in.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal
from zoneinfo import ZoneInfo

from .cadence import DEFAULT_CADENCE, Cadence
from .cadence import from_document as cadence_from_document
from .cadence import validate as validate_cadence
from .errors import ValidationFailed
from .members import Tier
from .months import month_of_day, shift, window
from .stats import MemberStats

LADDER: tuple[Tier, ...] = (Tier.REGULAR, Tier.SILVER, Tier.GOLD, Tier.DIAMOND)  # the one ladder
TIER_IDS: tuple[str, ...] = tuple(t.value for t in LADDER)


def rank_of(tier_id: str) -> int:
    """A tier id's place on the ladder (regular 0 ... diamond 3); -1 for an unknown id."""
    return TIER_IDS.index(tier_id) if tier_id in TIER_IDS else -1
SPEND_WINDOW_MONTHS = 12
PURCHASE_WINDOW_MONTHS = 6


class Combinator(StrEnum):
    ANY = "any"
    ALL = "all"


class Outcome(StrEnum):
    UPGRADE = "upgrade"
    KEEP = "keep"
    WARN = "warn"
    DOWNGRADE = "downgrade"
    FLOOR = "floor"  # a manual tier was approved (or expired)


KEEP_SHARE = Decimal("0.8")


@dataclass(frozen=True)
class TierRule:
    tier: Tier
    spend_12m: Decimal  # upgrade threshold on net spend over 12 months
    purchases_6m: int  # upgrade threshold on purchases over 6 months
    points_multiplier: Decimal
    keep_spend_12m: Decimal | None = None  # None: KEEP_SHARE of the upgrade threshold
    keep_purchases_6m: int | None = None
    dedicated_manager: bool = False
    cadence: Cadence = ()  # contacts the manager owes per period (domain/cadence.py)

    @property
    def keep_spend(self) -> Decimal:
        return self.keep_spend_12m if self.keep_spend_12m is not None else (self.spend_12m * KEEP_SHARE)

    @property
    def keep_purchases(self) -> int:
        if self.keep_purchases_6m is not None:
            return self.keep_purchases_6m
        return int((self.purchases_6m * KEEP_SHARE).to_integral_value(rounding="ROUND_CEILING"))


@dataclass(frozen=True)
class TierPolicy:
    version: int
    combinator: Combinator
    rules: tuple[TierRule, ...]  # regular first, in ladder order
    validity_months: int = 12
    warning_days: int = 30
    max_return_rate: Decimal | None = None  # returns / sales over 12 months above this block upgrades
    referral_credit: Decimal = Decimal("0")  # qualifying spend credited per successful referral
    manual_tier_months: int = 12  # default expiry of an approved manual tier
    created_at: datetime | None = None
    created_by: str | None = None

    def rule(self, tier: Tier) -> TierRule:
        return next(r for r in self.rules if r.tier == tier)

    def cadence(self, tier: str) -> Cadence:
        """The contacts a member of `tier` is owed per period (none for an unknown tier)."""
        return next((r.cadence for r in self.rules if r.tier.value == tier), ())

    def multiplier(self, tier: Tier) -> Decimal:
        return self.rule(tier).points_multiplier

    def as_document(self) -> dict[str, Any]:
        return {
            "version": self.version, "combinator": self.combinator.value,
            "validity_months": self.validity_months, "warning_days": self.warning_days,
            "max_return_rate": str(self.max_return_rate) if self.max_return_rate is not None else None,
            "referral_credit": str(self.referral_credit), "manual_tier_months": self.manual_tier_months,
            "created_at": self.created_at.isoformat() if self.created_at else None, "created_by": self.created_by,
            "tiers": [{"tier": r.tier.value, "upgrade_spend_12m": str(r.spend_12m),
                       "upgrade_purchases_6m": r.purchases_6m, "keep_spend_12m": str(r.keep_spend),
                       "keep_purchases_6m": r.keep_purchases, "points_multiplier": str(r.points_multiplier),
                       "dedicated_manager": r.dedicated_manager,
                       "cadence": [c.as_document() for c in r.cadence]}
                      for r in self.rules],
        }


def policy_from_document(doc: dict[str, Any]) -> TierPolicy:
    """The inverse of `as_document` (stored documents are validated before they are stored)."""
    rules = tuple(TierRule(
        tier=Tier(t["tier"]), spend_12m=Decimal(str(t["upgrade_spend_12m"])),
        purchases_6m=int(t["upgrade_purchases_6m"]), points_multiplier=Decimal(str(t["points_multiplier"])),
        keep_spend_12m=Decimal(str(t["keep_spend_12m"])), keep_purchases_6m=int(t["keep_purchases_6m"]),
        dedicated_manager=bool(t.get("dedicated_manager")),
        # versions stored before the per-channel cadence (they had `contact_every_days`, never
        # read) get the defaults, which is what the reminder flows applied to them
        cadence=cadence_from_document(t["tier"], t.get("cadence")),
    ) for t in doc["tiers"])
    rate = doc.get("max_return_rate")
    created = doc.get("created_at")
    return TierPolicy(version=int(doc["version"]), combinator=Combinator(doc["combinator"]), rules=rules,
                      validity_months=int(doc["validity_months"]), warning_days=int(doc["warning_days"]),
                      max_return_rate=Decimal(str(rate)) if rate is not None else None,
                      referral_credit=Decimal(str(doc.get("referral_credit") or "0")),
                      manual_tier_months=int(doc.get("manual_tier_months") or 12),
                      created_at=datetime.fromisoformat(created) if created else None,
                      created_by=doc.get("created_by"))


DEFAULT_POLICY = TierPolicy(
    version=1,
    combinator=Combinator.ANY,
    rules=(
        TierRule(Tier.REGULAR, Decimal("0"), 0, Decimal("1.0")),
        TierRule(Tier.SILVER, Decimal("5000"), 6, Decimal("1.2"), cadence=DEFAULT_CADENCE["silver"]),
        TierRule(Tier.GOLD, Decimal("20000"), 12, Decimal("1.5"), dedicated_manager=True,
                 cadence=DEFAULT_CADENCE["gold"]),
        TierRule(Tier.DIAMOND, Decimal("50000"), 24, Decimal("2.0"), dedicated_manager=True,
                 cadence=DEFAULT_CADENCE["diamond"]),
    ),
)


def validate_policy(policy: TierPolicy) -> None:
    """Raise ValidationFailed naming the field at fault: tiers are the ladder in order,
    thresholds increase with the tier, keep <= upgrade, nothing negative."""
    tiers = [r.tier for r in policy.rules]
    if tiers != list(LADDER):
        raise ValidationFailed(f"tiers must be exactly {', '.join(t.value for t in LADDER)} in this order",
                               field="tiers")
    if policy.validity_months < 1 or policy.validity_months > 36:
        raise ValidationFailed("must be between 1 and 36", field="validity_months")
    if policy.warning_days < 0 or policy.warning_days > 180:
        raise ValidationFailed("must be between 0 and 180", field="warning_days")
    if policy.max_return_rate is not None and not Decimal(0) <= policy.max_return_rate <= Decimal(1):
        raise ValidationFailed("must be between 0 and 1", field="max_return_rate")
    if policy.referral_credit < 0:
        raise ValidationFailed("must not be negative", field="referral_credit")
    previous: TierRule | None = None
    for i, r in enumerate(policy.rules):
        where = f"tiers.{i}"
        for name, value in (("upgrade_spend_12m", r.spend_12m), ("upgrade_purchases_6m", r.purchases_6m),
                            ("keep_spend_12m", r.keep_spend), ("keep_purchases_6m", r.keep_purchases),
                            ("points_multiplier", r.points_multiplier)):
            if value < 0:
                raise ValidationFailed("must not be negative", field=f"{where}.{name}")
        validate_cadence(r.tier.value, r.cadence, where)
        if r.keep_spend > r.spend_12m:
            raise ValidationFailed("must not exceed upgrade_spend_12m", field=f"{where}.keep_spend_12m")
        if r.keep_purchases > r.purchases_6m:
            raise ValidationFailed("must not exceed upgrade_purchases_6m", field=f"{where}.keep_purchases_6m")
        if previous is not None and r.tier != Tier.REGULAR:
            if r.spend_12m <= previous.spend_12m:
                raise ValidationFailed(f"must be above {previous.tier.value}'s ({previous.spend_12m})",
                                       field=f"{where}.upgrade_spend_12m")
            if r.purchases_6m <= previous.purchases_6m:
                raise ValidationFailed(f"must be above {previous.tier.value}'s ({previous.purchases_6m})",
                                       field=f"{where}.upgrade_purchases_6m")
        previous = r


def rank(tier: Tier) -> int:
    return LADDER.index(tier)


def step_down(tier: Tier) -> Tier:
    return LADDER[max(0, rank(tier) - 1)]


def _meets(policy: TierPolicy, spend: Decimal, count: int, spend_min: Decimal, count_min: int) -> bool:
    checks = (spend >= spend_min, count >= count_min)
    return any(checks) if policy.combinator == Combinator.ANY else all(checks)


def qualifying_tier(policy: TierPolicy, spend_12m: Decimal, purchases_6m: int) -> Tier:
    """The highest tier whose upgrade thresholds the figures meet."""
    best = Tier.REGULAR
    for rule in policy.rules[1:]:
        if _meets(policy, spend_12m, purchases_6m, rule.spend_12m, rule.purchases_6m):
            best = rule.tier
    return best


def keeps(policy: TierPolicy, tier: Tier, spend_12m: Decimal, purchases_6m: int) -> bool:
    rule = policy.rule(tier)
    return tier == Tier.REGULAR or _meets(policy, spend_12m, purchases_6m, rule.keep_spend, rule.keep_purchases)


def upgrade_on_purchase(current: Tier, qualifying: Tier) -> Tier | None:
    """A purchase may only raise the tier; None when nothing changes."""
    return qualifying if rank(qualifying) > rank(current) else None


# ---- dates ------------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def local_day(moment: datetime, timezone: str) -> date:
    return moment.astimezone(ZoneInfo(timezone)).date()


def start_of(day: date, timezone: str) -> datetime:
    """The first moment of a brand-local day (review keys are instants)."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone))


def _first_of(month: str) -> date:
    return date(int(month[:4]), int(month[5:7]), 1)


# ---- the figures a decision reads ---------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """What the member did, per business month: net spend, purchases, amounts returned (by the
    sale's month) and referrals (by the referred member's enrolment month). Build it with
    `figures_of(stats)`."""

    spend: dict[str, Decimal] = field(default_factory=dict)
    purchases: dict[str, int] = field(default_factory=dict)
    returned: dict[str, Decimal] = field(default_factory=dict)  # for the optional return-rate block
    referrals: dict[str, int] = field(default_factory=dict)

    def spend_12m(self, month: str, credit: Decimal = Decimal(0)) -> Decimal:
        """Net spend over the window, plus `credit` per referral made in the same window."""
        total = sum((self.spend.get(m, Decimal(0)) for m in window(month, SPEND_WINDOW_MONTHS)), Decimal(0))
        return total + credit * self.referrals_12m(month)

    def returned_12m(self, month: str) -> Decimal:
        return sum((self.returned.get(m, Decimal(0)) for m in window(month, SPEND_WINDOW_MONTHS)), Decimal(0))

    def referrals_12m(self, month: str) -> int:
        return sum(self.referrals.get(m, 0) for m in window(month, SPEND_WINDOW_MONTHS))

    def purchases_6m(self, month: str) -> int:
        return sum(self.purchases.get(m, 0) for m in window(month, PURCHASE_WINDOW_MONTHS))


@dataclass(frozen=True)
class TierState:
    """What the member's card holds about the tier."""

    tier: Tier
    since: date | None = None
    valid_until: date | None = None  # validity end (first day a downgrade may take effect)
    floor: Tier | None = None  # an approved manual tier ...
    floor_until: date | None = None  # ... until this day (exclusive)
    warned_for: date | None = None  # the downgrade date a warning was already given for

    def active_floor(self, today: date) -> Tier:
        if self.floor is not None and self.floor_until is not None and today < self.floor_until:
            return self.floor
        return Tier.REGULAR


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    before: TierState
    after: TierState
    review_on: date | None  # next review (None: nothing can change without a purchase)
    explanation: dict[str, Any]

    @property
    def changes_tier(self) -> bool:
        return self.after.tier != self.before.tier


def figures_of(stats: MemberStats) -> Figures:
    """The one mapping from a member's running figures to what a decision reads."""
    return Figures(spend=dict(stats.spend), purchases=dict(stats.purchases), returned=dict(stats.returned),
                   referrals=stats.referrals_by_month())


def return_rate(figures: Figures, month: str) -> Decimal:
    """Returned / sold over the spend window (sold = net spend + returned), 0 with no sales."""
    returned = figures.returned_12m(month)
    sales = figures.spend_12m(month) + returned
    return (returned / sales).quantize(Decimal("0.0001")) if sales > 0 else Decimal(0)


def _upgrade_blocked(policy: TierPolicy, figures: Figures, month: str) -> bool:
    return policy.max_return_rate is not None and return_rate(figures, month) > policy.max_return_rate


def downgrade_date(policy: TierPolicy, state: TierState, figures: Figures, today: date) -> date | None:
    """The first day on which, with no new purchase, the member could drop a tier: on or
    after the validity end, the first month start where the figures fall below keep.
    None for a regular member or one held by a manual floor for good."""
    if state.tier == Tier.REGULAR:
        return None
    start = max(today, state.valid_until or today)
    floor_until = state.floor_until if state.floor is not None and state.floor == state.tier else None
    if floor_until is not None and floor_until > start:
        start = floor_until
    month = month_of_day(start)
    for k in range(0, SPEND_WINDOW_MONTHS + 2):
        m = shift(month, k)
        day = start if k == 0 else _first_of(m)
        if not keeps(policy, state.tier, figures.spend_12m(m, policy.referral_credit), figures.purchases_6m(m)):
            return day
    return None


def explain(policy: TierPolicy, state: TierState, figures: Figures, today: date, actor: str) -> dict[str, Any]:
    month = month_of_day(today)
    spend = figures.spend_12m(month, policy.referral_credit)
    count = figures.purchases_6m(month)
    rule = policy.rule(state.tier)
    return {
        "actor": actor, "policy_version": policy.version, "combinator": policy.combinator.value,
        "on": today.isoformat(),
        "window": {"spend_months": [window(month, SPEND_WINDOW_MONTHS)[0], month],
                   "purchase_months": [window(month, PURCHASE_WINDOW_MONTHS)[0], month]},
        "inputs": {"spend_12m": str(spend), "purchases_6m": count, "referrals_12m": figures.referrals_12m(month),
                   "referral_credit": str(policy.referral_credit), "returned_12m": str(figures.returned_12m(month))},
        "thresholds": {"tier": state.tier.value, "keep_spend_12m": str(rule.keep_spend),
                       "keep_purchases_6m": rule.keep_purchases},
        "valid_until": state.valid_until.isoformat() if state.valid_until else None,
        "floor": state.floor.value if state.floor else None,
        "floor_until": state.floor_until.isoformat() if state.floor_until else None,
    }


def evaluate(policy: TierPolicy, state: TierState, figures: Figures, today: date, *,
             actor: str = "schedule") -> Decision:
    """The scheduled evaluation of one member on a brand-local day."""
    month = month_of_day(today)
    spend = figures.spend_12m(month, policy.referral_credit)
    count = figures.purchases_6m(month)
    floor = state.active_floor(today)
    base = explain(policy, state, figures, today, actor)

    qualifying = qualifying_tier(policy, spend, count)
    blocked = _upgrade_blocked(policy, figures, month)
    if blocked and rank(qualifying) > rank(state.tier):
        base["upgrade_blocked"] = (f"{qualifying.value} reached, but the 12-month return rate "
                                   f"{return_rate(figures, month)} is above the limit {policy.max_return_rate}")
    if rank(qualifying) > rank(state.tier) and not blocked:
        after = renewed(policy, state, qualifying, today)
        rule = policy.rule(qualifying)
        text = (f"upgraded to {qualifying.value}: 12-month spend {spend} / 6-month purchases {count} meet "
                f"{rule.spend_12m} / {rule.purchases_6m} ({policy.combinator.value})")
        return _decided(policy, Outcome.UPGRADE, state, after, figures, today, base, text)
    if rank(floor) > rank(state.tier):
        after = renewed(policy, state, floor, today)
        return _decided(policy, Outcome.FLOOR, state, after, figures, today, base,
                        f"raised to the approved manual tier {floor.value}")

    down = downgrade_date(policy, state, figures, today)
    announced = state.warned_for  # the downgrade date a warning announced, if any
    warned = announced is not None and down is not None and announced >= down
    if down is not None and down <= today and rank(state.tier) > rank(floor) and (
            policy.warning_days == 0 or (announced is not None and announced <= today)):
        lower = step_down(state.tier)
        after = renewed(policy, state, lower, today)
        rule = policy.rule(state.tier)
        text = (f"dropped one step to {lower.value}: validity ended {state.valid_until}, the member was warned for "
                f"{state.warned_for}, and 12-month spend {spend} / 6-month purchases {count} are below the keep "
                f"thresholds {rule.keep_spend} / {rule.keep_purchases}")
        return _decided(policy, Outcome.DOWNGRADE, state, after, figures, today, base, text)
    if down is not None and down - timedelta(days=policy.warning_days) <= today and not warned:
        # Never a downgrade without `warning_days` notice: a late warning moves the date.
        effective = max(down, today + timedelta(days=policy.warning_days))
        lower = step_down(state.tier)
        needed = what_keeps(policy, state, figures, effective)
        after = replace(state, warned_for=effective)
        joiner = "or" if policy.combinator == Combinator.ANY else "and"
        text = (f"will drop to {lower.value} on {effective.isoformat()} unless you spend {needed['spend_needed']} "
                f"more {joiner} make {needed['purchases_needed']} more purchases")
        decision = _decided(policy, Outcome.WARN, state, after, figures, today, base, text)
        decision.explanation.update({"downgrade_on": effective.isoformat(), "to": lower.value, **needed})
        return decision
    after = state
    if state.warned_for is not None and (down is None or state.warned_for < down):
        after = replace(state, warned_for=None)  # purchases since the warning made it moot
    text = f"keeps {state.tier.value}" + (f" until at least {down.isoformat()}" if down else "")
    if "upgrade_blocked" in base:
        text += f"; not upgraded: {base['upgrade_blocked']}"
    return _decided(policy, Outcome.KEEP, state, after, figures, today, base, text)


def renewed(policy: TierPolicy, state: TierState, tier: Tier, today: date) -> TierState:
    """A tier change: validity runs `validity_months` from today; warnings start over."""
    return replace(state, tier=tier, since=today, valid_until=add_months(today, policy.validity_months),
                   warned_for=None)


def what_keeps(policy: TierPolicy, state: TierState, figures: Figures, on: date) -> dict[str, Any]:
    """Amount and purchases still needed (as of `on`, with no new purchase) to keep the tier."""
    rule = policy.rule(state.tier)
    month = month_of_day(on)
    spend = figures.spend_12m(month, policy.referral_credit)
    count = figures.purchases_6m(month)
    return {"spend_needed": str(max(Decimal(0), rule.keep_spend - spend).quantize(Decimal("0.01"))),
            "purchases_needed": max(0, rule.keep_purchases - count)}


def next_review(policy: TierPolicy, state: TierState, figures: Figures, today: date) -> date | None:
    """When this member must next be looked at (the sparse index's date): the warning date,
    the announced downgrade date, or the manual floor's expiry, whichever comes first. None:
    nothing can change without a purchase (a regular member), so the member leaves the index."""
    candidates: list[date] = []
    down = downgrade_date(policy, state, figures, today + timedelta(days=1))
    if down is not None:
        if state.warned_for is not None and state.warned_for >= down:
            candidates.append(state.warned_for)
        else:
            candidates.append(down - timedelta(days=policy.warning_days))
    if state.floor is not None and state.floor_until is not None and state.floor_until > today:
        candidates.append(state.floor_until)
    return min(candidates) if candidates else None


def _decided(policy: TierPolicy, outcome: Outcome, before: TierState, after: TierState, figures: Figures,
             today: date, base: dict[str, Any], text: str) -> Decision:
    explanation = {**base, "outcome": outcome.value, "from": before.tier.value, "to": after.tier.value,
                   "text": text}
    return Decision(outcome, before, after, next_review(policy, after, figures, today), explanation)


def purchase_upgrade(policy: TierPolicy, state: TierState, figures: Figures, today: date) -> Decision | None:
    """The purchase-time check: an upgrade or nothing."""
    month = month_of_day(today)
    spend = figures.spend_12m(month, policy.referral_credit)
    count = figures.purchases_6m(month)
    target = upgrade_on_purchase(state.tier, qualifying_tier(policy, spend, count))
    if target is None or _upgrade_blocked(policy, figures, month):
        return None
    rule = policy.rule(target)
    after = renewed(policy, state, target, today)
    base = explain(policy, state, figures, today, "purchase")
    text = (f"upgraded to {target.value} at purchase: 12-month spend {spend} / 6-month purchases {count} meet "
            f"{rule.spend_12m} / {rule.purchases_6m} ({policy.combinator.value})")
    return _decided(policy, Outcome.UPGRADE, state, after, figures, today, base, text)


def progress(policy: TierPolicy, state: TierState, figures: Figures, today: date) -> dict[str, Any]:
    """The member view: what the next tier needs, what keeps this one, days left."""
    month = month_of_day(today)
    spend = figures.spend_12m(month, policy.referral_credit)
    count = figures.purchases_6m(month)
    out: dict[str, Any] = {"spend_12m": str(spend), "purchases_6m": count}
    if rank(state.tier) < len(LADDER) - 1:
        nxt = LADDER[rank(state.tier) + 1]
        rule = policy.rule(nxt)
        out["next_tier"] = {"tier": nxt.value, "spend_needed": str(max(Decimal(0), rule.spend_12m - spend)),
                            "purchases_needed": max(0, rule.purchases_6m - count),
                            "combinator": policy.combinator.value}
    if state.tier != Tier.REGULAR:
        down = downgrade_date(policy, state, figures, today)
        keep = what_keeps(policy, state, figures, down or today)
        out["keep"] = {**keep, "keep_until_at_least": down.isoformat() if down else None,
                       "days_left": (down - today).days if down else None}
    return out


ApplicationStatus = Literal["pending", "approved", "rejected"]
_APPLICATION_STATUSES: dict[str, ApplicationStatus] = {"pending": "pending", "approved": "approved",
                                                       "rejected": "rejected"}


def application_status(raw: str) -> ApplicationStatus:
    """A stored status back to its type; anything else is corrupt data (KeyError)."""
    return _APPLICATION_STATUSES[raw]


@dataclass
class Application:
    """A request for a manual tier (docs/domain.md §2): filed by staff, decided once by a
    supervisor or above; an approval is a floor until `expires_on`."""

    application_id: str
    brand_id: str
    member_id: str
    store_id: str
    target: Tier
    reason: str
    requested_by: str
    requested_at: datetime
    status: ApplicationStatus
    expires_on: date | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str | None = None

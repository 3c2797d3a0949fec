"""The brand's basket figures: a daily aggregate over every member of the brand's roll, and
the threshold advice read from it (docs/tiers.md, "Threshold advice").

No sale writes anything for this: each member's STATS already hold their sales, items and
amounts per month, so the aggregate folds the roll's STATS once a day, store by store, and
saves its place after every page. It runs in the KPI function's hourly schedule, after the
monthly snapshot check, with the time the invocation has left; a brand whose roll does not fit
in one run finishes in the next."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..domain.access import SUPERVISOR_OR_ABOVE, Caller, require_role
from ..domain.basket import GROWTH_RANGE, BasketTotals, threshold_advice
from ..domain.errors import ValidationFailed
from ..domain.months import month_of, window
from ..domain.stats import SPEND_WINDOW_MONTHS
from ..domain.tiers import local_day
from ..store.basket import BasketDay, BasketPart, PartMoved
from .brands import brand_settings
from .care_ports import StaffDirectory
from .limits import tier_policy
from .ports import BasketStore, PolicySource

PAGE = 100  # members per page: 2 BatchGetItem requests (PROFILE + STATS)


@dataclass
class BasketRun:
    now: datetime
    brands: int = 0
    finished: list[str] = field(default_factory=list)
    members: int = 0
    pages: int = 0
    stopped: str | None = None  # "time" when the run's time ran out first

    def as_dict(self) -> dict[str, Any]:
        return {"time": self.now.isoformat(), "brands": self.brands, "finished": self.finished,
                "members": self.members, "pages": self.pages, "stopped": self.stopped}


def run_basket(now: datetime, *, store: BasketStore, directory: StaffDirectory,
               out_of_time: Callable[[], bool] = lambda: False, page: int = PAGE) -> BasketRun:
    """For each brand without today's aggregate (its local day): continue every store's roll
    from its saved place until the store is done, then write the day's totals. Stops cleanly
    when `out_of_time()` says so; the next run goes on from the saved parts. A member whose
    tier changes while their store is being read moves on the roll (the roll sorts by tier), so
    may be counted twice or not at all that day: advice, not accounts."""
    run = BasketRun(now)
    for brand_id in directory.brand_ids():
        run.brands += 1
        timezone = brand_settings(brand_id, directory).timezone
        day, month = local_day(now, timezone), month_of(now, timezone)
        if store.day_done(brand_id, day):
            continue
        months = list(window(month, SPEND_WINDOW_MONTHS))
        parts = store.parts(brand_id, day)
        for store_id in sorted(s.store_id for s in directory.stores(brand_id)):
            part = parts.get(store_id) or BasketPart(store_id=store_id, totals=BasketTotals())
            try:
                while not part.done:
                    if out_of_time():
                        run.stopped = "time"
                        return run
                    members, after = store.roll_page(brand_id, store_id, after=part.after, limit=page)
                    totals = part.totals or BasketTotals()
                    for m in members:
                        totals.add(m.tier, m.stats, months, on_card=m.on_card)
                    part = store.save_part(brand_id, day, BasketPart(store_id=store_id, after=after, done=after is None,
                                                                     totals=totals, version=part.version))
                    run.members += len(members)
                    run.pages += 1
            except PartMoved:  # a concurrent run is on this brand: leave it the rest
                break
            parts[store_id] = part
        else:
            total = BasketTotals()
            for part in parts.values():
                total = total.merge(part.totals or BasketTotals())
            store.finish_day(brand_id, BasketDay(day=day, totals=total, as_of=now, months=(min(months), max(months))))
            run.finished.append(brand_id)
    return run


def advice(caller: Caller, *, growth: Decimal = Decimal("0.2"), store: BasketStore,
           tiers: PolicySource) -> dict[str, Any]:
    """The threshold advice from the brand's newest daily aggregate: every member of its roll
    and every sale they made in the 12 months to that day. Before the first aggregate exists,
    every figure is null and `source.as_of` says so."""
    require_role(caller, *SUPERVISOR_OR_ABOVE)
    if not GROWTH_RANGE[0] <= growth <= GROWTH_RANGE[1]:
        raise ValidationFailed("must be between 0.15 and 0.30", field="growth")
    policy = tier_policy(caller.brand_id, repo=tiers)
    day = store.latest_day(caller.brand_id)
    body = threshold_advice(day.totals if day else None, [(r.tier.value, r.spend_12m) for r in policy.rules[1:]],
                            growth)
    return {
        "brand_id": caller.brand_id, "growth": str(growth), "policy_version": policy.version,
        "source": {"kind": "every member of the brand and their sales (daily aggregate)",
                   "as_of": day.as_of.isoformat() if day else None,
                   "window": list(day.months) if day else None,
                   "members": day.totals.members if day else 0,
                   "transactions": day.totals.sales if day else 0},
        **body,
    }

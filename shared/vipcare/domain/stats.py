"""A member's running figures, kept in one small item so a sale costs one small write:
net spend per month, purchases per month, returned amounts per month, referrals, point lots,
last purchase, recent movements."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from .months import month_of_day, window
from .points import PointsLedger

SPEND_WINDOW_MONTHS = 12
PURCHASE_WINDOW_MONTHS = 6
RECENT_MOVEMENTS = 8


@dataclass
class MemberStats:
    spend: dict[str, Decimal] = field(default_factory=dict)  # month -> net spend (sales - returns)
    purchases: dict[str, int] = field(default_factory=dict)  # month -> sales not fully returned
    # month of the sale -> amount returned from it (the return-rate block reads sales and returns
    # over the same window as spend)
    returned: dict[str, Decimal] = field(default_factory=dict)
    # The basket as sold, per month of the sale, returns not deducted: sales made and items in
    # them (spend + returned is their amount). The brand's threshold advice sums these.
    sales: dict[str, int] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)
    # "YYYY-MM#<referred member id>": one entry per member who enrolled citing this one; a set,
    # so crediting the same referral twice counts once
    referrals: set[str] = field(default_factory=set)
    points: PointsLedger = field(default_factory=PointsLedger)
    last_purchase_at: datetime | None = None
    # When the figures began (the enrolment): with no purchase yet, the member's last activity
    since: datetime | None = None
    recent: list[str] = field(default_factory=list)  # movement references, newest first
    version: int = 0  # optimistic concurrency: every write is conditioned on it
    # The next day the member is due a "points expiring" notice (sparse index key), recomputed
    # from the lots at every write by prune().
    points_notice_on: date | None = None

    @property
    def last_active_at(self) -> datetime | None:
        """The last purchase, or the enrolment before the first: what "no purchase for N days"
        is measured from."""
        return self.last_purchase_at or self.since

    def spend_12m(self, current_month: str) -> Decimal:
        return sum((self.spend.get(m, Decimal(0)) for m in window(current_month, SPEND_WINDOW_MONTHS)),
                   Decimal(0))

    def purchases_6m(self, current_month: str) -> int:
        return sum(self.purchases.get(m, 0) for m in window(current_month, PURCHASE_WINDOW_MONTHS))

    def referrals_by_month(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for entry in self.referrals:
            out[entry[:7]] = out.get(entry[:7], 0) + 1
        return out

    def remember(self, reference: str) -> None:
        self.recent = [reference, *[r for r in self.recent if r != reference]][:RECENT_MOVEMENTS]

    def prune(self, today: date, points_lifetime_months: int) -> None:
        """Before every write: forget months no window can see any more (the item stays small
        forever) and schedule the next points-expiring notice."""
        current_month = month_of_day(today)
        keep_spend = set(window(current_month, SPEND_WINDOW_MONTHS + 1))
        keep_count = set(window(current_month, PURCHASE_WINDOW_MONTHS + 1))
        self.spend = {m: v for m, v in self.spend.items() if m in keep_spend or m > current_month}
        self.returned = {m: v for m, v in self.returned.items() if m in keep_spend or m > current_month}
        self.sales = {m: v for m, v in self.sales.items() if m in keep_spend or m > current_month}
        self.items = {m: v for m, v in self.items.items() if m in keep_spend or m > current_month}
        self.referrals = {r for r in self.referrals if r[:7] in keep_spend or r[:7] > current_month}
        self.purchases = {m: v for m, v in self.purchases.items() if m in keep_count or m > current_month}
        self.points.drop_expired(current_month, points_lifetime_months)
        self.points_notice_on = self.points.next_notice(today, points_lifetime_months)

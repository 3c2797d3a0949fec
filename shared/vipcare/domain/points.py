"""Points (docs/domain.md §3): earned per currency unit x tier multiplier, kept in monthly lots
that expire at the end of the Nth month after they were earned; spent oldest first.

Rounding: points earned = floor(amount x multiplier) (never round a gift up). A return claws
back the sale's points in proportion, rounded half up, and the last return of a sale takes
exactly what is left, so a fully returned sale always nets zero.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from .months import months_between, shift

# Members are told this long before a lot of points expires (docs/domain.md §3 and §4: points expiring).
EXPIRY_NOTICE = timedelta(days=30)


def points_for(amount: Decimal, multiplier: Decimal) -> int:
    return int((amount * multiplier).to_integral_value(rounding=ROUND_DOWN))


def clawback_for(sale_points: int, sale_amount: Decimal, returned_before: Decimal, returning: Decimal,
                 clawed_before: int) -> int:
    """Points a return takes back: proportional, and exact on the return that completes the sale."""
    if returned_before + returning >= sale_amount:
        return sale_points - clawed_before
    share = (Decimal(sale_points) * returning / sale_amount).to_integral_value(rounding=ROUND_HALF_UP)
    return min(int(share), sale_points - clawed_before)


def expiry_month(earned_month: str, lifetime_months: int) -> str:
    """The last month a lot is valid: it expires at the end of it."""
    return shift(earned_month, lifetime_months)


def last_day(month: str) -> date:
    year, mon = int(month[:4]), int(month[5:7])
    return date(year, mon, calendar.monthrange(year, mon)[1])


def expiry_notice_day(earned_month: str, lifetime_months: int) -> date:
    """The day the member is told about a lot: 30 days before its last valid day."""
    return last_day(expiry_month(earned_month, lifetime_months)) - EXPIRY_NOTICE


def expires_after(earned_month: str, current_month: str, lifetime_months: int) -> bool:
    """A lot earned in month M is valid through the end of month M + lifetime."""
    return months_between(earned_month, current_month) > lifetime_months


@dataclass
class PointsLedger:
    """Remaining points per month earned, plus a debt when clawbacks exceed what was left."""

    lots: dict[str, int] = field(default_factory=dict)
    debt: int = 0

    def balance(self, current_month: str, lifetime_months: int) -> int:
        live = sum(p for m, p in self.lots.items() if not expires_after(m, current_month, lifetime_months))
        return live - self.debt

    def expiring_by(self, month: str, current_month: str, lifetime_months: int) -> int:
        """Live points that will have expired by the end of `month`."""
        return sum(p for m, p in self.lots.items()
                   if not expires_after(m, current_month, lifetime_months)
                   and expires_after(m, month, lifetime_months))

    def next_notice(self, today: date, lifetime_months: int) -> date | None:
        """The next day a member with these lots should hear that points expire: the notice day
        of the oldest live lot whose notice is still ahead (today included). None: nothing to
        tell. Kept as a sparse index key, so the reminder job finds the day's members directly."""
        days = [expiry_notice_day(m, lifetime_months) for m, p in self.lots.items() if p > 0]
        ahead = [d for d in days if d >= today]
        return min(ahead) if ahead else None

    def drop_expired(self, current_month: str, lifetime_months: int) -> None:
        for m in [m for m in self.lots if expires_after(m, current_month, lifetime_months)]:
            del self.lots[m]

    def earn(self, month: str, points: int) -> None:
        paid = min(points, self.debt)  # new points settle a clawback debt first
        self.debt -= paid
        if points - paid:
            self.lots[month] = self.lots.get(month, 0) + points - paid

    def spend(self, points: int, current_month: str, lifetime_months: int) -> bool:
        """Spend oldest live lots first; False (and nothing changed) if the balance is short."""
        self.drop_expired(current_month, lifetime_months)
        if self.balance(current_month, lifetime_months) < points:
            return False
        self._take(points, oldest_first=True)
        return True

    def claw_back(self, points: int, earned_month: str) -> None:
        """Take back a sale's points: from its own lot first, then newest lots, then as debt."""
        from_lot = min(points, self.lots.get(earned_month, 0))
        if from_lot:
            self.lots[earned_month] -= from_lot
            if not self.lots[earned_month]:
                del self.lots[earned_month]
        rest = self._take(points - from_lot, oldest_first=False)
        self.debt += rest

    def _take(self, points: int, *, oldest_first: bool) -> int:
        for month in sorted(self.lots, reverse=not oldest_first):
            if not points:
                break
            used = min(points, self.lots[month])
            self.lots[month] -= used
            points -= used
            if not self.lots[month]:
                del self.lots[month]
        return points

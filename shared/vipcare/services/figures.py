"""The figures a member card shows (points balance, 12-month spend, 6-month purchases), as of now."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from ..domain.members import Member
from ..domain.months import month_of
from ..domain.stats import MemberStats
from .brands import brand_settings
from .limits import purchase_limits
from .ports import BrandSource


def with_figures(member: Member, stats: MemberStats, now: datetime, directory: BrandSource) -> Member:
    month = month_of(now, brand_settings(member.brand_id, directory).timezone)
    lifetime = purchase_limits(member.brand_id, directory).points_lifetime_months
    return dataclasses.replace(member, points_balance=stats.points.balance(month, lifetime),
                               spend_12m=stats.spend_12m(month), purchases_6m=stats.purchases_6m(month))

"""Calendar months as the buckets of the rolling windows (`YYYY-MM`, in the brand's zone)."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo


def month_of(moment: datetime, timezone: str) -> str:
    """The business month of a moment, in the brand's time zone."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m")


def month_of_day(day: date) -> str:
    """The month (`YYYY-MM`) of a day that is already on the brand's calendar."""
    return f"{day.year:04d}-{day.month:02d}"


def shift(month: str, delta: int) -> str:
    """`shift("2026-01", -1) == "2025-12"`."""
    year, mon = int(month[:4]), int(month[5:7])
    index = year * 12 + (mon - 1) + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@lru_cache(maxsize=256)
def window(current: str, months: int) -> tuple[str, ...]:
    """The `months` months ending with `current`, oldest first. Cached: every purchase and
    every tier decision asks for the same few windows (it was the consumer's top CPU cost)."""
    return tuple(shift(current, -i) for i in range(months - 1, -1, -1))


def months_between(earlier: str, later: str) -> int:
    return (int(later[:4]) * 12 + int(later[5:7])) - (int(earlier[:4]) * 12 + int(earlier[5:7]))

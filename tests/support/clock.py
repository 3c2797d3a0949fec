"""The suite's clock, movable to the hard days of the calendar.

`VIPCARE_TEST_CLOCK=2027-12-31T23:30:00Z pytest tests/unit tests/integration` runs the
suite as if it were that moment: time-machine moves the process clock (datetime.now,
time.time, requestTimeEpoch of the local API Gateway...) to it for the whole session and
back to it at the start of every test, the clock ticking on from there. A test that
assumed a fixed date fails on some of these days; `make test-dates` runs them all.

Tests take their `now` from `tests.support.clock.now()` (or the `now` fixture), which is
the moved moment when the clock is moved and the real one otherwise, and build their
history relative to it.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

ENV = "VIPCARE_TEST_CLOCK"

# The days `make test-dates` runs the suite on, and why each one is hard.
HARD_DAYS: dict[str, tuple[str, dict[str, str]]] = {
    # UTC's last half hour of the year: already the new year in Asia/Shanghai.
    "year-end": ("2027-12-31T23:30:00Z", {}),
    # A leap day, late enough in UTC that Shanghai is still on it (20:00).
    "leap-day": ("2028-02-29T12:00:00Z", {}),
    # The 31st of a 31-day month whose next month is short: "a month later" has no 31st.
    "month-31st": ("2027-01-31T10:00:00Z", {}),
    # A brand in America/New_York half an hour before the clocks spring forward (01:30 EST).
    "dst-new-york": ("2027-03-14T06:30:00Z", {"DEFAULT_TIMEZONE": "America/New_York"}),
}


def moved_to() -> datetime | None:
    """The moment the suite runs at, when `VIPCARE_TEST_CLOCK` moves it."""
    raw = os.environ.get(ENV)
    if not raw:
        return None
    moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{ENV} must carry a UTC offset: {raw!r}")
    return moment.astimezone(UTC)


def now() -> datetime:
    """The test's `now`: the (possibly moved) clock, read once by the caller."""
    return datetime.now(UTC)


def brand_zone() -> ZoneInfo:
    """The test brands' time zone: the functions' DEFAULT_TIMEZONE (America/New_York on the
    DST day, Asia/Shanghai from template.yaml otherwise)."""
    return ZoneInfo(os.environ.get("DEFAULT_TIMEZONE") or "Asia/Shanghai")


def local_day(moment: datetime) -> date:
    """The brand's calendar day at `moment` (not UTC's)."""
    return moment.astimezone(brand_zone()).date()


def brand_month(moment: datetime) -> str:
    """The brand's month at `moment`, as the KPI and spend periods are keyed (YYYY-MM)."""
    return moment.astimezone(brand_zone()).strftime("%Y-%m")


def at_local(day: date, hour: int, minute: int = 0) -> datetime:
    """`hour:minute` of a brand-local day, as a UTC instant (what a scheduled event carries)."""
    return datetime.combine(day, time(hour, minute), tzinfo=brand_zone()).astimezone(UTC)

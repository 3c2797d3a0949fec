"""Contact cadence per channel (docs/domain.md §4, docs/reminders.md "Cadence"): what each tier
of the brand's tier policy asks of its manager, and what a period's contacts still miss. Pure.

A requirement is `{channel, count, per}`: `count` contacts of `channel` per month or quarter;
`any` counts every contact (one that also counts for a named channel included). A period is
done only when every requirement is met: a phone call does not count as a visit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ValidationFailed

CHANNELS = ("visit", "phone", "sms", "wechat", "email", "event", "other")  # the contact log's channels
ANY = "any"
PERIOD_MONTHS = {"month": 1, "quarter": 3}


@dataclass(frozen=True)
class Requirement:
    channel: str  # one of CHANNELS or ANY
    count: int
    per: str  # month | quarter

    def as_document(self) -> dict[str, Any]:
        return {"channel": self.channel, "count": self.count, "per": self.per}


Cadence = tuple[Requirement, ...]


def _one(channel: str, per: str) -> Cadence:
    return (Requirement(channel, 1, per),)


# The defaults, the one place they are written: gold and diamond one contact a month, silver
# one a quarter, regular none (the tier policy's defaults and old stored policies read these).
DEFAULT_CADENCE: dict[str, Cadence] = {"regular": (), "silver": _one(ANY, "quarter"),
                                       "gold": _one(ANY, "month"), "diamond": _one(ANY, "month")}


def from_document(tier: str, items: Iterable[dict[str, Any]] | None) -> Cadence:
    """A tier's cadence from a document or request; None (not given, or a policy stored before
    cadences existed) is the tier's default."""
    if items is None:
        return DEFAULT_CADENCE.get(tier, ())
    return tuple(Requirement(str(i["channel"]), int(i["count"]), str(i["per"])) for i in items)


def period_months(cadence: Sequence[Requirement]) -> int | None:
    """1 (monthly) or 3 (quarterly); None when the tier has no cadence."""
    return PERIOD_MONTHS[cadence[0].per] if cadence else None


def missing(cadence: Sequence[Requirement], channels: Iterable[str]) -> list[dict[str, Any]]:
    """The requirements the period's contacts (their channels) do not meet yet, with what was
    done: `[{channel, count, have}]`; empty when the period is done."""
    seen = Counter(channels)
    total = sum(seen.values())
    out = []
    for r in cadence:
        have = total if r.channel == ANY else seen.get(r.channel, 0)
        if have < r.count:
            out.append({"channel": r.channel, "count": r.count, "have": have})
    return out


def describe(cadence: Sequence[Requirement]) -> str:
    """One line for the task: "at least 1 visit and 2 phone contacts per month"."""
    parts = [f"{r.count} {'' if r.channel == ANY else r.channel + ' '}contact{'s' if r.count > 1 else ''}"
             for r in cadence]
    return f"at least {' and '.join(parts)} per {cadence[0].per}" if cadence else "no cadence"


def validate(tier: str, cadence: Sequence[Requirement], where: str) -> None:
    """Raise ValidationFailed naming the field (`<where>.cadence.<i>.<name>`). Silver and above
    need a cadence: its review item is also the VIP set the monthly KPI snapshot reads."""
    field = f"{where}.cadence"
    if tier == "regular":
        if cadence:
            raise ValidationFailed("regular members have no contact cadence", field=field)
        return
    if not cadence:
        raise ValidationFailed("silver and above need at least one requirement", field=field)
    if len(cadence) > len(CHANNELS) + 1:
        raise ValidationFailed(f"at most {len(CHANNELS) + 1} requirements", field=field)
    seen: set[str] = set()
    for i, r in enumerate(cadence):
        at = f"{field}.{i}"
        if r.channel != ANY and r.channel not in CHANNELS:
            raise ValidationFailed(f"must be one of {', '.join((*CHANNELS, ANY))}", field=f"{at}.channel")
        if r.channel in seen:
            raise ValidationFailed("one requirement per channel", field=f"{at}.channel")
        seen.add(r.channel)
        if not 1 <= r.count <= 31:
            raise ValidationFailed("must be between 1 and 31", field=f"{at}.count")
        if r.per not in PERIOD_MONTHS:
            raise ValidationFailed("must be month or quarter", field=f"{at}.per")
        # one review period per tier: a monthly task cannot judge a quarterly requirement
        if r.per != cadence[0].per:
            raise ValidationFailed("a tier's requirements share one period", field=f"{at}.per")

"""Why members are lost (docs/kpis.md "Churn reasons"): how a retention task closes, and the
month's figures. Pure.

A retention task closes with `outcome` retained or lost; lost needs a `reason`. The report
counts closed retention tasks per month (brand time of closing) and store; every rate is a
share of the closed tasks, in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ValidationFailed
from .kpis import rate

OUTCOMES = ("retained", "lost")
REASONS = ("moved", "competitor", "price", "service", "product", "other")


def check_retention_close(outcome: str | None, reason: str | None) -> None:
    """Raise ValidationFailed naming the field when a retention task's close is incomplete."""
    if outcome not in OUTCOMES:
        raise ValidationFailed("a retention task closes with outcome retained or lost", field="outcome")
    if outcome == "lost" and reason not in REASONS:
        raise ValidationFailed(f"a lost member needs a reason: {', '.join(REASONS)}", field="reason")
    if outcome == "retained" and reason is not None:
        raise ValidationFailed("only a lost member has a reason", field="reason")


def counts_of(outcome: str, reason: str | None) -> dict[str, int]:
    """What one closed retention task adds to its month's counters."""
    return {"closed": 1, outcome: 1, **({f"reason_{reason}": 1} if reason else {})}


@dataclass(frozen=True)
class ChurnReasons:
    closed: int
    retained: int
    lost: int
    reasons: dict[str, int]  # every reason, 0 included, in REASONS order

    @classmethod
    def of(cls, counters: list[dict[str, int]]) -> ChurnReasons:
        total = {k: sum(c.get(k, 0) for c in counters) for k in ("closed", "retained", "lost",
                                                                   *(f"reason_{r}" for r in REASONS))}
        return cls(total["closed"], total["retained"], total["lost"], {r: total[f"reason_{r}"] for r in REASONS})

    def rate(self, part: int) -> str | None:
        return rate(part, self.closed)

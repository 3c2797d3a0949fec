"""A brand's KPI policy (docs/kpis.md "The brand's KPI policy"): how retention is assessed and
the targets the report compares with. The defaults are the programme's numbers (docs/domain.md
§6) and are what a brand without a stored policy runs on. Pure: no I/O.

- Retention is assessed over a window of `retention_months` (1, 3, 6 or 12) aligned on the
  calendar year: its snapshot is the VIP set at the window's first month, and a member of it is
  lost when closed or, by the brand's lost rule,
  - `months_below_floor`: `months` or more months *in total* (not necessarily in a row) of the
    window so far with net spend below `floor`, or
  - `no_purchase_days`: no purchase (or, before the first, no enrolment) for `days` days.
- Churn (a member of the month's snapshot who left) and its targets are yearly rates.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from .errors import ValidationFailed
from .months import shift
from .stats import MemberStats

WINDOW_MONTHS = (1, 3, 6, 12)


class LostRule(StrEnum):
    MONTHS_BELOW_FLOOR = "months_below_floor"
    NO_PURCHASE_DAYS = "no_purchase_days"


@dataclass(frozen=True)
class KpiPolicy:
    version: int = 0  # 0: the defaults (nothing stored)
    retention_months: int = 12
    lost_rule: LostRule = LostRule.MONTHS_BELOW_FLOOR
    floor: Decimal = Decimal("50")  # net spend a month below which that month counts
    months_below_floor: int = 3
    no_purchase_days: int = 180
    churn_target: Decimal = Decimal("0.035")  # yearly, all VIPs
    gold_plus_churn_target: Decimal = Decimal("0.02")  # yearly, diamond + gold
    retention_target_basic: Decimal = Decimal("0.77")
    retention_target_challenge: Decimal = Decimal("0.83")
    activity_coverage_target: Decimal = Decimal("1")
    participation_target: Decimal = Decimal("0.85")
    created_at: datetime | None = field(default=None, compare=False)
    created_by: str | None = field(default=None, compare=False)

    def window_start(self, period: str) -> str:
        """The first month of the retention window that contains `period` (YYYY-MM)."""
        month = int(period[5:7])
        return f"{period[:4]}-{(month - 1) // self.retention_months * self.retention_months + 1:02d}"

    def is_lost(self, stats: MemberStats | None, *, window_start: str, period: str, at: datetime,
                closed: bool) -> bool:
        """Lost at the end of `period` (judged at `at`, the moment the next month began), by the
        brand's rule over the window's months `window_start`..`period`."""
        if closed:
            return True
        stats = stats or MemberStats()
        if self.lost_rule is LostRule.NO_PURCHASE_DAYS:
            last = stats.last_active_at
            return last is None or at - last >= timedelta(days=self.no_purchase_days)
        months, m = [], window_start
        while m <= period:
            months.append(m)
            m = shift(m, 1)
        below = sum(1 for m in months if stats.spend.get(m, Decimal(0)) < self.floor)
        return below >= self.months_below_floor

    def rule_text(self) -> str:
        if self.lost_rule is LostRule.NO_PURCHASE_DAYS:
            return f"closed, or no purchase for {self.no_purchase_days} days"
        return (f"closed, or {self.months_below_floor}+ months in total below {self.floor} a month "
                f"within the {self.retention_months}-month window")

    def as_doc(self) -> dict[str, Any]:
        """The stored / answered document (decimals as strings)."""
        doc = asdict(self)
        for k, v in doc.items():
            if isinstance(v, Decimal):
                doc[k] = str(v)
        doc["lost_rule"] = self.lost_rule.value
        doc["created_at"] = self.created_at.isoformat() if self.created_at else None
        return doc


DEFAULT = KpiPolicy()
_SETTABLE = {f for f in KpiPolicy.__dataclass_fields__ if f not in ("version", "created_at", "created_by")}
_SHARES = ("churn_target", "gold_plus_churn_target", "retention_target_basic", "retention_target_challenge",
           "activity_coverage_target", "participation_target")


def from_doc(doc: dict[str, Any], *, base: KpiPolicy = DEFAULT) -> KpiPolicy:
    """A policy from a document: fields left out keep `base`'s values; each bad field is a
    ValidationFailed naming it."""
    unknown = set(doc) - _SETTABLE
    if unknown:
        raise ValidationFailed(f"unknown field {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    values: dict[str, Any] = {}
    for name, raw in doc.items():
        if raw is None:
            continue
        values[name] = _parse(name, raw)
    return _checked(replace(base, **values))


def _parse(name: str, raw: Any) -> Any:
    if name == "lost_rule":
        try:
            return LostRule(raw)
        except ValueError:
            raise ValidationFailed(f"lost_rule must be one of {[r.value for r in LostRule]}",
                                   field="lost_rule") from None
    if name in ("retention_months", "months_below_floor", "no_purchase_days"):
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValidationFailed(f"{name} must be a whole number", field=name)
        return raw
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise ValidationFailed(f"{name} must be a decimal number", field=name) from None
    if not value.is_finite():
        raise ValidationFailed(f"{name} must be a decimal number", field=name)
    return value


def _checked(p: KpiPolicy) -> KpiPolicy:
    if p.retention_months not in WINDOW_MONTHS:
        raise ValidationFailed(f"retention_months must be one of {list(WINDOW_MONTHS)}", field="retention_months")
    if not 1 <= p.months_below_floor <= p.retention_months:
        raise ValidationFailed("months_below_floor must be between 1 and retention_months",
                               field="months_below_floor")
    if not 1 <= p.no_purchase_days <= 730:
        raise ValidationFailed("no_purchase_days must be between 1 and 730", field="no_purchase_days")
    if p.floor < 0:
        raise ValidationFailed("floor must not be negative", field="floor")
    for name in _SHARES:
        if not Decimal(0) <= getattr(p, name) <= Decimal(1):
            raise ValidationFailed(f"{name} is a share: between 0 and 1", field=name)
    if p.retention_target_basic > p.retention_target_challenge:
        raise ValidationFailed("the basic retention target must not exceed the challenge one",
                               field="retention_target_basic")
    return p

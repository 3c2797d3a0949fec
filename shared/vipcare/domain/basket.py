"""The brand's basket figures and the threshold advice drawn from them (docs/tiers.md,
"Threshold advice"). Pure: the scheduled aggregate folds every member of the brand's roll into
BasketTotals; the report turns the day's totals into advice.

The source's method: base line = average item price x items per transaction (which is the
average ticket), plus an intended growth of 15-30%; each tier's suggested upgrade threshold =
the tier's average 12-month spend plus the same growth."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .stats import MemberStats

CENT = Decimal("0.01")
GROWTH_RANGE = (Decimal("0.15"), Decimal("0.30"))


@dataclass
class TierTotals:
    """Members holding the tier now: how many, their 12-month net spend, their sales as sold."""

    members: int = 0
    spend_12m: Decimal = Decimal(0)
    sales: int = 0
    amount: Decimal = Decimal(0)


@dataclass
class BasketTotals:
    """Sales as sold over a window of months (returns not deducted: the basket the till rang
    up), summed over members; per tier, the members holding it."""

    members: int = 0
    sales: int = 0
    items: int = 0
    amount: Decimal = Decimal(0)
    tiers: dict[str, TierTotals] = field(default_factory=dict)

    def add(self, tier: str, stats: MemberStats, months: list[str], *, on_card: bool = True) -> None:
        """One member's figures over `months`. A month counts only where the figures say how many
        sales it had (figures from before the release kept no basket counts). `on_card=False`
        (an erased member): the purchases count, the member is in no tier's averages."""
        sales = sum(stats.sales.get(m, 0) for m in months)
        amount = sum((stats.spend.get(m, Decimal(0)) + stats.returned.get(m, Decimal(0))
                      for m in months if stats.sales.get(m)), Decimal(0))
        self.sales += sales
        self.items += sum(stats.items.get(m, 0) for m in months if stats.sales.get(m))
        self.amount += amount
        if not on_card:
            return
        self.members += 1
        t = self.tiers.setdefault(tier, TierTotals())
        t.members += 1
        t.spend_12m += sum((stats.spend.get(m, Decimal(0)) for m in months), Decimal(0))
        t.sales += sales
        t.amount += amount

    def merge(self, other: BasketTotals) -> BasketTotals:
        out = BasketTotals(members=self.members + other.members, sales=self.sales + other.sales,
                           items=self.items + other.items, amount=self.amount + other.amount)
        for tiers in (self.tiers, other.tiers):
            for name, t in tiers.items():
                o = out.tiers.setdefault(name, TierTotals())
                o.members += t.members
                o.spend_12m += t.spend_12m
                o.sales += t.sales
                o.amount += t.amount
        return out

    def to_json(self) -> str:
        return json.dumps({"members": self.members, "sales": self.sales, "items": self.items,
                           "amount": str(self.amount),
                           "tiers": {k: {"members": t.members, "spend_12m": str(t.spend_12m), "sales": t.sales,
                                         "amount": str(t.amount)} for k, t in sorted(self.tiers.items())}},
                          separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> BasketTotals:
        d = json.loads(text)
        return cls(members=int(d["members"]), sales=int(d["sales"]), items=int(d["items"]),
                   amount=Decimal(d["amount"]),
                   tiers={k: TierTotals(members=int(t["members"]), spend_12m=Decimal(t["spend_12m"]),
                                        sales=int(t["sales"]), amount=Decimal(t["amount"]))
                          for k, t in d["tiers"].items()})


def _ratio(numerator: Decimal, denominator: Decimal | int) -> Decimal | None:
    return (Decimal(numerator) / Decimal(denominator)).quantize(CENT) if denominator else None


def _text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def threshold_advice(totals: BasketTotals | None, tiers: list[tuple[str, Decimal]], growth: Decimal) -> dict[str, Any]:
    """The advice from the day's totals (None: no aggregate yet, every figure null). `tiers`:
    (tier, current upgrade spend) for each tier above regular, in order."""
    t = totals or BasketTotals()
    item_price = _ratio(t.amount, t.items)
    per_txn = _ratio(Decimal(t.items), t.sales)
    ticket = _ratio(t.amount, t.sales)  # = item price x items per transaction, without the rounding
    lift = 1 + growth
    out_tiers = []
    for tier, current in tiers:
        tt = t.tiers.get(tier, TierTotals())
        average = _ratio(tt.spend_12m, tt.members)
        out_tiers.append({
            "tier": tier, "members": tt.members,
            "average_spend_12m": _text(average),
            "average_ticket": _text(_ratio(tt.amount, tt.sales)),
            "current_upgrade_spend_12m": str(current),
            "suggested_upgrade_spend_12m": _text((average * lift).quantize(CENT)) if average is not None else None,
            "suggested_range": ([_text((average * (1 + g)).quantize(CENT)) for g in GROWTH_RANGE]
                                if average is not None else None),
        })
    return {
        "base_line": {"average_item_price": _text(item_price), "items_per_transaction": _text(per_txn),
                      "average_ticket": _text(ticket),
                      "suggested": _text((ticket * lift).quantize(CENT)) if ticket is not None else None},
        "tiers": out_tiers,
    }

"""Purchases and returns (docs/domain.md §3): validation rules and their effect on a member's
figures. Every function is pure; `now` and the brand's limits are passed in."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from .errors import ValidationFailed
from .months import month_of
from .points import clawback_for, points_for
from .stats import MemberStats


class Kind(StrEnum):
    SALE = "sale"
    RETURN = "return"


class Status(StrEnum):
    APPLIED = "applied"
    HELD = "held"  # a return waiting for its sale
    REJECTED = "rejected"
    AWAITING = "awaiting"  # placeholder for a sale that returns are waiting for


@dataclass(frozen=True)
class PurchaseLimits:
    """Per-brand configuration (defaults here; every number is configuration)."""

    max_amount: Decimal = Decimal("1000000")
    backdating_days: int = 90
    clock_skew: timedelta = timedelta(minutes=5)
    hold_days: int = 7
    points_lifetime_months: int = 24
    currency: str = "CNY"


@dataclass(frozen=True)
class Purchase:
    """A validated purchase as it travels through the queue."""

    brand_id: str
    store_id: str
    transaction_id: str
    member_id: str
    kind: Kind
    amount: Decimal
    currency: str
    items: int
    occurred_at: datetime
    original_transaction_id: str | None = None

    def fingerprint(self) -> str:
        """Identifies the payload: the same id with another fingerprint is a conflicting resubmission."""
        canonical = json.dumps({
            "member_id": self.member_id, "kind": self.kind.value, "amount": str(self.amount),
            "currency": self.currency, "items": self.items, "occurred_at": self.occurred_at.isoformat(),
            "original": self.original_transaction_id,
        }, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]

    def to_message(self) -> dict[str, object]:
        return {"brand_id": self.brand_id, "store_id": self.store_id, "transaction_id": self.transaction_id,
                "member_id": self.member_id, "kind": self.kind.value, "amount": str(self.amount),
                "currency": self.currency, "items": self.items, "occurred_at": self.occurred_at.isoformat(),
                "original_transaction_id": self.original_transaction_id}


# ---- the queue message (Purchase.to_message, read back; also a POS system's EventBridge event)


def parse_message(body: str, *, now: datetime) -> tuple[Purchase, datetime]:
    """An SQS body: our intake's message, or an EventBridge `Purchase` event (POS systems
    publish those; `detail` carries the purchase and its brand). Raises ValidationFailed.
    A message that does not say when it was received is taken as received `now`."""
    try:
        data = json.loads(body)
    except (TypeError, ValueError):
        raise ValidationFailed("message body is not JSON", field="body") from None
    if not isinstance(data, dict):
        raise ValidationFailed("message body is not an object", field="body")
    received_at = data.get("received_at")
    if "detail-type" in data:  # EventBridge envelope
        received_at = data.get("time")
        data = data.get("detail")
        if not isinstance(data, dict):
            raise ValidationFailed("event has no detail object", field="detail")
    try:
        return _purchase(data), _moment(received_at) if received_at else now
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise ValidationFailed(f"malformed purchase: {type(exc).__name__}", field="body") from None


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("naive time")
    return moment


def _purchase(d: dict[str, Any]) -> Purchase:
    kind = Kind(d["kind"])
    amount = Decimal(str(d["amount"]))
    if not amount.is_finite():
        raise ValueError("amount")
    return Purchase(brand_id=str(d["brand_id"]), store_id=str(d["store_id"]), transaction_id=str(d["transaction_id"]),
                    member_id=str(d["member_id"]), kind=kind, amount=amount, currency=str(d["currency"]),
                    items=int(d["items"]), occurred_at=_moment(d["occurred_at"]),
                    original_transaction_id=d.get("original_transaction_id") or None)


def check_rules(p: Purchase, now: datetime, limits: PurchaseLimits) -> None:
    """Business rules beyond the shape (which the API model checks). Raises ValidationFailed."""
    if p.amount <= 0:
        raise ValidationFailed("must be greater than zero", field="amount")
    if p.amount > limits.max_amount:
        raise ValidationFailed(f"exceeds the ceiling of {limits.max_amount}", field="amount")
    if p.currency != limits.currency:
        raise ValidationFailed(f"this brand records purchases in {limits.currency}", field="currency")
    if p.occurred_at > now + limits.clock_skew:
        raise ValidationFailed("is in the future", field="occurred_at")
    if p.occurred_at < now - timedelta(days=limits.backdating_days):
        raise ValidationFailed(f"is older than {limits.backdating_days} days", field="occurred_at")
    if p.kind == Kind.RETURN and not p.original_transaction_id:
        raise ValidationFailed("a return must cite the original sale", field="original_transaction_id")
    if p.kind == Kind.SALE and p.original_transaction_id:
        raise ValidationFailed("only returns cite an original sale", field="original_transaction_id")
    if p.original_transaction_id == p.transaction_id:
        raise ValidationFailed("a return cannot cite itself", field="original_transaction_id")


@dataclass(frozen=True)
class SaleRecord:
    """What the ledger remembers of an applied sale (for returns and the status API)."""

    member_id: str
    amount: Decimal
    points: int
    earn_month: str
    returned: Decimal
    points_clawed: int


@dataclass(frozen=True)
class SaleEffect:
    points: int
    month: str  # business month of the sale: spend, count and points lot


@dataclass(frozen=True)
class ReturnEffect:
    points_clawed: int
    fully_returned: bool
    month: str


def apply_sale(stats: MemberStats, sale: Purchase, multiplier: Decimal, timezone: str) -> SaleEffect:
    month = month_of(sale.occurred_at, timezone)
    points = points_for(sale.amount, multiplier)
    stats.spend[month] = stats.spend.get(month, Decimal(0)) + sale.amount
    stats.purchases[month] = stats.purchases.get(month, 0) + 1
    stats.sales[month] = stats.sales.get(month, 0) + 1
    stats.items[month] = stats.items.get(month, 0) + sale.items
    stats.points.earn(month, points)
    if stats.last_purchase_at is None or sale.occurred_at > stats.last_purchase_at:
        stats.last_purchase_at = sale.occurred_at
    return SaleEffect(points=points, month=month)


def check_return(ret: Purchase, sale: SaleRecord) -> None:
    if sale.member_id != ret.member_id:
        raise ValidationFailed("the original sale belongs to another member", field="original_transaction_id")
    if sale.returned + ret.amount > sale.amount:
        left = sale.amount - sale.returned
        raise ValidationFailed(f"returns would exceed the sale ({left} left to return)", field="amount")


def apply_return(stats: MemberStats, ret: Purchase, sale: SaleRecord) -> ReturnEffect:
    """Reduce qualifying spend in the sale's month and claw back its points in proportion.
    Never changes the tier: a return can only cause a later, scheduled downgrade."""
    check_return(ret, sale)
    clawed = clawback_for(sale.points, sale.amount, sale.returned, ret.amount, sale.points_clawed)
    month = sale.earn_month
    stats.spend[month] = stats.spend.get(month, Decimal(0)) - ret.amount
    stats.returned[month] = stats.returned.get(month, Decimal(0)) + ret.amount
    fully = sale.returned + ret.amount == sale.amount
    if fully and stats.purchases.get(month, 0) > 0:
        stats.purchases[month] -= 1
    stats.points.claw_back(clawed, month)
    return ReturnEffect(points_clawed=clawed, fully_returned=fully, month=month)


def hold_expired(received_at: datetime, now: datetime, limits: PurchaseLimits) -> bool:
    return now > received_at + timedelta(days=limits.hold_days)

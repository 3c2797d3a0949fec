"""Purchases and returns (docs/domain.md §3): validation rules and their effect on a member's
figures. Every function is pure; `now` and the brand's limits are passed in."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
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


MAX_LINES = 100


@dataclass(frozen=True)
class Line:
    """One line of a sale (or of a return, naming what it takes back)."""

    sku: str
    quantity: int
    unit_price: Decimal
    discount_amount: Decimal = Decimal(0)
    name: str | None = None
    category: str | None = None

    @property
    def net(self) -> Decimal:
        return self.quantity * self.unit_price - self.discount_amount

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sku": self.sku, "quantity": self.quantity, "unit_price": str(self.unit_price)}
        if self.discount_amount:
            out["discount_amount"] = str(self.discount_amount)
        if self.name is not None:
            out["name"] = self.name
        if self.category is not None:
            out["category"] = self.category
        return out


def line_of(d: dict[str, Any]) -> Line:
    return Line(sku=str(d["sku"]), quantity=int(d["quantity"]), unit_price=Decimal(str(d["unit_price"])),
                discount_amount=Decimal(str(d.get("discount_amount") or 0)),
                name=d.get("name"), category=d.get("category"))


def total_discount(sale_discount: Decimal, lines: tuple[Line, ...]) -> Decimal:
    """Everything taken off a sale: its lines' discounts and the whole sale's."""
    return sale_discount + sum((line.discount_amount for line in lines), Decimal(0))


@dataclass(frozen=True)
class ReturnApplied:
    """A return as its sale remembers it (the member's history shows them with the sale)."""

    store_id: str
    transaction_id: str
    amount: Decimal
    points: int  # clawed back
    occurred_at: datetime


@dataclass(frozen=True)
class Purchase:
    """A validated purchase as it travels through the queue. `amount` is what the member paid
    (qualifying spend); with lines, the lines' net total less the whole-sale discount."""

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
    lines: tuple[Line, ...] = ()
    discount_amount: Decimal = Decimal(0)  # on the whole sale, beyond the lines' own discounts
    # Who recorded it (the intake's staff id, or `event:<source>` for a POS event): kept with the
    # entry for the audit, never part of the payload (the same sale sent by two clerks is one).
    submitted_by: str | None = field(default=None, compare=False)

    @property
    def total_discount(self) -> Decimal:
        return total_discount(self.discount_amount, self.lines)

    def fingerprint(self) -> str:
        """Identifies the payload: the same id with another fingerprint is a conflicting resubmission.
        Lines and discount count only when given, so payloads from before they existed keep
        their fingerprint."""
        payload: dict[str, Any] = {
            "member_id": self.member_id, "kind": self.kind.value, "amount": str(self.amount),
            "currency": self.currency, "items": self.items, "occurred_at": self.occurred_at.isoformat(),
            "original": self.original_transaction_id,
        }
        if self.lines:
            payload["lines"] = [line.as_dict() for line in self.lines]
        if self.discount_amount:
            payload["discount"] = str(self.discount_amount)
        canonical = json.dumps(payload, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]

    def to_message(self) -> dict[str, object]:
        message: dict[str, object] = {
            "brand_id": self.brand_id, "store_id": self.store_id, "transaction_id": self.transaction_id,
            "member_id": self.member_id, "kind": self.kind.value, "amount": str(self.amount),
            "currency": self.currency, "items": self.items, "occurred_at": self.occurred_at.isoformat(),
            "original_transaction_id": self.original_transaction_id}
        if self.lines:
            message["lines"] = [line.as_dict() for line in self.lines]
        if self.discount_amount:
            message["discount_amount"] = str(self.discount_amount)
        return message


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
    submitted_by = data.get("submitted_by")
    if "detail-type" in data:  # EventBridge envelope
        received_at = data.get("time")
        submitted_by = f"event:{data.get('source') or 'unknown'}"
        data = data.get("detail")
        if not isinstance(data, dict):
            raise ValidationFailed("event has no detail object", field="detail")
    try:
        purchase = _purchase(data)
        if submitted_by:
            purchase = dataclasses.replace(purchase, submitted_by=str(submitted_by)[:128])
        return purchase, _moment(received_at) if received_at else now
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
    lines = tuple(line_of(x) for x in d.get("lines") or ())
    return Purchase(brand_id=str(d["brand_id"]), store_id=str(d["store_id"]), transaction_id=str(d["transaction_id"]),
                    member_id=str(d["member_id"]), kind=kind, amount=amount, currency=str(d["currency"]),
                    items=int(d["items"]) if d.get("items") is not None else sum(x.quantity for x in lines),
                    occurred_at=_moment(d["occurred_at"]),
                    original_transaction_id=d.get("original_transaction_id") or None,
                    lines=lines, discount_amount=Decimal(str(d.get("discount_amount") or 0)))


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
    check_lines(p)


def check_lines(p: Purchase) -> None:
    """Lines, when given, account for the amount to the cent; a discount is never negative
    and never more than what it discounts."""
    if p.discount_amount < 0:
        raise ValidationFailed("must not be negative", field="discount_amount")
    if p.discount_amount and p.kind == Kind.RETURN:
        raise ValidationFailed("a return takes back lines or an amount, not a discount", field="discount_amount")
    if not p.lines:
        if p.items < 1:
            raise ValidationFailed("must be at least 1", field="items")
        return
    if len(p.lines) > MAX_LINES:
        raise ValidationFailed(f"at most {MAX_LINES} lines", field="lines")
    for n, line in enumerate(p.lines):
        if line.quantity < 1 or line.unit_price < 0 or line.discount_amount < 0:
            raise ValidationFailed(f"line {n}: quantity >= 1, unit_price and discount_amount >= 0", field="lines")
        if line.net < 0:
            raise ValidationFailed(f"line {n}: the discount exceeds quantity x unit_price", field="lines")
    total = sum((line.net for line in p.lines), Decimal(0))
    if total - p.discount_amount != p.amount:
        sale_discount = f" less the sale's discount {p.discount_amount}" if p.discount_amount else ""
        raise ValidationFailed(f"the lines come to {total}{sale_discount}, not the amount {p.amount}",
                               field="lines")
    quantities = sum(line.quantity for line in p.lines)
    if p.items != quantities:
        raise ValidationFailed(f"the lines hold {quantities} items", field="items")


@dataclass(frozen=True)
class SaleRecord:
    """What the ledger remembers of an applied sale (for returns and the status API)."""

    member_id: str
    amount: Decimal
    points: int
    earn_month: str
    returned: Decimal
    points_clawed: int
    lines: tuple[Line, ...] = ()
    returned_lines: dict[str, int] = field(default_factory=dict)  # sku -> quantity taken back


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
    returned_lines_after(ret, sale)


def returned_lines_after(ret: Purchase, sale: SaleRecord) -> dict[str, int]:
    """The sale's quantities taken back, per sku, once this return is applied. A return naming
    lines may take back only what the sale sold and no earlier return took (a sale recorded
    without lines has nothing to check them against)."""
    taken = dict(sale.returned_lines)
    if not ret.lines or not sale.lines:
        return taken
    sold: dict[str, int] = {}
    for line in sale.lines:
        sold[line.sku] = sold.get(line.sku, 0) + line.quantity
    for line in ret.lines:
        if line.sku not in sold:
            raise ValidationFailed(f"sku {line.sku} is not on the original sale", field="lines")
        taken[line.sku] = taken.get(line.sku, 0) + line.quantity
        if taken[line.sku] > sold[line.sku]:
            left = sold[line.sku] - sale.returned_lines.get(line.sku, 0)
            raise ValidationFailed(f"sku {line.sku}: {left} left to return", field="lines")
    return taken


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

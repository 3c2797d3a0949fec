"""Purchases, returns and points."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    Field,
    PlainValidator,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .base import (
    FieldError,
    Id,
    Money,
    MoneyOrZero,
    OneOf,
    PhoneText,
    _Input,
    _Model,
)

MAX_BATCH = 100  # purchases in one POST /purchases

# A row of an intake: queued, refused with its fields, or valid but refused by the queue (send it again).
RowStatus = Literal["accepted", "invalid", "retry"]
# A transaction the consumer has processed (a sale awaiting its returns' arrival is not reported).
ProcessedStatus = Literal["applied", "held", "rejected"]
MovementKind = Literal["sale", "return", "redemption"]

TxnId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")]


class LineIn(_Input):
    """One line of the basket: a sale's, or on a return the line it takes back."""

    sku: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)] | None = None
    category: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None = None
    quantity: int = Field(ge=1, le=10_000)
    unit_price: MoneyOrZero = Field(description="Decimal string, >= 0", examples=["644.00"])
    discount_amount: MoneyOrZero | None = Field(None, description="Taken off this line's quantity x unit_price")


class PurchaseIn(_Input):
    """One sale or return as a store app or POS reports it. With `lines`, the lines' quantity x
    unit_price - discount_amount, summed, less the sale's `discount_amount`, must equal `amount`
    (422 naming `lines`), and `items` may be left out (the lines' quantities)."""

    transaction_id: TxnId = Field(description="Unique per brand and store")
    store_id: Id
    member_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    phone: PhoneText | None = Field(default=None, description="Instead of member_id; any format")
    kind: Literal["sale", "return"]
    amount: Money = Field(description="Decimal string, > 0, at most 2 decimals", examples=["1288.00"])
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    items: int | None = Field(None, ge=1, le=10_000, description="Required without lines")
    occurred_at: AwareDatetime = Field(description="ISO 8601 with offset")
    original_transaction_id: TxnId | None = Field(default=None, description="Returns: the sale they reverse")
    lines: list[LineIn] | None = Field(None, min_length=1, max_length=100,
                                       description="The basket (at most 100 lines); a return's: what it takes back")
    discount_amount: MoneyOrZero | None = Field(None, description="Sales: a discount on the whole sale, beyond "
                                                "the lines' own; amount is what was paid")

    @property
    def item_count(self) -> int:
        return self.items if self.items is not None else sum(line.quantity for line in self.lines or [])

    @model_validator(mode="after")
    def _member_named_once(self) -> PurchaseIn:
        if bool(self.member_id) == bool(self.phone):
            raise PydanticCustomError("field:member_id", "give exactly one of member_id or phone")
        if self.items is None and not self.lines:
            raise PydanticCustomError("field:items", "give items, or lines")
        return self


class PurchaseBatchIn(_Input):
    """A batch of purchases; each row is validated and answered on its own (by its index)."""

    purchases: list[PurchaseIn] = Field(min_length=1, max_length=MAX_BATCH)


def _json_object(value: Any) -> Any:
    if not isinstance(value, dict):
        raise PydanticCustomError("json_object", "expected a JSON object")
    return value


# The body of POST /purchases: one purchase or a batch, documented as exactly one of the two.
# The request passes through as the raw JSON object: the service validates row by row, so one bad
# row is reported by its index instead of refusing the whole batch.
PurchaseSubmission = Annotated[
    PurchaseIn | PurchaseBatchIn,
    PlainValidator(_json_object, json_schema_input_type=PurchaseIn | PurchaseBatchIn),
    OneOf,
]


class PurchaseRowStatus(_Model):
    index: int
    transaction_id: str | None
    status: RowStatus
    fields: list[FieldError] = Field(default_factory=list)


class PurchaseIntakeResult(_Model):
    accepted: int
    invalid: int
    results: list[PurchaseRowStatus]


class PurchaseStatusOut(_Model):
    store_id: str
    transaction_id: str
    status: ProcessedStatus
    reason: str | None
    kind: str | None
    member_id: str | None
    amount: str | None
    points: int | None = Field(description="Sale: points earned; return: points clawed back")
    returned: str | None = Field(description="Sale: amount returned so far")
    received_at: datetime | None
    applied_at: datetime | None
    conflicting_submissions: int = Field(description="Later submissions of this id with another payload")


class PointsMovement(_Model):
    at: datetime | None
    kind: MovementKind
    points: int = Field(description="Signed: earned > 0, clawed back or spent < 0")
    reference: str


class PointsOut(_Model):
    member_id: str
    balance: int
    expiring_30d: int = Field(description="Points that expire within the next 30 days")
    lots: dict[str, int] = Field(description="Month earned -> points left (expire at the end of month + lifetime)")
    recent: list[PointsMovement]


class RedemptionIn(_Input):
    """Either a reward of the brand's catalogue (its points price, one taken from its stock), or
    a bare number of points with the reason."""

    redemption_id: TxnId = Field(description="Idempotency key: the same redemption twice spends once")
    reward_id: Id | None = Field(None, description="A reward of the catalogue (GET /rewards)")
    points: int | None = Field(None, gt=0, le=10_000_000, description="Without reward_id: the points to spend")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None

    @model_validator(mode="after")
    def _reward_or_points(self) -> RedemptionIn:
        if self.reward_id is not None:
            if self.points is not None:
                raise PydanticCustomError("field:points", "a reward sets its own points: give reward_id or points")
            return self
        if self.points is None:
            raise PydanticCustomError("field:points", "give reward_id, or points with a reason")
        if self.reason is None:
            raise PydanticCustomError("field:reason", "points without a reward need a reason")
        return self


class RedemptionOut(_Model):
    member_id: str
    redemption_id: str
    reward_id: str | None = None
    points: int
    balance: int
    redeemed_at: datetime


class LineOut(_Model):
    sku: str
    name: str | None
    category: str | None
    quantity: int
    unit_price: str
    discount_amount: str


class ReturnAppliedOut(_Model):
    store_id: str
    transaction_id: str
    amount: str
    points: int = Field(description="Points clawed back by this return")
    occurred_at: datetime


class PurchaseRecordOut(_Model):
    store_id: str
    transaction_id: str
    kind: Literal["sale", "return"]
    occurred_at: datetime
    applied_at: datetime | None
    amount: str = Field(description="What was paid (a return: what was refunded)")
    currency: str
    items: int
    discount_amount: str = Field(description="All discounts of the sale: its lines' and the whole sale's")
    points: int = Field(description="Signed: earned by a sale > 0, clawed back by a return < 0")
    lines: list[LineOut]
    original_transaction_id: str | None = Field(description="A return: the sale it takes back from")
    returned: str | None = Field(description="A sale: the amount returned so far")
    returns: list[ReturnAppliedOut] = Field(description="A sale: the returns applied against it")
    recorded_by: str | None = Field(description="Who recorded it: the staff id of the intake, or event:<source>")


class PurchaseHistoryOut(_Model):
    member_id: str
    purchases: list[PurchaseRecordOut] = Field(description="Newest first, by when they happened")
    next: str | None = Field(description="Cursor for the next page (pass as `after`); null on the last")

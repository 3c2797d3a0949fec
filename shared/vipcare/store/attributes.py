"""Custom pynamodb attributes: exact money, calendar dates, flat maps of figures, purchase lines."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from pynamodb.attributes import Attribute
from pynamodb.constants import MAP, NUMBER, STRING

from ..domain.purchases import Line


class DecimalAttribute(Attribute[Decimal]):
    """Money as a DynamoDB number, never through float (pynamodb's NumberAttribute uses json)."""

    attr_type = NUMBER

    def serialize(self, value: Decimal) -> str:
        return str(value)

    def deserialize(self, value: str) -> Decimal:
        return Decimal(value)


class DateAttribute(Attribute[date]):
    """A calendar date stored as ISO `YYYY-MM-DD` (sorts and reads naturally)."""

    attr_type = STRING

    def serialize(self, value: date) -> str:
        return value.isoformat()

    def deserialize(self, value: str) -> date:
        return date.fromisoformat(value)


class MonthlyDecimals(Attribute[dict[str, Decimal]]):
    """`{"2026-11": Decimal("1288.00")}` stored as a map of strings (exact, as before).

    A flat map of one known type, (de)serialised in one comprehension: pynamodb's untyped
    MapAttribute builds an attribute object per key, which was most of a purchase's CPU
    (tests/bench/handler_cpu.py). The stored format is the same, so no migration."""

    attr_type = MAP

    def serialize(self, value: dict[str, Decimal]) -> dict[str, dict[str, str]]:
        return {k: {STRING: str(v)} for k, v in value.items()}

    def deserialize(self, value: dict[str, dict[str, str]]) -> dict[str, Decimal]:
        return {k: Decimal(v.get(STRING) or v[NUMBER]) for k, v in value.items()}


class MonthlyCounts(Attribute[dict[str, int]]):
    """`{"2026-11": 3}` stored as a map of numbers; see MonthlyDecimals for why."""

    attr_type = MAP

    def serialize(self, value: dict[str, int]) -> dict[str, dict[str, str]]:
        return {k: {NUMBER: str(int(v))} for k, v in value.items()}

    def deserialize(self, value: dict[str, dict[str, str]]) -> dict[str, int]:
        return {k: int(Decimal(v[NUMBER])) for k, v in value.items()}


class LinesAttribute(Attribute[tuple[Line, ...]]):
    """A purchase's lines as one compact JSON string of rows `[sku, quantity, unit_price,
    discount, name, category]`: a hundred lines stay a few KB, and a sale's write units grow
    only with what it carries (a map per line would repeat every attribute name)."""

    attr_type = STRING

    def serialize(self, value: tuple[Line, ...]) -> str:
        return json.dumps([[x.sku, x.quantity, str(x.unit_price), str(x.discount_amount), x.name, x.category]
                           for x in value], ensure_ascii=False, separators=(",", ":"))

    def deserialize(self, value: str) -> tuple[Line, ...]:
        return tuple(Line(sku=r[0], quantity=int(r[1]), unit_price=Decimal(r[2]), discount_amount=Decimal(r[3]),
                          name=r[4], category=r[5]) for r in json.loads(value))


class IntegerAttribute(Attribute[int]):
    """A whole number (counts, points, versions). pynamodb's NumberAttribute goes through
    json for every value; this writes the same DynamoDB number directly."""

    attr_type = NUMBER

    def serialize(self, value: int) -> str:
        return str(int(value))

    def deserialize(self, value: str) -> int:
        return int(value) if value.lstrip("-").isdigit() else int(Decimal(value))

"""Custom pynamodb attributes: exact money and calendar dates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pynamodb.attributes import Attribute
from pynamodb.constants import NUMBER, STRING


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

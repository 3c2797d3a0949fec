"""Shared pieces of the API models: field types, the base classes and the one error body.

Requests forbid unknown fields: that is what stops mass assignment (`tier`, `points`...).
Models are split by area so a function imports (and pays cold-start time for) only its own.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

Id = Annotated[str, StringConstraints(strip_whitespace=True, pattern=ID_PATTERN)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]
PhoneText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254, pattern=EMAIL_PATTERN)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
# Every list's continuation (vipcare.store.paging): opaque, valid for the same list only.
NextCursor = Annotated[str | None, Field(description="Pass as `after` for the next page; null on the last. A full "
                                                      "page may lead to an empty last one")]


class _Model(BaseModel):
    # Validators are built on first use, not at import: a function builds only the models its
    # routes touch, which keeps ~100 ms of schema building out of every cold start.
    model_config = ConfigDict(defer_build=True)


class _Input(_Model):
    model_config = ConfigDict(extra="forbid")


class OneOf:
    """Documents a union as `oneOf` (its variants exclude each other, as forbidding extra fields
    makes them) rather than pydantic's `anyOf`, so client generators see one shape or the other."""

    @classmethod
    def __get_pydantic_json_schema__(cls, core: Any, handler: Any) -> Any:
        schema = handler(core)
        if "anyOf" in schema:
            schema["oneOf"] = schema.pop("anyOf")
        return schema



class FieldError(_Model):
    field: str
    message: str


class ErrorBody(_Model):
    error: str = Field(description="Stable machine-readable code")
    message: str
    fields: list[FieldError] = Field(default_factory=list)
    member_id: str | None = Field(default=None, description="The existing member, on a duplicate phone")



def _money(value: object) -> str:
    """A decimal string > 0 with at most 2 decimals ("1288.00"); never a float."""
    return _amount(value, zero_ok=False)


def _money_or_zero(value: object) -> str:
    """A decimal string >= 0 with at most 2 decimals (a free line, a discount)."""
    return _amount(value, zero_ok=True)


def _amount(value: object, *, zero_ok: bool) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a decimal string such as \"1288.00\"")
    text = value.strip()
    try:
        amount = Decimal(text)
    except ArithmeticError:
        raise ValueError("must be a decimal string such as \"1288.00\"") from None
    if not amount.is_finite():
        raise ValueError("must be a finite number")
    if amount < 0 or (amount == 0 and not zero_ok):
        raise ValueError("must not be negative" if zero_ok else "must be greater than zero")
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("at most 2 decimal places")
    if amount >= Decimal("1e12"):
        raise ValueError("is too large")
    return f"{amount:.2f}"


Money = Annotated[str, BeforeValidator(_money)]
MoneyOrZero = Annotated[str, BeforeValidator(_money_or_zero)]

# Every rate in every report: a share in [0, 1] as a decimal string with 4 places ("0.3333"),
# never a JSON float; null when there is nothing to divide by (vipcare.domain.kpis.rate).
# (Described, not enforced here: a report must not fail on a bad rate; the KPI functions' own
# tests hold them in [0, 1].)
Rate = Annotated[str, Field(description="a share in [0, 1], 4 decimal places", examples=["0.3333"])] | None

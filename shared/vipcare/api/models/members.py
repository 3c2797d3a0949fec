"""Member card: enrolment, profile edits, the card as the API shows it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import (
    Field,
    StringConstraints,
    field_validator,
)

from ...domain.members import Gender, Tier
from .base import (
    Email,
    Id,
    LongText,
    Name,
    PhoneText,
    Tag,
    Text,
    _Input,
    _Model,
)


class ConsentIn(_Input):
    sms_marketing: bool = Field(description="SMS marketing (greetings, promotions) allowed")


class FamilyMemberIn(_Input):
    name: Name
    relation: Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)] | None = None
    birthday: date | None = None


class _ProfileFields(_Input):
    other_phones: list[PhoneText] = Field(default_factory=list, max_length=5)
    gender: Gender | None = None
    birthday: date | None = Field(default=None, description="Solar date of birth (YYYY-MM-DD)")
    birthday_lunar: bool = Field(default=False, description="Celebrate on the lunar calendar date")
    anniversary: date | None = Field(default=None, description="Wedding anniversary")
    email: Email | None = None
    address: Text | None = None
    occupation: Text | None = None
    company: Text | None = None
    family: list[FamilyMemberIn] = Field(default_factory=list, max_length=10)
    hobbies: list[Tag] = Field(default_factory=list, max_length=20)
    preferences: LongText | None = None
    notes: LongText | None = None


class EnrolRequest(_ProfileFields):
    name: Name
    phone: PhoneText = Field(description="Any common format; stored as E.164")
    store_id: Id
    consent: ConsentIn = Field(default_factory=lambda: ConsentIn(sms_marketing=False))
    referrer_member_id: Annotated[str, StringConstraints(max_length=64)] | None = None


class MemberPatch(_ProfileFields):
    """Profile and consent only; absent fields are unchanged, `null` clears a field."""

    name: Name | None = None
    phone: PhoneText | None = None
    consent: ConsentIn | None = None
    # Defaults of list/bool fields must not count as "set": PATCH uses model_fields_set.
    other_phones: list[PhoneText] | None = Field(default=None, max_length=5)  # type: ignore[assignment]
    birthday_lunar: bool | None = None  # type: ignore[assignment]
    family: list[FamilyMemberIn] | None = Field(default=None, max_length=10)  # type: ignore[assignment]
    hobbies: list[Tag] | None = Field(default=None, max_length=20)  # type: ignore[assignment]

    @field_validator("name", "phone", "birthday_lunar", "consent")
    @classmethod
    def _not_null(cls, value: object, info):  # type: ignore[no-untyped-def]
        if value is None:
            raise ValueError(f"{info.field_name} cannot be cleared")
        return value


class ConsentOut(_Model):
    sms_marketing: bool
    updated_at: datetime
    source: str


class FamilyMemberOut(_Model):
    name: str
    relation: str | None = None
    birthday: date | None = None


class MemberCard(_Model):
    member_id: str
    member_no: str
    brand_id: str
    store_id: str
    name: str
    phone: str
    other_phones: list[str]
    gender: Gender | None
    birthday: date | None
    birthday_lunar: bool
    anniversary: date | None
    email: str | None
    address: str | None
    occupation: str | None
    company: str | None
    family: list[FamilyMemberOut]
    hobbies: list[str]
    preferences: str | None
    notes: str | None
    consent: ConsentOut
    referrer_member_id: str | None
    tier: Tier
    points_balance: int
    spend_12m: str = Field(description="Net spend over the last 12 months, decimal string")
    purchases_6m: int
    manager_id: str | None
    enrolled_at: datetime
    updated_at: datetime

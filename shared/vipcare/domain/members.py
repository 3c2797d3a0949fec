"""Members and their profile card (docs/domain.md §1). Pure data and rules."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from .errors import ValidationFailed


class Tier(StrEnum):
    REGULAR = "regular"
    SILVER = "silver"
    GOLD = "gold"
    DIAMOND = "diamond"


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNDISCLOSED = "undisclosed"


@dataclass(slots=True)
class Consent:
    """Marketing consent for one channel, with when and by whom it was recorded."""

    sms_marketing: bool
    updated_at: datetime
    source: str


@dataclass(slots=True)
class FamilyMember:
    name: str
    relation: str | None = None
    birthday: date | None = None


# Fields staff may edit on the card (PATCH). Everything else on a member -- ids, tier,
# points, spend, manager -- is owned by VIP Care and can never be set through input.
PROFILE_FIELDS: tuple[str, ...] = (
    "name",
    "phone",
    "other_phones",
    "gender",
    "birthday",
    "birthday_lunar",
    "anniversary",
    "email",
    "address",
    "occupation",
    "company",
    "family",
    "hobbies",
    "preferences",
    "notes",
)


@dataclass(slots=True)
class Member:
    member_id: str
    brand_id: str
    store_id: str
    member_no: str
    name: str
    phone: str  # E.164; identity within the brand
    enrolled_at: datetime
    updated_at: datetime
    consent: Consent
    other_phones: list[str] = field(default_factory=list)
    gender: Gender | None = None
    birthday: date | None = None
    birthday_lunar: bool = False
    anniversary: date | None = None
    email: str | None = None
    address: str | None = None
    occupation: str | None = None
    company: str | None = None
    family: list[FamilyMember] = field(default_factory=list)
    hobbies: list[str] = field(default_factory=list)
    preferences: str | None = None
    notes: str | None = None
    referrer_member_id: str | None = None
    # Owned by VIP Care: filled by purchases, tier evaluation and manager assignment.
    tier: Tier = Tier.REGULAR
    points_balance: int = 0
    spend_12m: Decimal = Decimal("0")
    purchases_6m: int = 0
    manager_id: str | None = None
    sms_opted_out: bool = False  # SNS reported a STOP reply: no marketing SMS


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who read everything about a member (an export) or erased them, and when."""

    action: str
    by: str
    at: datetime


def new_member_id() -> str:
    """Opaque and unguessable: ids in URLs must not be enumerable."""
    return "m_" + secrets.token_hex(8)


def format_member_no(brand_id: str, store_code: str, sequence: int) -> str:
    """`DEMO-001-000042`: brand, store and enrolment sequence, readable at a glance."""
    return f"{brand_id.upper()}-{store_code.upper()}-{sequence:06d}"


def store_code_for(store_id: str, brand_id: str) -> str:
    """Default short store code: the store id without the brand prefix (`demo-001` -> `001`)."""
    code = store_id[len(brand_id) + 1 :] if store_id.startswith(brand_id + "-") else store_id
    return "".join(ch for ch in code if ch.isalnum())[:8] or "STORE"


def check_date_not_future(value: date | None, today: date, *, field: str) -> None:
    if value is None:
        return
    if value > today:
        raise ValidationFailed(f"{field} cannot be in the future", field=field)
    if value.year < 1900:
        raise ValidationFailed(f"{field} is before 1900", field=field)

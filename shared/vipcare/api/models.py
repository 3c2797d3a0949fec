"""Request and response models of the HTTP API (the OpenAPI document is generated from these).

Requests forbid unknown fields: that is what stops mass assignment (`tier`, `points`...).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ..domain.access import Role
from ..domain.complaints import Action as ComplaintAction
from ..domain.complaints import Category, Channel, Priority, Severity
from ..domain.complaints import Status as ComplaintStatus
from ..domain.members import Gender, Tier

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

Id = Annotated[str, StringConstraints(strip_whitespace=True, pattern=ID_PATTERN)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]
PhoneText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254, pattern=EMAIL_PATTERN)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


class ConsentOut(BaseModel):
    sms_marketing: bool
    updated_at: datetime
    source: str


class FamilyMemberOut(BaseModel):
    name: str
    relation: str | None = None
    birthday: date | None = None


class MemberCard(BaseModel):
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


class StoreCreate(_Input):
    store_id: Id
    name: Name
    code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9]{1,8}$")] | None = None
    timezone: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, description="IANA time zone; defaults to the brand's"
    )
    address: Text | None = None


class StoreOut(BaseModel):
    brand_id: str
    store_id: str
    name: str
    code: str
    timezone: str
    address: str | None
    created_at: datetime


class StaffCreate(_Input):
    staff_id: Id | None = Field(default=None, description="Generated when absent")
    name: Name
    role: Role
    store_id: Id | None = None
    supervisor_id: Id | None = None
    on_leave: bool = False
    capacity: int = Field(default=0, ge=0, le=10_000, description="Members an account manager can own")


class StaffPatch(_Input):
    name: Name | None = None
    role: Role | None = None
    store_id: Id | None = None
    supervisor_id: Id | None = None
    on_leave: bool | None = None
    capacity: int | None = Field(default=None, ge=0, le=10_000)
    active: bool | None = None

    @field_validator("name", "role", "on_leave", "capacity", "active")
    @classmethod
    def _not_null(cls, value: object, info):  # type: ignore[no-untyped-def]
        if value is None:
            raise ValueError(f"{info.field_name} cannot be cleared")
        return value


class StaffOut(BaseModel):
    brand_id: str
    staff_id: str
    name: str
    role: Role
    store_id: str | None
    supervisor_id: str | None
    on_leave: bool
    capacity: int
    active: bool
    created_at: datetime
    updated_at: datetime


class FieldError(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    error: str = Field(description="Stable machine-readable code")
    message: str
    fields: list[FieldError] = Field(default_factory=list)
    member_id: str | None = Field(default=None, description="The existing member, on a duplicate phone")


# ---- purchases and points --------------------------------------------------------------

def _money(value: object) -> str:
    """A decimal string > 0 with at most 2 decimals ("1288.00"); never a float."""
    if not isinstance(value, str):
        raise ValueError("must be a decimal string such as \"1288.00\"")
    text = value.strip()
    try:
        amount = Decimal(text)
    except ArithmeticError:
        raise ValueError("must be a decimal string such as \"1288.00\"") from None
    if not amount.is_finite():
        raise ValueError("must be a finite number")
    if amount <= 0:
        raise ValueError("must be greater than zero")
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("at most 2 decimal places")
    if amount >= Decimal("1e12"):
        raise ValueError("is too large")
    return f"{amount:.2f}"


Money = Annotated[str, BeforeValidator(_money)]
TxnId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")]


class PurchaseIn(_Input):
    """One sale or return as a store app or POS reports it."""

    transaction_id: TxnId = Field(description="Unique per brand and store")
    store_id: Id
    member_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    phone: PhoneText | None = Field(default=None, description="Instead of member_id; any format")
    kind: Literal["sale", "return"]
    amount: Money = Field(description="Decimal string, > 0, at most 2 decimals", examples=["1288.00"])
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    items: int = Field(ge=1, le=10_000)
    occurred_at: AwareDatetime = Field(description="ISO 8601 with offset")
    original_transaction_id: TxnId | None = Field(default=None, description="Returns: the sale they reverse")

    @model_validator(mode="after")
    def _member_named_once(self) -> PurchaseIn:
        if bool(self.member_id) == bool(self.phone):
            raise PydanticCustomError("field:member_id", "give exactly one of member_id or phone")
        return self


class PurchaseRowStatus(BaseModel):
    index: int
    transaction_id: str | None
    status: Literal["accepted", "invalid"]
    fields: list[FieldError] = Field(default_factory=list)


class PurchaseIntakeResult(BaseModel):
    accepted: int
    invalid: int
    results: list[PurchaseRowStatus]


class PurchaseStatusOut(BaseModel):
    store_id: str
    transaction_id: str
    status: Literal["applied", "held", "rejected"]
    reason: str | None
    kind: str | None
    member_id: str | None
    amount: str | None
    points: int | None = Field(description="Sale: points earned; return: points clawed back")
    returned: str | None = Field(description="Sale: amount returned so far")
    received_at: datetime | None
    applied_at: datetime | None
    conflicting_submissions: int = Field(description="Later submissions of this id with another payload")


class PointsMovement(BaseModel):
    at: datetime | None
    kind: Literal["sale", "return", "redemption"]
    points: int = Field(description="Signed: earned > 0, clawed back or spent < 0")
    reference: str


class PointsOut(BaseModel):
    member_id: str
    balance: int
    expiring_30d: int = Field(description="Points that expire within the next 30 days")
    lots: dict[str, int] = Field(description="Month earned -> points left (expire at the end of month + lifetime)")
    recent: list[PointsMovement]


class RedemptionIn(_Input):
    redemption_id: TxnId = Field(description="Idempotency key: the same redemption twice spends once")
    points: int = Field(gt=0, le=10_000_000)
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class RedemptionOut(BaseModel):
    member_id: str
    redemption_id: str
    points: int
    balance: int
    redeemed_at: datetime
# ---- complaints --------------------------------------------------------------------------

ComplaintText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
MoneyText = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{1,12}(\.\d{1,2})?$")]


class ComplaintCreate(_Input):
    member_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    store_id: Id
    channel: Channel
    category: Category
    severity: Severity
    description: ComplaintText = Field(description="What happened, 1-2000 characters")
    order_value: MoneyText | None = Field(default=None, description="Value of the order concerned, decimal string")


class AcknowledgeRequest(_Input):
    note: ComplaintText | None = Field(default=None, description="What was said to the member")


class NoteRequest(_Input):
    text: ComplaintText


class ResolveRequest(_Input):
    resolution: ComplaintText


class FeedbackRequest(_Input):
    satisfied: bool = Field(description="The member's answer: satisfied closes, not satisfied reopens and escalates")
    nps: int | None = Field(default=None, ge=0, le=10, description="Would recommend us, 0-10 (for the NPS figure)")
    comment: ComplaintText | None = None


class HistoryOut(BaseModel):
    at: datetime
    actor: str
    action: ComplaintAction
    status: ComplaintStatus
    assignee: str | None = None
    text: str | None = None


class ComplaintSummary(BaseModel):
    complaint_id: str
    brand_id: str
    store_id: str
    member_id: str
    channel: Channel
    category: Category
    severity: Severity
    priority: Priority
    status: ComplaintStatus
    assignee: str = Field(description="A staff id, or a queue (`queue:<store>:service`) any store staff can take")
    level: int = Field(description="Escalation level: 0 agent, 1 supervisor, 2 department head, 3 vice president")
    opened_at: datetime
    respond_by: datetime
    resolve_by: datetime
    order_value: str | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    next_escalation_check_at: datetime | None


class ComplaintOut(ComplaintSummary):
    description: str
    resolution: str | None
    satisfied: bool | None
    nps: int | None
    reopened_at: datetime | None
    history: list[HistoryOut]


class ComplaintFigures(BaseModel):
    opened: int
    responded: int
    responded_within_deadline: int
    responded_within_deadline_rate: float | None
    mean_first_response_minutes: float | None
    resolved: int
    resolved_within_deadline: int
    resolved_within_deadline_rate: float | None = Field(description="Resolved within deadline / cases opened")
    feedback: int
    satisfied: int
    satisfaction_rate: float | None
    reopened: int
    escalations: int
    nps_responses: int
    nps: float | None = Field(description="Promoters minus detractors, in percent")


class StoreComplaintFigures(ComplaintFigures):
    store_id: str


class ComplaintReport(BaseModel):
    period: str
    store_id: str | None
    totals: ComplaintFigures
    stores: list[StoreComplaintFigures]


# ---- tiers ---------------------------------------------------------------------------------------


class TierRuleIn(_Input):
    """One tier of the policy. Thresholds are checked by the service (increase with the tier,
    keep <= upgrade, nothing negative) so that each error names its field."""

    tier: Tier
    upgrade_spend_12m: Decimal = Field(description="12-month net spend that reaches this tier (decimal string)")
    upgrade_purchases_6m: int = Field(description="6-month purchase count that reaches this tier")
    keep_spend_12m: Decimal | None = Field(None, description="Spend that keeps the tier; default 80% of upgrade")
    keep_purchases_6m: int | None = Field(None, description="Purchases that keep the tier; default 80% of upgrade")
    points_multiplier: Decimal = Decimal("1.0")
    dedicated_manager: bool = False
    contact_every_days: int | None = Field(None, ge=1, le=366)


class TierPolicyIn(_Input):
    combinator: Literal["any", "all"] = "any"
    tiers: list[TierRuleIn] = Field(min_length=1, max_length=10)
    validity_months: int = 12
    warning_days: int = 30
    max_return_rate: Decimal | None = Field(None, description="Returns / sales over 12 months above this block "
                                                               "upgrades (0-1); null: no block")
    referral_credit: Decimal = Field(Decimal("0"), description="Qualifying spend credited per successful referral")
    manual_tier_months: int = Field(12, ge=1, le=36, description="Default expiry of an approved manual tier")


class TierRuleOut(BaseModel):
    tier: Tier
    upgrade_spend_12m: str
    upgrade_purchases_6m: int
    keep_spend_12m: str
    keep_purchases_6m: int
    points_multiplier: str
    dedicated_manager: bool
    contact_every_days: int | None = None


class TierPolicyOut(BaseModel):
    brand_id: str
    version: int
    combinator: str
    tiers: list[TierRuleOut]
    validity_months: int
    warning_days: int
    max_return_rate: str | None = None
    referral_credit: str
    manual_tier_months: int
    created_at: datetime | None = None
    created_by: str | None = None
    versions: list[int] = Field(default_factory=list, description="Every stored version (kept for the record)")


class TierApplicationIn(_Input):
    target_tier: Tier
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class TierApplicationDecisionIn(_Input):
    decision: Literal["approve", "reject"]
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    expires_on: date | None = Field(None, description="End of the manual tier (exclusive); default from the policy")


class TierApplicationOut(BaseModel):
    application_id: str
    member_id: str
    target_tier: Tier
    reason: str
    status: Literal["pending", "approved", "rejected"]
    requested_by: str
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str | None = None
    expires_on: date | None = None


class TierDecisionOut(BaseModel):
    outcome: str
    tier_from: str
    tier_to: str
    actor: str
    policy_version: int
    at: datetime
    explanation: dict[str, object]


class MemberTierOut(BaseModel):
    member_id: str
    tier: Tier
    since: date | None = None
    valid_until: date | None = None
    manual_floor: Tier | None = None
    manual_floor_until: date | None = None
    next_review: date | None = None
    policy_version: int
    progress: dict[str, object] = Field(description="spend_12m, purchases_6m, next_tier {spend_needed, "
                                                    "purchases_needed}, keep {spend_needed, purchases_needed, "
                                                    "keep_until_at_least, days_left}")
    decisions: list[TierDecisionOut]


class ThresholdAdviceOut(BaseModel):
    brand_id: str
    growth: str
    policy_version: int
    sample: dict[str, object] = Field(description="members, transactions and how they were chosen")
    base_line: dict[str, str | None] = Field(description="average_item_price, items_per_transaction, "
                                                         "average_ticket, suggested (with the growth)")
    tiers: list[dict[str, object]] = Field(description="per tier: members_sampled, average_spend_12m, "
                                                       "average_ticket, current and suggested upgrade spend")
# ---- care: messages, contacts, tasks, templates -------------------------------------------


class MessageOut(BaseModel):
    occasion_key: str = Field(description="The dedup key: one message per member and occasion")
    kind: str
    category: Literal["service", "marketing"]
    status: Literal["sending", "sent", "deferred", "capped", "suppressed", "failed"]
    reason: str | None = Field(None, description="Why deferred, capped, suppressed or failed")
    text: str | None = None
    created_at: datetime
    sent_at: datetime | None = None
    next_attempt_at: datetime | None = None
    attempts: int = 0


ContactChannel = Literal["visit", "phone", "sms", "wechat", "email", "event", "other"]


class ContactCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contacted_on: date = Field(description="The day of the contact (brand time); not in the future")
    channel: ContactChannel
    notes: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    next_action: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class ContactOut(BaseModel):
    contact_id: str
    member_id: str
    contacted_on: date
    channel: str
    notes: str | None = None
    next_action: str | None = None
    staff_id: str
    created_at: datetime
    completed_task_id: str | None = Field(None, description="The cadence task this contact completed")


class TaskOut(BaseModel):
    task_id: str = Field(description="`<kind>.<period>`, unique per member")
    member_id: str
    kind: Literal["cadence", "dormancy", "retention", "revisit"]
    period: str
    status: Literal["open", "done"]
    assignee: str
    reason: str | None = None
    escalated: int = 0
    created_at: datetime
    completed_at: datetime | None = None
    completed_by: str | None = None


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, StringConstraints(min_length=1, max_length=400)] = Field(
        description="Placeholders: {name} {tier} {brand} {holiday} {amount} {date} {points}; at most 2 SMS "
        "segments with long values")


class TemplateOut(BaseModel):
    kind: str
    language: str
    text: str
    segments: int


class CareSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: str | None = Field(None, description="IANA time zone for quiet hours (default: the brand's)")
    language: Literal["zh", "en"] | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = Field(
        None, description="Country of the public holidays (ISO 3166)")
    weekly_cap: int | None = Field(None, ge=0, le=14, description="Marketing SMS per member per 7 days")
    daily_budget: int | None = Field(None, ge=0, le=10_000_000, description="SMS per brand per day")
    brand_dates: dict[Annotated[str, StringConstraints(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")],
                      Annotated[str, StringConstraints(min_length=1, max_length=40)]] | None = Field(
        None, description="Brand-defined occasions: MM-DD -> name (e.g. the brand's anniversary)")

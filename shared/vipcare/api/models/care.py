"""Care: messages, contacts, tasks, templates and care settings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    ConfigDict,
    Field,
    StringConstraints,
)

from .base import (
    NextCursor,
    _Model,
)


class MessageOut(_Model):
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


class ContactCreate(_Model):
    model_config = ConfigDict(extra="forbid")

    contacted_on: date = Field(description="The day of the contact (brand time); not in the future")
    channel: ContactChannel
    notes: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    next_action: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    nps: int | None = Field(default=None, ge=0, le=10,
                            description="How likely the member is to recommend the brand (0-10), if asked")


class ContactOut(_Model):
    contact_id: str
    member_id: str
    contacted_on: date
    channel: str
    notes: str | None = None
    next_action: str | None = None
    nps: int | None = None
    staff_id: str
    created_at: datetime
    completed_task_id: str | None = Field(None, description="The cadence task this contact completed")


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
StaffId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class TaskCreate(_Model):
    """A task given by hand (supervisor and above, or a manager for someone below them)."""

    model_config = ConfigDict(extra="forbid")

    assignee_id: StaffId
    member_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        None, description="The member the task is about (of the brand, and of the caller's store for a manager)")
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    due_on: date = Field(description="Brand day by which it is to be done; not in the past")
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class TaskAssignIn(_Model):
    model_config = ConfigDict(extra="forbid")

    assignee_id: StaffId = Field(description="Someone below the holder in the supervisor chain (admins: anyone)")


class TaskCompleteIn(_Model):
    model_config = ConfigDict(extra="forbid")

    outcome: Text = Field(description="How it ended")


class TaskDoneIn(_Model):
    """How a member's task ended; a retention task needs `outcome` retained or lost, and lost a `reason`."""

    model_config = ConfigDict(extra="forbid")

    outcome: Text | None = Field(None, description="Free text; a retention task: `retained` or `lost`")
    reason: Literal["moved", "competitor", "price", "service", "product", "other"] | None = Field(
        None, description="Why a member was lost (a retention task closed `lost` only)")


class ChurnReasonOut(_Model):
    reason: str
    count: int
    rate: str | None = Field(description="count / closed retention tasks (4 decimals), null when none closed")


class ChurnReasonsOut(_Model):
    period: str
    store_id: str | None = None
    closed: int = Field(description="Retention tasks closed in the brand's month")
    retained: int
    lost: int
    retained_rate: str | None = None
    lost_rate: str | None = None
    reasons: list[ChurnReasonOut]


class HandOverOut(_Model):
    event: Literal["created", "assigned"]
    at: datetime
    by: str
    from_id: str | None = Field(None, description="The holder before (none when created)")
    to_id: str = Field(description="The holder after")


class CadenceNeedOut(_Model):
    channel: str = Field(description="A contact-log channel or `any`")
    count: int
    per: str | None = None
    have: int | None = Field(None, description="Contacts of the channel logged in the period (in `missing`)")


class TaskOut(_Model):
    task_id: str = Field(description="`<kind>.<period>`, unique per member (or activity)")
    member_id: str | None = Field(None, description="The member the task is about (none for an activity's task)")
    activity_id: str | None = Field(None, description="An organiser's task: the activity whose feedback is due")
    kind: Literal["cadence", "dormancy", "retention", "revisit", "activity_feedback", "assigned",
                  "detractor"]
    period: str
    status: Literal["open", "done"]
    assignee: str
    reason: str | None = None
    escalated: int = 0
    created_at: datetime
    completed_at: datetime | None = None
    completed_by: str | None = None
    requirements: list[CadenceNeedOut] | None = Field(
        None, description="A cadence task: the contacts its tier's cadence asks for the period")
    missing: list[CadenceNeedOut] | None = Field(
        None, description="A cadence task: the requirements the period's contacts do not meet yet (`have` done)")
    title: str | None = Field(None, description="A task given by hand: what to do")
    note: str | None = None
    due_on: date | None = None
    outcome: str | None = Field(None, description="How it ended (given at completion)")
    lost_reason: str | None = Field(None, description="A retention task closed `lost`: why")
    history: list[HandOverOut] | None = Field(None, description="A task given by hand: created, then each "
                                              "hand-over, oldest first")


class BookEntryOut(_Model):
    member_id: str
    member_no: str
    name: str
    tier: str
    store_id: str
    last_contact_on: str | None = Field(None, description="The last logged contact (YYYY-MM-DD)")
    next_contact_due: str | None = Field(None, description="A contact is due by this day (the tier's cadence)")
    overdue: bool


class ManagerBookOut(_Model):
    staff_id: str
    members: list[BookEntryOut]
    next: str | None = Field(None, description="Pass as `after` for the next page; absent on the last")


class TemplateIn(_Model):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, StringConstraints(min_length=1, max_length=400)] = Field(
        description="Placeholders: {name} {tier} {brand} {holiday} {amount} {date} {points}; at most 2 SMS "
        "segments with long values")


class TemplateOut(_Model):
    kind: str
    language: str
    text: str
    segments: int


class CareSettingsIn(_Model):
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


class CareSettingsOut(CareSettingsIn):
    """The brand's care settings as stored after a change; a field never set is null."""


class MessageListOut(_Model):
    member_id: str
    messages: list[MessageOut]
    next: NextCursor = None


class ContactListOut(_Model):
    member_id: str
    contacts: list[ContactOut]
    next: NextCursor = None


class TaskListOut(_Model):
    staff_id: str
    tasks: list[TaskOut] = Field(description="Open tasks first (oldest first), then done ones")
    next: NextCursor = None

"""Member activities (docs/activities.md): salons, trips, launches, training, holiday events and
"new arrivals first" notices. Pure rules: what a valid activity is, its stages, who may reply,
when the organiser's feedback is due and whether it came late.

- The audience is a list (a saved segment's filters, or filters given with the activity), read
  when the invitations go out; an activity for one store invites that store's members only.
- Invitations are marketing SMS (Kind.ACTIVITY): consent, opt-out, weekly cap, quiet hours and
  priority below birthdays apply as to every other; each member is invited once per activity.
- A notice invites no replies: RSVPs to a notice are refused.
- Feedback is due on the 5th working day after the activity ends (weekends and the brand
  country's public holidays skipped); filed after that day's end it is late.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo

from .errors import Conflict, ValidationFailed
from .segments import MemberFilters

FEEDBACK_WORKING_DAYS = 5
MAX_NAME = 80
MAX_SUMMARY = 2000
MAX_CAPACITY = 1_000_000
MAX_LEAD = timedelta(days=366)  # an activity is planned at most a year ahead
# A fan-out that made no progress for this long (its worker died between two slices) is
# handed on again by the hourly job.
STALLED_AFTER = timedelta(minutes=20)


class ActivityKind(StrEnum):
    SALON = "salon"
    TRIP = "trip"
    LAUNCH = "launch"
    TRAINING = "training"
    HOLIDAY = "holiday"
    NOTICE = "notice"  # "new arrivals first": an invitation without replies


class Stage(StrEnum):
    """Where an activity is: waiting for send_at, inviting (slices in flight), invited (every
    slice done), ended (feedback awaited), closed (feedback filed)."""

    SCHEDULED = "scheduled"
    INVITING = "inviting"
    INVITED = "invited"
    ENDED = "ended"
    CLOSED = "closed"


class Reply(StrEnum):
    YES = "yes"
    NO = "no"


# The invitation outcomes counted on the activity (the message statuses they mirror).
OUTCOMES = ("sent", "deferred", "capped", "suppressed", "failed")


@dataclass
class Counts:
    """What the activity's fan-out and its guests produced so far."""

    audience: int = 0  # members the list yielded
    sent: int = 0  # invitations sent: "invited"
    deferred: int = 0
    capped: int = 0
    suppressed: int = 0
    failed: int = 0
    rsvp_yes: int = 0
    rsvp_no: int = 0
    attended: int = 0


@dataclass
class Feedback:
    due_on: date
    filed_at: datetime | None = None
    filed_by: str | None = None
    summary: str | None = None
    satisfied_count: int | None = None
    late: bool | None = None  # None until filed, or while the due day has not passed


@dataclass
class Activity:
    brand_id: str
    activity_id: str
    name: str
    kind: ActivityKind
    store_id: str | None
    starts_at: datetime
    ends_at: datetime
    capacity: int | None
    filters: MemberFilters  # the audience: fixed at creation (a segment's filters are copied)
    segment_id: str | None
    text: str  # the invitation's template (placeholders as in any SMS template)
    send_at: datetime
    organiser_id: str
    created_at: datetime
    period: str  # the brand month the activity ends in: its KPI figures count there
    feedback: Feedback
    stage: Stage = Stage.SCHEDULED
    counts: Counts = field(default_factory=Counts)
    slice: int = 0  # the fan-out slices done
    cursor: str | None = None  # where the next slice starts in the audience list
    progress_at: datetime | None = None  # the last slice's end

    @property
    def takes_replies(self) -> bool:
        return self.kind is not ActivityKind.NOTICE

    @property
    def ended(self) -> bool:
        return self.stage in (Stage.ENDED, Stage.CLOSED)


def occasion_key(activity_id: str) -> str:
    """The member's one message for the activity (the dedup key of every invitation)."""
    return f"activity:{activity_id}"


def activity_of(occasion: str) -> str | None:
    return occasion.removeprefix("activity:") if occasion.startswith("activity:") else None


def validate(name: str, starts_at: datetime, ends_at: datetime, send_at: datetime, capacity: int | None,
             now: datetime) -> None:
    """The activity's own fields (the audience and the text are checked by their owners)."""
    if not name.strip():
        raise ValidationFailed("must not be blank", field="name")
    if len(name) > MAX_NAME:
        raise ValidationFailed(f"at most {MAX_NAME} characters", field="name")
    for label, moment in (("starts_at", starts_at), ("ends_at", ends_at), ("invitation.send_at", send_at)):
        if moment.tzinfo is None:
            raise ValidationFailed("needs a time zone offset", field=label)
    if ends_at <= starts_at:
        raise ValidationFailed("must be after starts_at", field="ends_at")
    if ends_at <= now:
        raise ValidationFailed("the activity has already ended", field="ends_at")
    if starts_at - now > MAX_LEAD:
        raise ValidationFailed("at most a year ahead", field="starts_at")
    if send_at >= starts_at:
        raise ValidationFailed("invitations go out before the activity starts", field="invitation.send_at")
    if capacity is not None and not 1 <= capacity <= MAX_CAPACITY:
        raise ValidationFailed(f"must be 1-{MAX_CAPACITY}", field="capacity")


def check_reply(activity: Activity, now: datetime) -> None:
    if not activity.takes_replies:
        raise Conflict("a notice takes no replies", code="no_replies")
    if now >= activity.ends_at:
        raise Conflict("the activity has ended", code="activity_ended")


def check_attendance(activity: Activity, now: datetime) -> None:
    if now < activity.starts_at:
        raise Conflict("the activity has not started", code="not_started")


def check_feedback(activity: Activity, now: datetime) -> None:
    if now < activity.ends_at:
        raise Conflict("feedback is filed once the activity has ended", code="not_ended")
    if activity.feedback.filed_at is not None:
        raise Conflict("the feedback is already filed", code="feedback_filed")


def check_satisfied(satisfied_count: int | None, attended: int) -> None:
    if satisfied_count is None:
        return
    if satisfied_count < 0:
        raise ValidationFailed("must not be negative", field="satisfied_count")
    if satisfied_count > attended:
        raise ValidationFailed(f"more than attended ({attended})", field="satisfied_count")


# ---- working days -----------------------------------------------------------------------


@cache
def _holidays(country: str, year: int) -> frozenset[date]:
    import holidays

    try:
        return frozenset(holidays.country_holidays(country, years=year))
    except NotImplementedError:
        raise ValidationFailed(f"no public holiday calendar for {country!r}", field="country") from None


def is_working_day(day: date, country: str) -> bool:
    return day.weekday() < 5 and day not in _holidays(country, day.year)


def add_working_days(day: date, n: int, country: str) -> date:
    """The n-th working day after `day` (`day` itself never counts)."""
    out = day
    while n > 0:
        out += timedelta(days=1)
        if is_working_day(out, country):
            n -= 1
    return out


def feedback_due(ends_at: datetime, tz: ZoneInfo, country: str) -> date:
    return add_working_days(ends_at.astimezone(tz).date(), FEEDBACK_WORKING_DAYS, country)


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The first instant after `day` in the brand's zone."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def is_late(due_on: date, filed_at: datetime, tz: ZoneInfo) -> bool:
    return filed_at.astimezone(tz).date() > due_on

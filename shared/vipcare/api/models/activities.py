"""Member activities: the plan, its audience and invitation, replies, attendance, feedback."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from .base import Id, NextCursor, _Input, _Model
from .lists import MemberFiltersIn

ActivityKindId = Literal["salon", "trip", "launch", "training", "holiday", "notice"]
ActivityName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
InvitationText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]
Summary = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class AudienceIn(_Input):
    """Who is invited: a saved segment, or filters (as in GET /members/search). Exactly one."""

    segment_id: Id | None = None
    filters: MemberFiltersIn | None = None

    @model_validator(mode="after")
    def _one(self) -> AudienceIn:
        if (self.segment_id is None) == (self.filters is None):
            raise ValueError("give either segment_id or filters")
        return self


class InvitationIn(_Input):
    text: InvitationText = Field(description="The SMS; placeholders {name}, {tier}, {brand}, {date} (the start, "
                                             "brand time) as in SMS templates; at most 2 segments")
    send_at: AwareDatetime = Field(description="From when the invitations go out (the hourly job; quiet hours, "
                                               "the weekly cap and consent apply)")


class ActivityCreate(_Input):
    name: ActivityName
    kind: ActivityKindId = Field(description="`notice`: an invitation without replies (new arrivals first)")
    store_id: Id | None = Field(None, description="An activity of one store invites that store's members only")
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    capacity: int | None = Field(None, ge=1, le=1_000_000, description="Places: yes replies beyond it are refused")
    audience: AudienceIn
    invitation: InvitationIn


class FeedbackOut(_Model):
    due_on: date = Field(description="The 5th working day after the end (weekends and public holidays skipped)")
    filed_at: datetime | None = None
    filed_by: str | None = None
    late: bool | None = Field(None, description="Filed after the due day, or not filed and the day is over; "
                                                "null while neither is known")
    summary: str | None = None
    satisfied_count: int | None = None


class ActivityOut(_Model):
    activity_id: str
    name: str
    kind: ActivityKindId
    store_id: str | None = None
    starts_at: datetime
    ends_at: datetime
    capacity: int | None = None
    stage: Literal["scheduled", "inviting", "invited", "ended", "closed"]
    organiser_id: str
    created_at: datetime
    segment_id: str | None = None
    filters: MemberFiltersIn = Field(description="The audience's filters (a segment's, copied when planned)")
    invitation_text: str
    send_at: datetime
    audience: int = Field(description="Members the list yielded so far")
    invited: int = Field(description="Invitations sent")
    deferred: int = Field(description="Waiting (quiet hours, the day's SMS budget): sent by a later run")
    capped: int = Field(description="Not sent: the member's weekly cap of marketing SMS was reached")
    suppressed: int = Field(description="Not sent: no marketing consent, or opted out")
    failed: int
    rsvp_yes: int
    rsvp_no: int
    attended: int
    feedback: FeedbackOut


class RsvpIn(_Input):
    member_id: Id
    response: Literal["yes", "no"]


class RsvpOut(_Model):
    activity_id: str
    member_id: str
    response: Literal["yes", "no"]
    outcome: Literal["recorded", "unchanged"]


class AttendanceIn(_Input):
    member_ids: list[Id] = Field(min_length=1, max_length=200)


class AttendanceOut(_Model):
    activity_id: str
    recorded: list[str] = Field(description="Counted now")
    already: list[str] = Field(description="Recorded before (counted once)")
    not_invited: list[str] = Field(description="No invitation was sent to them: not counted")
    unknown: list[str] = Field(description="No such member in your scope")
    attended: int = Field(description="The activity's attendance after this request")


class FeedbackIn(_Input):
    summary: Summary
    satisfied_count: int | None = Field(None, ge=0, description="Guests who said they were satisfied "
                                                                "(at most those who attended)")


class ActivityListOut(_Model):
    activities: list[ActivityOut] = Field(description="Newest first")
    next: NextCursor = None

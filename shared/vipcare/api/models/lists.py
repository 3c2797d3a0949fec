"""Member lists: search filters, segments and their pages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from .base import Id, MoneyOrZero, Name, NextCursor, Tag, _Input, _Model

TierId = Literal["regular", "silver", "gold", "diamond"]
BirthdayMonth = Annotated[int, Field(ge=1, le=12, description="The birthday falls in this month this year "
                                                              "(a lunar birthday on its solar date)")]
NoPurchaseDays = Annotated[int, Field(ge=1, le=3660, description="No purchase for at least this many days "
                                                                 "(members who never bought: since enrolling)")]


class MemberFiltersIn(_Input):
    """Any combination; every filter given must hold."""

    tier: TierId | None = None
    store_id: Id | None = None
    manager_id: Id | None = None
    birthday_month: BirthdayMonth | None = None
    no_purchase_days: NoPurchaseDays | None = None
    spend_12m_min: MoneyOrZero | None = Field(None, description="Net spend over the last 12 months, at least")
    spend_12m_max: MoneyOrZero | None = Field(None, description="Net spend over the last 12 months, at most")
    hobby: Tag | None = Field(None, description="One of the member's hobbies (any case)")
    sms_consent: bool | None = Field(None, description="true: takes marketing SMS (consented, not opted out)")


class SegmentCreate(_Input):
    name: Name
    filters: MemberFiltersIn


class SegmentOut(_Model):
    segment_id: str
    name: str
    filters: MemberFiltersIn
    created_by: str
    created_at: datetime


class ListedMemberOut(_Model):
    member_id: str
    member_no: str
    name: str
    tier: str
    store_id: str
    manager_id: str | None = None
    last_purchase_at: datetime | None = None
    spend_12m: str = Field(description="Net spend over the last 12 months (decimal string)")


class MemberListOut(_Model):
    members: list[ListedMemberOut]
    next: str | None = Field(None, description="Pass as `after` for the next page; absent on the last. A page "
                                               "may hold fewer members than `limit` (even none) and still have "
                                               "a next: each page reads a bounded part of the index")


class SegmentListOut(_Model):
    segments: list[SegmentOut] = Field(description="Newest first")
    next: NextCursor = None

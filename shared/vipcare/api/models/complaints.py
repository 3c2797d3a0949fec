"""Complaints: intake, lifecycle, reports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    Field,
    StringConstraints,
)

from ...domain.complaints import Action as ComplaintAction
from ...domain.complaints import Category, Channel, Priority, Severity
from ...domain.complaints import Status as ComplaintStatus
from .base import (
    Id,
    NextCursor,
    Rate,
    _Input,
    _Model,
)

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


class HistoryOut(_Model):
    at: datetime
    actor: str
    action: ComplaintAction
    status: ComplaintStatus
    assignee: str | None = None
    text: str | None = None


class ComplaintSummary(_Model):
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


class ComplaintFigures(_Model):
    opened: int
    responded: int
    responded_within_deadline: int
    responded_within_deadline_rate: Rate
    mean_first_response_minutes: float | None
    resolved: int
    resolved_within_deadline: int
    resolved_within_deadline_rate: Rate = Field(description="Resolved within deadline / cases opened")
    feedback: int
    satisfied: int
    satisfaction_rate: Rate
    reopened: int
    escalations: int
    nps_responses: int
    nps: float | None = Field(description="Promoters minus detractors, in percent")


class StoreComplaintFigures(ComplaintFigures):
    store_id: str


class ComplaintReport(_Model):
    period: str
    store_id: str | None
    totals: ComplaintFigures
    stores: list[StoreComplaintFigures]


class ComplaintListOut(_Model):
    complaints: list[ComplaintSummary] = Field(description="Newest deadline first")
    next: NextCursor = None

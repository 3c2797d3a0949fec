"""Domain objects -> response models (the only place that decides what a response shows)."""

from __future__ import annotations

import dataclasses
from typing import Any

from pydantic import BaseModel

from ..domain.complaints import Complaint
from ..domain.directory import Staff, Store
from ..domain.members import Member
from .models.complaints import ComplaintOut, ComplaintSummary, HistoryOut
from .models.directory import StaffOut, StoreOut
from .models.members import ConsentOut, FamilyMemberOut, MemberCard


def member_card(m: Member) -> MemberCard:
    values = {f.name: getattr(m, f.name) for f in dataclasses.fields(m)}
    values["consent"] = ConsentOut(**dataclasses.asdict(m.consent))
    values["family"] = [FamilyMemberOut(**dataclasses.asdict(f)) for f in m.family]
    values["spend_12m"] = f"{m.spend_12m:.2f}"
    return MemberCard(**values)


def store_out(s: Store) -> StoreOut:
    return StoreOut(**dataclasses.asdict(s))


def staff_out(s: Staff) -> StaffOut:
    values = dataclasses.asdict(s)
    values.pop("extra", None)
    return StaffOut(**values)


def complaint_summary(c: Complaint) -> ComplaintSummary:
    return ComplaintSummary(**_complaint_values(c, ComplaintSummary))


def complaint_out(c: Complaint) -> ComplaintOut:
    values = _complaint_values(c, ComplaintOut)
    values["history"] = [HistoryOut(**dataclasses.asdict(h)) for h in c.history]
    return ComplaintOut(**values)


def _complaint_values(c: Complaint, model: type[BaseModel]) -> dict[str, Any]:
    values = {name: getattr(c, name) for name in model.model_fields if hasattr(c, name) and name != "history"}
    values["order_value"] = f"{c.order_value:.2f}" if c.order_value is not None else None
    values["next_escalation_check_at"] = c.next_check_at
    return values

"""Domain objects -> response models (the only place that decides what a response shows)."""

from __future__ import annotations

import dataclasses

from ..domain.directory import Staff, Store
from ..domain.members import Member
from .models import ConsentOut, FamilyMemberOut, MemberCard, StaffOut, StoreOut


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

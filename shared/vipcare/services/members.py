"""Member use cases: enrol, look up, edit the profile card."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from ..api.models.members import EnrolRequest, FamilyMemberIn, MemberPatch
from ..domain.access import Caller, ensure_can_act_for_store, ensure_visible
from ..domain.errors import Conflict, NotFound, ValidationFailed
from ..domain.members import (
    Consent,
    FamilyMember,
    Member,
    check_date_not_future,
    format_member_no,
    new_member_id,
)
from ..domain.months import month_of
from ..domain.phone import normalise_phone
from ..store.directory import Missing
from ..store.members import MemberMissing, PhoneAlreadyClaimed
from . import figures
from .brands import brand_settings
from .ports import BrandSource, Directory, MemberFigures, MemberLookup, MemberStore


def _duplicate(member_id: str | None) -> Conflict:
    return Conflict("this phone number is already enrolled", field="phone", code="member_exists",
                    member_id=member_id)


def _family(items: list[FamilyMemberIn], today: Any) -> list[FamilyMember]:
    out = []
    for i, f in enumerate(items):
        check_date_not_future(f.birthday, today, field=f"family.{i}.birthday")
        out.append(FamilyMember(name=f.name, relation=f.relation, birthday=f.birthday))
    return out


def _other_phones(raw: list[str], region: str, primary: str) -> list[str]:
    phones = [normalise_phone(p, region, field=f"other_phones.{i}") for i, p in enumerate(raw)]
    return [p for i, p in enumerate(phones) if p != primary and p not in phones[:i]]


def enroll(
    caller: Caller,
    request: EnrolRequest,
    *,
    now: datetime,
    members: MemberStore,
    directory: Directory,
) -> Member:
    """Enrol a member; the same phone (any format) again is a Conflict naming the member."""
    ensure_can_act_for_store(caller, request.store_id)
    brand = brand_settings(caller.brand_id, directory)

    # Validate everything before the first write: a refused request writes nothing.
    phone = normalise_phone(request.phone, brand.phone_region)
    other_phones = _other_phones(request.other_phones, brand.phone_region, phone)
    today = now.date()
    check_date_not_future(request.birthday, today, field="birthday")
    check_date_not_future(request.anniversary, today, field="anniversary")
    family = _family(request.family, today)

    existing = members.member_id_for_phone(caller.brand_id, phone)
    if existing:
        raise _duplicate(existing)
    if request.referrer_member_id and members.get(caller.brand_id, request.referrer_member_id) is None:
        raise ValidationFailed("no such member to credit the referral to", field="referrer_member_id")

    try:
        sequence, store_code = directory.next_member_seq(caller.brand_id, request.store_id)
    except Missing:
        raise ValidationFailed(f"unknown store {request.store_id}", field="store_id") from None

    member = Member(
        member_id=new_member_id(),
        brand_id=caller.brand_id,
        store_id=request.store_id,
        member_no=format_member_no(caller.brand_id, store_code, sequence),
        name=request.name,
        phone=phone,
        enrolled_at=now,
        updated_at=now,
        consent=Consent(sms_marketing=request.consent.sms_marketing, updated_at=now, source=caller.source),
        other_phones=other_phones,
        gender=request.gender,
        birthday=request.birthday,
        birthday_lunar=request.birthday_lunar,
        anniversary=request.anniversary,
        email=request.email,
        address=request.address,
        occupation=request.occupation,
        company=request.company,
        family=family,
        hobbies=request.hobbies,
        preferences=request.preferences,
        notes=request.notes,
        referrer_member_id=request.referrer_member_id,
    )
    try:
        # a referral counts in the referrer's figures from the month the new member enrols
        members.add(member, month=month_of(now, brand.timezone))
    except PhoneAlreadyClaimed as exc:  # lost a race with a concurrent enrolment
        raise _duplicate(exc.member_id) from None
    return member


def visible_member(caller: Caller, member_id: str, *, members: MemberLookup) -> Member:
    """The member without figures; NotFound outside the caller's brand or store."""
    member = members.get(caller.brand_id, member_id)
    if member is None:
        raise NotFound("member not found")
    ensure_visible(caller, brand_id=member.brand_id, store_id=member.store_id, what="member")
    return member


def get_member(caller: Caller, member_id: str, *, members: MemberLookup, ledger: MemberFigures,
               directory: BrandSource, now: datetime) -> Member:
    """The member's card with its figures (points, spend, purchases) as of `now`."""
    member = visible_member(caller, member_id, members=members)
    stats = ledger.stats(caller.brand_id, member_id)
    return figures.with_figures(member, stats, now, directory)


def find_by_phone(
    caller: Caller,
    phone: str,
    *,
    now: datetime,
    members: MemberStore,
    ledger: MemberFigures,
    directory: BrandSource,
) -> Member:
    brand = brand_settings(caller.brand_id, directory)
    e164 = normalise_phone(phone, brand.phone_region)
    member_id = members.member_id_for_phone(caller.brand_id, e164)
    if member_id is None:
        raise NotFound("no member with this phone number")
    return get_member(caller, member_id, members=members, ledger=ledger, directory=directory, now=now)


def update_profile(
    caller: Caller,
    member_id: str,
    patch: MemberPatch,
    *,
    now: datetime,
    members: MemberStore,
    ledger: MemberFigures,
    directory: BrandSource,
) -> Member:
    """Apply the fields present in `patch`; `null` clears an optional field. The answer is
    the card with its figures, like GET."""
    member = get_member(caller, member_id, members=members, ledger=ledger, directory=directory, now=now)
    brand = brand_settings(caller.brand_id, directory)
    today = now.date()

    changes: dict[str, Any] = {}
    for name in sorted(patch.model_fields_set, key=lambda n: n != "phone"):  # phone first
        value = getattr(patch, name)
        if name == "phone":
            value = normalise_phone(value, brand.phone_region)
        elif name == "other_phones":
            value = _other_phones(value or [], brand.phone_region, changes.get("phone", member.phone))
        elif name in ("birthday", "anniversary"):
            check_date_not_future(value, today, field=name)
        elif name == "family":
            value = _family(value or [], today)
        elif name == "hobbies":
            value = value or []
        elif name == "consent":
            value = Consent(sms_marketing=value.sms_marketing, updated_at=now, source=caller.source)
        changes[name] = value

    if not changes:
        return member
    try:
        members.update_profile(member, changes, now=now, old_phone=member.phone)
    except PhoneAlreadyClaimed as exc:
        raise _duplicate(exc.member_id) from None
    except MemberMissing:
        raise NotFound("member not found") from None
    return dataclasses.replace(member, updated_at=now, **changes)

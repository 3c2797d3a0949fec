"""Member repository: the card, the phone-uniqueness claim, profile updates."""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterable
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from ..domain.members import AuditEntry, Consent, FamilyMember, Gender, Member, Tier
from ..domain.reminders import lunar_mmdd, mmdd
from ..domain.stats import MemberStats
from .kpis import add_counters, add_stock
from .ledger import STATS_SK, StatsItem, stats_item
from .models import (
    PHONE_SK,
    PROFILE_SK,
    AuditItem,
    ConsentMap,
    FamilyMap,
    MemberItem,
    PhoneClaimItem,
    condition_failed,
    condition_failed_at,
    manager_key,
    member_pk,
    phone_pk,
    roll_key,
)
from .tiers import ManagerLoadItem, manager_load


class PhoneAlreadyClaimed(Exception):
    """Another member of the brand holds this phone."""

    def __init__(self, member_id: str | None) -> None:
        super().__init__(member_id)
        self.member_id = member_id


class MemberMissing(Exception):
    """The member item is gone (erased or never existed) at write time."""


_DOMAIN_FIELDS = {f.name for f in fields(Member)}


def _to_item(m: Member) -> MemberItem:
    values = {name: getattr(m, name) for name in _DOMAIN_FIELDS}
    values["consent"] = ConsentMap(**_consent_values(m.consent))
    values["family"] = [_family_map(f) for f in m.family]
    values["gender"] = m.gender.value if m.gender else None
    values["tier"] = m.tier.value
    values["bday_key"], values["anniv_key"] = occasion_keys(m.birthday, m.birthday_lunar, m.anniversary)
    values["audience_pk"] = consent_audience_key(m.brand_id, m.member_id, m.consent.sms_marketing)
    values["listing_pk"], values["listing_sk"] = roll_key(m.brand_id, m.store_id, m.tier.value, m.member_id)
    return MemberItem(member_pk(m.brand_id, m.member_id), PROFILE_SK, **values)


def _from_item(item: MemberItem) -> Member:
    c = item.consent
    return Member(
        member_id=item.member_id,
        brand_id=item.brand_id,
        store_id=item.store_id,
        member_no=item.member_no,
        name=item.name,
        phone=item.phone,
        enrolled_at=item.enrolled_at,
        updated_at=item.updated_at,
        consent=Consent(sms_marketing=c.sms_marketing, updated_at=c.updated_at, source=c.source),
        other_phones=[str(p) for p in item.other_phones or []],
        gender=Gender(item.gender) if item.gender else None,
        birthday=item.birthday,
        birthday_lunar=bool(item.birthday_lunar),
        anniversary=item.anniversary,
        email=item.email,
        address=item.address,
        occupation=item.occupation,
        company=item.company,
        family=[FamilyMember(name=f.name, relation=f.relation, birthday=f.birthday) for f in item.family or []],
        hobbies=[str(h) for h in item.hobbies or []],
        preferences=item.preferences,
        notes=item.notes,
        referrer_member_id=item.referrer_member_id,
        tier=Tier(item.tier),
        points_balance=int(item.points_balance or 0),
        spend_12m=item.spend_12m if item.spend_12m is not None else Decimal("0"),
        purchases_6m=int(item.purchases_6m or 0),
        manager_id=item.manager_id,
        sms_opted_out=bool(item.sms_opted_out),
    )


def occasion_keys(birthday: date | None, lunar: bool, anniversary: date | None) -> tuple[str | None, str | None]:
    """The by_birthday / by_anniversary index keys: the month and day celebrated (the lunar
    month/day of the birth date when the member celebrates the lunar birthday)."""
    bday = None
    if birthday is not None:
        bday = lunar_birthday_key(lunar_mmdd(birthday)) if lunar else solar_birthday_key(mmdd(birthday))
    anniv = anniversary_key(mmdd(anniversary)) if anniversary is not None else None
    return bday, anniv


# The by_birthday and by_anniversary keys of a month and day ("MMDD"): written on the card,
# read by the reminder job for the days it celebrates.
def solar_birthday_key(month_day: str) -> str:
    return f"BDAY#S#{month_day}"


def lunar_birthday_key(month_day: str) -> str:
    return f"BDAY#L#{month_day}"


def anniversary_key(month_day: str) -> str:
    return f"ANNIV#{month_day}"


ERASED = "[erased]"
# Everything personal on the card, plus the index keys that would find the member again.
_ERASED_FIELDS = ("other_phones", "gender", "birthday", "birthday_lunar", "anniversary", "email", "address",
                  "occupation", "company", "family", "hobbies", "preferences", "notes", "referrer_member_id",
                  "manager_id", "manager_key", "bday_key", "anniv_key", "audience_pk", "review_pk", "review_sk",
                  "sms_opted_out")
CONSENT_SHARDS = 8
CONSENT_PREFIX = "CONSENT#"


def consent_audience_key(brand_id: str, member_id: str, sms_marketing: bool) -> str | None:
    """The by_audience key of a member who consented to marketing SMS, in one of 8 shards per
    brand (a holiday run pages through them); None without consent. A STOP reply found at send
    time removes the key (MemberRepository.record_opt_out)."""
    if not sms_marketing:
        return None
    return consent_shard_key(brand_id, zlib.crc32(member_id.encode()) % CONSENT_SHARDS)


def consent_shard_key(brand_id: str, shard: int) -> str:
    """The by_audience key of one of a brand's consent shards (0 .. CONSENT_SHARDS - 1)."""
    return f"{CONSENT_PREFIX}{brand_id}#{shard}"


def _consent_values(c: Consent) -> dict[str, Any]:
    return {"sms_marketing": c.sms_marketing, "updated_at": c.updated_at, "source": c.source}


def _family_map(f: FamilyMember) -> FamilyMap:
    return FamilyMap(name=f.name, relation=f.relation, birthday=f.birthday)


def _storable(name: str, value: Any) -> Any:
    """Domain value -> what the pynamodb attribute of the same name expects."""
    if name == "consent":
        return ConsentMap(**_consent_values(value))
    if name == "family":
        return [_family_map(f) for f in value]
    if name == "gender":
        return value.value if value else None
    return value


class MemberRepository:
    def get(self, brand_id: str, member_id: str) -> Member | None:
        """The member; None when unknown or erased (the tombstone is nobody's card)."""
        try:
            item = MemberItem.get(member_pk(brand_id, member_id), PROFILE_SK)
        except DoesNotExist:
            return None
        return None if item.erased_at is not None else _from_item(item)

    def profiles(self, keys: Iterable[tuple[str, str]]) -> list[Member]:
        """The members behind (brand_id, member_id) keys, of any brand (BatchGetItem); unknown
        and erased ones left out."""
        wanted = [(member_pk(b, m), PROFILE_SK) for b, m in dict.fromkeys(keys)]
        return [_from_item(i) for i in MemberItem.batch_get(wanted) if i.erased_at is None] if wanted else []

    def record_opt_out(self, brand_id: str, member_id: str) -> None:
        """SNS says the phone opted out (a STOP reply): marketing skips the member from now on
        and the holiday audience loses them. Nothing when the member is gone."""
        with contextlib.suppress(UpdateError):
            MemberItem(member_pk(brand_id, member_id), PROFILE_SK).update(
                actions=[MemberItem.sms_opted_out.set(True), MemberItem.audience_pk.remove()],
                condition=MemberItem.pk.exists())

    def erased_at(self, brand_id: str, member_id: str) -> datetime | None:
        try:
            return MemberItem.get(member_pk(brand_id, member_id), PROFILE_SK).erased_at
        except DoesNotExist:
            return None

    def erase(self, member: Member, *, by: str, now: datetime, month: str) -> None:
        """Turn the card into an anonymous tombstone, release the phone, leave the manager's
        book (their load counts one member less) and every index, count the member closed, and
        audit, in one transaction."""
        item = MemberItem(member_pk(member.brand_id, member.member_id), PROFILE_SK)
        actions: list[Action] = [
            MemberItem.name.set(ERASED), MemberItem.phone.set(f"{ERASED}#{member.member_id}"),
            MemberItem.consent.set(ConsentMap(sms_marketing=False, updated_at=now, source="erasure")),
            MemberItem.erased_at.set(now), MemberItem.erased_by.set(by), MemberItem.updated_at.set(now)]
        actions += [getattr(MemberItem, name).remove() for name in _ERASED_FIELDS]
        with TransactWrite(connection=_connection()) as tx:
            tx.update(item, actions=actions, condition=MemberItem.erased_at.does_not_exist()
                      & (MemberItem.phone == member.phone))
            tx.delete(PhoneClaimItem(phone_pk(member.brand_id, member.phone), PHONE_SK),
                      condition=PhoneClaimItem.member_id == member.member_id)
            tx.save(AuditItem(item.pk, f"AUDIT#{now.isoformat()}#erasure", action="erasure", by=by, at=now))
            add_counters(tx, member.brand_id, month, member.store_id, {"closed": 1})
            add_stock(tx, member.brand_id, member.store_id, {member.tier.value: -1})
            if member.manager_id:
                tx.update(manager_load(member.brand_id, member.manager_id), actions=[ManagerLoadItem.members.add(-1)])

    def audit(self, brand_id: str, member_id: str, action: str, by: str, now: datetime) -> None:
        AuditItem(member_pk(brand_id, member_id), f"AUDIT#{now.isoformat()}#{action}", action=action, by=by,
                  at=now).save()

    def audits(self, brand_id: str, member_id: str) -> list[AuditEntry]:
        return [AuditEntry(i.action, i.by, i.at)
                for i in AuditItem.query(member_pk(brand_id, member_id), AuditItem.sk.startswith("AUDIT#"))]

    def member_id_for_phone(self, brand_id: str, e164: str) -> str | None:
        try:
            return PhoneClaimItem.get(phone_pk(brand_id, e164), PHONE_SK).member_id
        except DoesNotExist:
            return None

    def member_ids_for_phones(self, brand_id: str, phones: list[str]) -> dict[str, str]:
        """E.164 -> member id for the phones that are enrolled (one BatchGetItem per 100)."""
        keys = [(phone_pk(brand_id, p), PHONE_SK) for p in dict.fromkeys(phones)]
        prefix = phone_pk(brand_id, "")
        return {c.pk.removeprefix(prefix): c.member_id for c in PhoneClaimItem.batch_get(keys)} if keys else {}

    def existing_ids(self, brand_id: str, member_ids: list[str]) -> set[str]:
        keys = [(member_pk(brand_id, m), PROFILE_SK) for m in dict.fromkeys(member_ids)]
        if not keys:
            return set()
        return {i.member_id for i in MemberItem.batch_get(keys, attributes_to_get=["pk", "sk", "member_id"])}

    def book_page(self, brand_id: str, staff_id: str, *, limit: int,
                  after: str | None = None) -> tuple[list[str], str | None]:
        """One page of a manager's book (member ids, in id order) and the id to continue after."""
        start = {"manager_key": {"S": manager_key(brand_id, staff_id)}, "member_id": {"S": after},
                 "pk": {"S": member_pk(brand_id, after)}, "sk": {"S": PROFILE_SK}} if after else None
        page = MemberItem.by_manager.query(manager_key(brand_id, staff_id), limit=limit,
                                           last_evaluated_key=start)
        ids = [item.member_id for item in page]
        more = page.last_evaluated_key is not None and len(ids) == limit
        return ids, (ids[-1] if more and ids else None)

    def add(self, member: Member, *, month: str | None = None) -> None:
        """Write the member, its phone claim and its first figures in one transaction (all must
        be new), with the month's `enrolled` counter and the store's tier stock (KPIs). The
        figures (STATS) start at the enrolment, so a member who never buys is on the brand's
        last-activity listing too ("no purchase for 90 days"). With a referrer, the same
        transaction credits the referral to the referrer's figures: an entry in a set (so it
        counts once) and a new version (so a purchase that read the figures before retries
        instead of overwriting the credit). `month`: the enrolment month, brand time."""
        item = _to_item(member)
        claim = PhoneClaimItem(
            phone_pk(member.brand_id, member.phone),
            PHONE_SK,
            member_id=member.member_id,
            claimed_at=member.enrolled_at,
        )
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.save(item, condition=MemberItem.pk.does_not_exist())
                tx.save(claim, condition=PhoneClaimItem.pk.does_not_exist())
                tx.save(stats_item(member.brand_id, member.member_id, MemberStats(since=member.enrolled_at)),
                        condition=StatsItem.pk.does_not_exist())
                if month:
                    add_counters(tx, member.brand_id, month, member.store_id, {"enrolled": 1})
                    add_stock(tx, member.brand_id, member.store_id, {member.tier.value: 1})
                if member.referrer_member_id and month:
                    tx.update(StatsItem(member_pk(member.brand_id, member.referrer_member_id), STATS_SK),
                              actions=[StatsItem.referrals.add({f"{month}#{member.member_id}"}),
                                       StatsItem.version.add(1)])
        except TransactWriteError as exc:
            if condition_failed_at(exc, 1):
                raise PhoneAlreadyClaimed(self.member_id_for_phone(member.brand_id, member.phone)) from None
            raise

    def update_profile(self, member: Member, changes: dict[str, Any], *, now: datetime, old_phone: str) -> None:
        """Set only the changed profile fields (never a whole-item put: purchases update the
        same item concurrently). A phone change moves the uniqueness claim atomically."""
        item = MemberItem(member_pk(member.brand_id, member.member_id), PROFILE_SK)
        actions: list[Action] = [MemberItem.updated_at.set(now)]
        for name, value in changes.items():
            attr = getattr(MemberItem, name)
            stored = _storable(name, value)
            actions.append(attr.remove() if stored is None or stored == [] else attr.set(stored))
        if {"birthday", "birthday_lunar", "anniversary"} & set(changes):
            keys = occasion_keys(changes.get("birthday", member.birthday),
                                 bool(changes.get("birthday_lunar", member.birthday_lunar)),
                                 changes.get("anniversary", member.anniversary))
            for attr, key in zip((MemberItem.bday_key, MemberItem.anniv_key), keys, strict=True):
                actions.append(attr.remove() if key is None else attr.set(key))
        if "consent" in changes:
            audience = consent_audience_key(member.brand_id, member.member_id, changes["consent"].sms_marketing)
            actions.append(MemberItem.audience_pk.remove() if audience is None else
                           MemberItem.audience_pk.set(audience))
        must_exist = MemberItem.pk.exists()
        new_phone = changes.get("phone")
        if new_phone is None or new_phone == old_phone:
            try:
                item.update(actions=actions, condition=must_exist)
            except UpdateError as exc:
                if condition_failed(exc):
                    raise MemberMissing() from None
                raise
            return
        claim = PhoneClaimItem(phone_pk(member.brand_id, new_phone), PHONE_SK, member_id=member.member_id,
                               claimed_at=now)
        old_claim = PhoneClaimItem(phone_pk(member.brand_id, old_phone), PHONE_SK)
        try:
            with TransactWrite(connection=_connection()) as tx:
                # Order in the request: deletes, puts, updates (pynamodb groups them so).
                tx.delete(old_claim, condition=PhoneClaimItem.member_id == member.member_id)
                tx.save(claim, condition=PhoneClaimItem.pk.does_not_exist())
                tx.update(item, actions=actions, condition=must_exist)
        except TransactWriteError as exc:
            if condition_failed_at(exc, 1):
                raise PhoneAlreadyClaimed(self.member_id_for_phone(member.brand_id, new_phone)) from None
            if condition_failed_at(exc, 2) or condition_failed_at(exc, 0):
                raise MemberMissing() from None
            raise


def _connection() -> Connection:
    return MemberItem._get_connection().connection

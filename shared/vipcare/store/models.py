"""pynamodb models: one class per item type. Tables and keys are documented in
docs/data-model.md; template.yaml declares the tables themselves.

Key scheme: every member-side key starts with the brand, so an id from another brand
simply does not resolve (a 404, with nothing to leak).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from ..config import settings
from .attributes import DateAttribute, DecimalAttribute
from .clients import REGION as _REGION
from .clients import dynamodb_client


class _SharedClientModel(Model):
    """Every model talks through the process-wide client (see clients.py)."""

    @classmethod
    def _get_connection(cls):  # type: ignore[no-untyped-def]
        table_connection = super()._get_connection()
        if table_connection.connection._client is None:
            table_connection.connection._client = dynamodb_client()
        return table_connection


class MembersTableModel(_SharedClientModel):
    """Base of every item type stored in MembersTable (keys pk/sk)."""

    class Meta:
        table_name = settings().members_table
        region = _REGION

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class DirectoryTableModel(_SharedClientModel):
    """Base of every item type stored in DirectoryTable (keys pk/sk)."""

    class Meta:
        table_name = settings().directory_table
        region = _REGION

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


def member_pk(brand_id: str, member_id: str) -> str:
    return f"BRAND#{brand_id}#MEMBER#{member_id}"


def phone_pk(brand_id: str, e164: str) -> str:
    return f"BRAND#{brand_id}#PHONE#{e164}"


def brand_pk(brand_id: str) -> str:
    return f"BRAND#{brand_id}"


PROFILE_SK = "PROFILE"
PHONE_SK = "PHONE"
BRAND_SK = "BRAND"


def store_sk(store_id: str) -> str:
    return f"STORE#{store_id}"


def staff_sk(staff_id: str) -> str:
    return f"STAFF#{staff_id}"


# ---- members table ---------------------------------------------------------------------


class ConsentMap(MapAttribute):
    sms_marketing = BooleanAttribute()
    updated_at = UTCDateTimeAttribute()
    source = UnicodeAttribute()


class FamilyMap(MapAttribute):
    name = UnicodeAttribute()
    relation = UnicodeAttribute(null=True)
    birthday = DateAttribute(null=True)


class ReviewIndex(GlobalSecondaryIndex["MemberItem"]):
    """Sparse, keys only: members whose tier must be looked at, by review instant, sharded
    REVIEW#0..15 (the nightly job reads only what is due)."""

    class Meta:
        index_name = "review"
        projection = KeysOnlyProjection()

    review_pk = UnicodeAttribute(hash_key=True)
    review_sk = UnicodeAttribute(range_key=True)


class ByManagerIndex(GlobalSecondaryIndex["MemberItem"]):
    """Sparse, keys only: the members of a dedicated manager's book."""

    class Meta:
        index_name = "by_manager"
        projection = KeysOnlyProjection()

    manager_key = UnicodeAttribute(hash_key=True)
    member_id = UnicodeAttribute(range_key=True)


class ListingIndex(GlobalSecondaryIndex[Any]):
    """Sparse, keys only, three listings in one index (a stack update may add only one index per
    table): a member's applied transactions newest first (TXN items, pk = the member's pk), each
    store's roll of members by tier (PROFILE items, roll_key) and the brand's members by the
    month of their last purchase (STATS items, active_key). One class for every model, as for
    DueIndex."""

    class Meta:
        index_name = "listing"
        projection = KeysOnlyProjection()

    listing_pk = UnicodeAttribute(hash_key=True)
    listing_sk = UnicodeAttribute(range_key=True)


ROLL_PREFIX = "ROLL#"
ACTIVE_PREFIX = "ACTIVE#"
ACTIVE_SHARDS = 16


def roll_pk(brand_id: str, store_id: str) -> str:
    """The listing key of a store's roll: every member enrolled there."""
    return f"{ROLL_PREFIX}{brand_id}#{store_id}"


def roll_key(brand_id: str, store_id: str, tier: str, member_id: str) -> tuple[str, str]:
    """A member's place on their store's roll: (store key, `<tier>#<member id>`), so one Query
    lists a store's members of one tier (begins_with). Written at enrolment; the sort key moves
    with the tier (a tier change is rare, a sale never touches it)."""
    return roll_pk(brand_id, store_id), f"{tier}#{member_id}"


def roll_member(roll_sk: str) -> str:
    """The member id of a roll sort key."""
    return roll_sk.partition("#")[2]


def active_pk(brand_id: str, shard: int) -> str:
    return f"{ACTIVE_PREFIX}{brand_id}#{shard}"


def active_key(brand_id: str, member_id: str, last_active: datetime) -> tuple[str, str]:
    """A member's place in the brand's last-activity listing (STATS items): shard key and
    `<UTC month of the last purchase, or of the enrolment>#<member id>`. By month, not day, so
    a member's second sale of a month costs no index write; a list narrows to the day itself."""
    shard = zlib.crc32(member_id.encode()) % ACTIVE_SHARDS
    return active_pk(brand_id, shard), f"{last_active.astimezone(UTC):%Y-%m}#{member_id}"


def read_members_table(keys: list[tuple[str, str]], *, consistent: bool = True) -> dict[tuple[str, str], Any]:
    """Raw items of MembersTable by (pk, sk): BatchGetItem, 100 keys a request, unprocessed
    keys asked again. Absent items are simply missing from the answer."""
    table = settings().members_table
    found: dict[tuple[str, str], Any] = {}
    wanted = list(dict.fromkeys(keys))
    for start in range(0, len(wanted), 100):
        request: dict[str, Any] = {table: {"Keys": [{"pk": {"S": pk}, "sk": {"S": sk}}
                                                    for pk, sk in wanted[start:start + 100]],
                                           "ConsistentRead": consistent}}
        while request:
            response = dynamodb_client().batch_get_item(RequestItems=request)
            for raw in response["Responses"].get(table, []):
                found[(raw["pk"]["S"], raw["sk"]["S"])] = raw
            request = response.get("UnprocessedKeys") or {}
    return found


class DueIndex(GlobalSecondaryIndex[Any]):
    """The sparse `due` index of the care and complaints tables: only items with something
    pending (a message to retry, a cadence review, an escalation check) carry due_pk/due_sk,
    so a job reads exactly what is due. One class for every model: pynamodb binds each
    index instance to the model that declares it."""

    class Meta:
        index_name = "due"
        projection = AllProjection()

    due_pk = UnicodeAttribute(hash_key=True)
    due_sk = UnicodeAttribute(range_key=True)


def condition_failed_at(exc: TransactWriteError, index: int) -> bool:
    """Whether the transaction was cancelled by the condition of its `index`-th action (in
    request order: pynamodb sends condition checks, deletes, puts, then updates)."""
    reasons = exc.cancellation_reasons or []
    reason = reasons[index] if len(reasons) > index else None
    return reason is not None and reason.code == "ConditionalCheckFailed"


def condition_failed(exc: Exception) -> bool:
    """Whether a conditional write lost: a put, update or delete whose condition failed, or a
    transaction cancelled by the condition of any of its actions. The one test behind every
    "already taken" in the store."""
    if isinstance(exc, TransactWriteError):
        return any(r is not None and r.code == "ConditionalCheckFailed" for r in exc.cancellation_reasons or [])
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


class Taken(Exception):
    """A conditional write lost: the record exists already, or moved on since it was read."""


@contextmanager
def taken_on_condition() -> Iterator[None]:
    """Turn a failed condition of the write inside (put, update, delete or transaction) into
    Taken; every other error passes through. The one "already taken" of the store."""
    try:
        yield
    except (PutError, UpdateError, DeleteError, TransactWriteError) as exc:
        if condition_failed(exc):
            raise Taken() from None
        raise


def lost_race(exc: TransactWriteError) -> bool:
    """A transaction that lost to a concurrent writer (a failed version condition or a
    conflict): read again and retry."""
    return any(r is not None and r.code in ("ConditionalCheckFailed", "TransactionConflict")
               for r in exc.cancellation_reasons or []) or exc.cause_response_code == "TransactionConflictException"


def manager_key(brand_id: str, staff_id: str) -> str:
    return f"{brand_id}#{staff_id}"


class MemberItem(MembersTableModel):
    """The member's card plus the figures VIP Care owns (tier, points, spend)."""

    member_id = UnicodeAttribute()
    brand_id = UnicodeAttribute()
    store_id = UnicodeAttribute()
    member_no = UnicodeAttribute()
    name = UnicodeAttribute()
    phone = UnicodeAttribute()
    other_phones = ListAttribute(of=UnicodeAttribute, default=list)
    gender = UnicodeAttribute(null=True)
    birthday = DateAttribute(null=True)
    birthday_lunar = BooleanAttribute(default=False)
    anniversary = DateAttribute(null=True)
    email = UnicodeAttribute(null=True)
    address = UnicodeAttribute(null=True)
    occupation = UnicodeAttribute(null=True)
    company = UnicodeAttribute(null=True)
    family = ListAttribute(of=FamilyMap, default=list)
    hobbies = ListAttribute(of=UnicodeAttribute, default=list)
    preferences = UnicodeAttribute(null=True)
    notes = UnicodeAttribute(null=True)
    consent = ConsentMap()
    referrer_member_id = UnicodeAttribute(null=True)
    tier = UnicodeAttribute(default="regular")
    points_balance = NumberAttribute(default=0)
    spend_12m = DecimalAttribute(null=True)
    purchases_6m = NumberAttribute(default=0)
    manager_id = UnicodeAttribute(null=True)
    manager_key = UnicodeAttribute(null=True)  # `<brand>#<manager_id>`, the by_manager index key
    by_manager = ByManagerIndex()
    # Sparse index keys for the reminder job (see occasion_keys): absent without the date.
    bday_key = UnicodeAttribute(null=True)
    anniv_key = UnicodeAttribute(null=True)
    # Set when SNS reports the phone opted out of SMS (a STOP reply); marketing skips it.
    sms_opted_out = BooleanAttribute(null=True)
    # Sparse `by_audience` key `CONSENT#<brand>#<0..7>` while the member takes marketing SMS
    # (consent and not opted out): holiday greetings go to this audience (consent_audience_key).
    audience_pk = UnicodeAttribute(null=True)
    enrolled_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    # Erasure (docs/privacy.md): the item stays as an anonymous tombstone so the ledger and the
    # KPIs keep their member; readers treat it as gone.
    erased_at = UTCDateTimeAttribute(null=True)
    erased_by = UnicodeAttribute(null=True)
    # Tier state (docs/tiers.md): validity, manual floor, the warning already given, and the
    # next review as keys of the sparse `review` index (absent: nothing to review).
    tier_since = DateAttribute(null=True)
    tier_valid_until = DateAttribute(null=True)
    tier_floor = UnicodeAttribute(null=True)
    tier_floor_until = DateAttribute(null=True)
    tier_warned_for = DateAttribute(null=True)
    review_pk = UnicodeAttribute(null=True)
    review_sk = UnicodeAttribute(null=True)
    review = ReviewIndex()
    # The store's roll (roll_key): set at enrolment, moved with the tier, kept by the erasure
    # (the tombstone stays a member of the brand's figures; the key says nothing about the person).
    listing_pk = UnicodeAttribute(null=True)
    listing_sk = UnicodeAttribute(null=True)
    listing = ListingIndex()


class AuditItem(MembersTableModel):
    """sk AUDIT#<at>#<action> under the member: an export or the erasure (who, when)."""

    action = UnicodeAttribute()
    by = UnicodeAttribute()
    at = UTCDateTimeAttribute()


class PhoneClaimItem(MembersTableModel):
    """One per (brand, phone): the uniqueness guarantee, written in the same transaction
    as the member it points to, so two concurrent enrolments cannot both win."""

    member_id = UnicodeAttribute()
    claimed_at = UTCDateTimeAttribute()


# ---- directory table -------------------------------------------------------------------


class StaffByStoreIndex(GlobalSecondaryIndex["StaffItem"]):
    """gsi1: a store's staff by role (routing: "the managers of store X")."""

    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class BrandItem(DirectoryTableModel):
    brand_id = UnicodeAttribute()
    name = UnicodeAttribute()
    phone_region = UnicodeAttribute()
    timezone = UnicodeAttribute()
    currency = UnicodeAttribute()


class StaffLogItem(DirectoryTableModel):
    """sk STAFFLOG#<staff>#<at>#<action>: an audited leave, return or departure."""

    action = UnicodeAttribute()
    by = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    detail = UnicodeAttribute()  # JSON: counts and who received what


class BrandRegistryItem(DirectoryTableModel):
    """pk `BRANDS`, sk the brand id: every brand with a store, so the scheduled jobs can list
    the brands with one Query (put, idempotently, with each new store)."""


class StoreItem(DirectoryTableModel):
    brand_id = UnicodeAttribute()
    store_id = UnicodeAttribute()
    name = UnicodeAttribute()
    code = UnicodeAttribute()
    timezone = UnicodeAttribute()
    address = UnicodeAttribute(null=True)
    region = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    # Enrolment sequence for member numbers; bumped atomically (ADD) per enrolment.
    member_seq = NumberAttribute(default=0)


class StaffItem(DirectoryTableModel):
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    by_store = StaffByStoreIndex()
    brand_id = UnicodeAttribute()
    staff_id = UnicodeAttribute()
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    store_id = UnicodeAttribute(null=True)
    supervisor_id = UnicodeAttribute(null=True)
    on_leave = BooleanAttribute(default=False)
    capacity = NumberAttribute(default=0)
    active = BooleanAttribute(default=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


def staff_index_keys(brand_id: str, store_id: str | None, role: str, staff_id: str) -> tuple[str, str]:
    return f"BRAND#{brand_id}#STORE#{store_id or '-'}", f"ROLE#{role}#{staff_id}"

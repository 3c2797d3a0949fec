"""The purchase ledger and member figures: every effect is one TransactWriteItems whose
conditions make it happen once (the transaction id item must be new, the figures item must
be at the version that was read).

Items (MembersTable):
  BRAND#<b>#TXN#<store>#<txn> / TXN         one per (brand, store, transaction id): the dedup key,
                                            the ledger entry and the status the API reports
  BRAND#<b>#TXN#<store>#<txn> / REJECTED#<f> a conflicting resubmission of that id (payload f)
  BRAND#<b>#MEMBER#<id>        / STATS      the member's figures (domain.stats.MemberStats)
  BRAND#<b>#MEMBER#<id>        / REDEEM#<r> a redemption (its id is the idempotency key)
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from ..config import settings
from ..domain.points import PointsLedger
from ..domain.purchases import Kind, Line, Purchase, ReturnApplied, SaleRecord, Status
from ..domain.stats import MemberStats
from .attributes import DecimalAttribute, IntegerAttribute, LinesAttribute, MonthlyCounts, MonthlyDecimals
from .clients import dynamodb_client
from .models import PROFILE_SK, ListingIndex, MemberItem, MembersTableModel, active_key, lost_race, member_pk

STATS_SK = "STATS"
TXN_SK = "TXN"


def txn_pk(brand_id: str, store_id: str, transaction_id: str) -> str:
    return f"BRAND#{brand_id}#TXN#{store_id}#{transaction_id}"


def txn_key(ref: str) -> tuple[str, str]:
    """A transaction reference `store#transaction` (the figures' `txn:` entries, a placeholder's
    held returns) -> its ledger key (store, transaction)."""
    store_id, _, transaction_id = ref.partition("#")
    return store_id, transaction_id


def history_sk(occurred_at: datetime, store_id: str, transaction_id: str) -> str:
    """A transaction's place in its member's history: when it happened (UTC, fixed width, so the
    index sorts by time), then its key."""
    return f"{occurred_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{store_id}#{transaction_id}"


def encode_cursor(listing_sk: str) -> str:
    """A history page's continuation as an opaque, URL-safe token."""
    return base64.urlsafe_b64encode(listing_sk.encode()).decode().rstrip("=")


def decode_cursor(token: str) -> str:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise ValueError("not a cursor this API returned") from None
    if text.count("#") < 2:
        raise ValueError("not a cursor this API returned")
    return text


def redemption_sk(redemption_id: str) -> str:
    return f"REDEEM#{redemption_id}"


class ReturnMap(MapAttribute[str, Any]):
    store_id = UnicodeAttribute()
    transaction_id = UnicodeAttribute()
    amount = DecimalAttribute()
    points = IntegerAttribute()
    occurred_at = UTCDateTimeAttribute()


class TxnItem(MembersTableModel):
    brand_id = UnicodeAttribute()
    store_id = UnicodeAttribute()
    transaction_id = UnicodeAttribute()
    status = UnicodeAttribute()
    member_id = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(null=True)
    amount = DecimalAttribute(null=True)
    currency = UnicodeAttribute(null=True)
    items = IntegerAttribute(null=True)
    occurred_at = UTCDateTimeAttribute(null=True)
    original_transaction_id = UnicodeAttribute(null=True)
    fingerprint = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    received_at = UTCDateTimeAttribute(null=True)
    applied_at = UTCDateTimeAttribute(null=True)
    month = UnicodeAttribute(null=True)  # business month: spend, count and points lot
    points = IntegerAttribute(null=True)  # sale: earned; return: clawed back
    multiplier = DecimalAttribute(null=True)
    tier = UnicodeAttribute(null=True)  # the member's tier when the sale was applied
    returned = DecimalAttribute(null=True)  # sale: total returned so far
    points_clawed = IntegerAttribute(null=True)  # sale: total clawed back so far
    held_returns = ListAttribute(of=UnicodeAttribute, null=True)  # awaiting placeholder
    lines = LinesAttribute(null=True)
    discount_amount = DecimalAttribute(null=True)  # on the whole sale (the lines carry their own)
    returned_lines = MonthlyCounts(null=True)  # sale: sku -> quantity returns took back
    returns = ListAttribute(of=ReturnMap, null=True)  # sale: the returns applied against it
    submitted_by = UnicodeAttribute(null=True)  # who recorded it (staff id, or event:<source>)
    tier_change: MapAttribute[str, Any] = MapAttribute(null=True)  # {from, to, spend_12m, purchases_6m, policy_version}
    event_pending = BooleanAttribute(null=True)  # TierChanged not yet published
    revision = IntegerAttribute(default=1)  # every replacement is conditioned on the one read
    # The member's purchase history (`listing` index), set once the entry is applied: the
    # member's pk and history_sk(); neither changes afterwards (a return rewriting its sale
    # costs no index write).
    listing_pk = UnicodeAttribute(null=True)
    listing_sk = UnicodeAttribute(null=True)
    listing = ListingIndex()


class RejectionItem(MembersTableModel):
    reason = UnicodeAttribute()
    received_at = UTCDateTimeAttribute()


class StatsItem(MembersTableModel):
    spend = MonthlyDecimals(default=dict)  # month -> net spend
    purchases = MonthlyCounts(default=dict)  # month -> count
    lots = MonthlyCounts(default=dict)  # month earned -> points left
    returned = MonthlyDecimals(null=True)  # month of the sale -> amount returned from it
    sales = MonthlyCounts(null=True)  # month -> sales made (gross, for the brand's basket figures)
    items = MonthlyCounts(null=True)  # month -> items in those sales
    referrals = UnicodeSetAttribute(null=True)  # "YYYY-MM#<referred member>", added at their enrolment
    debt = IntegerAttribute(default=0)
    # Sparse `by_audience` key `PTSEXP#<YYYY-MM-DD>`: the next day the member is due a
    # points-expiring notice (absent: no live points).
    audience_pk = UnicodeAttribute(null=True)
    last_purchase_at = UTCDateTimeAttribute(null=True)
    since = UTCDateTimeAttribute(null=True)  # the enrolment (written with the card)
    recent = ListAttribute(of=UnicodeAttribute, default=list)
    version = IntegerAttribute(default=0)
    # The brand's last-activity listing (models.active_key, GSI `listing`): recomputed at every
    # put from the last purchase (or the enrolment); unchanged within a month, so no index write.
    listing_pk = UnicodeAttribute(null=True)
    listing_sk = UnicodeAttribute(null=True)
    listing = ListingIndex()


class RedemptionItem(MembersTableModel):
    redemption_id = UnicodeAttribute()
    reward_id = UnicodeAttribute(null=True)
    points = IntegerAttribute()
    reason = UnicodeAttribute()
    redeemed_at = UTCDateTimeAttribute()
    by = UnicodeAttribute()
    fingerprint = UnicodeAttribute()


# ---- plain records handed to services ------------------------------------------------------


@dataclass
class LedgerEntry:
    """A transaction id's record: applied sale/return, held return, awaiting sale, rejection."""

    brand_id: str
    store_id: str
    transaction_id: str
    status: Status
    member_id: str | None = None
    kind: Kind | None = None
    amount: Decimal | None = None
    currency: str | None = None
    items: int | None = None
    occurred_at: datetime | None = None
    original_transaction_id: str | None = None
    fingerprint: str | None = None
    reason: str | None = None
    received_at: datetime | None = None
    applied_at: datetime | None = None
    month: str | None = None
    points: int | None = None
    multiplier: Decimal | None = None
    tier: str | None = None
    returned: Decimal = Decimal(0)
    points_clawed: int = 0
    held_returns: list[str] = field(default_factory=list)
    lines: tuple[Line, ...] = ()
    discount_amount: Decimal = Decimal(0)
    returned_lines: dict[str, int] = field(default_factory=dict)
    returns: list[ReturnApplied] = field(default_factory=list)
    submitted_by: str | None = None
    tier_change: dict[str, Any] | None = None
    event_pending: bool = False
    revision: int = 0  # 0: not stored yet
    conflicts: list[str] = field(default_factory=list)

    def as_purchase(self) -> Purchase:
        assert self.member_id and self.kind and self.amount is not None and self.occurred_at
        return Purchase(brand_id=self.brand_id, store_id=self.store_id, transaction_id=self.transaction_id,
                        member_id=self.member_id, kind=self.kind, amount=self.amount,
                        currency=self.currency or "", items=int(self.items or 0), occurred_at=self.occurred_at,
                        original_transaction_id=self.original_transaction_id, lines=self.lines,
                        discount_amount=self.discount_amount, submitted_by=self.submitted_by)

    def as_sale_record(self) -> SaleRecord:
        """What a return against this sale needs to know of it."""
        return SaleRecord(member_id=self.member_id or "", amount=self.amount or Decimal(0),
                          points=int(self.points or 0), earn_month=self.month or "", returned=self.returned,
                          points_clawed=self.points_clawed, lines=self.lines, returned_lines=self.returned_lines)

    def credit_return(self, ret: Purchase, points_clawed: int, returned_lines: dict[str, int]) -> None:
        """This sale after `ret` was applied against it."""
        self.returned += ret.amount
        self.points_clawed += points_clawed
        self.returned_lines = returned_lines
        self.returns = [*self.returns, ReturnApplied(store_id=ret.store_id, transaction_id=ret.transaction_id,
                                                     amount=ret.amount, points=points_clawed,
                                                     occurred_at=ret.occurred_at)]


def entry_from_purchase(p: Purchase, status: Status, **values: Any) -> LedgerEntry:
    return LedgerEntry(brand_id=p.brand_id, store_id=p.store_id, transaction_id=p.transaction_id, status=status,
                       member_id=p.member_id, kind=p.kind, amount=p.amount, currency=p.currency, items=p.items,
                       occurred_at=p.occurred_at, original_transaction_id=p.original_transaction_id,
                       lines=p.lines, discount_amount=p.discount_amount, submitted_by=p.submitted_by,
                       fingerprint=p.fingerprint(), **values)


_ENTRY_FIELDS = ("member_id", "kind", "amount", "currency", "items", "occurred_at", "original_transaction_id",
                 "fingerprint", "reason", "received_at", "applied_at", "month", "points", "multiplier", "tier",
                 "returned", "points_clawed", "held_returns", "lines", "discount_amount", "returned_lines",
                 "returns", "submitted_by", "tier_change", "event_pending")


def _entry(item: TxnItem) -> LedgerEntry:
    values = {name: getattr(item, name) for name in _ENTRY_FIELDS}
    values["kind"] = Kind(item.kind) if item.kind else None
    values["items"] = int(item.items) if item.items is not None else None
    values["points"] = int(item.points) if item.points is not None else None
    values["returned"] = item.returned or Decimal(0)
    values["points_clawed"] = int(item.points_clawed or 0)
    values["held_returns"] = [str(h) for h in item.held_returns or []]
    values["lines"] = item.lines or ()
    values["discount_amount"] = item.discount_amount or Decimal(0)
    values["returned_lines"] = dict(item.returned_lines or {})
    values["returns"] = [ReturnApplied(store_id=r.store_id, transaction_id=r.transaction_id, amount=r.amount,
                                       points=int(r.points), occurred_at=r.occurred_at) for r in item.returns or []]
    values["tier_change"] = item.tier_change.as_dict() if item.tier_change else None
    values["event_pending"] = bool(item.event_pending)
    values["revision"] = int(item.revision or 1)
    return LedgerEntry(brand_id=item.brand_id, store_id=item.store_id, transaction_id=item.transaction_id,
                       status=Status(item.status), **values)


def _txn_item(e: LedgerEntry) -> TxnItem:
    values = {name: getattr(e, name) for name in _ENTRY_FIELDS}
    values["kind"] = e.kind.value if e.kind else None
    values["held_returns"] = e.held_returns or None
    values["event_pending"] = e.event_pending or None
    values["lines"] = e.lines or None
    values["discount_amount"] = e.discount_amount or None
    values["returned_lines"] = e.returned_lines or None
    values["returns"] = [ReturnMap(store_id=r.store_id, transaction_id=r.transaction_id, amount=r.amount,
                                   points=r.points, occurred_at=r.occurred_at) for r in e.returns] or None
    if e.kind != Kind.SALE:
        values["returned"] = None
        values["points_clawed"] = None
    if e.status == Status.APPLIED and e.member_id and e.occurred_at:
        values["listing_pk"] = member_pk(e.brand_id, e.member_id)
        values["listing_sk"] = history_sk(e.occurred_at, e.store_id, e.transaction_id)
    return TxnItem(txn_pk(e.brand_id, e.store_id, e.transaction_id), TXN_SK, brand_id=e.brand_id,
                   store_id=e.store_id, transaction_id=e.transaction_id, status=e.status.value,
                   revision=e.revision + 1, **values)


POINTS_NOTICE_PREFIX = "PTSEXP#"


def points_notice_key(day: date) -> str:
    return f"{POINTS_NOTICE_PREFIX}{day.isoformat()}"


def stats_of(item: StatsItem | None) -> MemberStats:
    """The member's figures held in a STATS item (empty figures for none)."""
    if item is None:
        return MemberStats()
    return MemberStats(
        spend=dict(item.spend or {}),
        purchases=dict(item.purchases or {}),
        returned=dict(item.returned or {}),
        sales=dict(item.sales or {}),
        items=dict(item.items or {}),
        referrals=set(item.referrals or ()),
        points=PointsLedger(lots=dict(item.lots or {}),
                            debt=int(item.debt or 0)),
        last_purchase_at=item.last_purchase_at,
        since=item.since,
        recent=[str(r) for r in item.recent or []],
        version=int(item.version or 0),
        points_notice_on=(date.fromisoformat(item.audience_pk.removeprefix(POINTS_NOTICE_PREFIX))
                          if item.audience_pk else None),
    )


def stats_item(brand_id: str, member_id: str, s: MemberStats) -> StatsItem:
    """The whole STATS item for a put (every writer puts all of it, so every attribute, the
    index keys included, is computed here)."""
    active = active_key(brand_id, member_id, s.last_active_at) if s.last_active_at else (None, None)
    return StatsItem(member_pk(brand_id, member_id), STATS_SK, listing_pk=active[0], listing_sk=active[1],
                     since=s.since,
                     spend=dict(s.spend),
                     purchases=dict(s.purchases), returned=dict(s.returned) or None,
                     sales=dict(s.sales) or None, items=dict(s.items) or None,
                     referrals=set(s.referrals) or None, lots=dict(s.points.lots), debt=s.points.debt,
                     last_purchase_at=s.last_purchase_at, recent=list(s.recent), version=s.version + 1,
                     audience_pk=points_notice_key(s.points_notice_on) if s.points_notice_on else None)


@dataclass
class PurchaseSnapshot:
    """Everything one purchase needs, read in a single BatchGetItem."""

    member_exists: bool
    tier: str | None
    stats: MemberStats
    entries: dict[tuple[str, str], LedgerEntry | None]
    profile: dict[str, Any] | None = None  # the raw PROFILE item (tier state, store, manager)


class Conflict(Exception):
    """A condition failed: someone else wrote first. Re-read and try again."""


class LedgerRepository:
    def snapshot(self, brand_id: str, member_id: str, txns: list[tuple[str, str]]) -> PurchaseSnapshot:
        """One consistent BatchGetItem: the member's tier, figures and the given ledger entries."""
        table = settings().members_table
        keys = [{"pk": {"S": member_pk(brand_id, member_id)}, "sk": {"S": PROFILE_SK}},
                {"pk": {"S": member_pk(brand_id, member_id)}, "sk": {"S": STATS_SK}}]
        keys += [{"pk": {"S": txn_pk(brand_id, store, txn)}, "sk": {"S": TXN_SK}} for store, txn in txns]
        found: dict[tuple[str, str], dict[str, Any]] = {}
        # No projection: DynamoDB bills reads on whole items anyway, and these are small.
        request: dict[str, Any] = {table: {"Keys": keys, "ConsistentRead": True}}
        while request:
            response = dynamodb_client().batch_get_item(RequestItems=request)
            for raw in response["Responses"].get(table, []):
                found[(raw["pk"]["S"], raw["sk"]["S"])] = raw
            request = response.get("UnprocessedKeys") or {}
        profile = found.get((member_pk(brand_id, member_id), PROFILE_SK))
        stats_raw = found.get((member_pk(brand_id, member_id), STATS_SK))
        entries = {}
        for store, txn in txns:
            raw = found.get((txn_pk(brand_id, store, txn), TXN_SK))
            entries[(store, txn)] = _entry(TxnItem.from_raw_data(raw)) if raw else None
        return PurchaseSnapshot(
            member_exists=profile is not None,
            tier=profile["tier"]["S"] if profile and "tier" in profile else None,
            stats=stats_of(StatsItem.from_raw_data(stats_raw) if stats_raw else None),
            entries=entries,
            profile=profile,
        )

    def entry(self, brand_id: str, store_id: str, transaction_id: str) -> LedgerEntry | None:
        """The status API's read: the entry plus any conflicting resubmissions (one Query)."""
        items = list(TxnItem.query(txn_pk(brand_id, store_id, transaction_id)))
        main = next((i for i in items if i.sk == TXN_SK), None)
        if main is None:
            return None
        entry = _entry(main)
        entry.conflicts = [i.sk.removeprefix("REJECTED#") for i in items if i.sk.startswith("REJECTED#")]
        return entry

    def entries(self, brand_id: str, keys: list[tuple[str, str]]) -> list[LedgerEntry]:
        if not keys:
            return []
        # consistent: held returns are settled from this read, a stale one could miss one
        found = TxnItem.batch_get([(txn_pk(brand_id, s, t), TXN_SK) for s, t in keys], consistent_read=True)
        return [_entry(i) for i in found]

    def history(self, brand_id: str, member_id: str, *, limit: int,
                after: str | None = None) -> tuple[list[LedgerEntry], str | None]:
        """One page of the member's applied sales and returns, newest first: the `listing`
        index (keys only) then the entries themselves (BatchGetItem), two requests a page.
        `after` is the cursor a previous page returned; raises ValueError for a bad one."""
        start = None
        if after is not None:
            sk = decode_cursor(after)
            _, store_id, transaction_id = sk.split("#", 2)
            start = {"listing_pk": {"S": member_pk(brand_id, member_id)}, "listing_sk": {"S": sk},
                     "pk": {"S": txn_pk(brand_id, store_id, transaction_id)}, "sk": {"S": TXN_SK}}
        page = TxnItem.listing.query(member_pk(brand_id, member_id), scan_index_forward=False, limit=limit,
                                     last_evaluated_key=start)
        keys = [(i.pk, i.sk) for i in page]
        cursor = None
        if page.last_evaluated_key is not None and len(keys) == limit:
            cursor = encode_cursor(page.last_evaluated_key["listing_sk"]["S"])
        # eventually consistent, as the index itself is: history may trail a just-applied sale
        found = {(i.pk, i.sk): i for i in TxnItem.batch_get(keys)} if keys else {}
        return [_entry(found[k]) for k in keys if k in found], cursor

    def stats(self, brand_id: str, member_id: str) -> MemberStats:
        try:
            return stats_of(StatsItem.get(member_pk(brand_id, member_id), STATS_SK, consistent_read=True))
        except StatsItem.DoesNotExist:
            return MemberStats()

    def move_points_notice(self, brand_id: str, member_id: str, was: date, to: date | None) -> None:
        """After the reminder job handled a notice day: the next one (or none). Conditional on
        the key it read; a purchase in between recomputes the key itself, so losing is fine."""
        item = StatsItem(member_pk(brand_id, member_id), STATS_SK)
        action = StatsItem.audience_pk.set(points_notice_key(to)) if to else StatsItem.audience_pk.remove()
        with contextlib.suppress(UpdateError):
            item.update(actions=[action], condition=StatsItem.audience_pk == points_notice_key(was))

    def stats_many(self, brand_id: str, member_ids: list[str]) -> dict[str, MemberStats]:
        """Figures of many members (BatchGetItem, 100 per request); absent members are left out."""
        if not member_ids:
            return {}
        prefix = member_pk(brand_id, "")
        found = StatsItem.batch_get([(member_pk(brand_id, m), STATS_SK) for m in dict.fromkeys(member_ids)])
        return {i.pk.removeprefix(prefix): stats_of(i) for i in found}

    def redemptions(self, brand_id: str, member_id: str, ids: list[str]) -> list[RedemptionItem]:
        if not ids:
            return []
        keys = [(member_pk(brand_id, member_id), redemption_sk(r)) for r in ids]
        return list(RedemptionItem.batch_get(keys, consistent_read=True))

    def redemptions_of_member(self, brand_id: str, member_id: str) -> list[RedemptionItem]:
        """Every redemption of the member (one Query of their partition, oldest first)."""
        return list(RedemptionItem.query(member_pk(brand_id, member_id),
                                         RedemptionItem.sk.startswith(redemption_sk(""))))

    def commit(self, *, brand_id: str, entries: list[LedgerEntry], member_id: str | None = None,
               stats: MemberStats | None = None, profile_update: tuple[list[Action], Condition] | None = None,
               redemption: RedemptionItem | None = None, extra_puts: Sequence[Model] | None = None,
               extra_updates: Sequence[tuple[Model, list[Action], Condition]] | None = None) -> None:
        """Write everything one purchase changes in one transaction, each item conditioned on
        what was read: a ledger entry on its revision (absent when new), the figures on
        their version, a redemption on being new. Raises Conflict when another writer won."""
        try:
            with TransactWrite(connection=dynamodb_client_connection()) as tx:
                for e in entries:
                    condition = TxnItem.pk.does_not_exist() if e.revision == 0 else TxnItem.revision == e.revision
                    tx.save(_txn_item(e), condition=condition)
                if stats is not None and member_id is not None:
                    item = stats_item(brand_id, member_id, stats)
                    condition = StatsItem.version.does_not_exist() if stats.version == 0 else (
                        StatsItem.version == stats.version)
                    tx.save(item, condition=condition)
                if profile_update is not None and member_id is not None:
                    # the tier state and review date (only when a sale upgrades or a return
                    # moves the review), conditioned on the tier that was read
                    tx.update(MemberItem(member_pk(brand_id, member_id), PROFILE_SK),
                              actions=profile_update[0], condition=profile_update[1])
                for extra in extra_puts or []:
                    tx.save(extra, condition=extra.__class__.pk.does_not_exist())  # type: ignore[attr-defined]
                if redemption is not None:
                    tx.save(redemption, condition=RedemptionItem.pk.does_not_exist())
                for model, actions, guard in extra_updates or []:  # a reward's stock, taken with the points
                    tx.update(model, actions=actions, condition=guard)
        except TransactWriteError as exc:
            if lost_race(exc):
                raise Conflict() from None
            raise

    def add_rejection(self, brand_id: str, store_id: str, transaction_id: str, fingerprint: str, reason: str,
                      at: datetime) -> None:
        RejectionItem(txn_pk(brand_id, store_id, transaction_id), f"REJECTED#{fingerprint}", reason=reason,
                      received_at=at).save()

    def clear_event_pending(self, brand_id: str, store_id: str, transaction_id: str) -> None:
        TxnItem(txn_pk(brand_id, store_id, transaction_id), TXN_SK).update(actions=[TxnItem.event_pending.remove()])


def dynamodb_client_connection() -> Any:
    """pynamodb's low-level Connection bound to the shared client (for transactions)."""
    return TxnItem._get_connection().connection



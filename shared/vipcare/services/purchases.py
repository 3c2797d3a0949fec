"""Purchase intake (validate, resolve the member, enqueue) and the status of a transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from ..api.models.fields import field_errors
from ..api.models.purchases import MAX_BATCH, PurchaseIn, RowStatus
from ..domain.access import Caller, ensure_can_act_for_store, ensure_visible
from ..domain.errors import DomainError, NotFound, ValidationFailed
from ..domain.phone import normalise_phone
from ..domain.purchases import Kind, Line, Purchase, Status, check_rules, hold_expired
from ..store.ledger import LedgerEntry
from .brands import brand_settings
from .limits import purchase_limits
from .members import visible_member
from .ports import BrandSource, DirectoryReader, IntakeQueue, Ledger, MemberLookup, MemberStore


@dataclass
class RowResult:
    index: int
    transaction_id: str | None
    status: RowStatus  # retry: valid, but the queue refused it
    fields: list[dict[str, str]] = field(default_factory=list)
    error: DomainError | None = None  # why a row is invalid (a lone purchase answers with it)


def rows_of(body: Any) -> tuple[list[Any], bool]:
    """A body is one purchase, or {"purchases": [...]} with 1..100 rows. Returns (rows, is_batch)."""
    if not isinstance(body, dict):
        raise ValidationFailed("expected a JSON object", field="body")
    if "purchases" not in body:
        return [body], False
    rows = body["purchases"]
    if set(body) != {"purchases"}:
        extra = sorted(set(body) - {"purchases"})[0]
        raise ValidationFailed(f"unknown field {extra}", field=extra)
    if not isinstance(rows, list) or not rows:
        raise ValidationFailed("must be a non-empty list", field="purchases")
    if len(rows) > MAX_BATCH:
        raise ValidationFailed(f"at most {MAX_BATCH} purchases per request", field="purchases")
    return rows, True


def submit(caller: Caller, body: Any, *, now: datetime, members: MemberStore, directory: DirectoryReader,
           queue: IntakeQueue) -> list[RowResult]:
    """Validate each row on its own; enqueue the valid ones. Nothing is written to the ledger
    here: the consumer applies each queued purchase exactly once."""
    rows, _ = rows_of(body)
    limits = purchase_limits(caller.brand_id, directory)
    region = brand_settings(caller.brand_id, directory).phone_region
    known_stores: dict[str, bool] = {}

    results: list[RowResult] = []
    accepted: list[tuple[int, Purchase]] = []
    parsed: list[tuple[int, PurchaseIn]] = []
    for index, row in enumerate(rows):
        txn = row.get("transaction_id") if isinstance(row, dict) else None
        try:
            parsed.append((index, PurchaseIn.model_validate(row)))
        except ValidationError as exc:
            results.append(RowResult(index, txn if isinstance(txn, str) else None, "invalid",
                                     field_errors(exc.errors())))

    phones = {i: normalise_or_none(r.phone, region) for i, r in parsed if r.phone}
    claimed = members.member_ids_for_phones(caller.brand_id, [p for p in phones.values() if p])
    existing = members.existing_ids(caller.brand_id, [r.member_id for _, r in parsed if r.member_id])

    for index, row in parsed:
        try:
            if row.store_id not in known_stores:
                known_stores[row.store_id] = directory.store(caller.brand_id, row.store_id) is not None
            if not known_stores[row.store_id]:
                raise ValidationFailed(f"unknown store {row.store_id}", field="store_id")
            ensure_can_act_for_store(caller, row.store_id)
            if row.phone:
                e164 = phones.get(index)
                if e164 is None:
                    raise ValidationFailed("not a valid phone number", field="phone")
                member_id = claimed.get(e164)
                if member_id is None:
                    raise ValidationFailed("no member with this phone number", field="phone")
            else:
                member_id = row.member_id or ""
                if member_id not in existing:
                    raise ValidationFailed("unknown member", field="member_id")
            purchase = Purchase(
                brand_id=caller.brand_id, store_id=row.store_id, transaction_id=row.transaction_id,
                member_id=member_id, kind=Kind(row.kind), amount=Decimal(row.amount), currency=row.currency,
                items=row.item_count, occurred_at=row.occurred_at,
                original_transaction_id=row.original_transaction_id,
                lines=tuple(Line(sku=x.sku, quantity=x.quantity, unit_price=Decimal(x.unit_price),
                                 discount_amount=Decimal(x.discount_amount or 0), name=x.name, category=x.category)
                            for x in row.lines or ()),
                discount_amount=Decimal(row.discount_amount or 0),
            )
            check_rules(purchase, now, limits)
        except DomainError as exc:
            results.append(RowResult(index, row.transaction_id, "invalid",
                                     [{"field": exc.field or "body", "message": exc.message}], error=exc))
            continue
        accepted.append((index, purchase))

    messages = [{**p.to_message(), "received_at": now.isoformat(), "submitted_by": caller.staff_id}
                for _, p in accepted]
    refused = set(queue.send(messages)) if messages else set()
    for position, (index, p) in enumerate(accepted):
        if position in refused:
            results.append(RowResult(index, p.transaction_id, "retry",
                                     [{"field": "body", "message": "could not be queued; send it again"}]))
        else:
            results.append(RowResult(index, p.transaction_id, "accepted"))
    return sorted(results, key=lambda r: r.index)


def normalise_or_none(raw: str, region: str) -> str | None:
    try:
        return normalise_phone(raw, region)
    except ValidationFailed:
        return None


# ---- status --------------------------------------------------------------------------------


def status_of(caller: Caller, store_id: str, transaction_id: str, *, now: datetime, ledger: Ledger,
              directory: BrandSource) -> LedgerEntry:
    ensure_visible(caller, brand_id=caller.brand_id, store_id=store_id, what="transaction")
    entry = ledger.entry(caller.brand_id, store_id, transaction_id)
    if entry is None or entry.status == Status.AWAITING:
        raise NotFound("no such transaction has been processed (it may still be queued)")
    limits = purchase_limits(caller.brand_id, directory)
    if entry.status == Status.HELD and entry.received_at and hold_expired(entry.received_at, now, limits):
        # Reported lazily: no job sweeps expired holds; a late sale rejects them too.
        entry.status, entry.reason = Status.REJECTED, "the sale did not arrive within the hold window"
    return entry


# ---- the member's history -------------------------------------------------------------------

HISTORY_PAGE = 20
MAX_HISTORY_PAGE = 100


def purchase_history(caller: Caller, member_id: str, *, limit: int = HISTORY_PAGE, after: str | None = None,
                     members: MemberLookup, ledger: Ledger) -> tuple[list[LedgerEntry], str | None]:
    """The member's applied sales and returns, newest first (by when they happened), one page
    and the cursor of the next. Held and rejected transactions are not history: the status
    route reports them."""
    if not 1 <= limit <= MAX_HISTORY_PAGE:
        raise ValidationFailed(f"must be between 1 and {MAX_HISTORY_PAGE}", field="limit")
    visible_member(caller, member_id, members=members)
    try:
        return ledger.history(caller.brand_id, member_id, limit=limit, after=after)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="after") from None

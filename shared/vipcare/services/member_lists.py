"""Member lists: search with filters, saved segments, and a segment's call list as CSV.

A page walks the partitions of the list's leading index (domain.segments.lead_of) from the
cursor, reads the members each Query page names and keeps those every filter accepts. A page
looks at most EXAMINE index entries: a very selective list over a large index answers fewer
members than asked (even none) with a `next` cursor, rather than reading on without bound.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from ..domain.access import SUPERVISOR_OR_ABOVE, Caller, ensure_can_act_for_store, require_role
from ..domain.directory import BrandSettings, Staff, Store
from ..domain.errors import NotFound, ValidationFailed
from ..domain.months import month_of
from ..domain.segments import Lead, ListContext, MemberFilters, context_for, lead_of, matches
from ..domain.tiers import local_day
from ..store.care_table import utc_text
from ..store.member_lists import Card, Partition, member_of_entry
from ..store.paging import Page, sorted_page
from ..store.segments import Segment
from .brands import brand_settings

EXAMINE = 1000  # index entries one page looks at, at most
QUERY_LIMIT = 100  # index entries per Query (then one BatchGetItem of their PROFILE + STATS)
EXPORT_ROWS = 5000  # rows in one CSV answer; a longer list continues with the cursor
EXPORT_EXAMINE = 50 * EXAMINE


class MemberLists(Protocol):
    def partitions(self, brand_id: str, f: MemberFilters, lead: Lead, ctx: ListContext,
                   store_ids: list[str]) -> list[Partition]: ...
    def keys_page(self, part: Partition, *, start: dict[str, Any] | None,
                  limit: int) -> tuple[list[dict[str, str]], dict[str, str] | None]: ...
    def cards(self, brand_id: str, member_ids: list[str]) -> dict[str, Card]: ...


class Segments(Protocol):
    def add(self, brand_id: str, segment: Segment) -> None: ...
    def get(self, brand_id: str, segment_id: str) -> Segment | None: ...
    def all(self, brand_id: str) -> list[Segment]: ...
    def record_export(self, brand_id: str, segment_id: str, *, by: str, at: datetime, rows: int,
                      after: str | None) -> None: ...


class ListDirectory(Protocol):
    def brand(self, brand_id: str) -> BrandSettings | None: ...
    def stores(self, brand_id: str) -> list[Store]: ...
    def staff(self, brand_id: str, staff_id: str) -> Staff | None: ...


@dataclass(frozen=True)
class ListDeps:
    lists: MemberLists
    segments: Segments
    directory: ListDirectory


@dataclass(frozen=True)
class ListedMember:
    member_id: str
    member_no: str
    name: str
    phone: str
    tier: str
    store_id: str
    manager_id: str | None
    last_purchase_at: datetime | None
    spend_12m: Decimal


@dataclass
class ListPage:
    members: list[ListedMember]
    next: str | None
    examined: int  # index entries looked at (the bench reports it)


# ---- search -----------------------------------------------------------------------------------

def search(caller: Caller, filters: MemberFilters, *, limit: int, after: str | None, now: datetime,
           deps: ListDeps) -> ListPage:
    """One page of the members matching `filters`, within the caller's scope: store staff and
    managers their own store (asking for another is 403 naming store_id), others the brand."""
    return _page(caller.brand_id, _scoped(caller, filters), limit=limit, after=after, now=now, deps=deps)


def _scoped(caller: Caller, f: MemberFilters) -> MemberFilters:
    if caller.store_scoped:
        if f.store_id is not None:
            ensure_can_act_for_store(caller, f.store_id)
        return f.within_store(caller.store_id or "")
    return f


def _page(brand_id: str, f: MemberFilters, *, limit: int, after: str | None, now: datetime, deps: ListDeps,
          examine: int = EXAMINE) -> ListPage:
    ctx = list_context(brand_id, f, now, deps)
    out: list[ListedMember] = []
    walk = Walk(brand_id, f, ctx, after=after, deps=deps, examine=examine)
    for card in walk.cards(limit):
        out.append(_listed(card, ctx))
    return ListPage(out, walk.position, walk.examined)


def list_context(brand_id: str, f: MemberFilters, now: datetime, deps: ListDeps) -> ListContext:
    timezone = brand_settings(brand_id, deps.directory).timezone
    return context_for(f, now=now, today=local_day(now, timezone), current_month=month_of(now, timezone))


class Walk:
    """The members of a list in index order from a cursor, Query page by Query page, looking
    at no more than `examine` index entries. After `cards()` stops (the limit reached, the
    budget spent or the list done), `position` is the cursor of what follows the last member
    taken (None: the list is done)."""

    def __init__(self, brand_id: str, f: MemberFilters, ctx: ListContext, *, after: str | None, deps: ListDeps,
                 examine: int = EXAMINE) -> None:
        self.brand_id, self.f, self.ctx, self.deps, self.examine = brand_id, f, ctx, deps, examine
        self.lead = lead_of(f)
        stores = (sorted(s.store_id for s in deps.directory.stores(brand_id))
                  if self.lead is Lead.ROLL and not f.store_id else [])
        self.parts = deps.lists.partitions(brand_id, f, self.lead, ctx, stores)
        self.index, self.start = _decode(after, self.lead, self.parts)
        self.examined = 0
        self.position: str | None = None

    def cards(self, limit: int) -> Iterator[Card]:
        """Up to `limit` matching members. A caller may stop early: `position` then resumes
        after the last member yielded."""
        taken = 0
        while self.index < len(self.parts) and self.examined < self.examine:
            # as many entries as members still wanted: a filter that rejects some costs another
            # Query, never a read of members past the page's end (the next page reads them)
            want = max(limit - taken, 25)
            part = self.parts[self.index]
            entries, last = self.deps.lists.keys_page(part, start=self.start,
                                                      limit=min(QUERY_LIMIT, want, self.examine - self.examined))
            self.examined += len(entries)
            ids = [m for m in (member_of_entry(self.brand_id, e) for e in entries) if m]
            found = self.deps.lists.cards(self.brand_id, ids)
            for entry in entries:
                card = found.get(member_of_entry(self.brand_id, entry) or "")
                if card is not None and matches(self.f, card.member, card.stats, self.ctx):
                    taken += 1
                    self.position = _encode(self.lead, self.index, entry)
                    yield card
                    if taken == limit:
                        return
            if last is None:
                self.index, self.start = self.index + 1, None
            else:
                self.start = part.start_key(last)
        more = self.index < len(self.parts)
        self.position = _encode(self.lead, self.index, _raw(self.start)) if more else None


def _listed(card: Card, ctx: ListContext) -> ListedMember:
    m = card.member
    return ListedMember(member_id=m.member_id, member_no=m.member_no, name=m.name, phone=m.phone, tier=m.tier.value,
                        store_id=m.store_id, manager_id=m.manager_id, last_purchase_at=card.stats.last_purchase_at,
                        spend_12m=card.stats.spend_12m(ctx.current_month))


# The cursor: the leading index, the partition reached and the index entry to go on after.
def _encode(lead: Lead, index: int, entry: dict[str, str] | None) -> str:
    text = json.dumps({"l": lead.value, "p": index, "k": entry}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(token: str | None, lead: Lead, parts: list[Partition]) -> tuple[int, dict[str, Any] | None]:
    if token is None:
        return 0, None
    try:
        doc = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        index, entry = doc["p"], doc["k"]
        if doc["l"] != lead.value or not isinstance(index, int) or not 0 <= index < len(parts):
            raise ValueError("another list")
        return index, (parts[index].start_key(entry) if entry is not None else None)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ValidationFailed("not a cursor of this list (use `next` from the previous page with the same "
                               "filters)", field="after") from None


def _raw(start: dict[str, Any] | None) -> dict[str, str] | None:
    return {k: v["S"] for k, v in start.items()} if start else None


# ---- segments ---------------------------------------------------------------------------------

def create_segment(caller: Caller, name: str, filters: MemberFilters, *, now: datetime, deps: ListDeps) -> Segment:
    """Save a list's filters under a name. Store-scoped staff save lists of their own store."""
    if not name.strip():
        raise ValidationFailed("must not be blank", field="name")
    segment = Segment(segment_id=f"seg-{uuid.uuid4().hex[:16]}", name=name.strip(),
                      filters=_scoped(caller, filters), created_by=caller.staff_id, created_at=now)
    deps.segments.add(caller.brand_id, segment)
    return segment


def get_segment(caller: Caller, segment_id: str, *, deps: ListDeps) -> Segment:
    segment = deps.segments.get(caller.brand_id, segment_id)
    if segment is None:
        raise NotFound("segment not found")
    return segment


def segments(caller: Caller, *, limit: int, after: str | None, deps: ListDeps) -> Page[Segment]:
    """A page of the brand's segments, newest first (a brand keeps tens: read whole and sorted)."""
    return sorted_page(deps.segments.all(caller.brand_id), tag="segments", limit=limit, after=after,
                       key=lambda s: (utc_text(s.created_at), s.segment_id), names=("created_at", "segment_id"),
                       reverse=True)


def segment_members(caller: Caller, segment_id: str, *, limit: int, after: str | None, now: datetime,
                    deps: ListDeps) -> ListPage:
    """Who matches the segment now, within the caller's scope (a head-office segment read by a
    store's staff lists that store's members)."""
    segment = get_segment(caller, segment_id, deps=deps)
    return search(caller, segment.filters, limit=limit, after=after, now=now, deps=deps)


CSV_COLUMNS = ("member_no", "name", "phone", "tier", "store_id", "last_purchase", "spend_12m", "manager_id",
               "manager_name")


def export_segment(caller: Caller, segment_id: str, *, after: str | None, now: datetime,
                   deps: ListDeps) -> tuple[str, str | None, int]:
    """The segment as a call list (CSV, up to EXPORT_ROWS rows; the cursor goes on), for a
    supervisor or above; every export audited (who, when, how many rows). Returns the CSV, the
    cursor of the rest (None: complete) and the row count."""
    require_role(caller, *SUPERVISOR_OR_ABOVE)
    segment = get_segment(caller, segment_id, deps=deps)
    f = _scoped(caller, segment.filters)
    rows: list[ListedMember] = []
    cursor, examined = after, 0
    while len(rows) < EXPORT_ROWS and examined < EXPORT_EXAMINE:
        page = _page(caller.brand_id, f, limit=min(200, EXPORT_ROWS - len(rows)), after=cursor, now=now, deps=deps)
        rows += page.members
        examined += page.examined
        cursor = page.next
        if cursor is None:
            break
    timezone = brand_settings(caller.brand_id, deps.directory).timezone
    text = _csv(rows, _manager_names(caller.brand_id, (r.manager_id for r in rows), deps), timezone)
    deps.segments.record_export(caller.brand_id, segment_id, by=caller.source, at=now, rows=len(rows), after=after)
    return text, cursor, len(rows)


def _manager_names(brand_id: str, ids: Iterable[str | None], deps: ListDeps) -> dict[str, str]:
    out = {}
    for staff_id in {i for i in ids if i}:
        staff = deps.directory.staff(brand_id, staff_id)
        out[staff_id] = staff.name if staff else ""
    return out


def _csv(rows: list[ListedMember], managers: dict[str, str], timezone: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        last = local_day(r.last_purchase_at, timezone).isoformat() if r.last_purchase_at else ""
        writer.writerow([r.member_no, _cell(r.name), r.phone, r.tier, r.store_id, last, f"{r.spend_12m:.2f}",
                         r.manager_id or "", _cell(managers.get(r.manager_id or "", ""))])
    return buffer.getvalue()


def _cell(value: str) -> str:
    """A spreadsheet must not run a typed-in name as a formula (CSV injection). The other
    columns are values VIP Care made (ids, E.164 phones, dates, amounts)."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value

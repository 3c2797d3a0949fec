"""A member's data rights (docs/domain.md §7, docs/privacy.md): an export of everything held about
them, and erasure. Both are audited (who, when) under the member.

Erasure keeps the ledger: purchase entries, monthly figures and point lots carry only the
random member id, store, amounts and times, so once the card is a tombstone they are
anonymous, and totals and past KPIs stay right. The phone is released: it can enrol again
as a new member.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from datetime import datetime
from typing import Any

from ..domain.access import Caller, Role, ensure_visible, require_role
from ..domain.errors import NotFound
from ..domain.months import month_of
from ..store.models import Taken
from ..store.paging import every
from .brands import brand_settings
from .care_ports import CareDeps
from .ports import BenefitRecords, CaseArchive, DecisionHistory, Directory, Ledger, MemberRecords

log = logging.getLogger("vipcare.privacy")
# Reading everything about a member, or erasing them, is for the brand's senior staff only.
DATA_RIGHTS_ROLES = (Role.SUPERVISOR, Role.DEPARTMENT_HEAD, Role.VICE_PRESIDENT, Role.ADMIN)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in (sorted(value) if isinstance(value, set) else value)]
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "value") and not isinstance(value, int | str):
        return value.value
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _item(item: Any, *names: str) -> dict[str, Any]:
    return {n: _plain(getattr(item, n, None)) for n in names}


def export_member(caller: Caller, member_id: str, *, now: datetime,
                  care: CareDeps, members: MemberRecords, ledger: Ledger, complaints: CaseArchive,
                  tiers: DecisionHistory, directory: Directory, benefits: BenefitRecords) -> dict[str, Any]:
    member = members.get(caller.brand_id, member_id)
    if member is None:
        raise NotFound("member not found")
    ensure_visible(caller, brand_id=member.brand_id, store_id=member.store_id, what="member")
    require_role(caller, *DATA_RIGHTS_ROLES)
    stats = ledger.stats(caller.brand_id, member_id)
    entries = _whole_history(ledger, caller.brand_id, member_id)
    stores = [s.store_id for s in directory.stores(caller.brand_id)]
    members.audit(caller.brand_id, member_id, "export", caller.source, now)
    log.info("member exported", extra={"member_id": member_id, "by": caller.source})
    return {
        "exported_at": now.isoformat(), "exported_by": caller.source,
        "profile": _plain(member),
        "figures": {"spend_by_month": _plain(stats.spend), "purchases_by_month": _plain(stats.purchases),
                    "returned_by_month": _plain(stats.returned), "sales_by_month": _plain(stats.sales),
                    "items_by_month": _plain(stats.items), "point_lots": _plain(stats.points.lots),
                    "points_debt": stats.points.debt, "referrals": _plain(stats.referrals),
                    "last_purchase_at": _plain(stats.last_purchase_at)},
        "purchases": [_plain(e) for e in entries],
        "redemptions": [_item(r, "redemption_id", "reward_id", "points", "reason", "redeemed_at", "by")
                        for r in ledger.redemptions_of_member(caller.brand_id, member_id)],
        "tier_decisions": [_plain(d) for d in tiers.decisions(caller.brand_id, member_id, limit=100)],
        "messages": [_item(m, "occasion_key", "kind", "category", "status", "reason", "text", "created_at",
                           "sent_at") for m in care.messages.history(caller.brand_id, member_id)],
        "contacts": [_item(c, "contact_id", "contacted_on", "channel", "notes", "next_action", "nps", "staff_id",
                           "created_at") for c in every(lambda after: care.contacts.recent(
                               caller.brand_id, member_id, limit=200, after=after))],
        "tasks": [_item(t, "task_id", "kind", "period", "status", "assignee", "reason", "created_at",
                        "completed_at") for t in care.tasks.of_member(caller.brand_id, member_id)],
        "complaints": [_plain(c) for c in complaints.cases_of_member(caller.brand_id, member_id, stores)],
        "benefit_uses": [_item(u, "use_id", "benefit_id", "store_id", "quantity", "note", "period", "used_at", "by")
                         for u in benefits.uses_of_member(caller.brand_id, member_id)],
        "audit": [_item(a, "action", "by", "at") for a in members.audits(caller.brand_id, member_id)],
    }


def _whole_history(ledger: Ledger, brand_id: str, member_id: str) -> list[Any]:
    """Every applied sale and return of the member, page after page of their history."""
    entries, after = ledger.history(brand_id, member_id, limit=100)
    while after is not None:
        page, after = ledger.history(brand_id, member_id, limit=100, after=after)
        entries += page
    return entries


def erase_member(caller: Caller, member_id: str, *, now: datetime,
                 care: CareDeps, members: MemberRecords,
                 complaints: CaseArchive, directory: Directory, benefits: BenefitRecords) -> dict[str, Any]:
    """Erase the card (one transaction: tombstone, phone released, manager slot freed, counted
    closed, audited), then the personal text kept elsewhere (contact notes, message texts,
    complaint descriptions and notes). Calling it again on an erased member finishes the second
    part and reports what it did."""
    require_role(caller, Role.ADMIN)
    member = members.get(caller.brand_id, member_id)
    erased_at = members.erased_at(caller.brand_id, member_id) if member is None else None
    if member is None and erased_at is None:
        raise NotFound("member not found")
    if member is not None:
        ensure_visible(caller, brand_id=member.brand_id, store_id=member.store_id, what="member")
        month = month_of(now, brand_settings(caller.brand_id, directory).timezone)
        members.erase(member, by=caller.source, now=now, month=month)
        erased_at = now
    cleaned = erase_care_records(care, caller.brand_id, member_id, now)
    stores = [s.store_id for s in directory.stores(caller.brand_id)]
    cases = sum(complaints.erase_case_texts(caller.brand_id, c.complaint_id)
                for c in complaints.cases_of_member(caller.brand_id, member_id, stores))
    notes = benefits.erase_notes(caller.brand_id, member_id)
    log.info("member erased", extra={"member_id": member_id, "by": caller.source, **cleaned, "complaints": cases,
                                     "benefit_notes": notes})
    return {"member_id": member_id, "erased_at": _plain(erased_at), "erased_by": caller.source,
            "contacts_cleaned": cleaned["contacts"], "messages_cleaned": cleaned["messages"],
            "tasks_closed": cleaned["tasks"], "complaints_cleaned": cases, "benefit_notes_cleaned": notes}


def erase_care_records(care: CareDeps, brand_id: str, member_id: str, now: datetime) -> dict[str, int]:
    """After an erasure: contact notes and message texts removed (dates, channels and outcomes
    stay for the figures), the cadence review dropped, open tasks closed. Each step is
    idempotent: a rerun finds nothing more to do."""
    done = {"contacts": care.contacts.erase_notes(brand_id, member_id),
            "messages": care.messages.erase_texts(brand_id, member_id), "tasks": 0}
    care.cadence.drop(brand_id, member_id)
    for task in care.tasks.of_member(brand_id, member_id):
        if task.open:
            with contextlib.suppress(Taken):
                care.tasks.complete(task, now, "erasure")
                done["tasks"] += 1
    return done

"""Domain objects -> response models (the only place that decides what a response shows)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Each presenter imports its response models when first called: a function loads only the
    # models of its own routes (pydantic classes cost milliseconds each on a cold start).
    from pydantic import BaseModel

    from ..domain.complaints import Complaint
    from ..domain.directory import Staff, Store
    from ..domain.members import Member
    from .models.activities import ActivityOut
    from .models.benefits import BenefitsOut, BenefitUseOut, MemberBenefits, RewardOut
    from .models.care import BookEntryOut, ContactOut, MessageOut, TaskOut
    from .models.complaints import ComplaintOut, ComplaintSummary
    from .models.directory import StaffOut, StoreOut
    from .models.lists import MemberListOut, SegmentOut
    from .models.members import MemberCard
    from .models.purchases import PurchaseHistoryOut, PurchaseRecordOut


def member_card(m: Member) -> MemberCard:
    from .models.members import ConsentOut, FamilyMemberOut, MemberCard
    values = {f.name: getattr(m, f.name) for f in dataclasses.fields(m)}
    values["consent"] = ConsentOut(**dataclasses.asdict(m.consent))
    values["family"] = [FamilyMemberOut(**dataclasses.asdict(f)) for f in m.family]
    values["spend_12m"] = f"{m.spend_12m:.2f}"
    return MemberCard(**values)


def store_out(s: Store) -> StoreOut:
    from .models.directory import StoreOut
    return StoreOut(**dataclasses.asdict(s))


def staff_out(s: Staff) -> StaffOut:
    from .models.directory import StaffOut
    values = dataclasses.asdict(s)
    values.pop("extra", None)
    return StaffOut(**values)


def complaint_summary(c: Complaint) -> ComplaintSummary:
    from .models.complaints import ComplaintSummary
    return ComplaintSummary(**_complaint_values(c, ComplaintSummary))


def complaint_out(c: Complaint) -> ComplaintOut:
    from .models.complaints import ComplaintOut, HistoryOut
    values = _complaint_values(c, ComplaintOut)
    values["history"] = [HistoryOut(**dataclasses.asdict(h)) for h in c.history]
    return ComplaintOut(**values)


def _complaint_values(c: Complaint, model: type[BaseModel]) -> dict[str, Any]:
    values = {name: getattr(c, name) for name in model.model_fields if hasattr(c, name) and name != "history"}
    values["order_value"] = f"{c.order_value:.2f}" if c.order_value is not None else None
    values["next_escalation_check_at"] = c.next_check_at
    return values


# ---- care: messages, tasks, contacts (the store's records, read field by field) ----------------


def message_out(m: Any) -> MessageOut:
    from .models.care import MessageOut
    return MessageOut(occasion_key=m.occasion_key, kind=m.kind, category=m.category, status=m.status,
                      reason=m.reason, text=m.text, created_at=m.created_at, sent_at=m.sent_at,
                      next_attempt_at=m.next_attempt_at, attempts=int(m.attempts or 0))


def task_out(t: Any) -> TaskOut:
    from .models.care import HandOverOut, TaskOut
    return TaskOut(task_id=t.task_id, member_id=t.member_id or None, activity_id=t.activity_id, kind=t.kind,
                   period=t.period, status=t.status,
                   assignee=t.assignee, reason=t.reason, escalated=int(t.escalated or 0), created_at=t.created_at,
                   completed_at=t.completed_at, completed_by=t.completed_by,
                   requirements=(t.detail or {}).get("requirements"), missing=(t.detail or {}).get("missing"),
                   title=t.title, note=t.note, due_on=t.due_on, outcome=t.outcome, lost_reason=t.lost_reason,
                   history=[HandOverOut.model_validate(h) for h in t.history] if t.history else None)


def contact_out(c: Any, *, completed_task_id: str | None = None) -> ContactOut:
    """A logged contact; `completed_task_id` is the cadence task the contact closed (when logged)."""
    from .models.care import ContactOut
    return ContactOut(contact_id=c.contact_id, member_id=c.member_id, contacted_on=c.contacted_on,
                      channel=c.channel, notes=c.notes, next_action=c.next_action,
                      nps=int(c.nps) if c.nps is not None else None, staff_id=c.staff_id,
                      created_at=c.created_at, completed_task_id=completed_task_id)


def book_entry_out(e: Any) -> BookEntryOut:
    from .models.care import BookEntryOut
    return BookEntryOut(**vars(e))


def member_list_out(page: Any) -> MemberListOut:
    """A page of a member list (services.member_lists.ListPage); the phone stays out of it."""
    from .models.lists import ListedMemberOut, MemberListOut
    return MemberListOut(next=page.next, members=[
        ListedMemberOut(member_id=m.member_id, member_no=m.member_no, name=m.name, tier=m.tier, store_id=m.store_id,
                        manager_id=m.manager_id, last_purchase_at=m.last_purchase_at,
                        spend_12m=f"{m.spend_12m:.2f}") for m in page.members])


def segment_out(s: Any) -> SegmentOut:
    from .models.lists import MemberFiltersIn, SegmentOut
    return SegmentOut(segment_id=s.segment_id, name=s.name, filters=MemberFiltersIn(**s.filters.as_document()),
                      created_by=s.created_by, created_at=s.created_at)


def benefits_out(c: Any) -> BenefitsOut:
    """A brand's benefits document, as stored (numbers as decimal strings)."""
    from .models.benefits import BenefitOut, BenefitsOut
    return BenefitsOut(brand_id=c.brand_id, version=c.version, created_at=c.created_at, created_by=c.created_by,
                       benefits=[BenefitOut(benefit_id=b.benefit_id, name=b.name, kind=b.kind.value,
                                            period=b.period.value,
                                            tiers={t.value: _grant(g) for t, g in b.tiers.items()})
                                 for b in c.benefits])


def _grant(g: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if g.discount_percent is not None:
        out["discount_percent"] = str(g.discount_percent)
    if g.quota is not None:
        out["quota"] = g.quota
    return out


def member_benefits_out(v: Any) -> MemberBenefits:
    from .models.benefits import AllowanceOut, BirthdayGiftOut, MemberBenefits
    e = v.entitlements
    return MemberBenefits(member_id=v.member_id, tier=e.tier, discount_percent=str(e.discount_percent),
                          points_balance=v.points_balance,
                          allowances=[AllowanceOut(benefit_id=a.benefit_id, name=a.name, quota=a.quota, used=a.used,
                                                   remaining=a.remaining, period_ends=a.period_ends)
                                      for a in e.allowances],
                          birthday_gift=BirthdayGiftOut(available=e.birthday_gift.available,
                                                        until=e.birthday_gift.until),
                          services=list(e.services))


def benefit_use_out(u: Any) -> BenefitUseOut:
    from .models.benefits import BenefitUseOut
    return BenefitUseOut(member_id=u.member_id, use_id=u.use_id, benefit_id=u.benefit_id, quantity=u.quantity,
                         used_at=u.used_at, period_ends=u.period_ends, remaining=u.remaining)


def reward_out(r: Any, affordable: bool | None) -> RewardOut:
    from .models.benefits import RewardOut
    return RewardOut(reward_id=r.reward_id, name=r.name, kind=r.kind.value, points=r.points, stock=r.stock,
                     min_tier=r.min_tier, active=r.active, affordable=affordable, updated_at=r.updated_at)


def purchase_history_out(member_id: str, entries: list[Any], cursor: str | None) -> PurchaseHistoryOut:
    from .models.purchases import PurchaseHistoryOut
    return PurchaseHistoryOut(member_id=member_id, purchases=[purchase_record_out(e) for e in entries], next=cursor)


def purchase_record_out(e: Any) -> PurchaseRecordOut:
    """A ledger entry as the member's history shows it (store.ledger.LedgerEntry)."""
    from ..domain.purchases import total_discount
    from .models.purchases import LineOut, PurchaseRecordOut, ReturnAppliedOut
    sale = e.kind.value == "sale"
    discount = total_discount(e.discount_amount, e.lines)
    return PurchaseRecordOut(
        store_id=e.store_id, transaction_id=e.transaction_id, kind=e.kind.value, occurred_at=e.occurred_at,
        applied_at=e.applied_at, amount=f"{e.amount:.2f}", currency=e.currency or "", items=int(e.items or 0),
        discount_amount=f"{discount:.2f}", points=int(e.points or 0) * (1 if sale else -1),
        lines=[LineOut(sku=x.sku, name=x.name, category=x.category, quantity=x.quantity,
                       unit_price=f"{x.unit_price:.2f}", discount_amount=f"{x.discount_amount:.2f}")
               for x in e.lines],
        original_transaction_id=e.original_transaction_id,
        returned=f"{e.returned:.2f}" if sale else None,
        returns=[ReturnAppliedOut(store_id=r.store_id, transaction_id=r.transaction_id, amount=f"{r.amount:.2f}",
                                  points=r.points, occurred_at=r.occurred_at) for r in e.returns],
        recorded_by=e.submitted_by)


def activity_out(a: Any) -> ActivityOut:
    """An activity with its figures (domain.activities.Activity)."""
    from .models.activities import ActivityOut, FeedbackOut
    from .models.lists import MemberFiltersIn
    c, f = a.counts, a.feedback
    return ActivityOut(
        activity_id=a.activity_id, name=a.name, kind=a.kind.value, store_id=a.store_id, starts_at=a.starts_at,
        ends_at=a.ends_at, capacity=a.capacity, stage=a.stage.value, organiser_id=a.organiser_id,
        created_at=a.created_at, segment_id=a.segment_id, filters=MemberFiltersIn(**a.filters.as_document()),
        invitation_text=a.text, send_at=a.send_at, audience=c.audience, invited=c.sent, deferred=c.deferred,
        capped=c.capped, suppressed=c.suppressed, failed=c.failed, rsvp_yes=c.rsvp_yes, rsvp_no=c.rsvp_no,
        attended=c.attended,
        feedback=FeedbackOut(due_on=f.due_on, filed_at=f.filed_at, filed_by=f.filed_by, late=f.late,
                             summary=f.summary, satisfied_count=f.satisfied_count))

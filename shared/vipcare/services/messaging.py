"""One message to one member: decide (send, defer, cap, suppress), record, send, retry.

Every occasion has exactly one record (MessageStore.add fails with Taken when it exists), so
however often or concurrently the job runs, an occasion is handled once; a deferred or failed
record is claimed with a condition on its status before it is sent again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from ..domain import reminders as rules
from ..domain.activities import activity_of
from ..domain.members import Member
from ..domain.months import month_of
from ..domain.reminders import Candidate, DailyBudget, Kind, Message, Status
from ..store.messages import OverBudget
from ..store.models import Taken
from .care_ports import CareDeps
from .care_settings import CarePolicy

RETRY_AFTER = timedelta(hours=1)
# A record still `sending` this long after it was claimed means the run died between SNS
# Publish and recording the result (longer than the function's timeout). It stays in the due
# index meanwhile; a later run marks it `failed` / `unconfirmed` and never sends it again: the
# SMS may have gone out, and a second one is worse than none (at most once).
SENDING_STALE_AFTER = timedelta(minutes=15)
MAX_ATTEMPTS = 5
COUNTED_OUTCOMES = frozenset({"sent", "deferred", "capped", "suppressed", "failed"})


@dataclass(frozen=True)
class Verdict:
    """Why a message is not sent now, and when to look again (None: never)."""

    status: Status
    reason: str
    retry_at: datetime | None = None


class Messenger:
    """Offers occasions to members during one run (or one batch of bus events); keeps each
    member's message history read for the run."""

    def __init__(self, now: datetime, deps: CareDeps, policy: Callable[[str], CarePolicy]) -> None:
        self.now = now
        self.deps = deps
        self.policy = policy
        self._history: dict[tuple[str, str], list[Message]] = {}

    def history(self, brand_id: str, member_id: str) -> list[Message]:
        key = (brand_id, member_id)
        if key not in self._history:
            self._history[key] = self.deps.messages.history(brand_id, member_id)
        return self._history[key]

    def offer(self, member: Member, cand: Candidate) -> str:
        """Decide and record one occasion for one member; returns the outcome (counted)."""
        return self._counted(member, self._offer(member, cand))

    def retry_due(self) -> list[str]:
        """Look again at every message due by now (deferred, failed, or stuck sending)."""
        due = self.deps.messages.due(self.now)
        if not due:
            return []
        members = {(p.brand_id, p.member_id): p for p in self.deps.members.profiles(
            (m.brand_id, m.member_id) for m in due)}
        outcomes = []
        for record in due:
            member = members.get((record.brand_id, record.member_id))
            if member is not None:
                was = record.status
                outcome = self._counted(member, self._retry(member, record))
                self._activity_moved(record, was, outcome)
                outcomes.append(outcome)
        return outcomes

    def _activity_moved(self, record: Message, was: Status, outcome: str) -> None:
        """A retried activity invitation (deferred, failed) reached a new outcome: the activity's
        counts move with it (docs/activities.md)."""
        activity_id = activity_of(record.occasion_key) if record.kind is Kind.ACTIVITY else None
        store = self.deps.activities
        if activity_id is None or store is None or outcome == was.value or outcome not in COUNTED_OUTCOMES:
            return
        activity = store.get(record.brand_id, activity_id)
        if activity is not None:
            store.moved(activity, was.value, outcome)

    # ---- deciding ----------------------------------------------------------------------------
    def _counted(self, member: Member, outcome: str) -> str:
        """The month's SMS KPI counters (sent, deferred, capped, suppressed, failed), right after
        the record's write: a duplicate is never counted; a crash in between loses one count."""
        if outcome in COUNTED_OUTCOMES:
            period = month_of(self.now, self.policy(member.brand_id).timezone)
            self.deps.kpis.add(member.brand_id, period, member.store_id, {f"sms_{outcome}": 1})
        return outcome

    def _offer(self, member: Member, cand: Candidate) -> str:
        history = self.history(member.brand_id, member.member_id)
        if any(m.occasion_key == cand.occasion_key for m in history):
            return "duplicate"
        policy = self.policy(member.brand_id)
        record = Message(brand_id=member.brand_id, member_id=member.member_id, kind=cand.kind,
                         occasion_key=cand.occasion_key, status=Status.SENDING, created_at=self.now,
                         updated_at=self.now, values=dict(cand.values), template=cand.template)
        verdict = self._verdict(member, record, policy)
        if verdict is not None:
            held = replace(record, status=verdict.status, reason=verdict.reason, next_attempt_at=verdict.retry_at,
                           due_at=verdict.retry_at)
            try:
                self.deps.messages.add(held)
            except Taken:
                return "duplicate"
            history.append(held)
            return held.status.value
        sending = replace(record, due_at=self.now + SENDING_STALE_AFTER)
        try:
            self.deps.messages.add(sending, budget=self._budget(policy))
        except Taken:
            return "duplicate"
        except OverBudget:
            retry_at = self._tomorrow_morning(policy)
            try:
                self.deps.messages.add(replace(record, status=Status.DEFERRED, reason="daily_budget",
                                               next_attempt_at=retry_at, due_at=retry_at))
            except Taken:
                return "duplicate"
            return Status.DEFERRED.value
        history.append(sending)
        return self._publish(member, sending, policy)

    def _verdict(self, member: Member, record: Message, policy: CarePolicy) -> Verdict | None:
        """None: send now."""
        if record.marketing and not member.consent.sms_marketing:
            return Verdict(Status.SUPPRESSED, "no_consent")
        if record.marketing and member.sms_opted_out:
            return Verdict(Status.SUPPRESSED, "opted_out")
        tz = rules.zone(policy.timezone)
        if rules.in_quiet_hours(self.now, tz):
            return Verdict(Status.DEFERRED, "quiet_hours", rules.next_allowed(self.now, tz))
        if record.marketing:
            if self.deps.sms.opted_out(member.phone):
                self.deps.members.record_opt_out(member.brand_id, member.member_id)
                return Verdict(Status.SUPPRESSED, "opted_out")
            sent = [m.sent_at for m in self.history(member.brand_id, member.member_id)
                    if m.marketing and m.status is Status.SENT and m.sent_at is not None
                    and m.occasion_key != record.occasion_key]
            if not rules.within_cap(sent, self.now, policy.weekly_cap):
                return Verdict(Status.CAPPED, f"weekly_cap_{policy.weekly_cap}")
        return None

    # ---- sending -----------------------------------------------------------------------------
    def _publish(self, member: Member, record: Message, policy: CarePolicy) -> str:
        """Send a claimed (`sending`) record and write the result onto it (the same object, so
        the run's history sees it)."""
        values = {"name": member.name, "tier": policy.tier_name(member.tier.value), "brand": policy.brand_name,
                  **record.values}
        text = rules.render(record.template or policy.template(Kind(record.kind)), values)
        attempts = record.attempts + 1
        try:
            message_id = self.deps.sms.send_sms(member.phone, text, marketing=record.marketing)
        except Exception:  # noqa: BLE001 - any publish failure is retried on a later run
            retry_at = None if attempts >= MAX_ATTEMPTS else self.now + RETRY_AFTER
            _settle(record, Status.FAILED, "publish_failed", self.now, attempts=attempts, retry_at=retry_at)
            self.deps.messages.save(record)
            return Status.FAILED.value
        _settle(record, Status.SENT, None, self.now, attempts=attempts)
        record.text, record.sent_at, record.sns_message_id = text, self.now, message_id
        self.deps.messages.save(record)
        return Status.SENT.value

    def _retry(self, member: Member, record: Message) -> str:
        was = record.status
        if was is Status.SENDING:  # stale: see SENDING_STALE_AFTER
            try:
                self.deps.messages.save(_settled(record, Status.FAILED, "unconfirmed", self.now), expect=was)
            except Taken:
                return "duplicate"
            return "unconfirmed"
        policy = self.policy(record.brand_id)
        verdict = self._verdict(member, record, policy)
        if verdict is not None:
            try:
                self.deps.messages.save(_settled(record, verdict.status, verdict.reason, self.now,
                                                 retry_at=verdict.retry_at), expect=was)
            except Taken:
                return "duplicate"
            return verdict.status.value
        claimed = replace(record, status=Status.SENDING, updated_at=self.now,
                          due_at=self.now + SENDING_STALE_AFTER)
        try:
            self.deps.messages.claim(claimed, expect=was, budget=self._budget(policy))
        except Taken:
            return "duplicate"
        except OverBudget:
            return Status.DEFERRED.value
        return self._publish(member, claimed, policy)

    def _budget(self, policy: CarePolicy) -> DailyBudget:
        return DailyBudget(self._local_day(policy), policy.daily_budget)

    def _local_day(self, policy: CarePolicy) -> date:
        return self.now.astimezone(rules.zone(policy.timezone)).date()

    def _tomorrow_morning(self, policy: CarePolicy) -> datetime:
        tz = rules.zone(policy.timezone)
        return datetime.combine(self._local_day(policy) + timedelta(days=1), rules.QUIET_END, tzinfo=tz)


def _settle(m: Message, status: Status, reason: str | None, now: datetime, *, attempts: int | None = None,
            retry_at: datetime | None = None) -> None:
    """The outcome onto the record: waiting in the due index until `retry_at`, or settled."""
    m.status, m.reason, m.updated_at = status, reason, now
    m.next_attempt_at = m.due_at = retry_at
    if attempts is not None:
        m.attempts = attempts


def _settled(m: Message, status: Status, reason: str | None, now: datetime, *,
             retry_at: datetime | None = None) -> Message:
    out = replace(m)
    _settle(out, status, reason, now, retry_at=retry_at)
    return out

"""Care use cases: the hourly reminder job, tier notices from the bus, member messages,
brand templates and care settings (docs/reminders.md).

Every message has exactly one record per (member, occasion): `MSG#<occasion_key>`, written
with a condition that it does not exist. The record is the dedup key, so however often or
concurrently the job runs, an occasion is handled once; a deferred or failed record is
claimed with a condition on its status before it is sent.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ..config import settings
from ..domain import reminders as rules
from ..domain.access import Caller, ensure_visible
from ..domain.errors import Forbidden, NotFound, ValidationFailed
from ..domain.months import month_of, month_of_day
from ..domain.points import expiry_month, expiry_notice_day, last_day
from ..domain.privacy import redact
from ..domain.reminders import Candidate, Kind, Status
from ..domain.stats import MemberStats
from ..domain.tiers import rank_of
from ..notify.sns import SnsNotifier
from ..store.care import CareRepository, MessageItem, OverBudget, Taken, message_sk, msg_due_pk
from ..store.directory import DirectoryRepository
from ..store.kpis import KpiRepository
from ..store.ledger import LedgerRepository, points_notice_key
from ..store.members import CONSENT_SHARDS, anniversary_key, consent_shard_key, lunar_birthday_key, solar_birthday_key
from ..store.models import MemberItem
from .brands import brand_settings
from .limits import purchase_limits

_ = redact  # personal data never reaches a log line; nothing here logs member fields
RETRY_AFTER = timedelta(hours=1)
# A record still `sending` this long after it was claimed means the run died between SNS
# Publish and recording the result (longer than the function's timeout). It stays in the due
# index meanwhile; a later run marks it `failed` / `unconfirmed` and never sends it again: the
# SMS may have gone out, and a second one is worse than none (at most once).
SENDING_STALE_AFTER = timedelta(minutes=15)
MAX_ATTEMPTS = 5
COUNTED_OUTCOMES = frozenset({"sent", "deferred", "capped", "suppressed", "failed"})
HOLIDAY_PAGE = 100  # members per index page of a holiday run (one BatchGetItem of profiles)
TIER_NAMES = {"zh": {"regular": "普通", "silver": "银卡", "gold": "金卡", "diamond": "钻石"}}


@dataclass(frozen=True)
class CarePolicy:
    """A brand's care settings (brand defaults from the environment when unset)."""

    brand_id: str
    brand_name: str
    timezone: str
    language: str
    country: str
    weekly_cap: int
    daily_budget: int
    brand_dates: dict[str, str]
    templates: dict[tuple[str, str], str]

    def template(self, kind: Kind) -> str:
        own = self.templates.get((kind.value, self.language))
        return own or rules.DEFAULT_TEMPLATES[kind][self.language]


def care_policy(brand_id: str, *, care: CareRepository | None = None) -> CarePolicy:
    care = care or CareRepository()
    brand = brand_settings(brand_id)
    cfg = settings()
    values, templates = care.care_settings(brand_id)
    return CarePolicy(
        brand_id=brand_id, brand_name=brand.name, timezone=values.get("timezone") or brand.timezone,
        language=values.get("language") or "zh", country=values.get("country") or cfg.holiday_country,
        weekly_cap=int(values.get("weekly_cap", cfg.sms_weekly_marketing_cap)),
        daily_budget=int(values.get("daily_budget", cfg.sms_daily_budget)),
        brand_dates=dict(values.get("brand_dates") or {}), templates=templates)


@dataclass
class DispatchRun:
    now: datetime
    occasions: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    tasks_created: int = 0
    tasks_escalated: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"time": self.now.isoformat(), "occasions": self.occasions, **dict(self.outcomes),
                "tasks_created": self.tasks_created, "tasks_escalated": self.tasks_escalated}


class Dispatcher:
    """One run of the job (or one batch of bus events): caches brand policies and each
    member's message history for the run."""

    def __init__(self, now: datetime, *, care: CareRepository | None = None, sms: SnsNotifier | None = None,
                 ledger: LedgerRepository | None = None, directory: DirectoryRepository | None = None,
                 kpis: KpiRepository | None = None, deadline: float | None = None) -> None:
        self.now = now
        self.care = care or CareRepository()
        self.sms = sms or SnsNotifier()
        self.ledger = ledger or LedgerRepository()
        self.directory = directory or DirectoryRepository()
        self.kpis = kpis or KpiRepository()
        # time.monotonic() by which a long holiday run stops and leaves the rest to the next run
        self.deadline = deadline
        self.run = DispatchRun(now)
        self._policies: dict[str, CarePolicy] = {}
        self._history: dict[tuple[str, str], list[MessageItem]] = {}

    def policy(self, brand_id: str) -> CarePolicy:
        if brand_id not in self._policies:
            self._policies[brand_id] = care_policy(brand_id, care=self.care)
        return self._policies[brand_id]

    def history(self, brand_id: str, member_id: str) -> list[MessageItem]:
        key = (brand_id, member_id)
        if key not in self._history:
            self._history[key] = self.care.messages(brand_id, member_id)
        return self._history[key]

    # ---- the hourly job -----------------------------------------------------------------
    def dispatch(self) -> DispatchRun:
        points = self.points_notices()
        found = self.occasions() + [(profile, cand) for profile, cand, _ in points if cand is not None]
        self.run.occasions = len(found)
        by_member: dict[str, list[Candidate]] = {}
        profiles: dict[str, MemberItem] = {}
        for profile, cand in found:
            by_member.setdefault(profile.member_id, []).append(cand)
            profiles[profile.member_id] = profile
        for member_id, cands in by_member.items():
            for cand in rules.by_priority(cands):  # birthday takes the cap's room before holidays
                self.run.outcomes[self.offer(profiles[member_id], cand)] += 1
        for profile, _, (day, lifetime, stats) in points:  # handled: the next notice day, if any
            self.ledger.move_points_notice(profile.brand_id, profile.member_id, day,
                                           stats.points.next_notice(day + timedelta(days=1), lifetime))
        self.retry_due()
        self.holiday_greetings()
        from .tasks import TaskRun

        tasks = TaskRun(self.now, care=self.care, sms=self.sms)
        self.run.tasks_created = tasks.review_cadence()
        self.run.tasks_escalated = tasks.escalate()
        return self.run

    def occasions(self) -> list[tuple[MemberItem, Candidate]]:
        """Today's birthdays and anniversaries, in every member's own time zone: the index keys
        of yesterday, today and tomorrow (UTC) are read, then each member is kept only when
        the day is today where the brand is."""
        days = [(self.now + timedelta(days=d)).date() for d in (-1, 0, 1)]
        hits: list[tuple[str, str, Kind, date]] = []
        for day in days:
            for key in rules.solar_keys_for(day):
                hits += [(b, m, Kind.BIRTHDAY, day) for b, m in self.care.member_keys_for("by_birthday",
                                                                                           solar_birthday_key(key))]
                hits += [(b, m, Kind.ANNIVERSARY, day) for b, m in self.care.member_keys_for("by_anniversary",
                                                                                              anniversary_key(key))]
            for key in rules.lunar_keys_for(day):
                hits += [(b, m, Kind.BIRTHDAY, day) for b, m in self.care.member_keys_for("by_birthday",
                                                                                           lunar_birthday_key(key))]
        todays = [h for h in hits if self._local_day(h[0]) == h[3]]
        profiles = {(p.brand_id, p.member_id): p for p in self.care.profiles((b, m) for b, m, _, _ in todays)}
        out = []
        for brand_id, member_id, kind, day in todays:
            profile = profiles.get((brand_id, member_id))
            if profile is None:
                continue
            out.append((profile, Candidate(kind, f"{kind.value}#{day.year}", {})))
            policy = self.policy(brand_id)
            holiday = rules.holiday_today(day, policy.country, policy.brand_dates, policy.language)
            if holiday:
                out.append((profile, Candidate(Kind.HOLIDAY, f"holiday#{day.isoformat()}", {"holiday": holiday})))
        return out

    def holiday_greetings(self) -> None:
        """On a brand's holiday (its country's public holidays and its own dates), every member
        who consented to marketing SMS is greeted once, through the by_audience shards
        CONSENT#<brand>#<n>, a page at a time. Only in the brand's daytime: a greeting
        deferred en masse to the next morning would be a day late. The position is kept in a
        HOLIDAY#<date> item, so a run that ran out of time is continued by the next one."""
        for brand_id in self.directory.brand_ids():
            policy = self.policy(brand_id)
            tz = rules.zone(policy.timezone)
            today = self.now.astimezone(tz).date()
            holiday = rules.holiday_today(today, policy.country, policy.brand_dates, policy.language)
            if not holiday or rules.in_quiet_hours(self.now, tz):
                continue
            run = self.care.holiday_run(brand_id, today)
            cand = Candidate(Kind.HOLIDAY, f"holiday#{today.isoformat()}", {"holiday": holiday})
            while not run.done and not self._out_of_time():
                start = json.loads(run.cursor) if run.cursor else None
                keys, more = self.care.member_keys_page("by_audience", consent_shard_key(brand_id, int(run.shard)),
                                                        start=start, limit=HOLIDAY_PAGE)
                for profile in self.care.profiles(keys):
                    self.run.outcomes[self.offer(profile, cand)] += 1
                run.offered = int(run.offered or 0) + len(keys)
                run.cursor = json.dumps(more) if more else None
                if not more:
                    run.shard = int(run.shard) + 1
                    run.done = run.shard >= CONSENT_SHARDS
                self.care.save_holiday_run(run, self.now)

    def _out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() > self.deadline

    def points_notices(self) -> list[tuple[MemberItem, Candidate | None, tuple[date, int, MemberStats]]]:
        """Members whose points expire in 30 days, from the `by_audience` keys PTSEXP#<day>
        (kept on the STATS item at every write), each checked against the brand's today. The
        candidate is None when the points were spent meanwhile: nothing to tell, but the key
        still moves on."""
        days = [(self.now + timedelta(days=d)).date() for d in (-1, 0, 1)]
        hits = [(b, m, day) for day in days for b, m in self.care.member_keys_for("by_audience",
                                                                                    points_notice_key(day))]
        todays = [h for h in hits if self._local_day(h[0]) == h[2]]
        profiles = {(p.brand_id, p.member_id): p for p in self.care.profiles((b, m) for b, m, _ in todays)}
        out: list[tuple[MemberItem, Candidate | None, tuple[date, int, MemberStats]]] = []
        for brand_id, member_id, day in todays:
            profile = profiles.get((brand_id, member_id))
            if profile is None:
                continue
            lifetime = purchase_limits(brand_id).points_lifetime_months
            stats = self.ledger.stats(brand_id, member_id)
            lots = [m for m in stats.points.lots if expiry_notice_day(m, lifetime) == day]
            month = month_of_day(day)
            expiring = min(sum(stats.points.lots[m] for m in lots), stats.points.balance(month, lifetime))
            cand = None
            if expiring > 0:
                last_month = expiry_month(max(lots), lifetime)
                cand = Candidate(Kind.POINTS_EXPIRING, f"points_expiring#{last_month}",
                                 {"points": str(expiring), "date": last_day(last_month).isoformat()})
            out.append((profile, cand, (day, lifetime, stats)))
        return out

    def _local_day(self, brand_id: str) -> date:
        return self.now.astimezone(rules.zone(self.policy(brand_id).timezone)).date()

    # ---- one message ----------------------------------------------------------------------
    def offer(self, profile: MemberItem, cand: Candidate) -> str:
        """Decide and record one occasion for one member; returns the outcome (counted)."""
        return self._counted(profile, self._offer(profile, cand))

    def _counted(self, profile: MemberItem, outcome: str) -> str:
        """The month's SMS KPI counters (sent, deferred, capped, suppressed, failed), right after
        the record's write: a duplicate is never counted; a crash in between loses one count."""
        if outcome in COUNTED_OUTCOMES:
            period = month_of(self.now, self.policy(profile.brand_id).timezone)
            self.kpis.add(profile.brand_id, period, profile.store_id, {f"sms_{outcome}": 1})
        return outcome

    def _offer(self, profile: MemberItem, cand: Candidate) -> str:
        history = self.history(profile.brand_id, profile.member_id)
        if any(m.occasion_key == cand.occasion_key for m in history):
            return "duplicate"
        policy = self.policy(profile.brand_id)
        record = MessageItem(profile.pk, message_sk(cand.occasion_key), brand_id=profile.brand_id,
                             member_id=profile.member_id, kind=cand.kind.value, occasion_key=cand.occasion_key,
                             category="service" if rules.is_service(cand.kind) else "marketing",
                             status=Status.SENDING.value, values=cand.values or None, created_at=self.now,
                             updated_at=self.now, attempts=0)
        verdict = self._verdict(profile, record, policy)
        if verdict is not None:
            status, reason, retry_at = verdict
            record.status, record.reason = status.value, reason
            if retry_at is not None:
                record.next_attempt_at = retry_at
                record.due_pk, record.due_sk = msg_due_pk(profile.member_id), retry_at.astimezone(UTC).isoformat()
            try:
                self.care.new_message(record)
            except Taken:
                return "duplicate"
            history.append(record)
            return status.value
        watch_until = self.now + SENDING_STALE_AFTER
        record.due_pk, record.due_sk = msg_due_pk(profile.member_id), watch_until.astimezone(UTC).isoformat()
        try:
            self.care.new_message(record, budget=(self._budget_day(policy), policy.daily_budget))
        except Taken:
            return "duplicate"
        except OverBudget:
            retry_at = self._tomorrow_morning(policy)
            record.status, record.reason, record.next_attempt_at = Status.DEFERRED.value, "daily_budget", retry_at
            record.due_pk, record.due_sk = msg_due_pk(profile.member_id), retry_at.astimezone(UTC).isoformat()
            try:
                self.care.new_message(record)
            except Taken:
                return "duplicate"
            return Status.DEFERRED.value
        history.append(record)
        return self._publish(profile, record, policy)

    def _verdict(self, profile: MemberItem, record: MessageItem,
                 policy: CarePolicy) -> tuple[Status, str, datetime | None] | None:
        """None: send now. Else (status, reason, retry_at)."""
        marketing = record.category == "marketing"
        if marketing and not (profile.consent and profile.consent.sms_marketing):
            return Status.SUPPRESSED, "no_consent", None
        if marketing and profile.sms_opted_out:
            return Status.SUPPRESSED, "opted_out", None
        tz = rules.zone(policy.timezone)
        if rules.in_quiet_hours(self.now, tz):
            return Status.DEFERRED, "quiet_hours", rules.next_allowed(self.now, tz)
        if marketing:
            if self.sms.opted_out(profile.phone):
                self.care.record_opt_out(profile.brand_id, profile.member_id)
                return Status.SUPPRESSED, "opted_out", None
            sent = [m.sent_at for m in self.history(profile.brand_id, profile.member_id)
                    if m.category == "marketing" and m.status == Status.SENT.value and m.sent_at is not None
                    and m.occasion_key != record.occasion_key]
            if not rules.within_cap(sent, self.now, policy.weekly_cap):
                return Status.CAPPED, f"weekly_cap_{policy.weekly_cap}", None
        return None

    def _publish(self, profile: MemberItem, record: MessageItem, policy: CarePolicy) -> str:
        values = {"name": profile.name, "tier": self._tier_name(profile.tier, policy.language),
                  "brand": policy.brand_name, **(record.values.as_dict() if record.values else {})}
        text = rules.render(policy.template(Kind(record.kind)), values)
        attempts = int(record.attempts or 0) + 1
        try:
            message_id = self.sms.send_sms(profile.phone, text, marketing=record.category == "marketing")
        except Exception:  # noqa: BLE001 - any publish failure is retried on a later run
            retry_at = self.now + RETRY_AFTER
            final = attempts >= MAX_ATTEMPTS
            self.care.update_message(record, status=Status.FAILED.value, reason="publish_failed",
                                     attempts=attempts, updated_at=self.now,
                                     next_attempt_at=None if final else retry_at,
                                     due_pk=None if final else msg_due_pk(profile.member_id),
                                     due_sk=None if final else retry_at.astimezone(UTC).isoformat())
            record.status = Status.FAILED.value
            return Status.FAILED.value
        self.care.update_message(record, status=Status.SENT.value, reason=None, text=text, attempts=attempts,
                                 sent_at=self.now, updated_at=self.now, sns_message_id=message_id,
                                 next_attempt_at=None, due_pk=None, due_sk=None)
        record.status, record.sent_at = Status.SENT.value, self.now
        return Status.SENT.value

    @staticmethod
    def _tier_name(tier: str, language: str) -> str:
        return TIER_NAMES.get(language, {}).get(tier, tier)

    def _budget_day(self, policy: CarePolicy) -> str:
        return self.now.astimezone(rules.zone(policy.timezone)).date().isoformat()

    def _tomorrow_morning(self, policy: CarePolicy) -> datetime:
        tz = rules.zone(policy.timezone)
        day = self.now.astimezone(tz).date() + timedelta(days=1)
        return datetime.combine(day, rules.QUIET_END, tzinfo=tz)

    # ---- deferred and failed messages ------------------------------------------------------
    def retry_due(self) -> None:
        due = self.care.due_messages(self.now)
        if not due:
            return
        profiles = {(p.brand_id, p.member_id): p for p in self.care.profiles((m.brand_id, m.member_id) for m in due)}
        for record in due:
            profile = profiles.get((record.brand_id, record.member_id))
            if profile is None:
                continue
            self.run.outcomes["retried"] += 1
            self.run.outcomes[self._counted(profile, self._retry(profile, record))] += 1

    def _retry(self, profile: MemberItem, record: MessageItem) -> str:
        if record.status == Status.SENDING.value:  # stale: see SENDING_STALE_AFTER
            try:
                self.care.update_message(record, expect=Status.SENDING.value, status=Status.FAILED.value,
                                         reason="unconfirmed", updated_at=self.now, next_attempt_at=None,
                                         due_pk=None, due_sk=None)
            except Taken:
                return "duplicate"
            return "unconfirmed"
        policy = self.policy(record.brand_id)
        verdict = self._verdict(profile, record, policy)
        if verdict is not None:
            status, reason, retry_at = verdict
            try:
                self.care.update_message(record, expect=record.status, status=status.value, reason=reason,
                                         updated_at=self.now, next_attempt_at=retry_at,
                                         due_pk=msg_due_pk(profile.member_id) if retry_at else None,
                                         due_sk=retry_at.astimezone(UTC).isoformat() if retry_at else None)
            except Taken:
                return "duplicate"
            return status.value
        try:
            self.care.claim_due(record, now=self.now, budget=(self._budget_day(policy), policy.daily_budget),
                                watch_until=self.now + SENDING_STALE_AFTER)
        except Taken:
            return "duplicate"
        except OverBudget:
            return Status.DEFERRED.value
        record.status = Status.SENDING.value
        return self._publish(profile, record, policy)

    # ---- bus events ------------------------------------------------------------------------
    def on_event(self, detail_type: str, detail: dict[str, Any]) -> str:
        brand_id, member_id = str(detail["brand_id"]), str(detail["member_id"])
        event_id = str(detail.get("event_id") or "")
        if not event_id:
            return "no_event_id"  # unreadable: retrying cannot fix it (logged by the handler)
        profile = self.care.profile(brand_id, member_id)
        if profile is None:
            return "unknown_member"
        if detail_type == "TierChanged":
            to, frm = str(detail.get("to")), str(detail.get("from"))
            from .tasks import TaskRun

            TaskRun(self.now, care=self.care, sms=self.sms).tier_changed(profile, to)
            if rank_of(to) <= rank_of(frm):
                return "not_an_upgrade"
            cand = Candidate(Kind.TIER_UPGRADE, f"tier_upgrade#{event_id}", {"tier": to})
            values = {"tier": self._tier_name(to, self.policy(brand_id).language)}
            return self.offer(profile, dataclasses.replace(cand, values=values))
        if detail_type == "TierDowngradeWarning":
            language = self.policy(brand_id).language
            values = {"tier": self._tier_name(str(detail.get("tier") or profile.tier), language),
                      "date": str(detail.get("downgrade_on") or ""), "amount": str(detail.get("spend_needed") or "")}
            return self.offer(profile, Candidate(Kind.DOWNGRADE_WARNING, f"downgrade_warning#{event_id}", values))
        if detail_type == "ComplaintFiled":
            return self.offer(profile, Candidate(Kind.COMPLAINT_RECEIVED, f"complaint_received#{event_id}", {
                "case": str(detail["complaint_id"]),
                "date": self._local_text(brand_id, str(detail.get("respond_by") or ""))}))
        if detail_type == "ComplaintResolved":
            from .tasks import TaskRun

            TaskRun(self.now, care=self.care, sms=self.sms).revisit(
                profile, str(detail["complaint_id"]), str(detail.get("revisit_on") or self.now.isoformat()))
            return self.offer(profile, Candidate(Kind.COMPLAINT_RESOLVED, f"complaint_resolved#{event_id}",
                                                 {"case": str(detail["complaint_id"])}))
        return "ignored"

    def _local_text(self, brand_id: str, moment: str) -> str:
        """A deadline as the member reads it: the brand's local time, to the minute."""
        if not moment:
            return ""
        local = datetime.fromisoformat(moment).astimezone(rules.zone(self.policy(brand_id).timezone))
        return local.strftime("%Y-%m-%d %H:%M")


def run_dispatch(now: datetime, **kwargs: Any) -> DispatchRun:
    """One hourly run; `deadline` (time.monotonic()) bounds the holiday greetings."""
    return Dispatcher(now, **kwargs).dispatch()


# ---- API use cases ----------------------------------------------------------------------------


def _member(caller: Caller, member_id: str, care: CareRepository) -> MemberItem:
    profile = care.profile(caller.brand_id, member_id)
    if profile is None:
        raise NotFound("member not found")
    ensure_visible(caller, brand_id=profile.brand_id, store_id=profile.store_id, what="member")
    return profile


def member_messages(caller: Caller, member_id: str, *, care: CareRepository | None = None) -> list[MessageItem]:
    care = care or CareRepository()
    _member(caller, member_id, care)
    return sorted(care.messages(caller.brand_id, member_id), key=lambda m: m.created_at, reverse=True)


def _admin(caller: Caller) -> None:
    if caller.role.value not in ("admin",):
        raise Forbidden("only an administrator may change care templates and settings")


def put_template(caller: Caller, kind: str, language: str, text: str, *, now: datetime,
                 care: CareRepository | None = None) -> dict[str, str]:
    _admin(caller)
    try:
        k = Kind(kind)
    except ValueError:
        raise ValidationFailed(f"unknown message kind {kind!r}", field="kind") from None
    rules.validate_template(text, language)
    (care or CareRepository()).put_template(caller.brand_id, k.value, language, text, now)
    return {"kind": k.value, "language": language, "text": text,
            "segments": str(rules.segments(text))}


def put_settings(caller: Caller, values: dict[str, Any], *, now: datetime,
                 care: CareRepository | None = None) -> dict[str, Any]:
    _admin(caller)
    if values.get("timezone") is not None:
        rules.zone(values["timezone"])
    if values.get("country") is not None:
        rules.public_holidays(values["country"], (now).year)
    care = care or CareRepository()
    current, _ = care.care_settings(caller.brand_id)
    stored = {**current, **{k: v for k, v in values.items() if v is not None}}  # fields sent replace
    care.put_care_settings(caller.brand_id, stored, now)
    return stored

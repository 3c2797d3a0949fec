"""The care job and the care events (docs/reminders.md).

- The hourly job (`run_dispatch`): today's birthdays, anniversaries and points notices
  (occasions.py), messages due again (messaging.py), holiday greetings (holidays.py), then the
  cadence reviews and escalations (tasks.py).
- Bus events (`Dispatcher.on_event`): tier changes, downgrade warnings, complaints filed and
  resolved, each turned into a message and, where it applies, a task.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..domain import reminders as rules
from ..domain.access import Caller
from ..domain.members import Member
from ..domain.reminders import Candidate, Kind, Message
from ..domain.tiers import rank_of
from ..store.care_table import utc_text
from ..store.paging import Page, sorted_page
from .care_ports import CareDeps
from .care_settings import Policies
from .holidays import greet_holidays
from .messaging import Messenger
from .occasions import Occasions
from .tasks import TaskRun, visible_member


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
    """One run of the job, or one batch of bus events: brand policies and each member's message
    history are read once for it."""

    def __init__(self, now: datetime, deps: CareDeps, *, deadline: float | None = None) -> None:
        self.now = now
        self.deps = deps
        # time.monotonic() by which a long holiday run stops and leaves the rest to the next run
        self.deadline = deadline
        self.policy = Policies(deps.settings, deps.directory)
        self.messenger = Messenger(now, deps, self.policy)
        self.tasks = TaskRun(now, deps)

    # ---- the hourly job -----------------------------------------------------------------
    def dispatch(self) -> DispatchRun:
        run = DispatchRun(self.now)
        occasions = Occasions(self.now, self.deps, self.policy)
        notices = occasions.points_notices()
        found = occasions.celebrations() + [(n.member, n.candidate) for n in notices if n.candidate is not None]
        run.occasions = len(found)
        by_member: dict[str, list[Candidate]] = {}
        members: dict[str, Member] = {}
        for member, cand in found:
            by_member.setdefault(member.member_id, []).append(cand)
            members[member.member_id] = member
        for member_id, cands in by_member.items():
            for cand in rules.by_priority(cands):  # birthday takes the cap's room before holidays
                run.outcomes[self.messenger.offer(members[member_id], cand)] += 1
        for notice in notices:  # handled: the next notice day, if any
            occasions.notice_handled(notice)
        retried = self.messenger.retry_due()
        if retried:
            run.outcomes["retried"] += len(retried)
            run.outcomes.update(retried)
        run.outcomes.update(greet_holidays(self.now, self.deps, self.policy, self.messenger,
                                           deadline=self.deadline))
        run.tasks_created = self.tasks.review_cadence()
        run.tasks_escalated = self.tasks.escalate()
        return run

    # ---- bus events ------------------------------------------------------------------------
    def on_event(self, detail_type: str, detail: dict[str, Any]) -> str:
        brand_id, member_id = str(detail["brand_id"]), str(detail["member_id"])
        event_id = str(detail.get("event_id") or "")
        if not event_id:
            return "no_event_id"  # unreadable: retrying cannot fix it (logged by the handler)
        member = self.deps.members.get(brand_id, member_id)
        if member is None:
            return "unknown_member"
        policy = self.policy(brand_id)
        offer = self.messenger.offer
        if detail_type == "TierChanged":
            to, frm = str(detail.get("to")), str(detail.get("from"))
            self.tasks.tier_changed(member, to)
            if rank_of(to) <= rank_of(frm):
                return "not_an_upgrade"
            return offer(member, Candidate(Kind.TIER_UPGRADE, f"tier_upgrade#{event_id}",
                                           {"tier": policy.tier_name(to)}))
        if detail_type == "TierDowngradeWarning":
            values = {"tier": policy.tier_name(str(detail.get("tier") or member.tier.value)),
                      "date": str(detail.get("downgrade_on") or ""), "amount": str(detail.get("spend_needed") or "")}
            return offer(member, Candidate(Kind.DOWNGRADE_WARNING, f"downgrade_warning#{event_id}", values))
        if detail_type == "ComplaintFiled":
            return offer(member, Candidate(Kind.COMPLAINT_RECEIVED, f"complaint_received#{event_id}", {
                "case": str(detail["complaint_id"]),
                "date": self._local_text(policy.timezone, str(detail.get("respond_by") or ""))}))
        if detail_type == "ComplaintFeedback":  # a detractor's answer: follow up within 3 days
            created = self.tasks.detractor(member, int(detail["nps"]), f"complaint.{event_id}")
            return "task_raised" if created else "task_exists"
        if detail_type == "ComplaintResolved":
            self.tasks.revisit(member, str(detail["complaint_id"]), str(detail.get("revisit_on")
                                                                        or self.now.isoformat()))
            return offer(member, Candidate(Kind.COMPLAINT_RESOLVED, f"complaint_resolved#{event_id}",
                                           {"case": str(detail["complaint_id"])}))
        return "ignored"

    @staticmethod
    def _local_text(timezone: str, moment: str) -> str:
        """A deadline as the member reads it: the brand's local time, to the minute."""
        if not moment:
            return ""
        return datetime.fromisoformat(moment).astimezone(rules.zone(timezone)).strftime("%Y-%m-%d %H:%M")


def run_dispatch(now: datetime, deps: CareDeps, *, deadline: float | None = None) -> DispatchRun:
    """One hourly run; `deadline` (time.monotonic()) bounds the holiday greetings."""
    return Dispatcher(now, deps, deadline=deadline).dispatch()


# ---- API use cases ----------------------------------------------------------------------------


def member_messages(caller: Caller, member_id: str, *, limit: int, after: str | None,
                    deps: CareDeps) -> Page[Message]:
    """A page of the member's messages, newest first. Their keys are the occasions, so the
    history is read whole (one Query; the caps keep a member's to hundreds) and sorted."""
    visible_member(caller, member_id, deps)
    return sorted_page(deps.messages.history(caller.brand_id, member_id), tag="messages", limit=limit, after=after,
                       key=lambda m: (utc_text(m.created_at), m.occasion_key), names=("created_at", "occasion"),
                       reverse=True)


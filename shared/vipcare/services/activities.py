"""Member activities (docs/activities.md): create one for a list of members, invite them by SMS
from `send_at`, record replies and attendance, take the organiser's feedback.

The invitations fan out in slices through a queue:
1. the hourly job (`run_due`) finds activities whose send_at has come, marks each `inviting`
   and queues its first slice;
2. a worker (`invite_slice`) offers the invitation to the next SLICE members of the list (the
   care rules decide: send, defer, cap, suppress), lands the slice's counts and position in
   one write conditioned on the slice number, and queues the next slice;
3. the activity is watched while inviting: a fan-out that stopped (a worker died between
   slices, a queue message lost) is handed on again by the hourly job after STALLED_AFTER.
A slice run twice (a redelivery, a crash before it landed) sends nobody twice: every
invitation is the member's one message record for the activity, written only if new; the
rerun counts what those records say.
"""

from __future__ import annotations

import contextlib
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from ..domain import activities as rules
from ..domain import reminders as care_rules
from ..domain.access import SUPERVISOR_OR_ABOVE, Caller, require_role
from ..domain.activities import Activity, ActivityKind, Feedback, Reply, Stage
from ..domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..domain.kpis import VIP_TIERS
from ..domain.members import Member
from ..domain.months import month_of
from ..domain.reminders import Candidate, Kind, Message, Status
from ..domain.segments import MemberFilters
from ..domain.tasks import Task, TaskKind, TaskStatus, task_id
from ..store.activities import Full, GuestItem, NotInvited
from ..store.models import Taken
from ..store.paging import Page
from .care_ports import CareDeps
from .care_settings import CarePolicy, Policies
from .member_lists import ListDeps, Walk, list_context
from .messaging import Messenger

SLICE = 200  # members one worker invocation invites, at most
SLICE_EXAMINE = 5000  # index entries one slice looks at, at most (a very selective list)
MAX_ATTENDANCE = 200  # member ids in one attendance request


class ActivityStore(Protocol):
    def add(self, a: Activity) -> None: ...
    def get(self, brand_id: str, activity_id: str) -> Activity | None: ...
    def recent(self, brand_id: str, *, limit: int, after: str | None = None,
               store_id: str | None = None) -> Page[Activity]: ...
    def due(self, now: datetime) -> list[Activity]: ...
    def start(self, a: Activity, now: datetime, watch_until: datetime) -> None: ...
    def watch(self, a: Activity, until: datetime) -> None: ...
    def advance(self, a: Activity, slice_no: int, counts: dict[str, int], cursor: str | None, now: datetime,
                watch_until: datetime | None) -> None: ...
    def moved(self, a: Activity, was: str, now_is: str) -> None: ...
    def mark_vip_invited(self, brand_id: str, period: str, store_id: str, member_id: str, year: int) -> bool: ...
    def end(self, a: Activity) -> None: ...
    def guest(self, brand_id: str, member_id: str, activity_id: str) -> GuestItem | None: ...
    def reply(self, a: Activity, member_id: str, reply: Reply, was: str | None, now: datetime, by: str) -> None: ...
    def attend(self, a: Activity, member_id: str, now: datetime, by: str) -> bool: ...
    def file_feedback(self, a: Activity, summary: str, satisfied_count: int | None, now: datetime, by: str,
                      late: bool) -> None: ...


class InvitationQueue(Protocol):
    def send(self, messages: list[dict[str, Any]]) -> None: ...


class Segments(Protocol):
    def get(self, brand_id: str, segment_id: str) -> Any: ...


@dataclass(frozen=True)
class ActivityDeps:
    activities: ActivityStore
    care: CareDeps  # members, messages, tasks, SMS, directory, settings
    lists: ListDeps  # the audience walk (and its segments)
    queue: InvitationQueue


@dataclass(frozen=True)
class NewActivity:
    name: str
    kind: ActivityKind
    store_id: str | None
    starts_at: datetime
    ends_at: datetime
    capacity: int | None
    segment_id: str | None
    filters: MemberFilters | None
    text: str
    send_at: datetime


# ---- API use cases ----------------------------------------------------------------------------

def create_activity(caller: Caller, new: NewActivity, *, now: datetime, deps: ActivityDeps) -> Activity:
    """A supervisor or above plans an activity for a list of members (a saved segment or filters);
    an activity for one store invites that store's members only."""
    require_role(caller, *SUPERVISOR_OR_ABOVE)
    rules.validate(new.name, new.starts_at, new.ends_at, new.send_at, new.capacity, now)
    policy = _policy(caller.brand_id, deps)
    care_rules.validate_template(new.text, policy.language, field="invitation.text")
    if new.store_id is not None and new.store_id not in {s.store_id for s in deps.care.directory.stores(
            caller.brand_id)}:
        raise ValidationFailed(f"no store {new.store_id!r} in the brand", field="store_id")
    filters = _audience(caller, new, deps)
    tz = care_rules.zone(policy.timezone)
    activity = Activity(
        brand_id=caller.brand_id, activity_id=f"act-{now:%Y%m%d}-{uuid.uuid4().hex[:10]}", name=new.name.strip(),
        kind=new.kind, store_id=new.store_id, starts_at=new.starts_at, ends_at=new.ends_at, capacity=new.capacity,
        filters=filters, segment_id=new.segment_id, text=new.text, send_at=max(new.send_at, now),
        organiser_id=caller.staff_id, created_at=now, period=month_of(new.ends_at, policy.timezone),
        feedback=Feedback(due_on=rules.feedback_due(new.ends_at, tz, policy.country)))
    deps.activities.add(activity)
    return activity


def _audience(caller: Caller, new: NewActivity, deps: ActivityDeps) -> MemberFilters:
    if (new.segment_id is None) == (new.filters is None):
        raise ValidationFailed("give either segment_id or filters", field="audience")
    if new.segment_id is not None:
        segment = deps.lists.segments.get(caller.brand_id, new.segment_id)
        if segment is None:
            raise ValidationFailed(f"no segment {new.segment_id!r}", field="audience.segment_id")
        filters: MemberFilters = segment.filters
    else:
        assert new.filters is not None
        filters = new.filters
    if new.store_id is None:
        return filters
    if filters.store_id not in (None, new.store_id):
        raise ValidationFailed("the audience names another store than the activity's", field="audience.store_id")
    return filters.within_store(new.store_id)


def get_activity(caller: Caller, activity_id: str, *, now: datetime, deps: ActivityDeps) -> Activity:
    """Any staff of the brand; store staff and managers see their store's and brand-wide ones."""
    activity = deps.activities.get(caller.brand_id, activity_id)
    if activity is None or (caller.store_scoped and activity.store_id not in (None, caller.store_id)):
        raise NotFound("activity not found")
    if activity.feedback.filed_at is None and now >= rules.end_of_day(activity.feedback.due_on, _tz(activity, deps)):
        activity.feedback.late = True  # not filed and the due day is over
    return activity


def recent_activities(caller: Caller, *, limit: int, after: str | None, deps: ActivityDeps) -> Page[Activity]:
    """A page of the brand's activities, newest first; store staff see their store's and the
    brand-wide ones."""
    return deps.activities.recent(caller.brand_id, limit=limit, after=after,
                                  store_id=caller.store_id if caller.store_scoped else None)


def reply(caller: Caller, activity_id: str, member_id: str, response: Reply, *, now: datetime,
          deps: ActivityDeps) -> tuple[Activity, str]:
    """A guest's reply (a store's staff take it at the till or on the phone). Changing it is
    allowed until the end; the same reply again changes nothing. Returns the outcome."""
    activity = get_activity(caller, activity_id, now=now, deps=deps)
    rules.check_reply(activity, now)
    _guest_member(caller, member_id, deps)
    for _ in range(2):  # one retry when another reply of the member landed in between
        guest = deps.activities.guest(caller.brand_id, member_id, activity_id)
        was = guest.rsvp if guest else None
        if was == response.value:
            return activity, "unchanged"
        try:
            deps.activities.reply(activity, member_id, response, was, now, caller.source)
        except NotInvited:
            raise ValidationFailed("the member has no invitation to this activity", field="member_id") from None
        except Full:
            raise Conflict(f"all {activity.capacity} places are taken", code="activity_full") from None
        except Taken:
            continue
        return activity, "recorded"
    raise Conflict("the member's reply changed meanwhile; try again", code="reply_changed")


@dataclass
class Attendance:
    recorded: list[str]
    already: list[str]
    not_invited: list[str]
    unknown: list[str]


def attendance(caller: Caller, activity_id: str, member_ids: list[str], *, now: datetime,
               deps: ActivityDeps) -> Attendance:
    """Who came. Only invited members count (participation is a share of the invited); a member
    recorded twice counts once."""
    if not member_ids:
        raise ValidationFailed("name at least one member", field="member_ids")
    if len(member_ids) > MAX_ATTENDANCE:
        raise ValidationFailed(f"at most {MAX_ATTENDANCE} members per request", field="member_ids")
    activity = get_activity(caller, activity_id, now=now, deps=deps)
    rules.check_attendance(activity, now)
    out = Attendance([], [], [], [])
    for member_id in dict.fromkeys(member_ids):
        try:
            _guest_member(caller, member_id, deps)
        except NotFound:
            out.unknown.append(member_id)
            continue
        try:
            counted = deps.activities.attend(activity, member_id, now, caller.source)
        except NotInvited:
            out.not_invited.append(member_id)
            continue
        (out.recorded if counted else out.already).append(member_id)
    return out


def file_feedback(caller: Caller, activity_id: str, summary: str, satisfied_count: int | None, *, now: datetime,
                  deps: ActivityDeps) -> Activity:
    """The organiser's feedback (or a supervisor's and above), once, after the end; late when
    filed after the due day. Closes the organiser's task."""
    if not summary.strip():
        raise ValidationFailed("must not be blank", field="summary")
    if len(summary) > rules.MAX_SUMMARY:
        raise ValidationFailed(f"at most {rules.MAX_SUMMARY} characters", field="summary")
    for _ in range(2):  # one retry when the job ended the activity in between
        activity = get_activity(caller, activity_id, now=now, deps=deps)
        if caller.staff_id != activity.organiser_id and caller.role not in SUPERVISOR_OR_ABOVE:
            raise Forbidden("only the organiser or a supervisor and above file the feedback")
        rules.check_feedback(activity, now)
        rules.check_satisfied(satisfied_count, activity.counts.attended)
        late = rules.is_late(activity.feedback.due_on, now, _tz(activity, deps))
        try:
            deps.activities.file_feedback(activity, summary.strip(), satisfied_count, now, caller.source, late)
        except Taken:
            continue
        _close_task(activity, now, caller.staff_id, deps)
        return get_activity(caller, activity_id, now=now, deps=deps)
    raise Conflict("the activity changed meanwhile; try again", code="activity_changed")


def _guest_member(caller: Caller, member_id: str, deps: ActivityDeps) -> Member:
    member = deps.care.members.get(caller.brand_id, member_id)
    if member is None or (caller.store_scoped and member.store_id != caller.store_id):
        raise NotFound("member not found")
    return member


def _close_task(activity: Activity, now: datetime, staff_id: str, deps: ActivityDeps) -> None:
    task = deps.care.tasks.of_activity(activity.brand_id, activity.activity_id, _feedback_task_id(activity))
    if task is not None and task.open:
        with contextlib.suppress(Taken):  # completed meanwhile
            deps.care.tasks.complete(task, now, staff_id)


# ---- the hourly job ---------------------------------------------------------------------------

def run_due(now: datetime, deps: ActivityDeps) -> Counter[str]:
    """Start the fan-outs whose send_at has come, hand on stalled ones, end finished activities
    (raising the organiser's feedback task). Reads only what the `due` index holds."""
    out: Counter[str] = Counter()
    for activity in deps.activities.due(now):
        out[_due_step(activity, now, deps)] += 1
    return out


def _due_step(a: Activity, now: datetime, deps: ActivityDeps) -> str:
    try:
        if now >= a.ends_at:
            return _end(a, now, deps)
        tz = care_rules.zone(_policy(a.brand_id, deps).timezone)
        if care_rules.in_quiet_hours(now, tz):
            return "quiet_hours"  # looked at again next hour, and started (or resumed) at 09:00
        if a.stage is Stage.SCHEDULED:
            deps.activities.start(a, now, now + rules.STALLED_AFTER)
            step = "started"
        elif a.stage is Stage.INVITING:  # stalled, or paused for the night or the SMS budget
            deps.activities.watch(a, now + rules.STALLED_AFTER)
            step = "resumed"
        else:
            return "ignored"
    except Taken:
        return "moved_meanwhile"
    deps.queue.send([_slice_message(a, a.slice, now)])
    return step


def _end(a: Activity, now: datetime, deps: ActivityDeps) -> str:
    """The activity is over: no more invitations; the organiser's feedback task is raised."""
    try:
        deps.activities.end(a)
    except Taken:
        return "moved_meanwhile"
    organiser = deps.care.directory.staff(a.brand_id, a.organiser_id)
    assignee = a.organiser_id
    if organiser is not None and (organiser.on_leave or not organiser.active) and organiser.supervisor_id:
        assignee = organiser.supervisor_id
    tz = _tz(a, deps)
    task = Task(brand_id=a.brand_id, member_id="", task_id=_feedback_task_id(a), kind=TaskKind.ACTIVITY_FEEDBACK,
                period=a.activity_id, status=TaskStatus.OPEN, assignee=assignee, created_at=now,
                reason=f"feedback on {a.name!r} due {a.feedback.due_on.isoformat()}",
                detail={"activity_id": a.activity_id, "due_on": a.feedback.due_on.isoformat()},
                # late feedback escalates like any task left open
                escalate_at=rules.end_of_day(a.feedback.due_on, tz), activity_id=a.activity_id)
    if deps.care.tasks.add(task):
        deps.care.sms.tell_staff({"event": "task_assigned", "brand_id": a.brand_id, "assignee": assignee,
                                  "activity_id": a.activity_id, "task_id": task.task_id, "kind": task.kind.value,
                                  "reason": task.reason})
    return "ended"


def _feedback_task_id(a: Activity) -> str:
    return task_id(TaskKind.ACTIVITY_FEEDBACK, a.activity_id)


def _slice_message(a: Activity, slice_no: int, now: datetime) -> dict[str, Any]:
    return {"brand_id": a.brand_id, "activity_id": a.activity_id, "slice": slice_no, "time": now.isoformat()}


# ---- a fan-out slice --------------------------------------------------------------------------

@dataclass
class SliceRun:
    activity_id: str
    slice: int
    outcome: str = "landed"
    members: int = 0
    counts: Counter[str] | None = None
    paused_until: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"activity_id": self.activity_id, "slice": self.slice, "outcome": self.outcome,
                "members": self.members, **dict(self.counts or {}),
                "paused_until": self.paused_until.isoformat() if self.paused_until else None}


def invite_slice(body: dict[str, Any], *, now: datetime, deps: ActivityDeps, size: int = SLICE) -> SliceRun:
    """One slice of an activity's invitations (the queue's message names the slice)."""
    brand_id, activity_id, slice_no = str(body["brand_id"]), str(body["activity_id"]), int(body["slice"])
    run = SliceRun(activity_id, slice_no)
    activity = deps.activities.get(brand_id, activity_id)
    if activity is None or activity.stage is not Stage.INVITING or activity.slice != slice_no:
        run.outcome = "stale"  # landed already (a redelivery), or the activity moved on
        return run
    if now >= activity.ends_at:
        run.outcome = "ended"  # the hourly job ends it
        return run
    policy = Policies(deps.care.settings, deps.care.directory)
    tz = care_rules.zone(policy(brand_id).timezone)
    if care_rules.in_quiet_hours(now, tz):
        return _pause(activity, run, care_rules.next_allowed(now, tz), deps)
    messenger = Messenger(now, deps.care, policy)
    ctx = list_context(brand_id, activity.filters, now, deps.lists)
    walk = Walk(brand_id, activity.filters, ctx, after=activity.cursor, deps=deps.lists, examine=SLICE_EXAMINE)
    counts: Counter[str] = Counter()
    year, period = int(month_of(now, policy(brand_id).timezone)[:4]), month_of(now, policy(brand_id).timezone)
    cand = Candidate(Kind.ACTIVITY, rules.occasion_key(activity_id), _values(activity, tz), template=activity.text)
    pause: datetime | None = None
    for card in walk.cards(size):
        member = card.member
        outcome = messenger.offer(member, cand)
        if outcome == "duplicate":  # invited by an earlier run of this slice: count what it decided
            outcome = _recorded(messenger, member, activity_id)
        counts["audience"] += 1
        if outcome in rules.OUTCOMES:
            counts[outcome] += 1
        if outcome == "sent" and member.tier.value in VIP_TIERS:
            deps.activities.mark_vip_invited(brand_id, period, member.store_id, member.member_id, year)
        if outcome == "deferred":
            # quiet hours began or the day's SMS budget is spent: this member's message waits in
            # the due index; the fan-out itself resumes the next morning rather than defer everyone
            pause = _next_morning(now, tz)
            break
    run.members, run.counts = counts["audience"], counts
    cursor = walk.position
    try:
        deps.activities.advance(activity, slice_no, dict(counts), cursor, now,
                                pause or (now + rules.STALLED_AFTER))
    except Taken:
        run.outcome = "stale"  # another run of this slice landed first
        return run
    if cursor is None:
        run.outcome = "done"
    elif pause is not None:
        run.outcome, run.paused_until = "paused", pause
    else:
        deps.queue.send([_slice_message(activity, slice_no + 1, now)])
    return run


def _pause(a: Activity, run: SliceRun, until: datetime, deps: ActivityDeps) -> SliceRun:
    try:
        deps.activities.watch(a, until)
    except Taken:
        run.outcome = "stale"
        return run
    run.outcome, run.paused_until = "paused", until
    return run


def _recorded(messenger: Messenger, member: Member, activity_id: str) -> str:
    """The outcome an earlier run recorded for the member (a message still being sent by it
    counts as sent: its result is written right after)."""
    key = rules.occasion_key(activity_id)
    found: Message | None = next((m for m in messenger.history(member.brand_id, member.member_id)
                                  if m.occasion_key == key), None)
    if found is None:
        found = messenger.deps.messages.get(member.brand_id, member.member_id, key)
    if found is None:
        return "duplicate"
    return Status.SENT.value if found.status is Status.SENDING else found.status.value


def _values(a: Activity, tz: Any) -> dict[str, str]:
    return {"date": a.starts_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")}


def _next_morning(now: datetime, tz: Any) -> datetime:
    local = now.astimezone(tz)
    morning = datetime.combine(local.date(), care_rules.QUIET_END, tzinfo=tz)
    return morning if morning > now else morning + timedelta(days=1)


def _policy(brand_id: str, deps: ActivityDeps) -> CarePolicy:
    return Policies(deps.care.settings, deps.care.directory)(brand_id)


def _tz(a: Activity, deps: ActivityDeps) -> Any:
    return care_rules.zone(_policy(a.brand_id, deps).timezone)

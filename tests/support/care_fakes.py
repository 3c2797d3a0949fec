"""In-memory stand-ins for the care area's collaborators (vipcare.services.care_ports), for
service tests that need no DynamoDB: the same conditions as the real stores (an occasion's
record is written once, a claim holds only if the status is still the one read, the daily
budget is a hard limit), none of the I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from vipcare.domain.directory import BrandSettings, Staff, Store
from vipcare.domain.members import Member
from vipcare.domain.reminders import DailyBudget, HolidayRun, Message, Status
from vipcare.domain.stats import MemberStats
from vipcare.domain.tasks import Cadence, Contact, Task, TaskStatus
from vipcare.domain.tiers import TierPolicy
from vipcare.services.care_ports import CareDeps, MemberKey
from vipcare.store.care_settings import StoredCareSettings
from vipcare.store.contacts import ContactKpi, ReviewMove
from vipcare.store.messages import OverBudget
from vipcare.store.models import Taken
from vipcare.store.paging import Page, sorted_page


class FakeMessages:
    def __init__(self) -> None:
        self.records: dict[tuple[str, str, str], Message] = {}
        self.sent_today: dict[tuple[str, date], int] = {}
        self.runs: dict[tuple[str, date], HolidayRun] = {}

    def _key(self, m: Message) -> tuple[str, str, str]:
        return (m.brand_id, m.member_id, m.occasion_key)

    def _spend(self, brand_id: str, budget: DailyBudget) -> None:
        used = self.sent_today.get((brand_id, budget.day), 0)
        if used >= budget.limit:
            raise OverBudget()
        self.sent_today[(brand_id, budget.day)] = used + 1

    def history(self, brand_id: str, member_id: str) -> list[Message]:
        return [replace(m) for (b, mid, _), m in self.records.items() if (b, mid) == (brand_id, member_id)]

    def get(self, brand_id: str, member_id: str, occasion_key: str) -> Message | None:
        found = self.records.get((brand_id, member_id, occasion_key))
        return replace(found) if found else None

    def add(self, m: Message, *, budget: DailyBudget | None = None) -> None:
        if self._key(m) in self.records:
            raise Taken()
        if budget is not None:
            self._spend(m.brand_id, budget)
        self.records[self._key(m)] = replace(m)

    def claim(self, m: Message, *, expect: Status, budget: DailyBudget) -> None:
        current = self.records.get(self._key(m))
        if current is None or current.status is not expect:
            raise Taken()
        self._spend(m.brand_id, budget)
        self.records[self._key(m)] = replace(m)

    def save(self, m: Message, *, expect: Status | None = None) -> None:
        current = self.records.get(self._key(m))
        if current is None or (expect is not None and current.status is not expect):
            raise Taken()
        self.records[self._key(m)] = replace(m)

    def due(self, now: datetime) -> list[Message]:
        return [replace(m) for m in self.records.values() if m.due_at is not None and m.due_at <= now]

    def erase_texts(self, brand_id: str, member_id: str) -> int:
        changed = 0
        for m in self.records.values():
            if (m.brand_id, m.member_id) == (brand_id, member_id) and (m.text or m.values):
                m.text, m.values, m.due_at = None, {}, None
                changed += 1
        return changed

    def holiday_run(self, brand_id: str, day: date) -> HolidayRun:
        return replace(self.runs.get((brand_id, day)) or HolidayRun(brand_id, day))

    def save_holiday_run(self, run: HolidayRun, now: datetime) -> None:
        self.runs[(run.brand_id, run.day)] = replace(run)


class FakeTasks:
    def __init__(self) -> None:
        self.tasks: dict[tuple[str, str, str], Task] = {}

    def _open(self, task: Task) -> Task:
        current = self.tasks.get((task.brand_id, task.member_id, task.task_id))
        if current is None or not current.open:
            raise Taken()
        return current

    def get(self, brand_id: str, member_id: str, task_id: str) -> Task | None:
        found = self.tasks.get((brand_id, member_id, task_id))
        return replace(found) if found else None

    def of_activity(self, brand_id: str, activity_id: str, task_id: str) -> Task | None:
        return next((replace(t) for t in self.tasks.values() if (t.brand_id, t.activity_id, t.task_id)
                     == (brand_id, activity_id, task_id)), None)

    def add(self, task: Task) -> bool:
        key = (task.brand_id, task.member_id, task.task_id)
        if key in self.tasks:
            return False
        self.tasks[key] = replace(task)
        return True

    def of_member(self, brand_id: str, member_id: str) -> list[Task]:
        return [replace(t) for (b, m, _), t in self.tasks.items() if (b, m) == (brand_id, member_id)]

    def assigned_to(self, brand_id: str, staff_id: str, *, limit: int, after: str | None = None) -> Page[Task]:
        mine = [replace(t) for t in self.tasks.values() if t.brand_id == brand_id and t.assignee == staff_id]
        return sorted_page(mine, tag="tasks", limit=limit, after=after, names=("done", "created_at", "task_id"),
                           key=lambda t: (str(int(not t.open)), t.created_at.isoformat(), t.task_id))

    def due(self, now: datetime) -> list[Task]:
        return [replace(t) for t in self.tasks.values() if t.escalate_at is not None and t.escalate_at <= now]

    def escalate(self, task: Task, to: str) -> None:
        current = self._open(task)
        current.assignee, current.escalated, current.escalate_at = to, current.escalated + 1, None

    def hand_over(self, task: Task, to: str) -> None:
        self._open(task).assignee = to

    def complete(self, task: Task, now: datetime, staff_id: str, outcome: str | None = None) -> None:
        current = self._open(task)
        current.status, current.completed_at, current.completed_by = TaskStatus.DONE, now, staff_id
        current.escalate_at, current.outcome = None, outcome or current.outcome

    def assigned(self, brand_id: str, task_id: str) -> Task | None:
        return self.get(brand_id, "", task_id)

    def pass_on(self, task: Task, to: str, entry: dict[str, Any]) -> None:
        current = self._open(task)
        if current.assignee != task.assignee:
            raise Taken()
        current.assignee, current.history = to, [*current.history, entry]


class FakeCadence:
    def __init__(self) -> None:
        self.reviews: dict[tuple[str, str], Cadence] = {}

    def get(self, brand_id: str, member_id: str) -> Cadence | None:
        found = self.reviews.get((brand_id, member_id))
        return replace(found) if found else None

    def many(self, brand_id: str, member_ids: list[str]) -> dict[str, Cadence]:
        return {m: replace(c) for m in member_ids if (c := self.reviews.get((brand_id, m)))}

    def put(self, c: Cadence) -> None:
        self.reviews[(c.brand_id, c.member_id)] = replace(c)

    def drop(self, brand_id: str, member_id: str) -> None:
        self.reviews.pop((brand_id, member_id), None)

    def due(self, day: date) -> list[Cadence]:
        return [replace(c) for c in self.reviews.values() if c.review_on <= day]

    def every(self) -> list[Cadence]:
        return [replace(c) for c in self.reviews.values()]


class FakeContacts:
    def __init__(self, tasks: FakeTasks, cadence: FakeCadence) -> None:
        self.log_entries: list[Contact] = []
        self.kpis: list[ContactKpi] = []
        self._tasks, self._cadence = tasks, cadence

    def recent(self, brand_id: str, member_id: str, *, limit: int, after: str | None = None) -> Page[Contact]:
        mine = [c for c in self.log_entries if (c.brand_id, c.member_id) == (brand_id, member_id)]
        return sorted_page(mine, tag="contacts", limit=limit, after=after, reverse=True,
                           names=("contacted_on", "created_at", "contact_id"),
                           key=lambda c: (c.contacted_on.isoformat(), c.created_at.isoformat(), c.contact_id))

    def find(self, brand_id: str, member_id: str, contact_id: str) -> Contact | None:
        return next((c for c in self.log_entries
                     if (c.brand_id, c.member_id, c.contact_id) == (brand_id, member_id, contact_id)), None)

    def between(self, brand_id: str, member_id: str, first: date, last: date) -> list[Contact]:
        return [c for c in self.log_entries
                if (c.brand_id, c.member_id) == (brand_id, member_id) and first <= c.contacted_on <= last]

    def log(self, contact: Contact, *, task: Task | None, review: ReviewMove | None, now: datetime,
            kpi: ContactKpi | None = None, missing: list[dict[str, Any]] | None = None) -> bool:
        if task is not None and missing:
            held = self._tasks.tasks[(task.brand_id, task.member_id, task.task_id)]
            held.detail = {**held.detail, "missing": missing}
        elif task is not None:
            self._tasks.complete(task, now, contact.staff_id)
        if review is not None:
            c = self._cadence.reviews[(contact.brand_id, contact.member_id)]
            c.last_contact_on = contact.contacted_on
            c.review_on = review.review_on or c.review_on
        self.log_entries.append(replace(contact))
        if kpi is not None:
            self.kpis.append(kpi)
        return False  # coverage is the opening snapshot's (KpiTable): not modelled here

    def erase_notes(self, brand_id: str, member_id: str) -> int:
        return 0


class FakeSettings:
    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self.stored = StoredCareSettings(dict(values or {}), {})

    def get(self, brand_id: str) -> StoredCareSettings:
        return self.stored

    def put_settings(self, brand_id: str, values: dict[str, Any], now: datetime) -> None:
        self.stored = StoredCareSettings(dict(values), self.stored.templates)

    def put_template(self, brand_id: str, kind: str, language: str, text: str, now: datetime) -> None:
        self.stored.templates[(kind, language)] = text


class FakeAudiences:
    consent_shards = 1

    def __init__(self) -> None:
        self.birthday: dict[tuple[str, bool], list[MemberKey]] = {}
        self.consenting: dict[str, list[MemberKey]] = {}

    def birthdays(self, month_day: str, *, lunar: bool) -> list[MemberKey]:
        return list(self.birthday.get((month_day, lunar), []))

    def anniversaries(self, month_day: str) -> list[MemberKey]:
        return []

    def points_notices(self, day: date) -> list[MemberKey]:
        return []

    def consenting_page(self, brand_id: str, shard: int, *, cursor: str | None,
                        limit: int) -> tuple[list[MemberKey], str | None]:
        everyone = self.consenting.get(brand_id, [])
        start = int(cursor or 0)
        end = start + limit
        return everyone[start:end], str(end) if end < len(everyone) else None


class FakeMembers:
    def __init__(self, *members: Member) -> None:
        self.by_key = {(m.brand_id, m.member_id): m for m in members}
        self.opted_out: list[MemberKey] = []

    def get(self, brand_id: str, member_id: str) -> Member | None:
        return self.by_key.get((brand_id, member_id))

    def profiles(self, keys: Iterable[MemberKey]) -> list[Member]:
        return [m for k in dict.fromkeys(keys) if (m := self.by_key.get(k))]

    def record_opt_out(self, brand_id: str, member_id: str) -> None:
        self.opted_out.append((brand_id, member_id))
        self.by_key[(brand_id, member_id)].sms_opted_out = True

    def book_page(self, brand_id: str, staff_id: str, *, limit: int,
                  after: str | None = None) -> tuple[list[str], str | None]:
        ids = sorted(m.member_id for m in self.by_key.values() if m.brand_id == brand_id and m.manager_id == staff_id)
        ids = [i for i in ids if after is None or i > after][:limit]
        return ids, None


class FakeFigures:
    def stats(self, brand_id: str, member_id: str) -> MemberStats:
        return MemberStats()

    def move_points_notice(self, brand_id: str, member_id: str, was: date, to: date | None) -> None:
        return None


class FakeKpis:
    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, str], dict[str, int]] = {}

    def add(self, brand_id: str, period: str, store_id: str, counts: dict[str, int]) -> None:
        bucket = self.counts.setdefault((brand_id, period, store_id), {})
        for name, n in counts.items():
            bucket[name] = bucket.get(name, 0) + n


class FakeDirectory:
    def __init__(self, brand: BrandSettings, *staff: Staff) -> None:
        self._brand = brand
        self._staff = {s.staff_id: s for s in staff}

    def brand(self, brand_id: str) -> BrandSettings | None:
        return self._brand if brand_id == self._brand.brand_id else None

    def brand_ids(self) -> list[str]:
        return [self._brand.brand_id]

    def staff(self, brand_id: str, staff_id: str) -> Staff | None:
        return self._staff.get(staff_id) if brand_id == self._brand.brand_id else None

    def staff_of_store(self, brand_id: str, store_id: str, role: Any = None) -> list[Staff]:
        return [s for s in self._staff.values() if s.store_id == store_id and (role is None or s.role == role)]

    def stores(self, brand_id: str) -> list[Store]:
        return []


@dataclass
class RecordingSms:
    """Texts and staff notices kept in order; numbers in `opted_out_phones` replied STOP;
    `fail` makes every send raise (SNS throttled)."""

    texts: list[tuple[str, str]] = field(default_factory=list)
    staff: list[dict[str, Any]] = field(default_factory=list)
    opted_out_phones: set[str] = field(default_factory=set)
    fail: bool = False

    def send_sms(self, phone: str, text: str, *, marketing: bool = False) -> str:
        if self.fail:
            raise RuntimeError("SNS throttled")
        self.texts.append((phone, text))
        return f"msg-{len(self.texts)}"

    def opted_out(self, phone: str) -> bool:
        return phone in self.opted_out_phones

    def tell_staff(self, event: dict[str, Any]) -> str:
        self.staff.append(event)
        return f"note-{len(self.staff)}"


class FakeComplaintCounts:
    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], dict[str, int]] = {}

    def member_counts(self, brand_id: str, member_id: str) -> dict[str, int]:
        return dict(self.counts.get((brand_id, member_id), {}))


def fake_care(brand: BrandSettings, *members: Member, staff: tuple[Staff, ...] = (),
              settings: dict[str, Any] | None = None) -> CareDeps:
    tasks, cadence = FakeTasks(), FakeCadence()
    return CareDeps(messages=FakeMessages(), tasks=tasks, contacts=FakeContacts(tasks, cadence), cadence=cadence,
                    settings=FakeSettings(settings), audiences=FakeAudiences(), members=FakeMembers(*members),
                    figures=FakeFigures(), kpis=FakeKpis(), directory=FakeDirectory(brand, *staff),
                    sms=RecordingSms(), complaints=FakeComplaintCounts(), policies=FakePolicies(),
                    churn_reasons=FakeChurnReasons(tasks))


class FakeChurnReasons:
    def __init__(self, tasks: FakeTasks) -> None:
        self._tasks = tasks
        self.counters: dict[tuple[str, str, str], dict[str, int]] = {}

    def close(self, task: Task, *, now: datetime, staff_id: str, outcome: str, reason: str | None,
              period: str, store_id: str, counts: dict[str, int]) -> None:
        self._tasks.complete(task, now, staff_id, outcome)
        self._tasks.tasks[(task.brand_id, task.member_id, task.task_id)].lost_reason = reason
        mine = self.counters.setdefault((task.brand_id, period, store_id), {})
        for k, v in counts.items():
            mine[k] = mine.get(k, 0) + v

    def month(self, brand_id: str, period: str, store_id: str | None = None) -> list[dict[str, Any]]:
        return [dict(c) for (b, p, s), c in self.counters.items()
                if (b, p) == (brand_id, period) and store_id in (None, s)]


class FakePolicies:
    """The brand's stored tier policy (None: the defaults)."""

    def __init__(self) -> None:
        self.policy: TierPolicy | None = None

    def current_policy(self, brand_id: str) -> TierPolicy | None:
        return self.policy

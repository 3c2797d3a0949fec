"""In-memory collaborators for service unit tests: each satisfies a port of
vipcare.services.ports (mypy checks them against it) and keeps what it was given, copied, as
a store would. They mimic the conditions the services rely on (a case or a ledger entry
written at the version read, an outbox item per event) and nothing else: no indexes, no
shards, no capacity. Where a test needs DynamoDB's behaviour, it uses moto instead.
"""

from __future__ import annotations

import copy
import dataclasses
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from vipcare.domain.access import Role
from vipcare.domain.complaints import Complaint
from vipcare.domain.directory import BrandSettings, Staff, Store
from vipcare.domain.members import Member
from vipcare.domain.stats import MemberStats
from vipcare.domain.tiers import TierPolicy
from vipcare.store.complaints import KPI_COUNTERS, CaseExists, StaleCase, Step
from vipcare.store.ledger import Conflict, LedgerEntry, PurchaseSnapshot, RedemptionItem
from vipcare.store.outbox import PendingEvent
from vipcare.store.paging import Page, sorted_page
from vipcare.store.tiers import MemberTier

if TYPE_CHECKING:
    from pynamodb.expressions.condition import Condition
    from pynamodb.expressions.update import Action
    from pynamodb.models import Model

    from vipcare.services import ports


class Refused(RuntimeError):
    """What a fake sender raises when told to refuse (the bus or SNS said no)."""


class RecordingBus:
    """The event bus: keeps (detail type, detail) in order; refuses the next `refuse` publishes."""

    def __init__(self, *, refuse: int = 0) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.refuse = refuse

    @property
    def published(self) -> list[dict[str, Any]]:
        return [detail for _, detail in self.sent]

    def of_type(self, detail_type: str) -> list[dict[str, Any]]:
        return [detail for kind, detail in self.sent if kind == detail_type]

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        if self.refuse > 0:
            self.refuse -= 1
            raise Refused(f"the bus refused {detail_type}")
        self.sent.append((detail_type, copy.deepcopy(detail)))


class RecordingNotifier:
    """The staff topic: keeps each notification; refuses them all when `refuse` is set."""

    def __init__(self, *, refuse: bool = False) -> None:
        self.told: list[dict[str, Any]] = []
        self.refuse = refuse

    def tell_staff(self, event: dict[str, Any]) -> str:
        if self.refuse:
            raise Refused("SNS refused the staff notification")
        self.told.append(copy.deepcopy(event))
        return f"msg-{len(self.told)}"


class InMemoryMembers:
    """Members by id and their phones (primary only): a MemberStore."""

    def __init__(self, *members: Member) -> None:
        self.members: dict[tuple[str, str], Member] = {}
        for m in members:
            self.add(m)

    def get(self, brand_id: str, member_id: str) -> Member | None:
        found = self.members.get((brand_id, member_id))
        return copy.deepcopy(found)

    def member_id_for_phone(self, brand_id: str, e164: str) -> str | None:
        return next((m.member_id for (b, _), m in self.members.items() if b == brand_id and m.phone == e164), None)

    def member_ids_for_phones(self, brand_id: str, phones: list[str]) -> dict[str, str]:
        found = {p: self.member_id_for_phone(brand_id, p) for p in phones}
        return {p: m for p, m in found.items() if m is not None}

    def existing_ids(self, brand_id: str, member_ids: list[str]) -> set[str]:
        return {m for m in member_ids if (brand_id, m) in self.members}

    def add(self, member: Member, *, month: str | None = None) -> None:
        self.members[(member.brand_id, member.member_id)] = copy.deepcopy(member)

    def update_profile(self, member: Member, changes: dict[str, Any], *, now: datetime, old_phone: str) -> None:
        key = (member.brand_id, member.member_id)
        self.members[key] = dataclasses.replace(self.members[key], updated_at=now, **copy.deepcopy(changes))


class InMemoryDirectory:
    """Brands, stores and staff: a Directory. Unknown brands have no settings (the services
    fall back to the deployment's defaults)."""

    def __init__(self, *, brands: Sequence[BrandSettings] = (), stores: Sequence[Store] = (),
                 staff: Sequence[Staff] = ()) -> None:
        self.brands = {b.brand_id: b for b in brands}
        self.stores_by_id = {(s.brand_id, s.store_id): s for s in stores}
        self.staff_by_id = {(s.brand_id, s.staff_id): s for s in staff}
        self.sequences: Counter[tuple[str, str]] = Counter()

    def brand(self, brand_id: str) -> BrandSettings | None:
        return self.brands.get(brand_id)

    def store(self, brand_id: str, store_id: str) -> Store | None:
        return self.stores_by_id.get((brand_id, store_id))

    def stores(self, brand_id: str) -> list[Store]:
        return sorted((s for (b, _), s in self.stores_by_id.items() if b == brand_id), key=lambda s: s.store_id)

    def stores_page(self, brand_id: str, *, limit: int, after: str | None = None) -> Page[Store]:
        return sorted_page(self.stores(brand_id), tag="stores", limit=limit, after=after, names=("store_id",),
                           key=lambda s: (s.store_id,))

    def add_store(self, store: Store) -> None:
        self.stores_by_id[(store.brand_id, store.store_id)] = store

    def staff(self, brand_id: str, staff_id: str) -> Staff | None:
        return self.staff_by_id.get((brand_id, staff_id))

    def staff_of_store(self, brand_id: str, store_id: str, role: Role | None = None) -> list[Staff]:
        found = [s for (b, _), s in self.staff_by_id.items()
                 if b == brand_id and s.store_id == store_id and (role is None or s.role == role)]
        return sorted(found, key=lambda s: (s.role.value, s.staff_id))

    def add_staff(self, staff: Staff) -> None:
        self.staff_by_id[(staff.brand_id, staff.staff_id)] = staff

    def update_staff(self, staff: Staff, changes: dict[str, Any], *, now: datetime) -> None:
        self.staff_by_id[(staff.brand_id, staff.staff_id)] = staff

    def next_member_seq(self, brand_id: str, store_id: str) -> tuple[int, str]:
        store = self.stores_by_id[(brand_id, store_id)]
        self.sequences[(brand_id, store_id)] += 1
        return self.sequences[(brand_id, store_id)], store.code


class InMemoryComplaints:
    """Cases, their outbox and counters: a ComplaintStore. A step is written only at the
    version (an escalation: the level) it was read at, like the repository's condition."""

    def __init__(self) -> None:
        self.cases: dict[tuple[str, str], Complaint] = {}
        self.outbox: dict[tuple[str, str], PendingEvent] = {}
        self.counters: dict[tuple[str, str, str], Counter[str]] = {}  # (brand, period, store) -> KPI counters
        self.member_totals: dict[tuple[str, str], Counter[str]] = {}

    def _outbox(self, c: Complaint, events: tuple[tuple[str, dict[str, Any]], ...]) -> list[PendingEvent]:
        pending = [PendingEvent(f"OUTBOX#{c.complaint_id}", str(detail["event_id"]), kind, copy.deepcopy(detail))
                   for kind, detail in events]
        self.outbox.update({(e.pk, e.sk): e for e in pending})
        return pending

    def _count(self, c: Complaint, kpi: dict[str, int]) -> None:
        self.counters.setdefault((c.brand_id, c.period, c.store_id), Counter()).update(kpi)

    def add(self, c: Complaint, *, member_month: str,
            events: tuple[tuple[str, dict[str, Any]], ...] = ()) -> list[PendingEvent]:
        if (c.brand_id, c.complaint_id) in self.cases:
            raise CaseExists(c.complaint_id)
        self.cases[(c.brand_id, c.complaint_id)] = copy.deepcopy(c)
        self.member_totals.setdefault((c.brand_id, c.member_id), Counter()).update({"OPEN": 1, member_month: 1})
        self._count(c, {"opened": 1})
        return self._outbox(c, events)

    def get(self, brand_id: str, complaint_id: str) -> Complaint | None:
        return copy.deepcopy(self.cases.get((brand_id, complaint_id)))

    def apply(self, step: Step) -> list[PendingEvent]:
        before, after = step.before, step.after
        stored = self.cases.get((after.brand_id, after.complaint_id))
        if stored is None or (stored.level != before.level if step.escalation else stored.version != before.version):
            raise StaleCase(after.complaint_id)
        self.cases[(after.brand_id, after.complaint_id)] = dataclasses.replace(
            copy.deepcopy(after), history=[*stored.history, step.entry], version=stored.version + 1)
        self._count(after, step.kpi)
        if step.member_open_delta:
            self.member_totals.setdefault((after.brand_id, after.member_id), Counter())["OPEN"] += (
                step.member_open_delta)
        return self._outbox(after, step.events)

    def due(self, now: datetime, shard: int, *, limit: int = 500) -> list[Complaint]:
        """Every due case is in shard 0 here."""
        if shard != 0:
            return []
        due = [c for c in self.cases.values() if c.next_check_at is not None and c.next_check_at <= now]
        return [copy.deepcopy(c) for c in sorted(due, key=lambda c: c.next_check_at or now)[:limit]]

    def pending_events(self, shard: int) -> list[PendingEvent]:
        return list(self.outbox.values()) if shard == 0 else []

    def event_published(self, e: PendingEvent) -> None:
        self.outbox.pop((e.pk, e.sk), None)

    def queue(self, brand_id: str, *, status: str | None, assignee: str | None, store_id: str | None,
              limit: int, after: str | None = None) -> Page[Complaint]:
        found = [copy.deepcopy(c) for (b, _), c in self.cases.items() if b == brand_id
                 and (status is None or c.status.value == status) and (assignee is None or c.assignee == assignee)
                 and (store_id is None or c.store_id == store_id)]
        return sorted_page(found, tag="complaints", limit=limit, after=after, reverse=True,
                           names=("resolve_by", "complaint_id"),
                           key=lambda c: (c.resolve_by.isoformat(), c.complaint_id))

    def kpis(self, brand_id: str, period: str, store_id: str | None) -> dict[str, dict[str, int]]:
        return {s: {name: counts[name] for name in KPI_COUNTERS}
                for (b, p, s), counts in self.counters.items()
                if b == brand_id and p == period and (store_id is None or s == store_id)}

    def member_counts(self, brand_id: str, member_id: str) -> dict[str, int]:
        return dict(self.member_totals.get((brand_id, member_id), Counter()))


class InMemoryLedger:
    """Figures, ledger entries and raw member profiles: a Ledger. A commit is all or nothing
    and conditioned like the repository's: an entry new (revision 0) or at the revision read,
    the figures at the version read, else Conflict. A tier change in the committed sale is
    applied to the raw profile (the rest of the profile update is pynamodb actions, not run)."""

    def __init__(self) -> None:
        self.profiles: dict[tuple[str, str], dict[str, Any]] = {}
        self.figures: dict[tuple[str, str], MemberStats] = {}
        self.txns: dict[tuple[str, str, str], LedgerEntry] = {}
        self.rejections: list[tuple[str, str, str, str]] = []
        self.commits = 0

    def add_member(self, brand_id: str, member_id: str, *, store_id: str, tier: str = "regular") -> None:
        self.profiles[(brand_id, member_id)] = {"tier": {"S": tier}, "store_id": {"S": store_id}}

    def snapshot(self, brand_id: str, member_id: str, txns: list[tuple[str, str]]) -> PurchaseSnapshot:
        profile = self.profiles.get((brand_id, member_id))
        return PurchaseSnapshot(
            member_exists=profile is not None,
            tier=profile["tier"]["S"] if profile else None,
            stats=self.stats(brand_id, member_id),
            entries={(s, t): copy.deepcopy(self.txns.get((brand_id, s, t))) for s, t in txns},
            profile=copy.deepcopy(profile))

    def entry(self, brand_id: str, store_id: str, transaction_id: str) -> LedgerEntry | None:
        return copy.deepcopy(self.txns.get((brand_id, store_id, transaction_id)))

    def entries(self, brand_id: str, keys: list[tuple[str, str]]) -> list[LedgerEntry]:
        return [copy.deepcopy(e) for s, t in keys if (e := self.txns.get((brand_id, s, t))) is not None]

    def stats(self, brand_id: str, member_id: str) -> MemberStats:
        return copy.deepcopy(self.figures.get((brand_id, member_id))) or MemberStats()

    def stats_many(self, brand_id: str, member_ids: list[str]) -> dict[str, MemberStats]:
        return {m: self.stats(brand_id, m) for m in member_ids if (brand_id, m) in self.figures}

    def redemptions(self, brand_id: str, member_id: str, ids: list[str]) -> list[RedemptionItem]:
        return []  # redemptions are DynamoDB items: points tests use moto

    def redemptions_of_member(self, brand_id: str, member_id: str) -> list[RedemptionItem]:
        return []

    def history(self, brand_id: str, member_id: str, *, limit: int,
                after: str | None = None) -> tuple[list[LedgerEntry], str | None]:
        """Applied entries of the member, newest first; the cursor is the last one's key."""
        mine = sorted((e for (b, _, _), e in self.txns.items() if b == brand_id and e.member_id == member_id
                       and e.status.value == "applied" and e.occurred_at is not None),
                      key=lambda e: (e.occurred_at, e.store_id, e.transaction_id), reverse=True)
        keys = [f"{e.store_id}#{e.transaction_id}" for e in mine]
        start = keys.index(after) + 1 if after in keys else 0
        page = mine[start:start + limit]
        more = start + limit < len(mine)
        return [copy.deepcopy(e) for e in page], f"{page[-1].store_id}#{page[-1].transaction_id}" if more else None

    def commit(self, *, brand_id: str, entries: list[LedgerEntry], member_id: str | None = None,
               stats: MemberStats | None = None, profile_update: tuple[list[Action], Condition] | None = None,
               redemption: RedemptionItem | None = None, extra_puts: Sequence[Model] | None = None,
               extra_updates: Sequence[tuple[Model, list[Action], Condition]] | None = None) -> None:
        for e in entries:
            stored = self.txns.get((brand_id, e.store_id, e.transaction_id))
            if (stored.revision if stored else 0) != e.revision:
                raise Conflict()
        if stats is not None and member_id is not None:
            stored_stats = self.figures.get((brand_id, member_id))
            if (stored_stats.version if stored_stats else 0) != stats.version:
                raise Conflict()
            self.figures[(brand_id, member_id)] = dataclasses.replace(copy.deepcopy(stats), version=stats.version + 1)
        for e in entries:
            self.txns[(brand_id, e.store_id, e.transaction_id)] = dataclasses.replace(copy.deepcopy(e),
                                                                                      revision=e.revision + 1)
        change = entries[0].tier_change if entries else None
        if profile_update is not None and member_id is not None and change:
            self.profiles[(brand_id, member_id)]["tier"] = {"S": change["to"]}
        self.commits += 1

    def add_rejection(self, brand_id: str, store_id: str, transaction_id: str, fingerprint: str, reason: str,
                      at: datetime) -> None:
        self.rejections.append((store_id, transaction_id, fingerprint, reason))

    def clear_event_pending(self, brand_id: str, store_id: str, transaction_id: str) -> None:
        self.txns[(brand_id, store_id, transaction_id)].event_pending = False


class InMemoryTiers:
    """Manager loads and assignments, and a stored policy (None: the defaults): a ManagerBook."""

    def __init__(self, *, policy: TierPolicy | None = None) -> None:
        self.policy = policy
        self.managers: dict[tuple[str, str], str] = {}  # (brand, member) -> manager
        self.loads: Counter[tuple[str, str]] = Counter()  # (brand, manager) -> members

    def current_policy(self, brand_id: str) -> TierPolicy | None:
        return self.policy

    def one(self, brand_id: str, member_id: str) -> MemberTier | None:
        return None  # only read when an assignment lost a race, which no fake loses

    def manager_loads(self, brand_id: str, staff_ids: list[str]) -> dict[str, int]:
        return {s: self.loads[(brand_id, s)] for s in staff_ids if self.loads[(brand_id, s)]}

    def assign_manager(self, brand_id: str, member_id: str, staff_id: str, capacity: int, now: datetime) -> bool:
        if (brand_id, member_id) in self.managers or self.loads[(brand_id, staff_id)] >= capacity:
            return False
        self.managers[(brand_id, member_id)] = staff_id
        self.loads[(brand_id, staff_id)] += 1
        return True


if TYPE_CHECKING:  # what mypy holds each fake to
    _bus: ports.EventBus = RecordingBus()
    _notifier: ports.StaffNotifier = RecordingNotifier()
    _members: ports.MemberStore = InMemoryMembers()
    _directory: ports.Directory = InMemoryDirectory()
    _complaints: ports.ComplaintStore = InMemoryComplaints()
    _ledger: ports.Ledger = InMemoryLedger()
    _tiers: ports.ManagerBook = InMemoryTiers()

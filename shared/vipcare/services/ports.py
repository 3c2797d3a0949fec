"""What the services need from their collaborators, as `typing.Protocol`s.

A service names the narrowest port that covers the methods it calls; the repositories in
store/ and the senders in notify/ satisfy these structurally (no inheritance), and
`vipcare.wiring` is where mypy checks that they do. Tests pass in-memory fakes
(tests/support/fakes.py) that satisfy the same ports.

Wider ports extend narrower ones, so a real repository passed where a narrow port is asked
for always fits. Signatures mirror the store's: names included, since services call some
methods by keyword.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pynamodb.expressions.condition import Condition
    from pynamodb.expressions.update import Action
    from pynamodb.models import Model

    from ..domain.access import Role
    from ..domain.benefits import Catalogue
    from ..domain.complaints import Complaint
    from ..domain.directory import BrandSettings, Staff, Store
    from ..domain.kpi_policy import KpiPolicy
    from ..domain.members import AuditEntry, Member
    from ..domain.rewards import Reward
    from ..domain.stats import MemberStats
    from ..domain.tiers import Application, Decision, TierPolicy
    from ..store.basket import BasketDay, BasketPart, RollMember
    from ..store.benefits import BenefitUse, Holder
    from ..store.complaints import Step
    from ..store.kpis import SnapshotMember
    from ..store.ledger import LedgerEntry, PurchaseSnapshot, RedemptionItem
    from ..store.outbox import PendingEvent
    from ..store.paging import Page
    from ..store.tiers import ApplicationItem, MemberTier, StoredDecision


# ---- members ------------------------------------------------------------------------------


class MemberLookup(Protocol):
    """One member by id: the visibility check before tier, points and complaint work."""

    def get(self, brand_id: str, member_id: str) -> Member | None: ...


class MemberStore(MemberLookup, Protocol):
    """Enrolment, profile edits and resolving purchase rows to members."""

    def member_id_for_phone(self, brand_id: str, e164: str) -> str | None: ...

    def member_ids_for_phones(self, brand_id: str, phones: list[str]) -> dict[str, str]: ...

    def existing_ids(self, brand_id: str, member_ids: list[str]) -> set[str]: ...

    def add(self, member: Member, *, month: str | None = None) -> None: ...

    def update_profile(self, member: Member, changes: dict[str, Any], *, now: datetime, old_phone: str) -> None: ...


# ---- the ledger ---------------------------------------------------------------------------


class MemberFigures(Protocol):
    """A member's running figures (points lots, spend, purchases): the member card's numbers."""

    def stats(self, brand_id: str, member_id: str) -> MemberStats: ...


class PurchaseLedger(Protocol):
    """What applying one purchase exactly once reads and writes (services.ingestion): one
    consistent snapshot, one conditional commit, and the after-publish clean-up."""

    def snapshot(self, brand_id: str, member_id: str, txns: list[tuple[str, str]]) -> PurchaseSnapshot: ...

    def entries(self, brand_id: str, keys: list[tuple[str, str]]) -> list[LedgerEntry]: ...

    def commit(self, *, brand_id: str, entries: list[LedgerEntry], member_id: str | None = None,
               stats: MemberStats | None = None, profile_update: tuple[list[Action], Condition] | None = None,
               redemption: RedemptionItem | None = None, extra_puts: Sequence[Model] | None = None,
               extra_updates: Sequence[tuple[Model, list[Action], Condition]] | None = None) -> None: ...

    def add_rejection(self, brand_id: str, store_id: str, transaction_id: str, fingerprint: str, reason: str,
                      at: datetime) -> None: ...

    def clear_event_pending(self, brand_id: str, store_id: str, transaction_id: str) -> None: ...


class Ledger(MemberFigures, PurchaseLedger, Protocol):
    """The rest of the ledger's readers: transaction status, points movements and
    redemptions, the threshold-advice sample."""

    def entry(self, brand_id: str, store_id: str, transaction_id: str) -> LedgerEntry | None: ...

    def stats_many(self, brand_id: str, member_ids: list[str]) -> dict[str, MemberStats]: ...

    def redemptions(self, brand_id: str, member_id: str, ids: list[str]) -> list[RedemptionItem]: ...

    def redemptions_of_member(self, brand_id: str, member_id: str) -> list[RedemptionItem]: ...

    def history(self, brand_id: str, member_id: str, *, limit: int,
                after: str | None = None) -> tuple[list[LedgerEntry], str | None]: ...


# ---- the brand's basket (threshold advice) --------------------------------------------------


class BasketStore(Protocol):
    """The roll of members store by store, and the daily aggregate's parts and days."""

    def roll_page(self, brand_id: str, store_id: str, *, after: str | None,
                  limit: int) -> tuple[list[RollMember], str | None]: ...

    def parts(self, brand_id: str, day: date) -> dict[str, BasketPart]: ...

    def save_part(self, brand_id: str, day: date, part: BasketPart) -> BasketPart: ...

    def finish_day(self, brand_id: str, day: BasketDay) -> None: ...

    def day_done(self, brand_id: str, day: date) -> bool: ...

    def latest_day(self, brand_id: str) -> BasketDay | None: ...


# ---- tiers --------------------------------------------------------------------------------


class PolicySource(Protocol):
    """The brand's stored tier policy document (services.limits caches it)."""

    def current_policy(self, brand_id: str) -> TierPolicy | None: ...


class ManagerBook(PolicySource, Protocol):
    """Dedicated managers' loads and the conditional assignment (services.tiers.ensure_manager,
    also reached from ingestion when a sale upgrades a member)."""

    def one(self, brand_id: str, member_id: str) -> MemberTier | None: ...

    def manager_loads(self, brand_id: str, staff_ids: list[str]) -> dict[str, int]: ...

    def assign_manager(self, brand_id: str, member_id: str, staff_id: str, capacity: int, now: datetime) -> bool: ...


class TierStore(ManagerBook, Protocol):
    """Policies, the scheduled review, decisions with their outbox, manual-tier applications."""

    def policy_versions(self, brand_id: str) -> list[int]: ...

    def add_policy(self, brand_id: str, policy: TierPolicy) -> None: ...

    def due(self, shard: int, now: datetime, *, limit: int) -> list[tuple[str, str, str]]: ...

    def load(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], MemberTier]: ...

    def apply(self, m: MemberTier, decision: Decision, policy: TierPolicy, keys: tuple[str, str] | None,
              now: datetime, *, extra: list[tuple[str, Any]] | None = None, release_manager: bool = False,
              event: tuple[str, dict[str, Any]] | None = None) -> PendingEvent | None: ...

    def pending_events(self, shard: int) -> list[PendingEvent]: ...

    def event_published(self, e: PendingEvent) -> None: ...

    def decisions(self, brand_id: str, member_id: str, *, limit: int = 20) -> list[StoredDecision]: ...

    def add_application(self, a: Application) -> None: ...

    def application(self, brand_id: str, application_id: str) -> Application | None: ...

    def reject_application(self, a: Application) -> bool: ...

    def application_item(self, a: Application) -> ApplicationItem: ...


# ---- complaints ---------------------------------------------------------------------------


class CaseStore(Protocol):
    """One case's lifecycle step (acknowledge, note, resolve, feedback): read it, write the
    step conditionally, drop each outbox event once the bus took it."""

    def get(self, brand_id: str, complaint_id: str) -> Complaint | None: ...

    def apply(self, step: Step) -> list[PendingEvent]: ...

    def event_published(self, e: PendingEvent) -> None: ...


class ComplaintCounts(Protocol):
    """A member's open and recent complaints (the tier factor and the churn-risk score)."""

    def member_counts(self, brand_id: str, member_id: str) -> dict[str, int]: ...


class ComplaintStore(CaseStore, Protocol):
    """Intake, the escalation job's due cases and outbox, queue views and the counters."""

    def add(self, c: Complaint, *, member_month: str,
            events: tuple[tuple[str, dict[str, Any]], ...] = ()) -> list[PendingEvent]: ...

    def due(self, now: datetime, shard: int, *, limit: int = 500) -> list[Complaint]: ...

    def pending_events(self, shard: int) -> list[PendingEvent]: ...

    def queue(self, brand_id: str, *, status: str | None, assignee: str | None, store_id: str | None,
              limit: int, after: str | None = None) -> Page[Complaint]: ...

    def kpis(self, brand_id: str, period: str, store_id: str | None) -> dict[str, dict[str, int]]: ...

    def member_counts(self, brand_id: str, member_id: str) -> dict[str, int]: ...


# ---- the directory ------------------------------------------------------------------------


class BrandSource(Protocol):
    """A brand's settings (time zone, phone region, currency); services.brands caches them."""

    def brand(self, brand_id: str) -> BrandSettings | None: ...


class DirectoryReader(BrandSource, Protocol):
    """Stores and staff as routing and manager assignment read them."""

    def store(self, brand_id: str, store_id: str) -> Store | None: ...

    def staff(self, brand_id: str, staff_id: str) -> Staff | None: ...

    def staff_of_store(self, brand_id: str, store_id: str, role: Role | None = None) -> list[Staff]: ...


class Directory(DirectoryReader, Protocol):
    """Administration of stores and staff, and the per-store member number sequence."""

    def stores(self, brand_id: str) -> list[Store]: ...

    def stores_page(self, brand_id: str, *, limit: int, after: str | None = None) -> Page[Store]: ...

    def add_store(self, store: Store) -> None: ...

    def add_staff(self, staff: Staff) -> None: ...

    def update_staff(self, staff: Staff, changes: dict[str, Any], *, now: datetime) -> None: ...

    def next_member_seq(self, brand_id: str, store_id: str) -> tuple[int, str]: ...


# ---- sending ------------------------------------------------------------------------------


class EventBus(Protocol):
    """Domain events to the bus (TierChanged, ComplaintFiled...); raises when refused, so the
    outbox keeps the event for a later run."""

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None: ...


class StaffNotifier(Protocol):
    """Telling staff (assignee, supervisor) through the staff topic; best effort. Returns the
    message id, which the services do not use."""

    def tell_staff(self, event: dict[str, Any]) -> object: ...


class IntakeQueue(Protocol):
    """The purchases queue: returns the indexes of the messages it refused (they answer 'retry')."""

    def send(self, messages: list[dict[str, Any]]) -> list[int]: ...


class ReviewQueue(Protocol):
    """The tier review fan-out: one message per shard (and a follow-up for a full page)."""

    def send(self, messages: list[dict[str, Any]]) -> None: ...


class KpiStore(Protocol):
    """KpiTable: the counters kept as things happen, the tier stock, the monthly snapshots."""

    def count_event(self, event_id: str, now: datetime, *, brand_id: str, period: str, store_id: str,
                    counts: dict[str, int], stock: dict[str, int]) -> bool: ...

    def counters(self, brand_id: str, period: str) -> dict[str, dict[str, int]]: ...

    def stock(self, brand_id: str) -> dict[str, dict[str, int]]: ...

    def snapshot_done(self, brand_id: str, period: str) -> bool: ...

    def finish_snapshot(self, brand_id: str, period: str, now: datetime, *, policy_version: int = 0) -> None: ...

    def policy(self, brand_id: str) -> KpiPolicy: ...

    def snapshot_members(self, brand_id: str, period: str) -> list[SnapshotMember]: ...

    def put_snapshot(self, brand_id: str, period: str, members: Iterable[SnapshotMember], now: datetime) -> None: ...
    def set_opening_figures(self, brand_id: str, period: str, per_store: dict[str, dict[str, int]]) -> None: ...

    def set_snapshot_figures(self, brand_id: str, period: str, per_store: dict[str, dict[str, int]]) -> None: ...


# ---- data rights --------------------------------------------------------------------------


class MemberRecords(MemberLookup, Protocol):
    """The card's own data-rights side: the audit trail and the erasure."""

    def erased_at(self, brand_id: str, member_id: str) -> datetime | None: ...

    def erase(self, member: Member, *, by: str, now: datetime, month: str) -> None: ...

    def audit(self, brand_id: str, member_id: str, action: str, by: str, now: datetime) -> None: ...

    def audits(self, brand_id: str, member_id: str) -> list[AuditEntry]: ...


class CaseArchive(Protocol):
    """A member's complaint cases, read whole for an export and cleaned of text on erasure."""

    def cases_of_member(self, brand_id: str, member_id: str, store_ids: list[str]) -> list[Complaint]: ...

    def erase_case_texts(self, brand_id: str, complaint_id: str) -> bool: ...


class BenefitRecords(Protocol):
    """A member's benefit uses, read whole for an export and cleaned of notes on erasure."""

    def uses_of_member(self, brand_id: str, member_id: str) -> list[BenefitUse]: ...

    def erase_notes(self, brand_id: str, member_id: str) -> int: ...


class DecisionHistory(Protocol):
    def decisions(self, brand_id: str, member_id: str, *, limit: int = 20) -> list[StoredDecision]: ...


# ---- handovers (leave, return, departure) ---------------------------------------------------


class StaffAdmin(Directory, Protocol):
    def log_staff_change(self, brand_id: str, staff_id: str, action: str, by: str, at: datetime,
                         detail: dict[str, Any]) -> None: ...


class ManagerMoves(Protocol):
    def manager_loads(self, brand_id: str, staff_ids: list[str]) -> dict[str, int]: ...

    def move_member(self, brand_id: str, member_id: str, frm: str, to: str, now: datetime) -> bool: ...


# ---- benefits at the till ---------------------------------------------------------------------


class BenefitStore(Protocol):
    """The brand's benefits document (versions) and each member's uses per benefit and period."""

    def current(self, brand_id: str) -> Catalogue: ...

    def add(self, c: Catalogue) -> None: ...

    def holder(self, brand_id: str, member_id: str) -> Holder | None: ...

    def used(self, brand_id: str, member_id: str) -> dict[tuple[str, str], int]: ...

    def use_of(self, brand_id: str, member_id: str, use_id: str) -> BenefitUse | None: ...

    def record_use(self, u: BenefitUse, *, quota: int) -> None: ...


class RewardBook(Protocol):
    """The brand's rewards catalogue, and the stock update a redemption carries."""

    def get(self, brand_id: str, reward_id: str) -> Reward | None: ...

    def page(self, brand_id: str, *, limit: int, after: str | None = None,
             keep: Callable[[Reward], bool] | None = None) -> Page[Reward]: ...

    def put(self, r: Reward) -> None: ...

    def take_one(self, r: Reward) -> tuple[Any, list[Any], Any] | None: ...

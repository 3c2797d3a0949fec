"""The one place that builds the real collaborators: a factory per function, called once when
the function's app.py is imported. Handlers pass the fields on to the services, which take
every collaborator as a required keyword argument typed by a port (services/ports.py).

Each field is typed by the port the function's services ask for, so mypy checks here that
the store's repositories and notify's senders satisfy those ports. Building them is cheap:
they hold no connection (pynamodb models and boto3 clients are created on first use). The
imports are inside the factories so a function loads only the store modules it uses.

Only this module, tests and the local stack (infra/) construct repositories; services never
import it (tests/unit/test_layers.py). Tests swap one collaborator with `dataclasses.replace`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .services.care_ports import CareDeps, Sms
from .services.ports import (
    BasketStore,
    BenefitRecords,
    BenefitStore,
    CaseArchive,
    ComplaintStore,
    DecisionHistory,
    Directory,
    DirectoryReader,
    EventBus,
    IntakeQueue,
    KpiStore,
    Ledger,
    ManagerBook,
    MemberFigures,
    MemberLookup,
    MemberRecords,
    MemberStore,
    PurchaseLedger,
    ReviewQueue,
    RewardBook,
    StaffNotifier,
    TierStore,
)

if TYPE_CHECKING:
    from .services.activities import ActivityDeps
    from .services.ingestion import Ingestor
    from .services.kpi_policy import KpiPolicyStore
    from .services.member_lists import ListDeps
    from .services.staffing import StaffingDeps


@dataclass(frozen=True, slots=True)
class Enrollment:
    members: MemberStore
    ledger: MemberFigures
    directory: Directory


def enrollment() -> Enrollment:
    from .store.directory import DirectoryRepository
    from .store.ledger import LedgerRepository
    from .store.members import MemberRepository

    return Enrollment(members=MemberRepository(), ledger=LedgerRepository(), directory=DirectoryRepository())


@dataclass(frozen=True, slots=True)
class PurchaseApi:
    members: MemberStore
    ledger: Ledger
    directory: DirectoryReader
    queue: IntakeQueue
    benefits: BenefitStore
    rewards: RewardBook


def purchase_api() -> PurchaseApi:
    from .notify.queues import PurchaseQueue
    from .store.benefits import BenefitRepository
    from .store.directory import DirectoryRepository
    from .store.ledger import LedgerRepository
    from .store.members import MemberRepository
    from .store.rewards import RewardRepository

    return PurchaseApi(members=MemberRepository(), ledger=LedgerRepository(), directory=DirectoryRepository(),
                       queue=PurchaseQueue(), benefits=BenefitRepository(), rewards=RewardRepository())


@dataclass(frozen=True, slots=True)
class PurchaseIngestion:
    ledger: PurchaseLedger
    events: EventBus
    tiers: ManagerBook
    directory: DirectoryReader
    notifier: StaffNotifier

    def ingestor(self) -> Ingestor:
        from .services.ingestion import Ingestor

        return Ingestor(ledger=self.ledger, events=self.events, tiers=self.tiers, directory=self.directory,
                        notifier=self.notifier)


def purchase_ingestion() -> PurchaseIngestion:
    from .notify.events import EventPublisher
    from .notify.sns import SnsNotifier
    from .store.directory import DirectoryRepository
    from .store.ledger import LedgerRepository
    from .store.tiers import TierRepository

    return PurchaseIngestion(ledger=LedgerRepository(), events=EventPublisher(), tiers=TierRepository(),
                             directory=DirectoryRepository(), notifier=SnsNotifier())


@dataclass(frozen=True, slots=True)
class TierReevaluation:
    tiers: TierStore
    basket: BasketStore
    members: MemberLookup
    ledger: Ledger
    directory: DirectoryReader
    notifier: StaffNotifier
    events: EventBus
    queue: ReviewQueue


def tier_reevaluation() -> TierReevaluation:
    from .notify.events import EventPublisher
    from .notify.queues import TierReviewQueue
    from .notify.sns import SnsNotifier
    from .store.basket import BasketRepository
    from .store.directory import DirectoryRepository
    from .store.ledger import LedgerRepository
    from .store.members import MemberRepository
    from .store.tiers import TierRepository

    return TierReevaluation(tiers=TierRepository(), basket=BasketRepository(), members=MemberRepository(),
                            ledger=LedgerRepository(), directory=DirectoryRepository(), notifier=SnsNotifier(),
                            events=EventPublisher(), queue=TierReviewQueue())


@dataclass(frozen=True, slots=True)
class ComplaintRouting:
    members: MemberLookup
    directory: DirectoryReader
    complaints: ComplaintStore
    notifier: StaffNotifier
    events: EventBus


def complaint_routing() -> ComplaintRouting:
    from .notify.events import EventPublisher
    from .notify.sns import SnsNotifier
    from .store.complaints import ComplaintRepository
    from .store.directory import DirectoryRepository
    from .store.members import MemberRepository

    return ComplaintRouting(members=MemberRepository(), directory=DirectoryRepository(),
                            complaints=ComplaintRepository(), notifier=SnsNotifier(), events=EventPublisher())


@dataclass(frozen=True, slots=True)
class DirectoryApi:
    directory: Directory
    staffing: StaffingDeps  # leave, return and departure hand work over


def directory() -> DirectoryApi:
    from .notify.sns import SnsNotifier
    from .services.staffing import StaffingDeps
    from .store.complaints import ComplaintRepository
    from .store.directory import DirectoryRepository
    from .store.members import MemberRepository
    from .store.tasks import TaskRepository
    from .store.tiers import TierRepository

    repo = DirectoryRepository()
    return DirectoryApi(directory=repo, staffing=StaffingDeps(
        directory=repo, tasks=TaskRepository(), complaints=ComplaintRepository(), tiers=TierRepository(),
        members=MemberRepository(), notifier=SnsNotifier()))


@dataclass(frozen=True, slots=True)
class KpiReports:
    kpis: KpiStore
    complaints: ComplaintStore
    directory: Directory
    ledger: Ledger
    basket: BasketStore
    kpi_policies: KpiPolicyStore


def kpi_reports() -> KpiReports:
    from .store.basket import BasketRepository
    from .store.complaints import ComplaintRepository
    from .store.directory import DirectoryRepository
    from .store.kpi_policy import KpiPolicyRepository
    from .store.kpis import KpiRepository
    from .store.ledger import LedgerRepository

    return KpiReports(kpis=KpiRepository(), complaints=ComplaintRepository(), directory=DirectoryRepository(),
                      ledger=LedgerRepository(), basket=BasketRepository(), kpi_policies=KpiPolicyRepository())


@dataclass(frozen=True, slots=True)
class Privacy:
    """A member's export and erasure reach every table that holds something of them."""

    members: MemberRecords
    ledger: Ledger
    complaints: CaseArchive
    tiers: DecisionHistory
    directory: Directory
    care: CareDeps
    benefits: BenefitRecords


def privacy() -> Privacy:
    from .store.benefits import BenefitRepository
    from .store.complaints import ComplaintRepository
    from .store.directory import DirectoryRepository
    from .store.ledger import LedgerRepository
    from .store.members import MemberRepository
    from .store.tiers import TierRepository

    return Privacy(members=MemberRepository(), ledger=LedgerRepository(), complaints=ComplaintRepository(),
                   tiers=TierRepository(), directory=DirectoryRepository(), care=care(),
                   benefits=BenefitRepository())


def care(*, sms: Sms | None = None) -> CareDeps:
    """The care area's collaborators, one bundle (its use cases share most of them): the
    reminder job and care events, the care API, the KPI snapshot, privacy, the backfill."""
    from .notify.sns import SnsNotifier
    from .store.activities import ActivityRepository
    from .store.audiences import AudienceIndex
    from .store.cadence import CadenceRepository
    from .store.care_settings import CareSettingsRepository
    from .store.churn_reasons import ChurnReasonRepository
    from .store.complaints import ComplaintRepository
    from .store.contacts import ContactRepository
    from .store.directory import DirectoryRepository
    from .store.kpis import KpiRepository
    from .store.ledger import LedgerRepository
    from .store.members import MemberRepository
    from .store.messages import MessageRepository
    from .store.tasks import TaskRepository
    from .store.tiers import TierRepository

    return CareDeps(messages=MessageRepository(), tasks=TaskRepository(), contacts=ContactRepository(),
                    cadence=CadenceRepository(), settings=CareSettingsRepository(), audiences=AudienceIndex(),
                    members=MemberRepository(), figures=LedgerRepository(), kpis=KpiRepository(),
                    directory=DirectoryRepository(), sms=sms or SnsNotifier(), complaints=ComplaintRepository(),
                    policies=TierRepository(), churn_reasons=ChurnReasonRepository(),
                    activities=ActivityRepository())


def member_lists() -> ListDeps:
    """Search, segments and call lists (the care API)."""
    from .services.member_lists import ListDeps
    from .store.directory import DirectoryRepository
    from .store.member_lists import MemberListRepository
    from .store.segments import SegmentRepository

    return ListDeps(lists=MemberListRepository(), segments=SegmentRepository(), directory=DirectoryRepository())


def activities(*, care_deps: CareDeps | None = None) -> ActivityDeps:
    """Activities: the API (care_api) and the invitations' fan-out (reminder_dispatch)."""
    from .notify.queues import InvitationQueue
    from .services.activities import ActivityDeps
    from .store.activities import ActivityRepository

    return ActivityDeps(activities=ActivityRepository(), care=care_deps or care(), lists=member_lists(),
                        queue=InvitationQueue())

"""The one place that builds the real collaborators (DynamoDB repositories, SNS) for the use
cases. Each function calls its factory once, at import; tests call the same factories or hand
in fakes that satisfy the Protocols in services/care_ports.py."""

from __future__ import annotations

from .notify.sns import SnsNotifier
from .services.care_ports import CareDeps, Sms
from .store.audiences import AudienceIndex
from .store.cadence import CadenceRepository
from .store.care_settings import CareSettingsRepository
from .store.contacts import ContactRepository
from .store.directory import DirectoryRepository
from .store.kpis import KpiRepository
from .store.ledger import LedgerRepository
from .store.members import MemberRepository
from .store.messages import MessageRepository
from .store.tasks import TaskRepository


def care(*, sms: Sms | None = None) -> CareDeps:
    """The care area's collaborators (the reminder job, care events, the care API, privacy)."""
    return CareDeps(messages=MessageRepository(), tasks=TaskRepository(), contacts=ContactRepository(),
                    cadence=CadenceRepository(), settings=CareSettingsRepository(), audiences=AudienceIndex(),
                    members=MemberRepository(), figures=LedgerRepository(), kpis=KpiRepository(),
                    directory=DirectoryRepository(), sms=sms or SnsNotifier())

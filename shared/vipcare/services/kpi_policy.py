"""Reading and changing a brand's KPI policy (docs/kpis.md "The brand's KPI policy"): admins
of the brand only; each change is a new version, older ones stay readable, and the snapshot
run records the version it judged by."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from ..domain import kpi_policy as rules
from ..domain.access import Caller, Role, require_role
from ..domain.errors import NotFound
from ..domain.kpi_policy import KpiPolicy


class KpiPolicyStore(Protocol):
    def current(self, brand_id: str) -> KpiPolicy: ...

    def versions(self, brand_id: str) -> list[KpiPolicy]: ...

    def add(self, brand_id: str, policy: KpiPolicy, now: datetime, by: str) -> None: ...


def _own_brand_admin(caller: Caller, brand_id: str) -> None:
    require_role(caller, Role.ADMIN)
    if brand_id != caller.brand_id:
        raise NotFound("brand not found")  # another brand's programme is not even confirmed to exist


def get_policy(caller: Caller, brand_id: str, *, repo: KpiPolicyStore) -> tuple[KpiPolicy, list[KpiPolicy]]:
    """(the policy in force, every stored version oldest first)."""
    _own_brand_admin(caller, brand_id)
    return repo.current(brand_id), repo.versions(brand_id)


def put_policy(caller: Caller, brand_id: str, doc: dict[str, Any], *, now: datetime,
               repo: KpiPolicyStore) -> KpiPolicy:
    """The fields sent over the policy in force, validated, stored as the next version."""
    _own_brand_admin(caller, brand_id)
    current = repo.current(brand_id)
    stored = replace(rules.from_doc(doc, base=current), version=current.version + 1, created_at=now,
                     created_by=caller.source)
    repo.add(brand_id, stored, now, caller.source)  # Conflict when another change took the version
    return stored

"""A brand's KPI policy versions, in the KpiTable (the KPI function owns it):
pk BRAND#<b>#KPIPOLICY, sk V#<version, 6 digits>; the newest is the one in force, older ones
stay readable (docs/kpis.md "The brand's KPI policy")."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError

from ..domain import kpi_policy as rules
from ..domain.errors import Conflict
from ..domain.kpi_policy import KpiPolicy
from .kpis import _KpiModel
from .models import condition_failed


def policy_pk(brand_id: str) -> str:
    return f"BRAND#{brand_id}#KPIPOLICY"


class KpiPolicyItem(_KpiModel):
    class Meta(_KpiModel.Meta):
        pass

    version = NumberAttribute()
    document = UnicodeAttribute()  # the settable fields as JSON (KpiPolicy.as_doc)
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()


def _policy(item: KpiPolicyItem) -> KpiPolicy:
    doc = {k: v for k, v in json.loads(item.document).items() if k not in ("version", "created_at", "created_by")}
    return replace(rules.from_doc(doc), version=int(item.version), created_at=item.created_at,
                   created_by=item.created_by)


class KpiPolicyRepository:
    def current(self, brand_id: str) -> KpiPolicy:
        """The version in force (the defaults, version 0, when the brand stored none)."""
        for item in KpiPolicyItem.query(policy_pk(brand_id), scan_index_forward=False, limit=1):
            return _policy(item)
        return rules.DEFAULT

    def versions(self, brand_id: str) -> list[KpiPolicy]:
        """Every stored version, oldest first."""
        return [_policy(i) for i in KpiPolicyItem.query(policy_pk(brand_id))]

    def add(self, brand_id: str, policy: KpiPolicy, now: datetime, by: str) -> None:
        item = KpiPolicyItem(policy_pk(brand_id), f"V#{policy.version:06d}", version=policy.version,
                             document=json.dumps(policy.as_doc()), created_at=now, created_by=by)
        try:
            item.save(condition=KpiPolicyItem.pk.does_not_exist())
        except PutError as exc:
            if condition_failed(exc):
                # two changes raced for the same version number
                raise Conflict("the policy was changed meanwhile; read it again", field="version") from None
            raise

"""The escalation job at scale, in-process against moto: N overdue cases in one store, one
run two hours after intake, then a rerun for the same moment. Printed: cases found due,
escalated, DynamoDB requests by operation (what a run costs), wall time (moto's, only
comparable between runs on one machine).

    python -m tests.bench.escalation_job [--cases 300]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta


def measure(cases: int) -> dict:
    os.environ.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1",
                      AWS_REGION="us-east-1", POWERTOOLS_TRACE_DISABLED="true")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from infra.local import resources, template

    names = resources.physical_names() | {"StaffUserPool": "local", "StaffUserPoolClient": "local"}
    for fn in template.functions():
        for key, value in template.function_environment(fn, names).items():
            os.environ.setdefault(key, value)

    import boto3
    from moto import mock_aws

    with mock_aws():
        resources.create_all(lambda service: boto3.client(service, region_name="us-east-1"))
        from vipcare import wiring
        from vipcare.api.models.complaints import ComplaintCreate
        from vipcare.api.models.directory import StaffCreate, StoreCreate
        from vipcare.api.models.members import EnrolRequest
        from vipcare.domain.access import Caller, Role
        from vipcare.services import complaints, directory, members
        from vipcare.store.clients import dynamodb_client
        from vipcare.store.models import PROFILE_SK, MemberItem, member_pk

        admin = Caller(staff_id="admin", brand_id="bench", store_id="s1", role=Role.ADMIN)
        opened = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
        d, e, c = wiring.directory(), wiring.enrollment(), wiring.complaint_routing()
        directory.create_store(admin, StoreCreate(store_id="s1", name="s1"), now=opened, directory=d.directory)
        for staff_id, role, sup in (("vp", Role.VICE_PRESIDENT, None), ("dept", Role.DEPARTMENT_HEAD, "vp"),
                                    ("sup", Role.SUPERVISOR, "dept"), ("mgr", Role.MANAGER, "sup")):
            directory.create_staff(admin, StaffCreate(staff_id=staff_id, name=staff_id, role=role, store_id="s1",
                                                      supervisor_id=sup), now=opened, directory=d.directory)
        for i in range(cases):
            m = members.enroll(admin, EnrolRequest(name="Bench", phone=f"+86139{i:08d}", store_id="s1"), now=opened,
                               members=e.members, directory=e.directory)
            MemberItem(member_pk("bench", m.member_id), PROFILE_SK).update(
                actions=[MemberItem.tier.set("diamond"), MemberItem.manager_id.set("mgr")])
            complaints.file_complaint(admin, ComplaintCreate(
                member_id=m.member_id, store_id="s1", channel="hotline", category="service_attitude",
                severity="critical", description="bench"), now=opened, members=c.members, directory=c.directory,
                complaints=c.complaints, notifier=c.notifier, events=c.events)

        calls: Counter[str] = Counter()
        dynamodb_client().meta.events.register("before-call.dynamodb", lambda model, **_: calls.update([model.name]))
        moment = opened + timedelta(hours=2)
        t0 = time.perf_counter()
        first = complaints.run_escalations(moment, complaints=c.complaints, directory=c.directory, notifier=c.notifier,
                                           events=c.events)
        t1 = time.perf_counter()
        first_calls = dict(calls)
        calls.clear()
        second = complaints.run_escalations(moment, complaints=c.complaints, directory=c.directory,
                                            notifier=c.notifier, events=c.events)
        t2 = time.perf_counter()
        return {"cases": cases, "first": first.as_dict(), "first_calls": first_calls,
                "first_ms": (t1 - t0) * 1000, "second": second.as_dict(), "second_calls": dict(calls),
                "second_ms": (t2 - t1) * 1000}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=300)
    args = parser.parse_args(argv)
    r = measure(args.cases)
    print(f"Escalation job over {r['cases']} overdue P1 cases (moto, in-process)")
    for run in ("first", "second"):
        summary = r[run]
        total = sum(r[f"{run}_calls"].values())
        print(f"{run + ' run':<11} due {summary['due']:>5}  escalated {summary['escalated']:>5}  "
              f"DynamoDB requests {total:>5} {dict(sorted(r[f'{run}_calls'].items()))}  {r[f'{run}_ms']:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

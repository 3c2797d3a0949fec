"""The reminder job's DynamoDB reads against the member count: members are bulk-loaded with
BatchWriteItem (not the API), a fixed number have their birthday today, the rest on other
days; one job run at 10:00 Shanghai is metered (requests by operation, items read, read units).

    python -m tests.bench.reminder_job [--members 20000] [--birthdays 20]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any

MOMENT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def _env() -> None:
    os.environ.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1",
                      AWS_REGION="us-east-1", POWERTOOLS_TRACE_DISABLED="true")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from infra.local import resources, template

    names = resources.physical_names() | {"StaffUserPool": "local", "StaffUserPoolClient": "local"}
    for fn in template.functions():
        for key, value in template.function_environment(fn, names).items():
            os.environ.setdefault(key, value)


def _member(i: int, today: bool) -> dict[str, Any]:
    mid = f"m{i:07d}"
    # not today: spread over the other days of the year (skipping Nov 22-24 and leap day)
    day = 1 + i % 28
    month = 1 + (i // 28) % 10  # Jan..Oct
    bday = "1123" if today else f"{month:02d}{day:02d}"
    return {
        "pk": {"S": f"BRAND#bench#MEMBER#{mid}"}, "sk": {"S": "PROFILE"}, "member_id": {"S": mid},
        "brand_id": {"S": "bench"}, "store_id": {"S": "s1"}, "member_no": {"S": f"BENCH-S1-{i:06d}"},
        "name": {"S": "Bench"}, "phone": {"S": f"+86139{i:08d}"}, "tier": {"S": "regular"},
        "consent": {"M": {"sms_marketing": {"BOOL": True}, "updated_at": {"S": "2026-01-01T00:00:00.000000+0000"},
                          "source": {"S": "bench"}}},
        "birthday": {"S": f"1990-{bday[:2]}-{bday[2:]}"}, "bday_key": {"S": f"BDAY#S#{bday}"},
        "enrolled_at": {"S": "2026-01-01T00:00:00.000000+0000"}, "updated_at": {"S": "2026-01-01T00:00:00.000000+0000"},
    }


def measure(members: int, birthdays: int) -> dict[str, Any]:
    _env()
    import boto3
    from moto import mock_aws

    from infra.local import resources

    with mock_aws():
        resources.create_all(lambda service: boto3.client(service, region_name="us-east-1"))
        from tests.bench.ddb_meter import metered
        from vipcare.config import settings
        from vipcare.services.brands import forget_cached_brands
        from vipcare.services.reminders import run_dispatch
        from vipcare.store.clients import dynamodb_client
        from vipcare.wiring import care

        forget_cached_brands()
        client = dynamodb_client()
        table = settings().members_table
        batch: list[dict[str, Any]] = []
        for i in range(members):
            batch.append({"PutRequest": {"Item": _member(i, i < birthdays)}})
            if len(batch) == 25:
                client.batch_write_item(RequestItems={table: batch})
                batch = []
        if batch:
            client.batch_write_item(RequestItems={table: batch})

        t0 = time.perf_counter()
        with metered(client) as meter:
            run = run_dispatch(MOMENT, care())
        ms = (time.perf_counter() - t0) * 1000
        reads = {k: v for k, v in meter.requests.items() if k in ("GetItem", "BatchGetItem", "Query", "Scan",
                                                                   "TransactGetItems")}
        return {"members": members, "birthdays": birthdays, "sent": run.outcomes.get("sent", 0),
                "requests": dict(meter.requests), "read_requests": sum(reads.values()), "reads": reads,
                "items_read": meter.items_read, "read_units": meter.read_units, "ms": ms}


def report(r: dict[str, Any]) -> str:
    return (f"members {r['members']:>6}  birthdays today {r['birthdays']:>4}  sent {r['sent']:>4}  "
            f"read requests {r['read_requests']:>4} {dict(sorted(r['reads'].items()))}  items read "
            f"{r['items_read']:>5}  RCU {r['read_units']:.1f}  all requests {sum(r['requests'].values())}  "
            f"{r['ms']:.0f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=20000)
    parser.add_argument("--birthdays", type=int, default=20)
    args = parser.parse_args(argv)
    print("Reminder job, one run at 10:00 Shanghai (moto, in-process)")
    for members, birthdays in ((args.members // 10, args.birthdays), (args.members, args.birthdays),
                               (args.members, args.birthdays * 5)):
        print(report(measure(members, birthdays)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

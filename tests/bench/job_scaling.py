"""The scheduled jobs against the member count: the same number due, ten times the members.

One world per size, each in a fresh process with its own moto server (the local stack's),
members bulk-loaded straight into the table. The first `--due` members are due for all three
jobs: gold with their review date passed (tier re-evaluation), a birthday today with SMS
consent (reminder dispatch) and an open complaint past its first-response deadline
(escalation). The others are regular members with birthdays on other days, a quarter of them
silver with a review months ahead (in the review index, not due), and no open complaint.

Per job: DynamoDB requests, items read, read and write units (tests/bench/ddb_meter.py), and
the CPU seconds of the job (`time.process_time`). moto runs in a separate process, so neither
its work nor its memory (gigabytes at 100,000 members, which would slow this process's
garbage collector) is counted. Target: every total at 100,000 members within 1.1x of 10,000.

    python -m tests.bench.job_scaling [--sizes 10000 100000] [--due 100]
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BRAND, STORE = "bench", "s1"
OPENED = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 Shanghai: birthdays "11-23" are today
ESCALATE_AT = OPENED + timedelta(hours=30)  # past every priority's first-response deadline
TIER_RUN_AT = datetime(2027, 12, 23, 4, 0, tzinfo=UTC)  # the due members' validity ended 2027-11-23
JOBS = ("tier re-evaluation", "reminder dispatch", "complaint escalation")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _member(i: int, due: int, members: int) -> dict[str, Any]:
    from vipcare.store.tiers import review_keys

    mid = f"m{i:07d}"
    stamp = "2026-01-01T00:00:00.000000+0000"
    day, month = 1 + i % 28, 1 + (i // 28) % 10  # not today: Jan..Oct
    bday = "1123" if i < due else f"{month:02d}{day:02d}"
    item: dict[str, Any] = {
        "pk": {"S": f"BRAND#{BRAND}#MEMBER#{mid}"}, "sk": {"S": "PROFILE"}, "member_id": {"S": mid},
        "brand_id": {"S": BRAND}, "store_id": {"S": STORE}, "member_no": {"S": f"BENCH-S1-{i:07d}"},
        "name": {"S": "Bench"}, "phone": {"S": f"+86139{i:08d}"}, "tier": {"S": "regular"},
        "consent": {"M": {"sms_marketing": {"BOOL": i < due}, "updated_at": {"S": stamp}, "source": {"S": "bench"}}},
        "birthday": {"S": f"1990-{bday[:2]}-{bday[2:]}"}, "bday_key": {"S": f"BDAY#S#{bday}"},
        "enrolled_at": {"S": stamp}, "updated_at": {"S": stamp},
    }
    if i < due:  # gold since 2026-11-23, nothing bought since: the review (warning) date is past
        keys = review_keys(BRAND, mid, datetime(2027, 10, 23, 16, tzinfo=UTC))
        item.update(tier={"S": "gold"}, tier_since={"S": "2026-11-23"}, tier_valid_until={"S": "2027-11-23"},
                    manager_id={"S": "mgr"})
    elif i < members // 4:  # silver with a review months ahead: in the index, not due
        keys = review_keys(BRAND, mid, datetime(2028, 8, 1, tzinfo=UTC))
        item.update(tier={"S": "silver"}, tier_since={"S": "2027-09-01"}, tier_valid_until={"S": "2028-09-01"})
    else:
        return item
    assert keys is not None
    item.update(review_pk={"S": keys[0]}, review_sk={"S": keys[1]})
    return item


def _load(members: int, due: int) -> None:
    from vipcare.config import settings
    from vipcare.store.clients import dynamodb_client

    client, table = dynamodb_client(), settings().members_table
    batch: list[dict[str, Any]] = []
    for i in range(members):
        batch.append({"PutRequest": {"Item": _member(i, due, members)}})
        if len(batch) == 25 or i == members - 1:
            request: dict[str, Any] = {table: batch}
            while request:
                request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
            batch = []
    for i in range(due):  # the figures of the due members (a year-old purchase)
        stats = {"pk": {"S": f"BRAND#{BRAND}#MEMBER#m{i:07d}"}, "sk": {"S": "STATS"},
                 "spend": {"M": {"2026-11": {"S": "20000"}}}, "purchases": {"M": {"2026-11": {"N": "1"}}},
                 "version": {"N": "1"}}
        client.put_item(TableName=table, Item=stats)


def _directory_and_complaints(due: int) -> None:
    from vipcare import wiring
    from vipcare.api.models.complaints import ComplaintCreate
    from vipcare.api.models.directory import StaffCreate, StoreCreate
    from vipcare.domain.access import Caller, Role
    from vipcare.services import complaints, directory

    admin = Caller(staff_id="admin", brand_id=BRAND, store_id=STORE, role=Role.ADMIN)
    d, c = wiring.directory(), wiring.complaint_routing()
    directory.create_store(admin, StoreCreate(store_id=STORE, name=STORE), now=OPENED, directory=d.directory)
    for staff_id, role, sup in (("vp", Role.VICE_PRESIDENT, None), ("dept", Role.DEPARTMENT_HEAD, "vp"),
                                ("sup", Role.SUPERVISOR, "dept"), ("mgr", Role.MANAGER, "sup")):
        directory.create_staff(admin, StaffCreate(staff_id=staff_id, name=staff_id, role=role, store_id=STORE,
                                                  supervisor_id=sup), now=OPENED, directory=d.directory)
    for i in range(due):
        complaints.file_complaint(admin, ComplaintCreate(
            member_id=f"m{i:07d}", store_id=STORE, channel="hotline", category="service_attitude",
            severity="high", description="bench"), now=OPENED, members=c.members, directory=c.directory,
            complaints=c.complaints, notifier=c.notifier, events=c.events)


def _metered(run) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from tests.bench.ddb_meter import metered
    from vipcare.store.clients import dynamodb_client

    with metered(dynamodb_client()) as meter:
        cpu = time.process_time()
        outcome = run()
        cpu = time.process_time() - cpu
    return {"requests": meter.total_requests, "ops": dict(meter.requests), "items_read": meter.items_read,
            "rcu": meter.read_units, "wcu": meter.write_units, "cpu_s": cpu, "outcome": outcome}


_MOTO = """
import sys, time
from infra.local.moto_speedups import install
from moto.server import ThreadedMotoServer
install()
ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False).start()
time.sleep(24 * 3600)
"""


def _moto_process(port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", _MOTO, str(port)], cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("moto server did not start")


def world(members: int, due: int) -> dict[str, Any]:
    """Builds one world and runs the three jobs in it (call in a fresh process)."""
    import atexit
    import os

    from infra.local.stack import FAKE_AWS_ENV, LocalStack

    stack = LocalStack(moto_port=_free_port())
    moto = _moto_process(stack.moto_port)
    atexit.register(moto.kill)
    os.environ.update(FAKE_AWS_ENV)
    os.environ["AWS_ENDPOINT_URL"] = stack.endpoint
    stack.create_resources()
    stack.apply_function_environment()
    from infra.local.lambdas import LambdaContext, handler_for
    from infra.local.local_routes import scheduled_event
    from tests.support.queues import drain
    from vipcare import wiring
    from vipcare.services import complaints, reminders
    from vipcare.wiring import care

    _load(members, due)
    _directory_and_complaints(due)

    def tier_job() -> str:
        handler_for("functions/tier_reevaluation/", "app.handler")(scheduled_event(TIER_RUN_AT), LambdaContext())
        return f"shard messages {drain(only={'TierReevaluationFunction'})}"

    def reminder_job() -> str:
        return f"sent {reminders.run_dispatch(OPENED, care()).outcomes.get('sent', 0)}"

    def escalation_job() -> str:
        c = wiring.complaint_routing()
        run = complaints.run_escalations(ESCALATE_AT, complaints=c.complaints, directory=c.directory,
                                         notifier=c.notifier, events=c.events)
        return f"escalated {run.as_dict()['escalated']}"

    return {"members": members, "due": due,
            "jobs": dict(zip(JOBS, (_metered(tier_job), _metered(reminder_job), _metered(escalation_job)),
                             strict=True))}


def run_world(members: int, due: int) -> dict[str, Any]:
    """One world in a fresh process (its own moto server and module caches)."""
    proc = subprocess.run([sys.executable, "-m", "tests.bench.job_scaling", "--world", str(members),
                           "--due", str(due)], capture_output=True, text=True, cwd=ROOT, check=False)
    if proc.returncode:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(sizes: list[int], due: int) -> list[dict[str, Any]]:
    return [run_world(members, due) for members in sizes]


def report(worlds: list[dict[str, Any]]) -> str:
    lines = [f"Scheduled jobs, the same {worlds[0]['due']} due, growing member count (moto in its own "
             "process; target: largest / smallest <= 1.1x)",
             f"{'job':<22} {'members':>8} {'requests':>9} {'items read':>11} {'RCU':>8} {'WCU':>8} "
             f"{'CPU s':>7}  outcome"]
    for job in JOBS:
        rows = [(w["members"], w["jobs"][job]) for w in worlds]
        for members, r in rows:
            lines.append(f"{job:<22} {members:>8} {r['requests']:>9} {r['items_read']:>11} {r['rcu']:>8.1f} "
                         f"{r['wcu']:>8.1f} {r['cpu_s']:>7.3f}  {r['outcome']}")
        small, big = rows[0][1], rows[-1][1]

        def ratio(key: str, big: dict = big, small: dict = small) -> str:
            return f"{big[key] / small[key]:.2f}x" if small[key] else ("1.00x" if not big[key] else "n/a")

        lines.append(f"{'':<22} {'ratio':>8} {ratio('requests'):>9} {ratio('items_read'):>11} {ratio('rcu'):>8} "
                     f"{ratio('wcu'):>8} {ratio('cpu_s'):>7}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--due", type=int, default=100)
    parser.add_argument("--world", type=int, help=argparse.SUPPRESS)  # internal: build one world, print JSON
    args = parser.parse_args(argv)
    if args.world:
        print(json.dumps(world(args.world, args.due), default=str))
        return 0
    print(report(measure(args.sizes, args.due)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

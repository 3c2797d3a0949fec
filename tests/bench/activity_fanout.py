"""An activity's invitations cost the same per member at any audience size:
`python -m tests.bench.activity_fanout [--audiences 10000,100000]`.

For each audience size, that many members of store s-001 (nine in ten consent to marketing
SMS), written as enrolment writes them (store.members / store.ledger mappings) with
BatchWriteItem into in-process moto. One activity of the store invites them all: the hourly
job starts the fan-out, then every slice message is delivered to the worker (as the queue's
poller would) until the audience is done. Metered: DynamoDB requests and write units per
invitation, slices, the SQS messages the fan-out used, and the largest slice's requests (what
one invocation does, bounded by SLICE whatever the audience).

Each audience runs in a fresh process (its own moto and module caches; `--jobs 2` runs two at
once), which prints its row as JSON; this process prints the table. moto's DynamoDB is made
proportional to what each request names (infra/local/moto_speedups.py: a Query reads its
partition, a transaction backs up what it touches), or every Query and every invitation's
transaction would cost time in proportion to the table."""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

STORE = "s-001"
ROOT = Path(__file__).resolve().parents[2]


def _items(n: int, now: datetime) -> list[dict[str, Any]]:
    from vipcare.domain.members import Consent, Member, Tier
    from vipcare.domain.stats import MemberStats
    from vipcare.store.ledger import stats_item
    from vipcare.store.members import _to_item

    member_id = f"a{n:07d}"
    enrolled = now - timedelta(days=400)
    m = Member(member_id=member_id, brand_id="bench", store_id=STORE, member_no=f"N{n:07d}", name=f"Member {n}",
               phone=f"+86139{n:08d}", enrolled_at=enrolled, updated_at=enrolled,
               consent=Consent(sms_marketing=n % 10 != 0, updated_at=enrolled, source="bench"),
               birthday=date(1980, 1 + n % 12, 1 + n % 28), tier=Tier.REGULAR)
    last = now - timedelta(days=30)
    stats = MemberStats(spend={f"{last:%Y-%m}": Decimal("300")}, purchases={f"{last:%Y-%m}": 1},
                        last_purchase_at=last, since=enrolled)
    return [_to_item(m).serialize(), stats_item("bench", member_id, stats).serialize()]


def _seed(audience: int, now: datetime) -> None:
    from vipcare.config import settings
    from vipcare.store.clients import dynamodb_client

    client, table = dynamodb_client(), settings().members_table
    batch: list[dict[str, Any]] = []
    for n in range(audience):
        batch += _items(n, now)
        if len(batch) >= 24:
            client.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": i}} for i in batch]})
            batch = []
    if batch:
        client.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": i}} for i in batch]})


def measure(audience: int) -> dict[str, Any]:
    import tests.conftest  # noqa: F401 - fake credentials and the functions' environment
    from tests.bench.ddb_meter import metered
    from tests.support.aws import mocked_aws
    from tests.support.queues import take_messages
    from vipcare import wiring
    from vipcare.domain.access import Caller, Role
    from vipcare.domain.activities import ActivityKind
    from vipcare.domain.directory import Store
    from vipcare.domain.segments import MemberFilters
    from vipcare.services import activities
    from vipcare.store.care_settings import CareSettingsRepository
    from vipcare.store.clients import dynamodb_client
    from vipcare.store.directory import DirectoryRepository

    shanghai = __import__("zoneinfo").ZoneInfo("Asia/Shanghai")
    today = datetime.now(UTC).astimezone(shanghai).date()
    send = datetime.combine(today, datetime.min.time(), tzinfo=shanghai).replace(hour=10)
    caller = Caller(staff_id="sup", brand_id="bench", store_id=None, role=Role.SUPERVISOR)
    with mocked_aws():
        DirectoryRepository().add_store(Store(brand_id="bench", store_id=STORE, name="S1", code="001",
                                              timezone="Asia/Shanghai", created_at=send))
        # the deployment's daily SMS budget would pause a large fan-out until tomorrow
        CareSettingsRepository().put_settings("bench", {"daily_budget": 10 * audience}, send)
        _seed(audience, send)
        gc.freeze()  # the seeded world lives to the end: keep it out of every later collection
        deps = wiring.activities()
        a = activities.create_activity(caller, activities.NewActivity(
            name="Launch", kind=ActivityKind.LAUNCH, store_id=STORE, starts_at=send + timedelta(days=3),
            ends_at=send + timedelta(days=3, hours=2), capacity=None, segment_id=None, filters=MemberFilters(),
            text="{name}, new arrivals on {date}", send_at=send), now=send - timedelta(days=1), deps=deps)
        slices, messages, largest = 0, 0, 0
        started = time.perf_counter()
        with metered(dynamodb_client()) as m:
            activities.run_due(send, deps)
            while batch := take_messages("InvitationsQueue"):
                for body in batch:
                    before = m.total_requests
                    activities.invite_slice(body, now=send, deps=deps)
                    slices, messages = slices + 1, messages + 1
                    largest = max(largest, m.total_requests - before)
                    if slices % 50 == 0:
                        print(f"audience {audience}: {slices} slices, {time.perf_counter() - started:.0f} s",
                              file=sys.stderr, flush=True)
        seconds = time.perf_counter() - started
        gc.unfreeze()
        done = deps.activities.get("bench", a.activity_id)
        assert done is not None
        sent = done.counts.sent
        return {"audience": audience, "members": done.counts.audience, "sent": sent,
                "suppressed": done.counts.suppressed, "stage": done.stage.value, "slices": slices,
                "sqs_messages": messages, "requests": m.total_requests, "write_units": round(m.write_units, 1),
                "read_units": round(m.read_units, 1), "largest_slice_requests": largest,
                "requests_per_member": round(m.total_requests / max(1, done.counts.audience), 2),
                "requests_per_invitation": round(m.total_requests / max(1, sent), 2),
                "wcu_per_invitation": round(m.write_units / max(1, sent), 2),
                "rcu_per_invitation": round(m.read_units / max(1, sent), 2),
                "operations": dict(m.requests), "seconds": round(seconds, 1),
                "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}


def report(rows: list[dict[str, Any]]) -> str:
    lines = ["Activity invitations fanned out in slices (SLICE members a worker invocation), metered DynamoDB",
             f"{'audience':>9} {'sent':>7} {'slices':>7} {'req/invite':>11} {'WCU/invite':>11} {'RCU/invite':>11} "
             f"{'max req/slice':>14} {'stage':>8}"]
    for r in rows:
        lines.append(f"{r['audience']:>9} {r['sent']:>7} {r['slices']:>7} {r['requests_per_invitation']:>11} "
                     f"{r['wcu_per_invitation']:>11} {r['rcu_per_invitation']:>11} {r['largest_slice_requests']:>14} "
                     f"{r['stage']:>8}")
    if len(rows) > 1:
        small, large = rows[0], rows[-1]
        lines.append(f"ratio {large['audience']}/{small['audience']} per invitation: requests "
                     f"{large['requests_per_invitation'] / small['requests_per_invitation']:.2f}x, write units "
                     f"{large['wcu_per_invitation'] / small['wcu_per_invitation']:.2f}x, largest slice "
                     f"{large['largest_slice_requests'] / max(1, small['largest_slice_requests']):.2f}x")
    return "\n".join(lines)


def measure_fresh(audience: int) -> dict[str, Any]:
    """`measure` in a fresh process."""
    proc = subprocess.run([sys.executable, "-m", "tests.bench.activity_fanout", "--one", str(audience)],
                          stdout=subprocess.PIPE, text=True, cwd=ROOT, check=False)
    if proc.returncode:
        raise RuntimeError(f"audience {audience}: exit {proc.returncode}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--audiences", default="10000,100000")
    parser.add_argument("--jobs", type=int, default=1, help="audiences measured at once, each in its own process")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one audience here, its row as JSON
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one)))
        return 0
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(measure_fresh, [int(n) for n in args.audiences.split(",")]))
    print(report(rows))
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The day loop: the process clock moved to each moment (time-machine), API requests at their
moment (requestTimeEpoch), every scheduled job at each of its firings (the event's `time`),
and the queues drained to their consumers after each step, as Lambda's poller would."""

from __future__ import annotations

import contextlib
import heapq
import io
import os
import random
import time as wall
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from infra.local.lambdas import LambdaContext, handler_for

from . import schedules
from . import world as w

T = TypeVar("T")
ADMIN = {"sub": "00000000-0000-0000-0000-000000000000", "cognito:username": "demo.demo-001-admin",
         "custom:brand_id": "demo", "custom:store_id": "demo-001", "custom:role": "admin",
         "custom:staff_id": "demo-001-admin", "token_use": "id"}


@dataclass
class Run:
    """What the drive did: the members it enrolled (person key -> member id), the sales and
    returns it posted, the complaints it filed (id -> filed at), API answers that were not 2xx."""

    first: datetime
    end: datetime
    members: dict[int, str] = field(default_factory=dict)
    sales: list[w.Sale] = field(default_factory=list)
    returns: list[w.Return] = field(default_factory=list)
    complaints: dict[str, datetime] = field(default_factory=dict)
    contacts: int = 0
    job_runs: dict[str, int] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    seconds: float = 0.0


@contextlib.contextmanager
def simulated_aws(start: datetime, *, with_iam: bool = False) -> Iterator[Callable[[datetime], None]]:
    """In-process moto with the template's resources, each function under its own role, the
    process clock stopped at `start`; yields `move(moment)`, which moves it."""
    import boto3
    import time_machine
    from moto import mock_aws

    from infra.local import iam, moto_speedups, resources, template
    from infra.local.lambdas import ensure_layer_on_path
    from infra.local.stack import FAKE_AWS_ENV

    os.environ.update(FAKE_AWS_ENV)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    for key in ("POWERTOOLS_TRACE_DISABLED", "POWERTOOLS_METRICS_DISABLED"):
        os.environ.setdefault(key, "true")
    os.environ["POWERTOOLS_LOG_LEVEL"] = os.environ.get("VIPCARE_LOG_LEVEL", "ERROR")
    os.environ["VIPCARE_LOCAL_RETRY_SECONDS"] = "0"
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # no CloudWatch here: no metric lines on stdout
    names = resources.physical_names() | {"StaffUserPool": "local", "StaffUserPoolClient": "local"}
    for fn in template.functions():
        for key, value in template.function_environment(fn, names).items():
            os.environ.setdefault(key, value)
    ensure_layer_on_path()
    moto_speedups.install()

    def client(service: str) -> Any:
        return boto3.client(service, region_name="us-east-1")  # type: ignore[call-overload]

    with time_machine.travel(start, tick=False) as traveller, mock_aws():
        names = resources.create_all(client)
        if with_iam:  # each function under its own role: a third slower, so a choice
            iam.enforce(client, names)
        try:
            yield traveller.move_to
        finally:
            iam.relax()


def drain() -> int:
    """Deliver every queued message to its function until the queues are empty."""
    import boto3

    from infra.local import resources
    from infra.local.poller import QueuePoller, subscriptions

    poller = QueuePoller(boto3.client("sqs", region_name="us-east-1"), resources.physical_names(),
                         log=lambda _: None)
    delivered = 0
    for _ in range(100):
        moved = 0
        for sub in subscriptions():
            got = poller.poll_once(sub)
            DELIVERED[sub.function] = DELIVERED.get(sub.function, 0) + got
            moved += got
        if not moved:
            break
        delivered += moved
    return delivered


DELIVERED: dict[str, int] = {}  # messages delivered per function, for the run's figures


def call(method: str, path: str, body: Any, at: datetime) -> tuple[int, Any]:
    from tests.support.api import call as api_call

    r = api_call(method, path, body, claims=ADMIN, at=at)
    return r.status, r.body


def drive(world: w.World, after: Callable[[Run], T], *, log: Callable[[str], None] = lambda _: None,
          with_iam: bool = False) -> tuple[Run, T]:
    """Run the world day by day (every `now` the simulated moment), then `after(run)` while the
    simulated AWS still holds what the run left."""
    started = wall.monotonic()
    first = w.local(world.first_day, 0).astimezone(UTC)
    end = first + timedelta(days=world.days)
    run = Run(first, end)
    jobs = schedules.schedules()
    with simulated_aws(first - timedelta(hours=1), with_iam=with_iam) as move:
        from infra.local.demo import seed_directory

        seed_directory(first - timedelta(hours=1), random.Random(world.seed))
        steps: list[tuple[datetime, int, Callable[[], None]]] = []  # later days' steps wait here
        order = 0

        def add(at: datetime, step: Callable[[], None]) -> None:
            nonlocal order
            order += 1
            heapq.heappush(steps, (at.astimezone(UTC), order, step))

        for n in range(world.days):
            day = world.day(n)
            day_start = w.local(day.day, 0).astimezone(UTC)
            day_end = day_start + timedelta(days=1)
            for s in jobs:
                for at in schedules.firings(s, day_start, day_start + timedelta(days=1)):
                    add(at, partial(_fire, s, at, run))
            for p in day.joins:
                add(w.local(day.day, 9, 30), partial(_enrol, p, run))
            for sale in day.sales:
                add(sale.at, partial(_sell, sale, run))
            for ret in day.returns:
                add(ret.at, partial(_return, ret, run))
            for c in day.complaints:
                add(c.at, partial(_complain, c, run, add))
            gold_plus = _gold_plus(run)
            for contact in world.contacts(day.day, gold_plus):
                add(contact.at, partial(_contact, contact, run))
            while steps and steps[0][0] < day_end:
                at, _, step = heapq.heappop(steps)
                move(at)
                with contextlib.redirect_stdout(io.StringIO()):  # powertools' metric lines: no CloudWatch here
                    step()
                    drain()
            log(f"{day.day}: {len(run.members)} members, {len(run.sales)} sales, {len(run.complaints)} complaints "
                f"({wall.monotonic() - started:.0f}s)")
        move(end)
        run.seconds = wall.monotonic() - started
        return run, after(run)


def _fire(s: schedules.Schedule, at: datetime, run: Run) -> None:
    handler_for(s.code_uri, s.handler)(schedules.scheduled_event(s, at), LambdaContext(function_name=s.function))
    run.job_runs[s.function] = run.job_runs.get(s.function, 0) + 1


def _check(run: Run, what: str, status: int, body: Any) -> bool:
    if status // 100 != 2:
        run.refused.append(f"{what}: {status} {body}")
        return False
    return True


def _at() -> datetime:
    return datetime.now(UTC)  # the moved clock: the moment this step happens


def _enrol(p: w.Person, run: Run) -> None:
    body = {"name": p.name, "phone": p.phone, "store_id": p.store_id, "birthday": p.birthday.isoformat(),
            "birthday_lunar": p.lunar, "anniversary": p.anniversary.isoformat() if p.anniversary else None,
            "consent": {"sms_marketing": p.consent}}
    status, doc = call("POST", "/members", body, _at())
    if _check(run, f"enrol {p.key}", status, doc):
        run.members[p.key] = doc["member_id"]


def _purchase(member_id: str, txn: str, store_id: str, amount: str, at: datetime, **extra: Any) -> dict:
    return {"transaction_id": txn, "store_id": store_id, "member_id": member_id, "amount": amount,
            "currency": "CNY", "items": 1, "occurred_at": at.astimezone(UTC).isoformat(), **extra}


def _sell(sale: w.Sale, run: Run) -> None:
    if (member_id := run.members.get(sale.person)) is None:
        return
    status, doc = call("POST", "/purchases", _purchase(member_id, sale.transaction_id, sale.store_id,
                                                       str(sale.amount), sale.at, kind="sale"), _at())
    if _check(run, f"sale {sale.transaction_id}", status, doc):
        run.sales.append(sale)


def _return(ret: w.Return, run: Run) -> None:
    if (member_id := run.members.get(ret.person)) is None or ret.original not in run.sales:
        return
    status, doc = call("POST", "/purchases", _purchase(
        member_id, ret.transaction_id, ret.original.store_id, str(ret.amount), ret.at, kind="return",
        original_transaction_id=ret.original.transaction_id), _at())
    if _check(run, f"return {ret.transaction_id}", status, doc):
        run.returns.append(ret)


def _complain(c: w.Complaint, run: Run, add: Callable[[datetime, Callable[[], None]], None]) -> None:
    if (member_id := run.members.get(c.person)) is None:
        return
    body = {"member_id": member_id, "store_id": w.STORES[c.person % len(w.STORES)], "channel": "store",
            "category": "service_attitude", "severity": "medium", "description": "simulated complaint"}
    status, doc = call("POST", "/complaints", body, _at())
    if not _check(run, f"complaint of {c.person}", status, doc):
        return
    complaint_id = doc["complaint_id"]
    run.complaints[complaint_id] = c.at
    if c.ack_after is not None:
        add(c.at + c.ack_after, partial(_act, run, complaint_id, "acknowledge", {}))
    if c.resolve_after is not None:
        add(c.at + c.resolve_after, partial(_act, run, complaint_id, "resolve", {"resolution": "sorted out"}))


def _act(run: Run, complaint_id: str, action: str, body: dict) -> None:
    status, doc = call("POST", f"/complaints/{complaint_id}/{action}", body, _at())
    if status == 409:
        return  # already past this step (escalated cases keep going): not an error of the drive
    _check(run, f"{action} {complaint_id}", status, doc)


def _contact(c: w.Contact, run: Run) -> None:
    member_id = run.members[c.person]
    body: dict[str, Any] = {"contacted_on": c.at.date().isoformat(), "channel": "visit", "notes": "simulated"}
    if c.nps is not None:
        body["nps"] = c.nps
    status, doc = call("POST", f"/members/{member_id}/contacts", body, _at())
    if _check(run, f"contact {member_id}", status, doc):
        run.contacts += 1


def _gold_plus(run: Run) -> list[int]:
    from vipcare.store.members import MemberRepository

    if not run.members:
        return []
    by_id = {m: k for k, m in run.members.items()}
    cards = MemberRepository().profiles(("demo", m) for m in by_id)
    return [by_id[c.member_id] for c in cards if c.tier in ("gold", "diamond")]

"""Dollars per million purchases and per 100,000 members a month, from figures measured in
this run and the dated list prices in tests/bench/prices.py.

Measured here: the DynamoDB requests and units of a sale (intake + consumer, the meter), the
consumer's CPU per purchase with the store faked (handler_cpu), the intake's CPU per request
(in-process against moto, so an upper bound: moto's own work is included), and each
scheduled job's cost per run and per due member (job_scaling worlds with 0 and N due).
Assumed, and printed: the latency each AWS call adds to billed duration, how many members are
due or celebrating per day, the share of purchases that upgrade a tier.

    python -m tests.bench.cost_model
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.bench import prices as P

MEMBERS = 100_000
DUE_SAMPLE = 20
ASSUMPTIONS = {
    "tier reviews due per day": ("1% of members", MEMBERS // 100),
    "birthday messages per month": ("members x 30/365, all consenting", MEMBERS * 30 // 365),
    "complaint escalations per month": ("0.1% of members", MEMBERS // 1000),
    "purchases that upgrade a tier": ("1%", 0.01),
}
RUNS_PER_MONTH = {"tier re-evaluation": 30 * 24, "reminder dispatch": 30 * 24, "complaint escalation": 30 * 24 * 4}
TIER_SHARDS = 16  # each tier run fans out to one worker invocation per review shard


def _memory_gb() -> float:
    from infra.local import template

    return float(template.load()["Globals"]["Function"]["MemorySize"]) / 1024


def _lambda_cost(invocations: float, cpu_s: float, aws_calls: float) -> float:
    seconds = cpu_s + aws_calls * P.ASSUMED_AWS_CALL_MS / 1000
    return invocations * P.LAMBDA_PER_MILLION_REQUESTS / 1e6 + seconds * _memory_gb() * P.LAMBDA_ARM64_PER_GB_SECOND


def _dynamodb_cost(rcu: float, wcu: float) -> float:
    return rcu * P.DYNAMODB_PER_MILLION_READ_UNITS / 1e6 + wcu * P.DYNAMODB_PER_MILLION_WRITE_UNITS / 1e6


def _intake_cpu_ms(samples: int = 200) -> float:
    """CPU per POST /purchases through the handler, in-process against moto (upper bound)."""
    import tests.conftest  # noqa: F401 - fake credentials and the functions' environment
    from tests.support.api import ADMIN, call, enrol
    from tests.support.aws import mocked_aws

    occurred = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    with mocked_aws():
        call("POST", "/stores", {"store_id": "demo-001", "name": "Demo"}, claims=ADMIN)
        member_id = enrol().body["member_id"]
        body = {"store_id": "demo-001", "member_id": member_id, "kind": "sale", "amount": "100.00",
                "currency": "CNY", "items": 1, "occurred_at": occurred}
        call("POST", "/purchases", {**body, "transaction_id": "warm"}, claims=ADMIN)
        started = time.process_time()
        for i in range(samples):
            call("POST", "/purchases", {**body, "transaction_id": f"T{i}"}, claims=ADMIN)
        return (time.process_time() - started) / samples * 1000


def measure() -> dict[str, Any]:
    import tests.conftest  # noqa: F401 - first: the models read their table names at import
    from tests.bench import cost_per_event, handler_cpu, job_scaling

    events = dict(cost_per_event.measure())
    intake, applied = events["purchase intake (POST /purchases, 1 row)"], events["sale applied (consumer)"]
    consumer_ms = handler_cpu.measure(2000, 200)["ms_per_purchase"]
    intake_ms = _intake_cpu_ms()
    idle, busy = job_scaling.run_world(2000, 0), job_scaling.run_world(2000, DUE_SAMPLE)
    jobs = {}
    for job in job_scaling.JOBS:
        fixed, total = idle["jobs"][job], busy["jobs"][job]
        per_due = {k: (total[k] - fixed[k]) / DUE_SAMPLE for k in ("requests", "rcu", "wcu", "cpu_s")}
        jobs[job] = {"fixed": {k: fixed[k] for k in per_due}, "per_due": per_due}
    return {"intake": intake, "applied": applied, "consumer_ms": consumer_ms, "intake_ms": intake_ms, "jobs": jobs}


def per_million_purchases(m: dict[str, Any]) -> dict[str, float]:
    n = 1_000_000
    intake, applied = m["intake"], m["applied"]
    upgrade_share = ASSUMPTIONS["purchases that upgrade a tier"][1]
    return {
        "API Gateway (REST)": n * P.API_GATEWAY_REST_PER_MILLION / 1e6,
        # intake: one invocation a purchase; its DynamoDB reads plus one SQS send
        "Lambda intake": _lambda_cost(n, n * m["intake_ms"] / 1000, n * (intake.total_requests + 1)),
        # consumer: batches of 10 (template BatchSize), the sale's DynamoDB requests per purchase
        "Lambda consumer": _lambda_cost(n / 10, n * m["consumer_ms"] / 1000, n * applied.total_requests),
        "DynamoDB": _dynamodb_cost(n * (intake.read_units + applied.read_units),
                                   n * (intake.write_units + applied.write_units)),
        # a send per purchase; a receive and a batch delete per 10
        "SQS": n * 1.2 * P.SQS_STANDARD_PER_MILLION_REQUESTS / 1e6,
        "EventBridge (TierChanged)": n * upgrade_share * P.EVENTBRIDGE_CUSTOM_EVENTS_PER_MILLION / 1e6,
    }


def per_100k_members_month(m: dict[str, Any]) -> tuple[dict[str, float], float, int]:
    due_per_run = {
        "tier re-evaluation": ASSUMPTIONS["tier reviews due per day"][1] / 24,
        "reminder dispatch": ASSUMPTIONS["birthday messages per month"][1] / RUNS_PER_MONTH["reminder dispatch"],
        "complaint escalation": ASSUMPTIONS["complaint escalations per month"][1]
        / RUNS_PER_MONTH["complaint escalation"],
    }
    out = {}
    for job, runs in RUNS_PER_MONTH.items():
        fixed, per_due = m["jobs"][job]["fixed"], m["jobs"][job]["per_due"]
        run = {k: fixed[k] + per_due[k] * due_per_run[job] for k in fixed}
        invocations = runs * (1 + TIER_SHARDS if job == "tier re-evaluation" else 1)
        out[f"{job}: Lambda"] = _lambda_cost(invocations, runs * run["cpu_s"], runs * run["requests"])
        out[f"{job}: DynamoDB"] = _dynamodb_cost(runs * run["rcu"], runs * run["wcu"])
    sms = ASSUMPTIONS["birthday messages per month"][1]
    return out, sms * P.SMS_CHINA_PER_MESSAGE, sms


def report(m: dict[str, Any]) -> str:
    lines = [f"Cost model (prices: {P.PRICES_AS_OF}; Lambda arm64 {_memory_gb() * 1024:.0f} MB; "
             f"each AWS call adds {P.ASSUMED_AWS_CALL_MS:.0f} ms of billed duration, assumed)",
             f"measured: sale intake {m['intake'].total_requests} requests {m['intake'].read_units:.1f} RCU "
             f"{m['intake'].write_units:.1f} WCU, intake CPU {m['intake_ms']:.2f} ms (upper bound); consumer "
             f"{m['applied'].total_requests} requests {m['applied'].read_units:.1f} RCU "
             f"{m['applied'].write_units:.1f} WCU, consumer CPU {m['consumer_ms']:.3f} ms"]
    per_event = {"tier re-evaluation": "a tier decision", "reminder dispatch": "a reminder sent",
                 "complaint escalation": "an escalation"}
    for job, name in per_event.items():
        d, f = m["jobs"][job]["per_due"], m["jobs"][job]["fixed"]
        lines.append(f"measured: {name} adds {d['requests']:.1f} requests {d['rcu']:.1f} RCU {d['wcu']:.1f} WCU "
                     f"{d['cpu_s'] * 1000:.1f} ms CPU to a {job} run (a run with nothing due: "
                     f"{f['requests']:.0f} requests {f['rcu']:.1f} RCU)")
    purchases = per_million_purchases(m)
    lines.append(f"{'per 1,000,000 purchases':<40} {'USD':>10}")
    lines += [f"  {k:<38} {v:>10.2f}" for k, v in purchases.items()]
    lines.append(f"  {'total':<38} {sum(purchases.values()):>10.2f}")
    jobs, sms_cost, sms = per_100k_members_month(m)
    lines.append(f"{'per 100,000 members a month (jobs)':<40} {'USD':>10}")
    lines += [f"  {k:<38} {v:>10.4f}" for k, v in jobs.items()]
    lines.append(f"  {'total (without SMS)':<38} {sum(jobs.values()):>10.4f}")
    lines.append(f"  {'SMS, separately: ' + format(sms, ',') + ' messages':<38} {sms_cost:>10.2f}")
    lines.append("assumed: " + "; ".join(f"{k}: {v[0]}" for k, v in ASSUMPTIONS.items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    with contextlib.redirect_stdout(io.StringIO()):  # the functions' metric lines (EMF) are not the report
        measured = measure()
    print(report(measured))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Cold init per function, against `import boto3; boto3.client("dynamodb")` in the same run.

Each sample is a fresh Python process that imports `functions/<name>/app.py` (the layer on
sys.path, as in Lambda) and builds the AWS clients its first request needs. Printed: the
median over --runs processes, the ratio to the baseline, and the peak RSS at the end of init.

    python -m tests.bench.cold_start [--runs 9]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# What each function's first request touches (pynamodb models and other lazily-built clients).
FIRST_REQUEST = {
    "enrollment": {"models": ["MemberItem"], "idempotency": True},
    "directory": {"models": ["StoreItem"], "idempotency": False},
    "purchase_api": {"models": ["MemberItem"], "idempotency": False},
    "purchase_ingestion": {"models": ["MemberItem"], "idempotency": False},
    "complaint_routing": {"models": ["ComplaintItem"], "idempotency": True, "sns": True},
    "reminder_dispatch": {"models": ["MemberItem"], "idempotency": False, "sns": True},
    "care_api": {"models": ["MemberItem"], "idempotency": True},
    "tier_reevaluation": {"models": ["MemberItem"], "idempotency": False},
}
# The price of X-Ray SDK subsegments (TRACE_AWS_CALLS=true, off by default: vipcare.tracing).
WITH_SDK_TRACING = ("purchase_api", {"TRACE_AWS_CALLS": "true"})

PROBE = r"""
import json, os, resource, sys, time
os.environ.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1",
                  POWERTOOLS_METRICS_NAMESPACE="bench")
spec = json.loads(sys.argv[1])
os.environ.update(spec.get("env", {}))
t0 = time.perf_counter()
if spec["kind"] == "baseline":
    import boto3
    boto3.client("dynamodb")
else:
    sys.path.insert(0, spec["shared"])
    import importlib.util
    s = importlib.util.spec_from_file_location("app", spec["path"])
    m = importlib.util.module_from_spec(s)
    s.loader.exec_module(m)
    t_import = time.perf_counter()
    from vipcare.store import complaints, models
    for name in spec["models"]:
        (getattr(models, name, None) or getattr(complaints, name))._get_connection().connection.client
    if spec["idempotency"]:
        from vipcare.api import idempotency
        idempotency._persistence()
    if spec.get("sns"):
        from vipcare.notify.sns import sns_client
        sns_client()
t1 = time.perf_counter()
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": t1 - t0, "rss_mb": rss_mb}))
"""


def sample(spec: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(spec)], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(runs: int) -> list[dict]:
    specs = {"baseline (boto3 + dynamodb client)": {"kind": "baseline"}}
    for name, needs in FIRST_REQUEST.items():
        specs[name] = {"kind": "function", "path": str(ROOT / "functions" / name / "app.py"),
                       "shared": str(ROOT / "shared"), **needs}
    name, env = WITH_SDK_TRACING
    specs[f"{name} + X-Ray SDK subsegments"] = {**specs[name], "env": env}
    samples: dict[str, list[dict]] = {name: [] for name in specs}
    for _ in range(runs):  # interleaved, so machine noise hits every row alike
        for name, spec in specs.items():
            samples[name].append(sample(spec))
    base = statistics.median(s["seconds"] for s in samples["baseline (boto3 + dynamodb client)"])
    rows = []
    for name, values in samples.items():
        median = statistics.median(v["seconds"] for v in values)
        rows.append({"name": name, "median_ms": median * 1000, "ratio": median / base,
                     "rss_mb": max(v["rss_mb"] for v in values)})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args(argv)
    rows = measure(args.runs)
    print(f"Cold init, median of {args.runs} fresh processes (target: <= 1.25x baseline, RSS well under 128 MB)")
    print(f"{'function':<36} {'init ms':>8} {'x baseline':>10} {'peak RSS MB':>12}")
    for r in rows:
        print(f"{r['name']:<36} {r['median_ms']:>8.1f} {r['ratio']:>10.2f} {r['rss_mb']:>12.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

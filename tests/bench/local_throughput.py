"""Purchases per second through the local stack: HTTP -> gateway -> intake -> SQS (moto) ->
poller -> consumer, until every purchase reads `applied`. A feel for the developer
experience on this machine, not a production figure (one process, moto, no concurrency).

    python -m tests.bench.local_throughput [--purchases 200]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from tests.bench.job_scaling import ROOT, _free_port


def _start(api_port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "infra.local", "--api-port", str(api_port), "--moto-port",
                             str(_free_port()), "--no-demo"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    for line in proc.stdout:  # the stack prints READY once it serves
        if line.startswith("READY ") or time.monotonic() > deadline:
            break
    # keep reading its log, or the pipe fills and the stack stalls
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    return proc


def _wait_applied(url: str, token: str, store: str, ids: list[str], timeout: float = 300) -> int:
    deadline, pending = time.monotonic() + timeout, list(ids)
    while pending and time.monotonic() < deadline:
        r = requests.get(f"{url}/purchases/{store}/{pending[-1]}", headers={"Authorization": token}, timeout=30)
        if r.status_code == 200 and r.json()["status"] == "applied":
            pending = [t for t in pending if requests.get(
                f"{url}/purchases/{store}/{t}", headers={"Authorization": token},
                timeout=30).json().get("status") != "applied"]
        else:
            time.sleep(0.05)
    return len(ids) - len(pending)


def measure(purchases: int) -> dict[str, Any]:
    api_port = _free_port()
    proc = _start(api_port)
    url = f"http://127.0.0.1:{api_port}"
    try:
        token = requests.post(f"{url}/_local/token", json={"brand_id": "bench", "role": "admin",
                                                            "store_id": "s1"}, timeout=10).json()["token"]
        auth = {"Authorization": token}
        requests.post(f"{url}/stores", json={"store_id": "s1", "name": "Bench"}, headers=auth, timeout=30)
        member = requests.post(f"{url}/members", json={"name": "Bench", "phone": "13900000001", "store_id": "s1"},
                               headers=auth, timeout=30).json()["member_id"]
        at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()

        def row(txn: str) -> dict[str, Any]:
            return {"transaction_id": txn, "store_id": "s1", "member_id": member, "kind": "sale", "amount": "10.00",
                    "currency": "CNY", "items": 1, "occurred_at": at}

        out = {}
        for mode in ("one purchase per request", "batches of 50"):
            ids = [f"{mode[:3]}-{i}" for i in range(purchases)]
            started = time.perf_counter()
            if mode.startswith("one"):
                for t in ids:
                    requests.post(f"{url}/purchases", json=row(t), headers=auth, timeout=30).raise_for_status()
            else:
                for i in range(0, purchases, 50):
                    requests.post(f"{url}/purchases", json={"purchases": [row(t) for t in ids[i:i + 50]]},
                                  headers=auth, timeout=30).raise_for_status()
            accepted = time.perf_counter() - started
            applied = _wait_applied(url, token, "s1", ids)
            total = time.perf_counter() - started
            out[mode] = {"purchases": purchases, "applied": applied, "accepted_per_s": purchases / accepted,
                         "applied_per_s": applied / total}
        return out
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def report(r: dict[str, Any]) -> str:
    lines = ["Local stack throughput (HTTP -> queue -> consumer, moto; developer experience, not production)"]
    for mode, v in r.items():
        lines.append(f"{mode:<26} purchases {v['purchases']:>5}  applied {v['applied']:>5}  "
                     f"accepted {v['accepted_per_s']:>7.1f}/s  applied end to end {v['applied_per_s']:>7.1f}/s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--purchases", type=int, default=200)
    args = parser.parse_args(argv)
    print(report(measure(args.purchases)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""DynamoDB requests and capacity units per business event, measured with the meter
(tests/bench/ddb_meter.py) against moto, tables from template.yaml. The scheduled jobs' events
(a tier decision, a reminder sent, an escalation) are priced per due member by
tests/bench/cost_model.py from the job_scaling worlds.

    python -m tests.bench.cost_per_event
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta

ROWS: list[tuple[str, object]] = []


def measure() -> list[tuple[str, object]]:
    import tests.conftest  # noqa: F401 - fake credentials and the functions' environment
    from tests.bench.ddb_meter import metered
    from tests.support.api import ADMIN, call, enrol
    from tests.support.aws import mocked_aws
    from tests.support.queues import drain
    from vipcare.store.clients import dynamodb_client

    now = datetime.now(UTC) - timedelta(minutes=5)
    rows = []

    def sale(txn: str, amount: str, member_id: str, **extra: object) -> dict:
        return {"transaction_id": txn, "store_id": "demo-001", "member_id": member_id, "kind": "sale",
                "amount": amount, "currency": "CNY", "items": 1, "occurred_at": now.isoformat(), **extra}

    with mocked_aws():
        call("POST", "/stores", {"store_id": "demo-001", "name": "Demo"}, claims=ADMIN)
        client = dynamodb_client()
        with metered(client) as m:
            member_id = enrol().body["member_id"]
        rows.append(("enrol (POST /members)", m))
        with metered(client) as m:
            enrol(phone="13900000001", headers={"Idempotency-Key": "k1"})
        rows.append(("enrol with Idempotency-Key", m))
        call("POST", "/purchases", sale("S0", "100.00", member_id), claims=ADMIN)
        drain()
        with metered(client) as m:
            call("POST", "/purchases", sale("S1", "1000.00", member_id), claims=ADMIN)
        rows.append(("purchase intake (POST /purchases, 1 row)", m))
        with metered(client) as m:
            drain()
        rows.append(("sale applied (consumer)", m))
        earlier = enrol(phone="13900000002", at=now - timedelta(days=40)).body["member_id"]
        call("POST", "/purchases", sale("M1", "100.00", earlier), claims=ADMIN)
        with metered(client) as m:
            drain()
        rows.append(("first sale of a month (activity key moves)", m))
        with metered(client) as m:
            call("POST", "/purchases", sale("S1", "1000.00", member_id), claims=ADMIN)
            drain()
        rows.append(("duplicate sale (intake + consumer)", m))
        call("POST", "/purchases", {**sale("R1", "250.00", member_id), "kind": "return",
                                    "original_transaction_id": "S1"}, claims=ADMIN)
        with metered(client) as m:
            drain()
        rows.append(("return applied (consumer)", m))
        with metered(client) as m:
            call("POST", f"/members/{member_id}/redemptions",
                 {"redemption_id": "D1", "points": 100, "reason": "gift"}, claims=ADMIN)
        rows.append(("redemption", m))
        with metered(client) as m:
            call("GET", f"/members/{member_id}", claims=ADMIN)
        rows.append(("member card (GET /members/{id})", m))
        call("PUT", "/brands/demo/benefits", {"benefits": [
            {"benefit_id": "discount", "name": "Discount", "kind": "discount",
             "tiers": {"regular": {"discount_percent": "2"}}},
            {"benefit_id": "parking", "name": "Parking", "kind": "allowance", "tiers": {"regular": {"quota": 5}}}]},
             claims=ADMIN)
        call("GET", f"/members/{member_id}/benefits", claims=ADMIN)  # the document, cached from here on
        with metered(client) as m:
            call("GET", f"/members/{member_id}/benefits", claims=ADMIN)
        rows.append(("benefits at the till (GET .../benefits)", m))
        with metered(client) as m:
            call("POST", f"/members/{member_id}/benefit-uses",
                 {"use_id": "U1", "benefit_id": "parking", "store_id": "demo-001"}, claims=ADMIN)
        rows.append(("benefit use (POST .../benefit-uses)", m))
        with metered(client) as m:
            call("POST", "/complaints", {"member_id": member_id, "store_id": "demo-001", "channel": "hotline",
                                         "category": "service_attitude", "severity": "medium",
                                         "description": "bench"}, claims=ADMIN)
        rows.append(("complaint filed (POST /complaints)", m))
        drain()  # the complaint's own events, before the sales are metered
        for n_lines in (3, 12):
            basket = [{"sku": f"SKU-{n:04d}", "name": f"Silk scarf, colour {n}", "category": "accessories",
                       "quantity": 1, "unit_price": "10.00"} for n in range(n_lines)]
            lined = {k: v for k, v in sale(f"L{n_lines}", f"{10 * n_lines}.00", member_id, lines=basket).items()
                     if k != "items"}
            call("POST", "/purchases", lined, claims=ADMIN)
            with metered(client) as m:
                drain()
            rows.append((f"sale with {n_lines} lines applied (consumer)", m))
        for n in range(3, 25):
            call("POST", "/purchases", sale(f"S{n}", "10.00", member_id), claims=ADMIN)
        drain()
        with metered(client) as m:
            call("GET", f"/members/{member_id}/purchases?limit=20", claims=ADMIN)
        rows.append(("purchase history page (20 entries)", m))
    return rows


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    rows = measure()
    print("DynamoDB cost per event (metered from the requests; target for a sale: <= 2 requests, <= 5 WCU)")
    print(f"{'event':<44} {'requests':>8} {'RCU':>6} {'WCU':>6} {'items read':>10}  operations")
    for name, m in rows:
        ops = ", ".join(f"{k} x{v}" for k, v in sorted(m.requests.items()))  # type: ignore[attr-defined]
        print(f"{name:<44} {m.total_requests:>8} {m.read_units:>6.1f} {m.write_units:>6.1f} "  # type: ignore[attr-defined]
              f"{m.items_read:>10}  {ops}")  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The daily basket aggregate's reads per member: `python -m tests.bench.basket_job [--members N]`.
Enrols N members over STORES stores with one sale each (in-process moto), then meters one full
aggregate run (the roll is read store by store)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from typing import Any

STORES = 4


def measure(members: int) -> dict[str, Any]:
    import tests.conftest  # noqa: F401 - fake credentials and the functions' environment
    from tests.bench.ddb_meter import metered
    from tests.support.api import ADMIN, call, enrol
    from tests.support.aws import mocked_aws
    from tests.support.queues import drain
    from vipcare import wiring
    from vipcare.services import basket
    from vipcare.store.clients import dynamodb_client

    now = datetime.now(UTC)
    with mocked_aws():
        stores = [f"demo-{s:03d}" for s in range(1, STORES + 1)]
        for store_id in stores:
            call("POST", "/stores", {"store_id": store_id, "name": store_id}, claims=ADMIN)
        for n in range(members):
            store_id = stores[n % STORES]
            member_id = enrol(phone=f"139{n:08d}", store_id=store_id).body["member_id"]
            call("POST", "/purchases", {"transaction_id": f"B{n}", "store_id": store_id, "member_id": member_id,
                                        "kind": "sale", "amount": "100.00", "currency": "CNY", "items": 2,
                                        "occurred_at": (now - timedelta(minutes=5)).isoformat()}, claims=ADMIN)
        while drain():  # every sale applied, however many rounds it takes
            pass
        reports = wiring.kpi_reports()
        with metered(dynamodb_client()) as m:
            run = basket.run_basket(now, store=reports.basket, directory=wiring.care().directory)
        day = reports.basket.latest_day("demo")
    return {"members": members, "requests": m.total_requests, "operations": dict(m.requests),
            "items_read": m.items_read, "rcu": m.read_units, "wcu": m.write_units, "pages": run.pages,
            "counted": day.totals.members if day else None, "sales": day.totals.sales if day else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=500)
    r = measure(parser.parse_args(argv).members)
    print(f"Basket aggregate, one full run (the rolls of {STORES} stores read once)")
    print(json.dumps(r))
    print(f"per 100 members: requests {100 * r['requests'] / r['members']:.1f}  RCU {100 * r['rcu'] / r['members']:.1f}"
          f"  WCU {100 * r['wcu'] / r['members']:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Member lists read what they find, not the base: `python -m tests.bench.member_lists [--bases 10000,100000]`.

For each base size, the same TARGET members (store s-001, gold, manager m-1, birthday in March,
last purchase 200 days ago, hobby "golf") plus `base - TARGET` other members (other stores,
regular, no manager, birthdays outside March, bought last week). Items are written as enrolment
and sales write them (store.members / store.ledger mappings, index keys included) with
BatchWriteItem into in-process moto. Then each list is read to the end (at most MAX_PAGES), 50 a
page, metered:
pages, requests, index entries and items read, read units, per page. A list whose leading
filter is an index reads the same at either size; a list with no leading index (a hobby alone
walks every store's roll) grows with the base, which is why `lead_of` exists.

Each base runs in a fresh process (its own moto and module caches; `--jobs 2` runs two at once),
which prints its rows as JSON; this process prints the table. moto's Query is made proportional
to what it names (infra/local/moto_speedups.py), or every Query would cost time in proportion
to the table."""

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

ROOT = Path(__file__).resolve().parents[2]

TARGET = 120
LISTS: dict[str, dict[str, Any]] = {
    "tier + store": {"tier": "gold", "store_id": "s-001"},
    "manager": {"manager_id": "m-1"},
    "birthday month": {"birthday_month": 3},
    "no purchase 180 days": {"no_purchase_days": 180},
    "hobby alone (no leading index)": {"hobby": "golf"},
}
STORES = 20
MAX_PAGES = 10  # a list without a leading index would read the whole base: its first pages show the trend


def _items(n: int, now: datetime, target: bool) -> list[dict[str, Any]]:
    from vipcare.domain.members import Consent, Member, Tier
    from vipcare.domain.stats import MemberStats
    from vipcare.store.ledger import stats_item
    from vipcare.store.members import _to_item
    from vipcare.store.models import manager_key

    member_id = f"{'t' if target else 'b'}{n:07d}"
    enrolled = now - timedelta(days=400)
    m = Member(member_id=member_id, brand_id="bench", store_id="s-001" if target else f"s-{2 + n % (STORES - 1):03d}",
               member_no=f"N{n:07d}", name=f"Member {n}", phone=f"+86139{n:08d}", enrolled_at=enrolled,
               updated_at=enrolled, consent=Consent(sms_marketing=True, updated_at=enrolled, source="bench"),
               birthday=date(1980, 3 if target else 4 + n % 9, 1 + n % 28), hobbies=["golf" if target else "tea"],
               tier=Tier.GOLD if target else Tier.REGULAR, manager_id="m-1" if target else None)
    profile = _to_item(m)
    if target:
        profile.manager_key = manager_key("bench", "m-1")
    last = now - timedelta(days=200 if target else 7)
    month = f"{last:%Y-%m}"
    stats = MemberStats(spend={month: Decimal("25000" if target else "300")}, purchases={month: 1},
                        last_purchase_at=last, since=enrolled)
    return [profile.serialize(), stats_item("bench", member_id, stats).serialize()]


def _seed(base: int, now: datetime) -> None:
    from vipcare.config import settings
    from vipcare.store.clients import dynamodb_client

    client, table = dynamodb_client(), settings().members_table
    batch: list[dict[str, Any]] = []
    for n in range(base):
        batch += _items(n, now, target=n < TARGET)
        if len(batch) >= 24:
            client.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": i}} for i in batch]})
            batch = []
    if batch:
        client.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": i}} for i in batch]})


def measure_base(base: int) -> dict[str, dict[str, Any]]:
    """list name -> what reading it cost in a base of `base` members."""
    import tests.conftest  # noqa: F401 - fake credentials and the functions' environment
    from tests.bench.ddb_meter import metered
    from tests.support.aws import mocked_aws
    from vipcare import wiring
    from vipcare.domain.access import Caller, Role
    from vipcare.domain.directory import Store
    from vipcare.domain.segments import MemberFilters
    from vipcare.services import member_lists
    from vipcare.store.clients import dynamodb_client
    from vipcare.store.directory import DirectoryRepository

    now = datetime.now(UTC)
    caller = Caller(staff_id="admin", brand_id="bench", store_id=None, role=Role.ADMIN)
    out: dict[str, dict[str, Any]] = {}
    with mocked_aws():
        for s in range(1, STORES + 1):
            DirectoryRepository().add_store(Store(brand_id="bench", store_id=f"s-{s:03d}", name=f"S{s}",
                                                  code=f"{s:03d}", timezone="Asia/Shanghai", created_at=now))
        _seed(base, now)
        gc.freeze()  # the seeded base lives to the end: keep it out of every later collection
        deps = wiring.member_lists()
        for name, doc in LISTS.items():
            f = MemberFilters.from_document(doc)
            found, after, pages = 0, None, 0
            with metered(dynamodb_client()) as m:
                while True:
                    page = member_lists.search(caller, f, limit=50, after=after, now=now, deps=deps)
                    found, after, pages = found + len(page.members), page.next, pages + 1
                    if after is None or pages == MAX_PAGES:
                        break
            out[name] = {
                "found": found, "pages": pages, "complete": after is None,
                "requests_per_page": round(m.total_requests / pages, 1),
                "items_read_per_page": round(m.items_read / pages, 1),
                "rcu_per_page": round(m.read_units / pages, 1), "operations": dict(m.requests)}
    gc.unfreeze()
    return out


def _result(by_base: dict[int, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    out: dict[str, Any] = {"target": TARGET, "stores": STORES, "lists": {}}
    for base, lists in by_base.items():
        for name, row in lists.items():
            out["lists"].setdefault(name, {})[base] = row
    return out


def measure(bases: list[int]) -> dict[str, Any]:
    """Every base in this process."""
    return _result({base: measure_base(base) for base in bases})


def _measure_fresh(base: int) -> dict[str, dict[str, Any]]:
    proc = subprocess.run([sys.executable, "-m", "tests.bench.member_lists", "--one", str(base)],
                          stdout=subprocess.PIPE, text=True, cwd=ROOT, check=False)
    if proc.returncode:
        raise RuntimeError(f"base {base}: exit {proc.returncode}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def measure_fresh(bases: list[int], jobs: int = 1) -> dict[str, Any]:
    """Each base in a fresh process, `jobs` at once."""
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return _result(dict(zip(bases, pool.map(_measure_fresh, bases), strict=True)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bases", default="10000,100000")
    parser.add_argument("--jobs", type=int, default=1, help="bases measured at once, each in its own process")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one base here, its rows as JSON
    args = parser.parse_args(argv)
    if args.one:
        started = time.perf_counter()
        rows = measure_base(args.one)
        rows["_process"] = {"seconds": round(time.perf_counter() - started, 1),
                            "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}
        print(json.dumps(rows))
        return 0
    bases = [int(b) for b in args.bases.split(",")]
    r = measure_fresh(bases, args.jobs)
    process = r["lists"].pop("_process")
    print(f"Member lists: {r['target']} matching members in bases of {', '.join(map(str, bases))} "
          f"({r['stores']} stores), read to the end 50 a page")
    print(f"{'list':32} {'base':>7} {'found':>6} {'pages':>6} {'req/page':>9} {'items/page':>11} {'RCU/page':>9}"
          "  complete")
    for name, by_base in r["lists"].items():
        for base, x in by_base.items():
            print(f"{name:32} {base:>7} {x['found']:>6} {x['pages']:>6} {x['requests_per_page']:>9} "
                  f"{x['items_read_per_page']:>11} {x['rcu_per_page']:>9}  {x['complete']}")
        small, large = by_base[bases[0]], by_base[bases[-1]]
        print(f"{'':32} ratio {bases[-1]}/{bases[0]} per page: requests "
              f"{large['requests_per_page'] / small['requests_per_page']:.2f}x, "
              f"items read {large['items_read_per_page'] / max(1, small['items_read_per_page']):.2f}x, "
              f"members per page {(large['found'] / large['pages']) / max(1, small['found'] / small['pages']):.2f}x")
    print(json.dumps(r | {"process": process}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

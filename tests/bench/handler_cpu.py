"""Handler CPU per purchase with the store faked: the pure-Python path of the consumer.

Each record goes through what the purchase consumer does for it (parse the SQS body, the
dedup check, the points and figures, the immediate-upgrade rule, building the effects) with
an in-memory ledger instead of DynamoDB: it keeps the items as DynamoDB would return them and
decodes and encodes them with the real pynamodb models, so only the network is missing. Measured with
`time.process_time` over the whole run; printed per purchase (target: < 0.5 ms).

    python -m tests.bench.handler_cpu [--purchases 3000] [--members 300] [--rounds 5]

Each round starts from an empty ledger; the median round is printed (the machine is noisy).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tests.support.fakes import InMemoryDirectory, InMemoryTiers, RecordingNotifier
from vipcare.domain.purchases import PurchaseLimits, parse_message
from vipcare.domain.tiers import DEFAULT_POLICY
from vipcare.services.ingestion import Ingestor, Outcome
from vipcare.store.ledger import (
    LedgerRepository,
    PurchaseSnapshot,
    StatsItem,
    TxnItem,
    _entry,
    _txn_item,
    stats_item,
    stats_of,
)

BRAND = "bench"
START = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


class InMemoryLedger(LedgerRepository):
    """The repository's contract over dicts: what a snapshot reads, what a commit writes."""

    def __init__(self, member_ids: list[str]) -> None:
        self.profiles = {m: {"tier": {"S": "regular"}, "store_id": {"S": "s1"}} for m in member_ids}
        self.stats_raw: dict[str, dict] = {}  # member -> the STATS item, serialised
        self.txn_raw: dict[tuple[str, str], dict] = {}  # (store, txn) -> the TXN item, serialised

    def _entry(self, key):
        raw = self.txn_raw.get(key)
        return _entry(TxnItem.from_raw_data(raw)) if raw else None

    def snapshot(self, brand_id, member_id, txns):
        profile = self.profiles.get(member_id)
        raw = self.stats_raw.get(member_id)
        return PurchaseSnapshot(
            member_exists=profile is not None,
            tier=profile["tier"]["S"] if profile else None,
            stats=stats_of(StatsItem.from_raw_data(raw) if raw else None),
            entries={k: self._entry(k) for k in txns},
            profile=profile)

    def entries(self, brand_id, keys):
        return [e for e in (self._entry(k) for k in keys) if e is not None]

    def commit(self, *, brand_id, entries, member_id=None, stats=None, profile_update=None, redemption=None,
               extra_puts=None):
        for e in entries:
            self.txn_raw[(e.store_id, e.transaction_id)] = _txn_item(e).serialize()
        if stats is not None and member_id is not None:
            self.stats_raw[member_id] = stats_item(brand_id, member_id, stats).serialize()
        if profile_update is not None and member_id is not None and entries and entries[0].tier_change:
            self.profiles[member_id] = {**self.profiles[member_id], "tier": {"S": entries[0].tier_change["to"]}}
        for item in extra_puts or []:
            item.serialize()

    def add_rejection(self, *args, **kwargs):
        pass

    def clear_event_pending(self, brand_id, store_id, transaction_id):
        self.txn_raw[(store_id, transaction_id)].pop("event_pending", None)


class NoEvents:
    def __init__(self) -> None:
        self.published = 0

    def publish(self, detail_type: str, detail: dict) -> None:
        self.published += 1


def messages(n: int, members: int) -> list[str]:
    """SQS bodies as the intake writes them: nine sales, then a return, and so on."""
    out = []
    for i in range(n):
        at = START + timedelta(minutes=i)
        body = {"brand_id": BRAND, "member_id": f"m{i % members:05d}", "store_id": "s1", "transaction_id": f"T{i}",
                "amount": str(Decimal(100 + (i * 37) % 900)), "currency": "CNY", "items": 1 + i % 3,
                "occurred_at": at.isoformat(), "received_at": at.isoformat(), "kind": "sale"}
        if i % 10 == 9:  # a partial return of the sale just before it
            body.update(kind="return", amount="10.00", original_transaction_id=f"T{i - 1}",
                        member_id=f"m{(i - 1) % members:05d}")
        out.append(json.dumps(body))
    return out


def measure(purchases: int, members: int) -> dict:
    ledger = InMemoryLedger([f"m{i:05d}" for i in range(members)])
    events = NoEvents()
    # limits, policy and time zone given, no manager assignment: the tiers, directory and
    # notifier are never asked anything
    ingestor = Ingestor(ledger=ledger, events=events, tiers=InMemoryTiers(), directory=InMemoryDirectory(),
                        notifier=RecordingNotifier(), limits=PurchaseLimits(), policy=DEFAULT_POLICY,
                        timezone="Asia/Shanghai", assign_managers=False)
    bodies = messages(purchases, members)
    outcomes: dict[str, int] = {}
    started = time.process_time()
    for i, body in enumerate(bodies):
        now = START + timedelta(minutes=i, seconds=30)
        purchase, received_at = parse_message(body, now=now)
        result = ingestor.ingest(purchase, received_at=received_at, now=now)
        outcomes[result.outcome.value] = outcomes.get(result.outcome.value, 0) + 1
    cpu = time.process_time() - started
    return {"purchases": purchases, "cpu_s": cpu, "ms_per_purchase": cpu / purchases * 1000,
            "outcomes": outcomes, "upgrades": events.published}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--purchases", type=int, default=3000)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    rounds = [measure(args.purchases, args.members) for _ in range(args.rounds)]
    r = sorted(rounds, key=lambda x: x["ms_per_purchase"])[len(rounds) // 2]
    spread = [round(x["ms_per_purchase"], 3) for x in rounds]
    print(f"Handler CPU per purchase, store faked in memory, median of {args.rounds} rounds (target: < 0.5 ms)")
    print(f"purchases {r['purchases']}  CPU {r['cpu_s']:.3f} s  per purchase {r['ms_per_purchase']:.3f} ms  "
          f"(rounds {spread}, stdev {statistics.pstdev(spread):.3f})  outcomes {r['outcomes']}  "
          f"upgrades {r['upgrades']}")
    return 0 if r["outcomes"].get(Outcome.APPLIED.value) else 1


if __name__ == "__main__":
    sys.exit(main())

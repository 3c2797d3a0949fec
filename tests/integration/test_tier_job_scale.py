"""The nightly job reads only due members: 20,000 members, 1% due. Counts DynamoDB requests
and items read (tests/bench/ddb_meter.py) for the run and for a rerun of the same day."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

import pytest

from infra.local.lambdas import LambdaContext, handler_for
from infra.local.local_routes import scheduled_event
from tests.bench.ddb_meter import metered
from tests.support.queues import drain
from vipcare.store.clients import dynamodb_client
from vipcare.store.ledger import STATS_SK, StatsItem
from vipcare.store.models import PROFILE_SK, ConsentMap, MemberItem, member_pk
from vipcare.store.tiers import TierRepository, review_keys

MEMBERS = int(os.environ.get("VIPCARE_TIER_SCALE_MEMBERS", "20000"))
DUE = MEMBERS // 100
NOW = datetime(2027, 12, 23, 4, 0, tzinfo=UTC)
ENROLLED = datetime(2026, 1, 5, tzinfo=UTC)


def _member(i: int) -> MemberItem:
    member_id = f"m_{i:016d}"
    item = MemberItem(member_pk("demo", member_id), PROFILE_SK, member_id=member_id, brand_id="demo",
                      store_id="demo-001", member_no=f"DEMO-001-{i:06d}", name="M", phone=f"+86139{i:08d}",
                      consent=ConsentMap(sms_marketing=False, updated_at=ENROLLED, source="bulk"),
                      enrolled_at=ENROLLED, updated_at=ENROLLED)
    if i < DUE:  # gold since 2026-11-23, nothing bought since: review (warning date) long past
        item.tier, item.tier_since, item.tier_valid_until = "gold", date(2026, 11, 23), date(2027, 11, 23)
        item.review_pk, item.review_sk = review_keys("demo", member_id, datetime(2027, 10, 23, 16, tzinfo=UTC))
    elif i < MEMBERS // 4:  # silver with a review months ahead: in the index, not due
        item.tier, item.tier_since, item.tier_valid_until = "silver", date(2027, 9, 1), date(2028, 9, 1)
        item.review_pk, item.review_sk = review_keys("demo", member_id, datetime(2028, 8, 1, tzinfo=UTC))
    return item  # the rest are regular: not in the sparse index at all


def _bulk_load() -> None:
    with MemberItem.batch_write() as batch:
        for i in range(MEMBERS):
            batch.save(_member(i))
    with StatsItem.batch_write() as batch:
        for i in range(DUE):
            batch.save(StatsItem(member_pk("demo", f"m_{i:016d}"), STATS_SK, spend={"2026-11": "20000"},
                                 purchases={"2026-11": 1}, version=1))


def _run() -> tuple[dict, dict]:
    job = handler_for("functions/tier_reevaluation/", "app.handler")
    with metered(dynamodb_client()) as meter:
        job(scheduled_event(NOW), LambdaContext())
        drain(only={"TierReevaluationFunction"})  # the care consumer of its events is metered elsewhere
    return dict(meter.requests), {"requests": meter.total_requests, "items_read": meter.items_read,
                                  "write_units": meter.write_units}


@pytest.mark.usefixtures("directory")
def test_job_reads_only_due_members_and_a_rerun_writes_nothing():
    _bulk_load()
    first_ops, first = _run()
    rerun_ops, rerun = _run()
    print(f"\n{MEMBERS:,} members, {DUE} due: first run {first} {first_ops}; rerun {rerun} {rerun_ops}")

    # first run: 16 outbox queries (events a failed run left) + 16 shard queries + the due members'
    # PROFILE and STATS (BatchGetItem, <= 100 keys each) + one transaction per decision (with its
    # event in the outbox) + one delete per event once published; nothing else is read
    # + the brand's tier policy: cached for a minute per process, so a slow machine re-reads it
    # once a minute of the run (a policy change is picked up mid-run); never once per member
    assert 16 + 16 + 1 <= first_ops["Query"] <= 16 + 16 + 4
    assert first_ops["DeleteItem"] == DUE
    assert first["items_read"] == DUE + 2 * DUE  # index keys, then PROFILE + STATS of each due member
    assert first_ops["TransactWriteItems"] == DUE
    assert "Scan" not in first_ops
    # every due member was warned, with its explanation; the others were not touched
    for i in (0, DUE // 2, DUE - 1):
        decisions = TierRepository().decisions("demo", f"m_{i:016d}")
        assert [d.outcome for d in decisions] == ["warn"] and decisions[0].explanation["policy_version"] == 1
    assert TierRepository().decisions("demo", f"m_{DUE:016d}") == []

    # rerun of the same day: the same 32 queries, nobody is due any more, nothing written
    assert rerun_ops == {"Query": 32}
    assert rerun["items_read"] == 0 and rerun["write_units"] == 0

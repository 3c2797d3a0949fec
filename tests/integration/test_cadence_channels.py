"""Contact cadence per channel (docs/reminders.md "Cadence"): the tier policy's `cadence`, a
period done only when every requirement is met, what a task still misses, retries counted once
and bad cadences refused naming the field. Against moto, on the test clock's day."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from infra.local.lambdas import LambdaContext, handler_for
from tests.support import clock
from tests.support.api import ADMIN, call, enrol, listed
from vipcare.services.limits import forget_cached_policies


@pytest.fixture(autouse=True)
def fresh_policies():
    forget_cached_policies()
    yield
    forget_cached_policies()


def policy(gold_cadence) -> dict:
    tiers = [
        {"tier": "regular", "upgrade_spend_12m": "0", "upgrade_purchases_6m": 0},
        {"tier": "silver", "upgrade_spend_12m": "5000", "upgrade_purchases_6m": 6},
        {"tier": "gold", "upgrade_spend_12m": "20000", "upgrade_purchases_6m": 12, "dedicated_manager": True,
         "cadence": gold_cadence},
        {"tier": "diamond", "upgrade_spend_12m": "50000", "upgrade_purchases_6m": 24, "dedicated_manager": True},
    ]
    return {"combinator": "any", "tiers": tiers}


VISIT_AND_TWO_CALLS = [{"channel": "visit", "count": 1, "per": "month"},
                       {"channel": "phone", "count": 2, "per": "month"}]


def gold_member(phone: str, now: datetime) -> str:
    from vipcare.store.models import MemberItem, member_pk

    r = enrol(phone=phone)
    assert r.status == 201, r.body
    mid = r.body["member_id"]
    MemberItem(member_pk("demo", mid), "PROFILE").update(actions=[MemberItem.tier.set("gold"),
                                                                  MemberItem.manager_id.set("mgr-1")])
    body = {"detail-type": "TierChanged", "time": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "detail": {"event_id": f"t-{mid}", "from": "regular", "to": "gold", "member_id": mid,
                       "brand_id": "demo"}}
    event = {"Records": [{"messageId": "m-1", "receiptHandle": "r", "body": json.dumps(body), "attributes": {},
                          "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                          "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1"}]}
    handler_for("functions/reminder_dispatch/", "app.handler")(event, LambdaContext())
    return mid


def run_job(now: datetime) -> None:
    from vipcare.services.reminders import run_dispatch
    from vipcare.wiring import care

    run_dispatch(now, care())


def cadence_task(mid: str) -> dict:
    [task] = [t for t in listed("/staff/mgr-1/tasks", "tasks") if t["member_id"] == mid and t["kind"] == "cadence"]
    return task


def contact(mid: str, day: str, channel: str, key: str | None = None):
    return call("POST", f"/members/{mid}/contacts", {"contacted_on": day, "channel": channel}, claims=ADMIN,
                headers={"Idempotency-Key": key} if key else None)


def test_the_period_is_done_only_when_every_channel_is_met_and_the_task_shows_what_is_missing(directory):
    assert call("PUT", "/brands/demo/tier-policy", policy(VISIT_AND_TWO_CALLS), claims=ADMIN).status == 200
    forget_cached_policies()
    now = clock.now()
    today = clock.local_day(now).isoformat()
    mid = gold_member("13800138101", now)
    run_job(now)
    task = cadence_task(mid)
    assert task["status"] == "open" and task["reason"] == "gold: at least 1 visit contact and 2 phone contacts " \
                                                          "per month"
    assert task["requirements"] == [{"channel": "visit", "count": 1, "per": "month", "have": None},
                                    {"channel": "phone", "count": 2, "per": "month", "have": None}]
    assert [(m["channel"], m["have"]) for m in task["missing"]] == [("visit", 0), ("phone", 0)]

    r = contact(mid, today, "phone")
    assert r.status == 201 and r.body["completed_task_id"] is None
    r = contact(mid, today, "phone")  # two calls: still no visit (a phone call is not a visit)
    assert r.status == 201 and r.body["completed_task_id"] is None
    task = cadence_task(mid)
    assert task["status"] == "open" and [(m["channel"], m["have"]) for m in task["missing"]] == [("visit", 0)]

    first = contact(mid, today, "visit", key="visit-1")
    again = contact(mid, today, "visit", key="visit-1")  # a retry: logged once, the same answer
    assert first.status == again.status == 201 and first.body == again.body
    assert first.body["completed_task_id"] == task["task_id"]
    assert cadence_task(mid)["status"] == "done"
    assert len(listed(f"/members/{mid}/contacts", "contacts")) == 3


def test_contacts_before_the_review_count_towards_the_period(directory):
    assert call("PUT", "/brands/demo/tier-policy", policy(VISIT_AND_TWO_CALLS), claims=ADMIN).status == 200
    forget_cached_policies()
    now = clock.now()
    today = clock.local_day(now).isoformat()
    mid = gold_member("13800138102", now)  # review due today, not yet run
    assert contact(mid, today, "visit").body["completed_task_id"] is None
    run_job(now)  # the review sees the visit: only the calls are missing
    assert [(m["channel"], m["have"]) for m in cadence_task(mid)["missing"]] == [("phone", 0)]


def test_default_cadence_any_contact_completes_the_month(directory):
    now = clock.now()
    mid = gold_member("13800138103", now)
    run_job(now)
    assert cadence_task(mid)["missing"] == [{"channel": "any", "count": 1, "have": 0, "per": None}]
    assert contact(mid, clock.local_day(now).isoformat(), "wechat").body["completed_task_id"] == \
        cadence_task(mid)["task_id"]
    got = call("GET", "/brands/demo/tier-policy", claims=ADMIN).body
    assert [t["cadence"] for t in got["tiers"]] == [
        [], [{"channel": "any", "count": 1, "per": "quarter"}], [{"channel": "any", "count": 1, "per": "month"}],
        [{"channel": "any", "count": 1, "per": "month"}]]


@pytest.mark.parametrize(("cadence", "field"), [
    ([{"channel": "fax", "count": 1, "per": "month"}], "tiers.2.cadence.0.channel"),
    ([{"channel": "visit", "count": 0, "per": "month"}], "tiers.2.cadence.0.count"),
    ([{"channel": "visit", "count": 1, "per": "week"}], "tiers.2.cadence.0.per"),
    ([{"channel": "visit", "count": 1, "per": "month"}, {"channel": "phone", "count": 1, "per": "quarter"}],
     "tiers.2.cadence.1.per"),
    ([], "tiers.2.cadence"),
])
def test_bad_cadence_is_422_naming_the_field_and_stores_nothing(directory, cadence, field):
    r = call("PUT", "/brands/demo/tier-policy", policy(cadence), claims=ADMIN)
    assert r.status == 422 and field in r.field_names(), r.body
    assert call("GET", "/brands/demo/tier-policy", claims=ADMIN).body["version"] == 1


def test_contact_every_days_is_gone(directory):
    body = policy(VISIT_AND_TWO_CALLS)
    body["tiers"][2]["contact_every_days"] = 30
    r = call("PUT", "/brands/demo/tier-policy", body, claims=ADMIN)
    assert r.status == 422 and "tiers.2.contact_every_days" in r.field_names(), r.body

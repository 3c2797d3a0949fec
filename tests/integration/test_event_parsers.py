"""Malformed events never crash a consumer: whatever an SQS batch carries, each queue-fed
function answers with a partial batch response naming only records of that batch (a poison
record is reported or dropped, the others go on), and a scheduled event with a bad `time` is a
ValueError (Lambda's retries, then the jobs' dead-letter queue), never another crash.

Examples per property: VIPCARE_PARSER_EXAMPLES (default 40; `make soak` runs many more)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.local.lambdas import LambdaContext, handler_for
from tests.support.aws import mocked_aws

EXAMPLES = int(os.environ.get("VIPCARE_PARSER_EXAMPLES", "40"))
CONSUMERS = ("functions/purchase_ingestion/", "functions/tier_reevaluation/", "functions/reminder_dispatch/")

_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.text(max_size=12), inner, max_size=4), max_leaves=12)
_times = st.text(max_size=30) | st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()) | st.integers()
# bodies that look like each consumer's messages, with fields missing, mistyped or out of range
_purchase_like = st.fixed_dictionaries({}, optional={
    "brand_id": _scalars, "store_id": _scalars, "transaction_id": _scalars, "member_id": _scalars,
    "kind": st.sampled_from(["sale", "return", "gift"]) | _scalars, "amount": st.text(max_size=12) | _scalars,
    "currency": _scalars, "items": _scalars, "occurred_at": _times, "received_at": _times,
    "original_transaction_id": _scalars})
_shard_like = st.fixed_dictionaries({}, optional={"time": _times, "shard": st.integers(-5, 40) | _scalars})
_care_like = st.fixed_dictionaries({}, optional={
    "detail-type": st.sampled_from(["TierChanged", "TierDowngradeWarning", "Unknown"]) | _scalars,
    "time": _times, "detail": st.dictionaries(st.sampled_from(
        ["brand_id", "member_id", "from", "to", "manager_id", "event_id", "downgrade_on"]), _scalars, max_size=6)})
_bodies = (st.text(max_size=60) | _json.map(json.dumps) | _purchase_like.map(json.dumps)
           | _shard_like.map(json.dumps) | _care_like.map(json.dumps))


def sqs_batch(bodies: list[str]) -> dict:
    return {"Records": [{"messageId": f"id-{i}", "receiptHandle": f"rh-{i}", "body": body, "attributes": {},
                         "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                         "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1"}
                        for i, body in enumerate(bodies)]}


@pytest.fixture(scope="module")
def handlers():
    with mocked_aws():
        yield {path: handler_for(path, "app.handler") for path in CONSUMERS}


@pytest.mark.parametrize("path", CONSUMERS)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bodies=st.lists(_bodies, min_size=1, max_size=4))
def test_any_sqs_batch_gets_a_partial_batch_response_naming_only_its_records(handlers, path, bodies):
    event = sqs_batch(bodies)
    response = handlers[path](event, LambdaContext())
    ids = {r["messageId"] for r in event["Records"]}
    assert set(response) == {"batchItemFailures"}
    assert {f["itemIdentifier"] for f in response["batchItemFailures"]} <= ids


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=_times)
def test_a_scheduled_event_with_any_time_runs_or_is_a_value_error(handlers, raw):
    event = {"version": "0", "id": "x", "detail-type": "Scheduled Event", "source": "aws.events",
             "account": "123456789012", "time": raw, "region": "us-east-1", "resources": [], "detail": {}}
    try:
        valid = datetime.fromisoformat(str(raw).replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        valid = False
    for path in ("functions/tier_reevaluation/", "functions/reminder_dispatch/"):
        if valid:
            assert isinstance(handlers[path](event, LambdaContext()), dict)
        else:
            with pytest.raises(ValueError):
                handlers[path](event, LambdaContext())

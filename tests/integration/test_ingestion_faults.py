"""The consumer under faults: partial batch failures, poison messages, throttling, a failed
event publish. After each: nothing lost, nothing applied twice."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from infra.local import resources
from infra.local.lambdas import LambdaContext, load_module
from tests.support import clock
from tests.support.api import ADMIN, call, enrol
from tests.support.queues import drain, queue_depth

pytestmark = pytest.mark.usefixtures("directory")

NOW = clock.now() - timedelta(minutes=2)


def message(txn: str, member_id: str, amount: str = "100.00") -> dict:
    return {"brand_id": "demo", "store_id": "demo-001", "transaction_id": txn, "member_id": member_id,
            "kind": "sale", "amount": amount, "currency": "CNY", "items": 1, "occurred_at": NOW.isoformat(),
            "received_at": NOW.isoformat()}


def sqs_event(*bodies: dict | str) -> dict:
    return {"Records": [{"messageId": f"id-{i}", "receiptHandle": f"rh-{i}", "attributes": {},
                         "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                         "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1",
                         "body": b if isinstance(b, str) else json.dumps(b)} for i, b in enumerate(bodies)]}


@pytest.fixture
def consumer():
    module = load_module("functions/purchase_ingestion/")
    yield module
    module._ingestor = None


def spend(member_id: str) -> str:
    return call("GET", f"/members/{member_id}", claims=ADMIN).body["spend_12m"]


def test_a_failing_record_is_reported_alone_and_the_others_apply(consumer):
    member_id = enrol().body["member_id"]

    class Flaky:
        def __init__(self, real):
            self.real = real

        def ingest(self, purchase, **kw):
            if purchase.transaction_id == "BAD":
                raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "TransactWriteItems")
            return self.real.ingest(purchase, **kw)

    consumer._ingestor = Flaky(consumer.wired.ingestor())
    result = consumer.handler(sqs_event(message("A", member_id), message("BAD", member_id), message("C", member_id)),
                              LambdaContext())
    assert result == {"batchItemFailures": [{"itemIdentifier": "id-1"}]}
    assert spend(member_id) == "200.00"
    # the redelivery of the whole batch (as SQS may do) applies only what is missing
    consumer._ingestor = None
    result = consumer.handler(sqs_event(message("A", member_id), message("BAD", member_id), message("C", member_id)),
                              LambdaContext())
    assert result == {"batchItemFailures": []}
    assert spend(member_id) == "300.00"


def test_unreadable_messages_are_dropped_not_retried_forever(consumer):
    result = consumer.handler(sqs_event("{not json", {"detail-type": "Purchase", "detail": None}, {"kind": "x"}),
                              LambdaContext())
    assert result == {"batchItemFailures": []}


def test_a_poison_message_goes_to_the_dead_letter_queue_after_five_tries(consumer):
    member_id = enrol().body["member_id"]

    class AlwaysFails:
        def ingest(self, purchase, **kw):
            raise RuntimeError("bug")

    consumer._ingestor = AlwaysFails()
    sqs = boto3.client("sqs", region_name="us-east-1")
    sqs.send_message(QueueUrl=resources.physical_names()["PurchasesQueue"],
                     MessageBody=json.dumps(message("P1", member_id)))
    drain(max_rounds=10)
    assert queue_depth("PurchasesQueue") == 0
    assert queue_depth("PurchasesDeadLetterQueue") == 1
    assert spend(member_id) == "0.00"


def test_a_failed_tier_event_publish_is_retried_on_redelivery_without_double_counting(consumer):
    member_id = enrol().body["member_id"]
    published = []

    class BusDown:
        calls = 0

        def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
            BusDown.calls += 1
            if BusDown.calls == 1:
                raise ClientError({"Error": {"Code": "ServiceUnavailable"}}, "PutEvents")
            published.append(detail)

    consumer._ingestor = replace(consumer.wired, events=BusDown()).ingestor()
    event = sqs_event(message("G1", member_id, "20000.00"))
    # every record of the batch failed: each is reported, SQS redelivers it
    assert consumer.handler(event, LambdaContext()) == {"batchItemFailures": [{"itemIdentifier": "id-0"}]}
    assert call("GET", f"/members/{member_id}", claims=ADMIN).body["tier"] == "gold"  # applied once
    assert consumer.handler(event, LambdaContext()) == {"batchItemFailures": []}
    assert len(published) == 1 and published[0]["to"] == "gold"
    assert spend(member_id) == "20000.00"
    assert consumer.handler(event, LambdaContext()) == {"batchItemFailures": []}
    assert len(published) == 1  # the flag was cleared: no second TierChanged

"""Runs the template's queue consumers in-process, as Lambda's poller would."""

from __future__ import annotations

import json
import os

import boto3

from infra.local import resources
from infra.local.poller import QueuePoller, subscriptions


def drain(max_rounds: int = 50, *, only: set[str] | None = None) -> int:
    """Deliver queued messages to their functions until the queues are empty; returns how many.
    `only` limits delivery to these functions (logical ids), e.g. to meter one job alone."""
    os.environ["VIPCARE_LOCAL_RETRY_SECONDS"] = "0"
    poller = QueuePoller(boto3.client("sqs", region_name="us-east-1"), resources.physical_names(), log=lambda _: None)
    delivered = 0
    for _ in range(max_rounds):
        moved = sum(poller.poll_once(sub) for sub in subscriptions() if only is None or sub.function in only)
        if not moved:
            return delivered
        delivered += moved
    return delivered


def queue_depth(logical_id: str) -> int:
    sqs = boto3.client("sqs", region_name="us-east-1")
    attrs = sqs.get_queue_attributes(QueueUrl=resources.physical_names()[logical_id],
                                     AttributeNames=["ApproximateNumberOfMessages",
                                                     "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def take_messages(logical_id: str) -> list[dict]:
    """Receive and delete every message waiting in a queue (bodies as JSON), to look at what a
    use case put on the bus without running the consumer."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = resources.physical_names()[logical_id]
    out: list[dict] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return out
        for m in got:
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

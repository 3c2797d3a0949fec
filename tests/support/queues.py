"""Runs the template's queue consumers in-process, as Lambda's poller would."""

from __future__ import annotations

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

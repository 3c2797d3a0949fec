"""The purchases queue: intake enqueues validated purchases; purchase_ingestion consumes."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from ..config import settings

_SQS_BATCH = 10  # SendMessageBatch limit


@cache
def _client() -> Any:
    import boto3

    return boto3.client("sqs")


class PurchaseQueue:
    def send(self, messages: list[dict[str, Any]]) -> list[int]:
        """Enqueue messages; returns the indexes (into `messages`) that SQS refused."""
        failed: list[int] = []
        url = settings().purchases_queue_url
        for start in range(0, len(messages), _SQS_BATCH):
            chunk = messages[start:start + _SQS_BATCH]
            response = _client().send_message_batch(QueueUrl=url, Entries=[
                {"Id": str(start + i), "MessageBody": json.dumps(m)} for i, m in enumerate(chunk)])
            failed += [int(f["Id"]) for f in response.get("Failed", [])]
        return failed


def _send_all(url: str, messages: list[dict[str, Any]], what: str) -> None:
    """Enqueue every message or raise: a fan-out must not lose a step silently."""
    for start in range(0, len(messages), _SQS_BATCH):
        chunk = messages[start:start + _SQS_BATCH]
        response = _client().send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "MessageBody": json.dumps(m)} for i, m in enumerate(chunk)])
        if response.get("Failed"):
            raise RuntimeError(f"SQS refused {len(response['Failed'])} {what} message(s)")


class TierReviewQueue:
    """Fan-out of a tier re-evaluation run: one message per review shard (and a follow-up
    message when a shard holds more due members than one worker takes)."""

    def send(self, messages: list[dict[str, Any]]) -> None:
        _send_all(settings().tier_review_queue_url, messages, "tier review")


class InvitationQueue:
    """An activity's invitations, one message per fan-out slice (services/activities.py)."""

    def send(self, messages: list[dict[str, Any]]) -> None:
        _send_all(settings().invitations_queue_url, messages, "invitation slice")

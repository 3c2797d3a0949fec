"""Recognising what invoked a function that serves several triggers (API, schedule, queue),
and the moment a scheduled run stands for: jobs take "now" from the EventBridge event's `time`,
so any run can be replayed for a given moment."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def is_api_request(event: dict[str, Any]) -> bool:
    return "httpMethod" in event


def is_scheduled(event: dict[str, Any]) -> bool:
    return event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event"


def is_queue_batch(event: dict[str, Any]) -> bool:
    return bool(event.get("Records"))


def moment(raw: object) -> datetime:
    """An ISO 8601 time with its offset (EventBridge writes `2026-11-23T10:00:00Z`)."""
    value = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"time without an offset: {raw!r}")
    return value


def request_moment(event: dict[str, Any]) -> datetime:
    """When API Gateway received the request (`requestContext.requestTimeEpoch`, in ms): the
    one `now` of an API call, so every decision in it sees the same moment and a recorded
    request replays as it ran. A direct invocation without a request context is the only
    place an API function reads the clock."""
    epoch_ms = (event.get("requestContext") or {}).get("requestTimeEpoch")
    if epoch_ms is None:
        return datetime.now(UTC)
    return datetime.fromtimestamp(int(epoch_ms) / 1000, UTC)

"""Delivering outbox events: a use case writes its bus events in the same transaction as its
effect (an outbox item per event), publishes them right after, and deletes each item once the
bus took it. A crash or a refused publish in between leaves the item for the owning scheduled
job to publish again; consumers de-duplicate on `detail.event_id` (at least once)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..store.outbox import PendingEvent
from .ports import EventBus

log = logging.getLogger("vipcare.outbox")


def deliver(publisher: EventBus, pending: PendingEvent | None,
            published: Callable[[PendingEvent], None]) -> bool:
    """Publish one outbox event, then drop it (`published`). False when the bus refused it:
    it stays in the outbox for the next run."""
    if pending is None:
        return True
    try:
        publisher.publish(pending.detail_type, pending.detail)
    except Exception as exc:  # noqa: BLE001 - any failure: the outbox keeps the event
        log.warning("event kept in the outbox", extra={"event_id": pending.sk, "error": type(exc).__name__})
        return False
    published(pending)
    return True

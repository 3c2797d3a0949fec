"""The transactional outbox, one building block for every table that has one.

A bus event is written as an outbox item in the same transaction as the change it announces
(a tier decision, a complaint filed or resolved) and deleted once published; a crash or a
refused publish in between leaves the item, and the table's job publishes it on its next run
(services/outbox.py delivers). Items sit in a few shard partitions `<prefix><shard>`, so the
job reads each shard with one Query and never scans.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PendingEvent:
    pk: str
    sk: str
    detail_type: str
    detail: dict[str, Any]


class Outbox:
    """The outbox of one item model, whose partitions are `<prefix><shard>`."""

    def __init__(self, model: Any, prefix: str) -> None:  # a pynamodb model with detail_type, detail
        self._model = model
        self._prefix = prefix

    def partition(self, shard: int) -> str:
        return f"{self._prefix}{shard}"

    def pending(self, shard: int) -> list[PendingEvent]:
        return [PendingEvent(i.pk, i.sk, i.detail_type, json.loads(i.detail))
                for i in self._model.query(self.partition(shard))]

    def published(self, e: PendingEvent) -> None:
        self._model(e.pk, e.sk).delete()

"""Domain events on the project's EventBridge bus (TierChanged, ...), for the reminder,
manager and KPI flows. Consumers de-duplicate on `detail.event_id`: delivery is at least once."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from ..config import settings

SOURCE = "vipcare"


@cache
def _client() -> Any:
    import boto3

    return boto3.client("events")


class EventPublisher:
    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        response = _client().put_events(Entries=[{
            "Source": SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps(detail, default=str),
            "EventBusName": settings().event_bus_name,
        }])
        if response.get("FailedEntryCount"):
            raise RuntimeError(f"EventBridge refused {detail_type}: {response['Entries'][0].get('ErrorCode')}")

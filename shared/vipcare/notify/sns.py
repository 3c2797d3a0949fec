"""SNS: service SMS to members and notifications to staff through the staff topic.

The client is built on first use (never at import). Phone numbers never reach a log line.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from ..config import settings
from ..domain.phone import mask_phone
from ..store.clients import REGION


@cache
def sns_client() -> Any:
    import boto3

    return boto3.client("sns", region_name=REGION)


class SnsNotifier:
    """What the complaint service needs to tell people; swap for a fake in unit tests."""

    def __init__(self, client: Any = None, topic_arn: str | None = None) -> None:
        self._client = client
        self._topic_arn = topic_arn

    @property
    def client(self) -> Any:
        return self._client or sns_client()

    def tell_staff(self, event: dict[str, Any]) -> str:
        """Publish a staff notification (JSON); attributes let subscribers filter by
        assignee or event type (e.g. a store app's push bridge)."""
        attributes = {
            "event": {"DataType": "String", "StringValue": str(event["event"])},
            "brand_id": {"DataType": "String", "StringValue": str(event["brand_id"])},
            "assignee": {"DataType": "String", "StringValue": str(event["assignee"])},
        }
        response = self.client.publish(TopicArn=self._topic_arn or settings().staff_topic_arn,
                                       Message=json.dumps(event, sort_keys=True), MessageAttributes=attributes)
        return str(response["MessageId"])

    def send_sms(self, phone: str, text: str, *, marketing: bool = False) -> str:
        """A transactional (service) SMS needs no marketing consent (docs/domain.md §1); marketing
        SMS go as `Promotional` (cheaper, may be throttled by carriers)."""
        response = self.client.publish(
            PhoneNumber=phone, Message=text,
            MessageAttributes={"AWS.SNS.SMS.SMSType": {
                "DataType": "String", "StringValue": "Promotional" if marketing else "Transactional"}},
        )
        return str(response["MessageId"])

    def opted_out(self, phone: str) -> bool:
        """SNS's record of a STOP reply from this phone."""
        response = self.client.check_if_phone_number_is_opted_out(phoneNumber=phone)
        return bool(response.get("isOptedOut"))


def masked(phone: str) -> str:
    return mask_phone(phone)

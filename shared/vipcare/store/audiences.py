"""Who the care job speaks to on a day, from MembersTable's sparse indexes (keys only):
`by_birthday` (solar or lunar month-day), `by_anniversary`, and `by_audience`, which holds the
points-expiry notice day of a member's figures and the consent shards of a brand's marketing
audience. Each answers (brand_id, member_id) pairs; the profiles are read after.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from .clients import dynamodb_client
from .ledger import points_notice_key
from .members import CONSENT_SHARDS, anniversary_key, consent_shard_key, lunar_birthday_key, solar_birthday_key
from .models import MemberItem

# Hash key attribute of each index.
_INDEX_KEYS = {"by_birthday": "bday_key", "by_anniversary": "anniv_key", "by_audience": "audience_pk"}

MemberKey = tuple[str, str]  # (brand_id, member_id)


def _page(index: str, key: str, *, start: dict[str, Any] | None,
          limit: int | None) -> tuple[list[MemberKey], dict[str, Any] | None]:
    """One page of keys under `key` (up to `limit`, or DynamoDB's 1 MB page) and where the
    next page starts. The low-level client, not pynamodb's query: only the keys are read,
    nothing is deserialised into a model."""
    kwargs: dict[str, Any] = {"TableName": MemberItem.Meta.table_name, "IndexName": index,
                              "KeyConditionExpression": "#k = :k",
                              "ExpressionAttributeNames": {"#k": _INDEX_KEYS[index]},
                              "ExpressionAttributeValues": {":k": {"S": key}}}
    if limit is not None:
        kwargs["Limit"] = limit
    if start:
        kwargs["ExclusiveStartKey"] = start
    page = dynamodb_client().query(**kwargs)
    keys = []
    for item in page.get("Items", []):
        _, brand, _, member = item["pk"]["S"].split("#", 3)  # BRAND#<brand>#MEMBER#<member>
        keys.append((brand, member))
    return keys, page.get("LastEvaluatedKey")


def _all(index: str, key: str) -> list[MemberKey]:
    out: list[MemberKey] = []
    start: dict[str, Any] | None = None
    while True:
        keys, start = _page(index, key, start=start, limit=None)
        out += keys
        if start is None:
            return out


class AudienceIndex:
    consent_shards = CONSENT_SHARDS

    def birthdays(self, month_day: str, *, lunar: bool) -> list[MemberKey]:
        """Members (of every brand) celebrating on this month-day ("MMDD"), solar or lunar."""
        key = lunar_birthday_key(month_day) if lunar else solar_birthday_key(month_day)
        return _all("by_birthday", key)

    def anniversaries(self, month_day: str) -> list[MemberKey]:
        return _all("by_anniversary", anniversary_key(month_day))

    def points_notices(self, day: date) -> list[MemberKey]:
        """Members whose points-expiry notice falls on `day`."""
        return _all("by_audience", points_notice_key(day))

    def consenting_page(self, brand_id: str, shard: int, *, cursor: str | None,
                        limit: int) -> tuple[list[MemberKey], str | None]:
        """One page of a consent shard of the brand's marketing audience, and the position
        after it (opaque text, None at the shard's end)."""
        start = json.loads(cursor) if cursor else None
        keys, more = _page("by_audience", consent_shard_key(brand_id, shard), start=start, limit=limit)
        return keys, json.dumps(more) if more else None

"""Member lists (services/member_lists.py): the index partitions a list walks, one Query page of
their keys at a time, and the cards (PROFILE + STATS) of the members found.

Every index here is keys only, so a page is a Query of keys and a BatchGetItem of the members'
two items; the service checks the filters on those. Which index serves which filter:
docs/data-model.md, "Member lists"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Any

from ..config import settings
from ..domain.members import Member
from ..domain.segments import Lead, ListContext, MemberFilters
from ..domain.stats import MemberStats
from .clients import dynamodb_client
from .ledger import STATS_SK, StatsItem, stats_of
from .members import _from_item, lunar_birthday_key, solar_birthday_key
from .models import (
    ACTIVE_SHARDS,
    PROFILE_SK,
    MemberItem,
    active_pk,
    manager_key,
    member_pk,
    read_members_table,
    roll_pk,
)


@dataclass(frozen=True)
class Partition:
    """One index partition a list reads: the index, its key attributes (partition first) and the
    partition's value, with an optional condition on the sort key."""

    index: str
    key_names: tuple[str, ...]  # index partition key, index sort key if any
    value: str
    sk_prefix: str | None = None  # begins_with on the index sort key
    sk_at_most: str | None = None  # index sort key <= this

    def start_key(self, raw: dict[str, str]) -> dict[str, Any]:
        """A cursor's position as ExclusiveStartKey, rebuilt from known attribute names only and
        checked against this partition (ValueError otherwise): a cursor cannot point elsewhere."""
        names = (*self.key_names, "pk", "sk")
        if raw.get(self.key_names[0]) != self.value or any(not isinstance(raw.get(n), str) for n in names):
            raise ValueError("not a position in this list")
        return {n: {"S": raw[n]} for n in names}


@dataclass(frozen=True)
class Card:
    member: Member
    stats: MemberStats


class MemberListRepository:
    def partitions(self, brand_id: str, f: MemberFilters, lead: Lead, ctx: ListContext,
                   store_ids: list[str]) -> list[Partition]:
        """The partitions a list with leading filter `lead` walks, in order. `store_ids`: the
        brand's stores (the rolls of every store when the list names none)."""
        if lead is Lead.MANAGER:
            return [Partition("by_manager", ("manager_key", "member_id"), manager_key(brand_id, f.manager_id or ""))]
        if lead is Lead.ROLL:
            stores = [f.store_id] if f.store_id else store_ids
            prefix = f"{f.tier.value}#" if f.tier else None
            return [Partition("listing", ("listing_pk", "listing_sk"), roll_pk(brand_id, s), sk_prefix=prefix)
                    for s in stores]
        if lead is Lead.BIRTHDAY:
            keys = sorted(ctx.birthday_keys)
            return [Partition("by_birthday", ("bday_key",),
                              solar_birthday_key(k[1:]) if k[0] == "S" else lunar_birthday_key(k[1:]))
                    for k in keys]
        assert ctx.inactive_since is not None
        # months up to the cutoff's own (its members are narrowed to the day by the filter)
        last_month = f"{ctx.inactive_since.astimezone(UTC):%Y-%m}#~"
        return [Partition("listing", ("listing_pk", "listing_sk"), active_pk(brand_id, s), sk_at_most=last_month)
                for s in range(ACTIVE_SHARDS)]

    def keys_page(self, part: Partition, *, start: dict[str, Any] | None,
                  limit: int) -> tuple[list[dict[str, str]], dict[str, str] | None]:
        """One Query of the partition: the index entries (every key attribute, as text) and where
        the Query stopped (None: the partition is done)."""
        values: dict[str, Any] = {":v": {"S": part.value}}
        condition = f"{part.key_names[0]} = :v"
        if part.sk_prefix is not None:
            condition += f" AND begins_with({part.key_names[1]}, :p)"
            values[":p"] = {"S": part.sk_prefix}
        if part.sk_at_most is not None:
            condition += f" AND {part.key_names[1]} <= :m"
            values[":m"] = {"S": part.sk_at_most}
        request: dict[str, Any] = {"TableName": settings().members_table, "IndexName": part.index,
                                   "KeyConditionExpression": condition, "ExpressionAttributeValues": values,
                                   "Limit": limit}
        if start:
            request["ExclusiveStartKey"] = start
        response = dynamodb_client().query(**request)
        items = [{k: v["S"] for k, v in raw.items() if "S" in v} for raw in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return items, ({k: v["S"] for k, v in last.items()} if last else None)

    def cards(self, brand_id: str, member_ids: list[str]) -> dict[str, Card]:
        """The live members among `member_ids` with their figures: BatchGetItem of PROFILE and
        STATS (eventually consistent: a list may lag a write by a second). Erased and unknown
        members are left out."""
        found = read_members_table([(member_pk(brand_id, m), sk) for m in dict.fromkeys(member_ids)
                                    for sk in (PROFILE_SK, STATS_SK)], consistent=False)
        out = {}
        for member_id in member_ids:
            profile = found.get((member_pk(brand_id, member_id), PROFILE_SK))
            if profile is None or "erased_at" in profile:
                continue
            stats_raw = found.get((member_pk(brand_id, member_id), STATS_SK))
            out[member_id] = Card(member=_from_item(MemberItem.from_raw_data(profile)),
                                  stats=stats_of(StatsItem.from_raw_data(stats_raw) if stats_raw else None))
        return out


def member_of_entry(brand_id: str, entry: dict[str, str]) -> str | None:
    """The member an index entry belongs to, when it is one of the brand's (a birthday key is
    shared by every brand, so its partition holds other brands' members too)."""
    prefix = member_pk(brand_id, "")
    pk = entry.get("pk", "")
    return pk.removeprefix(prefix) if pk.startswith(prefix) else None

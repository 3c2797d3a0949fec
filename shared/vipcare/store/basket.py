"""The brand's daily basket aggregate (services/basket.py): the roll of members read store by
store through MembersTable's `listing` index, and the aggregate's own items (KpiTable):

  BRAND#<b>#BASKET / PART#<day>#<store>  one store roll's running totals and where it stopped
                                         (TTL: gone a few days after)
  BRAND#<b>#BASKET / DAY#<day>           the day's totals over the whole roll (the report reads
                                         the newest one; kept like the KPI snapshots)

A part is saved after every page, conditioned on the version read, so a run that stops (its
time is up, it crashed) resumes at the saved member and nothing is counted twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError

from ..domain.basket import BasketTotals
from ..domain.stats import MemberStats
from .attributes import IntegerAttribute
from .kpis import SNAPSHOT_TTL_SECONDS, _KpiModel
from .ledger import STATS_SK, StatsItem, stats_of
from .models import PROFILE_SK, MemberItem, condition_failed, member_pk, read_members_table, roll_member, roll_pk

PART_PREFIX = "PART#"
DAY_PREFIX = "DAY#"
PART_TTL_SECONDS = 3 * 86400
DAY_TTL_SECONDS = SNAPSHOT_TTL_SECONDS


def basket_pk(brand_id: str) -> str:
    return f"BRAND#{brand_id}#BASKET"


class BasketPartItem(_KpiModel):
    class Meta(_KpiModel.Meta):
        pass

    after = UnicodeAttribute(null=True)  # the roll key (`<tier>#<member>`) of the last member counted
    done = BooleanAttribute(default=False)
    totals = UnicodeAttribute()  # BasketTotals.to_json()
    version = IntegerAttribute(default=1)
    expires_at = NumberAttribute(null=True)


class BasketDayItem(_KpiModel):
    class Meta(_KpiModel.Meta):
        pass

    totals = UnicodeAttribute()
    as_of = UTCDateTimeAttribute()
    first_month = UnicodeAttribute()
    last_month = UnicodeAttribute()
    expires_at = NumberAttribute(null=True)


@dataclass
class BasketPart:
    store_id: str
    after: str | None = None
    done: bool = False
    totals: BasketTotals | None = None
    version: int = 0  # 0: not saved yet


@dataclass(frozen=True)
class BasketDay:
    day: date
    totals: BasketTotals
    as_of: datetime
    months: tuple[str, str]  # the window, first and last month


@dataclass(frozen=True)
class RollMember:
    member_id: str
    tier: str
    on_card: bool  # False: an erased tombstone
    stats: MemberStats


class PartMoved(Exception):
    """Another run saved this part meanwhile: leave the store to it."""


def _part_sk(day: date, store_id: str) -> str:
    return f"{PART_PREFIX}{day.isoformat()}#{store_id}"


class BasketRepository:
    def roll_page(self, brand_id: str, store_id: str, *, after: str | None,
                  limit: int) -> tuple[list[RollMember], str | None]:
        """One page of a store's roll (tier, then member id order) with each member's tier and
        figures: a Query of the keys-only index, then BatchGetItem of PROFILE + STATS. Returns
        the members and the roll key to continue after (None: the store is done)."""
        start = None
        if after is not None:
            start = {"listing_pk": {"S": roll_pk(brand_id, store_id)}, "listing_sk": {"S": after},
                     "pk": {"S": member_pk(brand_id, roll_member(after))}, "sk": {"S": PROFILE_SK}}
        page = MemberItem.listing.query(roll_pk(brand_id, store_id), limit=limit, last_evaluated_key=start)
        keys = [i.listing_sk for i in page if i.listing_sk]
        ids = [roll_member(k) for k in keys]
        more = page.last_evaluated_key is not None and len(ids) == limit
        found = read_members_table([(member_pk(brand_id, m), sk) for m in ids for sk in (PROFILE_SK, STATS_SK)],
                                   consistent=False)  # a daily aggregate: eventually consistent is enough
        out = []
        for member_id in ids:
            profile = found.get((member_pk(brand_id, member_id), PROFILE_SK))
            if profile is None:
                continue
            stats_raw = found.get((member_pk(brand_id, member_id), STATS_SK))
            out.append(RollMember(member_id=member_id, tier=profile.get("tier", {}).get("S", "regular"),
                                  on_card="erased_at" not in profile,
                                  stats=stats_of(StatsItem.from_raw_data(stats_raw) if stats_raw else None)))
        return out, (keys[-1] if more and keys else None)

    def parts(self, brand_id: str, day: date) -> dict[str, BasketPart]:
        """The day's saved parts by store (one Query)."""
        out = {}
        for item in BasketPartItem.query(basket_pk(brand_id),
                                         BasketPartItem.sk.startswith(f"{PART_PREFIX}{day.isoformat()}#"),
                                         consistent_read=True):
            store_id = item.sk.removeprefix(f"{PART_PREFIX}{day.isoformat()}#")
            out[store_id] = BasketPart(store_id=store_id, after=item.after, done=bool(item.done),
                                    totals=BasketTotals.from_json(item.totals), version=int(item.version))
        return out

    def save_part(self, brand_id: str, day: date, part: BasketPart) -> BasketPart:
        """Store the part as the next version of the one read; PartMoved when another run got there."""
        assert part.totals is not None
        item = BasketPartItem(basket_pk(brand_id), _part_sk(day, part.store_id), after=part.after, done=part.done,
                              totals=part.totals.to_json(), version=part.version + 1,
                              expires_at=_epoch(day) + PART_TTL_SECONDS)
        condition = (BasketPartItem.pk.does_not_exist() if part.version == 0
                     else BasketPartItem.version == part.version)
        try:
            item.save(condition=condition)
        except PutError as exc:
            if condition_failed(exc):
                raise PartMoved() from None
            raise
        return BasketPart(store_id=part.store_id, after=part.after, done=part.done, totals=part.totals,
                          version=part.version + 1)

    def finish_day(self, brand_id: str, day: BasketDay) -> None:
        """The day's totals (a plain put: every run that gets here writes the same figures); the
        parts expire on their own."""
        BasketDayItem(basket_pk(brand_id), f"{DAY_PREFIX}{day.day.isoformat()}", totals=day.totals.to_json(),
                      as_of=day.as_of, first_month=day.months[0], last_month=day.months[1],
                      expires_at=_epoch(day.day) + DAY_TTL_SECONDS).save()

    def day_done(self, brand_id: str, day: date) -> bool:
        try:
            BasketDayItem.get(basket_pk(brand_id), f"{DAY_PREFIX}{day.isoformat()}")
        except BasketDayItem.DoesNotExist:
            return False
        return True

    def latest_day(self, brand_id: str) -> BasketDay | None:
        """The newest complete aggregate (one Query, newest first)."""
        for item in BasketDayItem.query(basket_pk(brand_id), BasketDayItem.sk.startswith(DAY_PREFIX),
                                        scan_index_forward=False, limit=1):
            return _day(item)
        return None


def _epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _day(item: Any) -> BasketDay:
    return BasketDay(day=date.fromisoformat(item.sk.removeprefix(DAY_PREFIX)),
                     totals=BasketTotals.from_json(item.totals), as_of=item.as_of,
                     months=(item.first_month, item.last_month))

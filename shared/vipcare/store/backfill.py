"""The one-off backfill's reads and writes (services/backfill.py): the only Scans in the
project, of MembersTable's PROFILE, STATS and TXN items, and writes conditional on the key
still being absent (a member's own write meanwhile wins)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date, datetime

from pynamodb.exceptions import UpdateError

from ..domain.members import Member
from ..domain.stats import MemberStats
from .ledger import STATS_SK, TXN_SK, StatsItem, TxnItem, history_sk, points_notice_key, stats_of
from .members import _from_item, consent_audience_key
from .models import PROFILE_SK, MemberItem, active_key, member_pk, roll_key


class BackfillScan:
    def __init__(self, segment: int = 0, segments: int = 1) -> None:
        self.segment, self.segments = segment, segments

    def profiles(self) -> Iterator[tuple[Member, bool, bool]]:
        """Every live member of this segment, whether it has its holiday-audience key, and
        whether it is in its place on its store's roll (absent, or an older release's key)."""
        for item in MemberItem.scan(MemberItem.sk == PROFILE_SK, segment=self.segment,
                                    total_segments=self.segments):
            if item.erased_at is None:
                place = roll_key(item.brand_id, item.store_id, item.tier, item.member_id)
                yield _from_item(item), bool(item.audience_pk), (item.listing_pk, item.listing_sk) == place

    def add_roll_key(self, member: Member) -> bool:
        """Put the member in their place on the store's roll, unless the tier changed meanwhile
        (the tier change moved them itself)."""
        place = roll_key(member.brand_id, member.store_id, member.tier.value, member.member_id)
        with contextlib.suppress(UpdateError):
            MemberItem(member_pk(member.brand_id, member.member_id), PROFILE_SK).update(
                actions=[MemberItem.listing_pk.set(place[0]), MemberItem.listing_sk.set(place[1])],
                condition=(MemberItem.tier == member.tier.value) & MemberItem.pk.exists())
            return True
        return False

    def add_enrolment_figures(self, member: Member) -> bool:
        """Date the member's figures from the enrolment; a member with no purchase yet gets the
        last-activity key of the enrolment month (creating the STATS item when there is none)."""
        item = StatsItem(member_pk(member.brand_id, member.member_id), STATS_SK)
        place = active_key(member.brand_id, member.member_id, member.enrolled_at)
        with contextlib.suppress(UpdateError):
            item.update(actions=[StatsItem.since.set(member.enrolled_at), StatsItem.listing_pk.set(place[0]),
                                 StatsItem.listing_sk.set(place[1])],
                        condition=StatsItem.last_purchase_at.does_not_exist() & StatsItem.since.does_not_exist())
            return True
        with contextlib.suppress(UpdateError):  # bought already: only the date (the key comes from the purchase)
            item.update(actions=[StatsItem.since.set(member.enrolled_at)], condition=StatsItem.since.does_not_exist())
        return False

    def unlisted_transactions(self) -> Iterator[tuple[str, str, str, str, datetime]]:
        """(pk, brand, member, store#txn, occurred_at) of every applied sale or return of the
        segment that is not yet in its member's history."""
        condition = (TxnItem.sk == TXN_SK) & (TxnItem.status == "applied") & TxnItem.listing_pk.does_not_exist()
        for item in TxnItem.scan(condition, segment=self.segment, total_segments=self.segments):
            if item.member_id and item.occurred_at:
                yield item.pk, item.brand_id, item.member_id, f"{item.store_id}#{item.transaction_id}", item.occurred_at

    def add_history_key(self, pk: str, brand_id: str, member_id: str, ref: str, occurred_at: datetime) -> bool:
        store_id, _, transaction_id = ref.partition("#")
        with contextlib.suppress(UpdateError):
            TxnItem(pk, TXN_SK).update(
                actions=[TxnItem.listing_pk.set(member_pk(brand_id, member_id)),
                         TxnItem.listing_sk.set(history_sk(occurred_at, store_id, transaction_id))],
                condition=TxnItem.listing_pk.does_not_exist() & TxnItem.pk.exists())
            return True
        return False

    def add_audience_key(self, member: Member) -> bool:
        """Put the member in their brand's marketing audience, if they consented and still have
        no key. False when there is nothing to do or a write meanwhile set (or removed) it."""
        key = consent_audience_key(member.brand_id, member.member_id, member.consent.sms_marketing)
        if key is None or member.sms_opted_out:
            return False
        with contextlib.suppress(UpdateError):
            MemberItem(member_pk(member.brand_id, member.member_id), PROFILE_SK).update(
                actions=[MemberItem.audience_pk.set(key)],
                condition=MemberItem.audience_pk.does_not_exist() & MemberItem.pk.exists())
            return True
        return False

    def figures(self) -> Iterator[tuple[str, str, MemberStats, bool, bool]]:
        """(brand, member, figures, has a points-notice key, has a last-activity key) of every
        STATS item of the segment."""
        for item in StatsItem.scan(StatsItem.sk == STATS_SK, segment=self.segment, total_segments=self.segments):
            _, brand_id, _, member_id = item.pk.split("#", 3)
            yield brand_id, member_id, stats_of(item), bool(item.audience_pk), bool(item.listing_pk)

    def add_active_key(self, brand_id: str, member_id: str, last_purchase_at: datetime) -> bool:
        place = active_key(brand_id, member_id, last_purchase_at)
        with contextlib.suppress(UpdateError):  # a purchase meanwhile wrote the key itself
            StatsItem(member_pk(brand_id, member_id), STATS_SK).update(
                actions=[StatsItem.listing_pk.set(place[0]), StatsItem.listing_sk.set(place[1])],
                condition=StatsItem.listing_pk.does_not_exist() & (StatsItem.last_purchase_at == last_purchase_at))
            return True
        return False

    def add_points_notice(self, brand_id: str, member_id: str, day: date) -> bool:
        with contextlib.suppress(UpdateError):  # a purchase meanwhile wrote the key itself
            StatsItem(member_pk(brand_id, member_id), STATS_SK).update(
                actions=[StatsItem.audience_pk.set(points_notice_key(day))],
                condition=StatsItem.audience_pk.does_not_exist() & StatsItem.pk.exists())
            return True
        return False

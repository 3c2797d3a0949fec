"""KpiTable: KPI counters per brand, month and store; the running tier stock per store; the
monthly VIP snapshots; processed-event markers. Layout in docs/kpis.md.

Writers add to the counters inside their own transaction where they have one (enrolment,
contacts), so the effect and its count are written together or not at all; bus events are
counted once through a marker put in the same transaction as the ADDs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from ..config import settings
from ..domain.kpi_policy import KpiPolicy
from ..domain.kpis import COUNTERS, GOLD_PLUS, OPENING, SNAPSHOT, TIERS
from .clients import REGION as _REGION
from .models import _SharedClientModel, condition_failed_at

MARKER_TTL_SECONDS = 35 * 86400
SNAPSHOT_TTL_SECONDS = 400 * 86400


def counters_pk(brand_id: str, period: str) -> str:
    return f"BRAND#{brand_id}#KPI#{period}"


def stock_pk(brand_id: str) -> str:
    return f"BRAND#{brand_id}#STOCK"


def snapshot_pk(brand_id: str, period: str) -> str:
    return f"BRAND#{brand_id}#SNAP#{period}"


class _KpiModel(_SharedClientModel):
    class Meta:
        table_name = settings().kpi_table
        region = _REGION

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class _Meta(_KpiModel.Meta):
    pass


# One number attribute per counter, named by the domain's lists (one place for the names):
# counters sk STORE#<store> under BRAND#<b>#KPI#<period>; stock sk STORE#<store> under
# BRAND#<b>#STOCK (members per tier now: ADD +1/-1 at enrolment and tier changes).
CountersItem: Any = type("CountersItem", (_KpiModel,), {
    "__doc__": "A store's KPI counters for one month.", "Meta": _Meta,
    "store_id": UnicodeAttribute(null=True), **{n: NumberAttribute(null=True) for n in COUNTERS}})
StockItem: Any = type("StockItem", (_KpiModel,), {
    "__doc__": "A store's members per tier now.", "Meta": _Meta,
    "store_id": UnicodeAttribute(null=True), **{t: NumberAttribute(null=True) for t in TIERS}})


class MarkerItem(_KpiModel):
    """pk EVENT#<event_id>, sk EVENT: the event was counted (TTL: longer than any redelivery)."""

    class Meta(_KpiModel.Meta):
        pass

    expires_at = NumberAttribute(null=True)


class SnapshotMemberItem(_KpiModel):
    """pk BRAND#<b>#SNAP#<period>, sk <member_id>: a VIP at the start of the period."""

    class Meta(_KpiModel.Meta):
        pass

    tier = UnicodeAttribute()
    store_id = UnicodeAttribute()
    expires_at = NumberAttribute(null=True)
    # the year of an activity invitation this VIP had (store/activities.py flags it; the next
    # month's snapshot carries it within the same year)
    invited_year = NumberAttribute(null=True)
    # 1 once a contact in the period counted this gold+ VIP for contact coverage (store/contacts.py)
    contacted = NumberAttribute(null=True)


@dataclass(frozen=True)
class SnapshotMember:
    member_id: str
    tier: str
    store_id: str
    invited_year: int | None = None
    contacted: bool = False


def gold_plus_entry(brand_id: str, period: str, member_id: str) -> SnapshotMember | None:
    """The member's entry in the period's opening snapshot when they were gold+ in it (one
    GetItem; the snapshot is written once at the month's start, so an eventual read is fine)."""
    try:
        i = SnapshotMemberItem.get(snapshot_pk(brand_id, period), member_id)
    except SnapshotMemberItem.DoesNotExist:
        return None
    if i.tier not in GOLD_PLUS:
        return None
    return _member(i)


def flag_contacted(tx: TransactWrite, brand_id: str, period: str, entry: SnapshotMember) -> None:
    """In the caller's transaction: flag the snapshot entry contacted, once (condition fails
    when flagged already)."""
    tx.update(SnapshotMemberItem(snapshot_pk(brand_id, period), entry.member_id),
              actions=[SnapshotMemberItem.contacted.set(1)],
              condition=SnapshotMemberItem.pk.exists() & SnapshotMemberItem.contacted.does_not_exist())


def _member(i: Any) -> SnapshotMember:
    return SnapshotMember(i.sk, i.tier, i.store_id, int(i.invited_year) if i.invited_year else None,
                          bool(i.contacted))


class SnapshotRunItem(_KpiModel):
    """pk BRAND#<b>#SNAPRUN, sk <period>: the period's snapshot run is complete."""

    class Meta(_KpiModel.Meta):
        pass

    finished_at = UnicodeAttribute(null=True)
    kpi_policy_version = NumberAttribute(null=True)  # the brand's KPI policy the run judged by


def _adds(model: Any, counts: dict[str, int]) -> list[Action]:
    return [getattr(model, name).add(value) for name, value in counts.items() if value]


def add_counters(tx: TransactWrite, brand_id: str, period: str, store_id: str, counts: dict[str, int]) -> None:
    """In the caller's transaction: ADD the counts to the month's counters of the store."""
    actions = _adds(CountersItem, counts)
    if actions:
        tx.update(CountersItem(counters_pk(brand_id, period), f"STORE#{store_id}"),
                  actions=[CountersItem.store_id.set(store_id), *actions])


def add_stock(tx: TransactWrite, brand_id: str, store_id: str, deltas: dict[str, int]) -> None:
    actions = _adds(StockItem, deltas)
    if actions:
        tx.update(StockItem(stock_pk(brand_id), f"STORE#{store_id}"),
                  actions=[StockItem.store_id.set(store_id), *actions])


def _connection() -> Any:
    return CountersItem._get_connection().connection


class KpiRepository:
    def add(self, brand_id: str, period: str, store_id: str, counts: dict[str, int]) -> None:
        """ADD outside any transaction (SMS outcomes: counted right after the record's write)."""
        actions = _adds(CountersItem, counts)
        if actions:
            CountersItem(counters_pk(brand_id, period), f"STORE#{store_id}").update(
                actions=[CountersItem.store_id.set(store_id), *actions])

    def count_event(self, event_id: str, now: datetime, *, brand_id: str, period: str, store_id: str,
                    counts: dict[str, int], stock: dict[str, int]) -> bool:
        """Count a bus event once: the marker and the ADDs in one transaction. False when the
        event was counted before (a redelivery)."""
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.save(MarkerItem(f"EVENT#{event_id}", "EVENT",
                                   expires_at=int(now.timestamp()) + MARKER_TTL_SECONDS),
                        condition=MarkerItem.pk.does_not_exist())
                add_counters(tx, brand_id, period, store_id, counts)
                add_stock(tx, brand_id, store_id, stock)
        except TransactWriteError as exc:
            if condition_failed_at(exc, 0):
                return False
            raise
        return True

    def counters(self, brand_id: str, period: str) -> dict[str, dict[str, int]]:
        """store -> counters of the month (one Query)."""
        return {i.sk.removeprefix("STORE#"): {n: int(getattr(i, n) or 0) for n in COUNTERS}
                for i in CountersItem.query(counters_pk(brand_id, period))}

    def stock(self, brand_id: str) -> dict[str, dict[str, int]]:
        """store -> members per tier now (one Query)."""
        return {i.sk.removeprefix("STORE#"): {t: int(getattr(i, t) or 0) for t in TIERS}
                for i in StockItem.query(stock_pk(brand_id))}

    # ---- the monthly snapshot
    def snapshot_done(self, brand_id: str, period: str) -> bool:
        try:
            SnapshotRunItem.get(f"BRAND#{brand_id}#SNAPRUN", period)
        except SnapshotRunItem.DoesNotExist:
            return False
        return True

    def finish_snapshot(self, brand_id: str, period: str, now: datetime, *, policy_version: int = 0) -> None:
        with contextlib.suppress(PutError):  # an overlapping run finished it first
            SnapshotRunItem(f"BRAND#{brand_id}#SNAPRUN", period, finished_at=now.isoformat(),
                            kpi_policy_version=policy_version).save(condition=SnapshotRunItem.pk.does_not_exist())

    def policy(self, brand_id: str) -> KpiPolicy:
        """The brand's KPI policy in force (store/kpi_policy.py keeps its versions)."""
        from .kpi_policy import KpiPolicyRepository  # it builds on this module's table model

        return KpiPolicyRepository().current(brand_id)

    def snapshot_members(self, brand_id: str, period: str) -> list[SnapshotMember]:
        """The VIPs at the start of `period`, with their tier and store then."""
        return [_member(i) for i in SnapshotMemberItem.query(snapshot_pk(brand_id, period))]

    def put_snapshot(self, brand_id: str, period: str, members: Iterable[SnapshotMember], now: datetime) -> None:
        """Each VIP at the start of `period`, with their tier, store and invitation year. Puts
        replace: the caller leaves out the entries a previous, interrupted run wrote (their
        flags may have been set since)."""
        expires = int(now.timestamp()) + SNAPSHOT_TTL_SECONDS
        with SnapshotMemberItem.batch_write() as batch:
            for m in members:
                batch.save(SnapshotMemberItem(snapshot_pk(brand_id, period), m.member_id, tier=m.tier,
                                              store_id=m.store_id, expires_at=expires, invited_year=m.invited_year))

    def set_snapshot_figures(self, brand_id: str, period: str, per_store: dict[str, dict[str, int]]) -> None:
        """SET (not ADD) the snapshot figures of a month per store: a rerun writes the same."""
        for store_id, values in per_store.items():
            actions = [CountersItem.store_id.set(store_id)]
            actions += [getattr(CountersItem, n).set(int(values.get(n, 0))) for n in SNAPSHOT]
            CountersItem(counters_pk(brand_id, period), f"STORE#{store_id}").update(actions=actions)

    def set_opening_figures(self, brand_id: str, period: str, per_store: dict[str, dict[str, int]]) -> None:
        """SET the month's opening figures per store (docs/kpis.md): a rerun writes the same."""
        for store_id, values in per_store.items():
            actions = [CountersItem.store_id.set(store_id)]
            actions += [getattr(CountersItem, n).set(int(values.get(n, 0))) for n in OPENING]
            CountersItem(counters_pk(brand_id, period), f"STORE#{store_id}").update(actions=actions)

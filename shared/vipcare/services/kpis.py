"""KPI use cases (docs/domain.md §6, docs/kpis.md): counting tier changes from the bus, the
monthly VIP snapshot (churn and retention), and the report by store, region or brand.

Nothing here scans members or the ledger at report time: a report is one Query of the
month's counters, one of the tier stock (current month) and one of the complaint counters.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain import kpis as rules
from ..domain.access import Caller
from ..domain.errors import Forbidden, ValidationFailed
from ..domain.kpi_policy import KpiPolicy
from ..domain.months import month_of, months_between, shift
from ..store.complaints import KPI_COUNTERS as COMPLAINT_COUNTERS
from ..store.kpis import SnapshotMember
from .brands import brand_settings
from .care_ports import CareDeps
from .ports import BrandSource, ComplaintStore, Directory, KpiStore, Ledger

MAX_HISTORY_MONTHS = 24
DEFAULT_HISTORY_MONTHS = 12


# ---- counting as things happen ------------------------------------------------------------


def on_tier_changed(detail: dict[str, Any], *, kpis: KpiStore, directory: BrandSource) -> str:
    """A TierChanged event: the month's upgrades / downgrades / new VIPs and the tier stock,
    counted once per event id (redeliveries are recognised)."""
    brand_id, store_id = str(detail["brand_id"]), str(detail.get("store_id") or "")
    event_id = str(detail.get("event_id") or "")
    if not event_id or not store_id:
        return "unreadable"
    at = datetime.fromisoformat(str(detail["at"]))
    flows, stock = rules.tier_move(str(detail["from"]), str(detail["to"]))
    counted = kpis.count_event(
        event_id, at, brand_id=brand_id, period=month_of(at, brand_settings(brand_id, directory).timezone),
        store_id=store_id,
        counts=flows, stock=stock)
    return "counted" if counted else "duplicate"


# ---- the monthly snapshot -------------------------------------------------------------------


@dataclass
class SnapshotRun:
    now: datetime
    brands: int = 0
    taken: int = 0  # brands whose month started: snapshot taken now
    vips: int = 0
    evaluated: int = 0
    lost: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"time": self.now.isoformat(), "brands": self.brands, "taken": self.taken, "vips": self.vips,
                "evaluated": self.evaluated, "lost": self.lost}


def run_snapshot(now: datetime, *, care: CareDeps, kpis: KpiStore, ledger: Ledger) -> SnapshotRun:
    """For each brand whose local month P has started and has no snapshot yet:
    1. churn of the previous month: its snapshot's members (VIPs at its start) who left (the
       profile is gone) -> `snapshot`, `left` of that month, overall, gold+ and per tier;
    2. retention at the previous month's end: the members of the snapshot of its retention
       window's first month, lost by the brand's rule (domain.kpi_policy) -> `retention_*`;
    3. the tier mix now is recorded as that month's end (`members_<tier>`);
    4. today's VIP set (every silver+ member has a cadence review: CareTable `due` index
       CADENCE#<n>, read whole; no member scan) becomes P's snapshot.
    Figures are SET, not ADDed, so an interrupted run simply runs again."""
    directory = care.directory
    run = SnapshotRun(now)
    vip_sets: dict[str, list[str]] | None = None  # brand -> its VIPs' member ids, read once
    for brand_id in directory.brand_ids():
        run.brands += 1
        period = month_of(now, brand_settings(brand_id, directory).timezone)
        if kpis.snapshot_done(brand_id, period):
            continue
        previous = shift(period, -1)
        policy = kpis.policy(brand_id)
        members = kpis.snapshot_members(brand_id, previous)
        start = policy.window_start(previous)
        window = members if start == previous else kpis.snapshot_members(brand_id, start)
        ids = {m.member_id for m in (*members, *window)}
        stats = ledger.stats_many(brand_id, list(ids))
        alive = {p.member_id for p in care.members.profiles((brand_id, m) for m in ids)}
        per_store: dict[str, dict[str, int]] = {}
        for m in members:
            left = m.member_id not in alive
            _count(per_store, m, "snapshot", "left", left)
            run.evaluated += 1
            run.lost += int(left)
        for m in window:
            lost = policy.is_lost(stats.get(m.member_id), window_start=start, period=previous, at=now,
                                  closed=m.member_id not in alive)
            _count(per_store, m, "retention_snapshot", "retention_lost", lost, per_tier=False)
        for store_id, tiers in kpis.stock(brand_id).items():
            figures = per_store.setdefault(store_id, {})
            figures.update({f"members_{t}": n for t, n in tiers.items()})
            figures["stock_recorded"] = 1
        kpis.set_snapshot_figures(brand_id, previous, per_store)
        if vip_sets is None:
            vip_sets = _vip_sets(care)
        vips = vip_sets.get(brand_id, [])
        profiles = {p.member_id: p for p in care.members.profiles((brand_id, m) for m in vips)}
        # an invitation earlier this year stays with the VIP into the new month's snapshot
        year = int(period[:4])
        invited = {m.member_id for m in members if m.invited_year == year}
        # entries an interrupted run wrote stay as they are: flags may have been set on them since
        written = {m.member_id: m for m in kpis.snapshot_members(brand_id, period)}
        new = [SnapshotMember(m, profiles[m].tier.value, profiles[m].store_id, year if m in invited else None)
               for m in vips if m in profiles and profiles[m].tier in rules.VIP_TIERS and m not in written]
        kpis.put_snapshot(brand_id, period, new, now)
        kpis.set_opening_figures(brand_id, period, _opening_figures([*written.values(), *new], invited))
        kpis.finish_snapshot(brand_id, period, now, policy_version=policy.version)
        run.taken += 1
        run.vips += len(vips)
    return run


def _count(per_store: dict[str, dict[str, int]], m: SnapshotMember, base: str, out: str, hit: bool, *,
           per_tier: bool = True) -> None:
    """One snapshot member into its store's figures: the base, and `out` when `hit`, overall,
    gold+ and (churn) per tier: every numerator counted within its own base."""
    figures = per_store.setdefault(m.store_id, {})
    names = [("", True), ("_gold_plus", m.tier in rules.GOLD_PLUS)]
    if per_tier:
        names.append((f"_{m.tier}", True))
    for suffix, member_of in names:
        if member_of:
            figures[base + suffix] = figures.get(base + suffix, 0) + 1
            figures[out + suffix] = figures.get(out + suffix, 0) + int(hit)


def _opening_figures(opening: list[SnapshotMember], carried: set[str]) -> dict[str, dict[str, int]]:
    """Per store: the snapshot's VIPs, its gold+ ones, and those invited earlier in the year
    (`carried`: from the previous snapshot, not a flag set on this one during the month)."""
    out: dict[str, dict[str, int]] = {}
    for m in opening:
        figures = out.setdefault(m.store_id, {"vips_at_start": 0, "gold_plus_at_start": 0, "activity_vips_carried": 0})
        figures["vips_at_start"] += 1
        figures["gold_plus_at_start"] += int(m.tier in rules.GOLD_PLUS)
        figures["activity_vips_carried"] += int(m.member_id in carried)
    return out


def _vip_sets(care: CareDeps) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for c in care.cadence.every():
        out.setdefault(c.brand_id, []).append(c.member_id)
    return out


# ---- the report -----------------------------------------------------------------------------


def _scope(caller: Caller, store_id: str | None, region: str | None,
           directory: Directory) -> tuple[str, str, set[str] | None]:
    """(level, scope id, the stores in scope or None for the whole brand). Store staff and
    managers see their own store only."""
    if store_id is not None and region is not None:
        raise ValidationFailed("give store_id or region, not both", field="region")
    if caller.store_scoped:
        if store_id is not None and store_id != caller.store_id:
            raise Forbidden("you can only see your own store's figures", field="store_id")
        if region is not None:
            raise Forbidden("you can only see your own store's figures", field="region")
        store_id = caller.store_id
    if store_id is not None:
        return "store", store_id, {store_id}
    if region is not None:
        stores = {s.store_id for s in directory.stores(caller.brand_id) if s.region == region}
        if not stores:
            raise ValidationFailed(f"no store of the brand is in region {region!r}", field="region")
        return "region", region, stores
    return "brand", caller.brand_id, None


def _in(scope: set[str] | None, per_store: dict[str, dict[str, int]]) -> list[dict[str, int]]:
    return [c for s, c in per_store.items() if scope is None or s in scope]


def _document(caller: Caller, period: str, level: str, scope_id: str, scope: set[str] | None, *,
              current: str, kpis: KpiStore, complaints: ComplaintStore,
              stock: dict[str, dict[str, int]] | None, policy: KpiPolicy) -> dict[str, Any]:
    counters = rules.total(_in(scope, kpis.counters(caller.brand_id, period)), rules.COUNTERS)
    complaint_counts = rules.total(_in(scope, complaints.kpis(caller.brand_id, period, None)), COMPLAINT_COUNTERS)
    for name in ("nps_responses", "nps_promoters", "nps_passives", "nps_detractors"):
        counters[name] += complaint_counts[name]  # NPS comes with complaint feedback and after contacts
    if period == current or not counters["stock_recorded"]:
        # the month is still running (or predates the snapshots): the tier mix now
        by_tier = rules.total(_in(scope, stock or {}), rules.TIERS)
        as_of = "now"
    else:
        by_tier = {t: counters[f"members_{t}"] for t in rules.TIERS}
        as_of = "period_end"
    return {"brand_id": caller.brand_id, "level": level, "scope_id": scope_id, "period": period,
            "members_as_of": as_of, **rules.figures(counters, by_tier, complaint_counts, period=period, policy=policy)}


def kpi_report(caller: Caller, period: str, *, store_id: str | None = None, region: str | None = None,
               now: datetime, kpis: KpiStore, complaints: ComplaintStore, directory: Directory) -> dict[str, Any]:
    return next(_reports(caller, [period], store_id=store_id, region=region, now=now, kpis=kpis,
                         complaints=complaints, directory=directory))


def kpi_history(caller: Caller, first: str | None, last: str | None, *, store_id: str | None = None,
                region: str | None = None, now: datetime, kpis: KpiStore, complaints: ComplaintStore,
                directory: Directory) -> list[dict[str, Any]]:
    """The reports of `first`..`last`; a missing end makes it 12 months (none: up to now)."""
    if last is None:
        current = month_of(now, brand_settings(caller.brand_id, directory).timezone)
        last = current if first is None else min(shift(first, DEFAULT_HISTORY_MONTHS - 1), current)
    if first is None:
        first = shift(last, -(DEFAULT_HISTORY_MONTHS - 1))
    span = months_between(first, last)
    if span < 0:
        raise ValidationFailed("`from` must not be after `to`", field="from")
    if span >= MAX_HISTORY_MONTHS:
        raise ValidationFailed(f"at most {MAX_HISTORY_MONTHS} months at a time", field="from")
    periods = [shift(first, i) for i in range(span + 1)]
    return list(_reports(caller, periods, store_id=store_id, region=region, now=now, kpis=kpis,
                         complaints=complaints, directory=directory))


def _reports(caller: Caller, periods: list[str], *, store_id: str | None, region: str | None, now: datetime,
             kpis: KpiStore, complaints: ComplaintStore, directory: Directory) -> Iterator[dict[str, Any]]:
    level, scope_id, scope = _scope(caller, store_id, region, directory)
    current = month_of(now, brand_settings(caller.brand_id, directory).timezone)
    stock = kpis.stock(caller.brand_id)
    policy = kpis.policy(caller.brand_id)
    for period in periods:
        yield _document(caller, period, level, scope_id, scope, current=current, kpis=kpis,
                        complaints=complaints, stock=stock, policy=policy)

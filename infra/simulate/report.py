"""One simulation end to end: the world, the drive, the invariants over what it left, and the
figures it prints (the run's time, what happened, each month's headline KPIs)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from . import invariants, observe, schedules
from .driver import Run, drive
from .world import BRAND, World


def months_before(end: date, months: int) -> date:
    y, m = end.year, end.month - months
    while m <= 0:
        y, m = y - 1, m + 12
    return date(y, m, min(end.day, 28))


@dataclass
class Outcome:
    run: Run
    rows: list[invariants.Row]
    reports: dict[str, dict] = field(default_factory=dict)

    @property
    def broken(self) -> int:
        return sum(r.broken for r in self.rows)

    def headline(self) -> list[str]:
        lines = [f"{'month':<8} {'members':>7} {'silver':>6} {'gold':>5} {'diamond':>7} {'enrolled':>8} "
                 f"{'upgr':>5} {'downgr':>6} {'sms':>5} {'nps':>5} {'coverage':>8} {'complaints':>10} "
                 f"{'timely':>6}"]
        for month, r in sorted(self.reports.items()):
            tiers, c = r["members_by_tier"], r["complaints"]
            lines.append(f"{month:<8} {sum(tiers.values()):>7} {tiers['silver']:>6} {tiers['gold']:>5} "
                         f"{tiers['diamond']:>7} {r['enrolled']:>8} {r['upgrades']:>5} {r['downgrades']:>6} "
                         f"{r['sms']['sent']:>5} {_s(r['nps']['score']):>5} {_s(r['contacts']['coverage']):>8} "
                         f"{c['opened']:>10} {_s(c['timeliness']):>6}")
        return lines

    def text(self, seconds: float) -> str:
        run = self.run
        jobs = ", ".join(f"{k} {v}" for k, v in sorted(run.job_runs.items()))
        return "\n".join([
            "",
            f"simulated {run.first:%Y-%m-%d %H:%M}Z .. {run.end:%Y-%m-%d %H:%M}Z in {seconds:.0f}s "
            f"(drive {run.seconds:.0f}s)",
            f"members {len(run.members)}, sales {len(run.sales)}, returns {len(run.returns)}, complaints "
            f"{len(run.complaints)}, contacts {run.contacts}, API answers not 2xx {len(run.refused)}",
            f"job runs: {jobs}",
            "",
            *self.headline(),
            "",
            invariants.table(self.rows),
            "",
            f"{'all invariants hold' if not self.broken else f'{self.broken} broken'}",
        ])


def _s(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, str) and "." in value:
        return f"{Decimal(value) * 100:.0f}%"
    return str(value)


def qualifying(spend: Decimal, purchases: int) -> str:
    from vipcare.domain.tiers import DEFAULT_POLICY, qualifying_tier

    return qualifying_tier(DEFAULT_POLICY, spend, purchases).value


def simulate(*, members: int, months: int, end: date, seed: int = 19, days: int | None = None,
             with_iam: bool = False, log: Callable[[str], None] = print) -> Outcome:
    first = end - timedelta(days=days) if days else months_before(end, months)
    world = World(members=members, first_day=first, days=(end - first).days, seed=seed)
    jobs = {s.function: s.every for s in schedules.schedules()}

    def after(run: Run) -> Outcome:
        periods = sorted({(first + timedelta(days=n)).strftime("%Y-%m") for n in range(world.days)})
        items = observe.items(BRAND, periods, run.end)
        period = invariants.Period(run.first, run.end, jobs)
        return Outcome(run, invariants.check(items, period, qualifying), items.kpi_reports)

    return drive(world, after, log=log, with_iam=with_iam)[1]


def as_json(outcome: Outcome) -> str:
    return json.dumps({r.name: r.broken for r in outcome.rows}, ensure_ascii=False)

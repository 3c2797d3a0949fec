"""A few simulated days across a month's end through the real handlers and every firing of the
scheduled jobs (infra/simulate): every invariant holds. The days are the last of the month
before the clock's current one and the first two of it (the simulator moves the process clock
to each simulated moment itself)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from infra.simulate import report
from infra.simulate.world import World
from tests.support import clock
from vipcare.domain.months import shift

MONTH = clock.brand_month(clock.now())
FIRST = date.fromisoformat(f"{MONTH}-01")
END = FIRST + timedelta(days=2)  # the previous month's last day to the 2nd: the snapshot runs on the 1st


def lunar_born_on(day: date) -> date:
    """A solar date of birth whose lunar birthday falls on `day` this year."""
    from lunardate import LunarDate

    lunar = LunarDate.from_solar_date(day.year, day.month, day.day)
    return LunarDate(1980, lunar.month, lunar.day).to_solar_date()


def test_a_few_simulated_days_keep_every_invariant(monkeypatch):
    made = World.__post_init__

    def with_occasions(self: World) -> None:
        """Birthdays (solar and lunar) on the simulated days and some keen buyers, so the rules
        that matter have something to act on."""
        made(self)
        self.complaint_rate = 0.03
        for i, p in enumerate(self.people[:8]):
            day = FIRST + timedelta(days=i % 2)
            self.people[i] = replace(p, birthday=lunar_born_on(day) if i % 4 == 3 else day.replace(year=1985),
                                     lunar=i % 4 == 3, consent=True, joins=self.first_day)
        for i, p in enumerate(self.people[8:16], start=8):
            self.people[i] = replace(p, visits_per_month=40.0, basket=(3000, 20000), joins=self.first_day)

    monkeypatch.setattr(World, "__post_init__", with_occasions)
    outcome = report.simulate(members=40, months=0, days=3, end=END, log=lambda _: None)
    print(outcome.text(outcome.run.seconds))
    assert outcome.run.refused == []
    assert outcome.run.sales and outcome.run.complaints
    assert {r.name: r.broken for r in outcome.rows} == {r.name: 0 for r in outcome.rows}
    assert outcome.run.job_runs["ComplaintRoutingFunction"] == 3 * 96
    assert set(outcome.reports) == {shift(MONTH, -1), MONTH}
    assert outcome.reports[MONTH]["sms"]["sent"] >= 8  # the birthdays at least

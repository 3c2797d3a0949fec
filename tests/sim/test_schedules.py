"""The simulator fires each scheduled function as its template.yaml rule would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from infra.simulate import schedules

MIDNIGHT = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)  # 00:00 in Shanghai: any UTC hour start will do


def test_rates_and_hourly_crons_are_read_and_anything_else_refused():
    assert schedules.parse("rate(15 minutes)") == (timedelta(minutes=15), timedelta(0))
    assert schedules.parse("rate(1 hour)") == (timedelta(hours=1), timedelta(0))
    assert schedules.parse("cron(20 * * * ? *)") == (timedelta(hours=1), timedelta(minutes=20))
    with pytest.raises(ValueError):
        schedules.parse("cron(0 2 * * ? *)")


def test_every_scheduled_function_of_the_template_fires_on_its_minutes():
    by_function = {s.function: s for s in schedules.schedules()}
    assert set(by_function) == {"ComplaintRoutingFunction", "TierReevaluationFunction", "ReminderDispatchFunction",
                                "KpiReportsFunction"}
    day = {f: schedules.firings(s, MIDNIGHT, MIDNIGHT + timedelta(days=1)) for f, s in by_function.items()}
    assert len(day["ComplaintRoutingFunction"]) == 96
    assert [t.minute for t in day["KpiReportsFunction"]] == [20] * 24
    assert day["TierReevaluationFunction"][0] == MIDNIGHT + timedelta(minutes=5)
    event = schedules.scheduled_event(by_function["KpiReportsFunction"], day["KpiReportsFunction"][0])
    assert (event["source"], event["time"]) == ("aws.events", "2026-03-01T16:20:00Z")

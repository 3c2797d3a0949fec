"""Keeps `make bench` working: one quick round, checks the table's shape, never its timings."""

from __future__ import annotations

from tests.bench import cold_start


def test_cold_start_bench_measures_every_function_and_the_baseline(capsys):
    assert cold_start.main(["--runs", "1"]) == 0
    out = capsys.readouterr().out
    assert "baseline" in out
    for name in cold_start.FIRST_REQUEST:
        assert f"\n{name} " in out


def test_cost_per_event_bench_meters_a_sale_within_target(capsys):
    from tests.bench import cost_per_event

    assert cost_per_event.main([]) == 0
    out = capsys.readouterr().out
    sale = next(line for line in out.splitlines() if line.startswith("sale applied"))
    requests, rcu, wcu = sale.split()[3:6]
    assert int(requests) == 2 and float(wcu) <= 4.0

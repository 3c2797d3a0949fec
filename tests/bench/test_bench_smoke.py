"""Keeps `make bench` working: one quick round, checks the table's shape, never its timings."""

from __future__ import annotations

from tests.bench import cold_start


def test_cold_start_bench_measures_every_function_and_the_baseline(capsys):
    assert cold_start.main(["--runs", "1"]) == 0
    out = capsys.readouterr().out
    assert "baseline" in out
    for name in cold_start.FIRST_REQUEST:
        assert f"\n{name} " in out

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
def test_escalation_bench_escalates_every_case_once_and_the_rerun_reads_only_the_index():
    from tests.bench import escalation_job

    r = escalation_job.measure(12)
    assert (r["first"]["due"], r["first"]["escalated"]) == (12, 12)
    assert (r["second"]["due"], r["second"]["escalated"]) == (0, 0)
    assert r["second_calls"] == {"Query": 10}  # one Query per shard of the sparse index, nothing else
    assert "Scan" not in r["first_calls"]


def test_reminder_job_reads_grow_with_the_days_occasions_not_the_member_count(capsys):
    from tests.bench import reminder_job

    small = reminder_job.measure(2_000, 20)
    big = reminder_job.measure(20_000, 20)
    with capsys.disabled():
        print("\n" + reminder_job.report(small) + "\n" + reminder_job.report(big))
    assert big["sent"] == small["sent"] == 20
    assert (big["read_requests"], big["items_read"]) == (small["read_requests"], small["items_read"])
    assert big["items_read"] == 2 * 20  # the index keys of today's birthdays, then their profiles
    assert "Scan" not in big["requests"]

"""Keeps `make bench` working: one quick round, checks the table's shape, never its timings."""

from __future__ import annotations

import re

from tests.bench import cold_start


def test_cold_start_bench_measures_every_function_and_the_baseline(capsys):
    # The dev-venv rows only: the Lambda-like environment needs a sam build and PyPI the first time.
    assert cold_start.main(["--runs", "1", "--env", "dev", "--top", "3"]) == 0
    out = capsys.readouterr().out
    table, budget = out.split("Import budget")
    assert "baseline" in table
    for name in cold_start.FIRST_REQUEST:
        assert f"\n{name} " in table
        line = next(line for line in budget.splitlines() if line.startswith(f"{name} "))
        assert re.fullmatch(rf"{name} +\d+\.\d( +\S+ \d+\.\d){{3}}", line), line  # total, 3 packages with ms


def test_cold_start_bench_swaps_only_the_compiled_distributions_for_the_host(tmp_path):
    site = tmp_path / "python"
    for name, tag in (("pydantic_core", "cp313-cp313-manylinux2014_aarch64"), ("pydantic", "py3-none-any")):
        info = site / f"{name}-1.0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Name: {name}\nVersion: 1.0\n")
        (info / "WHEEL").write_text(f"Root-Is-Purelib: {'false' if 'aarch64' in tag else 'true'}\nTag: {tag}\n")
        (info / "RECORD").write_text(f"{name}/__init__.py,,\n")
    found = {d["name"]: d["compiled"] for d in cold_start._distributions(site)}
    assert found == {"pydantic": False, "pydantic_core": True}
    assert cold_start.logical_id("purchase_api") == "PurchaseApiFunction"


def test_cost_per_event_bench_meters_a_sale_within_target(capsys):
    from tests.bench import cost_per_event

    assert cost_per_event.main([]) == 0
    out = capsys.readouterr().out
    sale = next(line for line in out.splitlines() if line.startswith("sale applied"))
    requests, rcu, wcu = sale.split()[3:6]
    assert int(requests) == 2 and float(wcu) <= 5.0  # the contract, with the member's history index
    lined = next(line for line in out.splitlines() if line.startswith("sale with 3 lines"))
    assert lined[44:].split()[0] == "2" and float(lined[44:].split()[2]) <= 5.0, lined  # lines: no extra request
    till = next(line for line in out.splitlines() if line.startswith("benefits at the till"))
    assert till[44:].split()[0] == "2", till  # the contract: at most 2 DynamoDB requests at the till


def test_escalation_bench_escalates_every_case_once_and_the_rerun_reads_only_the_index():
    from tests.bench import escalation_job

    r = escalation_job.measure(12)
    assert (r["first"]["due"], r["first"]["escalated"]) == (12, 12)
    assert (r["second"]["due"], r["second"]["escalated"]) == (0, 0)
    # per shard: one Query of the outbox (events a crash left) and one of the sparse due index
    assert r["second_calls"] == {"Query": 20}
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


def test_handler_cpu_bench_applies_every_purchase_with_the_store_faked():
    from tests.bench import handler_cpu

    r = handler_cpu.measure(200, 20)
    assert r["outcomes"] == {"applied": 200}  # 180 sales and 20 returns of the sale before each
    assert r["upgrades"] > 0  # the upgrade path is part of what is measured


def test_job_scaling_bench_reads_the_same_for_more_members_with_the_same_due():
    from tests.bench import job_scaling

    small, big = job_scaling.measure([300, 900], 5)
    for job in job_scaling.JOBS:
        a, b = small["jobs"][job], big["jobs"][job]
        assert (a["requests"], a["items_read"]) == (b["requests"], b["items_read"]), job
        assert a["requests"] > 0 and "Scan" not in b["ops"]
    assert small["jobs"]["reminder dispatch"]["outcome"] == "sent 5"
    assert small["jobs"]["complaint escalation"]["outcome"] == "escalated 5"
    print("\n" + job_scaling.report([small, big]))


def test_cost_model_prices_every_component_from_measured_figures():
    from tests.bench import cost_model

    fake_meter = type("M", (), {"total_requests": 2, "read_units": 1.0, "write_units": 4.0})
    jobs = {job: {"fixed": {"requests": 16, "rcu": 8.0, "wcu": 0.0, "cpu_s": 0.01},
                  "per_due": {"requests": 2, "rcu": 1.0, "wcu": 4.0, "cpu_s": 0.001}}
            for job in cost_model.RUNS_PER_MONTH}
    m = {"intake": fake_meter, "applied": fake_meter, "consumer_ms": 0.5, "intake_ms": 2.0, "jobs": jobs}
    purchases = cost_model.per_million_purchases(m)
    # DynamoDB: 1M x (2 RCU x $0.125/M + 8 WCU x $0.625/M)
    assert round(purchases["DynamoDB"], 2) == 5.25
    assert purchases["API Gateway (REST)"] == 3.5
    assert "SMS" in cost_model.report(m) and "per 100,000 members" in cost_model.report(m)


def test_basket_bench_counts_every_member_once():
    from tests.bench import basket_job

    r = basket_job.measure(20)
    assert r["counted"] == 20 and r["pages"] == basket_job.STORES  # one page per store's roll
    assert "Scan" not in r["operations"]


def test_member_lists_bench_reads_the_same_for_the_same_result_at_two_sizes():
    from tests.bench import member_lists

    r = member_lists.measure([150, 600])
    for name, by_base in r["lists"].items():
        small, large = by_base[150], by_base[600]
        if name.startswith("hobby alone"):
            continue  # no leading index: grows with the base, by design
        assert small["found"] == large["found"] == member_lists.TARGET, name
        assert (small["pages"], small["requests_per_page"], small["items_read_per_page"]) == (
            large["pages"], large["requests_per_page"], large["items_read_per_page"]), name
        assert "Scan" not in large["operations"], name


def test_activity_fanout_bench_invites_every_consenting_member_once_in_bounded_slices():
    from tests.bench import activity_fanout

    r = activity_fanout.measure(250)
    # 1 in 10 without consent; moto's SNS reports phones ending in 99 as opted out
    opted_out = sum(1 for n in range(250) if n % 10 and n % 100 == 99)
    assert (r["members"], r["sent"], r["suppressed"], r["stage"]) == (250, 225 - opted_out, 25 + opted_out, "invited")
    assert r["slices"] == 2  # 200 a slice
    assert "Scan" not in r["operations"]
    assert activity_fanout.report([r, r]).splitlines()[-1].startswith("ratio 250/250 per invitation: requests 1.00x")

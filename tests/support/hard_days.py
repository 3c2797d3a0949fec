"""Runs the unit and integration suites on each hard day of tests.support.clock.HARD_DAYS.

    python -m tests.support.hard_days [--jobs 2] [day ...]

Each day is a separate pytest process with the clock moved (and, for the DST day, the
brands' default time zone set); two run at a time on this 2-core machine. Prints one row
per day and the failed tests' names, and exits non-zero if any day failed.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tests.support.clock import ENV, HARD_DAYS

SUITES = ("tests/unit", "tests/integration")
_SUMMARY = re.compile(r"^=*\s*(\d+ (?:passed|failed|error).*) in [\d.]+s")
LOGS = Path("build/hard-days")


@dataclass
class DayRun:
    day: str
    moment: str
    zone: str
    code: int
    summary: str
    failed: list[str]
    seconds: float


def run_day(day: str) -> DayRun:
    moment, extra_env = HARD_DAYS[day]
    env = {**os.environ, ENV: moment, **extra_env}
    started = time.monotonic()
    proc = subprocess.run(  # noqa: S603 - our own interpreter running pytest
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUITES],
        env=env, capture_output=True, text=True, check=False)
    LOGS.mkdir(parents=True, exist_ok=True)
    (LOGS / f"{day}.log").write_text(proc.stdout + proc.stderr)
    lines = proc.stdout.splitlines()
    summary = next((m.group(1) for line in reversed(lines) if (m := _SUMMARY.match(line))), "no summary")
    failed = [line.split(" ", 1)[1] for line in lines if line.startswith(("FAILED ", "ERROR "))]
    return DayRun(day, moment, extra_env.get("DEFAULT_TIMEZONE", "default"), proc.returncode, summary, failed,
                  time.monotonic() - started)


def _count(summary: str, word: str) -> int:
    found = re.search(rf"(\d+) {word}", summary)
    return int(found.group(1)) if found else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("days", nargs="*", help=f"some of {', '.join(HARD_DAYS)} (default: all)")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    days = args.days or list(HARD_DAYS)
    unknown = sorted(set(days) - set(HARD_DAYS))
    if unknown:
        parser.error(f"unknown day {', '.join(unknown)}; choose from {', '.join(HARD_DAYS)}")
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        runs = list(pool.map(run_day, days))
    print(f"{'day':<14}{'clock (UTC)':<22}{'time zone':<18}{'seconds':>8}  result")
    for r in runs:
        print(f"{r.day:<14}{r.moment:<22}{r.zone:<18}{r.seconds:>8.0f}  {r.summary}")
    for r in runs:
        for name in r.failed:
            print(f"  {r.day}: FAILED {name}")
    print(f"full output: {LOGS}/<day>.log; {len(runs)} runs in {time.monotonic() - started:.0f}s wall, "
          f"{args.jobs} at a time")
    passed = sum(_count(r.summary, "passed") for r in runs)
    # a day whose pytest failed without saying how many counts as one failure
    failed = sum(max(_count(r.summary, "failed") + _count(r.summary, "error"), 1 if r.code else 0) for r in runs)
    print(f"hard-days: {passed} passed, {failed} failed")
    return 0 if all(r.code == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())

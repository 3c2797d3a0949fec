"""`make simulate`: the real handlers and jobs over a simulated period, then the invariants.

    python -m infra.simulate [--members 2000] [--months 12] [--end 2026-12-01] [--seed 19] [--iam]

Exits 1 when any invariant is broken. The period ends the day before `--end` (default: the
first day of this month, the command's one reading of the clock).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, date, datetime

from .report import simulate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.simulate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--days", type=int, default=None, help="instead of --months")
    parser.add_argument("--end", type=date.fromisoformat, default=None)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--iam", action="store_true", help="each function under its own role (slower)")
    parser.add_argument("--quiet", action="store_true", help="no line per simulated day")
    args = parser.parse_args(argv)
    end = args.end or datetime.now(UTC).date().replace(day=1)  # the simulated period ends here
    started = time.monotonic()
    outcome = simulate(members=args.members, months=args.months, days=args.days, end=end, seed=args.seed,
                       with_iam=args.iam, log=(lambda _: None) if args.quiet else print)
    print(outcome.text(time.monotonic() - started))
    return 1 if outcome.broken else 0


if __name__ == "__main__":
    sys.exit(main())

"""The product reads the clock once per entry point, and only there: an API request takes
API Gateway's requestTimeEpoch, a scheduled job its EventBridge `time`, a queue consumer the
moment it handles a delivery, an operator command the moment it starts (or its --now). Every
other decision gets that `now` passed in, so a test (or a replay) controls it.

This test walks the syntax trees of shared/ and functions/ and fails on any other reading.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Calls that read the wall clock. time.monotonic() is not here: it measures durations
# (deadlines, caches' time-to-live), never a date.
CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
               ("time", "time"), ("time", "time_ns"), ("time", "gmtime"), ("time", "localtime")}

# The entry points, and why each reads the clock itself.
ENTRY_POINTS = {
    "shared/vipcare/api/events.py": "request_moment: a direct invocation without a request context",
    "shared/vipcare/cli/__init__.py": "an operator command starts now unless --now replays it",
    "functions/purchase_ingestion/app.py": "the queue consumer: when this delivery is handled",
    "functions/reminder_dispatch/app.py": "a bus message without a `time` (EventBridge always sends one)",
}


def clock_reads(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else None
            if (name, node.func.attr) in CLOCK_CALLS:
                lines.append(node.lineno)
    return lines


def product_files() -> list[Path]:
    return sorted([*(ROOT / "shared" / "vipcare").rglob("*.py"), *(ROOT / "functions").rglob("*.py")])


def test_only_entry_points_read_the_clock():
    found = {str(p.relative_to(ROOT)): lines for p in product_files() if (lines := clock_reads(p))}
    stray = {path: lines for path, lines in found.items() if path not in ENTRY_POINTS}
    assert stray == {}, f"read the clock at the entry point and pass `now` down instead: {stray}"


def test_each_entry_point_reads_the_clock_once():
    for path in ENTRY_POINTS:
        assert len(clock_reads(ROOT / path)) == 1, path


def test_the_walk_finds_a_clock_reading(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import datetime as dt\nfrom datetime import date\nx = dt.datetime.now()\ny = date.today()\n")
    assert clock_reads(sample) == [3, 4]

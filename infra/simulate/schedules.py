"""The template's schedules, as EventBridge fires them: each scheduled function with the
moments of a day its rule triggers (the two forms template.yaml uses: `rate(N minutes|hour|
hours)` and `cron(M * * * ? *)`, minute M of every hour, UTC)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from infra.local import template


@dataclass(frozen=True)
class Schedule:
    function: str
    code_uri: str
    handler: str
    rule: str
    every: timedelta
    offset: timedelta  # from each UTC hour (or day) start


def parse(expression: str) -> tuple[timedelta, timedelta]:
    if m := re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression):
        n, unit = int(m[1]), m[2].rstrip("s")
        return timedelta(**{f"{unit}s": n}), timedelta(0)
    if m := re.fullmatch(r"cron\((\d+) \* \* \* \? \*\)", expression):
        return timedelta(hours=1), timedelta(minutes=int(m[1]))
    raise ValueError(f"the simulator does not know this schedule yet: {expression}")


def schedules() -> list[Schedule]:
    out = []
    for logical_id, props in template.functions().items():
        for name, event in (props.get("Events") or {}).items():
            if event["Type"] in ("Schedule", "ScheduleV2"):
                every, offset = parse(event["Properties"]["Schedule"])
                out.append(Schedule(logical_id, props["CodeUri"], props["Handler"], f"{logical_id}{name}",
                                    every, offset))
    return out


def firings(s: Schedule, start: datetime, end: datetime) -> list[datetime]:
    """The moments in [start, end) the rule fires (start is a UTC midnight)."""
    out, at = [], start + s.offset
    while at < end:
        out.append(at)
        at += s.every
    return out


def scheduled_event(s: Schedule, at: datetime) -> dict:
    """What EventBridge delivers to the function: its `time` is the job's `now`."""
    return {"version": "0", "id": f"sim-{s.rule}-{at:%Y%m%dT%H%M}", "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "123456789012", "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": "us-east-1", "resources": [f"arn:aws:events:us-east-1:123456789012:rule/vipcare-{s.rule}"],
            "detail": {}}

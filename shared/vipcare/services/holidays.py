"""Holiday greetings: on a brand's holiday (its country's public holidays and its own dates),
every member who consented to marketing SMS is greeted once, a page of the consent audience at
a time. Only in the brand's daytime: a greeting deferred en masse to the next morning would be
a day late. The position is kept (HolidayRun), so a run that ran out of time is continued by
the next one."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from ..domain import reminders as rules
from ..domain.reminders import Candidate, Kind
from .care_ports import CareDeps
from .care_settings import CarePolicy
from .messaging import Messenger

PAGE = 100  # members per audience page (one BatchGetItem of profiles)


def greet_holidays(now: datetime, deps: CareDeps, policy: Callable[[str], CarePolicy], messenger: Messenger, *,
                   deadline: float | None = None) -> Counter[str]:
    """Offer today's greeting to every consenting member of each brand on holiday, until done
    or `deadline` (time.monotonic()) passes. Returns the outcomes."""
    outcomes: Counter[str] = Counter()
    for brand_id in deps.directory.brand_ids():
        p = policy(brand_id)
        tz = rules.zone(p.timezone)
        today = now.astimezone(tz).date()
        holiday = rules.holiday_today(today, p.country, p.brand_dates, p.language)
        if not holiday or rules.in_quiet_hours(now, tz):
            continue
        run = deps.messages.holiday_run(brand_id, today)
        cand = Candidate(Kind.HOLIDAY, f"holiday#{today.isoformat()}", {"holiday": holiday})
        while not run.done and not (deadline is not None and time.monotonic() > deadline):
            keys, run.cursor = deps.audiences.consenting_page(brand_id, run.shard, cursor=run.cursor, limit=PAGE)
            for member in deps.members.profiles(keys):
                outcomes[messenger.offer(member, cand)] += 1
            run.offered += len(keys)
            if run.cursor is None:
                run.shard += 1
                run.done = run.shard >= deps.audiences.consent_shards
            deps.messages.save_holiday_run(run, now)
    return outcomes

"""One-off backfill of the care indexes for members who existed before this release: the
holiday audience key (consenting members), the cadence review (silver and above) and the next
points-expiring notice. New and changed members get these from their own writes; this fills
in the rest once. Safe to run again: every write is conditional on the key being absent.

This is the only Scan in the project, and it is not a request path or a scheduled job: an
operator runs it once after deploying (`vipcare backfill-care`), in parallel segments.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import datetime
from typing import Any

from pynamodb.exceptions import UpdateError

from ..domain.stats import MemberStats
from ..domain.tasks import cadence_months
from ..domain.tiers import local_day
from ..store.ledger import STATS_SK, StatsItem, points_notice_key, stats_of
from ..store.members import consent_audience_key
from ..store.models import PROFILE_SK, MemberItem
from .brands import brand_settings
from .care_ports import CareDeps
from .limits import purchase_limits
from .tasks import TaskRun


def backfill_care(now: datetime, *, care: CareDeps, segment: int = 0, segments: int = 1) -> Counter[str]:
    """Scan one segment of MembersTable and fill in what is missing; returns what was done."""
    done: Counter[str] = Counter()
    tasks = TaskRun(now, care)
    for item in MemberItem.scan(MemberItem.sk == PROFILE_SK, segment=segment, total_segments=segments):
        done["profiles"] += 1
        done.update(_profile(item, tasks))
    for stats_item in StatsItem.scan(StatsItem.sk == STATS_SK, segment=segment, total_segments=segments):
        done["stats"] += 1
        done.update(_stats_notice(stats_item, now))
    return done


def _profile(item: MemberItem, tasks: TaskRun) -> Counter[str]:
    done: Counter[str] = Counter()
    audience = consent_audience_key(item.brand_id, item.member_id, bool(item.consent and item.consent.sms_marketing))
    if audience and not item.audience_pk and not item.sms_opted_out:
        with contextlib.suppress(UpdateError):  # changed meanwhile: its own write set the key
            item.update(actions=[MemberItem.audience_pk.set(audience)],
                        condition=MemberItem.audience_pk.does_not_exist() & MemberItem.pk.exists())
            done["audience_keys"] += 1
    if cadence_months(item.tier) is not None and tasks.deps.cadence.get(item.brand_id, item.member_id) is None:
        member = tasks.deps.members.get(item.brand_id, item.member_id)
        if member is not None:  # erased meanwhile: nothing to review
            tasks.tier_changed(member, item.tier)  # the first review is due today
            done["cadence_reviews"] += 1
    return done


def _stats_notice(item: StatsItem, now: datetime) -> Counter[str]:
    done: Counter[str] = Counter()
    if item.audience_pk:
        return done
    _, brand_id, _, _member = item.pk.split("#", 3)
    stats: MemberStats = stats_of(item)
    day = stats.points.next_notice(local_day(now, brand_settings(brand_id).timezone),
                                   purchase_limits(brand_id).points_lifetime_months)
    if day is None:
        return done
    with contextlib.suppress(UpdateError):  # a purchase meanwhile wrote the key itself
        item.update(actions=[StatsItem.audience_pk.set(points_notice_key(day))],
                    condition=StatsItem.audience_pk.does_not_exist())
        done["points_notices"] += 1
    return done


def summary(done: Counter[str]) -> dict[str, Any]:
    return {k: done.get(k, 0) for k in ("profiles", "audience_keys", "cadence_reviews", "stats", "points_notices")}

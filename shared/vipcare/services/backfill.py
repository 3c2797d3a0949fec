"""One-off backfill of the sparse indexes for members who existed before this release: the
holiday audience key (consenting members), the cadence review (silver and above), the next
points-expiring notice, the store rolls, the last-activity listing and the purchase history
(`listing` index). New and
changed members get these from their own writes; this fills
in the rest once. Safe to run again: every write is conditional on the key being absent.

This is the only Scan in the project, and it is not a request path or a scheduled job: an
operator runs it once after deploying (`vipcare backfill-care`), in parallel segments.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from ..domain.tiers import local_day
from ..store.backfill import BackfillScan
from .brands import brand_settings
from .care_ports import CareDeps
from .limits import purchase_limits
from .tasks import TaskRun, tier_cadence


def backfill_care(now: datetime, *, care: CareDeps, segment: int = 0, segments: int = 1) -> Counter[str]:
    """Scan one segment of MembersTable and fill in what is missing; returns what was done."""
    done: Counter[str] = Counter()
    scan = BackfillScan(segment, segments)
    tasks = TaskRun(now, care)
    for member, has_audience_key, on_roll in scan.profiles():
        done["profiles"] += 1
        if not has_audience_key and scan.add_audience_key(member):
            done["audience_keys"] += 1
        if not on_roll and scan.add_roll_key(member):
            done["roll_keys"] += 1
        if scan.add_enrolment_figures(member):
            done["activity_keys"] += 1
        has_cadence = bool(tier_cadence(member.brand_id, member.tier.value, care))
        if has_cadence and care.cadence.get(member.brand_id, member.member_id) is None:
            tasks.tier_changed(member, member.tier.value)  # the first review is due today
            done["cadence_reviews"] += 1
    for brand_id, member_id, stats, has_notice, has_activity in scan.figures():
        done["stats"] += 1
        if not has_activity and stats.last_purchase_at and scan.add_active_key(brand_id, member_id,
                                                                                stats.last_purchase_at):
            done["activity_keys"] += 1
        if has_notice:
            continue
        day = stats.points.next_notice(local_day(now, brand_settings(brand_id, care.directory).timezone),
                                       purchase_limits(brand_id, care.directory).points_lifetime_months)
        if day is not None and scan.add_points_notice(brand_id, member_id, day):
            done["points_notices"] += 1
    for key in scan.unlisted_transactions():
        if scan.add_history_key(*key):
            done["history_keys"] += 1
    return done


def summary(done: Counter[str]) -> dict[str, Any]:
    return {k: done.get(k, 0) for k in ("profiles", "audience_keys", "cadence_reviews", "stats", "points_notices",
                                        "roll_keys", "history_keys", "activity_keys")}

"""Today's occasions, member by member: birthdays (solar and lunar), membership anniversaries,
points about to expire; each judged on the member's brand's calendar, not UTC's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..domain import reminders as rules
from ..domain.members import Member
from ..domain.months import month_of_day
from ..domain.points import expiry_month, expiry_notice_day, last_day
from ..domain.reminders import Candidate, Kind
from ..domain.stats import MemberStats
from .care_ports import CareDeps, MemberKey
from .care_settings import CarePolicy
from .limits import purchase_limits


@dataclass(frozen=True)
class PointsNotice:
    """A member's points-expiry notice day that came: the candidate SMS (None when the points
    were spent meanwhile: nothing to tell) and what moves the notice on afterwards."""

    member: Member
    candidate: Candidate | None
    day: date
    lifetime_months: int
    stats: MemberStats


class Occasions:
    def __init__(self, now: datetime, deps: CareDeps, policy: Callable[[str], CarePolicy]) -> None:
        self.now = now
        self.deps = deps
        self.policy = policy

    def _days(self) -> list[date]:
        """The UTC days around now: every brand's today is one of them."""
        return [(self.now + timedelta(days=d)).date() for d in (-1, 0, 1)]

    def local_day(self, brand_id: str) -> date:
        return self.now.astimezone(rules.zone(self.policy(brand_id).timezone)).date()

    def _members(self, keys: list[MemberKey]) -> dict[MemberKey, Member]:
        return {(p.brand_id, p.member_id): p for p in self.deps.members.profiles(keys)}

    def celebrations(self) -> list[tuple[Member, Candidate]]:
        """Today's birthdays and anniversaries, in every member's own time zone: the index keys
        of yesterday, today and tomorrow (UTC) are read, then each member is kept only when the
        day is today where the brand is. A member celebrated on a holiday is greeted for it too."""
        audiences = self.deps.audiences
        hits: list[tuple[str, str, Kind, date]] = []
        for day in self._days():
            for key in rules.solar_keys_for(day):
                hits += [(b, m, Kind.BIRTHDAY, day) for b, m in audiences.birthdays(key, lunar=False)]
                hits += [(b, m, Kind.ANNIVERSARY, day) for b, m in audiences.anniversaries(key)]
            for key in rules.lunar_keys_for(day):
                hits += [(b, m, Kind.BIRTHDAY, day) for b, m in audiences.birthdays(key, lunar=True)]
        todays = [h for h in hits if self.local_day(h[0]) == h[3]]
        members = self._members([(b, m) for b, m, _, _ in todays])
        out = []
        for brand_id, member_id, kind, day in todays:
            member = members.get((brand_id, member_id))
            if member is None:
                continue
            out.append((member, Candidate(kind, f"{kind.value}#{day.year}", {})))
            policy = self.policy(brand_id)
            holiday = rules.holiday_today(day, policy.country, policy.brand_dates, policy.language)
            if holiday:
                out.append((member, Candidate(Kind.HOLIDAY, f"holiday#{day.isoformat()}", {"holiday": holiday})))
        return out

    def points_notices(self) -> list[PointsNotice]:
        """Members whose points expire in 30 days (their figures' notice day is today where
        their brand is)."""
        hits = [(b, m, day) for day in self._days() for b, m in self.deps.audiences.points_notices(day)]
        todays = [h for h in hits if self.local_day(h[0]) == h[2]]
        members = self._members([(b, m) for b, m, _ in todays])
        out = []
        for brand_id, member_id, day in todays:
            member = members.get((brand_id, member_id))
            if member is None:
                continue
            lifetime = purchase_limits(brand_id, self.deps.directory).points_lifetime_months
            stats = self.deps.figures.stats(brand_id, member_id)
            lots = [m for m in stats.points.lots if expiry_notice_day(m, lifetime) == day]
            expiring = min(sum(stats.points.lots[m] for m in lots), stats.points.balance(month_of_day(day), lifetime))
            cand = None
            if expiring > 0:
                last_month = expiry_month(max(lots), lifetime)
                cand = Candidate(Kind.POINTS_EXPIRING, f"points_expiring#{last_month}",
                                 {"points": str(expiring), "date": last_day(last_month).isoformat()})
            out.append(PointsNotice(member, cand, day, lifetime, stats))
        return out

    def notice_handled(self, n: PointsNotice) -> None:
        """The member's next notice day (or none), conditional on the day just handled."""
        self.deps.figures.move_points_notice(n.member.brand_id, n.member.member_id, n.day,
                                             n.stats.points.next_notice(n.day + timedelta(days=1), n.lifetime_months))

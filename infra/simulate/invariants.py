"""What must hold after a simulated period, each checked by brute force from the raw items
(the tables scanned, not the product's counters or indexes): a row per invariant with how many
times it is broken (all expected 0). `check()` takes plain items, so a test can hand it a
world that breaks one on purpose."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

Item = dict[str, Any]
ZONE = ZoneInfo("Asia/Shanghai")
TIERS = ("regular", "silver", "gold", "diamond")


@dataclass
class Items:
    """The raw items of the tables the invariants read, by kind."""

    profiles: list[Item] = field(default_factory=list)  # MembersTable PROFILE
    stats: list[Item] = field(default_factory=list)  # MembersTable STATS (points lots)
    txns: list[Item] = field(default_factory=list)  # MembersTable TXN (the ledger)
    decisions: list[Item] = field(default_factory=list)  # MembersTable TIER#<at>#... (tier decisions)
    messages: list[Item] = field(default_factory=list)  # CareTable MSG#...
    contacts: list[Item] = field(default_factory=list)  # CareTable CONTACT#...
    complaints: list[Item] = field(default_factory=list)  # ComplaintsTable CASE
    kpi_reports: dict[str, dict] = field(default_factory=dict)  # period -> GET /reports/kpis (brand)
    kpi_errors: dict[str, str] = field(default_factory=dict)  # period -> what the API answered instead


@dataclass(frozen=True)
class Period:
    first: datetime  # UTC
    end: datetime
    job_interval: dict[str, timedelta]  # scheduled function -> its rate
    weekly_cap: int = 2


@dataclass(frozen=True)
class Row:
    name: str
    broken: int
    examples: tuple[str, ...] = ()


def when(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def local_day(value: Any) -> date:
    return when(value).astimezone(ZONE).date()


# ---- the care rules ---------------------------------------------------------------------

def above_weekly_cap(items: Items, period: Period) -> list[str]:
    """Members sent more marketing SMS in some rolling 7 days than the cap allows."""
    sent: dict[str, list[datetime]] = defaultdict(list)
    for m in items.messages:
        if m.get("category") == "marketing" and m.get("status") == "sent" and m.get("sent_at"):
            sent[m["member_id"]].append(when(m["sent_at"]))
    out = []
    for member_id, times in sent.items():
        times.sort()
        for i, t in enumerate(times):
            if sum(1 for u in times[i:] if u - t < timedelta(days=7)) > period.weekly_cap:
                out.append(f"{member_id}: more than {period.weekly_cap} marketing SMS within 7 days of {t}")
                break
    return out


OCCASIONS = ("birthday", "anniversary", "holiday")


def occasions_sent_twice(items: Items, period: Period) -> list[str]:
    """The same occasion (kind, member, local year; holidays per day) sent more than once."""
    seen: Counter[tuple[str, str, str]] = Counter()
    for m in items.messages:
        if m.get("kind") in OCCASIONS and m.get("status") == "sent" and m.get("sent_at"):
            day = local_day(m["sent_at"])
            seen[(m["member_id"], m["kind"], day.isoformat() if m["kind"] == "holiday" else str(day.year))] += 1
    return [f"{k[0]} {k[1]} {k[2]}: sent {n} times" for k, n in seen.items() if n > 1]


def birthday_on(profile: Item, year: int) -> date | None:
    """The day the member's birthday falls on in `year` (lunar ones mapped onto the solar year)."""
    from vipcare.domain.reminders import lunar_birthday_this_year

    born = date.fromisoformat(profile["birthday"])
    if profile.get("birthday_lunar"):
        return lunar_birthday_this_year(born, year)
    try:
        return born.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def birthdays_not_greeted(items: Items, period: Period) -> list[str]:
    """Consenting members whose birthday fell in the period after they enrolled, with no
    birthday SMS sent on the day (or the next morning, when quiet hours deferred it). One capped
    because the rolling-week cap was full with earlier marketing is not a miss (priority only
    orders what is due together)."""
    out = []
    first_day, last_day = local_day(period.first), local_day(period.end - timedelta(seconds=1))
    by_member: dict[str, list[Item]] = defaultdict(list)
    for m in items.messages:
        if m.get("kind") == "birthday":
            by_member[m["member_id"]].append(m)
    for p in items.profiles:
        consent = p.get("consent") or {}
        if not p.get("birthday") or not consent.get("sms_marketing") or p.get("status") == "closed":
            continue
        enrolled = local_day(p["enrolled_at"])
        for year in range(first_day.year, last_day.year + 1):
            day = birthday_on(p, year)
            if day is None or not (max(first_day, enrolled + timedelta(days=1)) <= day <= last_day):
                continue
            got = [m for m in by_member[p["member_id"]] if m.get("sent_at") and local_day(m["sent_at"]) in
                   (day, day + timedelta(days=1))]
            capped = [m for m in by_member[p["member_id"]] if m.get("status") == "capped"
                      and local_day(m["created_at"]) == day]
            if not got and not capped:
                out.append(f"{p['member_id']}: birthday {day} (lunar={bool(p.get('birthday_lunar'))}) not greeted")
    return out


def complaints_not_escalated(items: Items, period: Period) -> list[str]:
    """Cases not acknowledged by their respond-by time with no escalation within one run of the
    escalation job after it."""
    interval = period.job_interval.get("ComplaintRoutingFunction", timedelta(minutes=15))
    out = []
    for c in items.complaints:
        respond_by = when(c["respond_by"])
        if respond_by + interval > period.end:
            continue  # its job run falls after the period
        acked = when(c["acknowledged_at"]) if c.get("acknowledged_at") else None
        if acked is not None and acked <= respond_by:
            continue
        first = min((when(h["at"]) for h in c.get("history") or [] if h.get("action") == "escalate"
                     and when(h["at"]) >= respond_by), default=None)
        if (acked is None or acked > respond_by + interval) and (first is None or first > respond_by + interval):
            out.append(f"{c['complaint_id']}: due {respond_by}, first escalation {first}")
    return out


# ---- the ledger --------------------------------------------------------------------------

def points_from_ledger(items: Items) -> dict[str, int]:
    """Each member's points as the ledger says: points earned by applied sales less those clawed
    back by returns (nothing in a simulated year reaches expiry or a redemption)."""
    out: dict[str, int] = defaultdict(int)
    for t in items.txns:
        if t.get("kind") == "sale" and t.get("member_id"):
            out[t["member_id"]] += int(t.get("points") or 0) - int(t.get("points_clawed") or 0)
    return out


def points_balances_differ(items: Items, period: Period) -> list[str]:
    ledger = points_from_ledger(items)
    out = []
    for s in items.stats:
        lots = s.get("lots") or {}
        held = sum(int(v) for v in lots.values()) - int(s.get("debt") or 0)
        if held != ledger.get(s["member_id"], 0):
            out.append(f"{s['member_id']}: balance {held}, ledger {ledger.get(s['member_id'], 0)}")
    return out


def spend_12m(items: Items, at: datetime) -> dict[str, Decimal]:
    """Net spend of the 12 months before `at`, per member, from the ledger's sales and returns."""
    out: dict[str, Decimal] = defaultdict(Decimal)
    for t in items.txns:
        occurred = when(t["occurred_at"])
        if t.get("member_id") and at - timedelta(days=365) < occurred <= at:
            sign = Decimal(1) if t.get("kind") == "sale" else Decimal(-1)
            out[t["member_id"]] += sign * Decimal(str(t["amount"]))
    return out


def sales_6m(items: Items, at: datetime) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for t in items.txns:
        if t.get("member_id") and t.get("kind") == "sale" and at - timedelta(days=183) < when(t["occurred_at"]) <= at:
            out[t["member_id"]] += 1
    return out


Qualifying = Callable[[Decimal, int], str]


RULE_ACTORS = ("purchase", "schedule")  # the rules' own decisions (ingestion, the hourly review)


def upgrades_the_ledger_does_not_support(items: Items, period: Period, qualifying: Qualifying) -> list[str]:
    """Upgrades decided by the rules (not a manager's approval of an application) to a tier the
    ledger did not qualify the member for at the decision's moment."""
    out = []
    for d in items.decisions:
        frm, to = d.get("tier_from", "regular"), d.get("tier_to", "regular")
        if TIERS.index(to) <= TIERS.index(frm) or d.get("actor") not in RULE_ACTORS:
            continue
        at = when(d["at"])
        spend = spend_12m(items, at).get(d["member_id"], Decimal(0))
        due = qualifying(spend, sales_6m(items, at).get(d["member_id"], 0))
        if TIERS.index(due) < TIERS.index(to):
            out.append(f"{d['member_id']}: {frm} -> {to} at {at} with 12-month spend {spend} ({due} due)")
    return out


def tiers_contradict_ledger(items: Items, period: Period, qualifying: Qualifying) -> list[str]:
    """A member below the tier their ledger qualifies them for (upgrades are immediate; being
    above it is allowed: a downgrade waits for the review, with its grace)."""
    spend, count = spend_12m(items, period.end), sales_6m(items, period.end)
    out = []
    for p in items.profiles:
        due = qualifying(spend.get(p["member_id"], Decimal(0)), count.get(p["member_id"], 0))
        if TIERS.index(p.get("tier", "regular")) < TIERS.index(due):
            out.append(f"{p['member_id']}: {p.get('tier')} with 12-month spend {spend.get(p['member_id'])} ({due} due)")
    return out


# ---- KPI figures, recomputed one by one ------------------------------------------------

def month_of(value: Any) -> str:
    return when(value).astimezone(ZONE).strftime("%Y-%m")


def members_by_tier(items: Items, period: str) -> dict[str, int]:
    """Open members by tier now (the report's current month shows the live mix)."""
    c = Counter(p.get("tier", "regular") for p in items.profiles if p.get("status") != "closed")
    return {t: c.get(t, 0) for t in TIERS}


def enrolled(items: Items, period: str) -> int:
    return sum(1 for p in items.profiles if month_of(p["enrolled_at"]) == period)


def contacts_logged(items: Items, period: str) -> int:
    return sum(1 for c in items.contacts if str(c.get("contacted_on", ""))[:7] == period)


def nps(items: Items, period: str) -> dict[str, int]:
    scores = [int(c["nps"]) for c in items.contacts
              if c.get("nps") is not None and str(c.get("contacted_on", ""))[:7] == period]
    return {"responses": len(scores), "promoters": sum(s >= 9 for s in scores),
            "passives": sum(7 <= s <= 8 for s in scores), "detractors": sum(s <= 6 for s in scores)}


def sms_sent(items: Items, period: str) -> int:
    return sum(1 for m in items.messages if m.get("status") == "sent" and m.get("sent_at")
               and month_of(m["sent_at"]) == period)


def tier_moves(items: Items, period: str) -> dict[str, int]:
    """Upgrades, downgrades and new VIPs (regular -> silver or above) decided in the month."""
    moves = {"upgrades": 0, "downgrades": 0, "new_vips": 0}
    for d in items.decisions:
        frm, to = TIERS.index(d.get("tier_from", "regular")), TIERS.index(d.get("tier_to", "regular"))
        if month_of(d["at"]) != period or frm == to:
            continue
        moves["upgrades" if to > frm else "downgrades"] += 1
        moves["new_vips"] += frm == 0 and to > 0
    return moves


def complaints_opened(items: Items, period: str) -> int:
    return sum(1 for c in items.complaints if month_of(c["opened_at"]) == period)


# figure name -> (its brute force, where the report has it). Add a figure here to check it.
FIGURES: dict[str, tuple[Callable[[Items, str], Any], Callable[[dict], Any]]] = {
    "enrolled": (enrolled, lambda r: r["enrolled"]),
    "contacts logged": (contacts_logged, lambda r: r["contacts"]["logged"]),
    "NPS": (nps, lambda r: {k: r["nps"][k] for k in ("responses", "promoters", "passives", "detractors")}),
    "SMS sent": (sms_sent, lambda r: r["sms"]["sent"]),
    "complaints opened": (complaints_opened, lambda r: r["complaints"]["opened"]),
    "upgrades, downgrades, new VIPs": (tier_moves, lambda r: {k: r[k] for k in ("upgrades", "downgrades", "new_vips")}),
}
# figures only the current month's report shows as they are now
LIVE_FIGURES = {"members by tier": (members_by_tier, lambda r: r["members_by_tier"])}


def kpis_differ(items: Items, period: Period) -> list[str]:
    out = [f"{month}: no report ({answer})" for month, answer in sorted(items.kpi_errors.items())]
    last = max(items.kpi_reports, default=None)
    for month, report in sorted(items.kpi_reports.items()):
        figures = FIGURES | (LIVE_FIGURES if month == last else {})
        for name, (brute, reported) in figures.items():
            want, got = brute(items, month), reported(report)
            if want != got:
                out.append(f"{month} {name}: report {got}, raw items {want}")
    return out


def check(items: Items, period: Period, qualifying: Qualifying) -> list[Row]:
    rows = [
        ("members above the weekly marketing cap", above_weekly_cap(items, period)),
        ("occasions sent twice", occasions_sent_twice(items, period)),
        ("consenting birthdays not greeted on the day", birthdays_not_greeted(items, period)),
        ("overdue complaints not escalated within one job interval", complaints_not_escalated(items, period)),
        ("tiers below what the ledger qualifies for", tiers_contradict_ledger(items, period, qualifying)),
        ("upgrades the ledger does not support", upgrades_the_ledger_does_not_support(items, period, qualifying)),
        ("points balances that differ from the ledger", points_balances_differ(items, period)),
        ("KPI figures that differ from the raw items", kpis_differ(items, period)),
    ]
    return [Row(name, len(found), tuple(found[:5])) for name, found in rows]


def table(rows: Iterable[Row]) -> str:
    rows = list(rows)
    width = max(len(r.name) for r in rows)
    lines = [f"{'invariant':<{width}}  broken", f"{'-' * width}  ------"]
    for r in rows:
        lines.append(f"{r.name:<{width}}  {r.broken:>6}")
        lines += [f"    e.g. {e}" for e in r.examples]
    return "\n".join(lines)

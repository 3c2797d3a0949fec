"""The figures the business steers by (docs/domain.md §6). Pure rules: what a tier change counts,
when a VIP is lost, and counters -> the report's figures. No I/O.

- VIP = silver and above; "gold+" = gold and diamond.
- Churn of a month = VIPs of the month's snapshot (the VIP set at its start) lost during it /
  the snapshot. A VIP is lost when closed (the profile is gone) or after 3 consecutive months
  of spend below the floor. The yearly rate the targets speak of (3.5%, 2% for gold+) is the
  monthly rate compounded: 1 - (1 - monthly)^12.
- Retention of a month = 1 - lost / snapshot (the same snapshot semantics).
- Complaint timeliness = resolved within deadline / opened (the cases opened in the month).
- Contact coverage = gold+ members of the month's snapshot (the VIP set at its start) contacted
  in the month / the snapshot's gold+ members; each counted once, whatever their tier since.
- NPS = % promoters (9-10) - % detractors (0-6), from complaint feedback and contacts.
- Activities (docs/activities.md): coverage = VIPs of the month's snapshot invited to at least
  one activity this year / that snapshot (target 1.0); participation = guests who came / guests
  invited, of the activities ending in the month (target 0.85); feedback on time = activities
  whose feedback was filed by its due day / activities that ended in the month.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from .members import Tier
from .months import shift
from .tiers import TIER_IDS, rank_of

TIERS = TIER_IDS
VIP_TIERS = frozenset(TIER_IDS) - {Tier.REGULAR.value}  # "VIP": silver and above
GOLD_PLUS = frozenset({Tier.GOLD.value, Tier.DIAMOND.value})
CHURN_TARGET = Decimal("0.035")
GOLD_PLUS_CHURN_TARGET = Decimal("0.02")
LOST_AFTER_MONTHS = 3
ACTIVITY_COVERAGE_TARGET = Decimal("1")
PARTICIPATION_TARGET = Decimal("0.85")

# Every counter kept per (brand, month, store). Flows are ADDed as things happen; the snapshot
# figures and the tier mix at the month's end are SET by the monthly snapshot job.
FLOWS = ("enrolled", "closed", "new_vips", "upgrades", "downgrades", "contacts", "gold_plus_contacted",
         "nps_responses", "nps_promoters", "nps_passives", "nps_detractors",
         "sms_sent", "sms_capped", "sms_deferred", "sms_suppressed", "sms_failed",
         "activity_invited", "activity_attended", "activities_ended", "activity_feedback_filed",
         "activity_feedback_on_time", "activity_vips_invited")
VIP_TIER_IDS = tuple(t for t in TIER_IDS if t in VIP_TIERS)  # silver, gold, diamond: churn per tier
SNAPSHOT = ("snapshot", "lost", "snapshot_gold_plus", "lost_gold_plus",
            *(f"{kind}_{t}" for t in VIP_TIER_IDS for kind in ("snapshot", "lost")),
            "members_regular", "members_silver", "members_gold", "members_diamond", "stock_recorded")
# SET when the month's snapshot is taken: its size, its gold+ part (contact coverage's
# denominator; contacts of its members ADD gold_plus_contacted, once each), and its VIPs invited
# earlier in the year (their flag carried from the previous snapshot; invitations during the
# month ADD to activity_vips_invited).
OPENING = ("vips_at_start", "gold_plus_at_start", "activity_vips_carried")
COUNTERS = FLOWS + SNAPSHOT + OPENING


def rank(tier: str) -> int:
    return max(0, rank_of(tier))  # an unknown tier counts as regular


def tier_move(frm: str, to: str) -> tuple[dict[str, int], dict[str, int]]:
    """(the month's flow counters, the tier stock's deltas) for one tier change."""
    flows: dict[str, int] = {}
    if rank(to) > rank(frm):
        flows["upgrades"] = 1
        if frm not in VIP_TIERS and to in VIP_TIERS:
            flows["new_vips"] = 1
    elif rank(to) < rank(frm):
        flows["downgrades"] = 1
    stock = {frm: -1, to: 1} if frm != to else {}
    return flows, stock


def nps_counts(score: int | None) -> dict[str, int]:
    if score is None:
        return {}
    return {"nps_responses": 1, "nps_promoters": int(score >= 9), "nps_passives": int(7 <= score <= 8),
            "nps_detractors": int(score <= 6)}


def is_lost(spend: dict[str, Decimal], period: str, floor: Decimal, *, closed: bool = False) -> bool:
    """Closed, or spend below the floor in each of the 3 months ending with `period`."""
    if closed:
        return True
    months = [shift(period, -i) for i in range(LOST_AFTER_MONTHS)]
    return all(spend.get(m, Decimal(0)) < floor for m in months)


def rate(part: int, whole: int) -> str | None:
    """A share as a 4-decimal string (money-style: no float on the wire); None without a base."""
    if not whole:
        return None
    return str((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def annualised(monthly: str | None) -> str | None:
    if monthly is None:
        return None
    yearly = 1 - (1 - Decimal(monthly)) ** 12
    return str(yearly.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def total(per_store: list[dict[str, int]], names: tuple[str, ...]) -> dict[str, int]:
    return {n: sum(int(c.get(n, 0) or 0) for c in per_store) for n in names}


def figures(c: dict[str, int], members_by_tier: dict[str, int], complaints: dict[str, int]) -> dict[str, object]:
    """Summed counters -> the report's figures (the shape of GET /reports/kpis)."""
    churn_rate = rate(c["lost"], c["snapshot"])
    gold_rate = rate(c["lost_gold_plus"], c["snapshot_gold_plus"])
    responded, nps_n = complaints.get("responded", 0), c["nps_responses"]
    promoters, detractors = c["nps_promoters"], c["nps_detractors"]
    return {
        "members_by_tier": {t: members_by_tier.get(t, 0) for t in TIERS},
        "vips": sum(members_by_tier.get(t, 0) for t in VIP_TIERS),
        "enrolled": c["enrolled"], "closed": c["closed"], "new_vips": c["new_vips"], "upgrades": c["upgrades"],
        "downgrades": c["downgrades"],
        "churn": {"snapshot": c["snapshot"], "lost": c["lost"], "rate": churn_rate,
                  "annualised_rate": annualised(churn_rate), "gold_plus_snapshot": c["snapshot_gold_plus"],
                  "gold_plus_lost": c["lost_gold_plus"], "gold_plus_rate": gold_rate,
                  "gold_plus_annualised_rate": annualised(gold_rate), "target": str(CHURN_TARGET),
                  "gold_plus_target": str(GOLD_PLUS_CHURN_TARGET), "by_tier": churn_by_tier(c)},
        "retention_rate": None if churn_rate is None else str(Decimal(1) - Decimal(churn_rate)),
        "complaints": {
            "opened": complaints.get("opened", 0), "resolved": complaints.get("resolved", 0),
            "resolved_on_time": complaints.get("resolved_in_time", 0),
            "timeliness": rate(complaints.get("resolved_in_time", 0), complaints.get("opened", 0)),
            "first_responses": responded,
            "mean_first_response_minutes": (
                str((Decimal(complaints.get("first_response_seconds", 0)) / responded / 60)
                    .quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)) if responded else None),
            "rated": complaints.get("feedback", 0), "satisfied": complaints.get("satisfied", 0),
            "satisfaction": rate(complaints.get("satisfied", 0), complaints.get("feedback", 0))},
        "nps": {"responses": nps_n, "promoters": promoters, "passives": c["nps_passives"], "detractors": detractors,
                "score": round(100 * (promoters - detractors) / nps_n) if nps_n else None},
        "contacts": {"gold_plus": c["gold_plus_at_start"], "contacted": c["gold_plus_contacted"],
                     "coverage": rate(c["gold_plus_contacted"], c["gold_plus_at_start"]), "logged": c["contacts"]},
        "sms": {"sent": c["sms_sent"], "capped": c["sms_capped"], "deferred": c["sms_deferred"],
                "suppressed": c["sms_suppressed"], "failed": c["sms_failed"]},
        "activities": activity_figures(c),
    }


def churn_by_tier(c: dict[str, int]) -> dict[str, dict[str, object]]:
    """Churn of each VIP tier: the snapshot's members of that tier (their tier at the month's
    start) and those of them lost."""
    out: dict[str, dict[str, object]] = {}
    for t in VIP_TIER_IDS:
        monthly = rate(c[f"lost_{t}"], c[f"snapshot_{t}"])
        out[t] = {"snapshot": c[f"snapshot_{t}"], "lost": c[f"lost_{t}"], "rate": monthly,
                  "annualised_rate": annualised(monthly)}
    return out


def activity_figures(c: dict[str, int]) -> dict[str, object]:
    """The activities block: each rate's numerator is counted within its denominator's set
    (invited VIPs are flagged on the snapshot itself; only invited guests' attendance counts;
    on-time feedback is feedback of an ended activity)."""
    vips_invited = c["activity_vips_carried"] + c["activity_vips_invited"]
    return {
        "vips": c["vips_at_start"], "vips_invited": vips_invited,
        "coverage": rate(vips_invited, c["vips_at_start"]), "coverage_target": str(ACTIVITY_COVERAGE_TARGET),
        "invited": c["activity_invited"], "attended": c["activity_attended"],
        "participation": rate(c["activity_attended"], c["activity_invited"]),
        "participation_target": str(PARTICIPATION_TARGET),
        "ended": c["activities_ended"], "feedback_filed": c["activity_feedback_filed"],
        "feedback_on_time": c["activity_feedback_on_time"],
        "feedback_on_time_rate": rate(c["activity_feedback_on_time"], c["activities_ended"]),
    }

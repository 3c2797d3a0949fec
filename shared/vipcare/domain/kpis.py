"""The figures the business steers by (docs/domain.md §6). Pure rules: what a tier change counts,
when a VIP is lost, and counters -> the report's figures. No I/O.

- VIP = silver and above; "gold+" = gold and diamond.
- Churn ("left") of a month = VIPs of the month's snapshot (the VIP set at its start) who left
  the programme (closed: the profile is gone) during it / the snapshot; overall, gold+ and per
  tier (the tier at the month's start). The yearly rate the targets speak of (3.5%, 2% for
  gold+ by default) is the monthly rate compounded: 1 - (1 - monthly)^12.
- Retention at a month's end = 1 - lost / snapshot, where the snapshot is the VIP set at the
  start of the brand's retention window (a calendar quarter, half or year) and "lost" is the
  brand's rule (domain.kpi_policy): closed, or months below a floor in total, or no purchase
  for N days. Targets 77% basic, 83% challenge by default.
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

from .kpi_policy import DEFAULT as DEFAULT_POLICY
from .kpi_policy import KpiPolicy
from .members import Tier
from .tiers import TIER_IDS, rank_of

TIERS = TIER_IDS
VIP_TIERS = frozenset(TIER_IDS) - {Tier.REGULAR.value}  # "VIP": silver and above
GOLD_PLUS = frozenset({Tier.GOLD.value, Tier.DIAMOND.value})

# Every counter kept per (brand, month, store). Flows are ADDed as things happen; the snapshot
# figures and the tier mix at the month's end are SET by the monthly snapshot job.
FLOWS = ("enrolled", "closed", "new_vips", "upgrades", "downgrades", "contacts", "gold_plus_contacted",
         "nps_responses", "nps_promoters", "nps_passives", "nps_detractors",
         "sms_sent", "sms_capped", "sms_deferred", "sms_suppressed", "sms_failed",
         "activity_invited", "activity_attended", "activities_ended", "activity_feedback_filed",
         "activity_feedback_on_time", "activity_vips_invited")
VIP_TIER_IDS = tuple(t for t in TIER_IDS if t in VIP_TIERS)  # silver, gold, diamond: churn per tier
SNAPSHOT = ("snapshot", "left", "snapshot_gold_plus", "left_gold_plus",
            *(f"{kind}_{t}" for t in VIP_TIER_IDS for kind in ("snapshot", "left")),
            "retention_snapshot", "retention_lost", "retention_snapshot_gold_plus", "retention_lost_gold_plus",
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


def figures(c: dict[str, int], members_by_tier: dict[str, int], complaints: dict[str, int], *, period: str,
            policy: KpiPolicy = DEFAULT_POLICY) -> dict[str, object]:
    """Summed counters -> the report's figures (the shape of GET /reports/kpis), the targets
    from the brand's KPI policy."""
    churn_rate = rate(c["left"], c["snapshot"])
    gold_rate = rate(c["left_gold_plus"], c["snapshot_gold_plus"])
    responded, nps_n = complaints.get("responded", 0), c["nps_responses"]
    promoters, detractors = c["nps_promoters"], c["nps_detractors"]
    return {
        "members_by_tier": {t: members_by_tier.get(t, 0) for t in TIERS},
        "vips": sum(members_by_tier.get(t, 0) for t in VIP_TIERS),
        "enrolled": c["enrolled"], "closed": c["closed"], "new_vips": c["new_vips"], "upgrades": c["upgrades"],
        "downgrades": c["downgrades"],
        "churn": {"snapshot": c["snapshot"], "left": c["left"], "rate": churn_rate,
                  "annualised_rate": annualised(churn_rate), "gold_plus_snapshot": c["snapshot_gold_plus"],
                  "gold_plus_left": c["left_gold_plus"], "gold_plus_rate": gold_rate,
                  "gold_plus_annualised_rate": annualised(gold_rate), "target": str(policy.churn_target),
                  "gold_plus_target": str(policy.gold_plus_churn_target), "by_tier": churn_by_tier(c)},
        "retention": retention_figures(c, period, policy),
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
        "activities": activity_figures(c, policy),
    }


def churn_by_tier(c: dict[str, int]) -> dict[str, dict[str, object]]:
    """Churn of each VIP tier: the snapshot's members of that tier (their tier at the month's
    start) and those of them lost."""
    out: dict[str, dict[str, object]] = {}
    for t in VIP_TIER_IDS:
        monthly = rate(c[f"left_{t}"], c[f"snapshot_{t}"])
        out[t] = {"snapshot": c[f"snapshot_{t}"], "left": c[f"left_{t}"], "rate": monthly,
                  "annualised_rate": annualised(monthly)}
    return out


def retention_figures(c: dict[str, int], period: str, policy: KpiPolicy) -> dict[str, object]:
    """Retention at the month's end: the window's snapshot and those of it lost so far (SET
    when the next month's snapshot runs: none while the month is running)."""
    kept = c["retention_snapshot"] - c["retention_lost"]
    gold_kept = c["retention_snapshot_gold_plus"] - c["retention_lost_gold_plus"]
    return {"window_start": policy.window_start(period), "window_months": policy.retention_months,
            "rule": policy.rule_text(), "snapshot": c["retention_snapshot"], "lost": c["retention_lost"],
            "rate": rate(kept, c["retention_snapshot"]),
            "gold_plus_snapshot": c["retention_snapshot_gold_plus"],
            "gold_plus_lost": c["retention_lost_gold_plus"],
            "gold_plus_rate": rate(gold_kept, c["retention_snapshot_gold_plus"]),
            "target_basic": str(policy.retention_target_basic),
            "target_challenge": str(policy.retention_target_challenge)}


def activity_figures(c: dict[str, int], policy: KpiPolicy = DEFAULT_POLICY) -> dict[str, object]:
    """The activities block: each rate's numerator is counted within its denominator's set
    (invited VIPs are flagged on the snapshot itself; only invited guests' attendance counts;
    on-time feedback is feedback of an ended activity)."""
    vips_invited = c["activity_vips_carried"] + c["activity_vips_invited"]
    return {
        "vips": c["vips_at_start"], "vips_invited": vips_invited,
        "coverage": rate(vips_invited, c["vips_at_start"]), "coverage_target": str(policy.activity_coverage_target),
        "invited": c["activity_invited"], "attended": c["activity_attended"],
        "participation": rate(c["activity_attended"], c["activity_invited"]),
        "participation_target": str(policy.participation_target),
        "ended": c["activities_ended"], "feedback_filed": c["activity_feedback_filed"],
        "feedback_on_time": c["activity_feedback_on_time"],
        "feedback_on_time_rate": rate(c["activity_feedback_on_time"], c["activities_ended"]),
    }

"""Every rate of the KPI report is a share in [0, 1] (docs/kpis.md): property tests on the pure
figures, fed counters as the writers keep them, each numerator counted within its
denominator's set (a contacted gold+ member is one of the month's opening gold+ set, a VIP who
left one of the snapshot, a lost one of the retention window's snapshot, an attended guest an invited one, ...)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from vipcare.domain import kpis as rules

# numerator -> the counter it is a part of
PARTS = {
    "left": "snapshot", "left_gold_plus": "snapshot_gold_plus", "gold_plus_contacted": "gold_plus_at_start",
    "retention_lost": "retention_snapshot",
    "activity_attended": "activity_invited", "activity_feedback_on_time": "activities_ended",
}
COMPLAINT_PARTS = {"resolved_in_time": "opened", "satisfied": "feedback"}


@st.composite
def counters(draw: Any) -> tuple[dict[str, int], dict[str, int]]:
    n = st.integers(min_value=0, max_value=10_000)
    c = {name: draw(n) for name in rules.COUNTERS}
    c["snapshot_gold_plus"] = draw(st.integers(0, c["snapshot"]))
    c["retention_snapshot_gold_plus"] = draw(st.integers(0, c["retention_snapshot"]))
    c["gold_plus_at_start"] = draw(st.integers(0, c["vips_at_start"]))
    for part, whole in {**PARTS, **{f"left_{t}": f"snapshot_{t}" for t in rules.VIP_TIER_IDS}}.items():
        c[part] = draw(st.integers(0, c[whole]))
    c["left_gold_plus"] = draw(st.integers(0, min(c["left"], c["snapshot_gold_plus"])))
    c["retention_lost_gold_plus"] = draw(st.integers(0, min(c["retention_lost"], c["retention_snapshot_gold_plus"])))
    c["activity_vips_carried"] = draw(st.integers(0, c["vips_at_start"]))
    c["activity_vips_invited"] = draw(st.integers(0, c["vips_at_start"] - c["activity_vips_carried"]))
    c["nps_promoters"] = draw(st.integers(0, c["nps_responses"]))
    c["nps_detractors"] = draw(st.integers(0, c["nps_responses"] - c["nps_promoters"]))
    complaints = {"opened": draw(n), "feedback": draw(n), "responded": draw(n),
                  "first_response_seconds": draw(n)}
    for part, whole in COMPLAINT_PARTS.items():
        complaints[part] = draw(st.integers(0, complaints[whole]))
    return c, complaints


def rates(doc: Any, path: str = "") -> list[tuple[str, str | None]]:
    """Every rate in the report: the keys that name a share."""
    found: list[tuple[str, str | None]] = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            if isinstance(value, dict):
                found += rates(value, f"{path}{key}.")
            elif key.endswith(("rate", "coverage", "participation", "timeliness",
                                                      "satisfaction")):
                found.append((f"{path}{key}", value))
    return found


@given(counters(), st.dictionaries(st.sampled_from(rules.TIERS), st.integers(0, 10_000)),
       st.sampled_from(["2026-01", "2026-06", "2026-12"]))
def test_every_rate_of_the_report_is_a_share(kit, by_tier, period):
    c, complaints = kit
    doc = rules.figures(c, by_tier, complaints, period=period)
    found = rates(doc)
    assert len(found) >= 10
    for name, value in found:
        assert value is None or Decimal(0) <= Decimal(value) <= Decimal(1), (name, value)


@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_a_rate_of_a_part_is_a_share_and_none_without_a_base(part, whole):
    part = min(part, whole)
    r = rules.rate(part, whole)
    if whole == 0:
        assert r is None
    else:
        assert r is not None and Decimal(0) <= Decimal(r) <= Decimal(1)
        assert abs(Decimal(r) - Decimal(part) / Decimal(whole)) <= Decimal("0.00005")
        yearly = rules.annualised(r)
        assert yearly is not None and Decimal(r) - Decimal("0.0001") <= Decimal(yearly) <= Decimal(1)

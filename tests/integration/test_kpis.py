"""KPIs against moto: counters kept by the writes as they happen, the monthly snapshot, and
the report by store, region and brand, checked against a brute-force recomputation."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from infra.local.lambdas import LambdaContext, handler_for
from tests.support import clock
from tests.support.api import ADMIN, CLERK_001, OTHER_BRAND_ADMIN, call, claims_for, enrol

pytestmark = pytest.mark.usefixtures("directory")
NOW = clock.now()
PERIOD = clock.brand_month(NOW)


def report(claims=ADMIN, **query) -> dict:
    qs = "&".join(f"{k}={v}" for k, v in {"period": PERIOD, **query}.items())
    r = call("GET", f"/reports/kpis?{qs}", claims=claims)
    assert r.status == 200, r.body
    return r.body


def member(phone: str, store_id: str = "demo-001") -> str:
    r = enrol(phone=phone, store_id=store_id)
    assert r.status == 201, r.body
    return r.body["member_id"]


def tier_changed(member_id: str, frm: str, to: str, event_id: str, store_id: str = "demo-001") -> dict:
    body = {"detail-type": "TierChanged", "source": "vipcare", "detail": {
        "event_id": event_id, "brand_id": "demo", "member_id": member_id, "store_id": store_id, "from": frm,
        "to": to, "at": NOW.isoformat()}}
    event = {"Records": [{"messageId": event_id, "receiptHandle": "r", "body": json.dumps(body), "attributes": {},
                          "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                          "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1"}]}
    return handler_for("functions/kpi_reports/", "app.handler")(event, LambdaContext())


def test_enrolments_and_tier_changes_move_the_tier_mix_and_are_counted_once():
    a, b = member("13800138400"), member("13800138401", "demo-002")
    tier_changed(a, "regular", "silver", "t-1")
    tier_changed(a, "regular", "silver", "t-1")  # redelivered: counted once
    tier_changed(a, "silver", "gold", "t-2")
    doc = report()
    assert doc["members_by_tier"] == {"regular": 1, "silver": 0, "gold": 1, "diamond": 0}
    assert (doc["enrolled"], doc["new_vips"], doc["upgrades"], doc["downgrades"], doc["vips"]) == (2, 1, 2, 0, 1)
    store = report(store_id="demo-002")
    assert (store["level"], store["members_by_tier"]["regular"], store["enrolled"]) == ("store", 1, 1)
    assert b


def test_store_staff_see_only_their_store_and_other_brands_see_nothing_of_ours():
    member("13800138410")
    assert report(CLERK_001)["scope_id"] == "demo-001"
    assert call("GET", f"/reports/kpis?period={PERIOD}&store_id=demo-002", claims=CLERK_001).status == 403
    assert report(OTHER_BRAND_ADMIN)["enrolled"] == 0


def test_bad_periods_and_ranges_are_refused_naming_the_field():
    assert call("GET", "/reports/kpis?period=2026-13", claims=ADMIN).status == 422
    r = call("GET", "/reports/kpis/history?from=2026-12&to=2026-01", claims=ADMIN)
    assert r.status == 422 and r.field_names() == ["from"]
    r = call("GET", "/reports/kpis/history?from=2020-01&to=2026-01", claims=ADMIN)
    assert r.status == 422
    r = call("GET", f"/reports/kpis?period={PERIOD}&region=nowhere", claims=ADMIN)
    assert r.status == 422 and r.field_names() == ["region"]


def test_history_without_a_range_is_the_last_twelve_months():
    from vipcare.domain.months import shift

    current = clock.brand_month(NOW)
    periods = [p["period"] for p in call("GET", "/reports/kpis/history", claims=ADMIN, at=NOW).body["periods"]]
    assert periods == [shift(current, i) for i in range(-11, 1)]
    to = shift(current, -9)
    periods = [p["period"] for p in call("GET", f"/reports/kpis/history?to={to}", claims=ADMIN, at=NOW)
               .body["periods"]]
    assert (periods[0], periods[-1], len(periods)) == (shift(to, -11), to, 12)
    start = shift(current, -5)
    periods = [p["period"] for p in call("GET", f"/reports/kpis/history?from={start}", claims=ADMIN, at=NOW)
               .body["periods"]]
    assert (periods[0], periods[-1]) == (start, current)  # never past the current month


# ---- the whole report against a brute-force recomputation from the raw items -----------------------


def _recompute(period: str, previous: str, snapshot_ids: set[str], floor: int) -> dict:
    """Every figure of the brand's report for `period`, from the raw data (Scans, test only)."""
    from tests.support.aws import all_items

    profiles = [i for i in all_items("MembersTable") if i["sk"] == "PROFILE"]
    members = [i for i in profiles if not i.get("erased_at")]  # the erased leave the tier mix
    stats = {i["pk"].split("#")[3]: i for i in all_items("MembersTable") if i["sk"] == "STATS"}
    by_tier = {t: sum(1 for m in members if m.get("tier", "regular") == t) for t in ("regular", "silver", "gold",
                                                                                     "diamond")}
    tz = clock.brand_zone()
    enrolled = sum(1 for m in profiles if datetime.fromisoformat(str(m["enrolled_at"]).replace("Z", "+00:00"))
                   .astimezone(tz).strftime("%Y-%m") == period)
    # coverage's set: the gold+ members of the month's opening snapshot, whatever their tier since
    gold_plus = {i["sk"] for i in all_items("KpiTable") if i["pk"] == f"BRAND#demo#SNAP#{period}"
                 and i["tier"] in ("gold", "diamond")}
    care = all_items("CareTable")
    contacts = [c for c in care if c["sk"].startswith("CONTACT#") and c["contacted_on"].startswith(period)]
    messages = [c for c in care if c["sk"].startswith("MSG#")]
    cases = [c for c in all_items("ComplaintsTable") if c["sk"] == "CASE" and c["period"] == period]
    nps = [int(c["nps"]) for c in contacts if c.get("nps") is not None] + \
          [int(c["nps"]) for c in cases if c.get("nps") is not None]

    def spend(member_id: str, month: str) -> float:
        return float((stats.get(member_id, {}).get("spend") or {}).get(month, 0))

    # churn: the previous month's snapshot members who left (their profile is gone); retention
    # with a one-month window: lost = left, or that month's spend below the floor
    alive = {m["pk"].split("#")[3] for m in members}
    left = snapshot_ids - alive
    lost = {m for m in snapshot_ids if m in left or spend(m, previous) < floor}
    return {
        "members_by_tier": by_tier, "enrolled": enrolled,
        "gold_plus": len(gold_plus), "contacted": len({c["member_id"] for c in contacts} & gold_plus),
        "logged": len(contacts),
        "nps": (len(nps), sum(1 for n in nps if n >= 9), sum(1 for n in nps if n <= 6)),
        "sms": {s: sum(1 for m in messages if m["status"] == s) for s in ("sent", "capped", "suppressed")},
        "complaints": (len(cases), sum(1 for c in cases if c.get("resolved_at")),
                       sum(1 for c in cases if c.get("satisfied") is True)),
        "snapshot": len(snapshot_ids), "left": len(left), "lost": len(lost),
    }


def _spent(member_id: str, month: str, amount: str) -> None:
    """The member's net spend of a past month, as the ledger keeps it (the sale itself is not
    what this test is about)."""
    from decimal import Decimal

    from vipcare.store.ledger import STATS_SK, StatsItem
    from vipcare.store.models import member_pk

    item = StatsItem.get(member_pk("demo", member_id), STATS_SK)
    item.update(actions=[StatsItem.spend.set({**(item.spend or {}), month: Decimal(amount)})])


def test_the_report_agrees_with_a_brute_force_recomputation_from_the_raw_data():
    from vipcare.domain.months import shift
    from vipcare.domain.tasks import Cadence
    from vipcare.services.kpis import run_snapshot
    from vipcare.services.reminders import run_dispatch
    from vipcare.store.models import MemberItem, member_pk
    from vipcare.wiring import care, kpi_reports

    reports = kpi_reports()

    previous = shift(PERIOD, -1)
    # a store in a region, members across both stores
    assert call("POST", "/stores", {"store_id": "demo-n1", "name": "North 1", "region": "north"},
                claims=ADMIN).status == 201
    ids = [member(f"1380013850{i}", store) for i, store in enumerate(["demo-001", "demo-001", "demo-002",
                                                                       "demo-n1", "demo-n1", "demo-001"])]
    # tiers: two gold, one silver, one diamond (as the tier events announce them)
    for n, (mid, to) in enumerate([(ids[0], "gold"), (ids[1], "gold"), (ids[2], "silver"), (ids[3], "diamond")]):
        store = MemberItem.get(member_pk("demo", mid), "PROFILE").store_id
        tier_changed(mid, "regular", to, f"bf-{n}", store)
        MemberItem(member_pk("demo", mid), "PROFILE").update(actions=[MemberItem.tier.set(to)])
        care().cadence.put(Cadence("demo", mid, to, clock.local_day(NOW) + timedelta(days=20)))
    # the snapshot of the previous month: taken at its start, judged at the start of this one
    start_prev = clock.at_local(date.fromisoformat(f"{previous}-01"), 1)
    start_now = clock.at_local(date.fromisoformat(f"{PERIOD}-01"), 1)
    assert run_snapshot(start_prev, care=care(), kpis=reports.kpis,
                        ledger=reports.ledger).vips == 4  # both brands have stores; only demo has VIPs
    # the brand assesses retention month by month: lost = a month's spend below 100
    r = call("PUT", "/brands/demo/kpi-policy", {"retention_months": 1, "months_below_floor": 1, "floor": 100},
             claims=ADMIN, at=start_prev)
    assert r.status == 200 and r.body["version"] == 1, r.body
    # during the previous month: one VIP spent above the floor, one spent below it, one left
    _spent(ids[0], previous, "150")
    _spent(ids[3], previous, "99.99")
    assert call("DELETE", f"/members/{ids[2]}", claims=ADMIN).status in (200, 204)
    # this month's snapshot, taken at its start: it judges the previous month and fixes the
    # gold+ set contact coverage is a share of
    assert run_snapshot(start_now, care=care(), kpis=reports.kpis, ledger=reports.ledger).evaluated == 4
    # a gold member downgraded during the month stays in the set
    tier_changed(ids[1], "gold", "silver", "bf-down", MemberItem.get(member_pk("demo", ids[1]), "PROFILE").store_id)
    MemberItem(member_pk("demo", ids[1]), "PROFILE").update(actions=[MemberItem.tier.set("silver")])
    # contacts: gold+ members, one twice (coverage counts members), one with an NPS answer, the
    # downgraded one, and a regular one (outside the set)
    today = clock.local_day(NOW).isoformat()
    for mid, nps in [(ids[0], 9), (ids[0], None), (ids[3], 4), (ids[1], None), (ids[5], None)]:
        body = {"contacted_on": today, "channel": "phone", **({"nps": nps} if nps is not None else {})}
        assert call("POST", f"/members/{mid}/contacts", body, claims=ADMIN).status == 201
    # complaints: one resolved with feedback (NPS 10), one open
    body = {"member_id": ids[4], "store_id": "demo-n1", "channel": "store", "category": "billing",
            "severity": "low", "description": "Charged twice."}
    cid = call("POST", "/complaints", body, claims=ADMIN).body["complaint_id"]
    call("POST", "/complaints", {**body, "description": "Again."}, claims=ADMIN)
    sup = claims_for(role="admin")
    assert call("POST", f"/complaints/{cid}/acknowledge", {}, claims=sup).status == 200
    assert call("POST", f"/complaints/{cid}/resolve", {"resolution": "Refunded"}, claims=sup).status == 200
    assert call("POST", f"/complaints/{cid}/feedback", {"satisfied": True, "nps": 10}, claims=sup).status == 200
    # SMS: a birthday today for a consenting member (sent), run at 10:00 brand time
    MemberItem(member_pk("demo", ids[5]), "PROFILE").update(actions=[
        MemberItem.birthday.set(date(1990, 1, 1)),
        MemberItem.bday_key.set(f"BDAY#S#{today[5:7]}{today[8:10]}")])
    run_dispatch(clock.at_local(date.fromisoformat(today), 10), care())
    assert run_snapshot(start_now, care=care(), kpis=reports.kpis, ledger=reports.ledger).taken == 0  # done

    expected = _recompute(PERIOD, previous, {ids[0], ids[1], ids[2], ids[3]}, 100)
    assert reports.kpis.snapshot_done("demo", PERIOD)
    doc = report()
    assert doc["members_by_tier"] == expected["members_by_tier"]
    assert doc["enrolled"] == expected["enrolled"]
    assert (doc["contacts"]["gold_plus"], doc["contacts"]["contacted"], doc["contacts"]["logged"]) == \
        (expected["gold_plus"], expected["contacted"], expected["logged"]) == (3, 3, 5)
    assert doc["contacts"]["coverage"] == "1.0000"
    assert (doc["nps"]["responses"], doc["nps"]["promoters"], doc["nps"]["detractors"]) == expected["nps"]
    assert {k: doc["sms"][k] for k in ("sent", "capped", "suppressed")} == expected["sms"]
    assert (doc["complaints"]["opened"], doc["complaints"]["resolved"], doc["complaints"]["satisfied"]) == \
        expected["complaints"]
    last_month = call("GET", f"/reports/kpis?period={previous}", claims=ADMIN).body
    assert (last_month["churn"]["snapshot"], last_month["churn"]["left"]) == (expected["snapshot"],
                                                                              expected["left"]) == (4, 1)
    by_tier = last_month["churn"]["by_tier"]
    assert {t: v["snapshot"] for t, v in by_tier.items()} == {"silver": 1, "gold": 2, "diamond": 1}
    assert {t: v["left"] for t, v in by_tier.items()} == {"silver": 1, "gold": 0, "diamond": 0}
    retention = last_month["retention"]
    assert (retention["window_start"], retention["window_months"]) == (previous, 1)
    assert (retention["snapshot"], retention["lost"]) == (expected["snapshot"], expected["lost"]) == (4, 3)
    assert retention["rate"] == "0.2500" and retention["gold_plus_rate"] == "0.3333"  # ids[0] of 3 gold+ kept
    assert doc["retention"]["snapshot"] == 0 and doc["retention"]["rate"] is None  # judged when the month ends
    assert all(v["rate"] is None or 0 <= float(v["rate"]) <= 1 for v in by_tier.values())
    assert last_month["members_as_of"] == "period_end"
    # the region is the sum of its stores
    north = report(region="north")
    assert north["members_by_tier"] == report(store_id="demo-n1")["members_by_tier"]
    assert north["level"] == "region" and north["complaints"]["opened"] == 2
    history = call("GET", f"/reports/kpis/history?from={previous}&to={PERIOD}", claims=ADMIN).body["periods"]
    assert [h["period"] for h in history] == [previous, PERIOD]


def test_the_kpi_policy_is_the_brands_own_versioned_and_validated():
    url = "/brands/demo/kpi-policy"
    first = call("GET", url, claims=ADMIN).body
    assert (first["version"], first["retention_months"], first["floor"], first["retention_target_basic"]) == \
        (0, 12, "50", "0.77")  # the defaults until the brand stores one
    def refused(body: dict) -> list[str]:
        r = call("PUT", url, body, claims=ADMIN)
        assert r.status == 422, r.body
        return [f["field"] for f in r.body["fields"]]

    assert refused({"retention_months": 5}) == ["retention_months"]
    assert refused({"churn_target": 2}) == ["churn_target"]
    assert refused({"months_below_floor": 4, "retention_months": 3}) == ["months_below_floor"]
    assert call("PUT", url, {"lost_rule": "ever"}, claims=ADMIN).status == 422
    assert call("PUT", url, {"colour": "red"}, claims=ADMIN).status == 422
    assert call("PUT", url, {"floor": 80}, claims=CLERK_001).status == 403
    assert call("PUT", url, {"floor": 80}, claims=OTHER_BRAND_ADMIN).status == 404
    assert call("GET", url, claims=ADMIN).body["version"] == 0  # nothing refused was stored
    one = call("PUT", url, {"lost_rule": "no_purchase_days", "no_purchase_days": 120}, claims=ADMIN).body
    two = call("PUT", url, {"retention_months": 3}, claims=ADMIN).body
    assert (one["version"], two["version"], two["versions"]) == (1, 2, [1, 2])
    assert (two["lost_rule"], two["no_purchase_days"], two["retention_months"]) == ("no_purchase_days", 120, 3)
    assert two["created_by"] == "staff:demo-001-admin"
    doc = report()
    assert doc["retention"]["window_months"] == 3 and "120 days" in doc["retention"]["rule"]

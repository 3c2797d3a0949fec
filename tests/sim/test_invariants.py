"""The invariant checker itself: each rule counts what breaks it, from plain items, so a
simulation that reports all zeros has really been checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from infra.simulate import invariants as inv
from infra.simulate.report import qualifying

NOW = datetime(2026, 6, 30, 16, 0, tzinfo=UTC)  # literal dates: the checker is pure
PERIOD = inv.Period(first=NOW - timedelta(days=60), end=NOW,
                    job_interval={"ComplaintRoutingFunction": timedelta(minutes=15)})


def iso(moment: datetime) -> str:
    return moment.isoformat()


def profile(member_id: str = "m1", **extra) -> dict:
    return {"member_id": member_id, "tier": "regular", "enrolled_at": iso(PERIOD.first - timedelta(days=30)),
            "birthday": "1980-05-20", "birthday_lunar": False, "consent": {"sms_marketing": True}, **extra}


def message(kind: str, sent_at: datetime, member_id: str = "m1", **extra) -> dict:
    category = "service" if kind == "tier_upgrade" else "marketing"
    return {"member_id": member_id, "kind": kind, "category": category, "status": "sent", "sent_at": iso(sent_at),
            "created_at": iso(sent_at), "occasion_key": f"{kind}#{sent_at:%Y%m%d}", **extra}


BIRTHDAY_SENT = message("birthday", datetime(2026, 5, 20, 2, 0, tzinfo=UTC))


def rows(items: inv.Items) -> dict[str, int]:
    return {r.name: r.broken for r in inv.check(items, PERIOD, qualifying)}


def test_a_clean_world_breaks_nothing():
    assert set(rows(inv.Items(profiles=[profile()], messages=[BIRTHDAY_SENT])).values()) == {0}


def test_three_marketing_messages_in_a_week_break_the_cap_but_service_ones_do_not():
    day = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
    three = [message(k, day + timedelta(days=i)) for i, k in enumerate(("holiday", "anniversary", "promotion"))]
    assert rows(inv.Items(profiles=[profile()], messages=[BIRTHDAY_SENT, *three]))[
        "members above the weekly marketing cap"] == 1
    spread = [message("holiday", day), message("tier_upgrade", day + timedelta(days=1)),
              message("promotion", day + timedelta(days=8))]
    assert rows(inv.Items(profiles=[profile()], messages=[BIRTHDAY_SENT, *spread]))[
        "members above the weekly marketing cap"] == 0


def test_an_occasion_sent_twice_is_counted():
    again = {**BIRTHDAY_SENT, "occasion_key": "birthday#other", "sent_at": iso(datetime(2026, 5, 21, 2, tzinfo=UTC))}
    assert rows(inv.Items(profiles=[profile()], messages=[BIRTHDAY_SENT, again]))["occasions sent twice"] == 1


def test_a_missed_birthday_counts_a_deferred_one_the_next_morning_does_not_a_lunar_one_is_mapped():
    name = "consenting birthdays not greeted on the day"
    assert rows(inv.Items(profiles=[profile()]))[name] == 1
    assert rows(inv.Items(profiles=[profile(consent={"sms_marketing": False})]))[name] == 0
    deferred = message("birthday", datetime(2026, 5, 21, 1, 0, tzinfo=UTC))  # 09:00 the next day
    assert rows(inv.Items(profiles=[profile()], messages=[deferred]))[name] == 0
    lunar = profile(birthday_lunar=True)
    on = inv.birthday_on(lunar, 2026)
    assert on is not None and on.isoformat() != "2026-05-20"
    wrong_day = rows(inv.Items(profiles=[lunar], messages=[BIRTHDAY_SENT]))[name]
    assert wrong_day == (1 if PERIOD.first.date() <= on < PERIOD.end.date() else 0)


def test_an_overdue_complaint_escalated_late_is_counted():
    due = NOW - timedelta(days=2)
    case = {"complaint_id": "c1", "respond_by": iso(due), "acknowledged_at": None,
            "history": [{"action": "escalate", "at": iso(due + timedelta(minutes=14))}]}
    name = "overdue complaints not escalated within one job interval"
    assert rows(inv.Items(complaints=[case]))[name] == 0
    late = {**case, "history": [{"action": "escalate", "at": iso(due + timedelta(minutes=31))}]}
    assert rows(inv.Items(complaints=[late]))[name] == 1
    acked = {**late, "acknowledged_at": iso(due - timedelta(minutes=1))}
    assert rows(inv.Items(complaints=[acked]))[name] == 0


def sale(amount: str, points: int, member_id: str = "m1", clawed: int = 0) -> dict:
    return {"member_id": member_id, "kind": "sale", "amount": amount, "points": points, "points_clawed": clawed,
            "occurred_at": iso(NOW - timedelta(days=3))}


def test_points_and_tiers_are_checked_against_the_ledger():
    ledger = [sale("100000", 100000, clawed=100)]
    stats = [{"member_id": "m1", "lots": {"2027-06": 99900}, "debt": 0}]
    diamond = profile(tier="diamond")
    assert rows(inv.Items(profiles=[diamond], stats=stats, txns=ledger, messages=[BIRTHDAY_SENT]))[
        "points balances that differ from the ledger"] == 0
    off = [{**stats[0], "lots": {"2027-06": 100000}}]
    assert rows(inv.Items(profiles=[diamond], stats=off, txns=ledger, messages=[BIRTHDAY_SENT]))[
        "points balances that differ from the ledger"] == 1
    assert rows(inv.Items(profiles=[profile()], txns=ledger, messages=[BIRTHDAY_SENT]))[
        "tiers below what the ledger qualifies for"] == 1
    assert qualifying(Decimal(0), 0) == "regular"


def test_an_upgrade_the_ledger_did_not_qualify_for_is_counted_an_approved_application_is_not():
    at = NOW - timedelta(days=2)
    upgrade = {"member_id": "m1", "tier_from": "regular", "tier_to": "gold", "actor": "purchase", "at": iso(at)}
    name = "upgrades the ledger does not support"
    rich = [sale("100000", 100000)]  # three days before the decision
    stats = [{"member_id": "m1", "lots": {"2027-06": 100000}, "debt": 0}]
    base = {"profiles": [profile(tier="gold")], "messages": [BIRTHDAY_SENT], "stats": stats}
    assert rows(inv.Items(**base, txns=rich, decisions=[upgrade]))[name] == 0
    poor = [sale("10", 10)]
    few = [{"member_id": "m1", "lots": {"2027-06": 10}, "debt": 0}]
    assert rows(inv.Items(**{**base, "stats": few}, txns=poor, decisions=[upgrade]))[name] == 1
    approved = {**upgrade, "actor": "staff:demo-001-manager"}
    assert rows(inv.Items(**{**base, "stats": few}, txns=poor, decisions=[approved]))[name] == 0


def test_a_kpi_figure_that_differs_from_the_raw_items_is_counted():
    contacts = [{"member_id": "m1", "contacted_on": "2026-06-03", "nps": 10}]
    report = {"enrolled": 0, "contacts": {"logged": 1}, "sms": {"sent": 1}, "upgrades": 0, "downgrades": 0,
              "new_vips": 0,
              "nps": {"responses": 1, "promoters": 1, "passives": 0, "detractors": 0},
              "complaints": {"opened": 0}, "members_by_tier": {"regular": 1, "silver": 0, "gold": 0, "diamond": 0}}
    june = message("holiday", datetime(2026, 6, 5, 2, tzinfo=UTC))
    items = inv.Items(profiles=[profile()], messages=[BIRTHDAY_SENT, june], contacts=contacts,
                      kpi_reports={"2026-06": report})
    assert rows(items)["KPI figures that differ from the raw items"] == 0
    items.kpi_reports["2026-06"] = {**report, "nps": {**report["nps"], "promoters": 0, "passives": 1}}
    assert rows(items)["KPI figures that differ from the raw items"] == 1

"""Retention tasks closed retained or lost with a reason, and GET /reports/churn-reasons
(docs/kpis.md "Churn reasons"): counted once, in the brand's month of closing, per store; the
report equals a recount of the closed tasks."""

from __future__ import annotations

from collections import Counter

from tests.support import clock
from tests.support.api import ADMIN, OTHER_BRAND_ADMIN, call, claims_for, enrol

MANAGER = claims_for(role="manager", staff_id="mgr-1")


def retention_task(phone: str, store_id: str = "demo-001") -> tuple[str, str]:
    from vipcare.domain.tasks import TaskKind
    from vipcare.services.tasks import TaskRun
    from vipcare.store.models import MemberItem, member_pk
    from vipcare.wiring import care

    mid = enrol(phone=phone, store_id=store_id).body["member_id"]
    MemberItem(member_pk("demo", mid), "PROFILE").update(actions=[MemberItem.manager_id.set("mgr-1")])
    deps = care()
    period = clock.brand_month(clock.now())
    assert TaskRun(clock.now(), deps).raise_task(deps.members.get("demo", mid), TaskKind.RETENTION, period,
                                                 "churn risk score 70")
    return mid, f"retention.{period}"


def close(mid: str, tid: str, body: dict | None, claims=ADMIN):
    return call("POST", f"/members/{mid}/tasks/{tid}/complete", body, claims=claims)


def report(query: str = "", claims=ADMIN) -> dict:
    r = call("GET", f"/reports/churn-reasons?period={clock.brand_month(clock.now())}{query}", claims=claims)
    assert r.status == 200, r.body
    return r.body


def test_a_retention_task_closes_with_an_outcome_and_a_reason_when_lost(directory):
    mid, tid = retention_task("13800138301")
    for body, field in (({}, "outcome"), (None, "outcome"), ({"outcome": "maybe"}, "outcome"),
                        ({"outcome": "lost"}, "reason"), ({"outcome": "lost", "reason": "weather"}, "reason"),
                        ({"outcome": "retained", "reason": "price"}, "reason")):
        r = close(mid, tid, body)
        assert r.status == 422 and r.field_names() == [field], (body, r.body)
    assert report()["closed"] == 0  # nothing half-written
    r = close(mid, tid, {"outcome": "lost", "reason": "competitor"})
    assert r.status == 200 and (r.body["status"], r.body["outcome"], r.body["lost_reason"]) == (
        "done", "lost", "competitor")
    assert close(mid, tid, {"outcome": "lost", "reason": "competitor"}).status == 409  # a retry counts once
    assert report()["closed"] == 1


def test_the_report_counts_per_reason_and_store_and_equals_a_recount(directory):
    closes = [("13800138311", "demo-001", {"outcome": "retained"}),
              ("13800138312", "demo-001", {"outcome": "lost", "reason": "price"}),
              ("13800138313", "demo-001", {"outcome": "lost", "reason": "price"}),
              ("13800138314", "demo-002", {"outcome": "lost", "reason": "moved"})]
    closed = []
    for phone, store, body in closes:
        mid, tid = retention_task(phone, store)
        assert close(mid, tid, body).status == 200
        closed.append((mid, tid, store))
    retention_task("13800138315")  # open: not counted

    brand = report()
    assert (brand["closed"], brand["retained"], brand["lost"]) == (4, 1, 3)
    assert (brand["retained_rate"], brand["lost_rate"]) == ("0.2500", "0.7500")
    reasons = {r["reason"]: (r["count"], r["rate"]) for r in brand["reasons"]}
    assert reasons["price"] == (2, "0.5000") and reasons["moved"] == (1, "0.2500")
    assert reasons["service"] == (0, "0.0000") and len(reasons) == 6

    # the figures equal a recount from the tasks themselves
    from vipcare.store.tasks import TaskRepository

    tasks = [TaskRepository().get("demo", mid, tid) for mid, tid, _ in closed]
    recount = Counter(t.lost_reason for t in tasks if t and t.outcome == "lost")
    assert {r: n for r, (n, _) in reasons.items() if n} == dict(recount)

    two = report("&store_id=demo-002")
    assert (two["store_id"], two["closed"], two["lost"]) == ("demo-002", 1, 1)
    mine = report(claims=MANAGER)  # a manager sees their own store
    assert (mine["store_id"], mine["closed"]) == ("demo-001", 3)
    r = call("GET", f"/reports/churn-reasons?period={clock.brand_month(clock.now())}&store_id=demo-002",
             claims=MANAGER)
    assert r.status == 403 and r.field_names() == ["store_id"]
    assert report(claims=OTHER_BRAND_ADMIN)["closed"] == 0


def test_bad_period_is_422_and_other_tasks_take_no_reason(directory):
    r = call("GET", "/reports/churn-reasons?period=2026-13", claims=ADMIN)
    assert r.status == 422 and r.field_names() == ["period"]
    from vipcare.domain.tasks import TaskKind
    from vipcare.services.tasks import TaskRun
    from vipcare.wiring import care

    mid = enrol(phone="13800138321").body["member_id"]
    deps = care()
    TaskRun(clock.now(), deps).raise_task(deps.members.get("demo", mid), TaskKind.REVISIT, "c-1", "revisit")
    r = close(mid, "revisit.c-1", {"outcome": "lost", "reason": "price"})
    assert r.status == 422 and r.field_names() == ["reason"]
    r = close(mid, "revisit.c-1", {"outcome": "called back, happy"})
    assert r.status == 200 and r.body["outcome"] == "called back, happy"

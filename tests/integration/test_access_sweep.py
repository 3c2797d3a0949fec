"""Access, route by route (OWASP API1 object-level and API3 property-level authorisation),
generated from template.yaml: every API route must have an entry below, so a new route
without access rules fails here.

For each route: a caller of another brand never reaches this brand's objects (404; the
brand-level policy route 403), store staff of another store never reach a member they do not
own, the roles the rules name are refused, and no request body can set tier, points, spend,
ids or the brand (422 naming the field). The table of what was checked is printed."""

from __future__ import annotations

import functools
from collections import Counter

import pytest

from infra.local import template
from tests.integration.test_tiers import policy_body
from tests.support import clock
from tests.support.api import ADMIN, CLERK_002, OTHER_BRAND_ADMIN, call, claims_for, enrol

pytestmark = pytest.mark.usefixtures("directory")

MANAGER = claims_for(role="manager", staff_id="mgr-1")
SUPERVISOR = claims_for(role="supervisor", staff_id="sup-1")
STORE_STAFF = claims_for(role="store_staff", staff_id="clerk-1")
TODAY = clock.local_day(clock.now()).isoformat()


def activity_body() -> dict:
    """A valid activity plan, ten days from the (possibly moved) clock."""
    from datetime import timedelta

    start = (clock.moved_to() or clock.now()) + timedelta(days=10)
    return {"name": "Tea salon", "kind": "salon", "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=3)).isoformat(), "audience": {"filters": {}},
            "invitation": {"text": "{name}, join our tea salon on {date}",
                           "send_at": (start - timedelta(days=3)).isoformat()}}


# route -> (a valid body, roles of this brand that must be refused (403), member-scoped?)
# Bodies are valid for the route, so a refusal is about access, never about the input.
RULES: dict[tuple[str, str], tuple[dict | None, tuple[dict, ...], bool]] = {
    ("get", "/brands/{brand_id}/benefits"): (None, (), False),
    ("put", "/brands/{brand_id}/benefits"): ({"benefits": []}, (SUPERVISOR, MANAGER, STORE_STAFF), False),
    ("put", "/brands/{brand_id}/rewards/{reward_id}"): ({"name": "Mug", "kind": "gift", "points": 100},
                                                       (SUPERVISOR, MANAGER, STORE_STAFF), False),
    ("get", "/brands/{brand_id}/kpi-policy"): (None, (SUPERVISOR, MANAGER, STORE_STAFF), False),
    ("put", "/brands/{brand_id}/kpi-policy"): ({"floor": 80}, (SUPERVISOR, MANAGER, STORE_STAFF), False),
    ("get", "/brands/{brand_id}/tier-policy"): (None, (), False),
    ("put", "/brands/{brand_id}/tier-policy"): (policy_body(), (SUPERVISOR, MANAGER), False),
    ("put", "/care/templates/{kind}/{language}"): ({"text": "Hi {name}"}, (SUPERVISOR, MANAGER), False),
    ("get", "/complaints/{complaint_id}"): (None, (), False),
    ("post", "/complaints/{complaint_id}/acknowledge"): ({}, (), False),
    ("post", "/complaints/{complaint_id}/feedback"): ({"satisfied": True}, (), False),
    ("post", "/complaints/{complaint_id}/notes"): ({"text": "called back"}, (), False),
    ("post", "/complaints/{complaint_id}/resolve"): ({"resolution": "refunded"}, (), False),
    ("delete", "/members/{member_id}"): (None, (SUPERVISOR, MANAGER, STORE_STAFF), True),
    ("get", "/members/search"): (None, (), False),
    ("get", "/members/{member_id}"): (None, (), True),
    ("patch", "/members/{member_id}"): ({"notes": "x"}, (), True),
    ("get", "/members/{member_id}/benefits"): (None, (), True),
    ("post", "/members/{member_id}/benefit-uses"): ({"use_id": "u-1", "benefit_id": "parking", "store_id": "demo-001"},
                                                    (), True),
    ("get", "/members/{member_id}/contacts"): (None, (), True),
    ("post", "/members/{member_id}/contacts"): ({"contacted_on": TODAY, "channel": "phone"}, (), True),
    ("get", "/members/{member_id}/export"): (None, (MANAGER, STORE_STAFF), True),
    ("get", "/members/{member_id}/messages"): (None, (), True),
    ("get", "/members/{member_id}/points"): (None, (), True),
    ("get", "/members/{member_id}/purchases"): (None, (), True),
    ("post", "/members/{member_id}/redemptions"): ({"redemption_id": "r-1", "points": 1, "reason": "gift"}, (),
                                                   True),
    ("post", "/members/{member_id}/tasks/{task_id}/complete"): ({}, (), True),
    ("get", "/members/{member_id}/tier"): (None, (), True),
    ("post", "/members/{member_id}/tier-applications"): ({"target_tier": "gold", "reason": "VIP client"}, (), True),
    ("get", "/purchases/{store_id}/{transaction_id}"): (None, (), False),
    ("post", "/segments"): ({"name": "Gold", "filters": {"tier": "gold"}}, (), False),
    ("get", "/segments"): (None, (), False),
    ("get", "/segments/{segment_id}"): (None, (), False),
    ("get", "/segments/{segment_id}/members"): (None, (), False),
    ("get", "/segments/{segment_id}/export"): (None, (MANAGER, STORE_STAFF), False),
    ("post", "/activities"): (activity_body(), (MANAGER, STORE_STAFF), False),
    ("get", "/activities"): (None, (), False),
    ("get", "/activities/{activity_id}"): (None, (), False),
    ("post", "/activities/{activity_id}/rsvps"): ({"member_id": "m-unknown", "response": "yes"}, (), False),
    ("post", "/activities/{activity_id}/attendance"): ({"member_ids": ["m-unknown"]}, (), False),
    ("post", "/activities/{activity_id}/feedback"): ({"summary": "went well"}, (MANAGER, STORE_STAFF), False),
    ("get", "/staff/{staff_id}"): (None, (), False),
    ("patch", "/staff/{staff_id}"): ({"capacity": 5}, (SUPERVISOR, MANAGER), False),
    ("post", "/staff/{staff_id}/departure"): ({}, (MANAGER, STORE_STAFF), False),
    ("post", "/staff/{staff_id}/leave"): ({}, (MANAGER, STORE_STAFF), False),
    ("get", "/staff/{staff_id}/members"): (None, (), False),
    ("post", "/staff/{staff_id}/return"): ({}, (MANAGER, STORE_STAFF), False),
    ("get", "/staff/{staff_id}/tasks"): (None, (), False),
    ("post", "/tier-applications/{application_id}/decision"): ({"decision": "reject", "note": "no"},
                                                               (STORE_STAFF, MANAGER), False),
    ("put", "/care/settings"): ({"language": "en"}, (SUPERVISOR, MANAGER), False),
    ("get", "/complaints"): (None, (), False),
    ("post", "/complaints"): (None, (), False),
    ("get", "/members"): (None, (), False),
    ("post", "/members"): (None, (), False),
    ("post", "/purchases"): (None, (), False),
    ("get", "/reports/complaints"): (None, (), False),
    ("get", "/reports/churn-reasons"): (None, (), False),
    ("get", "/reports/kpis"): (None, (), False),
    ("get", "/reports/kpis/history"): (None, (), False),
    ("get", "/reports/threshold-advice"): (None, (), False),
    ("get", "/rewards"): (None, (), False),
    ("post", "/staff"): ({"name": "New", "role": "manager", "store_id": "demo-001"}, (SUPERVISOR, MANAGER), False),
    ("get", "/stores"): (None, (), False),
    ("post", "/stores"): ({"store_id": "demo-009", "name": "Nine"}, (SUPERVISOR, MANAGER), False),
    # tasks given by hand: a manager gives only to someone below them (mgr-1 is not below mgr-1)
    ("post", "/tasks"): ({"assignee_id": "mgr-1", "title": "Call back", "due_on": TODAY}, (MANAGER, STORE_STAFF),
                         False),
    ("post", "/tasks/{task_id}/assign"): ({"assignee_id": "clerk-1"}, (STORE_STAFF,), False),
    ("post", "/tasks/{task_id}/complete"): ({"outcome": "done"}, (STORE_STAFF,), False),
}
# Properties no request may set (API3: mass assignment), unless the route's own input has them.
FORBIDDEN = {"tier": "diamond", "points_balance": 1_000_000, "spend_12m": "99999.00", "member_no": "X-1",
             "brand_id": "acme", "manager_id": "mgr-1", "enrolled_at": "2020-01-01T00:00:00+00:00",
             "status": "closed", "version": 9}
# Path parameters that name no object of a brand: the route acts on the caller's own brand.
OWN_BRAND = {("put", "/care/templates/{kind}/{language}")}
table: Counter[tuple[str, str]] = Counter()


@pytest.fixture
def world() -> dict[str, str]:
    """One of each object of brand demo, store demo-001."""
    from vipcare.domain.tasks import TaskKind
    from vipcare.services.tasks import TaskRun
    from vipcare.wiring import care

    member_id = enrol(phone="13800138950").body["member_id"]
    complaint = call("POST", "/complaints", {"member_id": member_id, "store_id": "demo-001", "channel": "store",
                                             "category": "billing", "severity": "low", "description": "x"},
                     claims=ADMIN).body["complaint_id"]
    deps = care()
    TaskRun(clock.now(), deps).raise_task(deps.members.get("demo", member_id), TaskKind.CADENCE,
                                          clock.brand_month(clock.now()), "contact")
    application = call("POST", f"/members/{member_id}/tier-applications", {"target_tier": "gold",
                                                                          "reason": "big client"},
                       claims=MANAGER).body["application_id"]
    call("POST", "/purchases", {"transaction_id": "T-1", "member_id": member_id, "store_id": "demo-001",
                                "kind": "sale", "amount": "10.00", "currency": "CNY", "items": 1,
                                "occurred_at": clock.now().isoformat()}, claims=ADMIN)
    segment = call("POST", "/segments", {"name": "Everyone", "filters": {}}, claims=ADMIN).body["segment_id"]
    activity = call("POST", "/activities", activity_body(), claims=ADMIN).body["activity_id"]
    given = call("POST", "/tasks", {"assignee_id": "mgr-1", "title": "Call back", "due_on": TODAY},
                 claims=ADMIN).body["task_id"]
    return {"member_id": member_id, "complaint_id": complaint, "segment_id": segment, "staff_id": "mgr-1",
            "activity_id": activity,
            "brand_id": "demo",
            "kind": "birthday", "language": "en", "task_id": f"cadence.{clock.brand_month(clock.now())}",
            "application_id": application, "assigned_task_id": given,
            "store_id": "demo-001", "transaction_id": "T-1", "reward_id": "mug"}


def api_routes() -> list[tuple[str, str]]:
    return sorted({(r.method.lower(), r.path) for r in template.routes()})


def test_every_route_has_access_rules():
    assert set(api_routes()) == set(RULES), "add the new route's access rules to RULES"


@functools.cache
def _spec() -> dict:
    from infra.openapi_doc import build

    return build()


def documented(method: str, path: str, status: int) -> None:
    """What a route answered is in its OpenAPI responses: generated clients parse by status."""
    responses = _spec()["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method} {path} answered {status}, which it does not document"


def _path(path: str, ids: dict[str, str]) -> str:
    if path.startswith("/tasks/"):  # the routes of tasks given by hand take such a task's id
        ids = {**ids, "task_id": ids["assigned_task_id"]}
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    return path


def test_another_brand_never_reaches_this_brands_objects(world):
    for method, path in api_routes():
        if "{" not in path or (method, path) in OWN_BRAND:
            continue
        body, _, _ = RULES[(method, path)]
        r = call(method.upper(), _path(path, world), body, claims=OTHER_BRAND_ADMIN)
        expected = (403, 404) if path.startswith("/brands/") else (404,)
        assert r.status in expected, (method, path, r.status, r.body)
        documented(method, path, r.status)
        table[("other brand", f"{r.status}")] += 1


def test_collections_show_another_brand_nothing_of_this_brand(world):
    queries = {"/members": "?phone=13800138950", "/reports/complaints": "?period=2026-12",
               "/reports/churn-reasons": f"?period={clock.brand_month(clock.now())}",
               "/reports/kpis": "?period=2026-12", "/reports/kpis/history": "?from=2026-11&to=2026-12",
               "/reports/threshold-advice": "", "/complaints": "?status=assigned", "/stores": "",
               "/members/search": "", "/segments": "", "/activities": ""}
    for path, query in queries.items():
        r = call("GET", path + query, claims=OTHER_BRAND_ADMIN)
        text = str(r.body)
        assert world["member_id"] not in text and "demo-001" not in text, (path, r.body)
        table[("other brand, collection", f"{r.status}")] += 1


def test_store_staff_of_another_store_cannot_reach_a_member_they_do_not_own(world):
    for method, path in api_routes():
        body, _, member_scoped = RULES[(method, path)]
        if not member_scoped:
            continue
        r = call(method.upper(), _path(path, world), body, claims=CLERK_002)
        assert r.status in (403, 404), (method, path, r.status, r.body)
        documented(method, path, r.status)
        table[("other store", f"{r.status}")] += 1


def test_the_roles_the_rules_name_are_refused(world):
    for (method, path), (body, refused, _) in RULES.items():
        for claims in refused:
            r = call(method.upper(), _path(path, world), body, claims=claims)
            assert r.status == 403, (method, path, claims["custom:role"], r.status, r.body)
            documented(method, path, r.status)
            table[("role refused", "403")] += 1


def test_no_input_sets_tier_points_spend_ids_or_brand(world):
    from infra.openapi_doc import build

    spec = build()
    for (method, path), (body, _, _) in RULES.items():
        if method not in ("post", "put", "patch") or body is None:
            continue
        operation = spec["paths"][path][method]
        if "requestBody" not in operation:
            table[("mass assignment: no input", "-")] += 1  # the route reads no body at all
            continue
        schema_ref = operation["requestBody"]["content"]["application/json"]["schema"]
        allowed = set(_properties(spec, schema_ref))
        for name, value in FORBIDDEN.items():
            if name in allowed:
                continue
            r = call(method.upper(), _path(path, world), {**body, name: value}, claims=ADMIN)
            assert r.status == 422 and name in r.field_names(), (method, path, name, r.status, r.body)
            table[("mass assignment", "422")] += 1


def _properties(spec: dict, schema: dict) -> dict:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _properties(spec, spec["components"]["schemas"][name])
    props = dict(schema.get("properties", {}))
    for part in schema.get("anyOf", []) + schema.get("allOf", []) + schema.get("oneOf", []):
        props.update(_properties(spec, part))
    return props


def test_zz_the_access_table_is_printed():
    from tests.support.report import table as print_table

    assert table[("other brand", "404")] >= 25 and table[("mass assignment", "422")] >= 100, table
    print_table("access sweep (check, status: requests)",
                [f"{check:<26} {status:>4}  {n}" for (check, status), n in sorted(table.items())])

from __future__ import annotations

import re

from infra import openapi_doc


def test_committed_openapi_matches_the_code():
    committed = openapi_doc.OUTPUT.read_text()
    assert committed == openapi_doc.render(), "docs/openapi.json is stale: run `make openapi` and commit it"


def test_every_route_documents_auth_and_error_shape():
    doc = openapi_doc.build()
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            assert op.get("security") == [{"cognito": []}], f"{method} {path}"
            assert "422" in op["responses"], f"{method} {path}"


def test_every_route_that_takes_an_idempotency_key_documents_its_reuse():
    # A key reused with another body, or while the first request runs, answers 409.
    doc = openapi_doc.build()
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            headers = {p["name"].lower() for p in op.get("parameters", []) if p.get("in") == "header"}
            if "idempotency-key" in headers:
                assert "409" in op["responses"], f"{method} {path}"


def test_every_list_pages_with_limit_after_and_next():
    # No answer is a bare array (a client could not be told there is more); an answer carrying
    # `next` is a page, reached with `limit` and `after`.
    doc = openapi_doc.build()
    schemas = doc["components"]["schemas"]
    pages = 0
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            schema = op["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
            assert schema.get("type") != "array", f"{method} {path} answers a bare array"
            body = schemas.get(schema.get("$ref", "").rsplit("/", 1)[-1], {})
            if "next" in body.get("properties", {}):
                query = {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}
                assert {"limit", "after"} <= query, f"{method} {path}"
                pages += 1
    assert pages >= 12


# The SDK method names store apps' generated clients call: renaming one breaks their code, so a
# change here is a change on the wire (and an entry in infra/openapi_doc.CHANGES).
OPERATION_IDS = {
    "GET /activities": "listActivities",
    "POST /activities": "createActivity",
    "GET /activities/{activity_id}": "getActivity",
    "POST /activities/{activity_id}/attendance": "recordAttendance",
    "POST /activities/{activity_id}/feedback": "fileActivityFeedback",
    "POST /activities/{activity_id}/rsvps": "recordRsvp",
    "GET /brands/{brand_id}/benefits": "getBrandBenefits",
    "PUT /brands/{brand_id}/benefits": "setBrandBenefits",
    "PUT /brands/{brand_id}/rewards/{reward_id}": "setReward",
    "GET /brands/{brand_id}/tier-policy": "getTierPolicy",
    "GET /brands/{brand_id}/kpi-policy": "getKpiPolicy",
    "PUT /brands/{brand_id}/kpi-policy": "setKpiPolicy",
    "PUT /brands/{brand_id}/tier-policy": "setTierPolicy",
    "PUT /care/settings": "setCareSettings",
    "PUT /care/templates/{kind}/{language}": "setMessageTemplate",
    "GET /complaints": "listComplaints",
    "POST /complaints": "fileComplaint",
    "GET /complaints/{complaint_id}": "getComplaint",
    "POST /complaints/{complaint_id}/acknowledge": "acknowledgeComplaint",
    "POST /complaints/{complaint_id}/feedback": "recordComplaintFeedback",
    "POST /complaints/{complaint_id}/notes": "addComplaintNote",
    "POST /complaints/{complaint_id}/resolve": "resolveComplaint",
    "GET /members": "findMemberByPhone",
    "POST /members": "enrolMember",
    "DELETE /members/{member_id}": "eraseMember",
    "GET /members/{member_id}": "getMember",
    "PATCH /members/{member_id}": "updateMember",
    "POST /members/{member_id}/benefit-uses": "useBenefit",
    "GET /members/{member_id}/benefits": "getMemberBenefits",
    "GET /members/{member_id}/contacts": "listContacts",
    "POST /members/{member_id}/contacts": "logContact",
    "GET /members/{member_id}/export": "exportMember",
    "GET /members/{member_id}/messages": "listMemberMessages",
    "GET /members/{member_id}/points": "getMemberPoints",
    "GET /members/{member_id}/purchases": "listMemberPurchases",
    "POST /members/{member_id}/redemptions": "redeemPoints",
    "POST /members/{member_id}/tasks/{task_id}/complete": "completeTask",
    "GET /members/{member_id}/tier": "getMemberTier",
    "POST /members/{member_id}/tier-applications": "applyForTier",
    "GET /members/search": "searchMembers",
    "POST /purchases": "submitPurchases",
    "GET /purchases/{store_id}/{transaction_id}": "getPurchaseStatus",
    "GET /reports/complaints": "getComplaintReport",
    "GET /reports/kpis": "getKpiReport",
    "GET /reports/kpis/history": "getKpiHistory",
    "GET /reports/threshold-advice": "getThresholdAdvice",
    "GET /rewards": "listRewards",
    "GET /segments": "listSegments",
    "POST /segments": "createSegment",
    "GET /segments/{segment_id}": "getSegment",
    "GET /segments/{segment_id}/export": "exportSegment",
    "GET /segments/{segment_id}/members": "listSegmentMembers",
    "POST /staff": "addStaff",
    "GET /staff/{staff_id}": "getStaff",
    "PATCH /staff/{staff_id}": "updateStaff",
    "POST /staff/{staff_id}/departure": "recordDeparture",
    "POST /staff/{staff_id}/leave": "startLeave",
    "GET /staff/{staff_id}/members": "getManagerBook",
    "POST /staff/{staff_id}/return": "endLeave",
    "GET /staff/{staff_id}/tasks": "listStaffTasks",
    "GET /stores": "listStores",
    "POST /stores": "addStore",
    "POST /tier-applications/{application_id}/decision": "decideTierApplication",
    "POST /tasks": "createTask",
    "GET /reports/churn-reasons": "getChurnReasons",
    "POST /tasks/{task_id}/assign": "passTaskOn",
    "POST /tasks/{task_id}/complete": "completeAssignedTask",
}


def test_every_operation_has_its_stable_sdk_name():
    doc = openapi_doc.build()
    found = {f"{method.upper()} {path}": op.get("operationId")
             for path, operations in doc["paths"].items() for method, op in operations.items()}
    assert found == OPERATION_IDS
    assert len(set(found.values())) == len(found), "operation ids must be unique"
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)*", i) for i in found.values()), "lowerCamelCase, words only"

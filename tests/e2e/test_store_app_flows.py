"""The local stack over plain HTTP, as a store app calls it."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

pytestmark = pytest.mark.e2e


def test_enrol_duplicate_lookup_and_patch_over_http(stack):
    token = stack.token(role="store_staff")
    body = {"name": "E2E Member", "phone": "+86 137 0000 0001", "store_id": "demo-001",
            "consent": {"sms_marketing": True}}
    created = stack.request("POST", "/members", token, json=body)
    assert created.status_code == 201, created.text
    member_id = created.json()["member_id"]

    dup = stack.request("POST", "/members", token, json={**body, "phone": "13700000001"})
    assert dup.status_code == 409 and dup.json()["member_id"] == member_id

    found = stack.request("GET", "/members", token, params={"phone": "0086-137-0000-0001"})
    assert found.status_code == 200 and found.json()["member_id"] == member_id

    patched = stack.request("PATCH", f"/members/{member_id}", token, json={"hobbies": ["tea"]})
    assert patched.status_code == 200 and patched.json()["hobbies"] == ["tea"]
    refused = stack.request("PATCH", f"/members/{member_id}", token, json={"tier": "diamond"})
    assert refused.status_code == 422 and refused.json()["fields"][0]["field"] == "tier"
    assert stack.request("GET", f"/members/{member_id}", token).json()["tier"] == "regular"


def test_another_brand_gets_404(stack):
    demo = stack.token()
    member_id = stack.request("POST", "/members", demo, json={
        "name": "Brand Test", "phone": "13700000002", "store_id": "demo-001"}).json()["member_id"]
    acme = stack.token(brand_id="acme", store_id="acme-001")
    assert stack.request("GET", f"/members/{member_id}", acme).status_code == 404
    assert stack.request("GET", "/members", acme, params={"phone": "13700000002"}).status_code == 404


def test_a_token_for_a_brand_that_does_not_exist_sees_nothing(stack):
    stranger = stack.token(brand_id="nobody", store_id=None)
    assert stack.request("GET", "/stores", stranger).json() == {"stores": [], "next": None}


def test_missing_forged_and_expired_tokens_are_401(stack):
    token = stack.token()
    assert stack.request("GET", "/stores").status_code == 401
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged_payload = base64.urlsafe_b64encode(json.dumps({**claims, "custom:brand_id": "acme"}).encode())
    forged = f"{header}.{forged_payload.decode().rstrip('=')}.{signature}"
    r = stack.request("GET", "/stores", forged)
    assert r.status_code == 401 and "Authorization" in [f["field"] for f in r.json()["fields"]]
    assert stack.request("GET", "/stores", "not-a-jwt").status_code == 401
    # A token signed by a key the pool does not know (e.g. another issuer).
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    expired = jwt.encode({**claims, "exp": int(time.time()) - 60}, key, algorithm="RS256", headers={"kid": "dummy"})
    assert stack.request("GET", "/stores", expired).status_code == 401


def test_bearer_prefix_is_accepted(stack):
    assert stack.request("GET", "/stores", f"Bearer {stack.token()}").status_code == 200


def test_bad_input_over_http(stack):
    token = stack.token()
    assert stack.request("POST", "/members", token, data="{oops").status_code == 400
    big = stack.request("POST", "/members", token, json={"name": "x", "phone": "13700000003",
                                                          "store_id": "demo-001", "notes": "y" * 70_000})
    assert big.status_code == 413
    bad = stack.request("POST", "/members", token, json={"name": "x", "phone": "12", "store_id": "demo-001"})
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "phone"
    assert stack.request("GET", "/members", token, params={"phone": "13700000003"}).status_code == 404


def test_demo_data_is_loaded(stack):
    token = stack.token()
    stores = [s["store_id"] for s in stack.request("GET", "/stores", token).json()["stores"]]
    # the stack is shared: the API fuzzing may have added stores of its own
    assert {"demo-001", "demo-002", "demo-003"} <= set(stores) and stores == sorted(stores)
    supervisor = stack.request("GET", "/staff/demo-002-manager", token).json()["supervisor_id"]
    assert supervisor == "demo-002-supervisor"


def test_openapi_and_swagger_are_served(stack):
    doc = stack.request("GET", "/openapi.json").json()
    assert "/members" in doc["paths"] and doc["servers"][0]["url"] == stack.url
    assert "swagger-ui" in stack.request("GET", "/docs").text


def test_local_job_runner_refuses_unscheduled_functions(stack):
    r = stack.request("POST", "/_local/jobs/enrollment", json={})
    assert r.status_code == 404
    r = stack.request("POST", "/_local/jobs/enrollment", json={"time": "yesterday"})
    assert r.status_code == 422


def test_outbox_lists_sms(stack):
    r = stack.request("GET", "/_local/outbox")
    # Other e2e tests (complaints) send service SMS on the same session stack.
    assert r.status_code == 200 and r.json()["count"] == len(r.json()["messages"])


def test_no_personal_data_in_the_stack_log(stack):
    text = "".join(stack.output)
    for personal in ("13700000001", "E2E Member", "13700000002", "13700000601", "E2E Diamond"):
        assert personal not in text

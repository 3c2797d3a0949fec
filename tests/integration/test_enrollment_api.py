"""Enrollment API against moto: tables from template.yaml, events shaped as API Gateway's."""

from __future__ import annotations

import threading

import pytest

from tests.support import clock
from tests.support.api import ADMIN, CLERK_001, CLERK_002, OTHER_BRAND_ADMIN, call, enrol
from tests.support.aws import count_items

pytestmark = pytest.mark.usefixtures("directory")


def test_enrolment_returns_card_with_member_number_and_regular_tier():
    r = enrol(birthday="1990-05-01", consent={"sms_marketing": True}, hobbies=["tea"])
    assert r.status == 201, r.body
    card = r.body
    assert card["member_id"].startswith("m_")
    assert card["member_no"] == "DEMO-001-000001"
    assert card["phone"] == "+8613800138000"
    assert card["tier"] == "regular"
    assert card["points_balance"] == 0 and card["spend_12m"] == "0.00" and card["purchases_6m"] == 0
    assert card["manager_id"] is None
    assert card["consent"]["sms_marketing"] is True
    assert card["consent"]["source"] == "staff:demo-001-admin"


def test_member_numbers_follow_the_store_sequence():
    first = enrol(phone="13800138001").body["member_no"]
    second = enrol(phone="13800138002").body["member_no"]
    other_store = enrol(phone="13800138003", store_id="demo-002").body["member_no"]
    assert (first, second, other_store) == ("DEMO-001-000001", "DEMO-001-000002", "DEMO-002-000001")


@pytest.mark.parametrize("again", ["+86 138 0013 8000", "008613800138000", "138-0013-8000", "+8613800138000"])
def test_same_phone_in_any_format_is_409_with_the_existing_member(again):
    first = enrol()
    r = enrol(phone=again, name="Someone Else")
    assert r.status == 409
    assert r.body["error"] == "member_exists"
    assert r.body["member_id"] == first.body["member_id"]
    assert count_items("MembersTable") == 3  # one member, its phone claim and its figures


def test_concurrent_enrolments_of_one_phone_create_one_member():
    """Six Lambda instances enrol the same phone at once (the service is what each runs; a
    barrier makes them all pass the "already enrolled?" read before anyone writes)."""
    from vipcare import wiring
    from vipcare.api.models.members import EnrolRequest
    from vipcare.domain.access import Caller, Role
    from vipcare.domain.errors import Conflict
    from vipcare.services import members
    from vipcare.store.members import MemberRepository

    class SlowRepository(MemberRepository):
        waited = False

        def member_id_for_phone(self, brand_id, e164):
            found = super().member_id_for_phone(brand_id, e164)
            if not self.waited:  # only the pre-check, not the loser's read of the winner
                self.waited = True
                barrier.wait(timeout=10)
            return found

    barrier = threading.Barrier(6)
    caller = Caller(staff_id="s", brand_id="demo", store_id="demo-001", role=Role.ADMIN)
    outcomes: list[str] = []

    def attempt(i: int) -> None:
        try:
            members.enroll(caller, EnrolRequest(name=f"n{i}", phone="13800138000", store_id="demo-001"),
                           members=SlowRepository(), directory=wiring.enrollment().directory, now=clock.now())
            outcomes.append("created")
        except Conflict as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["created"] + ["member_exists"] * 5
    assert count_items("MembersTable") == 3


@pytest.mark.parametrize("header", ["Idempotency-Key", "idempotency-key"])
def test_idempotency_key_replays_the_first_response(header):
    first = enrol(headers={"Idempotency-Key": "pos-7-req-1"})
    retry = enrol(headers={header: "pos-7-req-1"})
    assert first.status == retry.status == 201
    assert retry.body == first.body
    assert count_items("MembersTable") == 3


def test_idempotency_key_reused_with_another_body_is_refused():
    key = {"Idempotency-Key": "pos-7-req-2"}
    assert enrol(headers=key).status == 201
    r = enrol(headers=key, phone="13800138009")
    assert r.status == 409
    assert r.field_names() == ["Idempotency-Key"]
    assert count_items("MembersTable") == 3


def test_idempotency_keys_are_scoped_per_brand():
    key = {"Idempotency-Key": "same-key"}
    assert enrol(headers=key).status == 201
    other = enrol(OTHER_BRAND_ADMIN, headers=key, store_id="acme-001")
    assert other.status == 201
    assert other.body["brand_id"] == "acme"


def test_get_member_and_lookup_by_phone_in_another_format():
    member_id = enrol().body["member_id"]
    assert call("GET", f"/members/{member_id}", claims=ADMIN).body["member_id"] == member_id
    found = call("GET", "/members?phone=%2B86%20138-0013-8000", claims=ADMIN)
    assert found.status == 200 and found.body["member_id"] == member_id


def test_another_brand_sees_404_not_403():
    member_id = enrol().body["member_id"]
    for r in (call("GET", f"/members/{member_id}", claims=OTHER_BRAND_ADMIN),
              call("GET", "/members?phone=13800138000", claims=OTHER_BRAND_ADMIN),
              call("PATCH", f"/members/{member_id}", {"notes": "x"}, claims=OTHER_BRAND_ADMIN)):
        assert r.status == 404, r.body
    assert call("GET", f"/members/{member_id}", claims=ADMIN).body["notes"] is None


def test_same_phone_may_enrol_in_two_brands():
    assert enrol().status == 201
    assert enrol(OTHER_BRAND_ADMIN, store_id="acme-001").status == 201


def test_store_staff_see_and_enrol_only_their_own_store():
    member_id = enrol(CLERK_001).body["member_id"]
    assert call("GET", f"/members/{member_id}", claims=CLERK_001).status == 200
    assert call("GET", f"/members/{member_id}", claims=CLERK_002).status == 404
    r = enrol(CLERK_001, phone="13800138005", store_id="demo-002")
    assert r.status == 403 and r.field_names() == ["store_id"]


def test_patch_updates_profile_and_consent_with_source():
    member_id = enrol().body["member_id"]
    r = call("PATCH", f"/members/{member_id}",
             {"email": "li@example.com", "hobbies": ["golf"], "consent": {"sms_marketing": True},
              "family": [{"name": "Xiao Ming", "relation": "son", "birthday": "2015-06-01"}]},
             claims=CLERK_001)
    assert r.status == 200, r.body
    assert r.body["email"] == "li@example.com" and r.body["hobbies"] == ["golf"]
    assert r.body["consent"] == {**r.body["consent"], "sms_marketing": True, "source": "staff:clerk-1"}
    stored = call("GET", f"/members/{member_id}", claims=ADMIN).body
    assert stored["family"][0]["relation"] == "son"
    assert stored["name"] == "Li Na"  # untouched fields stay


def test_patch_null_clears_an_optional_field_but_not_the_name():
    member_id = enrol(email="li@example.com").body["member_id"]
    assert call("PATCH", f"/members/{member_id}", {"email": None}, claims=ADMIN).body["email"] is None
    r = call("PATCH", f"/members/{member_id}", {"name": None}, claims=ADMIN)
    assert r.status == 422 and r.field_names() == ["name"]


@pytest.mark.parametrize("field,value", [
    ("tier", "diamond"), ("points_balance", 100000), ("spend_12m", "99999"), ("member_id", "m_x"),
    ("manager_id", "mgr-1"), ("member_no", "X"), ("brand_id", "acme"), ("store_id", "demo-002"),
    ("favourite_colour", "red"),
])
def test_patch_cannot_set_owned_or_unknown_fields(field, value):
    member_id = enrol().body["member_id"]
    before = call("GET", f"/members/{member_id}", claims=ADMIN).body
    r = call("PATCH", f"/members/{member_id}", {field: value, "notes": "should not land"}, claims=ADMIN)
    assert r.status == 422
    assert field in r.field_names()
    assert call("GET", f"/members/{member_id}", claims=ADMIN).body == before


def test_patch_phone_moves_the_uniqueness_claim():
    member_id = enrol().body["member_id"]
    r = call("PATCH", f"/members/{member_id}", {"phone": "139 0000 0001"}, claims=ADMIN)
    assert r.status == 200 and r.body["phone"] == "+8613900000001"
    assert call("GET", "/members?phone=13900000001", claims=ADMIN).body["member_id"] == member_id
    assert call("GET", "/members?phone=13800138000", claims=ADMIN).status == 404
    assert enrol().status == 201  # the old phone is free again


def test_patch_phone_to_another_members_phone_is_409_and_changes_nothing():
    first = enrol().body["member_id"]
    second = enrol(phone="13900000002").body["member_id"]
    r = call("PATCH", f"/members/{second}", {"phone": "13800138000", "notes": "x"}, claims=ADMIN)
    assert r.status == 409 and r.body["member_id"] == first
    assert call("GET", f"/members/{second}", claims=ADMIN).body["notes"] is None
    assert call("GET", "/members?phone=13900000002", claims=ADMIN).body["member_id"] == second


BAD_ENROLMENTS = [
    ({"name": None}, "name"),
    ({"name": "   "}, "name"),
    ({"phone": "12345"}, "phone"),
    ({"phone": "not a phone"}, "phone"),
    ({"birthday": "2999-01-01"}, "birthday"),
    ({"birthday": "1990-02-30"}, "birthday"),
    ({"birthday": "yesterday"}, "birthday"),
    ({"anniversary": "2999-01-01"}, "anniversary"),
    ({"store_id": "demo-404"}, "store_id"),
    ({"store_id": "acme-001"}, "store_id"),
    ({"email": "not-an-email"}, "email"),
    ({"gender": "unicorn"}, "gender"),
    ({"referrer_member_id": "m_doesnotexist"}, "referrer_member_id"),
    ({"tier": "gold"}, "tier"),
    ({"other_phones": ["123"]}, "other_phones.0"),
    ({"family": [{"name": "A", "birthday": "2999-01-01"}]}, "family.0.birthday"),
]


@pytest.mark.parametrize("fields,named", BAD_ENROLMENTS)
def test_bad_enrolment_is_4xx_naming_the_field_and_writes_nothing(fields, named):
    before = count_items("MembersTable")
    r = enrol(**fields)
    assert 400 <= r.status < 500, r.body
    assert named in r.field_names(), r.body
    assert count_items("MembersTable") == before


def test_non_json_body_is_400():
    r = call("POST", "/members", raw_body="{not json", claims=ADMIN)
    assert r.status == 400 and r.body["error"] == "invalid_json"


def test_body_over_64_kb_is_413_and_writes_nothing():
    r = enrol(notes="x" * 70_000)
    assert r.status == 413 and r.field_names() == ["body"]
    assert count_items("MembersTable") == 0


def test_missing_claims_is_401():
    r = enrol(claims=None)
    assert r.status == 401


def test_unknown_member_is_404():
    assert call("GET", "/members/m_0000000000000000", claims=ADMIN).status == 404

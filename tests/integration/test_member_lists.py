"""Member search and segments (docs/lists.md): every filter combination, paged three at a time,
finds exactly the members a recomputation from their cards and sales finds; scope, cursors,
bad input; segments, the CSV call list and its audit."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from tests.support import clock
from tests.support.api import ADMIN, CLERK_002, OTHER_BRAND_ADMIN, call, claims_for, enrol, listed
from vipcare import wiring
from vipcare.domain.purchases import Kind, Purchase
from vipcare.domain.reminders import lunar_birthday_this_year

NOW = clock.now()
SUPERVISOR = claims_for(role="supervisor", staff_id="sup-1")
MANAGER = claims_for(role="manager", staff_id="mgr-1")

# member i: store, sale (amount, days before NOW) or none, birthday, hobby, consent
SALES = {1: ("25000.00", 10), 2: ("6000.00", 100), 3: ("800.00", 200)}


def sell(member_id: str, store: str, amount: str, days_ago: int) -> datetime:
    at = NOW - timedelta(days=days_ago)
    p = Purchase(brand_id="demo", store_id=store, transaction_id=uuid.uuid4().hex[:12], member_id=member_id,
                 kind=Kind.SALE, amount=Decimal(amount), currency="CNY", items=1, occurred_at=at)
    wiring.purchase_ingestion().ingestor().ingest(p, received_at=at, now=at)
    return at


@pytest.fixture
def world(directory) -> dict[str, dict]:
    """24 members over two stores, enrolled 300 days ago; a quarter never bought, the others
    bought once (gold-sized 10 days ago, silver-sized 100 days ago, small 200 days ago)."""
    assert call("PATCH", "/staff/mgr-1", {"capacity": 20}, claims=ADMIN).status == 200
    members = {}
    for i in range(24):
        store = "demo-002" if i % 3 == 0 else "demo-001"
        birthday = date(1980 + i, 1 + i % 12, 1 + (i * 5) % 28)
        r = enrol(phone=f"1390077{i:04d}", name="=SUM(A1)" if i == 5 else f"Member {i}", store_id=store,
                  birthday=birthday.isoformat(), birthday_lunar=i % 7 == 0,
                  hobbies=["Golf"] if i % 2 else ["tea", "Reading"],
                  consent={"sms_marketing": i % 4 != 0}, at=NOW - timedelta(days=300))
        assert r.status == 201, r.body
        member_id = r.body["member_id"]
        last, spend = None, Decimal("0")
        if i % 4 in SALES:
            amount, days_ago = SALES[i % 4]
            last, spend = sell(member_id, store, amount, days_ago), Decimal(amount)
        members[member_id] = {"i": i, "last": last, "spend": spend, "enrolled": NOW - timedelta(days=300)}
    for member_id, m in members.items():
        m["card"] = call("GET", f"/members/{member_id}", claims=ADMIN).body
    return members


def expected(world: dict[str, dict], f: dict) -> set[str]:
    """The recomputation: each filter judged from the member's card and the test's own sales."""
    out = set()
    for member_id, m in world.items():
        card = m["card"]
        if "tier" in f and card["tier"] != f["tier"]:
            continue
        if "store_id" in f and card["store_id"] != f["store_id"]:
            continue
        if "manager_id" in f and card.get("manager_id") != f["manager_id"]:
            continue
        if "birthday_month" in f:
            born = date.fromisoformat(card["birthday"])
            on = lunar_birthday_this_year(born, clock.local_day(NOW).year) if card["birthday_lunar"] else born
            if on is None or on.month != f["birthday_month"]:
                continue
        if "no_purchase_days" in f and (m["last"] or m["enrolled"]) > NOW - timedelta(days=f["no_purchase_days"]):
            continue
        if "spend_12m_min" in f and m["spend"] < Decimal(f["spend_12m_min"]):
            continue
        if "spend_12m_max" in f and m["spend"] > Decimal(f["spend_12m_max"]):
            continue
        if "hobby" in f and f["hobby"].casefold() not in {h.casefold() for h in card["hobbies"]}:
            continue
        if "sms_consent" in f and card["consent"]["sms_marketing"] != f["sms_consent"]:
            continue
        out.add(member_id)
    return out


def query(f: dict) -> str:
    return "&".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in f.items())


def search_all(f: dict, claims: dict = ADMIN, limit: int = 3) -> list[dict]:
    """Every page of the search, `limit` at a time, following `next`."""
    found, after, pages = [], None, 0
    while True:
        url = f"/members/search?{query(f)}&limit={limit}" + (f"&after={after}" if after else "")
        r = call("GET", url, claims=claims, at=NOW)
        assert r.status == 200, (f, r.body)
        assert len(r.body["members"]) <= limit
        found += r.body["members"]
        after, pages = r.body.get("next"), pages + 1
        if not after:
            return found
        assert pages < 100, "the cursor does not advance"


COMBINATIONS = [
    {}, {"tier": "gold"}, {"tier": "regular"}, {"store_id": "demo-002"}, {"tier": "gold", "store_id": "demo-001"},
    {"manager_id": "mgr-1"}, {"manager_id": "mgr-1", "hobby": "golf"}, {"birthday_month": 3},
    {"birthday_month": 8, "sms_consent": True}, {"no_purchase_days": 90}, {"no_purchase_days": 250},
    {"no_purchase_days": 150, "store_id": "demo-001"}, {"spend_12m_min": "1000"}, {"spend_12m_max": "1000.00"},
    {"spend_12m_min": "500", "spend_12m_max": "7000", "tier": "silver"}, {"hobby": "GOLF"}, {"hobby": "reading"},
    {"sms_consent": True}, {"sms_consent": False, "store_id": "demo-001"}, {"tier": "silver", "no_purchase_days": 30},
]


@pytest.mark.parametrize("f", COMBINATIONS, ids=[query(f) or "everyone" for f in COMBINATIONS])
def test_every_combination_pages_to_exactly_the_recomputed_members(world, f):
    found = search_all(f)
    ids = [m["member_id"] for m in found]
    assert len(ids) == len(set(ids)), "a member listed twice across pages"
    assert set(ids) == expected(world, f)


def test_the_world_has_members_in_every_list_it_tests(world):
    """The combinations above are not vacuous: each leading filter finds someone."""
    for f in ({"tier": "gold"}, {"tier": "silver"}, {"manager_id": "mgr-1"}, {"birthday_month": 3},
              {"no_purchase_days": 250}, {"hobby": "golf"}, {"sms_consent": False}):
        assert expected(world, f), f


def test_a_row_shows_the_card_the_figures_and_no_phone(world):
    gold = next(m for m in world.values() if m["i"] == 1)
    row = next(r for r in search_all({"tier": "gold"}) if r["member_id"] == gold["card"]["member_id"])
    assert row["spend_12m"] == "25000.00" and row["tier"] == "gold" and row["manager_id"] == "mgr-1"
    assert datetime.fromisoformat(row["last_purchase_at"]) == gold["last"]
    assert "phone" not in row and row["member_no"] == gold["card"]["member_no"]


def test_store_staff_search_their_own_store_only(world):
    found = search_all({}, claims=CLERK_002)
    assert {m["member_id"] for m in found} == expected(world, {"store_id": "demo-002"})
    r = call("GET", "/members/search?store_id=demo-001", claims=CLERK_002, at=NOW)
    assert r.status == 403 and r.field_names() == ["store_id"]


def test_another_brand_finds_nobody_of_this_brand(world):
    for f in ({}, {"birthday_month": 3}, {"no_purchase_days": 30}, {"tier": "gold"}):
        assert search_all(f, claims=OTHER_BRAND_ADMIN) == []


def test_an_erased_member_leaves_every_list(world):
    gone = next(m["card"]["member_id"] for m in world.values() if m["i"] == 1)
    assert call("DELETE", f"/members/{gone}", claims=ADMIN).status in (200, 204)
    assert gone not in {m["member_id"] for m in search_all({"tier": "gold"})}
    assert gone not in {m["member_id"] for m in search_all({})}


@pytest.mark.parametrize("url, field", [
    ("/members/search?birthday_month=13", "birthday_month"),
    ("/members/search?no_purchase_days=0", "no_purchase_days"),
    ("/members/search?spend_12m_min=12.345", "spend_12m_min"),
    ("/members/search?spend_12m_min=500&spend_12m_max=100", "spend_12m_max"),
    ("/members/search?tier=platinum", "tier"),
    ("/members/search?after=bm90LWEtY3Vyc29y", "after"),
    ("/members/search?limit=500", "limit"),
])
def test_bad_input_is_422_naming_the_field(directory, url, field):
    r = call("GET", url, claims=ADMIN, at=NOW)
    assert r.status == 422 and field in r.field_names(), r.body


def test_a_cursor_of_another_list_is_refused(world):
    first = call("GET", "/members/search?birthday_month=3&limit=1", claims=ADMIN, at=NOW).body
    assert first["next"]
    r = call("GET", f"/members/search?tier=gold&after={first['next']}", claims=ADMIN, at=NOW)
    assert r.status == 422 and r.field_names() == ["after"]


def set_only(filters: dict) -> dict:
    return {k: v for k, v in filters.items() if v is not None}


def test_a_segment_lists_who_matches_now_and_a_retry_saves_it_once(world):
    body = {"name": "Golfers not seen for 90 days", "filters": {"hobby": "golf", "no_purchase_days": 90}}
    headers = {"Idempotency-Key": "seg-1"}
    first = call("POST", "/segments", body, claims=SUPERVISOR, headers=headers, at=NOW)
    again = call("POST", "/segments", body, claims=SUPERVISOR, headers=headers, at=NOW)
    assert first.status == again.status == 201 and first.body == again.body
    segment_id = first.body["segment_id"]
    assert [s["segment_id"] for s in listed("/segments", "segments")] == [segment_id]
    assert set_only(call("GET", f"/segments/{segment_id}", claims=ADMIN).body["filters"]) == body["filters"]
    members, after = [], None
    while True:
        r = call("GET", f"/segments/{segment_id}/members?limit=2" + (f"&after={after}" if after else ""),
                 claims=ADMIN, at=NOW)
        members += r.body["members"]
        after = r.body.get("next")
        if not after:
            break
    assert {m["member_id"] for m in members} == expected(world, body["filters"]) != set()
    assert call("GET", "/segments/seg-nope/members", claims=ADMIN).status == 404


def test_a_store_clerks_segment_stays_in_their_store(world):
    r = call("POST", "/segments", {"name": "Mine", "filters": {"tier": "gold"}}, claims=CLERK_002, at=NOW)
    assert r.status == 201 and set_only(r.body["filters"]) == {"tier": "gold", "store_id": "demo-002"}
    listed = call("GET", f"/segments/{r.body['segment_id']}/members", claims=ADMIN, at=NOW).body["members"]
    assert {m["member_id"] for m in listed} == expected(world, {"tier": "gold", "store_id": "demo-002"})


def test_the_call_list_is_csv_for_supervisors_audited_and_safe_in_a_spreadsheet(world):
    from vipcare.store.segments import SegmentRepository

    segment_id = call("POST", "/segments", {"name": "demo-001", "filters": {"store_id": "demo-001"}},
                      claims=ADMIN).body["segment_id"]
    assert call("GET", f"/segments/{segment_id}/export", claims=MANAGER, at=NOW).status == 403
    r = call("GET", f"/segments/{segment_id}/export", claims=SUPERVISOR, at=NOW)
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    want = expected(world, {"store_id": "demo-001"})
    cards = {m["card"]["member_no"]: m for m in world.values()}
    assert {cards[row["member_no"]]["card"]["member_id"] for row in rows} == want and len(rows) == len(want)
    by_no = {row["member_no"]: row for row in rows}
    gold = next(m for m in world.values() if m["i"] == 1)
    row = by_no[gold["card"]["member_no"]]
    assert row["phone"] == gold["card"]["phone"] and row["manager_id"] == "mgr-1" and row["manager_name"] == "mgr-1"
    assert row["last_purchase"] == clock.local_day(gold["last"]).isoformat() and row["spend_12m"] == "25000.00"
    formula = next(m for m in world.values() if m["i"] == 5)
    assert by_no[formula["card"]["member_no"]]["name"] == "'=SUM(A1)"  # never run as a formula
    audits = SegmentRepository().exports("demo")
    assert [(a.segment_id, a.by, int(a.rows)) for a in audits] == [(segment_id, "staff:sup-1", len(rows))]

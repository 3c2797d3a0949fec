"""Every list pages the same way (README, "Lists"): walked two at a time it gives exactly the
items, in the same order, of one large page; `next` is null on the last page; a cursor that is
not one, or one of another list, is a 422 naming `after`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support import clock
from tests.support.api import ADMIN, call, claims_for, enrol, listed
from vipcare import wiring
from vipcare.domain.reminders import Kind, Message, Status
from vipcare.domain.tasks import Task, TaskKind, TaskStatus

NOW = clock.now()
SUPERVISOR = claims_for(role="supervisor", staff_id="sup-1")


@pytest.fixture
def world(directory) -> dict[str, str]:
    """Five or so of everything a list shows, written by the real routes where there is one."""
    member_id = enrol(at=NOW - timedelta(days=30)).body["member_id"]
    for i in range(5):
        r = call("POST", f"/members/{member_id}/contacts", {"contacted_on": (NOW - timedelta(days=9 - i)).date()
                 .isoformat(), "channel": "phone", "notes": f"call {i}"}, claims=ADMIN, at=NOW)
        assert r.status == 201, r.body
        assert call("POST", "/stores", {"store_id": f"demo-01{i}", "name": f"Store {i}"}, claims=ADMIN).status == 201
        assert call("POST", "/segments", {"name": f"List {i}", "filters": {"tier": "gold"}}, claims=SUPERVISOR,
                    at=NOW + timedelta(minutes=i)).status == 201
        assert call("PUT", f"/brands/demo/rewards/r-{i}", {"name": f"Gift {i}", "kind": "gift", "points": 10 + i},
                    claims=ADMIN, at=NOW).status == 200
        start = NOW + timedelta(days=10 + i)
        r = call("POST", "/activities", {
            "name": f"Salon {i}", "kind": "salon", "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(), "audience": {"filters": {"tier": "gold"}},
            "invitation": {"text": "{name}, join us on {date}", "send_at": (start - timedelta(days=3)).isoformat()}},
            claims=SUPERVISOR, at=NOW)
        assert r.status == 201, r.body
    care = wiring.care()
    for i in range(5):  # no route raises tasks or messages on demand: the repositories write them as the jobs do
        care.tasks.add(Task(brand_id="demo", member_id=member_id, task_id=f"{TaskKind.CADENCE}.2026-0{i + 1}",
                            kind=TaskKind.CADENCE, period=f"2026-0{i + 1}",
                            status=TaskStatus.DONE if i % 2 else TaskStatus.OPEN, assignee="mgr-1",
                            created_at=NOW - timedelta(days=50 - i)))
        at = NOW - timedelta(days=400 * i)
        care.messages.add(Message(brand_id="demo", member_id=member_id, kind=Kind.BIRTHDAY,
                                  occasion_key=f"birthday#{at.year}-{i}", status=Status.SENT, created_at=at,
                                  updated_at=at, text="Happy birthday"))
    return {"member_id": member_id}


LISTS = [
    ("/members/{member_id}/contacts", "contacts", "contact_id"),
    ("/members/{member_id}/messages", "messages", "occasion_key"),
    ("/staff/mgr-1/tasks", "tasks", "task_id"),
    ("/stores", "stores", "store_id"),
    ("/segments", "segments", "segment_id"),
    ("/rewards", "rewards", "reward_id"),
    ("/activities", "activities", "activity_id"),
    ("/complaints?store_id=demo-001", "complaints", "complaint_id"),
]


@pytest.mark.parametrize(("url", "key", "id_field"), LISTS, ids=[key for _, key, _ in LISTS])
def test_a_list_walked_two_at_a_time_is_the_list(world, url, key, id_field):
    url = url.format(**world)
    if key == "complaints":
        for i in range(5):
            assert call("POST", "/complaints", {"member_id": world["member_id"], "store_id": "demo-001",
                                                "channel": "store", "category": "other", "severity": "low",
                                                "description": f"case {i}"}, claims=ADMIN).status == 201
    whole = call("GET", url + ("&" if "?" in url else "?") + "limit=200", claims=SUPERVISOR)
    assert whole.status == 200 and whole.body["next"] is None
    ids = [item[id_field] for item in whole.body[key]]
    assert len(ids) >= 5 and len(set(ids)) == len(ids)
    assert [item[id_field] for item in listed(url, key, claims=SUPERVISOR, limit=2)] == ids
    first = call("GET", url + ("&" if "?" in url else "?") + "limit=2", claims=SUPERVISOR).body
    assert len(first[key]) == 2 and first["next"]
    for bad in ("not-a-cursor", "eyJsIjoic3RvcmVzIn0", "e30"):
        r = call("GET", url + ("&" if "?" in url else "?") + f"after={bad}", claims=SUPERVISOR)
        assert r.status == 422 and r.field_names() == ["after"], (bad, r.body)


def test_a_cursor_belongs_to_its_list(world):
    stores = call("GET", "/stores?limit=1", claims=ADMIN).body["next"]
    tasks = call("GET", "/staff/mgr-1/tasks?limit=1", claims=ADMIN).body["next"]
    for url, cursor in (("/segments", stores), ("/rewards", stores), ("/activities", tasks),
                        (f"/members/{world['member_id']}/contacts", tasks), ("/staff/mgr-1/tasks", stores)):
        r = call("GET", f"{url}?after={cursor}", claims=ADMIN)
        assert r.status == 422 and r.field_names() == ["after"], url


def test_open_tasks_come_first_across_pages(world):
    statuses = [t["status"] for t in listed("/staff/mgr-1/tasks", "tasks", limit=1)]
    assert statuses == ["open", "open", "open", "done", "done"]


def test_messages_and_contacts_are_newest_first_across_pages(world):
    member = world["member_id"]
    sent = [m["created_at"] for m in listed(f"/members/{member}/messages", "messages", limit=2)]
    assert sent == sorted(sent, reverse=True) and len(sent) == 5
    days = [c["contacted_on"] for c in listed(f"/members/{member}/contacts", "contacts", limit=2)]
    assert days == sorted(days, reverse=True) and len(days) == 5


def test_store_staff_page_through_their_store_and_brand_wide_activities_only(world):
    r = call("POST", "/activities", {
        "name": "Store only", "kind": "notice", "store_id": "demo-002",
        "starts_at": (NOW + timedelta(days=20)).isoformat(), "ends_at": (NOW + timedelta(days=21)).isoformat(),
        "audience": {"filters": {}}, "invitation": {"text": "News", "send_at": (NOW + timedelta(days=19)).isoformat()}},
        claims=ADMIN, at=NOW)
    assert r.status == 201, r.body
    clerk = claims_for(role="store_staff", store_id="demo-001", staff_id="clerk-1")
    seen = [a["store_id"] for a in listed("/activities", "activities", claims=clerk, limit=1)]
    assert len(seen) == 5 and set(seen) == {None}

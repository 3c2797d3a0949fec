"""Reminders over HTTP against the local stack: the scheduled job fired through
POST /_local/jobs/reminder_dispatch, SMS read back from GET /_local/outbox."""

from __future__ import annotations


def _outbox_for(stack, phone: str) -> list[str]:
    return [m["message"] for m in stack.request("GET", "/_local/outbox").json()["messages"] if m["phone"] == phone]


def _enrol(stack, token: str, phone: str, **fields) -> str:
    r = stack.request("POST", "/members", token, json={"name": "E2E Care", "phone": phone, "store_id": "demo-001",
                                                         "consent": {"sms_marketing": True}, **fields})
    assert r.status_code == 201, r.text
    return r.json()["member_id"]


def test_birthday_sms_once_at_ten_and_deferred_from_23h_to_the_next_morning(stack):
    token = stack.token()
    today_member = _enrol(stack, token, "+8613700000701", birthday="1990-06-15")
    late_member = _enrol(stack, token, "+8613700000702", birthday="1991-06-16")

    for _ in range(2):
        r = stack.request("POST", "/_local/jobs/reminder_dispatch", json={"time": "2031-06-15T10:00:00+08:00"})
        assert r.status_code == 200, r.text
    assert len(_outbox_for(stack, "+8613700000701")) == 1
    messages = stack.request("GET", f"/members/{today_member}/messages", token).json()["messages"]
    assert [(m["kind"], m["status"]) for m in messages] == [("birthday", "sent")]

    stack.request("POST", "/_local/jobs/reminder_dispatch", json={"time": "2031-06-16T23:00:00+08:00"})
    assert _outbox_for(stack, "+8613700000702") == []
    [deferred] = stack.request("GET", f"/members/{late_member}/messages", token).json()["messages"]
    assert (deferred["status"], deferred["reason"]) == ("deferred", "quiet_hours")
    stack.request("POST", "/_local/jobs/reminder_dispatch", json={"time": "2031-06-17T10:00:00+08:00"})
    assert len(_outbox_for(stack, "+8613700000702")) == 1
    assert stack.request("GET", f"/members/{late_member}/messages", token).json()["messages"][0]["status"] == "sent"

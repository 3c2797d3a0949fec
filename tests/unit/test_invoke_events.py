"""The sample events in events/ stay runnable against the handlers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.local import template

EVENTS = sorted((template.ROOT / "events").rglob("*.json"))


@pytest.mark.parametrize("path", EVENTS, ids=lambda p: str(p.relative_to(template.ROOT)))
def test_sample_event_matches_a_template_route(path: Path):
    event = json.loads(path.read_text())
    if event.get("source") == "aws.events":
        from infra.local.invoke import scheduled_function

        assert event["detail-type"] == "Scheduled Event"
        assert scheduled_function(path.parent.name) is not None
        return
    routes = {(r.method, r.path) for r in template.routes()}
    assert (event["httpMethod"], event["resource"]) in routes
    assert event["requestContext"]["authorizer"]["claims"]["custom:brand_id"] == "demo"


def test_invoke_runs_events_in_order_against_moto(capsys):
    from infra.local.invoke import main

    assert main([str(template.ROOT / "events/enrollment/enrol.json"),
                 str(template.ROOT / "events/enrollment/get-member.json"),
                 str(template.ROOT / "events/enrollment/enrol-invalid.json")]) == 0
    out = capsys.readouterr().out
    assert "POST /members: 201" in out
    assert "GET /members/{member_id}: 200" in out
    assert "POST /members: 422" in out


def test_invoke_files_a_complaint_and_runs_the_escalation_job(capsys):
    from infra.local.invoke import main

    assert main([str(template.ROOT / "events/enrollment/enrol.json"),
                 str(template.ROOT / "events/complaint_routing/file-complaint.json"),
                 str(template.ROOT / "events/complaint_routing/escalation-run.json")]) == 0
    out = capsys.readouterr().out
    assert "POST /complaints: 201" in out
    assert '"assignee": "demo-001-supervisor"' in out  # order value 12,800 starts at the supervisor
    assert "scheduled run at 2026-11-23T12:00:00Z" in out

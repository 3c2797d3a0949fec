"""A store app's day through a Python client generated from the running stack's /openapi.json
(openapi-python-client): every call is a generated method, every answer a generated model."""

from __future__ import annotations

import importlib
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

PACKAGE = "vipcare_client"


@pytest.fixture(scope="module")
def sdk(stack, tmp_path_factory):
    out = tmp_path_factory.mktemp("client")
    cli = Path(sys.executable).parent / "openapi-python-client"
    result = subprocess.run([str(cli), "generate", "--url", f"{stack.url}/openapi.json", "--meta", "none",
                             "--output-path", str(out / PACKAGE)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    # Only the missing formatter (ruff, a post-hook) may be warned about: every operation made it.
    warnings = [line for line in result.stdout.splitlines()
                if line.strip() and "ruff" not in line and "Skipping Integration" not in line
                and not line.startswith(("Generating", "Warning(s) encountered", "If you believe"))]
    assert not warnings, result.stdout
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _api(name: str):
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def _models():
    return importlib.import_module(f"{PACKAGE}.models")


def test_a_store_apps_day_through_the_generated_client(stack, sdk):
    m = _models()
    clerk = sdk.AuthenticatedClient(base_url=stack.url, token=stack.token(role="store_staff"), prefix="")
    phone = f"136{int(time.time() * 1000) % 10**8:08d}"

    enrolled = _api("members.enrol_member").sync(client=clerk, body=m.EnrolRequest.from_dict(
        {"name": "Client Member", "phone": phone, "store_id": "demo-001"}))
    assert isinstance(enrolled, m.MemberCard), enrolled
    member_id = enrolled.member_id

    found = _api("members.find_member_by_phone").sync(client=clerk, phone=phone)
    assert isinstance(found, m.MemberCard) and found.member_id == member_id

    def sale(txn: str, amount: str) -> dict:
        return {"transaction_id": txn, "store_id": "demo-001", "member_id": member_id, "kind": "sale",
                "amount": amount, "currency": "CNY", "items": 1,
                "occurred_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat()}

    submit = _api("purchases.submit_purchases")
    one = submit.sync(client=clerk, body=m.PurchaseIn.from_dict(sale(f"SDK-{member_id}-1", "300.00")))
    assert isinstance(one, m.PurchaseIntakeResult) and one.accepted == 1
    batch = submit.sync(client=clerk, body=m.PurchaseBatchIn.from_dict(
        {"purchases": [sale(f"SDK-{member_id}-2", "200.00"), sale(f"SDK-{member_id}-3", "0")]}))
    assert isinstance(batch, m.PurchaseIntakeResult)
    assert [r.status for r in batch.results] == ["accepted", "invalid"]

    status = _api("purchases.get_purchase_status")
    for txn in (f"SDK-{member_id}-1", f"SDK-{member_id}-2"):
        deadline = time.monotonic() + 30
        answer = status.sync(client=clerk, store_id="demo-001", transaction_id=txn)
        while not isinstance(answer, m.PurchaseStatusOut) and time.monotonic() < deadline:
            time.sleep(0.2)  # the local poller applies queued purchases within a second or two
            answer = status.sync(client=clerk, store_id="demo-001", transaction_id=txn)
        assert isinstance(answer, m.PurchaseStatusOut) and answer.status == "applied", answer

    points = _api("points.get_member_points").sync(client=clerk, member_id=member_id)
    assert isinstance(points, m.PointsOut) and points.balance == 500
    tier = _api("tiers.get_member_tier").sync(client=clerk, member_id=member_id)
    assert isinstance(tier, m.MemberTierOut) and tier.tier == "regular"

    filed = _api("complaints.file_complaint").sync(client=clerk, body=m.ComplaintCreate.from_dict({
        "member_id": member_id, "store_id": "demo-001", "channel": "store", "category": "product_quality",
        "severity": "low", "description": "The clasp came loose after a week."}))
    assert isinstance(filed, m.ComplaintOut), filed
    supervisor = sdk.AuthenticatedClient(base_url=stack.url, token=stack.token(role="supervisor"), prefix="")
    seen = _api("complaints.acknowledge_complaint").sync(client=supervisor, complaint_id=filed.complaint_id,
                                                         body=m.AcknowledgeRequest.from_dict({}))
    assert isinstance(seen, m.ComplaintOut), seen
    resolved = _api("complaints.resolve_complaint").sync(client=supervisor, complaint_id=filed.complaint_id,
                                                         body=m.ResolveRequest.from_dict({"resolution": "Repaired"}))
    assert isinstance(resolved, m.ComplaintOut) and resolved.status == "resolved", resolved
    rated = _api("complaints.record_complaint_feedback").sync(
        client=supervisor, complaint_id=filed.complaint_id,
        body=m.FeedbackRequest.from_dict({"satisfied": True, "nps": 9}))
    assert isinstance(rated, m.ComplaintOut) and rated.status == "closed", rated

    month = datetime.now(UTC).strftime("%Y-%m")  # the stack runs on the real clock
    report = _api("reports.get_kpi_report").sync(client=supervisor, period=month)
    assert isinstance(report, m.KpiReport) and (report.brand_id, report.period) == ("demo", month), report

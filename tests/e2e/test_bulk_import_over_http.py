"""`vipcare import` against the local stack: the same CSV twice creates each member once, and
the rows the API refuses are reported with the field it named."""

from __future__ import annotations

import csv

import pytest

from vipcare.cli import main

pytestmark = pytest.mark.e2e

ROWS = [
    {"name": "导入一", "phone": "139 0088 0001", "store_id": "demo-001", "sms_marketing": "yes",
     "birthday": "1988-03-04"},
    {"name": "Import Two", "phone": "+86 139 0088 0002", "store_id": "demo-002", "sms_marketing": "no",
     "hobbies": "tea;golf"},
    {"name": "导入三", "phone": "13900880003", "store_id": "demo-001", "sms_marketing": "", "birthday": ""},
    {"name": "Bad Phone", "phone": "12", "store_id": "demo-001", "sms_marketing": "no"},
    {"name": "", "phone": "13900880005", "store_id": "demo-001", "sms_marketing": "no"},
    {"name": "Bad Store", "phone": "13900880006", "store_id": "nowhere", "sms_marketing": "no"},
]


def test_importing_the_same_csv_twice_creates_each_member_once(stack, tmp_path, capsys):
    path = tmp_path / "members.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["name", "phone", "store_id", "sms_marketing", "birthday", "hobbies"])
        writer.writeheader()
        writer.writerows(ROWS)
    token = stack.token()
    args = ["import", str(path), "--api", stack.url, "--token", token, "--quiet"]

    assert main(args) == 1  # some rows were rejected
    assert capsys.readouterr().out.strip().startswith("6 rows: 3 created, 0 already there, 3 rejected")
    with (tmp_path / "members.rejects.csv").open(encoding="utf-8") as f:
        rejects = {(r["row"], r["field"]) for r in csv.DictReader(f)}
    assert rejects == {("5", "phone"), ("6", "name"), ("7", "store_id")}  # line numbers in the file

    assert main(args) == 1
    assert capsys.readouterr().out.strip().startswith("6 rows: 0 created, 3 already there, 3 rejected")
    for phone in ("+8613900880001", "+8613900880002", "+8613900880003"):
        found = stack.request("GET", "/members", token, params={"phone": phone})
        assert found.status_code == 200, found.text
    card = stack.request("GET", "/members", token, params={"phone": "+8613900880001"}).json()
    assert card["consent"]["sms_marketing"] is True and card["birthday"] == "1988-03-04"

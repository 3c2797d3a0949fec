"""Reads what a run left: the tables scanned item by item (no index, no counter) and the KPI
report of each month as the API answers it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from .invariants import Items


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [_plain(v) for v in value]
    return value


def scan(logical_id: str) -> list[dict[str, Any]]:
    import boto3
    from boto3.dynamodb.types import TypeDeserializer

    from infra.local import resources

    des, ddb = TypeDeserializer(), boto3.client("dynamodb", region_name="us-east-1")
    out = []
    for page in ddb.get_paginator("scan").paginate(TableName=resources.physical_names()[logical_id]):
        out += [_plain({k: des.deserialize(v) for k, v in item.items()}) for item in page["Items"]]
    return out


def member_of(pk: str) -> str:
    return pk.split("#MEMBER#", 1)[1]


def items(brand_id: str, months: list[str], at: datetime) -> Items:
    from .driver import call

    got = Items()
    prefix = f"BRAND#{brand_id}#"
    for item in scan("MembersTable"):
        if not item["pk"].startswith(prefix):
            continue
        if item["sk"] == "PROFILE":
            got.profiles.append(item)
        elif item["sk"] == "STATS":
            got.stats.append({**item, "member_id": member_of(item["pk"])})
        elif item["sk"] == "TXN" and item.get("status", "applied") == "applied":
            got.txns.append(item)
        elif item["sk"].startswith("TIER#"):
            got.decisions.append({**item, "member_id": member_of(item["pk"])})
    for item in scan("CareTable"):
        if not item["pk"].startswith(prefix) or "#MEMBER#" not in item["pk"]:
            continue
        if item["sk"].startswith("MSG#"):
            got.messages.append(item)
        elif item["sk"].startswith("CONTACT#"):
            got.contacts.append({**item, "member_id": member_of(item["pk"])})
    got.complaints = [i for i in scan("ComplaintsTable") if i["sk"] == "CASE" and i.get("brand_id") == brand_id]
    for month in months:
        status, report = call("GET", f"/reports/kpis?period={month}", None, at)
        if status == 200:
            got.kpi_reports[month] = report
        else:
            got.kpi_errors[month] = f"{status} {report}"
    return got

"""moto-backed AWS for integration tests: tables created from template.yaml."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import boto3
from moto import mock_aws

from infra.local import template


@contextmanager
def mocked_aws() -> Iterator[None]:
    from vipcare.services.brands import forget_cached_brands

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        for spec in template.table_definitions().values():
            client.create_table(**spec)
        forget_cached_brands()
        yield
    forget_cached_brands()


def count_items(logical_table: str) -> int:
    """Test-only census of a table (a Scan is fine here, never in product code)."""
    name = template.table_definitions()[logical_table]["TableName"]
    client = boto3.client("dynamodb", region_name="us-east-1")
    return sum(page["Count"] for page in client.get_paginator("scan").paginate(TableName=name))

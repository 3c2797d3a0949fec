"""moto-backed AWS for integration tests: tables created from template.yaml."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import boto3
from moto import mock_aws

from infra.local import moto_speedups, resources, template

_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "get_item")


@contextmanager
def _atomic_moto_writes() -> Iterator[None]:
    """DynamoDB applies each request (a transaction included) atomically; moto's in-memory
    backend does not when called from several threads: a condition can be checked by two
    requests before either writes. Serialise moto's request handling, as DynamoDB would,
    so that concurrency tests exercise our conditions, not moto's races."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    originals = {name: getattr(DynamoDBBackend, name) for name in _WRITES}

    def locked(fn):
        def wrapper(*args, **kwargs):
            with lock:
                return fn(*args, **kwargs)
        return wrapper

    for name, fn in originals.items():
        setattr(DynamoDBBackend, name, locked(fn))
    try:
        yield
    finally:
        for name, fn in originals.items():
            setattr(DynamoDBBackend, name, fn)


@cache
def client(service: str):
    """Clients are built once per test run: moto intercepts them inside every mock."""
    return boto3.client(service, region_name="us-east-1")


@contextmanager
def mocked_aws() -> Iterator[None]:
    from vipcare.services.brands import forget_cached_brands

    moto_speedups.install()
    with mock_aws(), _atomic_moto_writes():
        resources.create_all(client)
        forget_cached_brands()
        yield
    forget_cached_brands()


def count_items(logical_table: str) -> int:
    """Test-only census of a table (a Scan is fine here, never in product code)."""
    name = template.table_definitions()[logical_table]["TableName"]
    return sum(page["Count"] for page in client("dynamodb").get_paginator("scan").paginate(TableName=name))


def all_items(logical_table: str) -> list[dict]:
    """Test-only: every item of a table, plain values (a Scan: for brute-force recomputations
    that check what the product computes without one)."""
    from boto3.dynamodb.types import TypeDeserializer

    plain = TypeDeserializer()
    name = template.table_definitions()[logical_table]["TableName"]
    return [{k: plain.deserialize(v) for k, v in item.items()}
            for page in client("dynamodb").get_paginator("scan").paginate(TableName=name)
            for item in page["Items"]]

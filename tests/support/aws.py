"""moto-backed AWS for integration tests: tables created from template.yaml."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import boto3
from moto import mock_aws

from infra.local import iam, moto_speedups, resources, template, transform

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
def mocked_aws(cloudformation: dict | None = None, *, denials_expected: bool = False) -> Iterator[dict[str, str]]:
    """moto with the template's stack, each function under its own role and moto's IAM access
    control on (infra/local/iam.py); the test itself acts as an administrator. Yields the
    physical names. `cloudformation`: another transformed template (e.g. with a permission
    taken out) for the roles. A call a role refused fails the test at the end, even one the
    handler swallowed (a best-effort notice), unless `denials_expected`."""
    from vipcare.services.brands import forget_cached_brands

    moto_speedups.install()
    with mock_aws(), _atomic_moto_writes():
        names = resources.create_all(client)
        if cloudformation is not None:
            _replace_role_policies(cloudformation, names)
        iam.enforce(client, names, cloudformation)
        forget_cached_brands()
        try:
            yield names
            refused = iam.denials()
            if refused and not denials_expected:
                raise AssertionError("calls refused by the functions' roles (template.yaml lacks a permission):\n"
                                     + "\n".join(refused))
        finally:
            iam.relax()
    forget_cached_brands()


def _replace_role_policies(cloudformation: dict, names: dict[str, str]) -> None:
    """Give the roles the inline policies of another transformed template (before enforce())."""
    resolver = transform.Resolver(names, template.parameter_defaults())
    iam_client = client("iam")
    for logical_id, res in template.resources("AWS::IAM::Role", cloudformation).items():
        role = names[logical_id]
        for policy in iam_client.list_role_policies(RoleName=role)["PolicyNames"]:
            iam_client.delete_role_policy(RoleName=role, PolicyName=policy)
        for policy in res["Properties"].get("Policies", []):
            # SAM's policy templates carry no Version; moto's PutRolePolicy insists on one.
            document = {"Version": "2012-10-17", **resolver.resolve(policy["PolicyDocument"])}
            iam_client.put_role_policy(RoleName=role, PolicyName=policy["PolicyName"],
                                       PolicyDocument=json.dumps(document))


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

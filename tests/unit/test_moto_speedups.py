"""The cheaper transaction backup keeps moto's rollback exact."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from infra.local.moto_speedups import install


@pytest.fixture
def table():
    install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                  {"AttributeName": "sk", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                       {"AttributeName": "sk", "KeyType": "RANGE"}])
        for i in range(50):
            client.put_item(TableName="t", Item={"pk": {"S": f"p{i % 5}"}, "sk": {"S": f"s{i}"}, "x": {"N": "1"}})
        yield client


def items(client) -> dict:
    return {(i["pk"]["S"], i["sk"]["S"]): i for i in client.scan(TableName="t")["Items"]}


def test_failed_transaction_restores_updated_and_untouched_items(table):
    before = items(table)
    with pytest.raises(ClientError):
        table.transact_write_items(TransactItems=[
            {"Update": {"TableName": "t", "Key": {"pk": {"S": "p1"}, "sk": {"S": "s1"}},
                        "UpdateExpression": "SET x = :two", "ExpressionAttributeValues": {":two": {"N": "2"}}}},
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "p9"}, "sk": {"S": "new"}}}},
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "p2"}, "sk": {"S": "s2"}},
                     "ConditionExpression": "attribute_not_exists(pk)"}},
        ])
    assert items(table) == before


def test_successful_transaction_applies_everything(table):
    table.transact_write_items(TransactItems=[
        {"Update": {"TableName": "t", "Key": {"pk": {"S": "p1"}, "sk": {"S": "s1"}},
                    "UpdateExpression": "SET x = :two", "ExpressionAttributeValues": {":two": {"N": "2"}}}},
        {"Put": {"TableName": "t", "Item": {"pk": {"S": "p9"}, "sk": {"S": "new"}}}},
    ])
    after = items(table)
    assert after[("p1", "s1")]["x"] == {"N": "2"} and ("p9", "new") in after and len(after) == 51


def test_failed_transaction_leaves_a_new_partition_absent(table):
    with pytest.raises(ClientError):
        table.transact_write_items(TransactItems=[
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "fresh"}, "sk": {"S": "a"}}}},
            {"ConditionCheck": {"TableName": "t", "Key": {"pk": {"S": "p1"}, "sk": {"S": "s1"}},
                                "ConditionExpression": "attribute_not_exists(pk)"}},
        ])
    assert table.query(TableName="t", KeyConditionExpression="pk = :p",
                       ExpressionAttributeValues={":p": {"S": "fresh"}})["Items"] == []
    assert len(items(table)) == 50


def _pages(client, **request) -> list[list[tuple[str, str]]]:
    """Every page of a Query, as (pk, sk) pairs."""
    pages, start = [], None
    while True:
        page = client.query(**request, **({"ExclusiveStartKey": start} if start else {}))
        pages.append([(i["pk"]["S"], i["sk"]["S"]) for i in page["Items"]])
        start = page.get("LastEvaluatedKey")
        if not start:
            return pages


@pytest.fixture
def indexed():
    install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName="g", BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"}
                                                  for a in ("pk", "sk", "gpk", "gsk")],
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                       {"AttributeName": "sk", "KeyType": "RANGE"}],
                            GlobalSecondaryIndexes=[{"IndexName": "by_g", "Projection": {"ProjectionType": "ALL"},
                                                     "KeySchema": [{"AttributeName": "gpk", "KeyType": "HASH"},
                                                                   {"AttributeName": "gsk", "KeyType": "RANGE"}]}])
        for i in range(120):
            item = {"pk": {"S": f"p{i % 7}"}, "sk": {"S": f"s{i:03d}"}, "n": {"N": str(i)}}
            if i % 3:  # a third not in the index
                item |= {"gpk": {"S": f"g{i % 4}"}, "gsk": {"S": f"k{i % 5}"}}
            client.put_item(TableName="g", Item=item)
        yield client


def _everything(client) -> list[dict]:
    """The table by Scan (moto's unchanged path), to check each Query against."""
    return [i for page in client.get_paginator("scan").paginate(TableName="g") for i in page["Items"]]


def test_table_query_answers_the_partition_in_order_page_by_page(indexed):
    for forward in (True, False):
        pages = _pages(indexed, TableName="g", KeyConditionExpression="pk = :p AND sk > :s", Limit=4,
                       ScanIndexForward=forward, ExpressionAttributeValues={":p": {"S": "p3"}, ":s": {"S": "s050"}})
        expected = sorted(((i["pk"]["S"], i["sk"]["S"]) for i in _everything(indexed)
                           if i["pk"]["S"] == "p3" and i["sk"]["S"] > "s050"), reverse=not forward)
        assert [k for page in pages for k in page] == expected and len(pages) > 2


def test_index_query_answers_the_index_key_in_index_order_page_by_page(indexed):
    pages = _pages(indexed, TableName="g", IndexName="by_g", KeyConditionExpression="gpk = :g", Limit=5,
                   FilterExpression="n > :n", ExpressionAttributeValues={":g": {"S": "g1"}, ":n": {"N": "10"}})
    expected = sorted((i for i in _everything(indexed) if i.get("gpk") == {"S": "g1"}),
                      key=lambda i: (i["gsk"]["S"], i["pk"]["S"], i["sk"]["S"]))
    assert [k for page in pages for k in page] == [(i["pk"]["S"], i["sk"]["S"]) for i in expected
                                                   if int(i["n"]["N"]) > 10]
    assert indexed.query(TableName="g", IndexName="by_g", KeyConditionExpression="gpk = :g",
                         ExpressionAttributeValues={":g": {"S": "nobody"}})["Items"] == []

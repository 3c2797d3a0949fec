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

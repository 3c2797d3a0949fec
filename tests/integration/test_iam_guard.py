"""The per-function roles can fail a flow: with one needed action taken out of one function's
policy (in a copy of the transformed template), the flow fails with AccessDenied the way it
would in AWS, and passes with the action back (infra/local/iam.py, docs/operations.md)."""

from __future__ import annotations

import copy

import pytest
from botocore.exceptions import ClientError

from infra.local import iam, template
from tests.support.api import ADMIN, call
from tests.support.aws import client, mocked_aws

TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/vipcare-DirectoryTable"


def without(action: str, role: str, table: str) -> dict:
    """The transformed template with `action` removed from the statement of `role` that grants
    it on `table` (a DynamoDB policy template's statement)."""
    cfn = copy.deepcopy(template.cloudformation())
    removed = 0
    for policy in cfn["Resources"][role]["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            if table in str(statement.get("Resource")) and action in statement.get("Action", []):
                statement["Action"] = [a for a in statement["Action"] if a != action]
                removed += 1
    assert removed == 1, f"{action} on {table} in {role}: {removed} statements"
    return cfn


def list_stores() -> int:
    assert call("POST", "/stores", {"store_id": "demo-001", "name": "One"}, claims=ADMIN).status == 201
    return call("GET", "/stores", claims=ADMIN).status


def test_a_flow_fails_with_access_denied_when_its_function_may_not_make_a_call():
    with mocked_aws(without("dynamodb:Query", "DirectoryFunctionRole", "DirectoryTable"), denials_expected=True):
        assert list_stores() == 500
        refused = iam.denials()
    assert refused == ["arn:aws:sts::123456789012:assumed-role/vipcare-DirectoryFunctionRole/DirectoryFunction "
                       f"Query: dynamodb:Query on {TABLE_ARN}"]


def test_the_refusal_is_the_error_aws_answers():
    with (mocked_aws(without("dynamodb:Query", "DirectoryFunctionRole", "DirectoryTable"), denials_expected=True),
          iam.running_as("DirectoryFunction"), pytest.raises(ClientError) as denied):
        client("dynamodb").query(TableName="vipcare-DirectoryTable", KeyConditionExpression="pk = :p",
                                 ExpressionAttributeValues={":p": {"S": "x"}})
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert denied.value.response["Error"]["Message"].startswith(
        "User: arn:aws:sts::123456789012:assumed-role/vipcare-DirectoryFunctionRole/DirectoryFunction is not "
        f"authorized to perform: dynamodb:Query on resource: {TABLE_ARN}")


def test_the_same_flow_passes_with_the_action_back():
    with mocked_aws(copy.deepcopy(template.cloudformation())):
        assert list_stores() == 200
        assert iam.denials() == []
    with mocked_aws():
        assert list_stores() == 200


def test_an_index_query_needs_the_index_arn():
    cfn = copy.deepcopy(template.cloudformation())
    for policy in cfn["Resources"]["DirectoryFunctionRole"]["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            if "DirectoryTable" in str(statement.get("Resource")) and isinstance(statement["Resource"], list):
                statement["Resource"] = [r for r in statement["Resource"] if "/index/" not in str(r)]
    with mocked_aws(cfn, denials_expected=True), iam.running_as("DirectoryFunction"):
        ddb = client("dynamodb")
        ddb.query(TableName="vipcare-DirectoryTable", KeyConditionExpression="pk = :p",
                  ExpressionAttributeValues={":p": {"S": "x"}})
        with pytest.raises(ClientError) as denied:
            ddb.query(TableName="vipcare-DirectoryTable", IndexName="gsi1", KeyConditionExpression="gsi1pk = :p",
                      ExpressionAttributeValues={":p": {"S": "x"}})
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert f"{TABLE_ARN}/index/gsi1" in denied.value.response["Error"]["Message"]


def test_each_item_of_a_transaction_needs_its_own_table():
    """PurchaseApiFunction reads the directory: a transaction that also writes there is denied."""
    with mocked_aws(denials_expected=True), iam.running_as("PurchaseApiFunction"):
        put = {"Put": {"TableName": "vipcare-MembersTable", "Item": {"pk": {"S": "a"}, "sk": {"S": "b"}}}}
        client("dynamodb").transact_write_items(TransactItems=[put])
        with pytest.raises(ClientError) as denied:
            client("dynamodb").transact_write_items(TransactItems=[put, {"Put": {
                "TableName": "vipcare-DirectoryTable", "Item": {"pk": {"S": "a"}, "sk": {"S": "b"}}}}])
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert f"dynamodb:PutItem on resource: {TABLE_ARN}" in denied.value.response["Error"]["Message"]


def test_sending_to_an_encrypted_queue_needs_the_key():
    cfn = copy.deepcopy(template.cloudformation())
    policies = cfn["Resources"]["PurchaseApiFunctionRole"]["Properties"]["Policies"]
    cfn["Resources"]["PurchaseApiFunctionRole"]["Properties"]["Policies"] = [
        p for p in policies if "kms:GenerateDataKey" not in str(p["PolicyDocument"])]
    with (mocked_aws(cfn, denials_expected=True) as names, iam.running_as("PurchaseApiFunction"),
          pytest.raises(ClientError) as denied):
        client("sqs").send_message(QueueUrl=names["PurchasesQueue"], MessageBody="{}")
    assert "kms:GenerateDataKey" in denied.value.response["Error"]["Message"]


def test_a_function_whose_role_cannot_decrypt_its_environment_does_not_start():
    cfn = copy.deepcopy(template.cloudformation())
    role = cfn["Resources"]["DirectoryFunctionRole"]["Properties"]
    role["Policies"] = [p for p in role["Policies"] if "kms:Decrypt" not in str(p["PolicyDocument"])]
    with mocked_aws(cfn), pytest.raises(iam.FunctionStartError, match="KMSAccessDeniedException"):
        list_stores()


def test_the_test_itself_is_an_administrator_and_functions_only_get_their_role():
    with mocked_aws(denials_expected=True):
        assert client("sts").get_caller_identity()["Arn"].endswith(f":user/{iam.ADMIN_USER}")
        with iam.running_as("KpiReportsFunction"):
            who = client("sts").get_caller_identity()["Arn"]
            with pytest.raises(ClientError) as denied:
                client("sns").publish(TopicArn="arn:aws:sns:us-east-1:123456789012:vipcare-StaffNotificationsTopic",
                                      Message="hi")
    assert who.endswith(":assumed-role/vipcare-KpiReportsFunctionRole/KpiReportsFunction")
    assert denied.value.response["Error"]["Code"] == "AuthorizationError"

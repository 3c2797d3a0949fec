"""template.yaml is the source of truth: check it agrees with the code and our habits."""

from __future__ import annotations

import pytest

from infra.local import template
from infra.local.lambdas import function_folders, load_module


def _policy_statements(props):
    for policy in props.get("Policies", []):
        if isinstance(policy, dict) and "Statement" in policy:
            yield from policy["Statement"]


def test_every_function_folder_is_in_the_template_and_back():
    in_template = {p["CodeUri"].rstrip("/") for p in template.functions().values()}
    on_disk = {f"functions/{f.name}" for f in function_folders()}
    assert in_template == on_disk


def test_template_routes_match_the_handlers_routes_both_ways():
    for code_uri in {r.code_uri for r in template.routes()}:
        app = load_module(code_uri).app
        in_code = {(route.method.upper() if isinstance(route.method, str) else m, route.openapi_path)
                   for route in app._static_routes + app._dynamic_routes
                   for m in ([route.method] if isinstance(route.method, str) else route.method)}
        in_code = {(m.upper(), p) for m, p in in_code}
        in_template = {(r.method, r.path) for r in template.routes() if r.code_uri == code_uri}
        assert in_code == in_template, code_uri


@pytest.mark.parametrize("name", list(template.resources("AWS::DynamoDB::Table")))
def test_tables_are_encrypted_with_our_key_and_recoverable(name):
    props = template.resources("AWS::DynamoDB::Table")[name]["Properties"]
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEType"] == "KMS"
    assert props["SSESpecification"]["KMSMasterKeyId"] == {"Ref": "DataKey"}
    assert props["BillingMode"] == "PAY_PER_REQUEST"


def test_no_function_policy_allows_every_action():
    for name, props in template.functions().items():
        for statement in _policy_statements(props):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert not any(a == "*" or a.endswith(":*") for a in actions), name


def test_functions_run_python_313_on_arm64_with_tracing():
    fn = template.load()["Globals"]["Function"]
    assert (fn["Runtime"], fn["Architectures"], fn["Tracing"]) == ("python3.13", ["arm64"], "Active")


def test_staff_cannot_write_their_own_brand_store_or_role():
    client = next(iter(template.resources("AWS::Cognito::UserPoolClient").values()))["Properties"]
    assert not any(a.startswith("custom:") for a in client["WriteAttributes"])


def test_every_api_route_requires_the_cognito_authorizer():
    api = next(iter(template.resources("AWS::Serverless::Api").values()))["Properties"]
    assert api["Auth"]["DefaultAuthorizer"] in api["Auth"]["Authorizers"]
    for props in template.load()["Resources"].values():
        for event in (props.get("Properties", {}).get("Events") or {}).values():
            assert "Auth" not in event["Properties"], "no route may opt out of the authorizer"
    # and as the transform wrote it: every operation of the REST API's body is secured by it
    operations = template.api_operations()
    assert len(operations) == len(template.routes()) > 0
    for method, path, _, operation in operations:
        assert operation.get("security") == [{"StaffCognito": []}], f"{method} {path}"


def test_every_function_has_its_own_role_from_the_transform():
    roles = {props["RoleId"] for props in template.functions().values()}
    assert len(roles) == len(template.functions())
    for role in roles:
        assert template.resources("AWS::IAM::Role")[role]["Properties"]["Policies"]


def test_every_function_can_decrypt_its_environment_and_every_log_group_is_encrypted():
    assert template.load()["Globals"]["Function"]["KmsKeyArn"] == {"Fn::GetAtt": ["DataKey", "Arn"]}
    for name, props in template.functions().items():
        assert any(isinstance(p, dict) and "KMSDecryptPolicy" in p for p in props.get("Policies", [])), name
    for name, res in template.resources("AWS::Logs::LogGroup").items():
        assert res["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["DataKey", "Arn"]}, name

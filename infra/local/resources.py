"""Creates the transformed template's resources in moto (in-process for tests, the moto server
for the local stack) with moto's CloudFormation: one `create_stack` of the resource types moto
can create - the KMS key, tables, queues, topics, the event bus, the rules (bus routing and
schedules), the functions' IAM roles and log groups. What moto's CloudFormation cannot create
is stood in for (docs/operations.md, "What moto creates"): the queue policies are set by hand,
the functions run in-process (infra/local/lambdas.py) under their roles (infra/local/iam.py),
the API is the local gateway, the user pool is infra/local/cognito.py.

Names are deterministic (`vipcare-<LogicalId>`, or the name the template gives), so
`physical_names()` can tell the tests and the functions' environment what `!Ref` and
`!GetAtt` resolve to before anything exists.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from functools import cache
from typing import Any

from . import template, transform

ACCOUNT = transform.ACCOUNT
REGION = transform.REGION
STACK_NAME = "vipcare"

# What moto's CloudFormation creates from the transformed template, and the property that
# names each (set to the deterministic local name when the template leaves it to CloudFormation).
MOTO_CREATES = {
    "AWS::KMS::Key": None,
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Events::EventBus": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::IAM::Role": "RoleName",
    "AWS::Logs::LogGroup": "LogGroupName",
}


def _name(logical_id: str, res: dict[str, Any], resolver: transform.Resolver) -> str:
    key = MOTO_CREATES.get(res["Type"])
    given = (res.get("Properties") or {}).get(key) if key else None
    return str(resolver.resolve(given)) if given is not None else template.physical_name(logical_id)


def physical_names(sqs_endpoint: str | None = None) -> dict[str, str]:
    """`!Ref X` -> value under key `X`; `!GetAtt X.Attr` -> value under key `X.Attr`."""
    sqs_base = (sqs_endpoint or f"https://sqs.{REGION}.amazonaws.com").rstrip("/")
    names: dict[str, str] = {}
    resolver = transform.Resolver(names, template.parameter_defaults())
    arn = f"{transform.PARTITION}:{{service}}:{REGION}:{ACCOUNT}"
    items = template.cloudformation()["Resources"].items()
    # Functions and roles first: log group names refer to the functions.
    for logical_id, res in sorted(items, key=lambda kv: kv[1]["Type"] not in (
            "AWS::Lambda::Function", "AWS::IAM::Role", "AWS::Events::EventBus")):
        kind = res["Type"]
        name = _name(logical_id, res, resolver)
        if kind == "AWS::DynamoDB::Table":
            names[logical_id] = name
            names[f"{logical_id}.Arn"] = f"arn:{arn.format(service='dynamodb')}:table/{name}"
        elif kind == "AWS::SQS::Queue":
            names[logical_id] = f"{sqs_base}/{ACCOUNT}/{name}"
            names[f"{logical_id}.Arn"] = f"arn:{arn.format(service='sqs')}:{name}"
            names[f"{logical_id}.QueueName"] = name
        elif kind == "AWS::SNS::Topic":
            names[logical_id] = f"arn:{arn.format(service='sns')}:{name}"
            names[f"{logical_id}.TopicName"] = name
        elif kind == "AWS::Events::EventBus":
            names[logical_id] = name
            names[f"{logical_id}.Arn"] = f"arn:{arn.format(service='events')}:event-bus/{name}"
            names[f"{logical_id}.Name"] = name
        elif kind == "AWS::Events::Rule":
            names[logical_id] = name
            names[f"{logical_id}.Arn"] = f"arn:{arn.format(service='events')}:rule/{name}"
        elif kind == "AWS::KMS::Key":  # the key id is moto's: create_all() puts the real one in
            names[logical_id] = f"local-key-{logical_id}"
            names[f"{logical_id}.Arn"] = f"arn:{arn.format(service='kms')}:key/local-key-{logical_id}"
        elif kind == "AWS::Lambda::Function":
            names[logical_id] = name
            names[f"{logical_id}.Arn"] = f"arn:{arn.format(service='lambda')}:function:{name}"
        elif kind == "AWS::IAM::Role":
            names[logical_id] = name
            names[f"{logical_id}.Arn"] = f"arn:{transform.PARTITION}:iam::{ACCOUNT}:role/{name}"
    return names


def stack_template(source: dict[str, Any] | None = None) -> dict[str, Any]:
    """The part of the transformed template moto's CloudFormation can create: the types of
    MOTO_CREATES, each named, references to everything else (functions, the API, the user pool)
    replaced by the local names."""
    source = source or template.cloudformation()
    names = physical_names()
    resolver = transform.Resolver(names, template.parameter_defaults())
    kept = {k for k, r in source["Resources"].items() if r["Type"] in MOTO_CREATES}
    # moto resolves a Ref to an in-stack event bus to the bus object, not its name (a rule's
    # EventBusName, an EventBridgePutEventsPolicy's resource): such Refs get the name itself.
    buses = {k for k, r in source["Resources"].items() if r["Type"] == "AWS::Events::EventBus"}

    def local(value: Any) -> Any:
        """Resolve references to resources that are not in the stack; keep the others."""
        if isinstance(value, list):
            return [local(v) for v in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"} and (value["Ref"] not in kept or value["Ref"] in buses) and value["Ref"] in names:
            return names[value["Ref"]]
        if set(value) == {"Fn::GetAtt"} and value["Fn::GetAtt"][0] not in kept:
            return resolver.resolve(value)
        if set(value) == {"Fn::Sub"}:
            text, variables = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"]
            for ref in {m.split(".")[0] for m in _sub_refs(text)} - kept:
                if ref in names:
                    text = text.replace("${" + ref + "}", names[ref]).replace(
                        "${" + ref + ".Arn}", names.get(f"{ref}.Arn", "${" + ref + ".Arn}"))
            return {"Fn::Sub": [text, local(variables)] if variables else text}
        return {k: local(v) for k, v in value.items()}

    out: dict[str, Any] = {"AWSTemplateFormatVersion": "2010-09-09", "Parameters": source.get("Parameters", {}),
                           "Resources": {}}
    for logical_id in kept:
        res = copy.deepcopy(source["Resources"][logical_id])
        props = res.setdefault("Properties", {})
        key = MOTO_CREATES[res["Type"]]
        if key:
            props[key] = _name(logical_id, res, resolver)
        bus = props.get("EventBusName")
        if isinstance(bus, dict) and bus.get("Ref") in buses:
            res["DependsOn"] = [bus["Ref"]]  # the order the Ref implied
        out["Resources"][logical_id] = local(res)
    # moto's CloudFormation ignores a role's ManagedPolicyArns: each AWS managed policy the
    # transform attaches becomes a customer managed copy (AWS's document, from moto's copy)
    # attached to the same roles.
    from .iam import managed_policy_document

    attached: dict[str, list[str]] = {}
    for logical_id in sorted(kept):
        res = source["Resources"][logical_id]
        if res["Type"] == "AWS::IAM::Role":
            for arn in resolver.resolve(res["Properties"].get("ManagedPolicyArns", [])):
                attached.setdefault(arn, []).append(logical_id)
    for arn, roles in attached.items():
        name = arn.rsplit("/", 1)[-1]
        out["Resources"][f"LocalAwsManaged{name}"] = {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
            "ManagedPolicyName": f"aws-managed-{name}", "Description": f"local stand-in for {arn}",
            "PolicyDocument": managed_policy_document(arn), "Roles": [{"Ref": r} for r in roles]}}
    return out


@cache
def _stack_body() -> str:
    return json.dumps(stack_template())


def _sub_refs(text: str) -> set[str]:
    import re

    return {m for m in re.findall(r"\$\{([^}!]+)\}", text) if not m.startswith("AWS::")}


def create_all(client: Callable[[str], Any], *, sqs_endpoint: str | None = None) -> dict[str, str]:
    """Create the template's resources with `client(service)`; returns physical_names() with
    what only exists once created (the KMS key's id, the queue URLs of this endpoint)."""
    names = physical_names(sqs_endpoint)
    cfn = client("cloudformation")
    cfn.create_stack(StackName=STACK_NAME, TemplateBody=_stack_body())
    for logical_id in template.resources("AWS::KMS::Key"):  # moto picks the key's id
        key_id = cfn.describe_stack_resource(StackName=STACK_NAME, LogicalResourceId=logical_id)[
            "StackResourceDetail"]["PhysicalResourceId"]
        names[logical_id] = key_id
        names[f"{logical_id}.Arn"] = f"arn:{transform.PARTITION}:kms:{REGION}:{ACCOUNT}:key/{key_id}"

    queues = template.resources("AWS::SQS::Queue")
    if queues:
        sqs = client("sqs")
        if sqs_endpoint:  # the endpoint's own URL form wins
            for logical_id in queues:
                names[logical_id] = sqs.get_queue_url(QueueName=names[f"{logical_id}.QueueName"])["QueueUrl"]
        # Stand-in: moto's CloudFormation has no AWS::SQS::QueuePolicy; set each as the queue's Policy.
        resolver = transform.Resolver(names, template.parameter_defaults())
        for res in template.resources("AWS::SQS::QueuePolicy").values():
            props = resolver.resolve(res["Properties"])
            for url in props["Queues"]:
                sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(props["PolicyDocument"])})
    return names

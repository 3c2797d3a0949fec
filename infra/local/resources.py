"""Creates every resource of template.yaml in moto (in-process for tests, the moto server for
the local stack): tables, queues (with their dead-letter redrive), topics, event buses and
the rules that route events to queues.

Names are deterministic (`vipcare-<LogicalId>`), so `physical_names()` can tell the tests
and the functions' environment what `!Ref` and `!GetAtt` resolve to before anything exists.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from . import template

ACCOUNT = "123456789012"
REGION = "us-east-1"


def physical_names(sqs_endpoint: str | None = None) -> dict[str, str]:
    """`!Ref X` -> value under key `X`; `!GetAtt X.Attr` -> value under key `X.Attr`."""
    sqs_base = (sqs_endpoint or f"https://sqs.{REGION}.amazonaws.com").rstrip("/")
    names: dict[str, str] = {}
    for logical_id, res in template.load()["Resources"].items():
        name = template.physical_name(logical_id)
        kind = res["Type"]
        if kind == "AWS::DynamoDB::Table":
            names[logical_id] = name
            names[f"{logical_id}.Arn"] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
        elif kind == "AWS::SQS::Queue":
            names[logical_id] = f"{sqs_base}/{ACCOUNT}/{name}"
            names[f"{logical_id}.Arn"] = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
            names[f"{logical_id}.QueueName"] = name
        elif kind == "AWS::SNS::Topic":
            names[logical_id] = f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"
            names[f"{logical_id}.TopicName"] = name
        elif kind == "AWS::Events::EventBus":
            names[logical_id] = name
            names[f"{logical_id}.Arn"] = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{name}"
            names[f"{logical_id}.Name"] = name
        elif kind == "AWS::KMS::Key":
            names[logical_id] = f"local-key-{logical_id}"
            names[f"{logical_id}.Arn"] = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/local-key-{logical_id}"
    return names


def _resolve(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        if set(value) in ({"Ref"}, {"Fn::GetAtt"}):
            return template.resolve_value(value, names, template.parameter_defaults())
        return {k: _resolve(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, names) for v in value]
    return value


def create_all(client: Callable[[str], Any], *, sqs_endpoint: str | None = None) -> dict[str, str]:
    """Create the template's resources with `client(service)`; returns physical_names()."""
    names = physical_names(sqs_endpoint)
    dynamodb = client("dynamodb")
    for spec in template.table_definitions().values():
        dynamodb.create_table(**spec)

    queues = template.resources("AWS::SQS::Queue")
    if queues:
        sqs = client("sqs")
        # Dead-letter queues first: the others' redrive policies point at them.
        for logical_id, res in sorted(queues.items(), key=lambda kv: "RedrivePolicy" in kv[1].get("Properties", {})):
            props = _resolve(res.get("Properties", {}), names)
            attributes = {k: (json.dumps(v) if isinstance(v, dict) else str(v)) for k, v in props.items()
                          if k in ("VisibilityTimeout", "MessageRetentionPeriod", "RedrivePolicy",
                                   "ReceiveMessageWaitTimeSeconds", "DelaySeconds")}
            url = sqs.create_queue(QueueName=names[f"{logical_id}.QueueName"], Attributes=attributes)["QueueUrl"]
            names[logical_id] = url  # the endpoint's own URL form wins

    topics = template.resources("AWS::SNS::Topic")
    if topics:
        sns = client("sns")
        for logical_id in topics:
            sns.create_topic(Name=names[f"{logical_id}.TopicName"])

    buses = template.resources("AWS::Events::EventBus")
    rules = template.resources("AWS::Events::Rule")
    if buses or rules:
        events = client("events")
        for logical_id in buses:
            events.create_event_bus(Name=names[logical_id])
        for logical_id, res in rules.items():
            props = _resolve(res["Properties"], names)
            bus = props.get("EventBusName", "default")
            rule_name = template.physical_name(logical_id)
            events.put_rule(Name=rule_name, EventBusName=bus, EventPattern=json.dumps(props["EventPattern"]),
                            State=props.get("State", "ENABLED"))
            targets = [{"Id": t["Id"], "Arn": t["Arn"]} for t in props.get("Targets", [])]
            if targets:
                events.put_targets(Rule=rule_name, EventBusName=bus, Targets=targets)
    return names

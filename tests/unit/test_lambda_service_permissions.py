"""What Lambda itself does with a function's execution role, checked on the roles the SAM
transform generates: decrypt the environment, poll the queues it consumes, deliver failed
asynchronous invocations (the scheduled jobs) to the dead-letter queue. The tests run the
handlers under their roles (infra/local/iam.py), but Lambda's own calls happen outside them."""

from __future__ import annotations

import pytest

from infra.local import iam, resources, template
from infra.local.permissions import role_documents

KEY = "arn:aws:kms:us-east-1:123456789012:key/DataKey"  # permissions.role_documents' name for it


def _queue(logical_id_or_ref):
    return logical_id_or_ref["Fn::GetAtt"][0]


def _queue_key(queue: str) -> str | None:
    key = template.resources("AWS::SQS::Queue")[queue]["Properties"].get("KmsMasterKeyId")
    return KEY if key == {"Ref": "DataKey"} else None


def _needs(function: str) -> list[tuple[str, str]]:
    props = template.functions()[function]
    names = resources.physical_names()
    needs = [("kms:Decrypt", KEY)] if props.get("KmsKeyArn") == {"Fn::GetAtt": ["DataKey", "Arn"]} else []
    dlq = (props.get("DeadLetterConfig") or {}).get("TargetArn")
    if dlq:
        queue = _queue(dlq)
        needs.append(("sqs:SendMessage", names[f"{queue}.Arn"]))
        if _queue_key(queue):
            needs += [("kms:GenerateDataKey", KEY), ("kms:Decrypt", KEY)]
    for event in props["Events"].values():
        if event["Type"] == "SQS":
            queue = _queue(event["Properties"]["Queue"])
            needs += [(a, names[f"{queue}.Arn"]) for a in ("sqs:ReceiveMessage", "sqs:DeleteMessage",
                                                           "sqs:GetQueueAttributes")]
            if _queue_key(queue):
                needs.append(("kms:Decrypt", KEY))
    return needs


@pytest.mark.parametrize("function", sorted(template.functions()))
def test_the_role_allows_what_lambda_does_for_the_function(function):
    documents = role_documents(function)
    missing = [(action, resource) for action, resource in _needs(function)
               if not iam.allowed(documents, action, resource)]
    assert not missing, f"{function}'s role lacks {missing}"

"""Delivers SQS messages to the functions subscribed in template.yaml, as Lambda's poller does:
batches of up to BatchSize, a partial batch response deletes the successes, failures come back
after the visibility timeout and move to the dead-letter queue after maxReceiveCount.

Locally a failed message is made visible again after VIPCARE_LOCAL_RETRY_SECONDS (default 5)
instead of the queue's full timeout, so retries can be watched without waiting a minute.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import iam, template
from .lambdas import LambdaContext, handler_for


@dataclass(frozen=True)
class Subscription:
    function: str
    code_uri: str
    handler: str
    queue_logical_id: str
    batch_size: int


def subscriptions() -> list[Subscription]:
    out = []
    for logical_id, props in template.functions().items():
        for event in (props.get("Events") or {}).values():
            if event["Type"] != "SQS":
                continue
            queue = event["Properties"]["Queue"]["Fn::GetAtt"][0]
            out.append(Subscription(logical_id, props["CodeUri"], props["Handler"], queue,
                                    int(event["Properties"].get("BatchSize", 10))))
    return out


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    return {"Records": [{
        "messageId": m["MessageId"],
        "receiptHandle": m["ReceiptHandle"],
        "body": m["Body"],
        "attributes": m.get("Attributes", {}),
        "messageAttributes": m.get("MessageAttributes", {}),
        "md5OfBody": m.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": "us-east-1",
    } for m in messages]}


class QueuePoller:
    def __init__(self, sqs: Any, names: dict[str, str], *, log: Callable[[str], None] = print) -> None:
        self.sqs = sqs
        self.names = names
        self.log = log
        self.retry_seconds = int(os.environ.get("VIPCARE_LOCAL_RETRY_SECONDS", "5"))
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for sub in subscriptions():
            thread = threading.Thread(target=self._run, args=(sub,), name=f"poller-{sub.function}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _run(self, sub: Subscription) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once(sub, wait_seconds=1)
            except Exception as exc:  # keep polling: a broken handler must not stop the stack
                self.log(f"poller {sub.function}: {type(exc).__name__}: {exc}")
                self._stop.wait(1)

    def poll_once(self, sub: Subscription, *, wait_seconds: int = 0) -> int:
        url = self.names[sub.queue_logical_id]
        with iam.running_as(sub.function):  # Lambda polls with the function's role
            return self._poll_as_function(sub, url, wait_seconds)

    def _poll_as_function(self, sub: Subscription, url: str, wait_seconds: int) -> int:
        response = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(sub.batch_size, 10),
                                            WaitTimeSeconds=wait_seconds, AttributeNames=["All"],
                                            MessageAttributeNames=["All"])
        messages = response.get("Messages", [])
        if not messages:
            return 0
        handler = handler_for(sub.code_uri, sub.handler)
        try:
            result = handler(sqs_event(messages, self.names[f"{sub.queue_logical_id}.Arn"]),
                             LambdaContext(function_name=sub.function, timeout_seconds=10))
            failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
        except Exception as exc:  # the whole invocation failed: every message comes back
            self.log(f"{sub.function} failed: {type(exc).__name__}")
            failed = {m["MessageId"] for m in messages}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)])
        for m in messages:
            if m["MessageId"] in failed:
                with iam.as_admin():  # a local shortcut, not something Lambda does
                    self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"],
                                                       VisibilityTimeout=self.retry_seconds)
        self.log(f"{sub.function}: {len(messages)} message(s), {len(failed)} failed")
        return len(messages)

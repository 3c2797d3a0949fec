"""`Idempotency-Key` support: a retried POST returns the first response, once per key.

Built on powertools idempotency with its DynamoDB table. The key is scoped to the caller's
brand, and the request body is part of the record: the same key with a different body is a
client error, not a silent replay.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Header

from ..config import settings
from ..domain.errors import Conflict, ValidationFailed

HEADER = "Idempotency-Key"
_MAX_KEY = 128

# The header as a route parameter. A route that takes it also documents 409 (a reused key):
# tests/unit/test_openapi_drift.py holds every such route to that.
KeyHeader = Annotated[
    str | None,
    Header(alias=HEADER, max_length=_MAX_KEY, description="Makes a retried POST return the first response"),
]


@cache
def _persistence() -> Any:
    # Created on first use, never at import: the client is built with the first request.
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from ..store.clients import dynamodb_client

    return DynamoDBPersistenceLayer(table_name=settings().idempotency_table, boto3_client=dynamodb_client())


@cache
def _config() -> Any:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    return IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="payload",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=settings().idempotency_ttl_seconds,
    )


def register_context(context: Any) -> None:
    """Lets an in-flight record expire with the invocation if the function times out."""
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        _config().register_lambda_context(context)


def run_once(key: str | None, *, scope: str, payload: Any, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run `compute` once per (scope, key); replays return its first (JSON-able) result."""
    if key is None:
        return compute()
    key = key.strip()
    if not key or len(key) > _MAX_KEY or not key.isprintable():
        raise ValidationFailed(f"{HEADER} must be 1-{_MAX_KEY} printable characters", field=HEADER)

    from aws_lambda_powertools.utilities.idempotency import idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    @idempotent_function(data_keyword_argument="request", persistence_store=_persistence(), config=_config())
    def once(request: dict[str, Any]) -> dict[str, Any]:
        return compute()

    try:
        return once(request={"key": f"{scope}#{key}", "payload": payload})
    except IdempotencyValidationError:
        raise Conflict(f"this {HEADER} was already used with a different request body", field=HEADER) from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict(f"a request with this {HEADER} is still in progress; retry shortly", field=HEADER) from None

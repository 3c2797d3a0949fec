"""One DynamoDB client per process, built on first use and shared by every pynamodb model and
by powertools idempotency. pynamodb would otherwise give each model class its own botocore
session and client, and each costs tens of milliseconds of cold start."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

REGION = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


@cache
def dynamodb_client() -> Any:
    from pynamodb.connection import Connection

    return Connection(region=REGION).client

"""Builds the API Gateway REST proxy event (payload v1) that AWS sends for a request."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any


def proxy_event(*, method: str, path: str, resource: str, path_params: dict[str, str],
                query: dict[str, list[str]], headers: dict[str, str], body: str | None,
                claims: dict[str, str] | None, stage: str = "local", source_ip: str = "127.0.0.1",
                received_at: datetime | None = None) -> dict[str, Any]:
    """`received_at` is when API Gateway got the request (the functions' `now`): the clock by default."""
    at = received_at or datetime.now(UTC)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": dict(headers),
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": dict(query) or None,
        "pathParameters": path_params or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": resource,
            "httpMethod": method,
            "extendedRequestId": str(uuid.uuid4()),
            "requestTime": at.astimezone(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{stage}{path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": "local",
            "requestTimeEpoch": int(at.timestamp() * 1000),
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
            "domainName": "localhost",
            "apiId": "local",
            "authorizer": {"claims": claims} if claims is not None else None,
        },
        "body": body,
        "isBase64Encoded": False,
    }

"""Builds the API Gateway REST proxy event (payload v1) that AWS sends for a request."""

from __future__ import annotations

import time
import uuid
from typing import Any


def proxy_event(*, method: str, path: str, resource: str, path_params: dict[str, str],
                query: dict[str, list[str]], headers: dict[str, str], body: str | None,
                claims: dict[str, str] | None, stage: str = "local", source_ip: str = "127.0.0.1") -> dict[str, Any]:
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
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "path": f"/{stage}{path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": "local",
            "requestTimeEpoch": int(time.time() * 1000),
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
            "domainName": "localhost",
            "apiId": "local",
            "authorizer": {"claims": claims} if claims is not None else None,
        },
        "body": body,
        "isBase64Encoded": False,
    }

"""Calls a function's handler the way API Gateway does, routed by template.yaml."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from infra.local import template
from infra.local.apigw import proxy_event
from infra.local.lambdas import LambdaContext, handler_for


def claims_for(*, brand_id: str = "demo", role: str = "admin", store_id: str | None = "demo-001",
               staff_id: str | None = None) -> dict[str, str]:
    staff_id = staff_id or f"{store_id or brand_id}-{role}".replace("_", "-")
    return {
        "sub": "00000000-0000-0000-0000-000000000000",
        "cognito:username": f"{brand_id}.{staff_id}",
        "custom:brand_id": brand_id,
        "custom:store_id": store_id or "",
        "custom:role": role,
        "custom:staff_id": staff_id,
        "token_use": "id",
    }


@dataclass
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str]
    text: str = ""  # the raw body (a CSV answer has no JSON `body`)

    def field_names(self) -> list[str]:
        return [f["field"] for f in self.body.get("fields", [])]


def call(method: str, url: str, body: Any = None, *, claims: dict[str, str] | None = None,
         headers: dict[str, str] | None = None, raw_body: str | None = None,
         at: datetime | None = None) -> ApiResponse:
    """`claims=None` means the authorizer let nothing through (a direct, unsigned call).
    `at` is when the request reaches API Gateway (the handler's `now`); the clock by default."""
    parts = urlsplit(url)
    for route in template.routes():
        params = route.match(method, parts.path)
        if params is None:
            continue
        text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        event = proxy_event(method=method.upper(), path=parts.path, resource=route.path, path_params=params,
                            query=parse_qs(parts.query), headers=hdrs, body=text, claims=claims,
                            received_at=at)
        result = handler_for(route.code_uri, route.handler)(event, LambdaContext())
        payload = result.get("body") or ""
        out_headers = dict(result.get("headers") or {})
        for name, values in (result.get("multiValueHeaders") or {}).items():
            out_headers.setdefault(name, ", ".join(values))
        is_json = out_headers.get("Content-Type", "application/json").startswith("application/json")
        return ApiResponse(int(result["statusCode"]), json.loads(payload) if payload and is_json else None,
                           out_headers, payload)
    raise AssertionError(f"no route {method} {parts.path} in template.yaml")


ADMIN = claims_for(role="admin", store_id="demo-001")
OTHER_BRAND_ADMIN = claims_for(brand_id="acme", role="admin", store_id="acme-001")
CLERK_001 = claims_for(role="store_staff", store_id="demo-001", staff_id="clerk-1")
CLERK_002 = claims_for(role="store_staff", store_id="demo-002", staff_id="clerk-2")


def enrol(claims: dict[str, str] | None = ADMIN, *, headers: dict[str, str] | None = None, at: datetime | None = None,
          **fields: Any) -> ApiResponse:
    body = {"name": "Li Na", "phone": "13800138000", "store_id": "demo-001", **fields}
    return call("POST", "/members", body, claims=claims, headers=headers, at=at)


def listed(url: str, key: str, *, claims: dict[str, str] | None = ADMIN, limit: int | None = None,
           at: datetime | None = None) -> list[Any]:
    """Every item of a paged list (`{<key>: [...], next}`), page after page; asserts each page
    answers 200 and that the walk ends."""
    items: list[Any] = []
    after: str | None = None
    for _ in range(1000):
        query = {k: v for k, v in (("limit", limit), ("after", after)) if v is not None}
        sep = "&" if "?" in url else "?"
        r = call("GET", url + (sep + urlencode(query) if query else ""), claims=claims, at=at)
        assert r.status == 200, r.body
        items += r.body[key]
        after = r.body["next"]
        if after is None:
            return items
    raise AssertionError(f"{url}: the list never ended")

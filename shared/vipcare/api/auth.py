"""The caller, as API Gateway's Cognito authorizer vouches for them.

API Gateway verifies the ID token (signature, expiry, audience) before the function runs and
hands us its claims in `requestContext.authorizer.claims`. The brand, store and role are
Cognito custom attributes that only administrators can write (template.yaml: the user pool
client has no write access to them).
"""

from __future__ import annotations

from typing import Any

from ..domain.access import Caller, Role
from ..domain.errors import Forbidden, Unauthorized

CLAIM_BRAND = "custom:brand_id"
CLAIM_STORE = "custom:store_id"
CLAIM_ROLE = "custom:role"
CLAIM_STAFF = "custom:staff_id"


def caller_from_event(event: dict[str, Any]) -> Caller:
    claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("claims") or {}
    brand_id = claims.get(CLAIM_BRAND)
    role = claims.get(CLAIM_ROLE)
    staff_id = claims.get(CLAIM_STAFF) or claims.get("cognito:username")
    if not brand_id or not role or not staff_id:
        raise Unauthorized("sign in as a VIP Care staff user (brand, role and staff id claims required)")
    try:
        role_value = Role(role)
    except ValueError:
        raise Forbidden(f"unknown role {role!r}") from None
    return Caller(staff_id=staff_id, brand_id=brand_id, store_id=claims.get(CLAIM_STORE) or None, role=role_value)

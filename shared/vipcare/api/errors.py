"""Every error leaves the API in one JSON shape (ErrorBody), mapped here and only here."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from ..domain.errors import Conflict, DomainError, Forbidden, NotFound, Unauthorized, ValidationFailed

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    ValidationFailed: 422,
    NotFound: 404,
    Conflict: 409,
    Forbidden: 403,
    Unauthorized: 401,
}

# Fields VIP Care owns: a request that tries to set one is told so in words.
OWNED_FIELDS = frozenset(
    {"member_id", "member_no", "brand_id", "tier", "points_balance", "points", "spend_12m",
     "purchases_6m", "manager_id", "enrolled_at", "updated_at", "created_at"}
)

_SOURCES = {"body", "query", "path", "header", "cookie"}


def error_response(status: int, code: str, message: str, *, fields: list[dict[str, str]] | None = None,
                   **details: Any) -> Response:
    body: dict[str, Any] = {"error": code, "message": message, "fields": fields or []}
    body.update({k: v for k, v in details.items() if v is not None})
    return Response(status_code=status, content_type="application/json", body=json.dumps(body))


def from_domain_error(exc: DomainError) -> Response:
    status = next((s for cls, s in STATUS_BY_ERROR.items() if isinstance(exc, cls)), 400)
    fields = [{"field": exc.field, "message": exc.message}] if exc.field else []
    return error_response(status, exc.code, exc.message, fields=fields, **exc.details)


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    return ".".join(parts) or "body"


def field_errors(errors: Any) -> list[dict[str, str]]:
    """pydantic errors -> [{field, message}], naming fields by their dotted path."""
    fields = []
    for err in errors:
        name = _field_name(err.get("loc", ()))
        kind = str(err.get("type", ""))
        if kind.startswith("field:"):  # a model-level rule that names its field (see api.models.base)
            name = ".".join(filter(None, [name if name != "body" else "", kind[6:]]))
        if kind == "extra_forbidden":
            leaf = name.rsplit(".", 1)[-1]
            message = (f"{leaf} is managed by VIP Care and cannot be set" if leaf in OWNED_FIELDS
                       else f"unknown field {leaf}")
        elif err.get("type") == "missing":
            message = "is required"
        else:
            message = str(err.get("msg", "is invalid")).removeprefix("Value error, ")
        fields.append({"field": name, "message": message})
    return fields


def from_validation_error(exc: RequestValidationError) -> Response:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(400, "invalid_json", "the request body is not valid JSON", fields=[
            {"field": "body", "message": "expected a JSON object"}])
    fields = field_errors(errors)
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    return error_response(422, "validation_error", f"invalid request: {summary}", fields=fields)

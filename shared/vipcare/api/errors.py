"""Every error leaves the API in one JSON shape (ErrorBody), mapped here and only here."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from ..domain.errors import Conflict, DomainError, Forbidden, NotFound, Unauthorized, ValidationFailed
from .models.fields import field_errors

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    ValidationFailed: 422,
    NotFound: 404,
    Conflict: 409,
    Forbidden: 403,
    Unauthorized: 401,
}



def error_response(status: int, code: str, message: str, *, fields: list[dict[str, str]] | None = None,
                   **details: Any) -> Response:
    body: dict[str, Any] = {"error": code, "message": message, "fields": fields or []}
    body.update({k: v for k, v in details.items() if v is not None})
    return Response(status_code=status, content_type="application/json", body=json.dumps(body))


def from_domain_error(exc: DomainError) -> Response:
    status = next((s for cls, s in STATUS_BY_ERROR.items() if isinstance(exc, cls)), 400)
    fields = [{"field": exc.field, "message": exc.message}] if exc.field else []
    return error_response(status, exc.code, exc.message, fields=fields, **exc.details)


def from_validation_error(exc: RequestValidationError) -> Response:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(400, "invalid_json", "the request body is not valid JSON", fields=[
            {"field": "body", "message": "expected a JSON object"}])
    fields = field_errors(errors)
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    return error_response(422, "validation_error", f"invalid request: {summary}", fields=fields)

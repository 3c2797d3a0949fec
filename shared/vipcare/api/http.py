"""The resolver every API function uses: validation on, one error shape, body-size guard."""

from __future__ import annotations

import json
import warnings
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from ..config import settings
from ..domain.access import Caller
from ..domain.errors import DomainError
from ..domain.privacy import redact
from .auth import caller_from_event
from .errors import error_response, from_domain_error, from_validation_error
from .events import request_moment

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

# A request with no business metric (a read) is normal, not worth a warning per call.
warnings.filterwarnings("ignore", message="No application metrics to publish")

# The Cognito authorizer, as the OpenAPI document shows it: the ID token in Authorization.
SECURITY_SCHEMES: dict[str, Any] = {"cognito": {"type": "apiKey", "name": "Authorization", "in": "header"}}
SECURITY: list[dict[str, list[str]]] = [{"cognito": []}]
API_TITLE = "VIP Care API"
API_VERSION = "0.1.0"


def create_app(logger: Logger) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)
    app.configure_openapi(title=API_TITLE, version=API_VERSION, security_schemes=SECURITY_SCHEMES)

    @app.exception_handler(DomainError)
    def _domain(exc: DomainError) -> Response:
        logger.info("request refused", extra={"error": exc.code, "field": exc.field})
        return from_domain_error(exc)

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response:
        response = from_validation_error(exc)
        logger.info("invalid request", extra={"status": response.status_code})
        return response

    @app.not_found
    def _no_route(_: NotFoundError) -> Response:
        return error_response(404, "no_route", "no such route")

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # The message may quote an item key (phones are keys): redact before logging.
        logger.error("unhandled error", extra={"error_type": type(exc).__name__, "detail": redact(str(exc))})
        return error_response(500, "internal_error", "something went wrong; it has been logged")

    return app


def _plain_error(status: int, code: str, message: str, field: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"error": code, "message": message, "fields": [{"field": field, "message": message}]}),
        "isBase64Encoded": False,
    }


def _as_json_request(event: dict[str, Any]) -> dict[str, Any] | None:
    """This API speaks JSON only. A body sent without a content type, or as a plain form
    (what `curl -d` does), is read as JSON; anything else is refused with a 415."""
    if not event.get("body"):
        return event
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type in ("application/json",) or content_type.endswith("+json"):
        return event
    if content_type not in ("", "application/x-www-form-urlencoded", "text/plain"):
        return None
    fixed = {k: v for k, v in (event.get("headers") or {}).items() if k.lower() != "content-type"}
    fixed["Content-Type"] = "application/json"
    multi = {k: v for k, v in (event.get("multiValueHeaders") or {}).items() if k.lower() != "content-type"}
    multi["Content-Type"] = ["application/json"]
    return {**event, "headers": fixed, "multiValueHeaders": multi}


def resolve(app: APIGatewayRestResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Entry point shared by the API handlers: size and content-type guards, then routing."""
    body = event.get("body") or ""
    limit = settings().max_body_bytes
    if len(body.encode() if isinstance(body, str) else body) > limit:
        return _plain_error(413, "body_too_large", f"the request body exceeds {limit} bytes", "body")
    json_event = _as_json_request(event)
    if json_event is None:
        return _plain_error(415, "unsupported_media_type", "send the body as application/json", "Content-Type")
    return app.resolve(json_event, context)


def current_caller(app: APIGatewayRestResolver) -> Caller:
    return caller_from_event(app.current_event.raw_event)


def request_time(app: APIGatewayRestResolver) -> datetime:
    """The request's `now` (see events.request_moment): pass it to every service the route calls."""
    return request_moment(app.current_event.raw_event)


_ERROR_TEXT = {
    400: "The body is not valid JSON",
    401: "No valid token",
    403: "The caller's role may not do this",
    404: "Not found, or outside the caller's brand or store",
    409: "Conflicts with existing data",
    413: "The body is too large",
    415: "The body is not JSON (send application/json)",
    422: "A field is invalid; `fields` names it",
}


def error_responses(*statuses: int, success: int | None = 200, description: str = "OK") -> dict[int, OpenAPIResponse]:
    """OpenAPI `responses` for a route: its success status (schema from the return annotation)
    and the error statuses it can answer, all in the ErrorBody shape."""
    from .models.base import ErrorBody

    out: dict[int, OpenAPIResponse] = {success: {"description": description}} if success else {}
    out.update({
        s: {"description": _ERROR_TEXT[s], "content": {"application/json": {"model": ErrorBody}}}
        for s in (400, 401, 413, 415, 422, *statuses)
    })
    return out


def json_response(status: int, body: Any) -> Response:
    return Response(status_code=status, content_type="application/json", body=body)

"""Routes that exist only on the local stack, for trying the API by hand.

- POST /_local/token            {brand_id, store_id, role, staff_id?} -> {token}
- POST /_local/jobs/{function}  {"time": "..."}? -> fires a scheduled function for that moment
- GET  /_local/outbox           the SMS the moto server received through SNS
- GET  /_local/queues           depth of each queue
- GET  /openapi.json, /docs     the API document and Swagger UI
- GET  /docs/assets/{file}      Swagger UI's own files, from the flask-swagger-ui package (offline)
"""

from __future__ import annotations

import importlib.util
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import template
from .gateway import SWAGGER_ASSETS, SWAGGER_PAGE, Gateway, Raw
from .lambdas import LambdaContext, handler_for

# The only kinds of file /docs/assets serves; anything else in the folder (LICENSE, html) is a 404.
ASSET_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
               ".png": "image/png", ".map": "application/json; charset=utf-8"}

ROLES = ("store_staff", "manager", "supervisor", "department_head", "vice_president", "technical_support", "admin")


def _error(status: int, field: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": "validation_error", "message": f"{field}: {message}",
                    "fields": [{"field": field, "message": message}]}


def token(gw: Gateway, body: dict[str, Any], _: dict[str, list[str]]) -> tuple[int, Any]:
    brand_id, role, store_id = body.get("brand_id"), body.get("role"), body.get("store_id")
    if not isinstance(brand_id, str) or not brand_id:
        return _error(422, "brand_id", "is required")
    if role not in ROLES:
        return _error(422, "role", f"must be one of {', '.join(ROLES)}")
    if store_id is not None and not isinstance(store_id, str):
        return _error(422, "store_id", "must be a string")
    staff_id = body.get("staff_id")
    if staff_id is None and store_id:
        staff_id = f"{store_id}-{role}".replace("_", "-")  # the demo directory's naming
    tok = gw.cognito.token_for(brand_id=brand_id, role=role, store_id=store_id, staff_id=staff_id)
    return 200, {"token": tok, "brand_id": brand_id, "store_id": store_id, "role": role, "staff_id": staff_id}


def openapi(gw: Gateway, _: dict[str, Any], __: dict[str, list[str]]) -> tuple[int, Any]:
    from infra.openapi_doc import build

    doc = build()
    doc["servers"] = [{"url": gw.url, "description": "local stack"}]
    return 200, doc


def docs(gw: Gateway, _: dict[str, Any], __: dict[str, list[str]]) -> tuple[int, Any]:
    if asset_file("swagger-ui-bundle.js") is None:  # a plain message rather than a blank page
        return 503, "<p>Swagger UI's files are missing: install the dev extras (pip install -e '.[dev]').</p>"
    return 200, SWAGGER_PAGE


def swagger_ui_dir() -> Path | None:
    """The swagger-ui dist folder that the flask-swagger-ui package ships (a dev dependency)."""
    # Located without importing the package, which would import Flask for nothing.
    spec = importlib.util.find_spec("flask_swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "dist"


def asset_file(name: str) -> Path | None:
    """The file `name` right in swagger_ui_dir(), of a type in ASSET_TYPES, or None.

    The name comes from the URL: no separator, no dot file (`..`), and a link out of the folder
    does not count, so nothing but Swagger UI's own files can be read through it."""
    folder = swagger_ui_dir()
    if folder is None or not name or name.startswith(".") or "/" in name or "\\" in name:
        return None
    path = folder / name
    if path.suffix not in ASSET_TYPES or not path.is_file() or path.resolve().parent != folder.resolve():
        return None
    return path


def docs_asset(gw: Gateway, body: dict[str, Any], _: dict[str, list[str]]) -> tuple[int, Any]:
    name = body["_path"].removeprefix(SWAGGER_ASSETS + "/")
    path = asset_file(name)
    if path is None:
        return 404, {"error": "not_found", "message": f"no Swagger UI file {name!r}",
                     "fields": [{"field": "file", "message": "unknown"}]}
    return 200, Raw(ASSET_TYPES[path.suffix], path.read_bytes())


def scheduled_event(moment: datetime) -> dict[str, Any]:
    """The event EventBridge Scheduler/rules deliver to a scheduled function."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/local"],
        "detail": {},
    }


def run_job(gw: Gateway, body: dict[str, Any], _: dict[str, list[str]]) -> tuple[int, Any]:
    name = body["_path"].rsplit("/", 1)[-1]
    raw_time = body.get("time")
    try:
        moment = datetime.fromisoformat(raw_time.replace("Z", "+00:00")) if raw_time else datetime.now(UTC)
    except (AttributeError, ValueError):
        return _error(422, "time", "must be an ISO 8601 date-time")
    if moment.tzinfo is None:
        return _error(422, "time", "must carry a time zone offset")
    for logical_id, props in template.functions().items():
        folder = props["CodeUri"].rstrip("/").rsplit("/", 1)[-1]
        events = (props.get("Events") or {}).values()
        if folder == name and any(e["Type"] in ("Schedule", "ScheduleV2") for e in events):
            handler = handler_for(props["CodeUri"], props["Handler"])
            result = handler(scheduled_event(moment), LambdaContext(function_name=logical_id, timeout_seconds=900))
            return 200, {"function": name, "time": scheduled_event(moment)["time"], "result": result}
    return 404, {"error": "not_found", "message": f"no scheduled function {name!r} in template.yaml",
                 "fields": [{"field": "function", "message": "unknown or not scheduled"}]}


def outbox(gw: Gateway, _: dict[str, Any], __: dict[str, list[str]]) -> tuple[int, Any]:
    # The moto server runs in this process: read what SNS "delivered" straight from it.
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    backend = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    # moto keeps (phone, text, ...) per message id
    messages = [{"message_id": mid, "phone": sent[0], "message": sent[1]}
                for mid, sent in backend.sms_messages.items()]
    return 200, {"count": len(messages), "messages": messages}


def queues(gw: Gateway, _: dict[str, Any], __: dict[str, list[str]]) -> tuple[int, Any]:
    """Depth of every queue of the template (e.g. to wait until purchases are applied)."""
    sqs = gw.aws_client("sqs")
    if sqs is None:
        return 503, {"error": "no AWS client: the gateway was started without one"}
    out = {}
    for logical_id in template.resources("AWS::SQS::Queue"):
        attrs = sqs.get_queue_attributes(QueueUrl=gw.names[logical_id], AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        out[logical_id] = {"visible": int(attrs["ApproximateNumberOfMessages"]),
                           "in_flight": int(attrs["ApproximateNumberOfMessagesNotVisible"])}
    return 200, out


ROUTES = {
    ("GET", "/_local/queues"): queues,
    ("POST", "/_local/token"): token,
    ("POST", "/_local/jobs/*"): run_job,
    ("GET", "/_local/outbox"): outbox,
    ("GET", "/openapi.json"): openapi,
    ("GET", "/docs"): docs,
    ("GET", SWAGGER_ASSETS + "/*"): docs_asset,
}

"""Care API: a member's messages and contact log, staff tasks and a manager's book, and the
brand's SMS templates and care settings (docs/reminders.md). API Gateway is its only trigger;
the hourly care job and the bus events are functions/reminder_dispatch.

Thin by design: parse the request, call the care services (reminders, contacts, tasks,
care_settings) with the collaborators wired once below, shape the response with
vipcare.api.presenters.
"""

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from vipcare import wiring
from vipcare.api import idempotency
from vipcare.api.http import SECURITY, create_app, current_caller, error_responses, json_response, request_time, resolve
from vipcare.api.models.care import (
    CareSettingsIn,
    ContactCreate,
    ContactOut,
    ManagerBookOut,
    MessageOut,
    TaskOut,
    TemplateIn,
    TemplateOut,
)
from vipcare.api.presenters import book_entry_out, contact_out, message_out, task_out
from vipcare.services import care_settings, contacts, reminders, tasks
from vipcare.tracing import make_tracer

logger = Logger()
tracer = make_tracer()
metrics = Metrics()
app = create_app(logger)
CARE = wiring.care()  # the real collaborators, once per cold start

TAGS = ["care"]


@app.get("/members/<member_id>/messages", summary="Every message for a member: sent, deferred, capped, "
         "suppressed (with the reason) or failed", tags=TAGS, security=SECURITY, responses=error_responses(404))
@tracer.capture_method
def member_messages(member_id: str) -> list[MessageOut]:
    return [message_out(m) for m in reminders.member_messages(current_caller(app), member_id, deps=CARE)]


@app.post("/members/<member_id>/contacts", summary="Log a contact; completes the period's cadence task",
          description="Send an `Idempotency-Key` header to make retries safe (a retry returns the first answer).",
          tags=TAGS, security=SECURITY, responses={201: {"description": "Logged"}, **error_responses(404, 409)})
@tracer.capture_method
def log_contact(
    member_id: str,
    request: ContactCreate,
    idempotency_key: Annotated[
        str | None,
        Header(alias=idempotency.HEADER, max_length=128, description="Makes a retried POST return the first response"),
    ] = None,
) -> Any:
    caller = current_caller(app)

    def work() -> dict[str, Any]:
        return {"status": 201, "body": _logged(caller, member_id, request, idempotency_key).model_dump(mode="json")}

    result = idempotency.run_once(idempotency_key, scope=f"{caller.brand_id}#contact#{member_id}",
                                  payload=request.model_dump(mode="json"), compute=work)
    return json_response(result["status"], result["body"])


def _logged(caller: Any, member_id: str, request: ContactCreate, key: str | None) -> ContactOut:
    contact, done = contacts.log_contact(caller, member_id, request, request_key=key, now=request_time(app),
                                         deps=CARE)
    metrics.add_metric(name="ContactsLogged", unit=MetricUnit.Count, value=1)
    return contact_out(contact, completed_task_id=done)


@app.get("/members/<member_id>/contacts", summary="The member's contact log, newest first", tags=TAGS,
         security=SECURITY, responses=error_responses(404))
@tracer.capture_method
def list_contacts(member_id: str) -> list[ContactOut]:
    return [contact_out(c) for c in contacts.contacts(current_caller(app), member_id, deps=CARE)]


@app.get("/staff/<staff_id>/tasks", summary="A staff member's tasks, open first", tags=TAGS, security=SECURITY,
         responses=error_responses(404))
@tracer.capture_method
def staff_tasks(staff_id: str, limit: Annotated[int, Query(ge=1, le=200)] = 100) -> list[TaskOut]:
    return [task_out(t) for t in tasks.staff_tasks(current_caller(app), staff_id, limit=limit, deps=CARE)]


@app.get("/staff/<staff_id>/members", summary="A manager's book: members, last contact, next contact due",
         tags=TAGS, security=SECURITY, responses=error_responses(404))
@tracer.capture_method
def manager_book(staff_id: str, limit: Annotated[int, Query(ge=1, le=100)] = 50,
                 after: Annotated[str | None, Query(max_length=64)] = None) -> ManagerBookOut:
    entries, more = contacts.manager_book(current_caller(app), staff_id, limit=limit, after=after,
                                          now=request_time(app), deps=CARE)
    return ManagerBookOut(staff_id=staff_id, next=more,
                          members=[book_entry_out(e) for e in entries])


@app.post("/members/<member_id>/tasks/<task_id>/complete", summary="Complete a task (twice: 409)", tags=TAGS,
          security=SECURITY, responses=error_responses(404, 409))
@tracer.capture_method
def complete_task(member_id: str, task_id: Annotated[str, Path(max_length=80)]) -> TaskOut:
    return task_out(tasks.complete_task(current_caller(app), member_id, task_id, now=request_time(app),
                                       deps=CARE))


@app.put("/care/templates/<kind>/<language>", summary="Set a brand's SMS template for a kind and language",
         description="Refused (422) with unknown placeholders or over 2 SMS segments with long values.",
         tags=TAGS, security=SECURITY, responses=error_responses(403))
@tracer.capture_method
def put_template(kind: str, language: str, request: TemplateIn) -> TemplateOut:
    out = care_settings.put_template(current_caller(app), kind, language, request, now=request_time(app),
                                     store=CARE.settings)
    return TemplateOut(kind=out["kind"], language=out["language"], text=out["text"], segments=int(out["segments"]))


@app.put("/care/settings", summary="The brand's care settings: time zone, language, holidays, cap, budget",
         tags=TAGS, security=SECURITY, responses=error_responses(403))
@tracer.capture_method
def put_settings(request: CareSettingsIn) -> dict[str, Any]:
    return care_settings.put_settings(current_caller(app), request, now=request_time(app), store=CARE.settings)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    idempotency.register_context(context)
    return resolve(app, event, context)

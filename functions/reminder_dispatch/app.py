"""Reminder dispatch: the hourly care job (member occasions, deferred and failed messages,
cadence reviews, task escalation), tier notices from the bus (through CareEventsQueue), and
the care API (member messages, contact log, staff tasks, templates and settings).

Thin by design: the event's shape picks the path; vipcare.services.reminders and
vipcare.services.tasks do the work.
"""

import json
import time
from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from vipcare.api import idempotency
from vipcare.api.events import is_api_request, is_queue_batch, is_scheduled, moment
from vipcare.api.http import SECURITY, create_app, current_caller, error_responses, json_response, request_time, resolve
from vipcare.api.models.care import (
    BookEntryOut,
    CareSettingsIn,
    ContactCreate,
    ContactOut,
    ManagerBookOut,
    MessageOut,
    TaskOut,
    TemplateIn,
    TemplateOut,
)
from vipcare.services import reminders, tasks
from vipcare.tracing import make_tracer

logger = Logger()
tracer = make_tracer()
metrics = Metrics()
app = create_app(logger)
# A batch whose records all fail is reported like any partial failure (every id), not raised:
# the same redelivery, without an invocation error per poison batch.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

TAGS = ["care"]


def _message(m: Any) -> MessageOut:
    return MessageOut(occasion_key=m.occasion_key, kind=m.kind, category=m.category, status=m.status,
                      reason=m.reason, text=m.text, created_at=m.created_at, sent_at=m.sent_at,
                      next_attempt_at=m.next_attempt_at, attempts=int(m.attempts or 0))


def _task(t: Any) -> TaskOut:
    return TaskOut(task_id=t.task_id, member_id=t.member_id, kind=t.kind, period=t.period, status=t.status,
                   assignee=t.assignee, reason=t.reason, escalated=int(t.escalated or 0), created_at=t.created_at,
                   completed_at=t.completed_at, completed_by=t.completed_by)


@app.get("/members/<member_id>/messages", summary="Every message for a member: sent, deferred, capped, "
         "suppressed (with the reason) or failed", tags=TAGS, security=SECURITY, responses=error_responses(404))
@tracer.capture_method
def member_messages(member_id: str) -> list[MessageOut]:
    return [_message(m) for m in reminders.member_messages(current_caller(app), member_id)]


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
    item, done = tasks.log_contact(caller, member_id, tasks.ContactIn(
        contacted_on=request.contacted_on, channel=request.channel, notes=request.notes,
        next_action=request.next_action, nps=request.nps), request_key=key, now=request_time(app))
    metrics.add_metric(name="ContactsLogged", unit=MetricUnit.Count, value=1)
    return ContactOut(contact_id=item.contact_id, member_id=item.member_id, contacted_on=item.contacted_on,
                      channel=item.channel, notes=item.notes, next_action=item.next_action,
                      nps=int(item.nps) if item.nps is not None else None, staff_id=item.staff_id,
                      created_at=item.created_at, completed_task_id=done)


@app.get("/members/<member_id>/contacts", summary="The member's contact log, newest first", tags=TAGS,
         security=SECURITY, responses=error_responses(404))
@tracer.capture_method
def list_contacts(member_id: str) -> list[ContactOut]:
    return [ContactOut(contact_id=c.contact_id, member_id=c.member_id, contacted_on=c.contacted_on,
                       channel=c.channel, notes=c.notes, next_action=c.next_action,
                       nps=int(c.nps) if c.nps is not None else None, staff_id=c.staff_id,
                       created_at=c.created_at) for c in tasks.contacts(current_caller(app), member_id)]


@app.get("/staff/<staff_id>/tasks", summary="A staff member's tasks, open first", tags=TAGS, security=SECURITY,
         responses=error_responses(404))
@tracer.capture_method
def staff_tasks(staff_id: str, limit: Annotated[int, Query(ge=1, le=200)] = 100) -> list[TaskOut]:
    return [_task(t) for t in tasks.staff_tasks(current_caller(app), staff_id, limit=limit)]


@app.get("/staff/<staff_id>/members", summary="A manager's book: members, last contact, next contact due",
         tags=TAGS, security=SECURITY, responses=error_responses(404))
@tracer.capture_method
def manager_book(staff_id: str, limit: Annotated[int, Query(ge=1, le=100)] = 50,
                 after: Annotated[str | None, Query(max_length=64)] = None) -> ManagerBookOut:
    entries, more = tasks.manager_book(current_caller(app), staff_id, limit=limit, after=after, now=request_time(app))
    return ManagerBookOut(staff_id=staff_id, next=more,
                          members=[BookEntryOut(**vars(e)) for e in entries])


@app.post("/members/<member_id>/tasks/<task_id>/complete", summary="Complete a task (twice: 409)", tags=TAGS,
          security=SECURITY, responses=error_responses(404, 409))
@tracer.capture_method
def complete_task(member_id: str, task_id: Annotated[str, Path(max_length=80)]) -> TaskOut:
    return _task(tasks.complete_task(current_caller(app), member_id, task_id, now=request_time(app)))


@app.put("/care/templates/<kind>/<language>", summary="Set a brand's SMS template for a kind and language",
         description="Refused (422) with unknown placeholders or over 2 SMS segments with long values.",
         tags=TAGS, security=SECURITY, responses=error_responses(403))
@tracer.capture_method
def put_template(kind: str, language: str, request: TemplateIn) -> TemplateOut:
    out = reminders.put_template(current_caller(app), kind, language, request.text, now=request_time(app))
    return TemplateOut(kind=out["kind"], language=out["language"], text=out["text"], segments=int(out["segments"]))


@app.put("/care/settings", summary="The brand's care settings: time zone, language, holidays, cap, budget",
         tags=TAGS, security=SECURITY, responses=error_responses(403))
@tracer.capture_method
def put_settings(request: CareSettingsIn) -> dict[str, Any]:
    return reminders.put_settings(current_caller(app), request.model_dump(mode="json"), now=request_time(app))


# ---- the schedule and the bus ------------------------------------------------------------------



# A holiday run stops this long before the function would time out; the next run resumes it.
SAFETY_MARGIN_MS = 60_000


@tracer.capture_method
def dispatch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    now = moment(event["time"])
    remaining = context.get_remaining_time_in_millis() if hasattr(context, "get_remaining_time_in_millis") else None
    margin = min(SAFETY_MARGIN_MS, remaining // 5) if remaining else 0
    deadline = time.monotonic() + (remaining - margin) / 1000 if remaining else None
    run = reminders.run_dispatch(now, deadline=deadline)
    for name, value in run.outcomes.items():
        metrics.add_metric(name=f"Sms{name.title()}", unit=MetricUnit.Count, value=value)
    metrics.add_metric(name="TasksCreated", unit=MetricUnit.Count, value=run.tasks_created)
    logger.info("reminder run", extra=run.as_dict())
    return run.as_dict()


@tracer.capture_method
def record_handler(record: SQSRecord) -> str:
    body = json.loads(record.body)
    detail_type, detail = body.get("detail-type"), body.get("detail") or {}
    raw_time = body.get("time")
    now = moment(raw_time) if raw_time else datetime.now(UTC)
    # "now" is the event's time, so a replay decides the same (quiet hours, cap window).
    outcome = reminders.Dispatcher(now).on_event(str(detail_type), detail)
    logger.info("care event", extra={"detail_type": detail_type, "member_id": detail.get("member_id"),
                                     "outcome": outcome})
    return outcome


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if is_api_request(event):
        idempotency.register_context(context)
        return resolve(app, event, context)
    if is_scheduled(event):
        return dispatch(event, context)
    if is_queue_batch(event):
        return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                        context=context)
    logger.warning("unexpected event", extra={"keys": sorted(event)[:10]})
    raise ValueError("reminder_dispatch handles API Gateway requests, its schedule and its queue only")

"""Complaint routing: intake and routing, the case lifecycle, queue views, timeliness figures,
and (on its 15-minute schedule) the escalation job.

Thin by design: API Gateway events go to the resolver, scheduled events to the job; both
call vipcare.services.complaints.
"""


from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from vipcare import wiring
from vipcare.api import idempotency
from vipcare.api.events import is_api_request, is_scheduled, moment
from vipcare.api.http import SECURITY, create_app, current_caller, error_responses, json_response, request_time, resolve
from vipcare.api.models.complaints import (
    AcknowledgeRequest,
    ComplaintCreate,
    ComplaintListOut,
    ComplaintOut,
    ComplaintReport,
    FeedbackRequest,
    NoteRequest,
    ResolveRequest,
)
from vipcare.api.paging import Cursor, PageSize
from vipcare.api.presenters import complaint_out, complaint_summary
from vipcare.domain.complaints import Status
from vipcare.services import complaints
from vipcare.tracing import make_tracer

logger = Logger()
tracer = make_tracer()
metrics = Metrics()
app = create_app(logger)
wired = wiring.complaint_routing()  # the real repositories, bus and staff topic, once per cold start

TAGS = ["complaints"]
CASE_ERRORS = error_responses(403, 404, 409)


@app.post(
    "/complaints", operation_id="fileComplaint",
    summary="File a complaint: priority, fixed deadlines and an assignee",
    description="Priority from the member's tier and the severity; respond_by and resolve_by are fixed now. "
    "Routed to the dedicated manager (gold+), their supervisor when on leave, technical support, or the "
    "store's service queue; high order values start higher up the ladder. The assignee is told through the "
    "staff topic and the member gets a service SMS. Send an `Idempotency-Key` header to make retries safe.",
    tags=TAGS,
    security=SECURITY,
    responses=error_responses(403, 409, success=201, description="Filed"),
)
@tracer.capture_method
def file_complaint(
    request: ComplaintCreate,
    idempotency_key: idempotency.KeyHeader = None,
) -> Response[ComplaintOut]:
    caller = current_caller(app)

    def work() -> dict[str, Any]:
        filed = complaints.file_complaint(caller, request, request_key=idempotency_key, now=request_time(app),
                                          members=wired.members, directory=wired.directory,
                                          complaints=wired.complaints, notifier=wired.notifier, events=wired.events)
        case = filed.complaint
        metrics.add_metric(name="ComplaintsFiled", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name=f"ComplaintsFiled{case.priority.value}", unit=MetricUnit.Count, value=1)
        logger.info("complaint filed", extra={"complaint_id": case.complaint_id, "priority": case.priority.value,
                                              "assignee": case.assignee, "reason": filed.reason,
                                              "event_published": filed.event_published,
                                              "staff_told": filed.staff_told})
        return {"status": 201, "body": complaint_out(case).model_dump(mode="json")}

    result = idempotency.run_once(idempotency_key, scope=f"{caller.brand_id}#complaint",
                                  payload=request.model_dump(mode="json"), compute=work)
    return json_response(result["status"], result["body"])


@app.get("/complaints/<complaint_id>", operation_id="getComplaint",
         summary="A complaint with its full history", tags=TAGS,
         security=SECURITY, responses=error_responses(404))
@tracer.capture_method
def get_complaint(complaint_id: str) -> ComplaintOut:
    return complaint_out(complaints.get_complaint(current_caller(app), complaint_id, complaints=wired.complaints,
                                                  directory=wired.directory))


@app.get("/complaints", operation_id="listComplaints",
         summary="Queue views: by status, assignee or store, newest deadline first; paged", tags=TAGS,
         security=SECURITY, responses=error_responses(403))
@tracer.capture_method
def list_complaints(
    status: Annotated[Status | None, Query()] = None,
    assignee: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    store_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: PageSize = 50,
    after: Cursor = None,
) -> ComplaintListOut:
    page = complaints.list_complaints(current_caller(app), status=status, assignee=assignee, store_id=store_id,
                                      limit=limit, after=after, complaints=wired.complaints)
    return ComplaintListOut(complaints=[complaint_summary(c) for c in page.items], next=page.next)


@app.post("/complaints/<complaint_id>/acknowledge", operation_id="acknowledgeComplaint",
          summary="First response (records the time)", tags=TAGS,
          security=SECURITY, responses=CASE_ERRORS)
@tracer.capture_method
def acknowledge(complaint_id: str,
                request: Annotated[AcknowledgeRequest | None, Body()] = None) -> ComplaintOut:
    case = complaints.acknowledge(current_caller(app), complaint_id, request.note if request else None,
                                  now=request_time(app), complaints=wired.complaints, directory=wired.directory)
    metrics.add_metric(name="ComplaintsAcknowledged", unit=MetricUnit.Count, value=1)
    logger.info("complaint acknowledged", extra={"complaint_id": complaint_id, "assignee": case.assignee})
    return complaint_out(case)


@app.post("/complaints/<complaint_id>/notes", operation_id="addComplaintNote",
          summary="Add a note to the case history", tags=TAGS,
          security=SECURITY, responses=CASE_ERRORS)
@tracer.capture_method
def add_note(complaint_id: str, request: NoteRequest) -> ComplaintOut:
    return complaint_out(complaints.add_note(current_caller(app), complaint_id, request.text, now=request_time(app),
                                             complaints=wired.complaints, directory=wired.directory))


@app.post("/complaints/<complaint_id>/resolve", operation_id="resolveComplaint",
          summary="Resolve (raises a revisit task for the member's manager)",
          tags=TAGS, security=SECURITY, responses=CASE_ERRORS)
@tracer.capture_method
def resolve_complaint(complaint_id: str, request: ResolveRequest) -> ComplaintOut:
    case = complaints.resolve(current_caller(app), complaint_id, request.resolution, now=request_time(app),
                              complaints=wired.complaints, directory=wired.directory, events=wired.events)
    metrics.add_metric(name="ComplaintsResolved", unit=MetricUnit.Count, value=1)
    logger.info("complaint resolved", extra={"complaint_id": complaint_id})
    return complaint_out(case)


@app.post("/complaints/<complaint_id>/feedback", operation_id="recordComplaintFeedback",
          summary="The member's answer: satisfied closes; not satisfied reopens and escalates one level",
          tags=TAGS, security=SECURITY, responses=CASE_ERRORS)
@tracer.capture_method
def feedback(complaint_id: str, request: FeedbackRequest) -> ComplaintOut:
    case = complaints.record_feedback(current_caller(app), complaint_id, request.satisfied, request.nps,
                                      request.comment, now=request_time(app), complaints=wired.complaints,
                                      directory=wired.directory, notifier=wired.notifier, events=wired.events)
    metrics.add_metric(name="ComplaintsClosed" if request.satisfied else "ComplaintsReopened",
                       unit=MetricUnit.Count, value=1)
    logger.info("complaint feedback", extra={"complaint_id": complaint_id, "status": case.status.value})
    return complaint_out(case)


@app.get("/reports/complaints", operation_id="getComplaintReport",
         summary="Complaint timeliness figures per store for a month", tags=["reports"],
         security=SECURITY, responses=error_responses(403))
@tracer.capture_method
def complaint_report(
    period: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM (store time)")],
    store_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> ComplaintReport:
    return ComplaintReport(**complaints.complaint_report(current_caller(app), period, store_id,
                                                         complaints=wired.complaints))



@tracer.capture_method
def escalate(event: dict[str, Any]) -> dict[str, Any]:
    now = moment(event["time"])
    run = complaints.run_escalations(now, complaints=wired.complaints, directory=wired.directory,
                                     notifier=wired.notifier, events=wired.events)
    metrics.add_metric(name="ComplaintsEscalated", unit=MetricUnit.Count, value=run.escalated)
    metrics.add_metric(name="SlaBreaches", unit=MetricUnit.Count, value=run.due)
    logger.info("escalation run", extra=run.as_dict())
    return run.as_dict()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if is_api_request(event):
        idempotency.register_context(context)
        return resolve(app, event, context)
    if is_scheduled(event):
        return escalate(event)
    logger.warning("unexpected event", extra={"keys": sorted(event)[:10]})
    raise ValueError("complaint_routing handles API Gateway requests and its schedule only")

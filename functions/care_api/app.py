"""Care API: a member's messages and contact log, staff tasks and a manager's book, member
search and segments (call lists), member activities (invitations, replies, attendance,
feedback), and the brand's SMS templates and care settings (docs/reminders.md, docs/lists.md,
docs/activities.md). API Gateway is its only trigger;
the hourly care job and the bus events are functions/reminder_dispatch.

Thin by design: parse the request, call the care services (reminders, contacts, tasks,
care_settings) with the collaborators wired once below, shape the response with
vipcare.api.presenters.
"""

from decimal import Decimal
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from vipcare import wiring
from vipcare.api import idempotency
from vipcare.api.http import SECURITY, create_app, current_caller, error_responses, json_response, request_time, resolve
from vipcare.api.models.activities import (
    ActivityCreate,
    ActivityListOut,
    ActivityOut,
    AttendanceIn,
    AttendanceOut,
    FeedbackIn,
    RsvpIn,
    RsvpOut,
)
from vipcare.api.models.care import (
    CareSettingsIn,
    CareSettingsOut,
    ChurnReasonsOut,
    ContactCreate,
    ContactListOut,
    ContactOut,
    ManagerBookOut,
    MessageListOut,
    TaskAssignIn,
    TaskCompleteIn,
    TaskCreate,
    TaskDoneIn,
    TaskListOut,
    TaskOut,
    TemplateIn,
    TemplateOut,
)
from vipcare.api.models.lists import MemberFiltersIn, MemberListOut, SegmentCreate, SegmentListOut, SegmentOut, TierId
from vipcare.api.paging import Cursor, PageSize
from vipcare.api.presenters import (
    activity_out,
    book_entry_out,
    contact_out,
    member_list_out,
    message_out,
    segment_out,
    task_out,
)
from vipcare.domain.activities import ActivityKind, Reply
from vipcare.domain.members import Tier
from vipcare.domain.segments import MemberFilters
from vipcare.services import (
    activities,
    assignments,
    care_settings,
    churn_reasons,
    contacts,
    member_lists,
    reminders,
    tasks,
)
from vipcare.tracing import make_tracer

logger = Logger()
tracer = make_tracer()
metrics = Metrics()
app = create_app(logger)
CARE = wiring.care()  # the real collaborators, once per cold start
LISTS = wiring.member_lists()
ACTIVITIES = wiring.activities(care_deps=CARE)

TAGS = ["care"]


@app.get("/members/<member_id>/messages", operation_id="listMemberMessages",
         summary="A member's messages, newest first: sent, deferred, capped, "
         "suppressed (with the reason) or failed; paged", tags=TAGS, security=SECURITY, responses=error_responses(404))
@tracer.capture_method
def member_messages(member_id: str, limit: PageSize = 50, after: Cursor = None) -> MessageListOut:
    page = reminders.member_messages(current_caller(app), member_id, limit=limit, after=after, deps=CARE)
    return MessageListOut(member_id=member_id, messages=[message_out(m) for m in page.items], next=page.next)


@app.post("/members/<member_id>/contacts", operation_id="logContact",
          summary="Log a contact; completes the period's cadence task",
          description="Send an `Idempotency-Key` header to make retries safe (a retry returns the first answer).",
          tags=TAGS, security=SECURITY, responses=error_responses(404, 409, success=201, description="Logged"))
@tracer.capture_method
def log_contact(
    member_id: str,
    request: ContactCreate,
    idempotency_key: idempotency.KeyHeader = None,
) -> Response[ContactOut]:
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


@app.get("/members/<member_id>/contacts", operation_id="listContacts",
         summary="The member's contact log, newest first; paged", tags=TAGS,
         security=SECURITY, responses=error_responses(404))
@tracer.capture_method
def list_contacts(member_id: str, limit: PageSize = 50, after: Cursor = None) -> ContactListOut:
    page = contacts.contacts(current_caller(app), member_id, limit=limit, after=after, deps=CARE)
    return ContactListOut(member_id=member_id, contacts=[contact_out(c) for c in page.items], next=page.next)


@app.get("/staff/<staff_id>/tasks", operation_id="listStaffTasks",
         summary="A staff member's tasks, open first; paged", tags=TAGS, security=SECURITY,
         responses=error_responses(404))
@tracer.capture_method
def staff_tasks(staff_id: str, limit: PageSize = 100, after: Cursor = None) -> TaskListOut:
    page = tasks.staff_tasks(current_caller(app), staff_id, limit=limit, after=after, deps=CARE)
    return TaskListOut(staff_id=staff_id, tasks=[task_out(t) for t in page.items], next=page.next)


@app.get("/staff/<staff_id>/members", operation_id="getManagerBook",
         summary="A manager's book: members, last contact, next contact due",
         tags=TAGS, security=SECURITY, responses=error_responses(404))
@tracer.capture_method
def manager_book(staff_id: str, limit: Annotated[int, Query(ge=1, le=100)] = 50,
                 after: Cursor = None) -> ManagerBookOut:
    entries, more = contacts.manager_book(current_caller(app), staff_id, limit=limit, after=after,
                                          now=request_time(app), deps=CARE)
    return ManagerBookOut(staff_id=staff_id, next=more,
                          members=[book_entry_out(e) for e in entries])


@app.post("/members/<member_id>/tasks/<task_id>/complete", operation_id="completeTask",
          summary="Complete a task (twice: 409)",
          description="A retention task closes with `outcome` retained or lost, and lost with a `reason` "
          "(counted in `GET /reports/churn-reasons`); other tasks take an optional `outcome`.", tags=TAGS,
          security=SECURITY, responses=error_responses(404, 409, 422))
@tracer.capture_method
def complete_task(member_id: str, task_id: Annotated[str, Path(max_length=80)],
                  request: TaskDoneIn | None = None) -> TaskOut:
    done = request or TaskDoneIn(outcome=None, reason=None)
    return task_out(tasks.complete_task(current_caller(app), member_id, task_id, now=request_time(app),
                                       deps=CARE, outcome=done.outcome, reason=done.reason))


@app.get("/reports/churn-reasons", operation_id="getChurnReasons",
         summary="Retention tasks closed in a month: retained, lost and why (rates: shares of the closed)",
         description="Store staff and managers see their own store.", tags=TAGS, security=SECURITY,
         responses=error_responses(403, 422))
@tracer.capture_method
def churn_reason_report(period: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")],
                        store_id: Annotated[str | None, Query(max_length=64)] = None) -> ChurnReasonsOut:
    return ChurnReasonsOut.model_validate(churn_reasons.report(current_caller(app), period, store_id, deps=CARE))


TASK_ID = Annotated[str, Path(max_length=80)]


@app.post("/tasks", operation_id="createTask", summary="Give a task by hand",
          description="Supervisors and above give a task to anyone of the brand, a manager to someone below them "
          "in the supervisor chain. It appears in the assignee's `GET /staff/{staff_id}/tasks`. Send an "
          "`Idempotency-Key` header to make retries safe (a retry answers the first task).",
          tags=TAGS, security=SECURITY, responses=error_responses(403, 404, 409, 422, success=201,
                                                                  description="Given"))
@tracer.capture_method
def create_task(request: TaskCreate, idempotency_key: idempotency.KeyHeader = None) -> Response[TaskOut]:
    caller = current_caller(app)

    def work() -> dict[str, Any]:
        new = assignments.NewTask(assignee_id=request.assignee_id, member_id=request.member_id,
                                  title=request.title, due_on=request.due_on, note=request.note)
        task = assignments.create_task(caller, new, now=request_time(app), deps=CARE, request_key=idempotency_key)
        return {"status": 201, "body": task_out(task).model_dump(mode="json")}

    result = idempotency.run_once(idempotency_key, scope=f"{caller.brand_id}#task",
                                  payload=request.model_dump(mode="json"), compute=work)
    return json_response(result["status"], result["body"])


@app.post("/tasks/<task_id>/assign", operation_id="passTaskOn",
          summary="Pass a task given by hand down the supervisor chain",
          description="The holder, or someone above them, gives it to someone below the holder; never sideways "
          "or up (admins: anyone). Each hand-over is kept in the task's `history`. Send an `Idempotency-Key` "
          "header to make retries safe.", tags=TAGS, security=SECURITY,
          responses=error_responses(403, 404, 409, 422))
@tracer.capture_method
def pass_task_on(task_id: TASK_ID, request: TaskAssignIn,
                 idempotency_key: idempotency.KeyHeader = None) -> Response[TaskOut]:
    caller = current_caller(app)

    def work() -> dict[str, Any]:
        task = assignments.pass_on(caller, task_id, request.assignee_id, now=request_time(app), deps=CARE)
        return {"status": 200, "body": task_out(task).model_dump(mode="json")}

    result = idempotency.run_once(idempotency_key, scope=f"{caller.brand_id}#task-assign#{task_id}",
                                  payload=request.model_dump(mode="json"), compute=work)
    return json_response(result["status"], result["body"])


@app.post("/tasks/<task_id>/complete", operation_id="completeAssignedTask",
          summary="Complete a task given by hand, with its outcome (twice: 409)",
          description="The holder, someone above them, or an admin.", tags=TAGS, security=SECURITY,
          responses=error_responses(403, 404, 409, 422))
@tracer.capture_method
def complete_assigned_task(task_id: TASK_ID, request: TaskCompleteIn) -> TaskOut:
    return task_out(assignments.complete_assigned(current_caller(app), task_id, request.outcome,
                                                  now=request_time(app), deps=CARE))


@app.put("/care/templates/<kind>/<language>", operation_id="setMessageTemplate",
         summary="Set a brand's SMS template for a kind and language",
         description="Refused (422) with unknown placeholders or over 2 SMS segments with long values.",
         tags=TAGS, security=SECURITY, responses=error_responses(403))
@tracer.capture_method
def put_template(kind: str, language: str, request: TemplateIn) -> TemplateOut:
    out = care_settings.put_template(current_caller(app), kind, language, request, now=request_time(app),
                                     store=CARE.settings)
    return TemplateOut(kind=out["kind"], language=out["language"], text=out["text"], segments=int(out["segments"]))


@app.put("/care/settings", operation_id="setCareSettings",
         summary="The brand's care settings: time zone, language, holidays, cap, budget",
         tags=TAGS, security=SECURITY, responses=error_responses(403))
@tracer.capture_method
def put_settings(request: CareSettingsIn) -> CareSettingsOut:
    stored = care_settings.put_settings(current_caller(app), request, now=request_time(app), store=CARE.settings)
    return CareSettingsOut.model_validate(stored)


# ---- member lists (docs/lists.md) ----------------------------------------------------------------

MONEY_QUERY = r"^\d{1,12}(\.\d{1,2})?$"


@app.get("/members/search", operation_id="searchMembers",
         summary="Find members by tier, store, manager, birthday month, inactivity, spend, "
         "hobby or consent; paged", description="Store staff and managers search their own store. Each page "
         "reads a bounded part of one index, so it may hold fewer than `limit` members with a `next`.",
         tags=["lists"], security=SECURITY, responses=error_responses(403, 422))
@tracer.capture_method
def search_members(
    tier: Annotated[TierId | None, Query()] = None,
    store_id: Annotated[str | None, Query(max_length=64)] = None,
    manager_id: Annotated[str | None, Query(max_length=64)] = None,
    birthday_month: Annotated[int | None, Query(ge=1, le=12)] = None,
    no_purchase_days: Annotated[int | None, Query(ge=1, le=3660)] = None,
    spend_12m_min: Annotated[str | None, Query(pattern=MONEY_QUERY)] = None,
    spend_12m_max: Annotated[str | None, Query(pattern=MONEY_QUERY)] = None,
    hobby: Annotated[str | None, Query(min_length=1, max_length=50)] = None,
    sms_consent: Annotated[bool | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    after: Cursor = None,
) -> MemberListOut:
    filters = MemberFilters(tier=Tier(tier) if tier else None, store_id=store_id, manager_id=manager_id,
                            birthday_month=birthday_month, no_purchase_days=no_purchase_days,
                            spend_12m_min=Decimal(spend_12m_min) if spend_12m_min else None,
                            spend_12m_max=Decimal(spend_12m_max) if spend_12m_max else None, hobby=hobby,
                            sms_consent=sms_consent)
    page = member_lists.search(current_caller(app), filters, limit=limit, after=after, now=request_time(app),
                               deps=LISTS)
    return member_list_out(page)


@app.post("/segments", operation_id="createSegment", summary="Save a list's filters under a name (a segment)",
          description="Send an `Idempotency-Key` header to make retries safe.", tags=["lists"], security=SECURITY,
          responses=error_responses(403, 409, 422, success=201, description="Saved"))
@tracer.capture_method
def create_segment(
    request: SegmentCreate,
    idempotency_key: idempotency.KeyHeader = None,
) -> Response[SegmentOut]:
    caller = current_caller(app)

    def work() -> dict[str, Any]:
        segment = member_lists.create_segment(caller, request.name, _filters(request.filters), now=request_time(app),
                                              deps=LISTS)
        return {"status": 201, "body": segment_out(segment).model_dump(mode="json")}

    result = idempotency.run_once(idempotency_key, scope=f"{caller.brand_id}#segment",
                                  payload=request.model_dump(mode="json"), compute=work)
    return json_response(result["status"], result["body"])


def _filters(f: MemberFiltersIn) -> MemberFilters:
    return MemberFilters.from_document(f.model_dump(exclude_none=True))


@app.get("/segments", operation_id="listSegments",
         summary="The brand's segments, newest first; paged", tags=["lists"], security=SECURITY,
         responses=error_responses())
@tracer.capture_method
def list_segments(limit: PageSize = 50, after: Cursor = None) -> SegmentListOut:
    page = member_lists.segments(current_caller(app), limit=limit, after=after, deps=LISTS)
    return SegmentListOut(segments=[segment_out(s) for s in page.items], next=page.next)


@app.get("/segments/<segment_id>", operation_id="getSegment",
         summary="A segment's name and filters", tags=["lists"], security=SECURITY,
         responses=error_responses(404))
@tracer.capture_method
def get_segment(segment_id: Annotated[str, Path(max_length=64)]) -> SegmentOut:
    return segment_out(member_lists.get_segment(current_caller(app), segment_id, deps=LISTS))


@app.get("/segments/<segment_id>/members", operation_id="listSegmentMembers",
         summary="Who matches the segment now, paged", tags=["lists"],
         security=SECURITY, responses=error_responses(404, 422))
@tracer.capture_method
def segment_members(segment_id: Annotated[str, Path(max_length=64)],
                    limit: Annotated[int, Query(ge=1, le=200)] = 50, after: Cursor = None) -> MemberListOut:
    page = member_lists.segment_members(current_caller(app), segment_id, limit=limit, after=after,
                                        now=request_time(app), deps=LISTS)
    return member_list_out(page)


@app.get("/segments/<segment_id>/export", operation_id="exportSegment",
         summary="The segment as a call list, CSV (supervisor and above; audited)",
         description="Columns: member_no, name, phone, tier, store_id, last_purchase (brand date), spend_12m, "
         "manager_id, manager_name. Up to 5000 rows an answer; when there are more, the `X-Next-Cursor` "
         "header is the `after` of the rest.", tags=["lists"], security=SECURITY,
         responses={200: {"description": "The call list", "content": {"text/csv": {"schema": {"type": "string"}}}},
                    **error_responses(403, 404, 422, success=None)})
@tracer.capture_method
def export_segment(segment_id: Annotated[str, Path(max_length=64)], after: Cursor = None) -> Response[str]:
    caller = current_caller(app)
    text, cursor, rows = member_lists.export_segment(caller, segment_id, after=after, now=request_time(app),
                                                     deps=LISTS)
    logger.info("segment exported", extra={"segment_id": segment_id, "rows": rows, "by": caller.source})
    headers = {"Content-Disposition": f'attachment; filename="{segment_id}.csv"', "Cache-Control": "no-store"}
    if cursor:
        headers["X-Next-Cursor"] = cursor
    return Response(status_code=200, content_type="text/csv; charset=utf-8", body=text, headers=headers)


# ---- activities (docs/activities.md) ------------------------------------------------------------

ACTIVITY_ID = Annotated[str, Path(max_length=64)]


@app.post("/activities", operation_id="createActivity",
          summary="Plan an activity for a list of members; invitations go by SMS from send_at",
          description="Supervisor and above. The audience is a saved segment or filters (as in member search); "
          "an activity of one store invites that store's members. Invitations are marketing SMS: consent, opt-out, "
          "the weekly cap and quiet hours apply, and each member is invited once. Feedback is due on the 5th "
          "working day after the end. Send an `Idempotency-Key` header to make retries safe.",
          tags=["activities"], security=SECURITY,
          responses=error_responses(403, 409, 422, success=201, description="Planned"))
@tracer.capture_method
def create_activity(
    request: ActivityCreate,
    idempotency_key: idempotency.KeyHeader = None,
) -> Response[ActivityOut]:
    caller = current_caller(app)

    def work() -> dict[str, Any]:
        audience, invitation = request.audience, request.invitation
        new = activities.NewActivity(
            name=request.name, kind=ActivityKind(request.kind), store_id=request.store_id,
            starts_at=request.starts_at, ends_at=request.ends_at, capacity=request.capacity,
            segment_id=audience.segment_id, filters=_filters(audience.filters) if audience.filters else None,
            text=invitation.text, send_at=invitation.send_at)
        activity = activities.create_activity(caller, new, now=request_time(app), deps=ACTIVITIES)
        metrics.add_metric(name="ActivitiesPlanned", unit=MetricUnit.Count, value=1)
        return {"status": 201, "body": activity_out(activity).model_dump(mode="json")}

    result = idempotency.run_once(idempotency_key, scope=f"{caller.brand_id}#activity",
                                  payload=request.model_dump(mode="json"), compute=work)
    return json_response(result["status"], result["body"])


@app.get("/activities", operation_id="listActivities",
         summary="The brand's activities, newest first (store staff: their store's and brand-wide); paged",
         tags=["activities"], security=SECURITY, responses=error_responses())
@tracer.capture_method
def list_activities(limit: PageSize = 50, after: Cursor = None) -> ActivityListOut:
    page = activities.recent_activities(current_caller(app), limit=limit, after=after, deps=ACTIVITIES)
    return ActivityListOut(activities=[activity_out(a) for a in page.items], next=page.next)


@app.get("/activities/<activity_id>", operation_id="getActivity",
         summary="An activity: audience, invitations sent, deferred, capped, "
         "suppressed, replies, attendance, feedback", tags=["activities"], security=SECURITY,
         responses=error_responses(404))
@tracer.capture_method
def get_activity(activity_id: ACTIVITY_ID) -> ActivityOut:
    return activity_out(activities.get_activity(current_caller(app), activity_id, now=request_time(app),
                                                deps=ACTIVITIES))


@app.post("/activities/<activity_id>/rsvps", operation_id="recordRsvp",
          summary="Record a guest's reply (yes or no; changeable until the end)",
          description="Only an invited member replies; a notice takes no replies (409); a yes beyond the "
          "capacity is refused (409 activity_full).", tags=["activities"], security=SECURITY,
          responses=error_responses(404, 409, 422))
@tracer.capture_method
def reply(activity_id: ACTIVITY_ID, request: RsvpIn) -> RsvpOut:
    _, outcome = activities.reply(current_caller(app), activity_id, request.member_id, Reply(request.response),
                                  now=request_time(app), deps=ACTIVITIES)
    return RsvpOut(activity_id=activity_id, member_id=request.member_id, response=request.response,
                   outcome="recorded" if outcome == "recorded" else "unchanged")


@app.post("/activities/<activity_id>/attendance", operation_id="recordAttendance",
          summary="Record who came (invited members count once each)",
          tags=["activities"], security=SECURITY, responses=error_responses(404, 409, 422))
@tracer.capture_method
def attendance(activity_id: ACTIVITY_ID, request: AttendanceIn) -> AttendanceOut:
    caller = current_caller(app)
    done = activities.attendance(caller, activity_id, request.member_ids, now=request_time(app), deps=ACTIVITIES)
    activity = activities.get_activity(caller, activity_id, now=request_time(app), deps=ACTIVITIES)
    return AttendanceOut(activity_id=activity_id, recorded=done.recorded, already=done.already,
                         not_invited=done.not_invited, unknown=done.unknown, attended=activity.counts.attended)


@app.post("/activities/<activity_id>/feedback", operation_id="fileActivityFeedback",
          summary="The organiser's feedback, once, after the end "
          "(late after the 5th working day); closes the organiser's task", tags=["activities"], security=SECURITY,
          responses=error_responses(403, 404, 409, 422))
@tracer.capture_method
def feedback(activity_id: ACTIVITY_ID, request: FeedbackIn) -> ActivityOut:
    return activity_out(activities.file_feedback(current_caller(app), activity_id, request.summary,
                                                 request.satisfied_count, now=request_time(app), deps=ACTIVITIES))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    idempotency.register_context(context)
    return resolve(app, event, context)

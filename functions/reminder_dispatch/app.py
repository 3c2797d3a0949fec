"""Reminder dispatch: the hourly care job (member occasions, deferred and failed messages,
activity invitations due, cadence reviews, task escalation), the care events from the bus (tier
changes, downgrade warnings, complaints, through CareEventsQueue) and the activity invitations'
fan-out slices (InvitationsQueue). The care API is functions/care_api.

Thin by design: the event's shape picks the path; vipcare.services.reminders does the work.
"""

import json
import time
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from vipcare import wiring
from vipcare.api.events import is_queue_batch, is_scheduled, moment
from vipcare.services import activities, reminders
from vipcare.tracing import make_tracer

logger = Logger()
tracer = make_tracer()
metrics = Metrics()
CARE = wiring.care()  # the real collaborators, once per cold start
ACTIVITIES = wiring.activities(care_deps=CARE)
# A batch whose records all fail is reported like any partial failure (every id), not raised:
# the same redelivery, without an invocation error per poison batch.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

# A holiday run stops this long before the function would time out; the next run resumes it.
SAFETY_MARGIN_MS = 60_000


@tracer.capture_method
def dispatch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    now = moment(event["time"])
    remaining = context.get_remaining_time_in_millis() if hasattr(context, "get_remaining_time_in_millis") else None
    margin = min(SAFETY_MARGIN_MS, remaining // 5) if remaining else 0
    deadline = time.monotonic() + (remaining - margin) / 1000 if remaining else None
    run = reminders.run_dispatch(now, CARE, deadline=deadline)
    for name, value in run.outcomes.items():
        metrics.add_metric(name=f"Sms{name.title()}", unit=MetricUnit.Count, value=value)
    metrics.add_metric(name="TasksCreated", unit=MetricUnit.Count, value=run.tasks_created)
    steps = activities.run_due(now, ACTIVITIES)
    logger.info("reminder run", extra={**run.as_dict(), "activities": dict(steps)})
    return {**run.as_dict(), "activities": dict(steps)}


@tracer.capture_method
def record_handler(record: SQSRecord) -> str:
    body = json.loads(record.body)
    if "activity_id" in body and "slice" in body:
        return invitation_slice(body)
    detail_type, detail = body.get("detail-type"), body.get("detail") or {}
    raw_time = body.get("time")
    now = moment(raw_time) if raw_time else datetime.now(UTC)
    # "now" is the event's time, so a replay decides the same (quiet hours, cap window).
    outcome = reminders.Dispatcher(now, CARE).on_event(str(detail_type), detail)
    logger.info("care event", extra={"detail_type": detail_type, "member_id": detail.get("member_id"),
                                     "outcome": outcome})
    return outcome


def invitation_slice(body: dict[str, Any]) -> str:
    """One slice of an activity's invitations. "now" is the time the message carries (the job
    run that queued the fan-out, passed on slice to slice): a replay decides the same."""
    run = activities.invite_slice(body, now=moment(str(body["time"])), deps=ACTIVITIES)
    for name in ("sent", "deferred", "capped", "suppressed", "failed"):
        if run.counts and run.counts.get(name):
            metrics.add_metric(name=f"Invitations{name.title()}", unit=MetricUnit.Count, value=run.counts[name])
    logger.info("invitation slice", extra=run.as_dict())
    return run.outcome


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any] | PartialItemFailureResponse:
    if is_scheduled(event):
        return dispatch(event, context)
    if is_queue_batch(event):
        return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                        context=context)
    logger.warning("unexpected event", extra={"keys": sorted(event)[:10]})
    raise ValueError("reminder_dispatch handles its schedule and its queue only (the care API is care_api)")

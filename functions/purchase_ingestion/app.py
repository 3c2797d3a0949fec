"""Consumes the purchases queue: applies each purchase exactly once (vipcare.services.ingestion).

Partial batch responses: a record that fails for a passing reason (throttling, contention,
a publish error) is reported and redelivered; after the queue's maxReceiveCount it goes to the
dead-letter queue, which an alarm watches. A malformed message is recorded as rejected when
it can be identified, and dropped with a log line otherwise: retrying cannot fix it.
"""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from vipcare import wiring
from vipcare.domain.errors import ValidationFailed
from vipcare.domain.purchases import parse_message
from vipcare.services.ingestion import Ingestor, Outcome
from vipcare.tracing import make_tracer

logger = Logger()
tracer = make_tracer()
metrics = Metrics()
# A batch whose records all fail is reported like any partial failure (every id), not raised:
# the same redelivery, without an invocation error per poison batch.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
wired = wiring.purchase_ingestion()  # the real collaborators, once per cold start (no AWS work)
_ingestor: Ingestor | None = None  # built from `wired` on first use; tests put their own here


def _get_ingestor() -> Ingestor:
    global _ingestor
    if _ingestor is None:
        _ingestor = wired.ingestor()
    return _ingestor


@tracer.capture_method
def record_handler(record: SQSRecord) -> str:
    # A queue consumer's one reading of the clock: the moment this delivery is handled.
    now = datetime.now(UTC)
    try:
        purchase, received_at = parse_message(record.body, now=now)
    except ValidationFailed as exc:
        logger.warning("unreadable purchase message dropped", extra={"message_id": record.message_id,
                                                                     "reason": exc.message})
        metrics.add_metric(name="PurchasesUnreadable", unit=MetricUnit.Count, value=1)
        return "unreadable"
    result = _get_ingestor().ingest(purchase, received_at=received_at, now=now)
    metrics.add_metric(name=f"Purchases{result.outcome.value.title()}", unit=MetricUnit.Count, value=1)
    if result.tier_changed_to:
        metrics.add_metric(name="TierUpgrades", unit=MetricUnit.Count, value=1)
    log = logger.warning if result.outcome in (Outcome.REJECTED, Outcome.CONFLICTING) else logger.info
    log("purchase processed", extra={"store_id": purchase.store_id, "transaction_id": purchase.transaction_id,
                                     "member_id": purchase.member_id, "outcome": result.outcome.value,
                                     "reason": result.reason})
    return result.outcome.value


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)

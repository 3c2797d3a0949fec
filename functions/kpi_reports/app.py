"""KPI reports: the report API (store, region or brand; a month or a range), TierChanged
counting from the bus (through KpiEventsQueue), and the hourly check that takes each brand's
monthly VIP snapshot once its month has started.

Thin by design: vipcare.services.kpis does the work.
"""

import json
import time
from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from vipcare import wiring
from vipcare.api.events import is_api_request, is_queue_batch, is_scheduled, moment
from vipcare.api.http import SECURITY, create_app, current_caller, error_responses, request_time, resolve
from vipcare.api.models.kpis import KpiHistory, KpiPolicyIn, KpiPolicyOut, KpiReport
from vipcare.domain.kpi_policy import KpiPolicy
from vipcare.services import basket, kpi_policy, kpis
from vipcare.tracing import make_tracer

logger = Logger()
tracer = make_tracer()
metrics = Metrics()
app = create_app(logger)
wired = wiring.kpi_reports()  # the real repositories, once per cold start


@cache
def care() -> wiring.CareDeps:
    """What the monthly snapshot reads of the care area (the VIP set, profiles): built by the
    scheduled run that uses it, not on the cold start of a report request or a queue batch."""
    return wiring.care()


processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

TAGS = ["reports"]
PERIOD = r"^\d{4}-(0[1-9]|1[0-2])$"


@app.get("/reports/kpis", operation_id="getKpiReport",
         summary="The KPIs of a month: tier mix, churn and retention, complaints, NPS, "
         "contact coverage, SMS", tags=TAGS, security=SECURITY, responses=error_responses(403, 422))
@tracer.capture_method
def kpi_report(
    period: Annotated[str, Query(pattern=PERIOD, description="YYYY-MM (brand time)")],
    store_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    region: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> KpiReport:
    return KpiReport(**kpis.kpi_report(current_caller(app), period, store_id=store_id, region=region,
                                       now=request_time(app), kpis=wired.kpis, complaints=wired.complaints,
                                       directory=wired.directory))


@app.get("/reports/kpis/history", operation_id="getKpiHistory",
         summary="The KPIs month by month (at most 24), oldest first",
         description="Without `from` and `to`: the last 12 months, the current one last. With one of them, "
         "12 months from or up to it.", tags=TAGS,
         security=SECURITY, responses=error_responses(403, 422))
@tracer.capture_method
def kpi_history(
    first: Annotated[str | None, Query(alias="from", pattern=PERIOD, description="first month, YYYY-MM")] = None,
    last: Annotated[str | None, Query(alias="to", pattern=PERIOD, description="last month, YYYY-MM")] = None,
    store_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    region: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> KpiHistory:
    docs = kpis.kpi_history(current_caller(app), first, last, store_id=store_id, region=region,
                            now=request_time(app), kpis=wired.kpis, complaints=wired.complaints,
                            directory=wired.directory)
    return KpiHistory(periods=[KpiReport(**d) for d in docs])


def _policy_out(brand_id: str, policy: KpiPolicy, versions: list[int]) -> KpiPolicyOut:
    return KpiPolicyOut(brand_id=brand_id, versions=versions, **policy.as_doc())


@app.get("/brands/<brand_id>/kpi-policy", operation_id="getKpiPolicy",
         summary="The brand's KPI policy in force: the retention window, the lost rule, the targets (admin)",
         tags=TAGS, security=SECURITY, responses=error_responses(403, 404))
@tracer.capture_method
def get_kpi_policy(brand_id: str) -> KpiPolicyOut:
    current, versions = kpi_policy.get_policy(current_caller(app), brand_id, repo=wired.kpi_policies)
    return _policy_out(brand_id, current, [v.version for v in versions])


@app.put("/brands/<brand_id>/kpi-policy", operation_id="setKpiPolicy",
         summary="Store a new version of the KPI policy (admin)",
         description="Fields left out keep the values in force. Each PUT is a new version; the older ones stay "
         "readable and each monthly snapshot records the version it judged by. Applies from the next snapshot on: "
         "figures already taken are not recomputed.",
         tags=TAGS, security=SECURITY, responses={200: {"description": "Stored as the next version"},
                                                  **error_responses(403, 404, 409)})
@tracer.capture_method
def put_kpi_policy(brand_id: str, request: KpiPolicyIn) -> KpiPolicyOut:
    stored = kpi_policy.put_policy(current_caller(app), brand_id, request.model_dump(mode="json", exclude_none=True),
                                   now=request_time(app), repo=wired.kpi_policies)
    logger.info("kpi policy stored", extra={"brand_id": brand_id, "version": stored.version})
    # versions are numbered 1, 2, ... with no gaps (each is the one in force + 1, put if absent)
    return _policy_out(brand_id, stored, list(range(1, stored.version + 1)))


# The basket aggregate stops this long (at most a fifth of the time left) before the function would
# time out; the next hour resumes it.
BASKET_RESERVE_MS = 30_000


@tracer.capture_method
def snapshot(event: dict[str, Any], context: Any) -> dict[str, Any]:
    now = moment(event["time"])
    run = kpis.run_snapshot(now, care=care(), kpis=wired.kpis, ledger=wired.ledger)
    logger.info("kpi snapshot run", extra=run.as_dict())
    remaining = context.get_remaining_time_in_millis()
    deadline = time.monotonic() + (remaining - min(BASKET_RESERVE_MS, remaining // 5)) / 1000
    aggregated = basket.run_basket(now, store=wired.basket, directory=care().directory,
                                   out_of_time=lambda: time.monotonic() > deadline)
    logger.info("basket aggregate", extra=aggregated.as_dict())
    return {**run.as_dict(), "basket": aggregated.as_dict()}


@tracer.capture_method
def record_handler(record: SQSRecord) -> str:
    body = json.loads(record.body)
    if body.get("detail-type") != "TierChanged":
        return "ignored"
    outcome = kpis.on_tier_changed(body.get("detail") or {}, kpis=wired.kpis, directory=wired.directory)
    logger.info("kpi event", extra={"event_id": (body.get("detail") or {}).get("event_id"), "outcome": outcome})
    return outcome


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any] | PartialItemFailureResponse:
    if is_api_request(event):
        return resolve(app, event, context)
    if is_scheduled(event):
        return snapshot(event, context)
    if is_queue_batch(event):
        return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                        context=context)
    logger.warning("unexpected event", extra={"keys": sorted(event)[:10]})
    raise ValueError("kpi_reports handles API Gateway requests, its schedule and its queue only")

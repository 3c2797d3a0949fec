"""Tier re-evaluation: the brand's tier policy document, the member's tier view, manual-tier
applications, and the daily job (schedule -> one SQS message per review shard -> this same
function processes each shard).

Thin by design: API Gateway events go to the resolver, the scheduled event starts a run, SQS
records are shard work; everything else is vipcare.services.tiers.
"""

import json
from decimal import Decimal
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from vipcare import wiring
from vipcare.api.events import is_api_request, is_queue_batch, is_scheduled, moment
from vipcare.api.http import SECURITY, create_app, current_caller, error_responses, json_response, request_time, resolve
from vipcare.api.models.tiers import (
    MemberTierOut,
    ThresholdAdviceOut,
    TierApplicationDecisionIn,
    TierApplicationIn,
    TierApplicationOut,
    TierDecisionOut,
    TierPolicyIn,
    TierPolicyOut,
    TierRuleOut,
)
from vipcare.config import settings
from vipcare.domain import cadence
from vipcare.domain.tiers import Application, Combinator, TierPolicy, TierRule
from vipcare.services import basket, tiers
from vipcare.tracing import make_tracer

logger = Logger()
tracer = make_tracer()
metrics = Metrics()
app = create_app(logger)
wired = wiring.tier_reevaluation()  # the real repositories, bus, staff topic and shard queue, once per cold start
# A batch whose records all fail is reported like any partial failure (every id), not raised:
# the same redelivery, without an invocation error per poison batch.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

TAGS = ["tiers"]


def _policy_out(brand_id: str, policy: TierPolicy, versions: list[int]) -> TierPolicyOut:
    doc = policy.as_document()
    return TierPolicyOut(brand_id=brand_id, versions=versions or [policy.version],
                         tiers=[TierRuleOut(**t) for t in doc.pop("tiers")], **doc)


def _application_out(a: Application) -> TierApplicationOut:
    return TierApplicationOut(application_id=a.application_id, member_id=a.member_id, target_tier=a.target,
                              reason=a.reason, status=a.status,
                              requested_by=a.requested_by, requested_at=a.requested_at, decided_by=a.decided_by,
                              decided_at=a.decided_at, note=a.note, expires_on=a.expires_on)


@app.get("/brands/<brand_id>/tier-policy", operation_id="getTierPolicy",
         summary="The brand's current tier policy document (admin)",
         tags=TAGS, security=SECURITY, responses=error_responses(403, 404))
@tracer.capture_method
def get_tier_policy(brand_id: str) -> TierPolicyOut:
    policy, versions = tiers.get_policy(current_caller(app), brand_id, repo=wired.tiers)
    return _policy_out(brand_id, policy, versions)


@app.put(
    "/brands/<brand_id>/tier-policy", operation_id="setTierPolicy",
    summary="Store a new version of the tier policy (admin)",
    description="Tiers regular, silver, gold, diamond in order; upgrade thresholds increase with the tier; keep "
    "thresholds (default 80% of upgrade) never exceed upgrade; nothing negative. Each PUT is a new version; old "
    "versions are kept and every tier decision records the version it used.",
    tags=TAGS, security=SECURITY, responses={200: {"description": "Stored as the next version"},
                                             **error_responses(403, 404, 409)},
)
@tracer.capture_method
def put_tier_policy(brand_id: str, request: TierPolicyIn) -> TierPolicyOut:
    policy = TierPolicy(
        version=0, combinator=Combinator(request.combinator), validity_months=request.validity_months,
        warning_days=request.warning_days, max_return_rate=request.max_return_rate,
        referral_credit=request.referral_credit, manual_tier_months=request.manual_tier_months,
        rules=tuple(TierRule(tier=t.tier, spend_12m=t.upgrade_spend_12m, purchases_6m=t.upgrade_purchases_6m,
                             points_multiplier=t.points_multiplier, keep_spend_12m=t.keep_spend_12m,
                             keep_purchases_6m=t.keep_purchases_6m, dedicated_manager=t.dedicated_manager,
                             cadence=cadence.from_document(
                                 t.tier.value, [c.model_dump() for c in t.cadence] if t.cadence is not None else None))
                      for t in request.tiers))
    stored = tiers.put_policy(current_caller(app), brand_id, policy, now=request_time(app), repo=wired.tiers)
    logger.info("tier policy stored", extra={"brand_id": brand_id, "version": stored.version})
    return _policy_out(brand_id, stored, [])


@app.get("/members/<member_id>/tier", operation_id="getMemberTier",
         summary="Tier, validity, what the next tier needs and what keeps this one, decision history",
         tags=TAGS, security=SECURITY, responses=error_responses(404))
@tracer.capture_method
def member_tier(member_id: str) -> MemberTierOut:
    v = tiers.tier_view(current_caller(app), member_id, now=request_time(app), repo=wired.tiers, members=wired.members,
                        directory=wired.directory)
    return MemberTierOut(member_id=v.member_id, tier=v.tier, since=v.since, valid_until=v.valid_until,
                         manual_floor=v.floor, manual_floor_until=v.floor_until, next_review=v.next_review,
                         policy_version=v.policy_version, progress=v.progress,
                         decisions=[TierDecisionOut(outcome=d.outcome, tier_from=d.tier_from, tier_to=d.tier_to,
                                                    actor=d.actor, policy_version=d.policy_version, at=d.at,
                                                    explanation=d.explanation) for d in v.decisions])


@app.post("/members/<member_id>/tier-applications", operation_id="applyForTier",
          summary="Apply for a manual tier (pending a supervisor)",
          tags=TAGS, security=SECURITY,
          responses={201: {"description": "Pending"}, **error_responses(404)})
@tracer.capture_method
def apply_for_tier(member_id: str, request: TierApplicationIn) -> Response[TierApplicationOut]:
    a = tiers.apply_for_tier(current_caller(app), member_id, request.target_tier, request.reason, now=request_time(app),
                             repo=wired.tiers, members=wired.members)
    metrics.add_metric(name="TierApplications", unit=MetricUnit.Count, value=1)
    return json_response(201, _application_out(a).model_dump(mode="json"))


@app.post("/tier-applications/<application_id>/decision", operation_id="decideTierApplication",
          summary="Approve or reject a manual-tier application (supervisor or above, never the requester)",
          tags=TAGS, security=SECURITY, responses=error_responses(403, 404, 409))
@tracer.capture_method
def decide(application_id: str, request: TierApplicationDecisionIn) -> TierApplicationOut:
    a = tiers.decide_application(current_caller(app), application_id, request.decision == "approve", request.note,
                                 expires_on=request.expires_on, now=request_time(app), repo=wired.tiers,
                                 events=wired.events, directory=wired.directory, notifier=wired.notifier)
    logger.info("tier application decided", extra={"application_id": application_id, "status": a.status})
    return _application_out(a)


@app.get("/reports/threshold-advice", operation_id="getThresholdAdvice",
         summary="Suggested tier thresholds from every purchase of the brand (base line and per tier, with the "
                 "figures used)",
         description="The method of docs/domain.md §2: base line = average item price x items per transaction, "
         "plus the intended growth (15-30%); per tier, the suggested upgrade threshold = the tier's average "
         "12-month spend plus the growth. From the brand's daily aggregate over every member and every sale of "
         "the last 12 months (`source.as_of` says when it was taken; null figures before the first one).",
         tags=["reports"], security=SECURITY, responses=error_responses(403))
@tracer.capture_method
def threshold_advice(
    growth: Annotated[Decimal, Query(description="Intended growth, 0.15 to 0.30")] = Decimal("0.2"),
) -> ThresholdAdviceOut:
    return ThresholdAdviceOut(**basket.advice(current_caller(app), growth=growth, store=wired.basket,
                                              tiers=wired.tiers))


# ---- the job -----------------------------------------------------------------------------------




@tracer.capture_method
def shard_record(record: SQSRecord) -> dict[str, Any]:
    body = json.loads(record.body)
    run = tiers.review_shard(moment(body["time"]), int(body["shard"]), page=settings().tier_review_page,
                             repo=wired.tiers, events=wired.events, directory=wired.directory, notifier=wired.notifier,
                             queue=wired.queue)
    for outcome, n in run.outcomes.items():
        metrics.add_metric(name=f"Tier{outcome.title()}", unit=MetricUnit.Count, value=n)
    logger.info("tier review shard", extra=run.as_dict())
    return run.as_dict()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any] | PartialItemFailureResponse:
    if is_api_request(event):
        return resolve(app, event, context)
    if is_scheduled(event):
        started = tiers.start_run(moment(event["time"]), queue=wired.queue)
        logger.info("tier review run started", extra=started)
        return started
    if is_queue_batch(event):
        return process_partial_response(event=event, record_handler=shard_record, processor=processor,
                                        context=context)
    logger.warning("unexpected event", extra={"keys": sorted(event)[:10]})
    raise ValueError("tier_reevaluation handles API Gateway requests, its schedule and its shard queue only")



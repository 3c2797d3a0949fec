"""Purchases API: intake from store apps and POS (validated, then queued), transaction
status, a member's points (balance, expiry, movements, redemptions) and what the till gives
them (tier benefits: discount, allowances, birthday gift, services; the brand's document)."""

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from vipcare import wiring
from vipcare.api.http import SECURITY, create_app, current_caller, error_responses, json_response, request_time, resolve
from vipcare.api.models.base import FieldError
from vipcare.api.models.benefits import (
    BenefitsIn,
    BenefitsOut,
    BenefitUseIn,
    BenefitUseOut,
    MemberBenefits,
    RewardIn,
    RewardListOut,
    RewardOut,
)
from vipcare.api.models.purchases import (
    PointsMovement,
    PointsOut,
    ProcessedStatus,
    PurchaseHistoryOut,
    PurchaseIntakeResult,
    PurchaseRowStatus,
    PurchaseStatusOut,
    PurchaseSubmission,
    RedemptionIn,
    RedemptionOut,
)
from vipcare.api.paging import Cursor, PageSize
from vipcare.api.presenters import (
    benefit_use_out,
    benefits_out,
    member_benefits_out,
    purchase_history_out,
    reward_out,
)
from vipcare.domain.errors import ValidationFailed
from vipcare.domain.purchases import Status
from vipcare.services import benefits, points, purchases, rewards
from vipcare.tracing import make_tracer

logger = Logger()
tracer = make_tracer()
metrics = Metrics()
app = create_app(logger)
wired = wiring.purchase_api()  # the real repositories and queue, once per cold start

# What the status API reports (status_of answers 404 for a sale placeholder still awaiting).
_PROCESSED: dict[Status, ProcessedStatus] = {Status.APPLIED: "applied", Status.HELD: "held",
                                             Status.REJECTED: "rejected"}

_EXAMPLE = {"transaction_id": "POS7-20261123-0042", "store_id": "demo-001", "phone": "+8613800138000",
            "kind": "sale", "amount": "1288.00", "currency": "CNY", "items": 2,
            "occurred_at": "2026-11-23T15:04:05+08:00"}


@app.post(
    "/purchases", operation_id="submitPurchases",
    summary="Record purchases and returns (one, or a batch of up to 100)",
    description="The body is one purchase (PurchaseIn) or a batch (PurchaseBatchIn: {\"purchases\": [...]}). "
    "Each row is validated on its own: valid rows are queued and applied exactly once; invalid rows are "
    "reported by index with the fields at fault. 202 when any row was accepted, 422 when none was.",
    tags=["purchases"],
    security=SECURITY,
    responses={202: {"description": "Accepted rows are queued",
                     "content": {"application/json": {"model": PurchaseIntakeResult}}},
               **error_responses(403, success=None),
               # a batch whose every row is invalid answers 422 with the rows, not an ErrorBody
               422: {"description": "A lone purchase's field is invalid (ErrorBody), or every row of a batch "
                     "is (PurchaseIntakeResult)", "content": {"application/json": {"schema": {"oneOf": [
                         {"$ref": "#/components/schemas/ErrorBody"},
                         {"$ref": "#/components/schemas/PurchaseIntakeResult"}]}}}}},
)
@tracer.capture_method
def submit(body: Annotated[PurchaseSubmission, Body(openapi_examples={
    "sale": {"summary": "One sale", "value": _EXAMPLE},
    "batch": {"summary": "A batch", "value": {"purchases": [_EXAMPLE]}},
})]) -> Response[PurchaseIntakeResult]:
    caller = current_caller(app)
    _, is_batch = purchases.rows_of(body)
    rows = purchases.submit(caller, body, now=request_time(app), members=wired.members, directory=wired.directory,
                            queue=wired.queue)
    accepted = sum(r.status == "accepted" for r in rows)
    metrics.add_metric(name="PurchasesAccepted", unit=MetricUnit.Count, value=accepted)
    metrics.add_metric(name="PurchasesInvalid", unit=MetricUnit.Count, value=len(rows) - accepted)
    if not is_batch and rows[0].status == "invalid":  # a lone purchase answers like any request
        if rows[0].error is not None:
            raise rows[0].error
        first = rows[0].fields[0] if rows[0].fields else {"field": "body", "message": "invalid"}
        raise ValidationFailed(first["message"], field=first["field"])
    result = PurchaseIntakeResult(
        accepted=accepted, invalid=len(rows) - accepted,
        results=[PurchaseRowStatus(index=r.index, transaction_id=r.transaction_id, status=r.status,
                                   fields=[FieldError(field=f["field"], message=f["message"]) for f in r.fields])
                 for r in rows])
    return json_response(202 if accepted else 422, result.model_dump(mode="json"))


@app.get("/purchases/<store_id>/<transaction_id>", operation_id="getPurchaseStatus",
         summary="Status of a transaction: applied, held or rejected",
         tags=["purchases"], security=SECURITY, responses=error_responses(404))
@tracer.capture_method
def purchase_status(store_id: str, transaction_id: str) -> PurchaseStatusOut:
    e = purchases.status_of(current_caller(app), store_id, transaction_id, now=request_time(app), ledger=wired.ledger,
                            directory=wired.directory)
    return PurchaseStatusOut(
        store_id=e.store_id, transaction_id=e.transaction_id, status=_PROCESSED[e.status],
        reason=e.reason, kind=e.kind.value if e.kind else None, member_id=e.member_id,
        amount=f"{e.amount:.2f}" if e.amount is not None else None, points=e.points,
        returned=f"{e.returned:.2f}" if e.kind and e.kind.value == "sale" else None,
        received_at=e.received_at, applied_at=e.applied_at, conflicting_submissions=len(e.conflicts))


@app.get("/members/<member_id>/purchases", operation_id="listMemberPurchases",
         summary="The member's purchase history, newest first, paged",
         description="Every applied sale and return of the member (by when it happened): store, amount, "
         "discount, points earned or clawed back, lines, and for a sale the returns applied against it. "
         "Pass a page's `next` as `after` for the next page. Held or rejected transactions are not history "
         "(GET /purchases/{store_id}/{transaction_id} reports them). Two DynamoDB requests a page.",
         tags=["purchases"], security=SECURITY, responses=error_responses(404))
@tracer.capture_method
def purchase_history(
    member_id: str,
    limit: Annotated[int, Query(description="Page size, 1 to 100")] = purchases.HISTORY_PAGE,
    after: Annotated[str | None, Query(description="The previous page's `next`")] = None,
) -> PurchaseHistoryOut:
    entries, cursor = purchases.purchase_history(current_caller(app), member_id, limit=limit, after=after,
                                                 members=wired.members, ledger=wired.ledger)
    return purchase_history_out(member_id, entries, cursor)


@app.get("/members/<member_id>/points", operation_id="getMemberPoints",
         summary="Points balance, expiring soon and recent movements",
         tags=["points"], security=SECURITY, responses=error_responses(404))
@tracer.capture_method
def member_points(member_id: str) -> PointsOut:
    v = points.points_view(current_caller(app), member_id, now=request_time(app), members=wired.members,
                           ledger=wired.ledger, directory=wired.directory)
    return PointsOut(member_id=v.member_id, balance=v.balance, expiring_30d=v.expiring_30d, lots=v.lots,
                     recent=[PointsMovement(at=m.at, kind=m.kind, points=m.points, reference=m.reference)
                             for m in v.recent])


@app.post("/members/<member_id>/redemptions", operation_id="redeemPoints",
          summary="Spend points (oldest first) on a reward or an amount; once "
          "per redemption_id",
          tags=["points"], security=SECURITY,
          responses=error_responses(404, 409, success=201,
                                    description="Redeemed (or the first result of this redemption_id)"))
@tracer.capture_method
def redeem(member_id: str, request: RedemptionIn) -> Response[RedemptionOut]:
    r = points.redeem(current_caller(app), member_id, request, now=request_time(app), members=wired.members,
                      ledger=wired.ledger, directory=wired.directory, rewards=wired.rewards)
    metrics.add_metric(name="PointsRedeemed", unit=MetricUnit.Count, value=r.points)
    logger.info("points redeemed", extra={"member_id": member_id, "redemption_id": r.redemption_id})
    out = RedemptionOut(member_id=r.member_id, redemption_id=r.redemption_id, reward_id=r.reward_id, points=r.points,
                        balance=r.balance, redeemed_at=r.redeemed_at)
    return json_response(201, out.model_dump(mode="json"))


# ---- benefits at the till --------------------------------------------------------------------


@app.get("/brands/<brand_id>/benefits", operation_id="getBrandBenefits",
         summary="The brand's tier benefits document, current version",
         tags=["benefits"], security=SECURITY, responses=error_responses(404))
@tracer.capture_method
def get_benefits(brand_id: str) -> BenefitsOut:
    return benefits_out(benefits.get_benefits(current_caller(app), brand_id, store=wired.benefits))


@app.put("/brands/<brand_id>/benefits", operation_id="setBrandBenefits",
         summary="Store the next version of the brand's tier benefits (admin)",
         description="Discounts, allowances with a quota per period, the birthday gift and services, per tier; "
                     "a tier left out of a benefit is not entitled to it. Old versions stay.",
         tags=["benefits"], security=SECURITY, responses=error_responses(403, 404, 409))
@tracer.capture_method
def put_benefits(brand_id: str, request: BenefitsIn) -> BenefitsOut:
    stored = benefits.put_benefits(current_caller(app), brand_id, request, now=request_time(app),
                                   store=wired.benefits)
    logger.info("benefits stored", extra={"brand_id": brand_id, "version": stored.version})
    return benefits_out(stored)


@app.get("/members/<member_id>/benefits", operation_id="getMemberBenefits",
         summary="What the till gives this member now: discount, allowances "
         "left, birthday gift, services, points", tags=["benefits"], security=SECURITY, responses=error_responses(404))
@tracer.capture_method
def member_benefits(member_id: str) -> MemberBenefits:
    return member_benefits_out(benefits.member_benefits(current_caller(app), member_id, now=request_time(app),
                                                        store=wired.benefits, directory=wired.directory))


@app.post("/members/<member_id>/benefit-uses", operation_id="useBenefit",
          summary="Use an allowance or the birthday gift; once per use_id",
          tags=["benefits"], security=SECURITY,
          responses=error_responses(404, 409, success=201,
                                    description="Used (or the first result of this use_id)"))
@tracer.capture_method
def use_benefit(member_id: str, request: BenefitUseIn) -> Response[BenefitUseOut]:
    use = benefits.use_benefit(current_caller(app), member_id, request, now=request_time(app),
                               store=wired.benefits, directory=wired.directory)
    metrics.add_metric(name="BenefitsUsed", unit=MetricUnit.Count, value=use.quantity)
    logger.info("benefit used", extra={"member_id": member_id, "benefit_id": use.benefit_id, "use_id": use.use_id})
    return json_response(201, benefit_use_out(use).model_dump(mode="json"))


# ---- the rewards catalogue ---------------------------------------------------------------------


@app.put("/brands/<brand_id>/rewards/<reward_id>", operation_id="setReward",
         summary="Create or replace a reward of the catalogue (admin)",
         description="`points` is its price, `stock` how many are left (null: unlimited), `min_tier` the lowest "
                     "tier that may take it; `active: false` takes it off the shelf.",
         tags=["benefits"], security=SECURITY, responses=error_responses(403, 404))
@tracer.capture_method
def put_reward(brand_id: str, reward_id: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")],
               request: RewardIn) -> RewardOut:
    stored = rewards.put_reward(current_caller(app), brand_id, reward_id, request, now=request_time(app),
                                rewards=wired.rewards)
    return reward_out(stored, None)


@app.get("/rewards", operation_id="listRewards",
         summary="The rewards on offer; with member_id, those the member's tier may take and whether "
         "their points cover each", tags=["benefits"], security=SECURITY, responses=error_responses(404))
@tracer.capture_method
def list_rewards(member_id: Annotated[str | None, Query(max_length=64)] = None, limit: PageSize = 50,
                 after: Cursor = None) -> RewardListOut:
    page = rewards.catalogue(current_caller(app), member_id=member_id, now=request_time(app),
                             members=wired.members, ledger=wired.ledger, directory=wired.directory,
                             rewards=wired.rewards, limit=limit, after=after)
    return RewardListOut(rewards=[reward_out(o.reward, o.affordable) for o in page.items], next=page.next)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return resolve(app, event, context)

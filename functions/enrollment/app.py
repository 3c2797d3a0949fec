"""Enrollment API: enrol members, read and edit their profile card, look them up by phone.

Thin by design: parse the request, call a vipcare service, shape the response.
"""


from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from vipcare import wiring
from vipcare.api import idempotency
from vipcare.api.http import SECURITY, create_app, current_caller, error_responses, json_response, request_time, resolve
from vipcare.api.models.members import EnrolRequest, MemberCard, MemberPatch
from vipcare.api.models.privacy import ErasureReceipt, MemberExport
from vipcare.api.presenters import member_card
from vipcare.services import members, privacy
from vipcare.tracing import make_tracer

logger = Logger()
tracer = make_tracer()
metrics = Metrics()
app = create_app(logger)
wired = wiring.enrollment()  # the real repositories, once per cold start


@cache
def rights() -> wiring.Privacy:
    """Export and erasure reach every table: their repositories (the care area's models among
    them) are built on the first such request, not on every cold start (an enrolment needs none)."""
    return wiring.privacy()


@app.post(
    "/members", operation_id="enrolMember",
    summary="Enrol a member",
    description="The same phone in any format again answers 409 with the existing member_id. "
    "Send an `Idempotency-Key` header to make retries safe.",
    tags=["members"],
    security=SECURITY,
    responses=error_responses(403, 409, success=201, description="Enrolled"),
)
@tracer.capture_method
def enrol(
    request: EnrolRequest,
    idempotency_key: idempotency.KeyHeader = None,
) -> Response[MemberCard]:
    caller = current_caller(app)

    def work() -> dict[str, Any]:
        member = members.enroll(caller, request, now=request_time(app), members=wired.members,
                                directory=wired.directory)
        metrics.add_metric(name="MembersEnrolled", unit=MetricUnit.Count, value=1)
        logger.info("member enrolled", extra={"member_id": member.member_id, "store_id": member.store_id})
        return {"status": 201, "body": member_card(member).model_dump(mode="json")}

    result = idempotency.run_once(idempotency_key, scope=f"{caller.brand_id}#enrol",
                                  payload=request.model_dump(mode="json"), compute=work)
    return json_response(result["status"], result["body"])


@app.get("/members/<member_id>", operation_id="getMember",
         summary="A member's profile card, tier and points", tags=["members"],
         security=SECURITY, responses=error_responses(404))
@tracer.capture_method
def get_member(member_id: str) -> MemberCard:
    return member_card(members.get_member(current_caller(app), member_id, now=request_time(app), members=wired.members,
                                          ledger=wired.ledger, directory=wired.directory))


@app.get("/members", operation_id="findMemberByPhone",
         summary="Look a member up by phone (any format)", tags=["members"], security=SECURITY,
         responses=error_responses(404))
@tracer.capture_method
def find_member(phone: Annotated[str, Query(min_length=1, max_length=32)]) -> MemberCard:
    return member_card(members.find_by_phone(current_caller(app), phone, now=request_time(app), members=wired.members,
                                             ledger=wired.ledger, directory=wired.directory))


@app.patch("/members/<member_id>", operation_id="updateMember",
           summary="Edit profile and consent fields", tags=["members"],
           description="Only profile and consent fields; tier, points, spend and ids cannot be set.",
           security=SECURITY, responses=error_responses(404, 409))
@tracer.capture_method
def patch_member(member_id: str, patch: MemberPatch) -> MemberCard:
    member = members.update_profile(current_caller(app), member_id, patch, now=request_time(app), members=wired.members,
                                    ledger=wired.ledger, directory=wired.directory)
    logger.info("member updated", extra={"member_id": member_id, "fields": sorted(patch.model_fields_set)})
    return member_card(member)


@app.get("/members/<member_id>/export", operation_id="exportMember",
         summary="Everything held about a member (supervisor and above; audited)",
         tags=["members"], security=SECURITY, responses=error_responses(403, 404))
@tracer.capture_method
def export_member(member_id: str) -> MemberExport:
    r = rights()
    return MemberExport(**privacy.export_member(current_caller(app), member_id, now=request_time(app), care=r.care,
                                                 members=r.members, ledger=r.ledger,
                                                 complaints=r.complaints, tiers=r.tiers,
                                                 directory=r.directory, benefits=r.benefits))


@app.delete("/members/<member_id>", operation_id="eraseMember",
            summary="Erase a member's personal data (admin; audited)",
            description="The card becomes an anonymous tombstone, the phone can enrol again, contact notes, "
                        "message texts and complaint texts are removed; the ledger stays, anonymous, so totals "
                        "and KPIs stay right. Again on an erased member: finishes and reports.",
            tags=["members"], security=SECURITY, responses=error_responses(403, 404))
@tracer.capture_method
def erase_member(member_id: str) -> ErasureReceipt:
    r = rights()
    receipt = privacy.erase_member(current_caller(app), member_id, now=request_time(app), care=r.care,
                                   members=r.members, complaints=r.complaints,
                                   directory=r.directory, benefits=r.benefits)
    metrics.add_metric(name="MembersErased", unit=MetricUnit.Count, value=1)
    return ErasureReceipt(**receipt)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    idempotency.register_context(context)
    return resolve(app, event, context)

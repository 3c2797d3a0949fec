"""Directory API: the brand's stores and staff (roles, supervisor links, leave, capacity), and the
account-manager handovers (leave, return, departure: vipcare.services.staffing)."""


from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths

from vipcare import wiring
from vipcare.api.http import SECURITY, create_app, current_caller, error_responses, json_response, request_time, resolve
from vipcare.api.models.directory import (
    HandoverOut,
    StaffCreate,
    StaffOut,
    StaffPatch,
    StoreCreate,
    StoreListOut,
    StoreOut,
)
from vipcare.api.paging import Cursor, PageSize
from vipcare.api.presenters import staff_out, store_out
from vipcare.services import directory, staffing
from vipcare.tracing import make_tracer

logger = Logger()
tracer = make_tracer()
app = create_app(logger)
wired = wiring.directory()  # the real repository, once per cold start


@app.post("/stores", operation_id="addStore", summary="Add a store (admin)", tags=["directory"], security=SECURITY,
          responses=error_responses(403, 409, success=201, description="Created"))
@tracer.capture_method
def add_store(request: StoreCreate) -> Response[StoreOut]:
    store = directory.create_store(current_caller(app), request, now=request_time(app), directory=wired.directory)
    logger.info("store created", extra={"store_id": store.store_id})
    return json_response(201, store_out(store).model_dump(mode="json"))


@app.get("/stores", operation_id="listStores", summary="The brand's stores, by id; paged", tags=["directory"],
         security=SECURITY, responses=error_responses())
@tracer.capture_method
def list_stores(limit: PageSize = 50, after: Cursor = None) -> StoreListOut:
    page = directory.list_stores(current_caller(app), limit=limit, after=after, directory=wired.directory)
    return StoreListOut(stores=[store_out(s) for s in page.items], next=page.next)


@app.post("/staff", operation_id="addStaff",
          summary="Add a staff member (admin)", tags=["directory"], security=SECURITY,
          responses=error_responses(403, 409, success=201, description="Created"))
@tracer.capture_method
def add_staff(request: StaffCreate) -> Response[StaffOut]:
    staff = directory.create_staff(current_caller(app), request, now=request_time(app), directory=wired.directory)
    logger.info("staff created", extra={"staff_id": staff.staff_id, "role": staff.role.value})
    return json_response(201, staff_out(staff).model_dump(mode="json"))


@app.get("/staff/<staff_id>", operation_id="getStaff", summary="A staff member", tags=["directory"], security=SECURITY,
         responses=error_responses(404))
@tracer.capture_method
def get_staff(staff_id: str) -> StaffOut:
    return staff_out(directory.get_staff(current_caller(app), staff_id, directory=wired.directory))


@app.patch("/staff/<staff_id>", operation_id="updateStaff",
           summary="Change role, store, supervisor, leave or capacity (admin)",
           tags=["directory"], security=SECURITY, responses=error_responses(403, 404))
@tracer.capture_method
def patch_staff(staff_id: str, patch: StaffPatch) -> StaffOut:
    staff = directory.update_staff(current_caller(app), staff_id, patch, now=request_time(app),
                                   directory=wired.directory)
    logger.info("staff updated", extra={"staff_id": staff_id, "fields": sorted(patch.model_fields_set)})
    return staff_out(staff)


@app.post("/staff/<staff_id>/leave", operation_id="startLeave",
          summary="Start a leave: open tasks and complaints go to the supervisor",
          tags=["directory"], security=SECURITY, responses=error_responses(403, 404, 409))
@tracer.capture_method
def start_leave(staff_id: str) -> HandoverOut:
    return HandoverOut(**staffing.go_on_leave(current_caller(app), staff_id, now=request_time(app),
                                      deps=wired.staffing).as_dict())


@app.post("/staff/<staff_id>/return", operation_id="endLeave",
          summary="End a leave: the tasks of their own members come back",
          tags=["directory"], security=SECURITY, responses=error_responses(403, 404, 409))
@tracer.capture_method
def end_leave(staff_id: str) -> HandoverOut:
    return HandoverOut(**staffing.come_back(current_caller(app), staff_id, now=request_time(app),
                                    deps=wired.staffing).as_dict())


@app.post("/staff/<staff_id>/departure", operation_id="recordDeparture",
          summary="A departure: every member, open task and open complaint "
          "is reassigned to the store's least-loaded managers", tags=["directory"], security=SECURITY,
          responses=error_responses(403, 404, 409))
@tracer.capture_method
def departure(staff_id: str) -> HandoverOut:
    return HandoverOut(**staffing.depart(current_caller(app), staff_id, now=request_time(app),
                                 deps=wired.staffing).as_dict())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return resolve(app, event, context)

"""The query parameters of every list: `limit` and the opaque `after` cursor, which is the
`next` of the page before (vipcare.store.paging makes and checks it)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

Cursor = Annotated[str | None, Query(max_length=2048, description="`next` of the previous page")]
PageSize = Annotated[int, Query(ge=1, le=200, description="Items per page, 1 to 200")]

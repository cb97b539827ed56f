"""The Responses API: POST /v1/responses, GET and DELETE /v1/responses/{id},
GET /v1/responses/{id}/input_items."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from ...core.endpoints import RESPONSES
from ...store import Principal
from ...wire.responses import (
    InputItemList,
    ResponseCreateRequest,
    ResponseDeleted,
    ResponseObject,
)
from ..auth import authenticate
from ..deps import core_of, responses_of
from ..responses import AUTHENTICATED, METERED
from ..service_calls import http_call, respond
from ..sse import typed_sse_events

router = APIRouter()

#: with ``stream: true`` the answer is typed server-sent events (``event: response.…``)
STREAMED: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The response; with stream: true, its typed server-sent events",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


@router.post(RESPONSES.path, response_model=RESPONSES.response, responses=METERED | STREAMED)
async def create_response(
    body: ResponseCreateRequest,
    request: Request,
    response: Response,
    principal: Principal = Depends(authenticate),
) -> ResponseObject | StreamingResponse:
    call = http_call(request, principal, RESPONSES)
    run = await core_of(request).service(RESPONSES).start(body, call)
    if body.stream:
        return StreamingResponse(
            typed_sse_events(run.stream()), media_type="text/event-stream", headers=run.headers
        )
    answer: ResponseObject = await respond(run, response)
    return answer


@router.get(
    RESPONSES.path + "/{response_id}", response_model=ResponseObject, responses=AUTHENTICATED
)
async def retrieve_response(
    response_id: str, request: Request, principal: Principal = Depends(authenticate)
) -> ResponseObject:
    return responses_of(request).get(response_id, principal.workspace.id)


@router.delete(
    RESPONSES.path + "/{response_id}", response_model=ResponseDeleted, responses=AUTHENTICATED
)
async def delete_response(
    response_id: str, request: Request, principal: Principal = Depends(authenticate)
) -> ResponseDeleted:
    responses_of(request).delete(response_id, principal.workspace.id)
    return ResponseDeleted(id=response_id)


@router.get(
    RESPONSES.path + "/{response_id}/input_items",
    response_model=InputItemList,
    responses=AUTHENTICATED,
)
async def list_input_items(
    response_id: str,
    request: Request,
    limit: int = Query(20, ge=1, le=100),
    after: str | None = Query(None),
    order: Literal["asc", "desc"] = Query("desc"),
    principal: Principal = Depends(authenticate),
) -> InputItemList:
    rows = responses_of(request).input_items(
        response_id, principal.workspace.id, limit=limit + 1, after=after, order=order
    )
    page = rows[:limit]
    return InputItemList(
        data=page,
        first_id=page[0].id if page else None,
        last_id=page[-1].id if page else None,
        has_more=len(rows) > limit,
    )

"""POST /v1/admin/upstreams/adapters: load a LoRA adapter onto a remote model's upstreams."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ...errors import InvalidRequestError, ResourceNotFoundError
from ...store import Principal
from ...wire.common import RequestModel, WireModel
from ..auth import require_admin
from ..deps import remote_of
from ..responses import ADMIN

router = APIRouter(responses=ADMIN)


class UpstreamAdapter(RequestModel):
    name: str
    path: str  # as the upstream machines see it
    model: str  # the remote base model


class UpstreamAdapterLoaded(WireModel):
    object: str = "upstream_adapter"
    name: str
    model: str
    loaded_on: list[str]  # upstream URLs that loaded it
    refused: dict[str, str]  # upstream URL -> why not


@router.post("/v1/admin/upstreams/adapters", response_model=UpstreamAdapterLoaded)
async def load_upstream_adapter(
    body: UpstreamAdapter, request: Request, principal: Principal = Depends(require_admin)
) -> UpstreamAdapterLoaded:
    remote = remote_of(request)
    if remote is None:
        raise ResourceNotFoundError("This gateway has no upstreams", code="no_upstreams")
    outcome = await remote.load_adapter(body.name, body.path, body.model)
    loaded = [url for url, why in outcome.items() if why is None]
    if not loaded:
        raise InvalidRequestError(
            f"No upstream of '{body.model}' could load '{body.name}': "
            + "; ".join(str(v) for v in outcome.values()),
            code="adapter_not_loadable",
        )
    return UpstreamAdapterLoaded(
        name=body.name,
        model=body.model,
        loaded_on=loaded,
        refused={url: str(why) for url, why in outcome.items() if why is not None},
    )

"""GET /v1/models, GET /v1/models/{id}; POST /v1/models/load and /unload (admin keys only: the
models are shared by every workspace)"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ...engine.protocol import ModelInfo
from ...errors import ModelNotFoundError
from ...lora.service import LoraService
from ...store import Principal
from ...wire.common import RequestModel
from ...wire.models import Model, ModelList
from ..auth import authenticate, require_admin
from ..deps import core_of, remote_of
from ..responses import ADMIN, AUTHENTICATED

router = APIRouter(responses=AUTHENTICATED)


class ModelAction(RequestModel):
    model: str


def provider_of(model_id: str) -> str:
    return model_id.split("/", 1)[0] if "/" in model_id else "local"


def to_wire(info: ModelInfo, adapters: dict[str, str], created: int) -> Model:
    return Model(
        id=info.id,
        created=created,
        owned_by=provider_of(info.id),
        provider=provider_of(info.id),
        modality=info.modality,
        status=info.status,
        engine=info.engine,
        context_length=info.context_length,
        size_bytes=info.size_bytes,
        adapters=sorted(name for name, base in adapters.items() if base == info.id),
        error=info.error,
        **info.extra.get("wire", {}),
    )


def list_models(request: Request, principal: Principal) -> list[Model]:
    gw = core_of(request)
    created = int(gw.started_at)
    adapters = visible_adapters(request, principal)
    models = [to_wire(info, adapters, created) for info in gw.models()]
    upstreams = remote_of(request)
    remote = upstreams.adapters() if upstreams else {}
    models += [_adapter(n, b, created, "remote") for n, b in sorted(remote.items())]
    models += [_adapter(n, b, created, gw.engine.name) for n, b in sorted(adapters.items())]
    return models + _aliases(gw.aliases.items(), models)


def _aliases(aliases: dict[str, str], models: list[Model]) -> list[Model]:
    """Each alias as a catalog entry: its target's, under the alias's id, naming the target."""
    by_id = {m.id: m for m in models}
    return [
        by_id[target].model_copy(update={"id": name, "alias_for": target, "adapters": []})
        for name, target in aliases.items()
        if target in by_id
    ]


def visible_adapters(request: Request, principal: Principal) -> dict[str, str]:
    """Adapters this principal may see (a feature may narrow it: ``adapter_filter``)."""
    return core_of(request).visible_adapters(principal)


@router.get("/v1/models")
async def get_models(request: Request, principal: Principal = Depends(authenticate)) -> ModelList:
    return ModelList(data=list_models(request, principal))


@router.post("/v1/models/load", responses=ADMIN)
async def load_model(
    body: ModelAction, request: Request, principal: Principal = Depends(require_admin)
) -> Model:
    gw = core_of(request)
    adapter = _own_adapter(request, principal, body.model)
    if adapter is not None:  # its base model comes with it
        record = await adapter.load(principal, body.model)
        return _adapter(record.name, record.base_model, int(gw.started_at), gw.engine.name)
    info = await gw.load_model(body.model)
    return to_wire(info, visible_adapters(request, principal), int(gw.started_at))


@router.post("/v1/models/unload", responses=ADMIN)
async def unload_model(
    body: ModelAction, request: Request, principal: Principal = Depends(require_admin)
) -> Model:
    gw = core_of(request)
    adapter = _own_adapter(request, principal, body.model)
    if adapter is not None:
        record = adapter.get(principal, body.model)
        if adapter.is_loaded(record):
            await gw.engine.unload_adapter(record.id)
        return Model(id=body.model, status="unloaded", parent=record.base_model)
    if gw.find_model(body.model) is None:
        raise ModelNotFoundError(f"The model '{body.model}' does not exist", param="model")
    await gw.unload_model(body.model)  # its adapters go with it
    info = gw.find_model(body.model)
    return (
        to_wire(info, {}, int(gw.started_at)) if info else Model(id=body.model, status="unloaded")
    )


@router.get("/v1/models/{model_id:path}")
async def get_model(
    model_id: str, request: Request, principal: Principal = Depends(authenticate)
) -> Model:
    for model in list_models(request, principal):
        if model.id == model_id:
            return model
    raise ModelNotFoundError(f"The model '{model_id}' does not exist", param="model")


def _own_adapter(request: Request, principal: Principal, model: str) -> LoraService | None:
    """The LoRA service when ``model`` names an adapter of the caller's workspace."""
    gw = core_of(request)
    lora = gw.installed.get(LoraService)
    if lora is None or gw.find_model(model) is not None:
        return None
    return lora if lora.repository.find(principal.workspace.id, model) is not None else None


def _adapter(name: str, base: str, created: int, engine: str) -> Model:
    """A served LoRA adapter as a catalog entry (a chat model whose parent is its base)."""
    return Model(
        id=name,
        created=created,
        owned_by="adapter",
        provider="adapter",
        modality="chat",
        status="loaded",
        engine=engine,
        parent=base,
    )

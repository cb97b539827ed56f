"""A LoRA job's epoch checkpoints: list them, and promote one to be the adapter.

``GET /v1/adapters/{name}/checkpoints`` and ``POST /v1/adapters/{name}/promote``
(``{"checkpoint": "epoch-2"}``); each checkpoint is also a model, ``name@epoch-N``
(``tokenfactory.lora.checkpoints``).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ...lora.checkpoints import CheckpointServing, served_id
from ...lora.wire import Adapter
from ...store import Principal
from ...wire.adapters import AdapterCheckpoint as Checkpoint
from ...wire.adapters import AdapterCheckpointList as CheckpointList
from ...wire.adapters import PromoteCheckpoint as Promote
from ..auth import authenticate
from ..deps import core_of, lora_of
from ..responses import AUTHENTICATED
from .adapters import view

router = APIRouter(responses=AUTHENTICATED)


def _serving(request: Request) -> CheckpointServing:
    return CheckpointServing(core_of(request), lora_of(request))


@router.get("/v1/adapters/{name}/checkpoints")
async def list_checkpoints(
    name: str, request: Request, principal: Principal = Depends(authenticate)
) -> CheckpointList:
    serving = _serving(request)
    record = lora_of(request).get(principal, name)
    loaded = core_of(request).engine.adapters()
    return CheckpointList(
        data=[
            Checkpoint(
                id=f"{record.name}@epoch-{epoch}",
                adapter=record.name,
                epoch=epoch,
                loaded=served_id(record.id, epoch) in loaded,
            )
            for epoch in serving.epochs(record)
        ]
    )


@router.post("/v1/adapters/{name}/promote")
async def promote_checkpoint(
    name: str, body: Promote, request: Request, principal: Principal = Depends(authenticate)
) -> Adapter:
    record = await _serving(request).promote(principal, name, str(body.checkpoint))
    return view(request, record)

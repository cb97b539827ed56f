"""/v1/admin/aliases: the gateway's model aliases (``--alias NAME=MODEL``), changed at run time.

Aliases are shared by every workspace, as the models are: only an admin key may change them;
any key sees them in ``GET /v1/models`` (an entry with ``alias_for``). Changes last until the
gateway stops; the ones to keep go on the command line (``--alias``) or ``tf.serve(aliases=)``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ...store import Principal
from ...wire.common import RequestModel
from ...wire.models import ModelAlias, ModelAliasList
from ..auth import require_admin
from ..deps import core_of
from ..responses import ADMIN

router = APIRouter(prefix="/v1/admin/aliases", responses=ADMIN)


class AliasTarget(RequestModel):
    model: str


@router.get("")
async def list_aliases(
    request: Request, principal: Principal = Depends(require_admin)
) -> ModelAliasList:
    aliases = core_of(request).aliases.items()
    return ModelAliasList(data=[ModelAlias(alias=n, model=m) for n, m in aliases.items()])


@router.put("/{name:path}")
async def set_alias(
    name: str, body: AliasTarget, request: Request, principal: Principal = Depends(require_admin)
) -> ModelAlias:
    """Make ``name`` answer as ``body.model`` (a served model); replaces an alias of that name."""
    core_of(request).aliases.set(name, body.model)
    return ModelAlias(alias=name, model=body.model)


@router.delete("/{name:path}")
async def delete_alias(
    name: str, request: Request, principal: Principal = Depends(require_admin)
) -> ModelAlias:
    model = core_of(request).aliases.remove(name)
    return ModelAlias(alias=name, model=model)

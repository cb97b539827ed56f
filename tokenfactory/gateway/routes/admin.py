"""/v1/admin: workspaces, tiers, wallets and keys. Only an admin key may call these.

An admin key is a key created with ``is_admin`` (``tokenfactory keys create --admin``, or the key
of whoever started the gateway). A key
is shown once, in the response that creates it; listings show its prefix only.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt

from ...errors import InvalidRequestError
from ...store import Principal, Workspace
from ...wire.usage import (
    ApiKeyList,
    ApiKeyObject,
    CreatedApiKey,
    Limits,
    RevokedKey,
    UsageSummary,
    WorkspaceList,
    WorkspaceObject,
)
from ..auth import require_admin
from ..deps import core_of, ratelimit_of
from ..responses import ADMIN
from .usage import UsageFilter, usage_summary

router = APIRouter(prefix="/v1/admin", responses=ADMIN)

DEFAULT_NEW_TIER = "standard"
#: A wallet holds at most a billion dollars (10**15 micro-dollars, well inside SQLite's int64).
MAX_BALANCE_USD = 1_000_000_000
MAX_BALANCE_MICROS = MAX_BALANCE_USD * 1_000_000
BalanceUsd = StrictFloat | None
USD = Field(None, ge=0, le=MAX_BALANCE_USD, allow_inf_nan=False, description="in dollars")


class WorkspaceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")
    tier: str = DEFAULT_NEW_TIER
    balance_usd: BalanceUsd = USD


class WorkspaceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tier: str | None = None
    balance_usd: BalanceUsd = USD
    balance_micros: StrictInt | None = Field(None, ge=0, le=MAX_BALANCE_MICROS)


class TopUp(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount_usd: StrictFloat | StrictInt = Field(
        gt=0, le=MAX_BALANCE_USD, allow_inf_nan=False, description="dollars to add"
    )


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=100)
    admin: bool = False


def usd_to_micros(value: float | None) -> int | None:
    if value is None:
        return None
    try:
        micros = int(Decimal(str(value)) * 1_000_000)
    except InvalidOperation as exc:
        raise InvalidRequestError(f"Invalid balance: {value}", param="balance_usd") from exc
    if micros < 0:
        raise InvalidRequestError("A balance cannot be negative", param="balance_usd")
    return micros


def _check_tier(request: Request, tier: str) -> str:
    tiers = ratelimit_of(request).tiers
    if tier not in tiers:
        raise InvalidRequestError(
            f"Unknown tier '{tier}'; choose from {', '.join(tiers)}", param="tier"
        )
    return tier


def workspace_json(request: Request, ws: Workspace) -> WorkspaceObject:
    tier = ratelimit_of(request).tier(ws.tier)
    return WorkspaceObject(
        id=ws.id,
        name=ws.name,
        tier=ws.tier,
        limits=Limits(requests_per_minute=tier.rpm, tokens_per_minute=tier.tpm),
        balance_micros=ws.balance_micros,
        balance_usd=None if ws.balance_micros is None else ws.balance_micros / 1e6,
    )


def key_json(row: dict, workspace: Workspace) -> ApiKeyObject:
    return ApiKeyObject(
        id=row["id"],
        workspace=workspace.name,
        prefix=row["prefix"],
        name=row["name"],
        admin=bool(row["is_admin"]),
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


@router.get("/workspaces", response_model=WorkspaceList)
async def list_workspaces(request: Request, _: Principal = Depends(require_admin)) -> WorkspaceList:
    keys = core_of(request).keys
    return WorkspaceList(data=[workspace_json(request, w) for w in keys.list_workspaces()])


@router.post("/workspaces", response_model=WorkspaceObject)
async def create_workspace(
    body: WorkspaceCreate, request: Request, _: Principal = Depends(require_admin)
) -> WorkspaceObject:
    keys = core_of(request).keys
    if keys.find_workspace(body.name) is not None:
        raise InvalidRequestError(
            f"Workspace '{body.name}' already exists", param="name", code="workspace_exists"
        )
    ws = keys.create_workspace(body.name, tier=_check_tier(request, body.tier))
    if body.balance_usd is not None:
        ws = keys.set_balance(ws.id, usd_to_micros(body.balance_usd))
    return workspace_json(request, ws)


@router.get("/workspaces/{workspace}", response_model=WorkspaceObject)
async def get_workspace(
    workspace: str, request: Request, _: Principal = Depends(require_admin)
) -> WorkspaceObject:
    return workspace_json(request, core_of(request).keys.workspace(workspace))


@router.patch("/workspaces/{workspace}", response_model=WorkspaceObject)
async def update_workspace(
    workspace: str, body: WorkspaceUpdate, request: Request, _: Principal = Depends(require_admin)
) -> WorkspaceObject:
    keys = core_of(request).keys
    ws = keys.workspace(workspace)
    given = body.model_fields_set
    if "balance_usd" in given and "balance_micros" in given:
        raise InvalidRequestError("Give balance_usd or balance_micros, not both")
    if body.tier is not None:
        ws = keys.set_tier(ws.id, _check_tier(request, body.tier))
    if "balance_usd" in given:
        ws = keys.set_balance(ws.id, usd_to_micros(body.balance_usd))
    if "balance_micros" in given:
        if body.balance_micros is not None and body.balance_micros < 0:
            raise InvalidRequestError("A balance cannot be negative", param="balance_micros")
        ws = keys.set_balance(ws.id, body.balance_micros)
    return workspace_json(request, ws)


@router.post("/workspaces/{workspace}/top-up", response_model=WorkspaceObject)
async def top_up_workspace(
    workspace: str, body: TopUp, request: Request, _: Principal = Depends(require_admin)
) -> WorkspaceObject:
    """Add to the wallet (atomically: charges made meanwhile stay charged)."""
    micros = usd_to_micros(float(body.amount_usd))
    assert micros is not None
    keys = core_of(request).keys
    ws = keys.top_up(workspace, micros, limit_micros=MAX_BALANCE_MICROS)
    return workspace_json(request, ws)


@router.get("/workspaces/{workspace}/keys", response_model=ApiKeyList)
async def list_keys(
    workspace: str, request: Request, _: Principal = Depends(require_admin)
) -> ApiKeyList:
    keys = core_of(request).keys
    ws = keys.workspace(workspace)
    return ApiKeyList(data=[key_json(r, ws) for r in keys.list_keys(ws.id)])


@router.post("/workspaces/{workspace}/keys", response_model=CreatedApiKey)
async def create_key(
    workspace: str, body: KeyCreate, request: Request, _: Principal = Depends(require_admin)
) -> CreatedApiKey:
    keys = core_of(request).keys
    ws = keys.workspace(workspace)
    key_id, key = keys.create_key(ws.name, name=body.name, is_admin=body.admin)
    row = keys.find_key(key_id)
    assert row is not None
    return CreatedApiKey(**key_json(row, ws).model_dump(), key=key)


@router.delete("/keys/{key_id}", response_model=RevokedKey)
async def revoke_key(
    key_id: str, request: Request, _: Principal = Depends(require_admin)
) -> RevokedKey:
    core_of(request).keys.revoke_key(key_id)
    return RevokedKey(id=key_id)


@router.get("/workspaces/{workspace}/usage", response_model=UsageSummary)
async def workspace_usage(
    workspace: str,
    request: Request,
    query: UsageFilter = Depends(),
    group_by: str | None = Query(None, description="comma-separated: day, model, tier, endpoint"),
    _: Principal = Depends(require_admin),
) -> UsageSummary:
    ws = core_of(request).keys.workspace(workspace)
    return usage_summary(request, ws, query, group_by)

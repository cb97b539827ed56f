"""Usage reports (``/v1/usage``, ``/v1/usage/timeseries``) and workspace administration
(``/v1/admin``) as the API returns them."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, StrictInt

from .common import WireModel
from .tokenize import PriceEntry


class WorkspaceRef(WireModel):
    id: str
    name: str
    tier: str


class UsageSums(WireModel):
    requests: int
    errors: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_usd: float
    cost_pico: int


class UsageRow(UsageSums):
    """One group's sums; its group keys (day, model, tier, endpoint) are extra fields."""


class MonthlyCap(WireModel):
    """A workspace's monthly token cap this calendar month (UTC)."""

    tokens: int
    used: int
    remaining: int
    resets_at: int


class CapUpdate(WireModel):
    """``PUT /v1/admin/workspaces/{workspace}/monthly-cap``: tokens a month, null for none."""

    model_config = ConfigDict(extra="forbid")
    monthly_tokens: StrictInt | None = Field(ge=0, le=10**15)


class ModelPrice(WireModel):
    model: str
    input: float  # USD per 1M input tokens (real time; batch tiers discount it)
    output: float


class ModelPriceList(WireModel):
    object: Literal["list"] = "list"
    unit: Literal["usd_per_million_tokens"] = "usd_per_million_tokens"
    tiers: dict[str, PriceEntry]
    data: list[ModelPrice]


class UsageSummary(WireModel):
    object: Literal["usage"] = "usage"
    workspace: WorkspaceRef
    start: float | None
    end: float | None
    group_by: list[str]
    data: list[UsageRow]
    total: UsageSums
    balance_usd: float | None = None
    monthly_cap: MonthlyCap | None = None


class UsagePoint(WireModel):
    t: int
    requests: int
    errors: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_p50_ms: float | None = None
    latency_p90_ms: float | None = None
    latency_p99_ms: float | None = None
    ttft_p50_ms: float | None = None
    ttft_p90_ms: float | None = None


class UsageTimeseries(WireModel):
    object: Literal["usage.timeseries"] = "usage.timeseries"
    workspace: WorkspaceRef
    bucket: str
    bucket_seconds: int
    start: float | None
    end: float | None
    models: list[str]
    tiers: list[str]
    data: list[UsagePoint]


class Limits(WireModel):
    requests_per_minute: int | None
    tokens_per_minute: int | None


class WorkspaceObject(WireModel):
    object: Literal["workspace"] = "workspace"
    id: str
    name: str
    tier: str
    limits: Limits
    balance_micros: int | None = None
    balance_usd: float | None = None


class WorkspaceList(WireModel):
    object: Literal["list"] = "list"
    data: list[WorkspaceObject]


class ApiKeyObject(WireModel):
    object: Literal["api_key"] = "api_key"
    id: str
    workspace: str
    prefix: str
    name: str | None = None
    admin: bool = False
    created_at: float
    revoked_at: float | None = None


class CreatedApiKey(ApiKeyObject):
    key: str  # shown once, in the response that creates it


class ApiKeyList(WireModel):
    object: Literal["list"] = "list"
    data: list[ApiKeyObject]


class RevokedKey(WireModel):
    object: Literal["api_key"] = "api_key"
    id: str
    revoked: bool = True

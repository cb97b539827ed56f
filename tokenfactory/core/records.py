"""The plain records the core passes around: what a call is, what it spends, what it cost."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ..engine.protocol import PRIORITY_INTERACTIVE, Engine
from ..store import Principal


class Spent(Protocol):
    """What one generation spent, as metering reads it (a service's ``GenerationResult``)."""

    @property
    def prompt_tokens(self) -> int: ...

    @property
    def completion_tokens(self) -> int: ...

    @property
    def latency_s(self) -> float | None: ...

    @property
    def ttft_s(self) -> float | None: ...


@dataclass
class UsageRecord:
    """What one finished request cost; written to the usage ledger and sent to observers."""

    principal: Principal
    endpoint: str
    model: str
    tier: str  # realtime | batch_1h | batch_24h | embeddings
    prompt_tokens: int
    completion_tokens: int
    latency_s: float | None
    ttft_s: float | None
    status: int
    request_id: str | None = None
    created_at: float = field(default_factory=time.time)
    user: str | None = None  # the request's `user` field or X-TF-User header


@dataclass
class Admission:
    """What a request is about to spend, checked before it runs."""

    principal: Principal
    endpoint: str
    model: str
    tier: str
    estimated_tokens: int


@dataclass(frozen=True)
class Target:
    """Where a request's model runs: the engine (the backend seam), its model id there and
    the adapter on it. A model resolver may return a target on another engine (a remote one)."""

    engine: Engine
    model: str
    adapter: str | None = None


@dataclass
class Call:
    """One request through a service, from any door (an HTTP route, a batch line, the CLI).

    ``defer_usage`` keeps the usage records in ``usage`` instead of committing them, for a
    caller that commits them together with its own result (a batch line). ``input_bytes``: the
    size of the request body, when the door knows it (a large one is prepared off the loop).
    """

    principal: Principal
    endpoint: str
    tier: str = "realtime"
    priority: int = PRIORITY_INTERACTIVE
    request_id: str | None = None
    defer_usage: bool = False
    usage: list[UsageRecord] = field(default_factory=list)
    user: str | None = None  # the end user the request is for (`user` or X-TF-User)
    input_bytes: int = 0

    def record(self, model: str, results: Sequence[Spent], status: int = 200) -> UsageRecord:
        return UsageRecord(
            principal=self.principal,
            endpoint=self.endpoint,
            model=model,
            tier=self.tier,
            prompt_tokens=sum(r.prompt_tokens for r in results),
            completion_tokens=sum(r.completion_tokens for r in results),
            latency_s=max((r.latency_s or 0.0) for r in results) if results else None,
            ttft_s=min((r.ttft_s for r in results if r.ttft_s is not None), default=None),
            status=status,
            request_id=self.request_id,
            user=self.user,
        )


@dataclass(frozen=True)
class JobEvent:
    """A job reached an end: ``type`` is OpenAI's webhook event name (``batch.completed``,
    ``fine_tuning.job.succeeded``, ...), ``job_id`` the batch or adapter id."""

    workspace_id: str
    type: str
    job_id: str

"""The gateway object: engine, store and services shared by every route.

One ``Gateway`` serves both the in-kernel server (``tf.serve()``) and the CLI server. Features
hook in here rather than in the routes: ``admission`` checks run before a request reaches the
engine (rate limits, wallet), ``usage_sinks`` receive a record after it finished.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ..engine.catalog import a_modality
from ..engine.protocol import Engine, ModelInfo
from ..errors import InvalidRequestError, ModelLoadingError, ModelNotFoundError, ServiceError
from ..store import KeyStore, Principal, Store

log = logging.getLogger("tokenfactory.gateway")


@dataclass
class UsageRecord:
    """What one finished request cost; sent to every usage sink."""

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


@dataclass
class Admission:
    """What a request is about to spend, checked before it runs."""

    principal: Principal
    endpoint: str
    model: str
    tier: str
    estimated_tokens: int


AdmissionCheck = Callable[[Admission], Awaitable[dict[str, str] | None]]
UsageSink = Callable[[UsageRecord], Awaitable[None] | None]
ModelResolver = Callable[[str, str, "Principal | None"], "tuple[str, str | None] | None"]


class Gateway:
    def __init__(self, engine: Engine, store: Store) -> None:
        self.engine = engine
        self.store = store
        self.keys = KeyStore(store)
        self.admission_checks: list[AdmissionCheck] = []
        self.usage_sinks: list[UsageSink] = []
        self.model_resolvers: list[ModelResolver] = []
        self.services: dict[str, Any] = {}  # feature services by name (batch runner, trainer)
        self.startup_hooks: list[Callable[[], Awaitable[None]]] = []  # run once the engine is ready
        self.shutdown_hooks: list[Callable[[], Awaitable[None]]] = []
        self.started_at = time.time()
        self.engine_error: str | None = None
        self._ready = asyncio.Event()

    # -- lifecycle -------------------------------------------------------------------------
    async def start_engine(self) -> None:
        try:
            await self.engine.start()
        except ServiceError as exc:  # an expected failure (unknown model...): its message says why
            self.engine_error = f"{type(exc).__name__}: {exc}"
            log.info("engine failed to start: %s", self.engine_error)
            return
        except Exception as exc:  # a failed load keeps the server up and says why
            self.engine_error = f"{type(exc).__name__}: {exc}"
            log.exception("engine failed to start")
            return
        self._ready.set()
        for hook in self.startup_hooks:
            try:
                await hook()
            except Exception:
                log.exception("startup hook failed")

    async def shutdown(self) -> None:
        for hook in reversed(self.shutdown_hooks):
            try:
                await hook()
            except Exception:
                log.exception("shutdown hook failed")
        await self.engine.shutdown()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    async def wait_ready(self) -> None:
        await self._ready.wait()

    # -- models ----------------------------------------------------------------------------
    def resolve_model(
        self, model: str, modality: str, principal: Principal | None = None
    ) -> tuple[str, str | None]:
        """Map a request's model id to ``(base model id, adapter name or None)``."""
        for resolver in self.model_resolvers:
            found = resolver(model, modality, principal)
            if found is not None:
                return found
        info = self.find_model(model)
        if info is not None:
            if info.modality != modality:
                raise InvalidRequestError(
                    f"Model '{model}' is {a_modality(info.modality)} model and cannot serve"
                    " this endpoint",
                    param="model",
                    code="model_not_supported",
                )
            if info.status == "loading" or (not self.ready and info.status != "loaded"):
                raise ModelLoadingError(f"Model '{model}' is still loading; retry shortly")
            if info.status != "loaded":
                raise ModelLoadingError(
                    f"Model '{model}' is not loaded (status: {info.status})"
                    + (f": {info.error}" if info.error else "")
                )
            return model, None
        adapters = self.engine.adapters()
        if model in adapters and modality == "chat":
            return adapters[model], model
        raise ModelNotFoundError(
            f"The model '{model}' does not exist; GET /v1/models lists the available ones",
            param="model",
        )

    def find_model(self, model: str) -> ModelInfo | None:
        from ..remote.gateway_glue import remote_models

        return next((m for m in self.engine.models() + remote_models(self) if m.id == model), None)

    # -- metering hooks --------------------------------------------------------------------
    async def admit(self, admission: Admission) -> dict[str, str]:
        """Run the admission checks; returns response headers they want set (rate limits)."""
        headers: dict[str, str] = {}
        for check in self.admission_checks:
            extra = await check(admission)
            if extra:
                headers.update(extra)
        return headers

    async def record_usage(self, record: UsageRecord) -> None:
        for sink in self.usage_sinks:
            try:
                result = sink(record)
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("usage sink failed")

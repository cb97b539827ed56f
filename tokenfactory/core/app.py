"""The application core: engine, store, keys, and the ports its parts plug into.

One ``Core`` serves every door: the HTTP gateway (in-kernel ``tf.serve()`` and the CLI
server), the batch runner, the trainer and tests, with no HTTP in it. It names nothing above
it: the inference services and the features register themselves (``install(core)``) in
``installed`` (by class) and on its ports (``core.ports``); one that is not installed is a 503
where a door asks for it (:func:`need`), never a ``KeyError``.

Hooks: ``admission_checks`` run before a request reaches the engine (rate limits, wallet);
the ``meter`` (a ``UsageLedger``) writes each usage record (and its wallet debit) inside a
store transaction, so a caller can commit its own result in the same one; ``usage_observers``
see each record after it is committed; ``backends`` serve models the engine does not.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

from ..engine.catalog import a_modality
from ..engine.protocol import Engine, ModelInfo
from ..errors import (
    InvalidRequestError,
    ModelLoadingError,
    ModelNotFoundError,
    ServiceError,
)
from ..store import KeyStore, Principal, Store
from .aliases import ModelAliases
from .endpoints import Endpoint, InferenceDoor, Req, Resp, endpoint_for_modality
from .in_flight import InFlight
from .ports import Installed, ModelBackend, UsageLedger, need
from .records import Admission, Call, JobEvent, Spent, Target, UsageRecord

log = logging.getLogger("tokenfactory.core")

AdmissionCheck = Callable[[Admission], Awaitable[dict[str, str] | None]]
UsageObserver = Callable[[UsageRecord], None]
ModelResolver = Callable[[str, str, "Principal | None"], "Target | None"]
AdapterFilter = Callable[[dict[str, str], Principal], dict[str, str]]

__all__ = ["Core", "need"]


class Core:
    def __init__(self, engine: Engine, store: Store) -> None:
        self.engine = engine
        self.store = store
        self.keys = KeyStore(store)
        #: the inference services by endpoint path (``serve``/``service``)
        self._services: dict[str, object] = {}
        #: the features and their parts, by class (see ``core.ports.Installed``)
        self.installed = Installed()
        # ports
        self.meter: UsageLedger | None = None  # the usage ledger (usage.install)
        self.backends: list[ModelBackend] = []  # models served elsewhere (remote.install)
        self.in_flight = InFlight()  # streams another client may stop (/v1/requests/{id})
        self.adapter_filter: AdapterFilter | None = None
        # hooks
        self.admission_checks: list[AdmissionCheck] = []
        self.usage_observers: list[UsageObserver] = []
        self.job_observers: list[Callable[[JobEvent], None]] = []  # a batch or training ended
        self.model_resolvers: list[ModelResolver] = []
        #: other names for served models (``--alias NAME=MODEL``), resolved in ``real_model``
        self.aliases = ModelAliases(lambda: [m.id for m in self.models()])
        # once the engine started, before the gateway says it is ready
        self.startup_hooks: list[Callable[[], Awaitable[None]]] = []
        self.shutdown_hooks: list[Callable[[], Awaitable[None]]] = []
        # after a model was (re)loaded: a feature puts back what sits on it (LoRA adapters)
        self.model_loaded_hooks: list[Callable[[str], Awaitable[None]]] = []
        self.started_at = time.time()
        self.engine_error: str | None = None
        self._ready = asyncio.Event()

    # -- inference services -----------------------------------------------------------------
    def serve(self, endpoint: Endpoint[Req, Resp], service: InferenceDoor[Req, Resp]) -> None:
        """Register the service that runs ``endpoint`` (``services.install`` does)."""
        self._services[endpoint.path] = service

    def serves(self, endpoint: Endpoint[Any, Any]) -> bool:
        return endpoint.path in self._services

    def service(self, endpoint: Endpoint[Req, Resp]) -> InferenceDoor[Req, Resp]:
        """The service that runs ``endpoint``; a 503 where none was installed."""
        found = need(self._services.get(endpoint.path), f"{endpoint.path} (its service)")
        return cast("InferenceDoor[Req, Resp]", found)

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
        # Ready only once every hook ran: the adapters trained before are attached again (and
        # the batch runner, which waits for readiness, runs no line naming one before that).
        for hook in self.startup_hooks:
            try:
                await hook()
            except Exception:
                log.exception("startup hook failed")
        self._ready.set()

    async def shutdown(self) -> None:
        for hook in reversed(self.shutdown_hooks):
            try:
                await hook()
            except Exception:
                log.exception("shutdown hook failed")
        await self.engine.shutdown()

    def job_ended(self, event: JobEvent) -> None:
        """Tell the observers (webhooks) that a job ended; an observer's failure is logged."""
        for observer in self.job_observers:
            try:
                observer(event)
            except Exception:
                log.exception("job observer failed on %s", event)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    async def wait_ready(self) -> None:
        await self._ready.wait()

    # -- models ----------------------------------------------------------------------------
    def real_model(self, model: str) -> str:
        """The model id a request's ``model`` names: an alias's target, else itself. Every
        door resolves through here (``resolve_model``, ``backend_for``, the services)."""
        return self.aliases.target(model)

    def resolve_model(
        self, model: str, modality: str, principal: Principal | None = None
    ) -> Target:
        """Where a request's model id (or alias) runs: its engine, base model id and adapter."""
        model = self.real_model(model)
        for resolver in self.model_resolvers:
            found = resolver(model, modality, principal)
            if found is not None:
                return found
        info = self.find_model(model)
        if info is not None:
            if info.modality != modality:
                raise InvalidRequestError(
                    f"Model '{model}' is {a_modality(info.modality)} model and cannot serve"
                    f" this endpoint; use {endpoint_for_modality(info.modality)} with it",
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
            return Target(self.engine, model)
        adapters = self.engine.adapters()
        if model in adapters and modality == "chat":
            return Target(self.engine, adapters[model], model)
        raise ModelNotFoundError(
            f"The model '{model}' does not exist; GET /v1/models lists the available ones",
            param="model",
        )

    async def load_model(self, model: str) -> ModelInfo:
        """Load a model into the engine, then let the features attach what belongs on it."""
        info = await self.engine.load_model(model)
        for hook in self.model_loaded_hooks:
            try:
                await hook(model)
            except Exception:
                log.exception("model-loaded hook failed for %s", model)
        return self.find_model(model) or info

    async def unload_model(self, model: str) -> None:
        """Unload a model; every engine drops the adapters that sit on it with it."""
        await self.engine.unload_model(model)

    def models(self) -> list[ModelInfo]:
        """Every model served here: the engine's, then the remote ones."""
        return self.engine.models() + [m for b in self.backends for m in b.models()]

    def find_model(self, model: str) -> ModelInfo | None:
        return next((m for m in self.models() if m.id == model), None)

    def backend_for(self, model: str) -> ModelBackend | None:
        """The backend that serves ``model`` when the local engine does not, else None."""
        model = self.real_model(model)
        return next((b for b in self.backends if b.serves(model)), None)

    def visible_adapters(self, principal: Principal) -> dict[str, str]:
        """Adapters this principal may see: name -> base model (a feature may narrow it)."""
        adapters = self.engine.adapters()
        return self.adapter_filter(adapters, principal) if self.adapter_filter else adapters

    # -- metering --------------------------------------------------------------------------
    async def admit(self, admission: Admission) -> dict[str, str]:
        """Run the admission checks; returns the headers they want set (rate limits)."""
        headers: dict[str, str] = {}
        for check in self.admission_checks:
            extra = await check(admission)
            if extra:
                headers.update(extra)
        return headers

    def commit_usage(
        self,
        records: Sequence[UsageRecord],
        together_with: Callable[[sqlite3.Connection], bool] | None = None,
    ) -> bool:
        """Write usage records in one transaction, with ``together_with``'s own writes.

        ``together_with`` returns False when it had nothing to commit (a batch line that
        already has a result); then no usage is written either. Observers hear of the
        records once they are committed.
        """
        with self.store.transaction() as conn:
            if together_with is not None and not together_with(conn):
                return False
            if self.meter is not None:
                for record in records:
                    self.meter.write(record, conn)
        for record in records:
            self.observe(record)
        return True

    def settle(self, call: Call, model: str, results: Sequence[Spent], status: int = 200) -> None:
        """Meter one call: commit its usage now, or keep it on the call when it is deferred."""
        record = call.record(model, results, status)
        if call.defer_usage:
            call.usage.append(record)
            return
        try:
            self.commit_usage([record])
        except Exception:
            log.exception("recording usage failed")

    def release_admissions(self) -> None:
        """Give back what this task's unsettled admissions hold (a run that never finished)."""
        if self.meter is not None:
            self.meter.release_current()

    async def record_usage(self, record: UsageRecord) -> None:
        try:
            self.commit_usage([record])
        except Exception:
            log.exception("recording usage failed")

    def observe(self, record: UsageRecord) -> None:
        for observer in self.usage_observers:
            try:
                observer(record)
            except Exception:
                log.exception("usage observer failed")

"""Every remote model of a gateway: its replica pool, health checks and catalog entry."""

from __future__ import annotations

from ..engine.protocol import Modality, ModelInfo, ModelStatus
from ..errors import InvalidRequestError, ModelNotFoundError
from .adapters import capability, load_on
from .config import UpstreamSpec
from .health import HealthChecker
from .pool import ReplicaPool
from .replica import Replica

ENGINE_NAME = "remote"


class RemoteModels:
    def __init__(self, specs: list[UpstreamSpec], health_interval_s: float = 2.0) -> None:
        self.replicas = [Replica(spec) for spec in specs]
        self.pools: dict[str, ReplicaPool] = {}
        for replica in self.replicas:
            pool = self.pools.setdefault(replica.spec.model, ReplicaPool(replica.spec.model, []))
            pool.replicas.append(replica)
        self.health = HealthChecker(self.replicas, health_interval_s)
        # adapter name -> (its base model, why no upstream of that model could load it)
        self.unloadable: dict[str, tuple[str, str]] = {}

    async def start(self) -> None:
        """First health round (so /v1/models is right from the start), then checks go on."""
        await self.health.check_all()
        self.health.start()

    async def shutdown(self) -> None:
        await self.health.stop()
        for replica in self.replicas:
            await replica.close()

    # -- lookup ----------------------------------------------------------------------------
    def serves(self, model: str) -> bool:
        return (
            model in self.pools or model in self.unloadable or self._adapter_pool(model) is not None
        )

    def pool_for(self, model: str) -> ReplicaPool:
        """The replicas that can serve ``model``: a base model's, or those holding the adapter."""
        pool = self.pools.get(model) or self._adapter_pool(model)
        if pool is None and model in self.unloadable:
            base, why = self.unloadable[model]
            raise InvalidRequestError(
                f"The adapter '{model}' cannot be served: no upstream of '{base}' could load"
                f" it ({why})",
                param="model",
                code="adapter_not_loadable",
            )
        if pool is None:
            raise ModelNotFoundError(f"The model '{model}' does not exist", param="model")
        return pool

    def modality(self, model: str) -> Modality | None:
        """``chat`` or ``embedding`` where the config or the upstream says; None when unknown
        (vLLM's ``/v1/models`` does not say). Adapters are chat models."""
        pool = self.pools.get(model)
        if pool is None:
            return "chat"
        found = next((r.spec.modality for r in pool.replicas if r.spec.modality), None) or next(
            (r.modality for r in pool.replicas if r.modality), None
        )
        if found in ("chat", "embedding"):
            return "embedding" if found == "embedding" else "chat"
        return None

    def _adapter_pool(self, name: str) -> ReplicaPool | None:
        holders = [r for r in self.replicas if name in r.adapters]
        return ReplicaPool(name, holders, adapter=True) if holders else None

    async def load_adapter(self, name: str, path: str, base_model: str) -> dict[str, str | None]:
        """Load a LoRA adapter (a path the upstreams can read) on every replica of its base
        model; per replica URL, None when it loaded, else why not. Requests for the adapter go
        only to the replicas holding it; with none, they get a 400 saying why."""
        pool = self.pools.get(base_model)
        if pool is None:
            raise ModelNotFoundError(f"'{base_model}' is not a remote model here", param="model")
        outcome = {r.url: await load_on(r, name, path) for r in pool.replicas}
        if all(outcome.values()):
            self.unloadable[name] = (base_model, "; ".join(str(v) for v in outcome.values()))
        else:
            self.unloadable.pop(name, None)
        return outcome

    # -- catalog ---------------------------------------------------------------------------
    def models(self) -> list[ModelInfo]:
        return [self._info(model, pool.replicas) for model, pool in self.pools.items()]

    def adapters(self) -> dict[str, str]:
        """Adapters some upstream lists: name -> base model id."""
        return {name: r.spec.model for r in self.replicas for name in r.adapters}

    def _info(self, model: str, replicas: list[Replica]) -> ModelInfo:
        states = {r.state for r in replicas}
        status: ModelStatus
        error: str | None
        if "healthy" in states:
            status, error = "loaded", None
        elif states & {"unknown", "loading"}:
            status, error = "loading", None
        else:
            status = "failed"
            error = "; ".join(f"{r.url}: {r.last_error}" for r in replicas)
        modality: Modality = self.modality(model) or "chat"
        return ModelInfo(
            id=model,
            modality=modality,
            status=status,
            engine=ENGINE_NAME,
            context_length=next((r.context_length for r in replicas if r.context_length), None),
            error=error,
            extra={
                "upstreams": [r.snapshot() for r in replicas],
                "wire": {
                    "runtime_lora": capability(replicas),
                    # adapters asked for on this model that none of its upstreams could load
                    "unavailable_adapters": {
                        name: why for name, (base, why) in self.unloadable.items() if base == model
                    },
                },
            },
        )

    def snapshot(self) -> list[dict]:
        """Each upstream's state and load (for /health, /metrics and the sidebar)."""
        return [{"model": r.spec.model, **r.snapshot()} for r in self.replicas]

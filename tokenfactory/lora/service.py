"""LoraService: what the ``/v1/adapters`` routes call, and how adapters become models.

Adapters are workspace-scoped: a request's model id is looked up among its own workspace's
adapters (``resolve``), ``/v1/models`` shows only those (``visible``), and another workspace
gets 404 for them. The engine knows each adapter by its id, never by its user-chosen name.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.records import Target
from ..core.validation import parse_body
from ..errors import (
    InvalidRequestError,
    ModelLoadingError,
    ModelNotFoundError,
)
from ..store import Principal
from ..wire.adapters import AdapterCreate, AdapterImport
from .dataset import parse_jsonl, to_jsonl
from .params import TrainingParams, check_name
from .peft_folder import read_peft_folder
from .repository import ACTIVE, AdapterRecord, AdapterRepository
from .runner import TrainingRunner, job_event

if TYPE_CHECKING:
    from ..core import Core

log = logging.getLogger("tokenfactory.lora")
ID_PREFIX = "lora_"


class LoraService:
    def __init__(self, core: Core, root: Path) -> None:
        self.core = core
        self.repository = AdapterRepository(core.store, root)
        self.runner = TrainingRunner(core, self.repository)

    # -- lookups -------------------------------------------------------------------------
    def get(self, principal: Principal, name: str) -> AdapterRecord:
        return self.repository.get(principal.workspace.id, name)

    def list(self, principal: Principal) -> list[AdapterRecord]:
        return self.repository.list(principal.workspace.id)

    def is_loaded(self, record: AdapterRecord) -> bool:
        return record.id in self.core.engine.adapters()

    def events(self, principal: Principal, name: str, after: int = 0) -> builtins.list[dict]:
        return self.repository.events(self.get(principal, name).id, after)

    # -- create / upload -----------------------------------------------------------------
    def _default_base(self) -> str:
        from ..config import DEFAULT_CHAT_MODEL

        loaded = [
            m.id for m in self.core.engine.models() if m.modality == "chat" and m.status == "loaded"
        ]
        return DEFAULT_CHAT_MODEL if DEFAULT_CHAT_MODEL in loaded or not loaded else loaded[0]

    def _check_base(self, base_model: Any) -> str:
        if base_model is None:
            return self._default_base()
        if not isinstance(base_model, str) or not base_model:
            raise InvalidRequestError("'base_model' must be a model id", param="base_model")
        info = self.core.find_model(base_model)
        if info is None or info.modality != "chat":
            raise InvalidRequestError(
                f"'base_model' {base_model!r} is not a chat model served here; GET /v1/models"
                " lists them",
                param="base_model",
                code="invalid_base_model",
            )
        return base_model

    def _check_rank_is_served(self, rank: int) -> None:
        """An engine that reserves a smaller LoRA rank (vLLM on the CPU) could not serve the
        adapter after training: say so before the training is spent."""
        reserved = getattr(self.core.engine, "max_lora_rank", None)
        if reserved is not None and rank > reserved:
            raise InvalidRequestError(
                f"This engine serves LoRA adapters up to rank {reserved}; train with"
                f" rank <= {reserved}, or restart the engine with max_lora_rank={rank}",
                param="rank",
                code="rank_not_served",
            )

    def _check_new_name(self, name: Any) -> str:
        name = check_name(name)
        if self.core.find_model(name) is not None:
            raise InvalidRequestError(
                f"'{name}' is already a model id here; pick another adapter name",
                param="name",
                code="adapter_exists",
            )
        return name

    def create(self, principal: Principal, body: AdapterCreate | dict[str, Any]) -> AdapterRecord:
        """A new adapter; ``body`` is checked against the API's ranges (its wire model)."""
        body = parse_body(AdapterCreate, body)
        name = self._check_new_name(body.name)
        self._check_rank_is_served(body.rank)
        params = TrainingParams(
            epochs=body.epochs,
            learning_rate=float(body.learning_rate),
            rank=body.rank,
            alpha=float(body.alpha if body.alpha is not None else 2 * body.rank),
            dropout=float(body.dropout),
            batch_size=body.batch_size,
            max_tokens=body.max_tokens,
            seed=body.seed,
        )
        base = self._check_base(body.base_model)
        return self.repository.create(principal.workspace.id, name, body.display_name, base, params)

    def upload(
        self, principal: Principal, name: str, data: bytes, purpose: str = "training"
    ) -> AdapterRecord:
        examples = self.parse_upload(principal, name, data, purpose)
        return self.store_upload(principal, name, examples, purpose)

    def parse_upload(
        self, principal: Principal, name: str, data: bytes, purpose: str = "training"
    ) -> builtins.list[builtins.list[dict[str, str]]]:
        """Check the adapter takes this data now and parse it (read-only: a route runs it on a
        worker thread for a large file, then ``store_upload`` on the event loop)."""
        self._takes_data(principal, name, purpose)
        minimum = 10 if purpose == "training" else 1
        return parse_jsonl(data, minimum=minimum, purpose=purpose)

    def store_upload(
        self,
        principal: Principal,
        name: str,
        examples: builtins.list[builtins.list[dict[str, str]]],
        purpose: str,
    ) -> AdapterRecord:
        record = self._takes_data(principal, name, purpose)  # again: it may have started since
        target = (
            self.repository.training_file(record.id)
            if purpose == "training"
            else self.repository.validation_file(record.id)
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(to_jsonl(examples), encoding="utf-8")
        column = "training_examples" if purpose == "training" else "validation_examples"
        self.repository.update(record.id, **{column: len(examples)})
        self.repository.add_event(
            record.id, "info", message=f"{purpose} data uploaded: {len(examples)} examples"
        )
        return self.repository.reload(record.id)

    def _takes_data(self, principal: Principal, name: str, purpose: str) -> AdapterRecord:
        record = self.get(principal, name)
        if record.source != "trained":
            raise InvalidRequestError(f"Adapter '{name}' was imported; it takes no training data")
        if record.status in ACTIVE:
            raise InvalidRequestError(
                f"Adapter '{name}' is {record.status}; cancel it before changing its data",
                code="adapter_busy",
            )
        if purpose not in ("training", "validation"):
            raise InvalidRequestError(
                "'purpose' must be 'training' or 'validation'", param="purpose"
            )
        return record

    # -- training ------------------------------------------------------------------------
    def start(self, principal: Principal, name: str, resume: bool = False) -> AdapterRecord:
        record = self.get(principal, name)
        if record.source != "trained":
            raise InvalidRequestError(f"Adapter '{name}' was imported; there is nothing to train")
        if record.status in ACTIVE:
            raise InvalidRequestError(
                f"Adapter '{name}' is already {record.status}", code="adapter_busy"
            )
        if record.status == "succeeded":
            raise InvalidRequestError(
                f"Adapter '{name}' is already trained; create a new adapter to train again",
                code="adapter_trained",
            )
        self.repository.update(record.id, status="validating", error=None, finished_at=None)
        self.repository.add_event(record.id, "status", message="validating")
        try:
            self._validate_for_training(record)
        except Exception as exc:
            message = getattr(exc, "message", str(exc))
            self.repository.update(record.id, status=record.status, error=message)
            raise
        if not resume:
            shutil.rmtree(self.repository.checkpoints(record.id), ignore_errors=True)
            self.repository.update(
                record.id, step=0, epoch=0, train_loss=None, validation_loss=None
            )
        self.repository.update(record.id, status="queued")
        self.repository.add_event(record.id, "status", message="queued")
        self.runner.submit(record.id, resume)
        return self.repository.reload(record.id)

    def _validate_for_training(self, record: AdapterRecord) -> None:
        path = self.repository.training_file(record.id)
        if not path.exists():
            raise InvalidRequestError(
                f"Upload training data to '{record.name}' before training", code="no_training_data"
            )
        parse_jsonl(path.read_bytes())
        info = self.core.find_model(record.base_model)
        if info is None or info.status != "loaded":
            raise ModelLoadingError(
                f"The base model '{record.base_model}' is not loaded; load it before training"
            )

    async def cancel(self, principal: Principal, name: str, wait_s: float = 10.0) -> AdapterRecord:
        record = self.get(principal, name)
        busy = self.runner.is_busy_with(record.id)
        if record.status in ("validating", "queued") and not busy:
            self.repository.update(record.id, status="cancelled", finished_at=time.time())
            self.repository.add_event(record.id, "status", message="cancelled: before it started")
            self.core.job_ended(job_event(self.repository, record.id, "cancelled"))
            return self.repository.reload(record.id)
        if record.status != "running" and not busy:
            raise InvalidRequestError(
                f"Adapter '{name}' is {record.status}; only a queued or running job can be"
                " cancelled",
                code="not_cancellable",
            )
        self.runner.cancel_requested.add(record.id)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and self.runner.is_busy_with(record.id):
            await asyncio.sleep(0.05)
        return self.repository.reload(record.id)

    # -- delete / import -----------------------------------------------------------------
    async def delete(self, principal: Principal, name: str) -> AdapterRecord:
        record = self.get(principal, name)
        if self.runner.is_busy_with(record.id):
            self.runner.cancel_requested.add(record.id)
            while self.runner.is_busy_with(record.id):
                await asyncio.sleep(0.05)
        if self.is_loaded(record):
            await self.core.engine.unload_adapter(record.id)
        await asyncio.to_thread(self.repository.delete, record.id)
        return record

    async def import_adapter(
        self, principal: Principal, body: AdapterImport | dict[str, Any]
    ) -> AdapterRecord:
        """Register an existing PEFT adapter folder (trained elsewhere) and serve it."""
        body = parse_body(AdapterImport, body)
        name = self._check_new_name(body.name)
        source = body.path
        folder = read_peft_folder(source, [self.core.store.path.parent, self.repository.root])
        base = body.base_model or self._base_from_config(folder.config)
        base = self._check_base(base)
        params = TrainingParams(
            epochs=1, rank=folder.rank, alpha=folder.alpha, dropout=folder.dropout
        )
        record = self.repository.create(
            principal.workspace.id,
            name,
            body.display_name,
            base,
            params,
            source="imported",
            status="validating",
        )
        target = self.repository.adapter_dir(record.id)
        try:
            target.mkdir(parents=True, exist_ok=True)
            for file in folder.files:
                shutil.copy2(file, target / file.name)
            await self.core.engine.load_adapter(record.id, str(target), base)
        except Exception:
            await asyncio.to_thread(self.repository.delete, record.id)
            raise
        self.repository.update(record.id, status="succeeded", finished_at=time.time())
        self.repository.add_event(record.id, "status", message=f"succeeded: imported from {source}")
        return self.repository.reload(record.id)

    def _base_from_config(self, config: dict) -> str | None:
        named = config.get("base_model_name_or_path")
        if not named:
            return None
        for info in self.core.engine.models():
            if info.modality == "chat" and (info.id == named or (info.path and info.path == named)):
                return info.id
        return None

    # -- serving -------------------------------------------------------------------------
    def resolve(self, model: str, modality: str, principal: Principal | None) -> Target | None:
        """``core.model_resolvers`` entry: an adapter name of the caller's workspace."""
        if model.startswith(ID_PREFIX) and model in self.core.engine.adapters():
            owner = self.repository.by_id(model)
            if principal is None or owner is None or owner.workspace_id != principal.workspace.id:
                raise ModelNotFoundError(f"The model '{model}' does not exist", param="model")
            return Target(self.core.engine, owner.base_model, owner.id)
        if principal is None or "/" in model:
            return None
        record = self.repository.find(principal.workspace.id, model)
        if record is None:
            return None
        if modality != "chat":
            raise InvalidRequestError(
                f"'{model}' is a chat adapter and cannot serve this endpoint",
                param="model",
                code="model_not_supported",
            )
        if record.status != "succeeded":
            raise InvalidRequestError(
                f"Adapter '{model}' is not ready to serve (status: {record.status})",
                param="model",
                code="adapter_not_ready",
            )
        if not self.is_loaded(record):
            base = self.core.find_model(record.base_model)
            if base is None or base.status != "loaded":
                raise ModelLoadingError(
                    f"Adapter '{model}' is not loaded: its base model '{record.base_model}' is"
                    f" not loaded; POST /v1/models/load with model '{model}' loads both"
                )
            raise ModelLoadingError(
                f"Adapter '{model}' is not loaded; POST /v1/models/load with model '{model}'"
                " loads it"
            )
        return Target(self.core.engine, record.base_model, record.id)

    def visible(self, adapters: dict[str, str], principal: Principal) -> dict[str, str]:
        """``core.adapter_filter``: the caller's adapters by name."""
        mine = self.repository.list(principal.workspace.id, ("succeeded",))
        return {r.name: adapters[r.id] for r in mine if r.id in adapters}

    async def load(self, principal: Principal, name: str) -> AdapterRecord:
        """``POST /v1/models/load`` of an adapter: its base model first (which re-attaches
        it with the base's other adapters), then the adapter itself if it is still missing."""
        record = self.get(principal, name)
        if record.status != "succeeded":
            raise InvalidRequestError(
                f"Adapter '{name}' is not ready to serve (status: {record.status})",
                param="model",
                code="adapter_not_ready",
            )
        info = self.core.find_model(record.base_model)
        if info is None or info.status != "loaded":
            await self.core.load_model(record.base_model)
        if not self.is_loaded(record):
            path = self.repository.adapter_dir(record.id)
            await self.core.engine.load_adapter(record.id, str(path), record.base_model)
        return record

    async def reattach(self, base_model: str | None = None) -> None:
        """Serve every trained adapter whose base model is loaded (only ``base_model``'s when
        given) and that the engine does not hold yet."""
        loaded = self.core.engine.adapters()
        for record in self.repository.list(statuses=("succeeded",)):
            if record.id in loaded or base_model not in (None, record.base_model):
                continue
            path = self.repository.adapter_dir(record.id)
            info = self.core.find_model(record.base_model)
            if info is None or info.status != "loaded" or not path.exists():
                continue
            try:
                await self.core.engine.load_adapter(record.id, str(path), record.base_model)
            except Exception as exc:
                log.warning("could not reload adapter %s: %s", record.name, exc)

    # -- lifecycle -----------------------------------------------------------------------
    async def on_startup(self) -> None:
        """Serve the adapters trained before, and resume the jobs a crash interrupted."""
        self.runner.bind(asyncio.get_running_loop())
        await self.reattach()
        for record in self.repository.list(statuses=ACTIVE):
            self.repository.update(record.id, status="queued")
            self.repository.add_event(record.id, "info", message="picked up again after a restart")
            self.runner.submit(record.id, resume=True)

    async def on_shutdown(self) -> None:
        await asyncio.to_thread(self.runner.stop)

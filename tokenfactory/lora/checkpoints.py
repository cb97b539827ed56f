"""Every epoch of a LoRA job, servable by name: ``ADAPTER@epoch-N``.

The trainer keeps the checkpoint of every epoch (``<adapter>/checkpoints/epoch-N``). Once the
job succeeded, each checkpoint is loaded into the engine beside the final adapter (engine id
``<adapter id>@epoch-N``) and put back whenever its base model is (re)loaded, the same as the
adapter. In ``/v1/models`` each appears as a chat model whose ``parent`` is the adapter, right
after it. ``promote`` makes a checkpoint the adapter's served weights.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ..core import Core, Target
from ..errors import InvalidRequestError, ModelLoadingError, ModelNotFoundError
from ..store import Principal

if TYPE_CHECKING:
    from .repository import AdapterRecord
    from .service import LoraService

log = logging.getLogger("tokenfactory.lora")

NAME = re.compile(r"^(?P<adapter>.+)@epoch-(?P<epoch>[0-9]+)$")
#: files of a checkpoint that are the adapter (the optimizer state and step are not served)
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", "adapter_model.bin")


def parse(model: str) -> tuple[str, int] | None:
    match = NAME.match(model)
    return (match["adapter"], int(match["epoch"])) if match else None


def served_id(adapter_id: str, epoch: int) -> str:
    return f"{adapter_id}@epoch-{epoch}"


class CheckpointServing:
    def __init__(self, core: Core, service: LoraService) -> None:
        self.core = core
        self.service = service

    # -- what exists -------------------------------------------------------------------------
    def folder(self, record: AdapterRecord, epoch: int) -> Path:
        return self.service.repository.checkpoints(record.id) / f"epoch-{epoch}"

    def epochs(self, record: AdapterRecord) -> list[int]:
        root = self.service.repository.checkpoints(record.id)
        found = []
        for path in root.glob("epoch-*") if root.is_dir() else []:
            name = path.name.removeprefix("epoch-")
            if name.isdigit() and (path / "adapter_config.json").is_file():
                found.append(int(name))
        return sorted(found)

    def _record(self, principal: Principal, adapter: str, epoch: int) -> AdapterRecord:
        record = self.service.repository.find(principal.workspace.id, adapter)
        if record is None:
            raise ModelNotFoundError(
                f"The model '{adapter}@epoch-{epoch}' does not exist: no adapter '{adapter}'",
                param="model",
            )
        if epoch not in self.epochs(record):
            have = ", ".join(f"{adapter}@epoch-{e}" for e in self.epochs(record)) or "none"
            raise ModelNotFoundError(
                f"Adapter '{adapter}' has no checkpoint of epoch {epoch} (checkpoints: {have})",
                param="model",
            )
        return record

    # -- serving -----------------------------------------------------------------------------
    def resolve(self, model: str, modality: str, principal: Principal | None) -> Target | None:
        """``core.model_resolvers`` entry for ``ADAPTER@epoch-N``."""
        parsed = parse(model)
        if parsed is None or principal is None:
            return None
        record = self._record(principal, *parsed)
        if modality != "chat":
            raise InvalidRequestError(
                f"'{model}' is a chat adapter checkpoint and cannot serve this endpoint",
                param="model",
                code="model_not_supported",
            )
        if served_id(record.id, parsed[1]) not in self.core.engine.adapters():
            raise ModelLoadingError(
                f"Checkpoint '{model}' is not loaded yet: it is served once its job succeeded"
                f" and its base model '{record.base_model}' is loaded"
            )
        return Target(self.core.engine, record.base_model, served_id(record.id, parsed[1]))

    def visible(self, adapters: dict[str, str], principal: Principal) -> dict[str, str]:
        """``core.adapter_filter``: the caller's adapters (by name, to their base model) and
        their loaded checkpoints (``name@epoch-N``, to the adapter's name)."""
        out = self.service.visible(adapters, principal)
        for record in self.service.repository.list(principal.workspace.id, ("succeeded",)):
            for epoch in self.epochs(record):
                if served_id(record.id, epoch) in adapters:
                    out[f"{record.name}@epoch-{epoch}"] = record.name
        return out

    async def attach(self, base_model: str | None = None) -> None:
        """Load every checkpoint of every trained adapter whose base model is loaded."""
        for record in self.service.repository.list(statuses=("succeeded",)):
            if base_model in (None, record.base_model):
                await self.attach_record(record)

    async def attach_record(self, record: AdapterRecord) -> None:
        """Load one adapter's checkpoints, if its base model is loaded (the runner awaits this
        before it records the job as succeeded, so a finished job's checkpoints are servable)."""
        info = self.core.find_model(record.base_model)
        if info is None or info.status != "loaded":
            return
        loaded = self.core.engine.adapters()
        for epoch in self.epochs(record):
            name = served_id(record.id, epoch)
            if name in loaded:
                continue
            try:
                await self.core.engine.load_adapter(
                    name, str(self.folder(record, epoch)), record.base_model
                )
            except Exception as exc:
                log.warning("could not serve checkpoint %s: %s", name, exc)

    # -- promote -----------------------------------------------------------------------------
    async def promote(self, principal: Principal, name: str, checkpoint: str) -> AdapterRecord:
        """Serve ``checkpoint`` (``epoch-N``, ``N`` or ``name@epoch-N``) under the adapter's
        own name: its weights replace the adapter's, on disk and in the engine."""
        record = self.service.get(principal, name)
        epoch = _epoch_of(name, checkpoint)
        self._record(principal, record.name, epoch)
        if record.status != "succeeded":
            raise InvalidRequestError(
                f"Adapter '{name}' is not trained (status: {record.status})",
                param="name",
                code="adapter_not_ready",
            )
        source = self.folder(record, epoch)
        target = self.service.repository.adapter_dir(record.id)
        staged = Path(tempfile.mkdtemp(prefix=".promote-", dir=target.parent))
        for file in ADAPTER_FILES:
            if (source / file).is_file():
                shutil.copy2(source / file, staged / file)
        old = target.with_name(".adapter-replaced")
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            target.rename(old)
        staged.rename(target)
        shutil.rmtree(old, ignore_errors=True)
        engine = self.core.engine
        if record.id in engine.adapters():
            await engine.unload_adapter(record.id)
        info = self.core.find_model(record.base_model)
        if info is not None and info.status == "loaded":
            await engine.load_adapter(record.id, str(target), record.base_model)
        self.service.repository.add_event(
            record.id, "info", message=f"promoted the checkpoint of epoch {epoch}"
        )
        return self.service.repository.reload(record.id)


def _epoch_of(name: str, checkpoint: str | int) -> int:
    text = str(checkpoint)
    parsed = parse(text)
    if parsed is not None:
        if parsed[0] != name:
            raise InvalidRequestError(
                f"Checkpoint '{text}' belongs to adapter '{parsed[0]}', not '{name}'",
                param="checkpoint",
            )
        return parsed[1]
    text = text.removeprefix("epoch-")
    if not text.isdigit():
        raise InvalidRequestError(
            f"'checkpoint' must be 'epoch-N', N or '{name}@epoch-N'; got {checkpoint!r}",
            param="checkpoint",
        )
    return int(text)

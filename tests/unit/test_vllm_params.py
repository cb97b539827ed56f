"""The vLLM engine's pure parts: request translation and lazy imports (no vLLM, no GPU)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tokenfactory.engine.protocol import SamplingParams, StructuredSpec
from tokenfactory.engine.vllm import compat as vllm_compat
from tokenfactory.engine.vllm import params as vllm_params
from tokenfactory.errors import InvalidRequestError


def test_sampling_kwargs_carry_every_field():
    kwargs = vllm_params.sampling_kwargs(
        SamplingParams(
            max_tokens=17,
            temperature=0.8,
            top_p=0.9,
            presence_penalty=0.5,
            frequency_penalty=-0.25,
            seed=1234,
        )
    )
    assert kwargs == {
        "n": 1,
        "max_tokens": 17,
        "temperature": 0.8,
        "top_p": 0.9,
        "presence_penalty": 0.5,
        "frequency_penalty": -0.25,
        "seed": 1234,
        "detokenize": False,
        "skip_special_tokens": False,
    }


def test_greedy_drops_top_p_and_no_seed_means_no_key():
    kwargs = vllm_params.sampling_kwargs(SamplingParams(temperature=0.0, top_p=0.5))
    assert kwargs["temperature"] == 0.0
    assert kwargs["top_p"] == 1.0
    assert "seed" not in kwargs


@pytest.mark.parametrize(
    ("sampling", "param"),
    [
        (SamplingParams(max_tokens=0), "max_tokens"),
        (SamplingParams(temperature=-0.1), "temperature"),
        (SamplingParams(top_p=0.0), "top_p"),
        (SamplingParams(top_p=1.5), "top_p"),
    ],
)
def test_bad_sampling_is_an_assertion_not_a_second_400(sampling, param):
    """The wire refuses these (tests/conformance pins the 400); an engine only asserts."""
    with pytest.raises(AssertionError, match=param):
        vllm_params.sampling_kwargs(sampling)


def test_json_schema_is_parsed_and_whitespace_free():
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    kwargs = vllm_params.structured_kwargs(StructuredSpec(json_schema=schema))
    assert kwargs == {"json": schema, "disable_any_whitespace": True}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (StructuredSpec(json_object=True), {"json_object": True, "disable_any_whitespace": True}),
        (StructuredSpec(regex=r"\d{3}"), {"regex": r"\d{3}"}),
        (StructuredSpec(ebnf='root ::= "yes" | "no"'), {"grammar": 'root ::= "yes" | "no"'}),
    ],
)
def test_other_constraints_map_to_vllm_fields(spec, expected):
    assert vllm_params.structured_kwargs(spec) == expected


def test_no_constraint_is_none():
    assert vllm_params.structured_kwargs(None) is None


@pytest.mark.parametrize("spec", [StructuredSpec(), StructuredSpec(regex="a", ebnf="root ::= 'a'")])
def test_a_constraint_is_exactly_one_kind_an_assertion_not_a_400(spec):
    """The services build one constraint from a validated request; an engine only asserts."""
    with pytest.raises(AssertionError):
        vllm_params.structured_kwargs(spec)


@pytest.mark.parametrize(
    ("theirs", "ours"),
    [
        ("stop", "stop"),
        ("length", "length"),
        ("abort", "abort"),
        ("repetition", "stop"),
        (None, "stop"),
    ],
)
def test_finish_reasons(theirs, ours):
    assert vllm_params.finish_reason(theirs) == ours


def test_chat_engine_args_enable_lora_sleep_and_priority():
    settings = vllm_params.EngineSettings(max_loras=2, max_lora_rank=32, max_model_len=2048)
    args = vllm_params.chat_engine_args("org/chat", "/models/chat", settings)
    assert args["model"] == args["tokenizer"] == "/models/chat"
    assert args["served_model_name"] == "org/chat"
    assert args["runner"] == "generate"
    assert args["scheduling_policy"] == "priority"
    assert args["enable_sleep_mode"] is True
    assert (args["enable_lora"], args["max_loras"], args["max_lora_rank"]) == (True, 2, 32)
    assert args["max_cpu_loras"] >= args["max_loras"]
    assert args["max_model_len"] == 2048


def test_lora_slots_target_the_linear_layers_never_the_embeddings_or_output_head(tmp_path):
    """vLLM's output-head LoRA wrapper kills its engine core on prompt logprobs batched with
    other requests (vllm_lora.linear_modules); a user's own target list still wins."""
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    weights = {
        "model.embed_tokens.weight": torch.zeros(8, 4),
        "model.layers.0.self_attn.q_proj.weight": torch.zeros(4, 4),
        "model.layers.0.mlp.down_proj.weight": torch.zeros(4, 6),
        "model.layers.1.mlp.down_proj.weight": torch.zeros(4, 6),
        "model.norm.weight": torch.zeros(4),
        "lm_head.weight": torch.zeros(8, 4),
    }
    save_file(weights, str(tmp_path / "model.safetensors"))
    with_lora = vllm_params.chat_engine_args("m", str(tmp_path), vllm_params.EngineSettings())
    assert with_lora["lora_target_modules"] == ["down_proj", "q_proj"]
    without = vllm_params.EngineSettings(enable_lora=False)
    assert "lora_target_modules" not in vllm_params.chat_engine_args("m", str(tmp_path), without)
    mine = vllm_params.chat_engine_args(
        "m", str(tmp_path), vllm_params.EngineSettings(), {"lora_target_modules": ["q_proj"]}
    )
    assert mine["lora_target_modules"] == ["q_proj"]


def test_chat_engine_args_without_lora_and_with_overrides():
    settings = vllm_params.EngineSettings(enable_lora=False)
    args = vllm_params.chat_engine_args(
        "m", "/p", settings, {"tensor_parallel_size": 2, "gpu_memory_utilization": 0.9}
    )
    assert "enable_lora" not in args and "max_model_len" not in args
    assert args["tensor_parallel_size"] == 2
    assert args["gpu_memory_utilization"] == 0.9


def test_embedding_engine_args_pool_with_a_small_memory_slice():
    settings = vllm_params.EngineSettings(embedding_gpu_memory_utilization=0.07)
    args = vllm_params.embedding_engine_args("org/emb", "/models/emb", settings)
    assert args["runner"] == "pooling"
    assert args["gpu_memory_utilization"] == 0.07
    assert "enable_lora" not in args and "enable_sleep_mode" not in args


def _run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )


def test_importing_the_vllm_engine_imports_neither_vllm_nor_torch():
    result = _run_python(
        "import sys, tokenfactory.engine.vllm.engine as m;"
        "assert m.VLLMEngine.name == 'vllm';"
        "bad = [x for x in ('vllm', 'torch', 'transformers') if x in sys.modules];"
        "assert not bad, bad"
    )
    assert result.returncode == 0, result.stderr


def test_engine_construction_is_lazy_and_uses_spawn():
    result = _run_python(
        "import os, sys\n"
        "os.environ.pop('VLLM_WORKER_MULTIPROC_METHOD', None)\n"
        "from tokenfactory.engine.vllm.engine import VLLMEngine, prepare_environment\n"
        "engine = VLLMEngine(chat_models=['a/b'], embedding_models=[])\n"
        "assert [m.id for m in engine.models()] == ['a/b']\n"
        "assert engine.models()[0].status == 'available'\n"
        "assert not engine.health().ready\n"
        "prepare_environment()\n"
        "assert os.environ['VLLM_WORKER_MULTIPROC_METHOD'] == 'spawn'\n"
        "assert 'vllm' not in sys.modules\n"
    )
    assert result.returncode == 0, result.stderr


def test_user_choice_of_multiproc_method_wins(monkeypatch):
    from tokenfactory.engine.vllm.engine import prepare_environment

    monkeypatch.setenv("VLLM_WORKER_MULTIPROC_METHOD", "fork")
    prepare_environment()
    import os

    assert os.environ["VLLM_WORKER_MULTIPROC_METHOD"] == "fork"


async def test_requests_on_an_unloaded_model_are_clear_errors():
    from tokenfactory.engine.protocol import GenerationRequest
    from tokenfactory.engine.vllm.engine import VLLMEngine
    from tokenfactory.errors import ModelLoadingError, ModelNotFoundError

    engine = VLLMEngine(chat_models=["a/b"], embedding_models=["e/f"])
    with pytest.raises(ModelNotFoundError):
        await anext(engine.generate(GenerationRequest("r1", "nope", [1, 2])))
    with pytest.raises(ModelLoadingError):
        await anext(engine.generate(GenerationRequest("r2", "a/b", [1, 2])))
    with pytest.raises(AssertionError):  # the services refuse it first (Core.resolve_model)
        await engine.embed("a/b", ["text"])
    await engine.shutdown()
    assert engine.health().detail == "shut down"


@pytest.mark.parametrize("backend", [None, "cpu"])
def test_auto_selection_picks_transformers_without_cuda(monkeypatch, backend):
    """Without CUDA vLLM is never the automatic pick (on a CPU the TransformersEngine wins,
    see select.py); without any vLLM backend asking for it by name is a clear 503."""
    from tokenfactory.engine import select
    from tokenfactory.engine.vllm import platform as vllm_platform
    from tokenfactory.errors import UnavailableError

    monkeypatch.setattr(vllm_platform, "backend", lambda: backend)
    monkeypatch.delenv(vllm_params.ENV_ENFORCE_EAGER, raising=False)
    assert select.engine_kind("auto") == "transformers"
    if backend is None:
        with pytest.raises(UnavailableError, match="vllm"):
            select.create_engine("vllm", chat_models=[], embedding_models=[])
    else:
        engine = select.create_engine("vllm", chat_models=["a/b"], embedding_models=[])
        assert engine.capabilities.backend == "cpu" and not engine.capabilities.sleep_mode
        assert engine._settings.enable_sleep_mode is False
        assert engine._settings.enforce_eager is True


@pytest.mark.parametrize(
    ("backend", "avx512", "workload", "chat", "expected"),
    [
        ("cpu", True, "notebook", True, "transformers"),  # tf.serve(): the fast start
        ("cpu", True, "server", True, "vllm"),  # tokenfactory serve: many streams
        ("cpu", False, "server", True, "transformers"),  # vLLM's CPU kernels want AVX-512
        ("cpu", True, "server", False, "transformers"),  # an embedding-only server
        (None, True, "server", True, "transformers"),
        ("cuda", False, "notebook", True, "vllm"),
    ],
)
def test_auto_picks_per_workload(monkeypatch, backend, avx512, workload, chat, expected):
    from tokenfactory.engine import cpu, select
    from tokenfactory.engine.vllm import platform as vllm_platform

    monkeypatch.setattr(vllm_platform, "backend", lambda: backend)
    flags = frozenset({"avx2", "avx512f"} if avx512 else {"avx2"})
    monkeypatch.setattr(cpu, "cpu_flags", lambda: flags)
    assert select.engine_kind("auto", workload, chat) == expected
    assert select.engine_kind("transformers", workload, chat) == "transformers"
    with pytest.raises(InvalidRequestError, match="workload"):
        select.engine_kind("auto", "batch")  # type: ignore[arg-type]


def test_enable_lora_reaches_a_vllm_engine_only(monkeypatch):
    from tokenfactory.engine import select
    from tokenfactory.engine.vllm import platform as vllm_platform

    monkeypatch.setattr(vllm_platform, "backend", lambda: "cpu")
    vllm = select.create_engine("vllm", chat_models=["a/b"], embedding_models=[], enable_lora=True)
    assert vllm._settings.enable_lora
    lazy = select.create_engine("vllm", chat_models=["a/b"], embedding_models=[])
    assert not lazy._settings.enable_lora and lazy.max_lora_rank == 16


def test_selection_builds_a_vllm_engine_when_vllm_and_cuda_are_there(monkeypatch):
    from tokenfactory.engine import select
    from tokenfactory.engine.vllm import engine as vllm_engine
    from tokenfactory.engine.vllm import platform as vllm_platform

    monkeypatch.setattr(vllm_platform, "backend", lambda: "cuda")
    monkeypatch.delenv(vllm_params.ENV_ENFORCE_EAGER, raising=False)
    assert select.engine_kind("auto") == "vllm"
    engine = select.create_engine(
        "auto", chat_models=["a/b"], embedding_models=["e/f"], gpu_memory_utilization=0.4
    )
    assert isinstance(engine, vllm_engine.VLLMEngine)
    assert [(m.id, m.modality) for m in engine.models()] == [("a/b", "chat"), ("e/f", "embedding")]
    assert engine._settings.gpu_memory_utilization == 0.4
    assert engine._settings.enable_sleep_mode and engine._settings.enforce_eager is False
    assert engine._settings.kv_cache_memory_bytes is None


def test_cpu_kv_cache_is_sized_from_free_ram_unless_the_env_says(monkeypatch):
    from tokenfactory.engine.vllm import platform as vllm_platform

    gib = vllm_platform.GiB
    monkeypatch.delenv("VLLM_CPU_KVCACHE_SPACE", raising=False)
    assert vllm_platform.cpu_kv_cache_bytes(free_bytes=1 * gib) == gib // 2
    assert vllm_platform.cpu_kv_cache_bytes(free_bytes=20 * gib) == 3 * gib
    assert vllm_platform.cpu_kv_cache_bytes(free_bytes=200 * gib) == 4 * gib
    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "1")
    assert vllm_platform.cpu_kv_cache_bytes(free_bytes=20 * gib) is None


def test_settings_from_env_override_the_defaults():
    settings = vllm_params.settings_from_env(
        {
            vllm_params.ENV_GPU_MEMORY: "0.25",
            vllm_params.ENV_EMBEDDING_GPU_MEMORY: "0.05",
            vllm_params.ENV_MAX_MODEL_LEN: "4096",
            vllm_params.ENV_ENFORCE_EAGER: "true",
        }
    )
    assert settings.gpu_memory_utilization == 0.25
    assert settings.embedding_gpu_memory_utilization == 0.05
    assert settings.max_model_len == 4096
    assert settings.enforce_eager is True
    assert vllm_params.settings_from_env({}) == vllm_params.EngineSettings()


def test_bad_env_settings_name_the_variable():
    with pytest.raises(InvalidRequestError, match=vllm_params.ENV_GPU_MEMORY):
        vllm_params.settings_from_env({vllm_params.ENV_GPU_MEMORY: "half"})
    with pytest.raises(InvalidRequestError, match=vllm_params.ENV_EXTRA_ARGS):
        vllm_params.extra_args_from_env({vllm_params.ENV_EXTRA_ARGS: "[1]"})


def test_extra_args_from_env_reach_the_engine(monkeypatch):
    from tokenfactory.engine.vllm.engine import VLLMEngine

    monkeypatch.setenv(vllm_params.ENV_EXTRA_ARGS, '{"tensor_parallel_size": 2}')
    monkeypatch.setenv(vllm_params.ENV_GPU_MEMORY, "0.3")
    engine = VLLMEngine(chat_models=["a/b"], embedding_models=[], max_model_len=1024)
    args = vllm_params.chat_engine_args("a/b", "/p", engine._settings, engine._extra_args)
    assert args["tensor_parallel_size"] == 2
    assert args["gpu_memory_utilization"] == 0.3
    assert args["max_model_len"] == 1024


def test_translation_builds_real_vllm_objects(tmp_path):
    """Where vLLM is importable (the GPU machine, no GPU needed) the dicts are accepted by
    vLLM's own classes: the field names match the installed version."""
    pytest.importorskip("vllm", reason="vllm is not installed")
    from vllm import PoolingParams
    from vllm import SamplingParams as VllmSamplingParams
    from vllm.inputs import TokensPrompt
    from vllm.lora.request import LoRARequest
    from vllm.sampling_params import RequestOutputKind, StructuredOutputsParams

    specs = [
        StructuredSpec(json_schema={"type": "object"}),
        StructuredSpec(json_object=True),
        StructuredSpec(regex="a+"),
        StructuredSpec(ebnf='root ::= "a"'),
        None,
    ]
    for spec in specs:
        kwargs = vllm_params.sampling_kwargs(SamplingParams(temperature=0.5, seed=3))
        structured = vllm_params.structured_kwargs(spec)
        if structured is not None:
            kwargs["structured_outputs"] = StructuredOutputsParams(**structured)
        params = VllmSamplingParams(output_kind=RequestOutputKind.DELTA, **kwargs)
        assert params.seed == 3 and params.detokenize is False
    settings = vllm_params.EngineSettings(kv_cache_memory_bytes=2**30)
    (tmp_path / "m").mkdir()
    (tmp_path / "e").mkdir()
    chat_args = vllm_params.chat_engine_args("o/m", str(tmp_path / "m"), settings)
    chat = vllm_compat.engine_args(chat_args)
    assert chat.enable_lora and chat.scheduling_policy == "priority" and chat.enable_sleep_mode
    assert chat.kv_cache_memory_bytes == 2**30
    embed = vllm_compat.engine_args(
        vllm_params.embedding_engine_args("o/e", str(tmp_path / "e"), settings)
    )
    assert embed.runner == "pooling"
    lora = vllm_compat.lora_request("a", 1, "/a")
    assert isinstance(lora, LoRARequest)
    assert lora.lora_int_id == 1
    assert PoolingParams(task="embed").task == "embed"
    assert TokensPrompt(prompt_token_ids=[1, 2])["prompt_token_ids"] == [1, 2]


def test_embedding_truncation_follows_sentence_transformers(tmp_path):
    from tokenfactory.engine.vllm.runtime import sentence_transformers_max_len

    (tmp_path / "sentence_bert_config.json").write_text('{"max_seq_length": 128}')
    assert sentence_transformers_max_len(str(tmp_path)) == 128
    assert sentence_transformers_max_len(str(tmp_path / "missing")) is None


def test_vllm_logprobs_become_token_logprobs():
    pytest.importorskip("vllm", reason="vllm is not installed")
    from vllm import SamplingParams as VllmSamplingParams
    from vllm.logprobs import Logprob

    positions = [
        {5: Logprob(-0.2, 1, "a"), 7: Logprob(-1.9, 2, "b")},
        {9: Logprob(-3.0, 4, "c"), 2: Logprob(-0.1, 1, "d"), 4: Logprob(-2.5, 2, "e")},
    ]
    out = vllm_params.token_logprobs([5, 9], positions, alternatives=2)
    assert [(e.token_id, e.logprob) for e in out] == [(5, -0.2), (9, -3.0)]
    assert out[0].top == ((5, -0.2), (7, -1.9))
    assert out[1].top == ((2, -0.1), (4, -2.5))  # the sampled token (rank 4) is not in the top 2
    assert vllm_params.token_logprobs([5], None, 2) is None
    assert vllm_params.token_logprobs([5], positions, None) is None
    assert VllmSamplingParams(logprobs=2).logprobs == 2  # the native field it is asked through


def test_vllm_prompt_logprobs_become_the_protocols_list():
    pytest.importorskip("vllm", reason="vllm is not installed")
    from vllm import SamplingParams as VllmSamplingParams
    from vllm.logprobs import FlatLogprobs, Logprob

    positions = [
        None,
        {8: Logprob(-2.0, 3, "a"), 1: Logprob(-0.5, 1, "b")},
        {3: Logprob(-0.1, 1, "c")},
    ]
    out = vllm_params.prompt_logprobs([4, 8, 3], positions, alternatives=1)
    assert out is not None and out[0] is None
    assert [(e.token_id, e.logprob, e.top) for e in out[1:]] == [
        (8, -2.0, ((1, -0.5),)),
        (3, -0.1, ((3, -0.1),)),
    ]
    flat = FlatLogprobs()
    for position in positions:
        flat.append(position)
    assert vllm_params.prompt_logprobs([4, 8, 3], flat, alternatives=1) == out
    assert vllm_params.prompt_logprobs([4, 8, 3], None, 1) is None  # not in this output
    assert vllm_params.prompt_logprobs([4, 8, 3], positions, None) is None
    assert VllmSamplingParams(prompt_logprobs=1).prompt_logprobs == 1


def test_lora_slots_set_by_the_user_also_size_the_cpu_adapter_cache():
    """vLLM wants max_cpu_loras >= max_loras: a user's max_loras counts for both."""
    settings = vllm_params.EngineSettings(reserved_lora_slots=1)
    ours = vllm_params.chat_engine_args("a/b", "/m", settings)
    assert ours["max_loras"] == vllm_params.lora_slots(settings) == settings.max_loras + 1
    theirs = vllm_params.chat_engine_args("a/b", "/m", settings, {"max_loras": 16})
    assert theirs["max_loras"] == vllm_params.lora_slots(settings, {"max_loras": 16}) == 16
    assert theirs["max_cpu_loras"] >= 16


def test_vllm_sampling_extensions_and_logit_bias_are_passed_on():
    kwargs = vllm_params.sampling_kwargs(
        SamplingParams(
            max_tokens=4,
            top_k=5,
            min_p=0.1,
            repetition_penalty=1.2,
            min_tokens=9,
            ignore_eos=True,
            logit_bias=((3, -100.0), (7, 100.0)),
        )
    )
    assert kwargs["top_k"] == 5 and kwargs["min_p"] == 0.1
    assert kwargs["repetition_penalty"] == 1.2 and kwargs["ignore_eos"] is True
    assert kwargs["min_tokens"] == 4  # never above max_tokens (vLLM refuses that)
    assert kwargs["logit_bias"] == {3: -100.0, 7: 100.0}
    plain = vllm_params.sampling_kwargs(SamplingParams())
    assert not {"top_k", "min_p", "repetition_penalty", "min_tokens", "ignore_eos"} & set(plain)


def test_cpu_flags_are_read_from_cpuinfo():
    from tokenfactory.engine import cpu
    from tokenfactory.engine.vllm import platform as vllm_platform

    amd = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse2 avx2 fma\n"
    intel = "processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 amx_tile\n"
    assert cpu.cpu_flags(amd) == {"fpu", "sse2", "avx2", "fma"}
    assert not vllm_platform.cpu_serves_fast(cpu.cpu_flags(amd))
    assert not cpu.cpu_has_fast_bf16(cpu.cpu_flags(amd))
    assert vllm_platform.cpu_serves_fast(cpu.cpu_flags(intel))
    assert cpu.cpu_has_fast_bf16(cpu.cpu_flags(intel))
    assert cpu.cpu_flags("no flags here") == frozenset()


@pytest.mark.parametrize(("flags", "dtype"), [({"avx2"}, "float32"), ({"amx_bf16"}, None)])
def test_vllm_on_a_cpu_runs_float32_where_bf16_is_emulated(monkeypatch, flags, dtype):
    from tokenfactory.engine import cpu
    from tokenfactory.engine.vllm import engine as vllm_engine
    from tokenfactory.engine.vllm import platform as vllm_platform

    monkeypatch.setattr(vllm_platform, "backend", lambda: "cpu")
    monkeypatch.setattr(cpu, "cpu_flags", lambda: frozenset(flags))
    engine = vllm_engine.VLLMEngine(["a/b"], [])
    assert engine._settings.dtype == dtype
    args = vllm_params.chat_engine_args("a/b", "/m", engine._settings)
    assert args.get("dtype") == dtype
    chosen = vllm_engine.VLLMEngine(["a/b"], [], dtype="bfloat16")
    assert (
        vllm_params.chat_engine_args("a/b", "/m", chosen._settings, chosen._extra_args)["dtype"]
        == "bfloat16"
    )

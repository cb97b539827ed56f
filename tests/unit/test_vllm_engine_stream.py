"""VLLMEngine's own logic over a scripted stand-in for ``AsyncLLM`` (no GPU needed).

The stand-in answers with vLLM's real output classes and receives vLLM's real parameter
objects, so this checks what our engine sends and how it reads vLLM's answers: streaming of
delta token ids, finish reasons, LoRA ids, sleep gating, errors, embeddings, shutdown. It
runs where vLLM is importable (the GPU machine); the GPU tests check the real engine.
"""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("vllm", reason="vllm is not installed")

from vllm.sampling_params import RequestOutputKind

from tests.vllm_scripted import ScriptedAsyncLLM
from tokenfactory.engine.protocol import GenerationRequest, SamplingParams, StructuredSpec
from tokenfactory.engine.vllm import platform as vllm_platform
from tokenfactory.engine.vllm.engine import VLLMEngine
from tokenfactory.errors import (
    InvalidRequestError,
    ModelNotFoundError,
    UnavailableError,
    UnsupportedSchemaError,
)

CHAT, EMBED = "org/chat", "org/embed"


class CharTokenizer:
    def __call__(self, texts, truncation=False):
        assert not truncation
        return {"input_ids": [[ord(c) for c in t] for t in texts]}


def make_engine(llm: ScriptedAsyncLLM) -> VLLMEngine:
    """An engine started with LoRA slots (``enable_lora=True``) on the stand-in."""
    engine = VLLMEngine(chat_models=[CHAT], embedding_models=[EMBED], enable_lora=True)
    for model in (CHAT, EMBED):
        served = engine._served[model]
        served.llm, served.status, served.context_length = llm, "loaded", 8
        served.tokenizer = CharTokenizer()
    engine._served[CHAT].lora = True
    return engine


async def collect(engine, request):
    return [out async for out in engine.generate(request)]


async def test_streams_delta_tokens_and_finishes_with_length():
    llm = ScriptedAsyncLLM()
    engine = make_engine(llm)
    request = GenerationRequest(
        "r1", CHAT, [1, 2, 3], SamplingParams(max_tokens=3, temperature=0.5, seed=9), priority=10
    )
    outs = await collect(engine, request)
    assert [o.token_ids for o in outs] == [[100], [101], [102]]
    assert [o.finished for o in outs] == [False, False, True]
    assert outs[-1].finish_reason == "length" and outs[0].finish_reason is None
    assert outs[-1].num_prompt_tokens == 3
    call = llm.calls[0]
    assert call["prompt"]["prompt_token_ids"] == [1, 2, 3]
    assert call["params"].output_kind == RequestOutputKind.DELTA
    assert call["params"].seed == 9 and call["params"].max_tokens == 3
    assert call["priority"] == 10 and call["lora"] is None
    assert engine.health().requests_running == 0


async def test_structured_spec_reaches_vllm_and_schema_errors_are_400s():
    llm = ScriptedAsyncLLM()
    engine = make_engine(llm)
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    spec = StructuredSpec(json_schema=schema)
    await collect(engine, GenerationRequest("r2", CHAT, [1], SamplingParams(max_tokens=1), spec))
    structured = llm.calls[0]["params"].structured_outputs
    assert structured.json == schema and structured.disable_any_whitespace

    llm.fail_with = ValueError("The provided JSON schema contains features not supported")
    with pytest.raises(UnsupportedSchemaError):
        await collect(engine, GenerationRequest("r3", CHAT, [1], structured=spec))
    llm.fail_with = ValueError("prompt is longer than the maximum model length")
    with pytest.raises(InvalidRequestError) as info:
        await collect(engine, GenerationRequest("r4", CHAT, [1]))
    assert not isinstance(info.value, UnsupportedSchemaError)


async def test_vllms_own_validation_error_is_a_400_too():
    """vLLM 0.32's VLLMValidationError is no ValueError; the same 400s as before."""
    exceptions = pytest.importorskip("vllm.exceptions")
    if not hasattr(exceptions, "VLLMValidationError"):
        pytest.skip("this vLLM raises ValueError (covered above)")
    llm = ScriptedAsyncLLM()
    engine = make_engine(llm)
    spec = StructuredSpec(json_schema={"type": "object"})
    llm.fail_with = exceptions.VLLMValidationError("Grammar error: Invalid type: strnig")
    with pytest.raises(UnsupportedSchemaError, match="strnig") as err:
        await collect(engine, GenerationRequest("r3b", CHAT, [1], structured=spec))
    assert err.value.param == "response_format"  # as the TransformersEngine names it
    llm.fail_with = exceptions.VLLMValidationError("The decoder prompt is too long")
    with pytest.raises(InvalidRequestError) as info:
        await collect(engine, GenerationRequest("r4b", CHAT, [1]))
    assert info.value.status_code == 400 and not isinstance(info.value, UnsupportedSchemaError)


async def test_closing_the_stream_early_closes_vllms_stream():
    llm = ScriptedAsyncLLM()
    engine = make_engine(llm)
    stream = engine.generate(GenerationRequest("r5", CHAT, [1], SamplingParams(max_tokens=50)))
    first = await anext(stream)
    assert first.token_ids == [100]
    await stream.aclose()
    assert llm.closed == ["r5"]
    assert engine.health().requests_running == 0


async def test_every_adapter_load_gets_a_new_id_and_reaches_generate(tmp_path):
    llm = ScriptedAsyncLLM()
    engine = make_engine(llm)
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "adapter_config.json").write_text("{}")
        await engine.load_adapter(name, str(tmp_path / name), CHAT)
    assert engine.adapters() == {"a": CHAT, "b": CHAT}
    assert {r.lora_name: r.lora_int_id for r in llm.loras.values()} == {"a#1": 1, "b#2": 2}

    await collect(engine, GenerationRequest("r6", CHAT, [1], SamplingParams(max_tokens=1),
                                            adapter="b"))  # fmt: skip
    assert llm.calls[-1]["lora"].lora_int_id == 2
    with pytest.raises(ModelNotFoundError):
        await collect(engine, GenerationRequest("r7", CHAT, [1], adapter="nope"))

    await engine.unload_adapter("a")
    assert 1 not in llm.loras and engine.adapters() == {"b": CHAT}
    await engine.load_adapter("a", str(tmp_path / "a"), CHAT)  # never id 1 again
    assert set(llm.loras) == {2, 3} and llm.loras[3].lora_name == "a#3"
    with pytest.raises(InvalidRequestError):
        await engine.load_adapter("c", str(tmp_path / "missing"), CHAT)


async def test_requests_wait_while_asleep_and_run_after_wake(monkeypatch):
    monkeypatch.setattr(vllm_platform, "backend", lambda: "cuda")
    llm = ScriptedAsyncLLM()
    engine = make_engine(llm)
    await engine.sleep()
    assert llm.sleeps == [(1, "wait")]
    assert not engine.health().ready and engine.health().detail == "sleeping"
    task = asyncio.create_task(
        collect(engine, GenerationRequest("r8", CHAT, [1], SamplingParams(max_tokens=2)))
    )
    await asyncio.sleep(0.05)
    assert not task.done() and llm.calls == []
    await engine.wake()
    outs = await asyncio.wait_for(task, 5)
    assert outs[-1].finished and llm.wakes == 1 and engine.health().ready


async def test_on_the_cpu_backend_sleep_only_pauses_requests(monkeypatch):
    """vLLM's CPU backend has no sleep mode: sleep() never reaches vLLM, requests still wait
    for wake() (the engine's capabilities say so, in one place)."""
    monkeypatch.setattr(vllm_platform, "backend", lambda: "cpu")
    llm = ScriptedAsyncLLM()
    engine = make_engine(llm)
    assert not engine.capabilities.sleep_mode
    await engine.sleep()
    task = asyncio.create_task(
        collect(engine, GenerationRequest("r9", CHAT, [1], SamplingParams(max_tokens=1)))
    )
    await asyncio.sleep(0.05)
    assert not task.done() and llm.calls == []
    await engine.wake()
    outs = await asyncio.wait_for(task, 5)
    assert outs[-1].finished and llm.sleeps == [] and llm.wakes == 0


async def test_embeddings_are_normalised_in_order_with_token_counts():
    engine = make_engine(ScriptedAsyncLLM())
    result = await engine.embed(EMBED, ["ab", "abcd"])
    assert result.num_tokens == 6
    for vector, n in zip(result.vectors, (2, 4), strict=True):
        norm = (n**2 + (3 * n) ** 2) ** 0.5
        assert vector == pytest.approx([n / norm, 0.0, 3 * n / norm])
    with pytest.raises(AssertionError):  # the services refuse it first (Core.resolve_model)
        await engine.embed(CHAT, ["x"])
    with pytest.raises(InvalidRequestError):
        await engine.embed(EMBED, [])


async def test_an_over_long_embedding_input_is_refused_not_truncated():
    engine = make_engine(ScriptedAsyncLLM())  # its context is 8 tokens
    await engine.embed(EMBED, ["abcdefgh"])
    with pytest.raises(InvalidRequestError, match=r"input\[1\] has 9 tokens") as err:
        await engine.embed(EMBED, ["ab", "abcdefghi"])
    assert (err.value.code, err.value.param) == ("context_length_exceeded", "input")


async def test_shutdown_stops_every_instance_and_refuses_new_work():
    llm = ScriptedAsyncLLM()
    engine = make_engine(llm)
    await engine.shutdown()
    assert llm.shut
    assert all(m.status == "available" for m in engine.models())
    with pytest.raises(UnavailableError):
        await collect(engine, GenerationRequest("r9", CHAT, [1]))

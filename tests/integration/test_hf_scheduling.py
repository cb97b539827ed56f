"""Priorities, preemption, sleep/wake and shutdown, on an engine with one batch slot."""

from __future__ import annotations

import asyncio

import pytest
import pytest_asyncio

from tokenfactory.config import DEFAULT_CHAT_MODEL
from tokenfactory.engine.hf import TransformersEngine
from tokenfactory.engine.protocol import PRIORITY_BATCH_24H, PRIORITY_INTERACTIVE

from .hf_helpers import chat_prompt, collect, request

pytestmark = pytest.mark.integration

STORY = "Write a long story about a dragon who learns to cook."


@pytest_asyncio.fixture(scope="module")
async def one_slot():
    engine = TransformersEngine([DEFAULT_CHAT_MODEL], [], dtype="float32", max_batch_size=1)
    await engine.start()
    yield engine
    await engine.shutdown()


async def test_interactive_request_preempts_a_batch_request_which_resumes_intact(one_slot):
    tok = one_slot.tokenizer(DEFAULT_CHAT_MODEL)
    long_prompt = chat_prompt(tok, STORY)
    solo_long, _ = await collect(one_slot, request(long_prompt, max_tokens=24))
    solo_short, _ = await collect(one_slot, request(chat_prompt(tok, "Say hi."), max_tokens=6))

    started = asyncio.Event()
    finished: list[str] = []

    async def batch_job() -> list[int]:
        tokens: list[int] = []
        req = request(long_prompt, max_tokens=24, priority=PRIORITY_BATCH_24H)
        async for out in one_slot.generate(req):
            tokens.extend(out.token_ids)
            if len(tokens) == 3:
                started.set()
        finished.append("batch")
        return tokens

    async def interactive() -> list[int]:
        req = request(chat_prompt(tok, "Say hi."), max_tokens=6, priority=PRIORITY_INTERACTIVE)
        tokens, _ = await collect(one_slot, req)
        finished.append("interactive")
        return tokens

    job = asyncio.create_task(batch_job())
    await started.wait()
    short = await interactive()
    long = await job
    assert finished == ["interactive", "batch"]
    assert short == solo_short
    assert long == solo_long


def _waits(engine, request_id: str) -> int:
    """Decode passes of the running batch between the request's arrival and its first token."""
    runner = engine._worker.runners[DEFAULT_CHAT_MODEL]
    return dict(runner.first_token_waits)[request_id]


async def _first_token_while_running(engine, new_priority: int, running_priority: int):
    """Start a long request, then a short one once the long one decodes; returns the short
    request's id and how many tokens the long one had when the short one's first arrived."""
    tok = engine.tokenizer(DEFAULT_CHAT_MODEL)
    long_seen: list[int] = []
    started = asyncio.Event()

    async def long_job() -> None:
        req = request(chat_prompt(tok, STORY), max_tokens=40, priority=running_priority)
        async for out in engine.generate(req):
            long_seen.extend(out.token_ids)
            if len(long_seen) >= 3:
                started.set()

    job = asyncio.create_task(long_job())
    await started.wait()
    short = request(chat_prompt(tok, "Say hi."), max_tokens=3, priority=new_priority)
    long_at_first_token = None
    async for out in engine.generate(short):
        if long_at_first_token is None and out.token_ids:
            long_at_first_token = len(long_seen)
    await job
    return short.request_id, long_at_first_token


async def test_a_new_request_gets_its_first_token_before_the_running_batch_decodes_again(
    hf_engine,
):
    """Admission comes first in a step: the running batch's next decode waits for the new
    request's prefill, not the other way round (measured in steps, not seconds)."""
    request_id, long_tokens = await _first_token_while_running(hf_engine, 0, 0)
    assert long_tokens is not None and long_tokens < 40, "the long request was still running"
    assert _waits(hf_engine, request_id) == 0


async def test_an_interactive_request_on_a_full_batch_waits_no_decode_step_either(one_slot):
    request_id, long_tokens = await _first_token_while_running(
        one_slot, PRIORITY_INTERACTIVE, PRIORITY_BATCH_24H
    )
    assert long_tokens is not None and long_tokens < 40
    assert _waits(one_slot, request_id) == 0


async def test_sleeping_engine_holds_requests_until_wake(one_slot):
    tok = one_slot.tokenizer(DEFAULT_CHAT_MODEL)
    prompt = chat_prompt(tok, "Say hi.")
    expected, _ = await collect(one_slot, request(prompt, max_tokens=4))
    await one_slot.sleep()
    assert one_slot.health().detail == "sleeping"
    task = asyncio.create_task(collect(one_slot, request(prompt, max_tokens=4)))
    await asyncio.sleep(0.5)
    assert not task.done()
    await one_slot.wake()
    assert (await asyncio.wait_for(task, 60))[0] == expected


async def test_shutdown_aborts_running_requests(one_slot):
    tok = one_slot.tokenizer(DEFAULT_CHAT_MODEL)
    outputs = []

    async def run() -> None:
        async for out in one_slot.generate(request(chat_prompt(tok, STORY), max_tokens=2000)):
            outputs.append(out)

    task = asyncio.create_task(run())
    while not outputs:
        await asyncio.sleep(0.02)
    await one_slot.shutdown()
    await asyncio.wait_for(task, 30)
    assert outputs[-1].finish_reason == "abort"
    assert not one_slot.health().ready
    assert {m.id: m.status for m in one_slot.models()}[DEFAULT_CHAT_MODEL] == "available"

